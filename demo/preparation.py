"""`minsheng demo`: the demo campaign (交通出行专项征集) filled with synthetic responses, an
organizer login and the campaign's PDF report; `make demo` runs it before serving the app.

It composes the whole pipeline (campaigns, forms, exporters), so like `app.py` and `cli.py` it
imports feature packages, inside the function, and only as their callers do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minsheng.accounts.models import User
from minsheng.accounts.users import create_user, enable_user, reset_password
from minsheng.files import file_store

DEMO_FILE = Path("examples") / "transport.yaml"
ORGANIZER = "organizer"
DEFAULT_RESPONSES = 20_000
DEFAULT_SEED = 2026


@dataclass(frozen=True)
class DemoResult:
    """What the demo prepared, for printing: the campaign, its response count (and how many were
    added this time), the organizer's credentials and where the report's PDF is (a path or an
    `s3://` URL: `FileStore.location`)."""

    campaign_slug: str
    responses: int
    added: int
    username: str
    password: str
    report: str


def find_demo_file(start: Path | None = None) -> Path:
    """`examples/transport.yaml` in the working directory, else beside the installed sources."""
    for base in (start or Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = base / DEMO_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{DEMO_FILE} not found; run from the repository or pass --file")


def prepare_demo(
    session: Session,
    campaign_file: Path,
    responses: int = DEFAULT_RESPONSES,
    seed: int = DEFAULT_SEED,
) -> DemoResult:
    """Load the campaign, top it up to `responses` synthetic responses (nothing is added when it
    already has that many), give the `organizer` account a new random password, commit, then
    render the staff report into the file store the way the report task does."""
    from demo.synthetic import add_synthetic_responses
    from exporters.reports import produce_report, request_report
    from forms.models import Response
    from forms.publishing import load_campaign_file

    campaign, version = load_campaign_file(session, str(campaign_file))
    existing = session.scalar(
        select(func.count()).select_from(Response).where(Response.campaign_id == campaign.id)
    )
    added = 0
    if (existing or 0) < responses:
        added = add_synthetic_responses(
            session, campaign, version, responses - (existing or 0), seed, first_index=existing or 0
        )
    password = secrets.token_urlsafe(12)
    user = _reset_organizer(session, password)
    report = request_report(session, campaign, actor_id=user.id)
    session.commit()
    key = produce_report(session, report)
    session.commit()
    if key is None:
        raise RuntimeError(f"the report could not be rendered: {report.error}")
    location = file_store().location(key)
    return DemoResult(
        campaign.slug, (existing or 0) + added, added, user.username, password, location
    )


def _reset_organizer(session: Session, password: str) -> User:
    user = session.scalar(select(User).where(User.username == ORGANIZER))
    if user is None:
        return create_user(session, ORGANIZER, password, "organizer", "演示组织者")
    reset_password(session, user, password, None, reason="minsheng demo")
    enable_user(session, user, None)
    return user
