"""The words a rule set is made of, for two readings that depend on them:

* typos: a word no dictionary knows ("suicdal", "kll", "overdsoe") reads as a
  rule word one edit away (a letter missing, added, changed, or two letters
  swapped), with the same first letter.  Found with a deletion index (the
  symmetric-delete method): every rule word is indexed under itself and each
  of its one-letter deletions, so a message word costs ``len(word) + 1`` dict
  look-ups, however many rules there are.
* censoring: a word with "*" in it ("k*ll", "k**l", "s*icide", "f***") reads
  as the rule words it can be, each "*" standing for one letter; an inflected
  censored word ("k*lling") is tried without its ending too.  Rule words are
  bucketed by length, so only words of the right length are compared.

A word with more than ``MAX_READINGS`` readings is too ambiguous to read.
Built once per rule set; read-only afterwards.
"""

from __future__ import annotations

import re

from . import language

MIN_TYPO_LENGTH = 4  # rule words shorter than this are not matched by typos ("die" ~ "dye", "dig" ...)
MAX_READINGS = 4
_ENDINGS = ("ing", "in", "ed", "es", "s", "er")


class Vocabulary:
    def __init__(self) -> None:
        self._canonical: dict[str, str] = {}  # folded rule word -> its canonical key
        self._deletions: dict[str, set[str]] = {}
        self._by_length: dict[int, list[str]] = {}

    def add(self, folded_word: str) -> None:
        if folded_word.isalpha() and folded_word not in language.ARTICLES:
            self._canonical.setdefault(folded_word, language.canonical(folded_word))

    def freeze(self) -> None:
        for word in self._canonical:
            self._by_length.setdefault(len(word), []).append(word)
            if len(word) >= MIN_TYPO_LENGTH:
                self._deletions.setdefault(word, set()).add(word)
                for k in range(len(word)):
                    self._deletions.setdefault(word[:k] + word[k + 1 :], set()).add(word)

    def __len__(self) -> int:
        return len(self._canonical)

    def typos(self, word: str) -> tuple[str, ...]:
        """Canonical keys of the rule words ``word`` is one edit away from."""
        if len(word) < MIN_TYPO_LENGTH - 1 or word in self._canonical:
            return ()
        found: set[str] = set()
        for probe in (word, *(word[:k] + word[k + 1 :] for k in range(len(word)))):
            for candidate in self._deletions.get(probe, ()):
                if candidate[0] == word[0] and _one_edit(word, candidate):
                    found.add(self._canonical[candidate])
        return tuple(sorted(found)) if 0 < len(found) <= MAX_READINGS else ()

    def wildcard(self, word: str) -> tuple[str, ...]:
        """Canonical keys of the rule words a censored ``word`` ("k*ll") can be."""
        if word.count("*") > len(word) // 2 or not any(c.isalpha() for c in word):
            return ()  # "****" or "a**": too little to go on
        found: set[str] = set()
        for ending in ("", *_ENDINGS):
            if ending and not (
                word.endswith(ending) and "*" not in word[-len(ending) :] and len(word) > len(ending) + 2
            ):
                continue
            stem = word[: len(word) - len(ending)] if ending else word
            pattern = re.compile("".join("[a-z]" if c == "*" else re.escape(c) for c in stem))
            for candidate in self._by_length.get(len(stem), ()):
                if pattern.fullmatch(candidate):
                    found.add(self._canonical[candidate])
            if found:
                break
        return tuple(sorted(found)) if 0 < len(found) <= MAX_READINGS else ()


def _one_edit(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` at most one insertion, deletion, substitution or swap apart?"""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]  # a swap
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]
