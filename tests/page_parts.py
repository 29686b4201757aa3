"""Parts of a rendered page that tests look at: one input by name, the error summary, the
inline code a Content-Security-Policy without 'unsafe-inline' would refuse."""

from __future__ import annotations

import re
from html.parser import HTMLParser


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


class _InlineCode(HTMLParser):
    """Collects every piece of markup that needs 'unsafe-inline' (or a nonce) to run or apply."""

    def __init__(self, styles: bool) -> None:
        super().__init__()
        self.styles = styles
        self.found: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            runs = name.startswith("on") or (value or "").strip().startswith("javascript:")
            if runs or name == "srcdoc" or (name == "style" and self.styles):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style" and self.styles:
            self.found.append("<style> element")
        # A JSON data block is not run, so the policy does not apply to it.
        if tag == "script" and "src" not in named and named.get("type") != "application/json":
            self._script = ""

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.found.append(f"<script>{self._script[:60]}</script>")
            self._script = None


def inline_code(page: str, *, styles: bool = True) -> list[str]:
    """Inline scripts, event handlers, `javascript:` links, style attributes and elements (unless
    `styles` is false), and `srcdoc` frames (which inherit the page's policy) in `page`; empty
    when there are none."""
    parser = _InlineCode(styles)
    parser.feed(page)
    parser.close()
    return parser.found
