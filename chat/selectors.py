"""Reads for the live room: history pages, the resume backlog, room state."""

from collections import defaultdict
from typing import Any

from django.db.models import Count

from community.models import Circle
from realtime import protocol
from realtime.events import MessageView

from .models import Message, Reaction, Room

VISIBLE = Message.Status.PUBLISHED


def message_payload(message: Message, counts: dict[str, int] | None = None) -> MessageView:
    """The public shape of a message (``realtime.protocol.message_view``)."""
    return protocol.message_view(
        id=message.seq,
        alias=message.alias,
        html=message.html,
        at=message.created_at.isoformat(),
        reactions=counts or {},
        edited=message.edited_at.isoformat() if message.edited_at else None,
        hidden=message.hidden,
    )


def _with_counts(messages: list[Message]) -> list[MessageView]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if messages:
        rows = (
            Reaction.objects.filter(message__in=[m.pk for m in messages])
            .values("message_id", "kind")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts[row["message_id"]][row["kind"]] = row["n"]
    return [message_payload(m, counts.get(m.pk)) for m in messages]


def reaction_counts(message: Message) -> dict[str, int]:
    rows = Reaction.objects.filter(message=message).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def recent_history(circle_id: int, limit: int) -> list[MessageView]:
    """The last ``limit`` published messages, oldest first."""
    rows = list(Message.objects.filter(circle_id=circle_id, status=VISIBLE).order_by("-seq")[:limit])
    rows.reverse()
    return _with_counts(rows)


def history_before(circle_id: int, before: int, limit: int) -> list[MessageView]:
    rows = list(Message.objects.filter(circle_id=circle_id, status=VISIBLE, seq__lt=before).order_by("-seq")[:limit])
    rows.reverse()
    return _with_counts(rows)


def history_after(circle_id: int, since: int, limit: int) -> list[MessageView]:
    """Published messages with id > ``since``, oldest first (the resume rule)."""
    rows = list(Message.objects.filter(circle_id=circle_id, status=VISIBLE, seq__gt=since).order_by("seq")[:limit])
    return _with_counts(rows)


def room_state(circle: Circle, room: Room | None = None) -> dict[str, Any]:
    if room is None:
        room = Room.objects.filter(circle=circle).select_related("pinned").first()
    pinned = room.pinned if room and room.pinned and room.pinned.status == VISIBLE else None
    return {
        "closed": circle.room_closed,
        "slow_mode": circle.slow_mode_seconds,
        "pinned": message_payload(pinned, reaction_counts(pinned)) if pinned else None,
        "last_id": room.last_published_seq if room else 0,
    }


def own_held(circle_id: int, membership_id: int) -> list[MessageView]:
    """The member's own messages waiting for a moderator (shown to them alone,
    so their screen can keep saying "waiting" across reloads), oldest first."""
    rows = Message.objects.filter(circle_id=circle_id, author_id=membership_id, status=Message.Status.HELD).order_by(
        "seq"
    )[:20]
    return [{"id": m.seq, "html": m.html, "at": m.created_at.isoformat()} for m in rows]
