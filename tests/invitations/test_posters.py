"""A4 posters for collection points: the PDF carries the campaign title and a QR code that decodes
to the public link of that point."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from campaigns.models import Campaign, CollectionPoint
from invitations.posters import point_link, point_qr, poster_pdf

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def _read_matrix(png: Path, size: int) -> list[list[bool]]:
    """Sample the centre of each module of an extracted QR image (4-module quiet zone)."""
    image = Image.open(png).convert("L")
    module = image.width / (size + 8)
    return [
        [
            image.getpixel((int((4 + x + 0.5) * module), int((4 + y + 0.5) * module))) < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


def test_point_link_carries_the_point_code():
    assert (
        point_link("https://zj.example.gov.cn/", "transport-2026", "jinniu tea")
        == "https://zj.example.gov.cn/s/transport-2026?p=jinniu+tea"
    )


def test_poster_has_title_point_name_and_a_qr_of_the_point_link(app, campaign, tmp_path):
    points = campaign.collection_points
    pdf = tmp_path / "posters.pdf"
    pdf.write_bytes(poster_pdf(campaign, points))

    text = _pdf_text(pdf)
    assert text.count("交通出行专项征集") == 3
    assert "锦江区春熙路街道群众工作之家" in text
    assert "扫码提出您的意见建议" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.MULTILINE), info
    assert "(A4)" in info

    base = app.config["BASE_URL"]
    expected = [point_link(base, "transport-2026", p.code) for p in points]
    subprocess.run(["pdfimages", "-png", str(pdf), str(tmp_path / "qr")], check=True)
    images = sorted(tmp_path.glob("qr-*.png"))
    assert len(images) == 3
    for image, link in zip(images, expected, strict=True):
        qr = point_qr(link)
        wanted = [[bool(v) for v in row] for row in qr.matrix_iter(border=0)]
        assert _read_matrix(image, len(wanted)) == wanted


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) not installed")
def test_poster_qr_scans_to_the_point_link(app, campaign, tmp_path):
    point = campaign.collection_points[1]
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster_pdf(campaign, [point], language="en"))
    assert "Transport and Mobility Campaign" in _pdf_text(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    (page,) = tmp_path.glob("page*.png")
    scanned = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert scanned == point_link(app.config["BASE_URL"], "transport-2026", "jinniu-tea")


def test_campaign_without_points_has_no_poster(app, session):
    campaign = Campaign(slug="no-points", title={"zh": "无点位"}, theme="t")
    session.add(campaign)
    session.flush()
    with pytest.raises(ValueError, match="no-points has no collection points"):
        poster_pdf(campaign, [])
    assert isinstance(CollectionPoint(code="x", name="y"), CollectionPoint)
