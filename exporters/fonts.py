"""The CJK font of reports and charts: found through fontconfig (the same lookup WeasyPrint's
Pango does), so the PDF text and the matplotlib labels use one face; a missing font is an error
that names the package to install, never a PDF of empty boxes (tofu)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from matplotlib.font_manager import FontPath, FontProperties

from exporters.errors import ExportError

FONT_PACKAGE = "fonts-noto-cjk"
INSTALL_HINT = f"apt-get install {FONT_PACKAGE}"
# fontconfig's language tag for simplified Chinese: the family must cover it, not just exist.
LANGUAGE = "zh-cn"
# fontconfig weights (fontconfig.h): FC_WEIGHT_REGULAR = 80, FC_WEIGHT_BOLD = 200.
REGULAR, BOLD = 80, 200


class FontMissingError(ExportError):
    """No installed font of the configured family covers simplified Chinese."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file; `index` selects the face inside a collection (.ttc)."""

    path: Path
    index: int
    weight: int


@dataclass(frozen=True)
class CJKFont:
    """The configured CJK family with its regular and bold faces as fontconfig resolves them."""

    family: str
    regular: FontFace
    bold: FontFace

    def properties(self, *, bold: bool = False, size: float | None = None) -> FontProperties:
        """matplotlib font properties for exactly the face WeasyPrint embeds (same file, same
        face of the collection: `NotoSansCJK-Regular.ttc` holds JP/KR/SC/TC/HK variants whose
        glyphs differ)."""
        face = self.bold if bold else self.regular
        return FontProperties(
            family=self.family,
            weight="bold" if bold else "normal",
            fname=FontPath(str(face.path), face.index),
            size=size,
        )


def find_cjk_font(family: str) -> CJKFont:
    """Return the installed faces of `family` that cover simplified Chinese.

    Raises `FontMissingError` when fontconfig is absent, when the family is not installed, or when
    it has no Chinese glyphs; the message names the family and the command that fixes it.
    """
    faces = _fontconfig_faces(family)
    if not faces:
        raise FontMissingError(
            f"no font of family {family!r} with simplified Chinese glyphs is installed, so Chinese "
            f"text would print as empty boxes; install one with `{INSTALL_HINT}` (it provides "
            f"'Noto Sans CJK SC'), or set MINSHENG_CJK_FONT_FAMILY to an installed family "
            f"(list them with `fc-list :lang={LANGUAGE} family`)"
        )
    regular = min(faces, key=lambda face: abs(face.weight - REGULAR))
    bold = min(faces, key=lambda face: abs(face.weight - BOLD))
    return CJKFont(family=family, regular=regular, bold=bold)


def _fontconfig_faces(family: str) -> list[FontFace]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise FontMissingError(
            "fontconfig's `fc-list` is not installed, so the CJK font cannot be located; "
            f"install it with `apt-get install fontconfig {FONT_PACKAGE}`"
        )
    pattern = f":family={_escape(family)}:lang={LANGUAGE}"
    completed = subprocess.run(
        [fc_list, "--format", "%{file}\t%{index}\t%{weight}\n", pattern],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    faces = []
    for line in completed.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0]:
            continue
        path, index, weight = parts
        # Variable fonts report a weight range such as "[40 210]"; take its lower end.
        low_weight = int(float(weight.strip("[]").split()[0]))
        faces.append(FontFace(Path(path), int(index or 0), low_weight))
    return sorted(faces, key=lambda face: (str(face.path), face.index))


def _escape(value: str) -> str:
    """Escape the characters that are syntax in a fontconfig pattern (fontconfig-user(5))."""
    for char in "\\-:,=":
        value = value.replace(char, "\\" + char)
    return value
