"""Expert advisors (特约建议人): annotations on results, suggestion scoring, golden ideas."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review pages and the `minsheng reviews` commands."""
    from flask_babel import lazy_gettext as _l

    from minsheng.navigation import add_campaign_tab, add_menu_entry
    from reviews import access
    from reviews.cli import reviews_cli
    from reviews.views import bp

    app.register_blueprint(bp)
    access.init_app()
    app.cli.add_command(reviews_cli)
    add_menu_entry(app, "reviews.index", _l("My reviews"), order=30)
    add_campaign_tab(app, "reviews.overview", _l("Expert review"), order=60)
