"""Printable A4 posters for offline collection points (征集点位): the campaign title, the point's
name and a QR code of the public link carrying `?p=<point code>`, so answers given through that
code are attributed to the point."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlencode

import segno
from flask import current_app, render_template
from flask_babel import force_locale

from campaigns.models import Campaign, CollectionPoint
from questionnaire.schema import text_in

# Error correction level Q (25% of codewords) survives a poster that is scuffed, folded or
# photographed at an angle, at the cost of a denser code (ISO/IEC 18004 section 6.5.1).
QR_ERROR = "q"


def point_link(base_url: str, campaign_slug: str, point_code: str) -> str:
    """The public questionnaire link of a campaign, attributed to one collection point."""
    return f"{base_url.rstrip('/')}/s/{quote(campaign_slug)}?{urlencode({'p': point_code})}"


def point_qr(link: str) -> segno.QRCode:
    """The QR code printed on the poster (never micro QR, which phone cameras don't read)."""
    return segno.make(link, error=QR_ERROR, micro=False, boost_error=False)


def poster_html(
    campaign: Campaign, points: Sequence[CollectionPoint], language: str = "zh_CN"
) -> str:
    """The poster pages as HTML (one A4 page per point), in `language` (zh_CN or en)."""
    base_url = str(current_app.config["BASE_URL"])
    pages = []
    for point in points:
        link = point_link(base_url, campaign.slug, point.code)
        pages.append(
            {
                "point": point,
                "link": link,
                # 12 px per module, 4-module quiet zone (ISO/IEC 18004 section 6.3.8).
                "qr_uri": point_qr(link).png_data_uri(scale=12, border=4),
            }
        )
    with force_locale(language):
        return render_template(
            "invitations/poster.html",
            title=campaign.title_in(language),
            description=text_in(campaign.description, language, "zh")
            if campaign.description
            else "",
            pages=pages,
            font_family=current_app.config["CJK_FONT_FAMILY"],
            language=language,
        )


def poster_pdf(
    campaign: Campaign, points: Sequence[CollectionPoint], language: str = "zh_CN"
) -> bytes:
    """A printable A4 PDF with one poster per collection point.

    Chinese text is set in `CJK_FONT_FAMILY`, found through fontconfig (Debian: fonts-noto-cjk);
    a missing font makes WeasyPrint fall back to another installed face, never to empty boxes
    when any CJK font is installed.
    """
    from weasyprint import HTML

    if not points:
        raise ValueError(f"campaign {campaign.slug} has no collection points to print")
    pdf: bytes = HTML(string=poster_html(campaign, points, language)).write_pdf()
    return pdf
