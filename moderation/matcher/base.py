"""The matcher's vocabulary: rule kinds, categories, actions, and the values that
cross its boundary (``RuleSpec`` in, ``Hit`` out, ``PatternError`` for a bad rule)."""

from __future__ import annotations

from dataclasses import dataclass

from ..verdicts import RULE_ACTIONS

KINDS = ("word", "phrase", "regex")
CATEGORIES = ("crisis", "sourcing", "medical-advice", "harassment", "personal-info", "spam")
ACTIONS = RULE_ACTIONS  # the one vocabulary (moderation.verdicts)
BUILTINS = ("@address", "@email", "@handle", "@identity", "@phone")
MAX_PATTERN_LENGTH = 500


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the matcher sees it (``KeywordRule`` rows become these)."""

    id: int
    pattern: str
    kind: str  # word | phrase | regex
    category: str
    action: str
    exempt: tuple[str, ...] = ()  # a hit overlapping an occurrence of one of these is ignored
    circle_id: int | None = None  # None: site-wide; else only that circle
    shadow: bool = False  # hits are reported, but the caller does not act on them


@dataclass(frozen=True)
class Hit:
    """One match of one rule.  ``start``/``end`` index the ORIGINAL text."""

    rule_id: int
    category: str
    action: str
    shadow: bool
    start: int
    end: int
    matched: str  # text[start:end]


class PatternError(ValueError):
    """A rule pattern that cannot be used; ``str(err)`` is a sentence for a moderator."""
