"""Moderator and rule-keeper actions.  Each writes its audit entry in the same
transaction; live effects go out through ``realtime.publish`` on commit."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from community import notifications
from community import services as community_services
from community.models import Membership, Notification
from community.permissions import Action, check, is_site_moderator, membership_for
from core.errors import DomainError, ErrorCode
from realtime import publish
from realtime.events import AlertCleared, QueueChanged, StaffAlert

from . import content, screening
from .models import AuditEntry, Flag, KeywordRule, RuleHit

REVIEW_ACTIONS = tuple(Flag.Resolution.values)
MAX_MUTE_MINUTES = 7 * 24 * 60


def actor_role(user, circle) -> str:
    if is_site_moderator(user):
        return "site moderator"
    membership = membership_for(user, circle) if circle is not None else None
    return membership.role if membership is not None else ""


# --- the review queue -----------------------------------------------------------


def review_flag(*, user, flag_id: int, action: str, reason: str, minutes: int | None = None) -> Flag:
    """Decide a queue item: approve, remove, warn, mute, ban or dismiss.

    The item is claimed with one conditional update, so of two moderators acting
    at once exactly one succeeds; the other gets ALREADY_HANDLED and nothing
    changes.  A reason is required and kept in the audit log.
    """
    if action not in REVIEW_ACTIONS:
        raise DomainError(ErrorCode.BAD_FRAME, "Choose one of: " + ", ".join(REVIEW_ACTIONS) + ".")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(ErrorCode.BAD_FRAME, "Please give a reason; it is kept in the audit log.")
    if action == Flag.Resolution.MUTE and not (minutes and 1 <= minutes <= MAX_MUTE_MINUTES):
        raise DomainError(ErrorCode.BAD_FRAME, f"Mute for 1 to {MAX_MUTE_MINUTES} minutes.")
    flag = Flag.objects.select_related("circle", "message", "message__author").filter(pk=flag_id).first()
    if flag is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That queue item does not exist.")
    check(user, Action.REVIEW, flag.circle)
    now = timezone.now()
    with transaction.atomic():
        claimed = Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(
            status=Flag.Status.RESOLVED, handled_at=now, handled_by=user, resolution=action
        )
        if not claimed:
            raise DomainError(ErrorCode.ALREADY_HANDLED, "Another moderator has already handled this item.")
        message = flag.message
        author: Membership | None = message.author
        messages = content.messages()
        state = messages.state(message)
        if action == Flag.Resolution.APPROVE:
            if state in content.UNPUBLISHED:
                messages.publish_held(message)
            elif messages.is_hidden(message):
                messages.set_hidden(message, hidden=False)
        elif action == Flag.Resolution.DISMISS:
            if messages.is_hidden(message):
                messages.set_hidden(message, hidden=False)
        else:
            if state in (content.PUBLISHED, *content.UNPUBLISHED):
                messages.remove(message, reason="removed")
            if author is not None and action == Flag.Resolution.WARN:
                community_services.warn_membership(target=author, text=reason)
            elif author is not None and action == Flag.Resolution.MUTE and minutes is not None:
                community_services.mute_membership(target=author, minutes=minutes)
            elif author is not None and action == Flag.Resolution.BAN:
                community_services.ban_membership(target=author)
        _tell_reporters(flag, now)
        if messages.state(message) == content.DELETED:
            messages.erase_text(message)  # its author deleted it; the case no longer needs it
        if flag.urgent and flag.acknowledged_at is None:
            Flag.objects.filter(pk=flag.pk).update(acknowledged_at=now, acknowledged_by=user)
            publish.to_roles(flag.circle_id, screening.STAFF_ROLES, AlertCleared(flag=flag.pk, by="A moderator"))
        AuditEntry.objects.record(
            actor=user,
            actor_role=actor_role(user, flag.circle),
            action=action,
            circle=flag.circle,
            target_membership=author,
            target_message=message,
            reason=reason,
            flag=flag.pk,
            minutes=minutes,
        )
        publish.to_staff(QueueChanged(change="handled", flag=flag.pk, urgent=flag.urgent))
    flag.refresh_from_db()
    return flag


def open_case(content) -> bool:
    """Whether an undecided review case is about ``content`` (a message)."""
    return Flag.objects.filter(message=content, status=Flag.Status.OPEN).exists()


def messages_under_open_cases(circle) -> QuerySet:
    """The pks of ``circle``'s messages an undecided review case is about."""
    return Flag.objects.filter(circle=circle, status=Flag.Status.OPEN).values("message_id")


def forget_text(content) -> None:
    """Drop what screening and the queue kept of ``content``'s text (its author
    deleted it, or it passed retention)."""
    RuleHit.objects.filter(message=content).update(matched="")
    Flag.objects.filter(message=content).update(matched="")


def _tell_reporters(flag: Flag, decided_at) -> None:
    """Each member who reported the item learns it was decided (not how, not by
    whom: a removal could tell its author who reported them)."""
    for report in flag.reports.select_related("reporter__user"):
        reporter = report.reporter.user
        if reporter is not None:
            notifications.notify(
                user=reporter,
                kind=Notification.Kind.REPORT_DECIDED,
                text="A moderator looked at a message you reported. Thank you for looking out for the circle.",
                circle=flag.circle,
                key=f"report:{report.pk}:decided:{decided_at.timestamp():.0f}",
            )


