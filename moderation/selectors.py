"""Reads for the moderation pages: the queue, rule statistics, the audit log."""

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Q, QuerySet

from community.models import Circle, Membership
from community.permissions import is_site_moderator
from realtime.events import CrisisAlertView

from . import content, screening
from .decisions import DECISION_LABELS, may_decide
from .models import AuditEntry, Flag, KeywordRule, Report

TRUE_POSITIVE = ("remove", "warn", "mute", "ban", "checked_in")
FALSE_POSITIVE = ("approve", "dismiss")
CONTEXT = 2


def reviewable_circles(user) -> QuerySet[Circle]:
    """Circles whose queue ``user`` may see (``Action.VIEW_QUEUE``): every circle
    for site moderators, else the circles where they are a facilitator or a
    moderator.  What they may *decide* there is ``decisions_for``."""
    if is_site_moderator(user):
        return Circle.objects.all()
    return Circle.objects.filter(
        memberships__user=user,
        memberships__role__in=Membership.STAFF_ROLES,
        memberships__left_at__isnull=True,
        memberships__banned=False,
    )


QUEUE_LIMIT = 200
STATUSES = ("open", "decided")
KINDS = {
    "urgent": "Urgent (crisis)",
    "check_in": "Check-in (concern)",
    "rule": "Raised by a rule",
    "report": "Reported by members",
}
MAX_SEARCH = 200


@dataclass(frozen=True)
class QueueFilters:
    """What the queue page shows: open or decided items, of one kind, category or
    circle, whose message or report reasons contain ``q``."""

    status: str = "open"
    kind: str = ""
    category: str = ""
    circle: str = ""  # a circle's slug
    q: str = ""

    @property
    def active(self) -> bool:
        return self != QueueFilters()


@dataclass(frozen=True)
class QueueItem:
    """One review-queue item as the page shows it."""

    flag: Flag
    before: list[Any]  # published messages just before it, oldest first
    after: list[Any]  # and just after
    member_number: str  # the author's opaque number, never the handle
    state: str = content.PUBLISHED  # the message's state (moderation.content)
    decisions: tuple[tuple[str, str], ...] = ()  # what this reviewer may decide here
    own: bool = False  # about the reviewer's own message: someone else decides

    @property
    def check_in(self) -> bool:
        """A concern: a quiet check-in for the circle's facilitators."""
        return not self.flag.urgent and getattr(self.flag.message, "verdict", "") == "concern"

    @property
    def is_message(self) -> bool:
        return self.flag.message_id is not None

    @property
    def taken_down(self) -> bool:
        """Already out of the room (removed by a facilitator, or deleted by its author)."""
        return self.state in (content.REMOVED, content.DELETED)

    @property
    def room_link(self) -> str:
        """The message in context in its room (the room page anchors ``m-<id>``);
        "" for a library post (its own page is linked instead)."""
        if self.flag.message is None or self.flag.circle is None:
            return ""
        return f"{self.flag.circle.get_absolute_url()}#m-{self.flag.message.seq}"


def decisions_for(user, circle, membership, *, state: str, check_in: bool) -> tuple[tuple[str, str], ...]:
    """The decisions ``user`` may take on an item in ``circle`` (permissions table),
    minus approve for a message already taken down.  Concern items offer
    "checked in" first."""
    allowed = []
    for decision, label in DECISION_LABELS.items():
        if decision == Flag.Resolution.APPROVE and state in (content.REMOVED, content.DELETED):
            continue
        if may_decide(user, decision, circle, membership):
            allowed.append((decision, label))
    if check_in:
        allowed.sort(key=lambda pair: pair[0] != Flag.Resolution.CHECKED_IN)
    return tuple(allowed)


