"""Built-in detectors: a ``regex`` rule whose whole pattern is ``@phone`` or
``@email`` runs one of these on the plain form instead of a regex.

Each detector takes the plain form and the set of the message's word keys and
yields ``(start, end)`` spans of the plain form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(
    r"""
    (?<![\w+\-.:/$£€#@,])              # not the tail of a word, decimal, time, date, amount
    (?P<number>
      (?:\+\ ?)?                           # international prefix
      (?:\(\ ?\d{1,5}\ ?\)|\d{1,5}+)       # first group, maybe "(555)"
      (?:(?:\ ?[.\-]\ ?|\ {1,2}|(?<=\)))(?:\(\ ?\d{1,5}\ ?\)|\d{1,6}+)){0,6}   # "(555)867-5309" too
      |
      \+?\d{7,15}+                         # unbroken
    )
    (?![\w:/@]|[.,\-]\d)
    """,
    re.VERBOSE,
)
_PHONE_GROUPS = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")


def _looks_like_phone(number: str) -> bool:
    groups = _PHONE_GROUPS.findall(number)
    digits = sum(len(g) for g in groups)
    if not 7 <= digits <= 15:
        return False
    if number.startswith("+") or "(" in number:
        return True
    if len(groups) == 1:
        return True  # an unbroken run of 7-15 digits
    lengths = [len(g) for g in groups]
    separators = set(re.sub(r"[\d()]", "", number))
    # dates: 2024-01-15, 15.01.2024, 01 15 2024
    if len(groups) == 3 and digits in (6, 8):
        a, b, c = (int(g) for g in groups)
        if lengths[0] == 4 and 1 <= b <= 12 and 1 <= c <= 31:
            return False
        if lengths[2] in (2, 4) and ((1 <= a <= 12 and 1 <= b <= 31) or (1 <= a <= 31 and 1 <= b <= 12)):
            return False
    # year ranges: 1990-2020
    if lengths == [4, 4] and all(1900 <= int(g) <= 2099 for g in groups):
        return False
    # thousands: 1.234.567, 1 234 567
    if lengths[0] <= 3 and all(n == 3 for n in lengths[1:]) and separators <= {".", " "}:
        return False
    # French style: 06 12 34 56 78
    if len(groups) >= 4 and all(n == 2 for n in lengths):
        return True
    if separators == {" "}:
        return lengths[-1] >= 4  # "200 250 300" is a list of numbers, "020 7946 0958" a phone
    return lengths[-1] >= 3


_TLDS = (
    "com|net|org|edu|gov|mil|io|co|me|info|biz|app|dev|xyz|ai|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|"
    "dk|fi|pl|pt|br|mx|in|jp|ru|eu|tv|ly|gg"
)
_DOTTED_TLD = re.compile(rf"\.\s*(?:{_TLDS})\b")
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    rf"""
    (?<![\w.+\-])
    [\w.+\-]*\w                     # local part
    (?:
      @[\w\-]+(?:\.[\w\-]+)*\.[a-z]{{2,24}}\b                    # plain address
      |
      {_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}(?:{_TLDS})\b         # spelled out: jo at gmail dot com
    )
    """,
    re.VERBOSE,
)


def _find_phones(plain: str, words: set[str]) -> Iterable[tuple[int, int]]:
    if len(_DIGIT.findall(plain)) < 7:
        return
    for m in _PHONE.finditer(plain):
        number = m.group("number").rstrip(" .-")
        if _looks_like_phone(number):
            yield m.start(), m.start() + len(number)


def _find_emails(plain: str, words: set[str]) -> Iterable[tuple[int, int]]:
    # "@", or a spelled-out "at" with a "dot" or a ".com"-like ending
    if "@" not in plain and not ("at" in words and ("dot" in words or _DOTTED_TLD.search(plain))):
        return
    for m in _EMAIL.finditer(plain):
        yield m.start(), m.end()


DETECTORS = {"@phone": _find_phones, "@email": _find_emails}
