"""``@phone``: phone numbers, in digits or in words, in US and international shapes.

Two finders, their spans joined: phonenumbers' ``PhoneNumberMatcher`` (region
US, leniency POSSIBLE: a number of a possible length for its region -- VALID
would refuse the 555 numbers people use as examples and many real mobile
numbers; international numbers with "+" are read in their own region), and a
pattern for shapes it misses ("020 7946 0958", "07700 900123": national
numbers of other countries).  Every candidate then passes ``_looks_like_phone``,
which refuses dates, year ranges, thousands and lists of numbers.  Digits
written as words ("five five five, eight six seven, five three oh nine") are
read as digits first.  A number given as a public one (a clinic's front desk,
a crisis line) is left alone (``context.public``).

Gate: phonenumbers costs ~35 µs a message, so it runs only when the message
holds at least 7 digits (or 7 number words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from phonenumbers import Leniency, PhoneNumberMatcher

from .context import public

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


_NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)"
_SPELLED = re.compile(rf"\b{_NUMBER_WORD}(?:[\s,.\-/]{{1,3}}(?:{_NUMBER_WORD}|o\b))+\b")
_NUMBER_KEYS = frozenset(w for w in _NUMBER_WORDS if len(w) > 1)
_WORD_COUNT = re.compile(r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b")


def find_phones(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    digits = len(_DIGIT.findall(plain))
    spelled = not _NUMBER_KEYS.isdisjoint(scan.keyset)
    if digits < 7 and not spelled:
        return ()
    return list(_phones(scan, plain, digits, spelled))


def _phones(scan, plain: str, digits: int, spelled: bool) -> Iterable[tuple[int, int]]:
    if digits >= 7:
        spans = {
            _trim(plain, m.start(), m.start() + len(m.group("number").rstrip(" .-"))) for m in _PHONE.finditer(plain)
        }
        for found in PhoneNumberMatcher(plain, "US", leniency=Leniency.POSSIBLE):
            spans.add((found.start, found.end))
        for a, b in sorted(spans):
            if _looks_like_phone(plain[a:b]) and not public(plain, a, b):
                yield a, b
    if (spelled and digits + len(_WORD_COUNT.findall(plain)) >= 7) or digits >= 7:
        for m in _SPELLED.finditer(plain):  # "five five five ...", "5 5 5 8 6 7 ..."
            pieces = re.findall(r"[a-z]+|\d+", m.group())
            number = "".join(_NUMBER_WORDS.get(w, w) for w in pieces)
            words_or_single = all(not p.isdigit() or len(p) == 1 for p in pieces)
            if words_or_single and 7 <= len(number) <= 15 and number.isdigit() and not public(plain, *m.span()):
                yield m.span()


def warm_up() -> None:
    """Load phonenumbers' metadata now, not lazily in two threads at once."""
    list(PhoneNumberMatcher("call 555-867-5309 or +44 20 7946 0958", "US", leniency=Leniency.POSSIBLE))


def _trim(plain: str, a: int, b: int) -> tuple[int, int]:
    while b > a and plain[b - 1] in " .-":
        b -= 1
    return a, b
