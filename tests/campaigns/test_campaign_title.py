"""Every stage's campaign pages show the campaign's title in the viewer's language, from one
place (`campaigns.web.campaign_title`), in the heading and in the browser tab."""

from __future__ import annotations

import re

import pytest

PAGES = [
    "/campaigns/{slug}/status",
    "/campaigns/{slug}/sending",
    "/campaigns/{slug}/funnel",
    "/campaigns/{slug}/exports",
    "/campaigns/{slug}/reviews/queue",
    "/campaigns/{slug}/reviews",
    "/campaigns/{slug}/reports",
    "/campaigns/{slug}/results",
    "/campaigns/{slug}/recommendations",
    "/campaigns/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Transport and Mobility Campaign"), ("zh_CN", "交通出行专项征集")]
)
def test_campaign_pages_show_the_title_in_the_viewers_language(
    client, login, campaign, path, lang, title
):
    login("admin")
    page = client.get(path.format(slug=campaign.slug) + f"?lang={lang}")
    assert page.status_code == 200, page.text
    other = "交通出行专项征集" if lang == "en" else "Transport and Mobility Campaign"
    assert title in page.text
    assert other not in page.text
    if path != "/campaigns/":
        tab = re.search(r"<title>(.*?)</title>", page.text, re.S)
        assert tab is not None and title in tab.group(1)


def test_a_title_without_the_viewers_language_falls_back_to_chinese(session, campaign):
    campaign.title = {"zh": "只有中文"}
    assert campaign.title_in("en") == "只有中文"
    assert campaign.title_in("zh_CN") == "只有中文"
