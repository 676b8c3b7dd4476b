"""Refusing unusable rules at save time, with a sentence for a moderator.

``validate(kind, pattern)`` is what the admin, the rule pages and the pack
loader call; ``regex_flags`` is how a regex rule is compiled (case-insensitive
when written with capitals, since the screening form is lowercase).
"""

from __future__ import annotations

import re

from .base import BUILTINS, KINDS, MAX_PATTERN_LENGTH, PatternError
from .detectors import DETECTORS
from .folding import WORD, fold, fold_char

_PROBES = ("", " ", "a", "hello world", "0", "a.b")


def validate(kind: str, pattern: str) -> None:
    """Raise ``PatternError`` with a sentence for a moderator if the rule cannot be used."""
    if kind not in KINDS:
        raise PatternError(f"Unknown rule kind {kind!r}: use word, phrase or regex.")
    if pattern is None or not pattern.strip():
        raise PatternError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"The pattern is too long: {len(pattern)} characters, the limit is {MAX_PATTERN_LENGTH}."
        )
    if kind == "regex":
        _validate_regex(pattern)
        return
    words = WORD.findall(fold(pattern)[0])
    if not words:
        raise PatternError("The pattern has no letters or digits to match.")
    if kind == "word" and len(words) > 1:
        raise PatternError(
            f"A word rule matches one whole word, but {pattern.strip()!r} is {len(words)} words: "
            "use a phrase rule."
        )


def _validate_regex(pattern: str) -> None:
    if pattern.startswith("@") and re.fullmatch(r"@[a-z_]+", pattern):
        if pattern not in DETECTORS:
            raise PatternError(
                f"Unknown built-in detector {pattern!r}: the built-ins are "
                f"{' and '.join(BUILTINS)} (to match a literal '@', write \\@)."
            )
        return
    try:
        compiled = re.compile(pattern, regex_flags(pattern))
    except re.error as err:
        where = f" at position {err.pos}" if err.pos is not None else ""
        raise PatternError(f"Invalid regular expression: {err.msg}{where}") from None
    except (OverflowError, RecursionError, ValueError) as err:
        raise PatternError(f"Invalid regular expression: {err}") from None
    for probe in _PROBES:
        m = compiled.search(probe)
        if m is not None and m.start() == m.end():
            raise PatternError("The regular expression matches empty text, so it would match every message.")
    position = _nested_repeat(pattern)
    if position is not None:
        raise PatternError(
            "The regular expression repeats a group that itself repeats (like '(a+)+'), which can take "
            f"exponential time on some messages: rewrite it without the nested repeat (position {position})."
        )
    literal = re.sub(r"\\.|\[(?:\\.|[^\]])*\]", "", pattern)  # drop escapes and character classes
    if re.search(r"[^\W\d_]'[^\W\d_]", literal):
        raise PatternError(
            "Regular expressions run on folded text, where apostrophes inside words are removed: "
            "write dont, not don't."
        )
    for ch in literal:
        if ch.isalpha() and not ch.isascii() and fold_char(ch) != ch:
            raise PatternError(
                f"Regular expressions run on folded text, which has no {ch!r}: write "
                f"{fold_char(ch)!r} instead (accents and look-alike letters are folded)."
            )


def regex_flags(pattern: str) -> int:
    # The screening form is lowercase; uppercase letters in a pattern (outside
    # escapes such as \S \W \D \B) ask for case-insensitive matching.
    return re.IGNORECASE if re.search(r"[A-Z]", re.sub(r"\\.", "", pattern)) else 0


def _nested_repeat(pattern: str) -> int | None:
    """Position of a group with an unbounded repeat inside that is itself
    repeated without bound ("(a+)+", "(\\w+\\s?)*"), or None.  A cheap scan,
    not a proof: it catches the classic catastrophic shapes."""
    stack = [False]  # per open group: does it contain an unbounded repeat?
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            stack.append(False)
            i += 1
            continue
        if c == ")":
            inner = stack.pop() if len(stack) > 1 else False
            unbounded, length = _quantifier_at(pattern, i + 1)
            possessive = length and i + 1 + length < n and pattern[i + 1 + length] == "+"
            if inner and unbounded and not possessive:
                return i + 1
            stack[-1] = stack[-1] or inner or unbounded
            i += 1 + length
            continue
        unbounded, length = _quantifier_at(pattern, i)
        if unbounded:
            stack[-1] = True
        i += max(length, 1)
    return None


def _quantifier_at(pattern: str, i: int) -> tuple[bool, int]:
    """(is it an unbounded repeat, its length) for the quantifier at ``i``."""
    if i >= len(pattern):
        return False, 0
    c = pattern[i]
    if c in "*+":
        return True, 1
    if c == "?":
        return False, 1
    if c == "{":
        m = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
        if m:
            return bool(m.group(2)) and not m.group(3), len(m.group(0))
    return False, 0
