r"""Regex gates: run a regex rule only on messages that hold a word it requires.

At compile time the parsed pattern is searched for a word it cannot match
without (a literal word with a word boundary, a space or punctuation on both
sides, e.g. "suicide" in r"\b(?:commit|attempt)\s+suicide\b", or a choice of
such words, e.g. {"commit", "attempt"}).  The message's words are a set, so
finding which gated rules to run is one set intersection however many rules
there are.  Rules without such a word (or if the parser is unavailable) go
through one combined alternation instead.  Either way every match is found:
the gate is a necessary condition, never a filter on results.

``gate(pattern, flags)`` is the only entry point.
"""

from __future__ import annotations

import re

from .folding import key as _key

try:  # the standard library's regular-expression parser (private, but stable since 3.11)
    from re import _constants as _sre, _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons run every regex rule
    _sre = _sre_parse = None


def gate(pattern: str, flags: int) -> frozenset[str] | None:
    """Keys of which at least one is a word of every text the regex matches, or None."""
    if _sre_parse is None:
        return None
    try:
        words = _sequence_gate(list(_sre_parse.parse(pattern, flags)), depth=0)
    except Exception:  # noqa: BLE001 - an optimisation only: without a gate the rule always runs
        return None
    return frozenset(_key(w) for w in words) if words else None


_GATE_PRODUCT_LIMIT = 64


def _sequence_gate(items: list, depth: int) -> set[str] | None:
    """Required words of a sequence of parsed regex items (see the comment above)."""
    if len(items) == 1 and items[0][0] is _sre.SUBPATTERN:
        return _sequence_gate(list(items[0][1][-1]), depth)
    if len(items) == 1 and items[0][0] is _sre.BRANCH:  # a|b at the top: one gate per branch
        return _union_of_branches(items, 0, depth)
    candidates: list[set[str]] = []
    k = 0
    while k < len(items):
        if _literal_strings(items[k]) is None:
            k += 1
            continue
        first = k
        strings = {""}
        while k < len(items) and (more := _literal_strings(items[k])) is not None:
            strings = {a + b for a in strings for b in more}
            k += 1
            if len(strings) > _GATE_PRODUCT_LIMIT:
                strings = set()
                break
        if strings:
            choice = _required_word_of_each(strings, _left_bounded(items, first), _right_bounded(items, k - 1))
            if choice:
                candidates.append(choice)
    if candidates:
        return max(candidates, key=lambda words: (min(map(len, words)), -len(words)))
    if depth < 2:  # "\bA|\bB" is parsed as \b(?:A|B): gate each branch in its context
        for k, (op, _av) in enumerate(items):
            if op is _sre.BRANCH:
                return _union_of_branches(items, k, depth + 1)
    return None


def _union_of_branches(items: list, k: int, depth: int) -> set[str] | None:
    branches = items[k][1][1]
    if len(branches) > 16:
        return None
    gates = [_sequence_gate(items[:k] + list(branch) + items[k + 1:], depth) for branch in branches]
    return set().union(*gates) if all(gates) else None


def _required_word_of_each(strings: set[str], left_ok: bool, right_ok: bool) -> set[str] | None:
    """For each literal string, its longest word that stands alone in the folded text."""
    chosen = set()
    for string in strings:
        pieces = re.split(r"([^\W_]+)", string.lower())  # ["", word, separator, word, ""]
        usable = [
            pieces[n]
            for n in range(1, len(pieces), 2)
            if (pieces[n - 1] or left_ok) and (pieces[n + 1] or right_ok)
        ]
        if not usable:
            return None
        chosen.add(max(usable, key=len))
    return chosen


def _literal_strings(item) -> set[str] | None:
    """The strings a literal-only item can match ("a", "[ab]", "(?:x|yz)", "s?"), or None."""
    op, av = item
    if op is _sre.LITERAL:
        return {chr(av)}
    if op is _sre.IN:
        if all(o is _sre.LITERAL for o, _ in av):
            return {chr(a) for _, a in av}
        return None
    if op is _sre.SUBPATTERN:
        return _literal_sequence(list(av[-1]))
    if op is _sre.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            strings = _literal_sequence(list(branch))
            if strings is None:
                return None
            out |= strings
        return out if len(out) <= _GATE_PRODUCT_LIMIT else None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
        strings = _literal_sequence(list(av[2]))
        return None if strings is None else strings | {""}
    return None


def _literal_sequence(items: list) -> set[str] | None:
    strings = {""}
    for item in items:
        more = _literal_strings(item)
        if more is None:
            return None
        strings = {a + b for a in strings for b in more}
        if len(strings) > _GATE_PRODUCT_LIMIT:
            return None
    return strings


def _neighbour_index(items: list, k: int, step: int) -> int | None:
    """Index of the nearest element beside ``items[k]`` that consumes text."""
    k += step
    while 0 <= k < len(items) and items[k][0] in (_sre.ASSERT, _sre.ASSERT_NOT):
        k += step
    return k if 0 <= k < len(items) else None


def _left_bounded(items: list, k: int) -> bool:
    """Does whatever precedes ``items[k]`` end a word (\b, ^, a space, punctuation)?"""
    j = _neighbour_index(items, k, -1)
    if j is None:
        return False  # the pattern's own start can fall inside a word
    if _is_boundary(items[j]):
        return True
    if _is_optional(items[j]) and _edge_is_boundary(list(items[j][1][2]), -1):
        return _left_bounded(items, j)  # "(?:so\s+)?word": either way a boundary precedes
    return False


def _right_bounded(items: list, k: int) -> bool:
    j = _neighbour_index(items, k, +1)
    if j is None:
        return False
    if _is_boundary(items[j]):
        return True
    if _is_optional(items[j]) and _edge_is_boundary(list(items[j][1][2]), 0):
        return _right_bounded(items, j)
    return False


def _is_optional(item) -> bool:
    return item[0] in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and item[1][0] == 0


def _edge_is_boundary(items: list, edge: int) -> bool:
    """Is the first (edge 0) or last (edge -1) element of ``items`` always a boundary?"""
    if not items:
        return False
    op, av = items[edge]
    if op is _sre.BRANCH:
        return all(_edge_is_boundary(list(branch), edge) for branch in av[1])
    if op is _sre.SUBPATTERN:
        return _edge_is_boundary(list(av[-1]), edge)
    return _is_boundary(items[edge])


def _is_boundary(item) -> bool:
    """Does ``item`` only match where a word ends (\b, ^, $, spaces, punctuation)?"""
    op, av = item
    if op is _sre.AT:
        return str(av) in ("AT_BOUNDARY", "AT_BEGINNING", "AT_BEGINNING_STRING", "AT_END", "AT_END_STRING")
    if op is _sre.LITERAL:
        return not chr(av).isalnum()
    if op is _sre.IN:
        return all(
            (o is _sre.CATEGORY and str(a) in ("CATEGORY_SPACE", "CATEGORY_NOT_WORD"))
            or (o is _sre.LITERAL and not chr(a).isalnum())
            for o, a in av
        )
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
        return av[0] >= 1 and len(av[2]) == 1 and _is_boundary(av[2][0])
    return False