def review_queue(user, filters: QueueFilters | None = None) -> list[QueueItem]:
    """The items ``user`` may see, as ``filters`` ask (open ones by default: urgent
    first, then oldest first; decided ones newest first), each with the published
    messages around it and the decisions this user may take.  A fixed number of
    queries however long the queue and however many circles it spans."""
    filters = filters or QueueFilters()
    # Cases about the site-wide library (no circle) are for site moderators.
    scope = Q(circle__in=reviewable_circles(user))
    if is_site_moderator(user):
        scope |= Q(circle__isnull=True)
    rows = Flag.objects.filter(scope)
    if filters.status == "decided":
        rows = rows.filter(status=Flag.Status.RESOLVED).order_by("-handled_at", "-pk")
    else:
        rows = rows.filter(status=Flag.Status.OPEN).order_by("-urgent", "created_at", "pk")
    if filters.kind == "urgent":
        rows = rows.filter(urgent=True)
    elif filters.kind == "check_in":
        rows = rows.filter(urgent=False, message__verdict="concern")
    elif filters.kind == "rule":
        rows = rows.filter(source=Flag.Source.RULE)
    elif filters.kind == "report":
        rows = rows.filter(report_count__gt=0)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.circle:
        rows = rows.filter(circle__slug=filters.circle)
    if filters.q:
        q = filters.q[:MAX_SEARCH]
        rows = rows.filter(
            pk__in=Flag.objects.filter(
                Q(message__body__icontains=q)
                | Q(reports__reason__icontains=q)
                | Q(resource__title__icontains=q)
                | Q(resource__body__icontains=q)
            ).values("pk")
        )
    flags = list(
        rows.select_related(
            "circle", "message", "message__author", "resource", "resource__author", "rule", "acknowledged_by"
        ).prefetch_related("reports", "resource__tracks", "resource__prompts")[:QUEUE_LIMIT]
    )
    around = content.messages().context([flag.message for flag in flags if flag.message is not None], CONTEXT)
    mine = {m.circle_id: m for m in Membership.objects.filter(user=user)} if user.is_authenticated else {}
    items = []
    decided: dict[tuple[int | None, str, bool], tuple[tuple[str, str], ...]] = {}
    for flag in flags:
        author = flag.content.author
        state = content.actions_for(flag.content_kind).state(flag.content)
        before, after = around.get(flag.message_id, ([], [])) if flag.message_id is not None else ([], [])
        item = QueueItem(
            flag,
            before,
            after,
            member_number=author.member_number if author else "—",
            state=state,
            own=author is not None and author.user_id == user.pk,
        )
        key = (flag.circle_id, state, item.check_in)
        if key not in decided:
            decided[key] = decisions_for(
                user,
                flag.circle,
                mine.get(flag.circle_id) if flag.circle_id is not None else None,
                state=state,
                check_in=item.check_in,
            )
        items.append(replace(item, decisions=() if item.own else decided[key]))
    return items


def urgent_waiting(user) -> list[Flag]:
    """Open urgent items nobody has acknowledged yet, oldest first (the crisis
    banners at the top of the moderators' pages)."""
    return list(
        Flag.objects.filter(
            circle__in=reviewable_circles(user), status=Flag.Status.OPEN, urgent=True, acknowledged_at__isnull=True
        )
        .select_related("circle", "message", "resource")
        .order_by("created_at")[:20]
    )


def rules_with_stats() -> QuerySet[KeywordRule]:
    """Every rule with its hit count and how moderators judged the hit messages."""

    def judged(resolutions: tuple[str, ...]) -> Count:
        return Count(
            "hits",
            filter=Q(hits__message__flag__resolution__in=resolutions)
            | Q(hits__resource__flag__resolution__in=resolutions),
            distinct=True,
        )

    return KeywordRule.objects.select_related("circle", "updated_by").annotate(
        hit_count=Count("hits", distinct=True),
        judged_right=judged(TRUE_POSITIVE),
        judged_wrong=judged(FALSE_POSITIVE),
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


@dataclass(frozen=True)
class MyReport:
    """One report a member made, as their own page shows it."""

    circle: Circle | None  # None: a post in the site-wide library
    message_seq: int | None
    reason: str
    at: Any
    decided: bool


def my_reports(user) -> list[MyReport]:
    """The reports ``user`` made, newest first, with whether a moderator has
    decided (never how, never who else reported)."""
    rows = Report.objects.filter(reporter__user=user).select_related("flag", "flag__circle", "flag__message")
    return [
        MyReport(
            circle=r.flag.circle,
            message_seq=r.flag.message.seq if r.flag.message is not None else None,
            reason=r.reason,
            at=r.created_at,
            decided=r.flag.status == Flag.Status.RESOLVED,
        )
        for r in rows.order_by("-created_at")[:200]
    ]


def reports_filed_by(user) -> list[dict[str, Any]]:
    """The reports a member filed, for their own download: where, which message,
    why, when, and whether a moderator has decided (never who else reported)."""
    rows = Report.objects.filter(reporter__user=user).select_related("flag__circle", "flag__message")
    return [
        {
            "circle": r.flag.circle.name if r.flag.circle else "",
            "message": r.flag.message.seq if r.flag.message is not None else None,
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
