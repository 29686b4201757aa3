"""Parts of a rendered page that tests look at: one input by name, the error summary."""

from __future__ import annotations

import re


def input_tag(page: str, name: str) -> str:
    """The `<input>` tag named `name` (with the value the page shows in it)."""
    found = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert found, f"no input {name!r} in the page"
    return found.group(0)


def error_summary(page: str) -> str:
    """The error summary at the top of a refused form (`_forms.html`)."""
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert found, "no error summary on the page"
    return found.group(0)
