"""Small helpers shared by the community tests (no fixtures here: see tests/conftest.py)."""

import itertools
import re
import uuid

import pytest

from community import aliases
from community.models import Membership
from core.errors import DomainError, ErrorCode

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
    """Ban ``membership`` through the sanction service moderation's review uses."""
    from community import services

    services.ban_membership(target=membership)


def mark_posted(membership: Membership) -> None:
    """Post one message as ``membership`` through the live room's service (sets has_posted)."""
    from chat import services as chat_services

    ctx = chat_services.open_room(user=membership.user, slug=membership.circle.slug)
    chat_services.post_message(ctx, client_id=uuid.uuid4().hex, body="Thank you all for listening.")


def mute(membership: Membership, *, by: Membership, minutes: int = 30) -> None:
    """Mute ``membership`` as the facilitator ``by`` would, through the live room's service."""
    from chat import services as chat_services

    ctx = chat_services.open_room(user=by.user, slug=by.circle.slug)
    chat_services.mute_member(ctx, alias=membership.alias, minutes=minutes, reason="a pause to cool down")
