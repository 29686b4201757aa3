"""The page weight budget stated in README ("Respondent pages"): a questionnaire page with every
file it loads stays under 50 KB uncompressed, in at most 5 requests, all from our own origin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "community.yaml"
pytestmark = pytest.mark.campaign_file(FIXTURE)
BUDGET_BYTES = 50_000
BUDGET_REQUESTS = 5


def test_a_page_with_live_logic_stays_within_the_weight_budget(client, campaign):
    page = client.get("/s/e2e-community")
    html = page.get_data(as_text=True)
    assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', html)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert any(a.endswith("respond.js") for a in assets)
    sizes = [len(page.data)]
    for asset in assets:
        with client.get(asset) as reply:
            assert reply.status_code == 200, asset
            sizes.append(len(reply.data))
    assert len(sizes) <= BUDGET_REQUESTS
    assert sum(sizes) < BUDGET_BYTES, sizes
    assert "<img" not in html and "@font-face" not in html
