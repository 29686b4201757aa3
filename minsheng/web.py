"""What every stage's pages share: the language of labels, 404 for a missing row, and a refused
form's errors shown as messages with their field labels (never the raw `form.errors` dict).

The JSON-aware 401/403 is `minsheng.accounts.permissions.require_role`; the renderings of
`InputError` and HTTP errors are in `minsheng.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from wtforms import Form

T = TypeVar("T")


def label_language() -> str:
    """The key to pick from a multilingual label (`{"zh": ..., "en": ...}`) on this page:
    `en` when the page is in English, else `zh` (simplified Chinese first)."""
    from flask_babel import get_locale

    return "en" if str(get_locale() or "zh_CN").startswith("en") else "zh"


def or_404(value: T | None, description: str) -> T:
    """`value`, or a 404 with `description` (HTML page or JSON body, see `minsheng.errors`)."""
    from flask import abort

    if value is None:
        abort(404, description=description)
    return value


def flash_form_errors(form: Form) -> None:
    """Flash each of a refused form's errors as "<field label>: <message>", for small forms
    that post and redirect back; never the raw `form.errors` dict."""
    from flask import flash

    for name, messages in form.errors.items():
        field: Any = form._fields.get(name) if name else None
        label = f"{field.label.text}: " if field is not None else ""
        for message in messages:
            flash(f"{label}{message}", "error")
