"""``@identity``: a member naming themselves in full together with where they
work or study ("I'm Jane Doe, I work at the Mercy clinic", "my name is Robert
Alvarez and I teach at Lincoln High"), or giving their real name outright ("my
real name is Sarah Kim").

Names are told from words by capitals in the original text (the plain form is
lowercase): a name is one or two capitalised words that are not ordinary words
at the start of a sentence ("I'm Sorry", "I'm So tired").  A workplace is "I
work / teach / volunteer / study at|for <a capitalised place>" or "I'm a
<job> at <a capitalised place>".  Either half alone is ordinary chat ("I work at
a hospital", "my therapist Dr. Lee works at Mercy") and is left alone; the real
name is enough on its own.  Writers who type everything in lowercase are not
caught: without capitals a name cannot be told from a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .. import language

_NAME_INTRO = re.compile(
    r"\b(?:my\s+(?P<real>real\s+|full\s+|actual\s+|legal\s+)?name\s+is|my\s+name'?s|i'?m|i\s+am|this\s+is|call\s+me)"
    r"\s+(?P<first>[a-z][a-z'\-]+)(?:\s+(?P<last>[a-z][a-z'\-]+))?"
)
_WORK = re.compile(
    r"\b(?:i\s+(?:work|worked|teach|volunteer|intern|study|nurse)\s+(?:at|for|in)"
    r"|i'?m\s+(?:a|an)\s+[a-z]+(?:\s+[a-z]+)?\s+(?:at|for|in)"
    r"|i\s+am\s+(?:a|an)\s+[a-z]+(?:\s+[a-z]+)?\s+(?:at|for|in))"
    r"\s+(?:the\s+)?(?P<place>[a-z][a-z.'\-]*)"
)
_NOT_NAMES = frozenset(
    [
        "sorry",
        "so",
        "not",
        "just",
        "here",
        "back",
        "glad",
        "happy",
        "tired",
        "fine",
        "okay",
        "ok",
        "good",
        "new",
        "still",
        "also",
        "really",
        "very",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "going",
        "doing",
        "feeling",
        "trying",
        "done",
        "scared",
        "afraid",
        "here",
        "there",
        "from",
        "with",
        "and",
        "but",
    ]
)


# Gates: an introduction in the plain form, and a capital inside a sentence of the original
# ("I" aside) -- substring tests and one short regex.
_INNER_CAPITAL = re.compile(r"[a-z,;:'’]\s+(?!I\b)[A-Z]")


def find_identity(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    if not (
        " name" in plain
        or "i'm " in plain
        or "im " in plain
        or "i am " in plain
        or "this is " in plain
        or "call me " in plain
    ) or not _INNER_CAPITAL.search(scan.text):
        return ()
    return list(_identity(scan))


def _identity(scan) -> Iterable[tuple[int, int]]:
    plain = scan.plain
    names = [m for m in _NAME_INTRO.finditer(plain) if _is_name(scan, m)]
    if not names:
        return
    real = [m for m in names if m.group("real")]
    for m in real:
        yield m.span()
    if real:
        return
    works = [m for m in _WORK.finditer(plain) if _capitalised(scan, m.start("place"))]
    if works:
        name, work = names[0], works[0]
        yield min(name.start(), work.start()), max(name.end(), work.end())


def _capitalised(scan, plain_index: int) -> bool:
    return scan.text[scan.plain_starts[plain_index]].isupper()


def _is_name(scan, m: re.Match) -> bool:
    first, last = m.group("first"), m.group("last")
    if first in _NOT_NAMES or not _capitalised(scan, m.start("first")):
        return False
    if m.group("real"):
        return True
    if last and last not in _NOT_NAMES and _capitalised(scan, m.start("last")):
        return True  # "Jane Doe"
    return not language.is_known(first)  # "Katie", not "Sorry"
