"""Response frames, statistics, weighting, data quality and open-text analysis."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the results pages, the summary API and (by importing it) the summary task, and
    choose Arrow's memory allocator (``ARROW_MEMORY_POOL``)."""
    from flask_babel import lazy_gettext as _l

    from analysis import tasks  # noqa: F401
    from analysis.api import bp as api_bp
    from analysis.views import bp
    from minsheng.navigation import add_campaign_tab

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    add_campaign_tab(app, "analysis.campaign_results", _l("Results"), order=10)
    # Arrow reads ARROW_DEFAULT_MEMORY_POOL when it first allocates, so a process that has not
    # imported pyarrow yet need not import it now (issue 10: creating the app stays light).
    if "pyarrow" in sys.modules:
        from analysis.arrow import use_memory_pool

        use_memory_pool(app.config["ARROW_MEMORY_POOL"])
    else:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = app.config["ARROW_MEMORY_POOL"]
