"""The fingerprint of a response's answers with its text normalised, which the near-duplicate
rule of the quality screen compares (issue 11): the same answers resubmitted with the text
re-spaced, re-punctuated, in full-width characters or another case get the same fingerprint."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from typing import Any


def normalised_text(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), case folded, with every space,
    punctuation mark and symbol dropped: what is left is what was said."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "ZPSC")


def _normalised(value: Any) -> Any:
    if isinstance(value, str):
        return normalised_text(value)
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def answers_fingerprint(answers: Mapping[str, Any]) -> str:
    """128 bits (hex) of SHA-256 over the validated answers, text normalised; unanswered
    questions count as unanswered whether the key is absent or null."""
    plain = {k: _normalised(v) for k, v in answers.items() if v is not None and v != []}
    encoded = json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]
