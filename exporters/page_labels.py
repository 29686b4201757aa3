"""PDF page labels: the page names a PDF viewer shows and jumps to. WeasyPrint writes none, so
a finisher adds the catalog's /PageLabels once the layout is known: each labelled part starts on
the page that holds its anchor (an element id of the report HTML).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pydyf

#: Label styles of ISO 32000 (12.4.2): decimal, lower-case roman, or no number (prefix only).
STYLES = ("D", "r", "")


@dataclass(frozen=True)
class LabelledPart:
    """Pages from the one holding `anchor` ("" = the first page) up to the next part: named
    `prefix` followed by a number in `style`. ``physical`` numbers a decimal part by the page's
    place in the file, as the "第 X 页 共 Y 页" footer does; otherwise it counts from 1."""

    anchor: str
    prefix: str = ""
    style: str = "D"
    physical: bool = True


def page_of(document: Any, anchor: str) -> int | None:
    """The index of the first page of a laid-out WeasyPrint document holding `anchor`."""
    for index, page in enumerate(document.pages):
        if anchor in page.anchors:
            return index
    return None


def label_pages(parts: Sequence[LabelledPart]) -> Callable[[Any, Any], None]:
    """A WeasyPrint `finisher` writing `parts` as the PDF's page labels; a part whose anchor
    is not in the document is left out (its pages keep the previous part's labels)."""
    for part in parts:
        if part.style not in STYLES:
            raise ValueError(f"unknown page label style {part.style!r}; expected one of D, r, ''")

    def finish(document: Any, pdf: Any) -> None:
        starts: dict[int, LabelledPart] = {}
        for part in parts:
            index = 0 if not part.anchor else page_of(document, part.anchor)
            if index is not None:
                starts[index] = part
        numbers = pydyf.Array()
        for index in sorted(starts):
            part = starts[index]
            label = pydyf.Dictionary()
            if part.style:
                label["S"] = "/" + part.style
                label["St"] = index + 1 if part.physical and part.style == "D" else 1
            if part.prefix:
                label["P"] = pydyf.String(part.prefix)
            numbers.extend([index, label])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": numbers})

    return finish
