"""Questionnaires: schema, expressions, versions, respondent pages and response ingest."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from campaigns.lifecycle import add_status_check
    from forms.api import bp as api_bp
    from forms.cli import form_cli  # also adds `campaign load|dump`
    from forms.publishing import questionnaire_check
    from forms.staff_views import bp as staff_bp
    from forms.views import bp
    from minsheng.navigation import add_campaign_tab, add_page_link

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    add_campaign_tab(app, "forms_staff.editor", _l("Questionnaire"), order=84)
    add_page_link(
        app, "campaigns.index", "forms_staff.import_campaign", _l("Import a campaign file"), 10
    )
    add_page_link(
        app,
        "campaigns.settings",
        "forms_staff.download_campaign_file",
        _l("Download the campaign file"),
        10,
    )
    add_page_link(
        app, "campaigns.settings", "forms_staff.duplicate", _l("Duplicate as a new campaign"), 20
    )
    add_status_check(questionnaire_check)
    app.cli.add_command(form_cli)
    app.register_blueprint(api_bp)
    # The JSON API takes no cookies and no form posts, so CSRF tokens do not apply (forms/api.py).
    app.extensions["csrf"].exempt(api_bp)
