"""Personal information (name, mobile phone, e-mail): normalisation, encryption at rest
(AES-256-GCM), keyed lookup hashes (HMAC-SHA256) and masking for display.

Nothing outside this module sees a key. Decrypted values are for sending messages only; pages,
files and logs show `mask_phone` / `mask_email` / `mask_name`.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from minsheng.config import PII_KEY_ACCEPTED, decode_pii_key, development_keys_allowed

# First byte of every ciphertext, so keys can be rotated later without guessing the format.
_FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Deliberately simple (RFC 5322 allows far more); what a person types into a sign-up form.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


class PIIError(Exception):
    """A personal-data value could not be decrypted (wrong key, or the value was altered)."""


@dataclass(frozen=True)
class PIIKeys:
    """The encryption key and the lookup-hash key, both derived from one master key with HKDF
    (RFC 5869) under different labels, so neither can be computed from the other.

    `previous` holds the keys of former master keys (`PII_PREVIOUS_KEYS`): they still decrypt,
    never encrypt, until `rekey_contacts` has moved every value to the current key.
    """

    encryption: bytes
    lookup: bytes
    previous: tuple[PIIKeys, ...] = ()

    @classmethod
    def from_master(cls, master: bytes, previous: tuple[PIIKeys, ...] = ()) -> PIIKeys:
        return cls(
            encryption=_hkdf(master, b"minsheng pii encryption"),
            lookup=_hkdf(master, b"minsheng pii lookup"),
            previous=previous,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PIIKeys:
        """Keys from `PII_KEY` and `PII_PREVIOUS_KEYS` (urlsafe base64 of 32 bytes each).

        Only in development and tests may an empty `PII_KEY` be derived from `SECRET_KEY`:
        anywhere else that would let whoever knows the secret decrypt every contact offline.
        Raises ValueError naming the setting when a key is missing or malformed.
        """
        previous = tuple(
            cls.from_master(_decoded("PII_PREVIOUS_KEYS", raw))
            for raw in config.get("PII_PREVIOUS_KEYS") or ()
        )
        raw = str(config.get("PII_KEY") or "")
        if raw:
            master = _decoded("PII_KEY", raw)
        elif development_keys_allowed(config):
            master = _hkdf(str(config["SECRET_KEY"]).encode("utf-8"), b"minsheng pii master")
        else:
            raise ValueError(f"PII_KEY: not set; expected {PII_KEY_ACCEPTED}")
        return cls.from_master(master, previous)

    @property
    def decrypting(self) -> tuple[PIIKeys, ...]:
        """The current keys first, then the former ones."""
        return (self, *self.previous)


def _decoded(name: str, raw: str) -> bytes:
    try:
        return decode_pii_key(raw)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def current_keys() -> PIIKeys:
    """The keys of the current app (computed once per app)."""
    from flask import current_app

    keys = current_app.extensions.get("invitations.pii_keys")
    if keys is None:
        keys = PIIKeys.from_config(current_app.config)
        current_app.extensions["invitations.pii_keys"] = keys
    return keys  # type: ignore[no-any-return]


def generate_key() -> str:
    """A fresh value for `MINSHENG_PII_KEY`."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def encrypt(keys: PIIKeys, value: str) -> bytes:
    """AES-256-GCM with a random 96-bit nonce: version byte + nonce + ciphertext + tag."""
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT_V1 + nonce + AESGCM(keys.encryption).encrypt(nonce, value.encode("utf-8"), None)


def decrypt(keys: PIIKeys, blob: bytes) -> str:
    """The plaintext of `encrypt`, under the current or a former key; raises PIIError if no key
    opens it or the bytes were altered."""
    return _open(keys, blob, None)[0].decode("utf-8")


def encrypt_bytes(keys: PIIKeys, data: bytes) -> bytes:
    """`encrypt` for a whole file (an uploaded contact list waiting for import)."""
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT_V1 + nonce + AESGCM(keys.encryption).encrypt(nonce, data, b"file")


def decrypt_bytes(keys: PIIKeys, blob: bytes) -> bytes:
    """The bytes given to `encrypt_bytes`; raises PIIError like `decrypt`."""
    return _open(keys, blob, b"file")[0]


def opening_keys(keys: PIIKeys, blob: bytes, associated: bytes | None = None) -> PIIKeys:
    """Which of the current and former keys opens `blob` (the current one when it is already
    current); raises PIIError like `decrypt`. Key rotation uses it to skip what is done."""
    return _open(keys, blob, associated)[1]


def _open(keys: PIIKeys, blob: bytes, associated: bytes | None) -> tuple[bytes, PIIKeys]:
    if not blob or blob[:1] != _FORMAT_V1:
        raise PIIError("unknown ciphertext format")
    nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    for candidate in keys.decrypting:
        try:
            return AESGCM(candidate.encryption).decrypt(nonce, body, associated), candidate
        except InvalidTag:
            continue
    raise PIIError("cannot decrypt: wrong PII_KEY (and PII_PREVIOUS_KEYS) or altered value")


def lookup_hash(keys: PIIKeys, kind: str, normalized: str) -> bytes:
    """HMAC-SHA256 of a normalised phone or e-mail; `kind` separates the two domains so a
    phone never matches an e-mail. Without the key the hash cannot be brute-forced over the
    ~10^10 mobile numbers, which a plain sha256 could."""
    return hmac.digest(keys.lookup, f"{kind}:{normalized}".encode(), "sha256")


def normalize_phone(raw: str) -> str | None:
    """The 11-digit mainland mobile number in `raw`, or None when it is not one.

    Accepts full-width digits, spaces, dashes, dots, brackets and a +86 / 0086 / 86 prefix:
    `+86 138-1234-5678` gives `13812345678`.
    """
    text = unicodedata.normalize("NFKC", raw)
    digits = re.sub(r"[\s\-.()]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if MOBILE_RE.fullmatch(digits) else None


def normalize_email(raw: str) -> str | None:
    """The e-mail in `raw`, trimmed and lower-cased, or None when it is malformed."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if len(text) > 254 or not EMAIL_RE.fullmatch(text) or ".." in text:
        return None
    return text.lower()


def mask_phone(phone: str) -> str:
    """`13812345678` -> `138****5678`; anything shorter keeps at most its first and last
    character."""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return mask_text(phone)


def mask_email(email: str) -> str:
    """`zhang.san@example.com` -> `z***@example.com` (the domain stays, to tell providers
    apart)."""
    local, sep, domain = email.partition("@")
    if not sep:
        return mask_text(email)
    return f"{local[:1]}***@{domain}"


def mask_name(name: str) -> str:
    """`张三` -> `张*`, `欧阳娜娜` -> `欧***`, `Li Lei` -> `L*****`: the first character only."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_text(value: str) -> str:
    """Any value that may hold personal data, masked for an error report: first and last
    character kept, at most."""
    value = value.strip()
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]
