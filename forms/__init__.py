"""Questionnaires: schema, expressions, versions, respondent pages and response ingest."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from forms.cli import form_cli  # also adds `campaign load|dump`
    from forms.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(form_cli)
