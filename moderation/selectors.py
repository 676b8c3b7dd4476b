"""Reads for the moderation pages: the queue, rule statistics, the audit log."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from community.models import Circle, Membership
from community.permissions import is_site_moderator
from realtime.events import CrisisAlertView

from . import content, screening
from .models import AuditEntry, Flag, KeywordRule, Report

TRUE_POSITIVE = ("remove", "warn", "mute", "ban")
FALSE_POSITIVE = ("approve", "dismiss")
CONTEXT = 2


def reviewable_circles(user) -> QuerySet[Circle]:
    """Circles whose queue ``user`` may work: every circle for site moderators,
    else the circles where they hold the moderator role."""
    if is_site_moderator(user):
        return Circle.objects.all()
    return Circle.objects.filter(
        memberships__user=user,
        memberships__role=Membership.Role.MODERATOR,
        memberships__left_at__isnull=True,
        memberships__banned=False,
    )


QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueItem:
    """One review-queue item as the page shows it."""

    flag: Flag
    before: list[Any]  # published messages just before it, oldest first
    after: list[Any]  # and just after
    member_number: str  # the author's opaque number, never the handle


def review_queue(user) -> list[QueueItem]:
    """Open items, urgent first, then oldest first; each with the published
    messages around it.  A fixed number of queries however long the queue."""
    flags = list(
        Flag.objects.filter(status=Flag.Status.OPEN, circle__in=reviewable_circles(user))
        .select_related("circle", "message", "message__author", "rule", "acknowledged_by")
        .prefetch_related("reports")
        .order_by("-urgent", "created_at")[:QUEUE_LIMIT]
    )
    around = content.messages().context([flag.message for flag in flags], CONTEXT)
    return [
        QueueItem(
            flag,
            *around[flag.message.pk],
            member_number=flag.message.author.member_number if flag.message.author else "—",
        )
        for flag in flags
    ]


def rules_with_stats() -> QuerySet[KeywordRule]:
    """Every rule with its hit count and how moderators judged the hit messages."""
    return KeywordRule.objects.select_related("circle", "updated_by").annotate(
        hit_count=Count("hits", distinct=True),
        judged_right=Count("hits", filter=Q(hits__message__flag__resolution__in=TRUE_POSITIVE), distinct=True),
        judged_wrong=Count("hits", filter=Q(hits__message__flag__resolution__in=FALSE_POSITIVE), distinct=True),
    )


def precision(rule) -> float | None:
    judged = rule.judged_right + rule.judged_wrong
    return None if judged == 0 else rule.judged_right / judged


@dataclass(frozen=True)
class RuleRow:
    """One line of the rules page."""

    rule: KeywordRule
    precision: float | None
    recent_hits: list[Any]  # a shadow rule's latest hits


def rule_rows() -> list[RuleRow]:
    return [
        RuleRow(rule, precision(rule), list(rule.hits.select_related("message")[:3]) if rule.shadow else [])
        for rule in rules_with_stats()
    ]


def audit_log(*, action: str = "", circle: str = "", role: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor", "circle", "target_membership", "target_message")
    if action:
        entries = entries.filter(action=action)
    if circle:
        entries = entries.filter(circle__slug=circle)
    if role:
        entries = entries.filter(actor_role=role)
    return entries


def reports_filed_by(user) -> list[dict[str, Any]]:
    """The reports a member filed, for their own download: where, which message,
    why, when, and whether a moderator has decided (never who else reported)."""
    rows = Report.objects.filter(reporter__user=user).select_related("flag__circle", "flag__message")
    return [
        {
            "circle": r.flag.circle.name,
            "message": r.flag.message.seq if r.flag.message_id else None,
            "reason": r.reason,
            "at": r.created_at.isoformat(),
            "status": "decided" if r.flag.status == Flag.Status.RESOLVED else "waiting for a moderator",
        }
        for r in rows.order_by("created_at")
    ]


def open_crisis_alerts(circle_id: int, limit: int = 20) -> list[CrisisAlertView]:
    """The circle's crisis alerts nobody has acknowledged yet, oldest first (a
    facilitator who opens the room sees them until someone is on it)."""
    flags = (
        Flag.objects.filter(circle_id=circle_id, urgent=True, acknowledged_at__isnull=True)
        .select_related("message", "message__circle")
        .order_by("created_at")[:limit]
    )
    return [screening.crisis_alert_payload(flag, flag.message, repeat=flag.escalated_at is not None) for flag in flags]
