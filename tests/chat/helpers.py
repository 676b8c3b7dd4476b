"""Small sync helpers for the live-room tests (call them through database_sync_to_async)."""

from chat.models import Message
from community.models import Membership
from moderation.models import AuditEntry


def ban(membership: Membership) -> None:
    # No ban service exists yet (moderation's review actions are still to come);
    # a direct update stands in for it, as in tests/community/helpers.py.
    Membership.objects.filter(pk=membership.pk).update(banned=True)


def message_count(circle=None) -> int:
    qs = Message.objects.all() if circle is None else Message.objects.filter(circle=circle)
    return qs.count()


def audit_actions(circle) -> list[str]:
    """The circle's audit log, oldest first, as action names."""
    return list(AuditEntry.objects.filter(circle=circle).order_by("created_at", "id").values_list("action", flat=True))


def stored(circle, seq: int) -> Message:
    return Message.objects.get(circle=circle, seq=seq)
