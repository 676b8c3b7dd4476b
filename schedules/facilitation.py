"""The facilitator's tools around a circle: who may lead circles (a site
permission a moderator grants), making a circle, editing it, rotating its
invite code, and the member list with roles and mutes.

The permission ``schedules.lead_circles`` is declared on ``SessionSeries`` so
this issue adds no community migration; community's own rules (joining,
roles, sanctions) are still called from ``community.services``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from community import services as community_services
from community.models import Circle, Membership
from community.permissions import Action, check, is_site_moderator
from core.errors import DomainError, ErrorCode
from moderation.models import AuditEntry
from realtime import publish
from realtime.events import Notice

LEAD_PERMISSION = "schedules.lead_circles"
EDITABLE = ("name", "description", "topic", "capacity", "access", "open_between_sessions", "retention_days")


def _bad(message: str, field: str) -> DomainError:
    return DomainError(ErrorCode.BAD_SCHEDULE, message, field=field)


def may_lead(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(LEAD_PERMISSION))


def set_leader(*, by: User, user: User, on: bool) -> None:
    """Let ``user`` create circles (and take them off again).  Site moderators
    and superusers only (FORBIDDEN)."""
    if not (by.is_superuser or is_site_moderator(by)):
        raise DomainError(ErrorCode.FORBIDDEN, "Only site moderators may choose who leads circles.")
    app_label, codename = LEAD_PERMISSION.split(".")
    perm = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    if on:
        user.user_permissions.add(perm)
    else:
        user.user_permissions.remove(perm)


def _invite_code() -> str:
    return secrets.token_urlsafe(9)


def _validate(fields: dict) -> dict:
    clean = {k: v for k, v in fields.items() if k in EDITABLE}
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()[:80]
        if not clean["name"]:
            raise _bad("Please give the circle a name.", "name")
    if "capacity" in clean and not 2 <= int(clean["capacity"]) <= 500:
        raise _bad("A circle holds 2 to 500 members.", "capacity")
    if "access" in clean and clean["access"] not in Circle.Access.values:
        raise _bad("Choose open or invite only.", "access")
    if clean.get("retention_days") is not None and not 1 <= int(clean["retention_days"]) <= 3650:
        raise _bad("Keep messages 1 to 3650 days, or leave it empty to keep them.", "retention_days")
    return clean


@transaction.atomic
def create_circle(*, user: User, **fields) -> Circle:
    """A new circle led by ``user`` (who needs ``lead_circles``): they join it as
    its facilitator.  An invite-only circle gets a fresh code."""
    if not may_lead(user):
        raise DomainError(ErrorCode.FORBIDDEN, "Ask a moderator to let you lead circles first.")
    clean = _validate({"capacity": 20, **fields})
    if "name" not in clean:
        raise _bad("Please give the circle a name.", "name")
    base = slugify(clean["name"])[:60] or "circle"
    slug, n = base, 1
    while Circle.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    circle = Circle.objects.create(
        slug=slug, invite_code=_invite_code() if clean.get("access") == Circle.Access.INVITE else "", **clean
    )
    membership = community_services.join_circle(user=user, circle=circle, invite_code=circle.invite_code)
    community_services.set_role(circle=circle, membership=membership, role=Membership.Role.FACILITATOR)
    return circle


@transaction.atomic
def update_circle(*, user: User, circle: Circle, **fields) -> Circle:
    """Edit the circle (its facilitators: SCHEDULE_SESSION).  Turning a circle
    invite-only gives it a code; the room's open state follows ``open_between_sessions``
    on the scheduler's next transition."""
    check(user, Action.SCHEDULE_SESSION, circle)
    clean = _validate(fields)
    circle = Circle.objects.select_for_update().get(pk=circle.pk)
    for name, value in clean.items():
        setattr(circle, name, value)
    if circle.access == Circle.Access.INVITE and not circle.invite_code:
        circle.invite_code = _invite_code()
    circle.save()
    return circle


def rotate_invite_code(*, user: User, circle: Circle) -> str:
    """A new invite code; the old one stops working."""
    check(user, Action.SCHEDULE_SESSION, circle)
    code = _invite_code()
    Circle.objects.filter(pk=circle.pk).update(invite_code=code)
    return code


@dataclass(frozen=True)
class MemberRow:
    membership_id: int
    alias: str
    role: str
    muted_until: datetime | None
    number: str = ""  # the opaque member number staff use (never the handle)


def members(*, user: User, circle: Circle) -> list[MemberRow]:
    """The circle's active members by alias, with role and any mute running
    (never a handle).  Facilitators of the circle (MUTE)."""
    check(user, Action.MUTE, circle)
    now = timezone.now()
    rows = Membership.objects.filter(circle=circle, left_at__isnull=True, banned=False, user__isnull=False)
    return [
        MemberRow(m.pk, m.alias, m.role, m.muted_until if m.is_muted(now) else None, m.member_number)
        for m in rows.order_by("alias")
    ]


def unmute(*, user: User, circle: Circle, membership_id: int) -> Membership:
    """End a member's mute now (MUTE)."""
    check(user, Action.MUTE, circle)
    target = Membership.objects.filter(circle=circle, pk=membership_id).first()
    if target is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That member is not in this circle.")
    with transaction.atomic():
        target.muted_until = None
        target.save(update_fields=["muted_until"])
        AuditEntry.objects.record(
            actor=user, action=AuditEntry.Action.MUTE, circle=circle, target_membership=target, minutes=0, unmute=True
        )
        publish.to_member(circle.pk, target.pk, Notice(code="unmuted", message="You can post again."))
    return target
