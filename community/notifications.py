"""In-app notifications: one place that writes them and tells a connected member.

Schedules (reminders, "starting now", check-ins, wait-list seats), moderation
(a report decided) and facilitators' follow-ups all call ``notify``.  A
notification with a ``key`` is written once per account and key, however many
processes or retries ask (a scheduler run twice sends one reminder).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from realtime import publish
from realtime.events import NotificationAdded

from .models import Circle, Membership, Notification

MAX_LIST = 50


def notify(
    *, user: User, kind: str, text: str, link: str = "", circle: Circle | None = None, key: str = ""
) -> Notification | None:
    """Write a notification for ``user`` (None when ``key`` was used before) and,
    on commit, show it live on their open sockets in ``circle``'s room."""
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user, kind=kind, text=text[:300], link=link[:300], circle=circle, key=key
            )
    except IntegrityError:
        return None  # this key was notified already
    if circle is not None:
        membership = Membership.objects.filter(user=user, circle=circle, left_at__isnull=True).first()
        if membership is not None:
            publish.to_member(
                circle.pk,
                membership.pk,
                NotificationAdded(id=note.pk, kind=kind, text=note.text, link=note.link, unread=unread_count(user)),
            )
    return note


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def recent(user: User, limit: int = MAX_LIST) -> list[Notification]:
    return list(Notification.objects.filter(user=user).select_related("circle")[:limit])


def mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark ``user``'s notifications read (all of them when ``ids`` is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


def open_notification(*, user: User, note_id: int) -> str:
    """Mark ``user``'s notification read; the page it points to ("" if none, or
    if its link is not a path on this site).  NOT_FOUND if it is not theirs."""
    note = Notification.objects.filter(user=user, pk=note_id).first()
    if note is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That notification does not exist.")
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    return note.link if is_local_path(note.link) else ""


def is_local_path(link: str) -> bool:
    return link.startswith("/") and not link.startswith(("//", "/\\"))