def acknowledge_crisis(*, user, flag_id: int, circle_id: int | None = None) -> Flag:
    """Record that a person has seen an urgent flag (it stops the re-alert); the
    alert leaves every staff screen in the circle's room (``AlertCleared``) and
    the moderators' queue (``QueueChanged``).  ``circle_id``: only an alert of
    that circle (acknowledged from its room)."""
    found = Flag.objects.select_related("circle", "message").filter(pk=flag_id, urgent=True)
    if circle_id is not None:
        found = found.filter(circle_id=circle_id)
    flag = found.first()
    if flag is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That alert does not exist.")
    membership = membership_for(user, flag.circle)
    if not (
        is_site_moderator(user) or (membership and membership.is_active and membership.role in Membership.STAFF_ROLES)
    ):
        raise DomainError(ErrorCode.FORBIDDEN, "Only this circle's facilitators and moderators can do that.")
    with transaction.atomic():
        claimed = Flag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=user
        )
        if not claimed:
            raise DomainError(ErrorCode.ALREADY_HANDLED, "Someone has already acknowledged this alert.")
        AuditEntry.objects.record(
            actor=user,
            actor_role=actor_role(user, flag.circle),
            action=AuditEntry.Action.ACK_CRISIS,
            circle=flag.circle,
            target_message=flag.message,
            flag=flag.pk,
        )
        # Their alias when they run this circle's room, else no name at all.
        in_room = membership is not None and membership.is_active and membership.role in Membership.STAFF_ROLES
        by = membership.alias if in_room and membership is not None else "A moderator"
        publish.to_roles(flag.circle_id, screening.STAFF_ROLES, AlertCleared(flag=flag.pk, by=by))
        publish.to_staff(QueueChanged(change="acknowledged", flag=flag.pk, urgent=True))
    flag.refresh_from_db()
    return flag


def escalate_overdue(now=None) -> list[int]:
    """Raise again, to every moderator, each urgent flag nobody acknowledged within
    ``CRISIS_ESCALATE_SECONDS``.  Each flag is raised again once; the conditional
    update makes that true across processes."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CRISIS_ESCALATE_SECONDS)
    raised = []
    overdue = Flag.objects.filter(
        urgent=True, acknowledged_at__isnull=True, escalated_at__isnull=True, created_at__lte=cutoff
    ).select_related("message", "message__circle")
    for flag in overdue:
        with transaction.atomic():
            if Flag.objects.filter(pk=flag.pk, escalated_at__isnull=True).update(escalated_at=now):
                alert = screening.crisis_alert_payload(flag, flag.message, repeat=True)
                publish.to_staff(StaffAlert(alert=alert))
                raised.append(flag.pk)
    return raised


# --- rules ------------------------------------------------------------------------


RULE_FIELDS = ("pattern", "kind", "category", "action", "circle", "exempt", "enabled", "shadow", "note")


def save_rule(*, user, rule: KeywordRule | None = None, **fields) -> KeywordRule:
    """Create or change a rule.  A bad pattern is refused here (``ValidationError``
    with the reason), never at match time.  Every process picks the change up
    within a second or two.  ``user=None`` is the system (management commands)."""
    if user is not None:
        check(user, Action.MANAGE_RULES)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule fields: {sorted(unknown)}")
    creating = rule is None or rule.pk is None
    rule = rule or KeywordRule()
    stored = None if creating else KeywordRule.objects.get(pk=rule.pk)  # the form may have changed ``rule``
    before = {name: str(getattr(stored, name)) for name in RULE_FIELDS} if stored else {}
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.updated_by, rule.updated_at = user, timezone.now()
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        changes = {
            name: [before.get(name), str(getattr(rule, name))]
            for name in RULE_FIELDS
            if creating or before.get(name) != str(getattr(rule, name))
        }
        AuditEntry.objects.record(
            actor=user,
            actor_role="site moderator" if user is not None else "system",
            action=AuditEntry.Action.RULE_CHANGE,
            circle=rule.circle,
            reason="created" if creating else "changed",
            rule=rule.pk,
            changes=changes,
        )
        screening.rules_changed()
    return rule


# --- identity -----------------------------------------------------------------------


def reveal_identity(*, user, membership_id: int, reason: str) -> str:
    """The handle behind an alias: site administrators only, with a written reason,
    always audited."""
    check(user, Action.REVEAL_IDENTITY)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(ErrorCode.BAD_FRAME, "Write the reason in a sentence (at least 10 characters).")
    membership = Membership.objects.select_related("user", "circle").filter(pk=membership_id).first()
    if membership is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such member.")
    handle = membership.user.username if membership.user else "(account deleted)"
    AuditEntry.objects.record(
        actor=user,
        actor_role="administrator",
        action=AuditEntry.Action.REVEAL,
        circle=membership.circle,
        target_membership=membership,
        reason=reason,
    )
    return handle
