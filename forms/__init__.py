"""Questionnaires: schema, expressions, versions, respondent pages and response ingest."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from campaigns.lifecycle import add_status_check
    from forms.api import bp as api_bp
    from forms.cli import form_cli  # also adds `campaign load|dump`
    from forms.publishing import questionnaire_check
    from forms.views import bp

    app.register_blueprint(bp)
    add_status_check(questionnaire_check)
    app.cli.add_command(form_cli)
    app.register_blueprint(api_bp)
    # The JSON API takes no cookies and no form posts, so CSRF tokens do not apply (forms/api.py).
    app.extensions["csrf"].exempt(api_bp)
