"""Refusing unusable rules at save time, with a sentence for a moderator.

``validate(kind, pattern)`` is what the admin, the rule pages and the pack
loader call; ``compile_regex`` is how a regex rule is compiled: with RE2, in
linear time, case-insensitive when written with capitals (the screening form is
lowercase).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .base import BUILTINS, KINDS, MAX_PATTERN_LENGTH, PatternError
from .detectors import DETECTORS
from .folding import WORD, fold, fold_char

if TYPE_CHECKING:
    re2: Any  # google-re2 publishes no type information (no stubs, no py.typed marker)
else:
    import re2

_PROBES = ("", " ", "a", "hello world", "0", "a.b")


def validate(kind: str, pattern: str) -> None:
    """Raise ``PatternError`` with a sentence for a moderator if the rule cannot be used."""
    if kind not in KINDS:
        raise PatternError(f"Unknown rule kind {kind!r}: use word, phrase or regex.")
    if pattern is None or not pattern.strip():
        raise PatternError("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"The pattern is too long: {len(pattern)} characters, the limit is {MAX_PATTERN_LENGTH}.")
    if kind == "regex":
        _validate_regex(pattern)
        return
    words = WORD.findall(fold(pattern)[0])
    if not words:
        raise PatternError("The pattern has no letters or digits to match.")
    if kind == "word" and len(words) > 1:
        raise PatternError(
            f"A word rule matches one whole word, but {pattern.strip()!r} is {len(words)} words: use a phrase rule."
        )


def _validate_regex(pattern: str) -> None:
    if pattern.startswith("@") and re.fullmatch(r"@[a-z_]+", pattern):
        if pattern not in DETECTORS:
            raise PatternError(
                f"Unknown built-in detector {pattern!r}: the built-ins are "
                f"{', '.join(BUILTINS)} (to match a literal '@', write \\@)."
            )
        return
    compiled = compile_regex(pattern)
    for probe in _PROBES:
        m = compiled.search(probe)
        if m is not None and m.start() == m.end():
            raise PatternError("The regular expression matches empty text, so it would match every message.")
    literal = re.sub(r"\\.|\[(?:\\.|[^\]])*\]", "", pattern)  # drop escapes and character classes
    if re.search(r"[^\W\d_]'[^\W\d_]", literal):
        raise PatternError(
            "Regular expressions run on folded text, where apostrophes inside words are removed: write dont, not don't."
        )
    for ch in literal:
        if ch.isalpha() and not ch.isascii() and fold_char(ch) != ch:
            raise PatternError(
                f"Regular expressions run on folded text, which has no {ch!r}: write "
                f"{fold_char(ch)!r} instead (accents and look-alike letters are folded)."
            )


# --- RE2: linear-time regular expressions ---------------------------------------
#
# Moderators' regular expressions run with RE2 (google-re2), whose matching time
# is linear in the text whatever the pattern: "(a+)+$" on 50,000 "a"s takes
# microseconds, where a backtracking engine takes longer than the universe's
# age.  The price: RE2 has no back-references and no lookaround; such patterns
# are refused when saved, with a sentence saying so.

_BACKREF = re.compile(r"(?<!\\)(?:\\\\)*\\(?:[1-9]|g<)|\(\?P=")
_LOOKAROUND = re.compile(r"(?<!\\)(?:\\\\)*\(\?<?[=!]")

Regexp = Any  # a compiled google-re2 pattern (search, finditer, as re.Pattern's); the library publishes no types


def _re2_options(pattern: str) -> Any:  # a google-re2 Options (untyped library)
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the moderator, not to stderr
    options.case_sensitive = not _has_capitals(pattern)
    return options


def compile_regex(pattern: str) -> Regexp:
    """A moderator's pattern compiled with RE2 (linear time), or ``PatternError``."""
    if _BACKREF.search(pattern):
        raise PatternError(
            "Back-references (\\1, (?P=name)) are not supported: regular expressions run with RE2, which "
            "guarantees linear time and so cannot match them. Rewrite the rule without the back-reference."
        )
    if _LOOKAROUND.search(pattern):
        raise PatternError(
            "Lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported: regular expressions run "
            "with RE2, which guarantees linear time. Use \\b, or list the exceptions as exempt phrases."
        )
    try:
        return re2.compile(pattern, _re2_options(pattern))
    except re2.error as err:
        raise PatternError(f"Invalid regular expression: {_explain(pattern, err)}") from None
    except (OverflowError, RecursionError, ValueError, TypeError) as err:
        raise PatternError(f"Invalid regular expression: {err}") from None


class _Unavailable:
    """Stands in for a set RE2 could not build: ``Match`` says "run every rule"."""

    @staticmethod
    def Match(text: str) -> None:  # noqa: N802 - RE2's name
        return None


def regex_set(patterns: list[str]) -> RegexSet:
    """One RE2 ``Set`` of already validated patterns; ``Match(text)`` lists the
    indices of those that match somewhere in ``text`` (one linear pass)."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    found = re2.Set.SearchSet(options)
    try:
        for index, pattern in enumerate(patterns):
            if found.Add(f"(?i:{pattern})" if _has_capitals(pattern) else pattern) != index:
                return _Unavailable()
        found.Compile()
    except (re2.error, ValueError, TypeError):
        return _Unavailable()
    return _SafeSet(found)


class _SafeSet:
    __slots__ = ("_set",)

    def __init__(self, compiled_set: Any):  # a compiled google-re2 Set (untyped library)
        self._set = compiled_set

    def Match(self, text: str) -> Sequence[int] | None:  # noqa: N802 - RE2's name
        try:
            return self._set.Match(text) or ()  # the wrapper gives None for "no rule matches"
        except (re2.error, ValueError, TypeError, MemoryError):
            return None


RegexSet = _SafeSet | _Unavailable  # ``Match(text)``: the indices of the patterns found, or None for "run every rule"


def _explain(pattern: str, err: Exception) -> str:
    """Python's wording of a syntax error (it names the position) when it has one."""
    try:
        re.compile(pattern)
    except re.error as py_err:
        where = f" at position {py_err.pos}" if py_err.pos is not None else ""
        return f"{py_err.msg}{where}"
    except (OverflowError, RecursionError, ValueError):
        pass
    message = err.args[0] if err.args else str(err)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{message} (RE2 syntax)"


def _has_capitals(pattern: str) -> bool:
    # The screening form is lowercase; uppercase letters in a pattern (outside
    # escapes such as \S \W \D \B) ask for case-insensitive matching.
    return re.search(r"[A-Z]", re.sub(r"\\.", "", pattern)) is not None
