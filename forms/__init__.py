"""Questionnaires: schema, expressions, versions, respondent pages and response ingest."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from forms.api import bp as api_bp
    from forms.cli import form_cli  # also adds `campaign load|dump`
    from forms.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(form_cli)
    app.register_blueprint(api_bp)
    # The JSON API takes no cookies and no form posts, so CSRF tokens do not apply (forms/api.py).
    app.extensions["csrf"].exempt(api_bp)
