"""Reads for the live room: history pages, the resume backlog, room state, and
a member's own place in it (what they have read, whom they hid)."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q

from community.models import Circle
from library.selectors import shared_card
from realtime import protocol
from realtime.events import MessageView

from .models import Message, Reaction, Room, Seat

VISIBLE = Message.Status.PUBLISHED


def message_payload(
    message: Message, counts: dict[str, int] | None = None, mine: list[str] | None = None
) -> MessageView:
    """The public shape of a message (``realtime.protocol.message_view``);
    ``mine``: the viewer's own reactions, only for a reply to that viewer; with
    the card of the library resource it shares, while that is published.  Lists
    load the resource with the message (``select_related``); a message that
    shares nothing costs nothing more."""
    return protocol.message_view(
        id=message.seq,
        alias=message.alias,
        html=message.html,
        at=message.created_at.isoformat(),
        reactions=counts or {},
        edited=message.edited_at.isoformat() if message.edited_at else None,
        hidden=message.hidden,
        role=message.author_role,
        mine=mine or (),
        resource=shared_card(message.resource) if message.resource_id is not None else None,
    )


def _with_counts(messages: list[Message], viewer: int | None = None) -> list[MessageView]:
    """Views with reaction counts, and the ``viewer``'s (a membership id) own
    reactions: one query for both, however many messages."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    mine: dict[int, list[str]] = defaultdict(list)
    if messages:
        rows = (
            Reaction.objects.filter(message__in=[m.pk for m in messages])
            .values("message_id", "kind")
            .annotate(n=Count("id"), own=Count("id", filter=Q(member_id=viewer or 0)))
            .order_by()
        )
        for row in rows:
            counts[row["message_id"]][row["kind"]] = row["n"]
            if row["own"]:
                mine[row["message_id"]].append(row["kind"])
    return [message_payload(m, counts.get(m.pk), mine.get(m.pk)) for m in messages]


def reaction_counts(message: Message) -> dict[str, int]:
    rows = Reaction.objects.filter(message=message).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def recent_history(circle_id: int, limit: int, viewer: int | None = None) -> list[MessageView]:
    """The last ``limit`` published messages, oldest first."""
    rows = list(
        Message.objects.filter(circle_id=circle_id, status=VISIBLE).select_related("resource").order_by("-seq")[:limit]
    )
    rows.reverse()
    return _with_counts(rows, viewer)


def history_before(circle_id: int, before: int, limit: int, viewer: int | None = None) -> list[MessageView]:
    rows = list(
        Message.objects.filter(circle_id=circle_id, status=VISIBLE, seq__lt=before)
        .select_related("resource")
        .order_by("-seq")[:limit]
    )
    rows.reverse()
    return _with_counts(rows, viewer)


def history_after(circle_id: int, since: int, limit: int, viewer: int | None = None) -> list[MessageView]:
    """Published messages with id > ``since``, oldest first (the resume rule)."""
    rows = list(
        Message.objects.filter(circle_id=circle_id, status=VISIBLE, seq__gt=since)
        .select_related("resource")
        .order_by("seq")[:limit]
    )
    return _with_counts(rows, viewer)


def room_state(circle: Circle, room: Room | None = None) -> dict[str, Any]:
    if room is None:
        room = Room.objects.filter(circle=circle).select_related("pinned", "pinned__resource").first()
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


def seat_of(membership) -> Seat | None:
    """The member's seat, when the membership was read with
    ``select_related("seat")`` (None: never used yet)."""
    try:
        return membership.seat
    except Seat.DoesNotExist:
        return None


def unread_counts(user) -> dict[int, int]:
    """Per circle (id) of ``user``'s active memberships: published messages by
    others, newer than the newest the member has seen (their ``Seat``; none
    until they first read the room) and since they joined.

    One query, however many circles, that reads only the unread messages (the
    room-order index from each seat's ``last_read`` on)."""
    if not (user and user.is_authenticated):
        return {}
    m = "circle__memberships__"
    rows = (
        Message.objects.filter(
            Q(author_id__isnull=True) | ~Q(author_id=F(f"{m}id")),
            **{
                f"{m}user": user,
                f"{m}left_at__isnull": True,
                f"{m}banned": False,
                "status": VISIBLE,
                "seq__gt": F(f"{m}seat__last_read"),
                "created_at__gte": F(f"{m}joined_at"),
            },
        )
        .values("circle_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["circle_id"]: row["n"] for row in rows}


# --- the schedule (issue 12): attendance -------------------------------------------


def members_active_between(circle_id: int, *, since: datetime, until: datetime) -> set[int]:
    """The memberships that took part in the room between ``since`` and ``until``
    (a session's attendance): posted, reacted, or read -- the page marks what it
    has shown every few seconds while it is open and in view and messages come
    (``mark_read``), so a member who only listened is counted too.  A member
    whose page showed nothing new in that time (the room silent) is not seen."""
    posted = Message.objects.filter(
        circle_id=circle_id, created_at__gte=since, created_at__lte=until, author__isnull=False
    ).values_list("author_id", flat=True)
    reacted = Reaction.objects.filter(
        message__circle_id=circle_id, created_at__gte=since, created_at__lte=until
    ).values_list("member_id", flat=True)
    read = Seat.objects.filter(
        membership__circle_id=circle_id, updated_at__gte=since, updated_at__lte=until
    ).values_list("membership_id", flat=True)
    return {pk for pk in posted if pk is not None} | set(reacted) | set(read)
