"""Small helpers shared by the community tests (no fixtures here: see tests/conftest.py)."""

import itertools
import re

import pytest

from community import aliases
from community.errors import DomainError, ErrorCode
from community.models import Membership

ALIAS_RE = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")
ALL_ALIASES = [f"{a} {n}" for a, n in itertools.product(aliases.ADJECTIVES, aliases.NOUNS) if a != n]


def is_alias(value: str) -> bool:
    """A valid alias: two capitalised words, an adjective then a noun from the lists."""
    if not ALIAS_RE.match(value):
        return False
    adjective, noun = value.split(" ")
    return adjective in aliases.ADJECTIVES and noun in aliases.NOUNS and adjective != noun


def refuse(code: ErrorCode, call, **kwargs) -> DomainError:
    """Run a call that must be refused with ``code``; return the error."""
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.message
    return caught.value


def snapshot(circle) -> list[tuple]:
    """Every membership row of the circle, to prove a refusal changed nothing."""
    return list(
        Membership.objects.filter(circle=circle)
        .order_by("pk")
        .values_list("pk", "user_id", "role", "alias", "left_at", "banned", "has_posted", "joined_at")
    )


def ban(membership: Membership) -> None:
    # No ban service exists in community.services yet (moderation's review actions are
    # being built); a direct update stands in for it until a ban service lands.
    Membership.objects.filter(pk=membership.pk).update(banned=True)


def mark_posted(membership: Membership) -> None:
    # chat.services.post_message (which sets has_posted) is still being built and not
    # committed; a direct update stands in for a first post until it lands.
    Membership.objects.filter(pk=membership.pk).update(has_posted=True)
