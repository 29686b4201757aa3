"""The registry of feature packages, in pipeline order: the one place the shell names them.

`create_app()` calls each package's `init_app` in this order, `minsheng.models` imports each one's
`models`, and `minsheng.i18n` reads each one's catalog. The shell names packages by string so that
it imports none of them at module level: a package reaches the shell only through its `init_app`.
"""

from __future__ import annotations

FEATURE_PACKAGES = (
    "campaigns",
    "contacts",
    "invitations",
    "forms",
    "analysis",
    "reviews",
    "recommendations",
    "exporters",
    "demo",
)
