"""What every stage's pages share: the language of labels, 404 for a missing row, and one way to
run a form's action so that it either commits or shows its problems to the person who typed it.

The JSON-aware 401/403 is `minsheng.accounts.permissions.require_role`; the renderings of
`InputError` and HTTP errors are in `minsheng.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from minsheng.errors import InputError

if TYPE_CHECKING:
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


def commit_or_flash(session: Session, action: Callable[[], T], done: str) -> T | None:
    """Run `action`; commit and flash `done`, or roll back and flash each problem it raised.

    For small forms posted from a page that redirects back (buttons on an overview): the
    problems are shown on the page the person returns to.
    """
    from flask import flash

    try:
        result = action()
    except InputError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(str(problem), "error")
        return None
    session.commit()
    flash(done, "info")
    return result


def flash_form_errors(form: Form) -> None:
    """Flash each of a refused form's errors as "<field label>: <message>", for small forms
    that post and redirect back; never the raw `form.errors` dict."""
    from flask import flash

    for name, messages in form.errors.items():
        field: Any = form._fields.get(name) if name else None
        label = f"{field.label.text}: " if field is not None else ""
        for message in messages:
            flash(f"{label}{message}", "error")


def commit_or_show(session: Session, form: Form, action: Callable[[], T]) -> T | None:
    """Run `action` for a submitted `form`; commit, or roll back and put each problem under its
    field (problems of no field go to the form's summary), so the page re-renders with what was
    typed. Returns the action's result, or None when it was refused.
    """
    try:
        result = action()
    except InputError as exc:
        session.rollback()
        show_problems(form, exc)
        return None
    session.commit()
    return result


def show_problems(form: Form, exc: InputError) -> None:
    """Each problem under the form field named by its location, the others in `form.form_errors`
    (shown in the summary above the form by the `problems` macro of `_forms.html`)."""
    for location, messages in exc.by_location().items():
        field: Any = form._fields.get(location) if location else None
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            prefix = f"{location}: " if location else ""
            form.form_errors.extend(f"{prefix}{m}" for m in messages)
