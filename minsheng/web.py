"""What every stage's pages share: the language of labels, 404 for a missing row, a refused
form's errors shown as messages with their field labels (never the raw `form.errors` dict), and
commit-or-show-problems: a form's domain change is committed, or the form is shown again with
each problem under its field and what the person typed still in it (`templates/_forms.html`).

The JSON-aware 401/403 is `minsheng.accounts.permissions.require_role`; the renderings of
`InputError` and HTTP errors are in `minsheng.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from minsheng.problems import InputError

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from sqlalchemy.orm import Session
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


def moved_to(path: str) -> ResponseReturnValue:
    """A 308 to the page's new `path`, with this request's query string, so bookmarks and links
    already sent keep working (308 keeps a POST a POST; the new page checks the role).

    `path` may be built from the decoded parts URL rules hand over or come from `url_for`:
    characters a URL can not hold are escaped, `%` escapes already there are kept.
    """
    from urllib.parse import quote

    from flask import redirect, request

    query = request.query_string.decode()
    return redirect(quote(path, safe="/%") + (f"?{query}" if query else ""), code=308)


def flash_form_errors(form: Form) -> None:
    """Flash each of a refused form's errors as "<field label>: <message>", for small forms
    that post and redirect back; never the raw `form.errors` dict."""
    from flask import flash

    for name, messages in form.errors.items():
        field: Any = form._fields.get(name) if name else None
        label = f"{field.label.text}: " if field is not None else ""
        for message in messages:
            flash(f"{label}{message}", "error")


def commit_or_show(
    session: Session,
    form: Form,
    action: Callable[[], T],
    fields: Mapping[str, str] | None = None,
) -> T | None:
    """Run `action` (the domain change a submitted `form` asks for) and commit it; or, when it
    raises `InputError`, roll back and put each problem under its field (`show_problems`).
    Returns the action's result, or None when it was refused (then `form.errors` says why)."""
    try:
        result = action()
    except InputError as exc:
        session.rollback()
        show_problems(form, exc, fields)
        return None
    session.commit()
    return result


def show_problems(form: Form, exc: InputError, fields: Mapping[str, str] | None = None) -> None:
    """Each problem under the form field its location names, directly or through `fields`
    (a domain location such as `list` -> the field `list_name`); the others, with their
    location, in `form.form_errors`, which the summary of `_forms.html` shows."""
    for location, messages in exc.by_location().items():
        name = (fields or {}).get(location, location)
        field: Any = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            prefix = f"{location}: " if location else ""
            form.form_errors.extend(f"{prefix}{m}" for m in messages)
