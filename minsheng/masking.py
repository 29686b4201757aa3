"""Personal data typed into free text (a suggestion, a citation, a recommendation) found and
masked before the text leaves the raw record: mobile and landline numbers, e-mail addresses,
resident ID and bank-card numbers, WeChat and QQ ids, licence plates.

Every page, API answer, report, export and review queue that shows what a resident wrote shows
`masked(text)`; keyword analysis reads `without_personal_data(text)`, so no fragment of a number
or address becomes a keyword. Masks keep the hint Chinese services show (`138****5678`,
`028-****5678`, `z***@example.com`, `6222 **** **** 1234`, `川A***45`) and the text around them.

Pure Python (no Flask, no database): the shell holds it so that every stage may import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MASK = "*"
#: Full-width ASCII (digits, letters, `＋`, `（`, `：`...) and the ideographic space read as
#: ASCII, and dash variants as `-`: one character for one, so positions stay those of the text.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: ord(" "),
    0x2010: ord("-"),
    0x2011: ord("-"),
    0x2012: ord("-"),
    0x2013: ord("-"),
    0x2014: ord("-"),
    0x2212: ord("-"),
}
#: A number is not a phone or card number when a unit follows it (300000000000元, 2024年).
_NOT_UNIT = r"(?!\s*[元块万亿年%])"
_SEP = r"[ \-.]?"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]*)"
    r"@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![A-Za-z0-9-])"
)
# GB 11643: region (first digit 1-8), birth date, sequence, check digit; the old 15-digit form
# has a two-digit year and no check digit.
_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_CARD = re.compile(
    rf"(?<![\dA-Za-z])(?P<core>[1-8]\d{{5}} ?{_DATE8} ?\d{{3}}[\dXx]|[1-8]\d{{5}}{_DATE6}\d{{3}})"
    rf"(?![\dA-Za-z]){_NOT_UNIT}"
)
_BANK_CARD = re.compile(rf"(?<![\d.])(?P<core>\d(?:[ \-]?\d){{15,18}})(?![\d.]){_NOT_UNIT}")
#: Words that make a 16-19 digit number a card number even when its Luhn check fails.
_BANK_CONTEXT = re.compile(r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|card)\D{0,6}$")
_MOBILE = re.compile(
    r"(?<![\d+])(?P<prefix>(?:\+\s?86|0086|\(\+?86\)|86)[ \-]?)?"
    rf"(?P<core>1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}})(?!\d){_NOT_UNIT}"
)
# Area codes: 010 and 02x are three digits, the others four; subscriber numbers do not start with 0.
_AREA = r"(?:010|02\d|0[3-9]\d{2})"
_LANDLINE = re.compile(
    rf"(?<!\d)(?P<prefix>\({_AREA}\)|{_AREA}(?:[ \-]|(?=[1-9]\d{{6,7}}(?!\d))))"
    rf"[ ]?(?P<core>[1-9]\d{{2,3}}[ \-]?\d{{4}})(?!\d){_NOT_UNIT}"
)
_WECHAT = re.compile(
    r"(?<![A-Za-z])(?:微信|威信|vx|wx|weixin|wechat)(?:号码|号|账号|id)?\s*[:是为]?\s*"
    r"(?P<core>[A-Za-z0-9][A-Za-z0-9_-]{5,19})(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)
#: WeChat's own ids (`wxid_...`) need no keyword before them.
_WXID = re.compile(r"(?<![A-Za-z0-9])(?P<core>wxid_[A-Za-z0-9_-]{4,30})(?![A-Za-z0-9_-])", re.I)
_QQ = re.compile(
    r"(?<![A-Za-z])(?:qq|扣扣)(?:号码|号|群)?\s*[:是为]?\s*(?P<core>[1-9]\d{4,11})(?!\d)",
    re.IGNORECASE,
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# A city letter, an optional dot, then five characters (six for new-energy vehicles) of which at
# least three are digits, or four and a special ending (警, 学, 挂...).
_PLATE = re.compile(
    rf"(?P<prefix>[{_PROVINCES}][A-Za-z][·•・. \-]?)"
    r"(?P<core>(?=(?:[A-Za-z]*\d){3})[A-Za-z0-9]{5,6}(?![A-Za-z0-9])|[A-Za-z0-9]{4}[警学挂港澳领])"
)


@dataclass(frozen=True)
class Found:
    """Personal data at ``text[start:end]``, of ``kind``, and what it becomes when masked."""

    kind: str
    start: int
    end: int
    mask: str


def _hint(core: str, head: int, tail: int, separators: bool = True) -> str:
    """``core`` with letters and digits starred except the first ``head`` and last ``tail``;
    separators stay (`138-1234-5678` becomes `138-****-5678`) unless ``separators`` is false,
    as in an account id, where they are part of it."""
    positions = [i for i, c in enumerate(core) if c.isalnum() or not separators]
    shown = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else [])
    return "".join(c if i in shown or i not in positions else MASK for i, c in enumerate(core))


def _short_hint(core: str) -> str:
    """An account id: two characters kept at each end of a long one, one of a short one."""
    keep = 2 if len(core) >= 8 else 1
    return _hint(core, keep, keep, separators=False)


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _is_bank_card(match: re.Match[str], normal: str) -> bool:
    digits = re.sub(r"\D", "", match["core"])
    if not 16 <= len(digits) <= 19:
        return False
    return _luhn(digits) or bool(
        _BANK_CONTEXT.search(normal[max(0, match.start() - 12) : match.start()])
    )


def _mask_email(match: re.Match[str]) -> str:
    return f"{match['local'][:1]}***@{match['domain']}"


@dataclass(frozen=True)
class _Kind:
    name: str
    pattern: re.Pattern[str]
    mask: Callable[[re.Match[str]], str]
    accept: Callable[[re.Match[str], str], bool] = lambda match, normal: True


def _core(head: int, tail: int) -> Callable[[re.Match[str]], str]:
    """The masked form of a match: its ``core`` group hinted, everything before it kept."""

    def mask(match: re.Match[str]) -> str:
        text = match.group()
        offset = match.start("core") - match.start()
        return (
            text[:offset] + _hint(match["core"], head, tail) + text[offset + len(match["core"]) :]
        )

    return mask


def _core_short(match: re.Match[str]) -> str:
    text = match.group()
    offset = match.start("core") - match.start()
    return text[:offset] + _short_hint(match["core"]) + text[offset + len(match["core"]) :]


# In this order: an e-mail address holds digits, an ID number is 18 digits like a card, a card
# holds eleven digits like a mobile number, an account id follows a keyword.
_KINDS = (
    _Kind("email", _EMAIL, _mask_email),
    _Kind("id_card", _ID_CARD, _core(3, 4)),
    _Kind("bank_card", _BANK_CARD, _core(4, 4), _is_bank_card),
    _Kind("mobile", _MOBILE, _core(3, 4)),
    _Kind("landline", _LANDLINE, _core(0, 4)),
    _Kind("wechat", _WXID, _core_short),
    _Kind("wechat", _WECHAT, _core_short),
    _Kind("qq", _QQ, _core_short),
    _Kind("plate", _PLATE, _core(0, 2)),
)
KINDS = tuple(dict.fromkeys(kind.name for kind in _KINDS))


def personal_data(text: str) -> list[Found]:
    """Every piece of personal data in ``text``, in text order, none overlapping another.

    Matching reads full-width characters as ASCII (`１３８…`, `（028）`), and the mask is built
    from the characters of the text, so a full-width number is masked in full width."""
    normal = text.translate(_HALF_WIDTH)
    taken: list[Found] = []
    for kind in _KINDS:
        for match in kind.pattern.finditer(normal):
            start, end = match.span()
            if any(start < f.end and f.start < end for f in taken):
                continue
            if not kind.accept(match, normal):
                continue
            shown = kind.mask(match)
            # The mask was built on the half-width copy: keep the text's own characters.
            original = text[start:end]
            if kind.name != "email":
                shown = "".join(
                    MASK if m == MASK else o for o, m in zip(original, shown, strict=True)
                )
            taken.append(Found(kind.name, start, end, shown))
    return sorted(taken, key=lambda f: f.start)


def _replaced(text: str, by: Callable[[Found], str]) -> str:
    found = personal_data(text)
    if not found:
        return text
    parts, position = [], 0
    for item in found:
        parts += [text[position : item.start], by(item)]
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def masked(text: str) -> str:
    """``text`` with every piece of personal data masked, keeping a hint of each
    (`请联系13812345678` -> `请联系138****5678`); everything else unchanged."""
    return _replaced(text, lambda found: found.mask)


def without_personal_data(text: str) -> str:
    """``text`` with every piece of personal data replaced by a space, for word counts: no part
    of a number, address or id can become a keyword."""
    return _replaced(text, lambda found: " ")
