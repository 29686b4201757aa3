"""Where a response came from and how it was filled in, told without trusting the client (issue
11): a keyed hash of the client address instead of the address, the page's start time signed
with the app's secret, and the honeypot field people never see. The quality screen
(`analysis.screening`) reads what they leave on the response."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime

from itsdangerous import BadData, URLSafeSerializer

#: The honeypot field's name: one a form-filling bot is keen to fill, no browser's autofill is.
HONEYPOT_FIELD = "website"
_START_SALT = "minsheng.respondent-page.started-at"
_ADDRESS_LABEL = b"minsheng.address-hash:"


def address_hash(secret: str | bytes, address: str | None, day: date) -> str | None:
    """HMAC-SHA256 of the client address under a key of the day (itself an HMAC of the app's
    secret and the UTC date), 128 bits in hex; None without an address.

    Two responses from one address on one day get the same hash, which is all the
    near-duplicate rule needs; hashes of different days never match, and without the secret no
    hash can be turned back into an address by trying the whole IPv4 space.
    """
    if not address:
        return None
    key = secret.encode() if isinstance(secret, str) else secret
    day_key = hmac.new(key, _ADDRESS_LABEL + day.isoformat().encode(), hashlib.sha256).digest()
    return hmac.new(day_key, address.encode(), hashlib.sha256).hexdigest()[:32]


def start_token(secret: str | bytes, submission_id: str, started: datetime) -> str:
    """The page's `started_at`: the moment it was served, signed together with the page's
    submission id, so a harvested token only ever times that one (idempotent) submission."""
    serializer = URLSafeSerializer(secret, salt=_START_SALT)
    return serializer.dumps([submission_id, started.astimezone(UTC).isoformat()])


def signed_start(secret: str | bytes, token: str | None, submission_id: str) -> datetime | None:
    """The start time `start_token` signed for `submission_id`, or None when the token is
    missing, forged, altered or signed for another submission."""
    if not token:
        return None
    try:
        signed_id, moment = URLSafeSerializer(secret, salt=_START_SALT).loads(token)
        started = datetime.fromisoformat(moment)
    except (BadData, TypeError, ValueError):
        return None
    if signed_id != submission_id or started.tzinfo is None:
        return None
    return started
