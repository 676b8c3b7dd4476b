"""Alias generation (community.aliases): pure functions, no database."""

import pytest

from community import aliases
from tests.community.helpers import ALL_ALIASES, is_alias


def test_random_alias_is_two_words_from_the_lists():
    """A random alias is an adjective and a noun from the word lists, never the same word twice."""
    for _ in range(200):
        assert is_alias(aliases.random_alias())


def test_random_alias_skips_a_word_repeated_as_adjective_and_noun():
    """A draw giving the same word twice ("Lark Lark") is drawn again."""
    draws = iter(["Lark", "Lark", "Amber", "Heron"])
    assert aliases.random_alias(choice=lambda words: next(draws)) == "Amber Heron"


def test_unique_alias_returns_one_not_taken():
    """unique_alias only returns an alias that is not already taken in the circle."""
    free = set(ALL_ALIASES[:100])
    taken = set(ALL_ALIASES[100:])
    for _ in range(50):
        assert aliases.unique_alias(taken) in free


def test_unique_alias_never_returns_the_avoided_alias():
    """unique_alias never returns ``avoid`` (a re-roll always changes the alias)."""
    avoid = ALL_ALIASES[0]
    taken = set(ALL_ALIASES[62:])  # 62 free aliases, just inside the allowed fill
    for _ in range(300):
        assert aliases.unique_alias(taken, avoid=avoid) != avoid


def test_unique_alias_refuses_when_the_alias_space_is_used_up():
    """An exhausted alias space raises ValueError instead of looping forever."""
    with pytest.raises(ValueError, match="alias"):
        aliases.unique_alias(set(ALL_ALIASES))
