"""No template of an earlier stage names a later stage's endpoint: later stages add their links
through `minsheng.navigation` (menu entries, campaign tabs, respondent links) in `init_app`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _layers() -> list[str]:
    """The import-linter `layers` contract of pyproject.toml, bottom (the shell) first: the
    order of design.md, declared once."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [name.strip() for layer in reversed(layers) for name in layer.split("|")]


LAYERS = _layers()
URL_FOR = re.compile(r"""url_for\(\s*['"]([\w.]+)['"]""")


def _package_of_blueprint(app, name: str) -> str:
    return app.blueprints[name].import_name.split(".")[0]


def test_templates_link_only_to_their_own_or_earlier_stages(app):
    found = []
    for package in LAYERS:
        for template in (ROOT / package).rglob("templates/**/*.html"):
            text = template.read_text(encoding="utf-8")
            for endpoint in URL_FOR.findall(text):
                found.append(endpoint)
                if "." not in endpoint:  # `static`, the shell's
                    continue
                target = _package_of_blueprint(app, endpoint.split(".")[0])
                assert LAYERS.index(target) <= LAYERS.index(package), (
                    f"{template.relative_to(ROOT)} links to {endpoint} of {target}, a later "
                    f"stage; add it with minsheng.navigation in {target}'s init_app instead"
                )
    assert "accounts.logout" in found  # the scan reads the templates it should


def test_every_navigation_entry_opens_a_route_that_exists(app):
    from minsheng.navigation import navigation

    nav = navigation(app)
    entries = [*nav.menu, *nav.campaign_tabs, *nav.respondent_links]
    assert {e.endpoint for e in entries} >= {
        "campaigns.index",
        "reviews.index",
        "recommendations.work_list",
        "analysis.campaign_results",
        "exporters.campaign_report_list",
    }
    for entry in entries:
        assert entry.endpoint in app.view_functions, entry.endpoint
