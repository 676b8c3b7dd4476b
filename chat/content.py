"""The live room's messages as moderation sees them (``moderation.content``).

Registered by ``ChatConfig.ready``: reports, the review queue and the review
actions act on messages through these hooks, so moderation never imports chat.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from . import services
from .models import Message

VISIBLE = Message.Status.PUBLISHED


class MessageActions:
    def state(self, item: Message) -> str:
        return str(item.status)

    def is_hidden(self, item: Message) -> bool:
        return item.hidden

    def set_hidden(self, item: Message, *, hidden: bool) -> None:
        services.set_hidden(item, hidden=hidden)

    def remove(self, item: Message, *, reason: str) -> None:
        services.do_remove_message(item, reason=reason)

    def publish_held(self, item: Message) -> None:
        services.publish_held(item)

    def erase_text(self, item: Message) -> None:
        services.erase_text(item)

    def context(self, items: list[Message], around: int) -> dict[int, tuple[list[Message], list[Message]]]:
        """Two queries for any number of items: the edges of each item's window
        (the ``around``-th published neighbour on each side), then every
        published message inside those windows."""
        out: dict[int, tuple[list[Message], list[Message]]] = {m.pk: ([], []) for m in items}
        if not items or around < 1:
            return out
        published = Message.objects.filter(circle_id=OuterRef("circle_id"), status=VISIBLE).order_by()

        def edge(before: bool) -> Coalesce:
            side = published.filter(seq__lt=OuterRef("seq")) if before else published.filter(seq__gt=OuterRef("seq"))
            seqs = side.order_by("-seq" if before else "seq").values("seq")
            # the around-th neighbour, else the farthest there is, else the item itself
            options = [Subquery(seqs[k : k + 1]) for k in range(around - 1, -1, -1)]
            return Coalesce(*options, F("seq"))

        edges = Message.objects.filter(pk__in=[m.pk for m in items]).annotate(lo=edge(True), hi=edge(False))
        windows = {row.pk: (row.circle_id, row.lo, row.hi) for row in edges.only("pk", "circle_id", "seq")}
        span = Q()
        for circle_id, lo, hi in windows.values():
            span |= Q(circle_id=circle_id, seq__gte=lo, seq__lte=hi)
        near: dict[int, list[Message]] = defaultdict(list)
        for message in Message.objects.filter(span, status=VISIBLE).order_by("circle_id", "seq"):
            near[message.circle_id].append(message)
        for item in items:
            circle_id, lo, hi = windows[item.pk]
            row = near[circle_id]
            before = [m for m in row if lo <= m.seq < item.seq]
            after = [m for m in row if item.seq < m.seq <= hi]
            out[item.pk] = (before[-around:], after[:around])
        return out


# --- a member's own data (community.memberdata) -------------------------------------


def export_messages(user) -> list[dict]:
    """The member's messages in every circle, with what they said (their download)."""
    rows = (
        Message.objects.filter(author__user=user)
        .select_related("circle")
        .order_by("created_at")
        .only("circle__name", "seq", "alias", "body", "status", "created_at", "edited_at")
    )
    return [
        {
            "circle": m.circle.name,
            "id": m.seq,
            "alias": m.alias,
            "text": m.body,
            "status": m.status,
            "at": m.created_at.isoformat(),
            "edited_at": m.edited_at.isoformat() if m.edited_at else None,
        }
        for m in rows
    ]


def export_reactions(user) -> list[dict]:
    from .models import Reaction

    rows = Reaction.objects.filter(member__user=user).select_related("message__circle").order_by("created_at")
    return [
        {"circle": r.message.circle.name, "message": r.message.seq, "reaction": r.kind, "at": r.created_at.isoformat()}
        for r in rows
    ]


def export_seats(user) -> list[dict]:
    """Each circle's room as this member keeps it: how far they have read and
    the aliases they chose not to see."""
    from .models import Seat

    rows = Seat.objects.filter(membership__user=user).select_related("membership__circle").order_by("pk")
    return [
        {"circle": s.membership.circle.name, "last_read": s.last_read, "hidden_aliases": list(s.hidden)} for s in rows
    ]


def erase_messages(user) -> int:
    """Take the member's messages out of every room and forget what they said
    (kept until decided where an open moderation case needs it)."""
    count = 0
    for message in Message.objects.filter(author__user=user).exclude(status=Message.Status.DELETED):
        services.erase_by_author(message)
        count += 1
    return count
