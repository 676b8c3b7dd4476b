"""Reads for the live room: history pages, the resume backlog, room state, and
a member's own place in it (what they have read, whom they hid)."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q

from community.models import Circle, Membership
from core.prepared import Prepared
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


# What every socket's connect reads (``hello``), compiled once per worker thread
# (core.prepared): at a session's start every member connects at once.
_REACTIONS = Prepared(
    lambda ids, viewer: (
        Reaction.objects.filter(message__in=ids)
        .values_list("message_id", "kind")
        .annotate(n=Count("id"), own=Count("id", filter=Q(member_id=viewer)))
        .order_by()
    ),
    pad_lists=True,
)
_RECENT = Prepared(
    lambda circle_id, *, limit: (
        Message.objects.filter(circle_id=circle_id, status=VISIBLE).select_related("resource").order_by("-seq")[:limit]
    )
)
_AFTER = Prepared(
    lambda circle_id, since, *, limit: (
        Message.objects.filter(circle_id=circle_id, status=VISIBLE, seq__gt=since)
        .select_related("resource")
        .order_by("seq")[:limit]
    )
)
_ROOM = Prepared(
    lambda circle_id: Room.objects.filter(circle_id=circle_id).select_related("pinned", "pinned__resource")[:1]
)
_CIRCLE_BY_SLUG = Prepared(lambda slug: Circle.objects.filter(slug=slug)[:1])
_ROOM_MEMBER = Prepared(
    lambda membership_id: Membership.objects.select_related("circle", "seat").filter(pk=membership_id)[:1]
)
_MEMBERSHIP_OF = Prepared(
    lambda user_id, circle_id: Membership.objects.filter(user_id=user_id, circle_id=circle_id).order_by("pk")[:1]
)
_OWN_HELD = Prepared(
    lambda circle_id, member_id: Message.objects.filter(
        circle_id=circle_id, author_id=member_id, status=Message.Status.HELD
    ).order_by("seq")[:20]
)


def _with_counts(messages: list[Message], viewer: int | None = None) -> list[MessageView]:
    """Views with reaction counts, and the ``viewer``'s (a membership id) own
    reactions: one query for both, however many messages."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    mine: dict[int, list[str]] = defaultdict(list)
    if messages:
        for message_id, kind, n, own in _REACTIONS.rows([m.pk for m in messages], viewer or 0):
            counts[message_id][kind] = n
            if own:
                mine[message_id].append(kind)
    return [message_payload(m, counts.get(m.pk), mine.get(m.pk)) for m in messages]


def reaction_counts(message: Message) -> dict[str, int]:
    rows = Reaction.objects.filter(message=message).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def recent_history(circle_id: int, limit: int, viewer: int | None = None) -> list[MessageView]:
    """The last ``limit`` published messages, oldest first."""
    rows = _RECENT.models(circle_id, limit=limit)
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
    return _with_counts(_AFTER.models(circle_id, since, limit=limit), viewer)


def room_state(circle: Circle, room: Room | None = None) -> dict[str, Any]:
    if room is None:
        room = _ROOM.model(circle.pk)
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
    rows = _OWN_HELD.models(circle_id, membership_id)
    return [{"id": m.seq, "html": m.html, "at": m.created_at.isoformat()} for m in rows]


def circle_by_slug(slug: str) -> Circle | None:
    return _CIRCLE_BY_SLUG.model(slug)


def membership_of(user_id: int, circle_id: int) -> Membership | None:
    return _MEMBERSHIP_OF.model(user_id, circle_id)


def room_member(membership_id: int) -> Membership | None:
    """A membership read with its circle and seat (``seat_of``)."""
    return _ROOM_MEMBER.model(membership_id)


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
