"""What moderation may do to the content its cases are about.

Moderation sits below the apps whose content it screens: it keeps review
cases (``Flag``) about content it references by foreign key and never imports
those apps.  Each app that owns content registers, when Django starts
(``AppConfig.ready``), how its content is shown, hidden, removed, published
after review and put in context for the queue.  Reports, the review queue and
the review actions all go through these hooks: one way to hide a message.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

# The states content can be in, as moderation sees it.  BLOCKED: refused to the
# room but kept for a safety case (a crisis with a block); reviewed like HELD.
PUBLISHED, HELD, BLOCKED, REMOVED, DELETED = "published", "held", "blocked", "removed", "deleted"
UNPUBLISHED = (HELD, BLOCKED)


class ContentActions(Protocol):
    """How moderation acts on one kind of content.  Each call runs inside the
    caller's transaction; live effects go out on commit.

    Every kind's items carry ``author`` (the author's ``Membership``, or None)
    and ``circle_id`` (None for site-wide content), and are named by the
    ``Flag`` / ``RuleHit`` field of the same name as the kind ("message",
    "resource")."""

    def state(self, item: Any) -> str:
        """PUBLISHED, HELD, BLOCKED, REMOVED or DELETED."""

    def is_hidden(self, item: Any) -> bool:
        """Hidden pending review (after member reports)."""

    def set_hidden(self, item: Any, *, hidden: bool) -> None:
        """Hide the item behind "hidden pending review", or show it again."""

    def remove(self, item: Any, *, reason: str) -> None:
        """Take the item down everywhere it shows."""

    def publish_held(self, item: Any) -> None:
        """Publish an item that was held for review."""

    def erase_text(self, item: Any) -> None:
        """Forget what the item said (its author deleted it)."""

    def context(self, items: list[Any], around: int) -> dict[int, tuple[list[Any], list[Any]]]:
        """For each item (by pk): up to ``around`` published neighbours before and
        after it, in a bounded number of queries whatever the number of items."""


_registry: dict[str, ContentActions] = {}


def register(kind: str, actions: ContentActions) -> None:
    """Called once per content kind from the owning app's ``ready``."""
    _registry[kind] = actions


def actions_for(kind: str) -> ContentActions:
    try:
        return _registry[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no moderation hooks registered for {kind!r} content") from None


def messages() -> ContentActions:
    """The live room's messages (registered by the chat app)."""
    return actions_for("message")


def resources() -> ContentActions:
    """The library's resource posts (registered by the library app)."""
    return actions_for("resource")
