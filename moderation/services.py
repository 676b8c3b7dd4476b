"""Moderator and rule-keeper actions.  Each writes its audit entry in the same
transaction; live effects go out through ``realtime.publish`` on commit."""

from dataclasses import dataclass
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

from . import content, matcher, screening
from .decisions import check_decision, check_review, may_review
from .models import AuditEntry, Flag, KeywordRule, RuleHit
from .reports import REOPEN_FIELDS, reopen
from .verdicts import Decision, Outcome, Risk, Verdict, decide

REVIEW_ACTIONS = tuple(Flag.Resolution.values)
MAX_MUTE_MINUTES = 7 * 24 * 60


def actor_role(user, circle) -> str:
    if is_site_moderator(user):
        return "site moderator"
    membership = membership_for(user, circle) if circle is not None else None
    return membership.role if membership is not None else ""


# --- the review queue -----------------------------------------------------------


def review_flag(*, user, flag_id: int, action: str, reason: str, minutes: int | None = None) -> Flag:
    """Decide a queue item: approve, check in, dismiss, remove, warn, mute or ban.

    The item is about a chat message or a library resource post; both are acted
    on through the hooks their app registered (``moderation.content``).  Each
    decision needs its permission in the item's circle (``DECISION_NEEDS``:
    facilitators may remove, mute, dismiss and check in); cases about the
    site-wide library (no circle) are the site moderators'.  Nobody decides an
    item about their own words (OWN_CASE), and content already taken down
    (removed by a facilitator, deleted by its author) cannot be approved
    (MESSAGE_GONE).  The item is claimed with one conditional update, so of two
    reviewers acting at once exactly one succeeds; the other gets
    ALREADY_HANDLED.  A refusal changes nothing.  A reason is required and kept
    in the audit log.
    """
    if action not in REVIEW_ACTIONS:
        raise DomainError(ErrorCode.BAD_FRAME, "Choose one of: " + ", ".join(REVIEW_ACTIONS) + ".")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(ErrorCode.BAD_FRAME, "Please give a reason; it is kept in the audit log.")
    if action == Flag.Resolution.MUTE and not (minutes and 1 <= minutes <= MAX_MUTE_MINUTES):
        raise DomainError(ErrorCode.BAD_FRAME, f"Mute for 1 to {MAX_MUTE_MINUTES} minutes.")
    flag = (
        Flag.objects.select_related("circle", "message", "message__author", "resource", "resource__author")
        .filter(pk=flag_id)
        .first()
    )
    if flag is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That queue item does not exist.")
    check_review(user, flag.circle)
    if flag.status != Flag.Status.OPEN:
        raise DomainError(ErrorCode.ALREADY_HANDLED, "Someone has already handled this item.")
    check_decision(user, action, flag.circle)
    item = flag.content
    author: Membership | None = item.author
    if author is not None and author.user_id == user.pk:
        raise DomainError(
            ErrorCode.OWN_CASE, "This item is about your own words, so another facilitator or a moderator decides it."
        )
    actions = content.actions_for(flag.content_kind)
    if action == Flag.Resolution.APPROVE and actions.state(item) in (content.REMOVED, content.DELETED):
        noun = "message" if flag.content_kind == "message" else "post"
        raise DomainError(ErrorCode.MESSAGE_GONE, _GONE[actions.state(item)].format(noun=noun))
    now = timezone.now()
    with transaction.atomic():
        claimed = Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(
            status=Flag.Status.RESOLVED, handled_at=now, handled_by=user, resolution=action
        )
        if not claimed:
            raise DomainError(ErrorCode.ALREADY_HANDLED, "Someone has already handled this item.")
        state = actions.state(item)
        if action == Flag.Resolution.APPROVE:
            if state in content.UNPUBLISHED:
                actions.publish_held(item)
            elif actions.is_hidden(item):
                actions.set_hidden(item, hidden=False)
        elif action == Flag.Resolution.DISMISS:
            if actions.is_hidden(item):
                actions.set_hidden(item, hidden=False)
        elif action == Flag.Resolution.CHECKED_IN:
            pass  # about the person, not the words: they stay as they are
        else:
            if state in (content.PUBLISHED, *content.UNPUBLISHED):
                actions.remove(item, reason="removed")
            if author is not None and action == Flag.Resolution.WARN:
                community_services.warn_membership(target=author, text=reason)
            elif author is not None and action == Flag.Resolution.MUTE and minutes is not None:
                community_services.mute_membership(target=author, minutes=minutes)
            elif author is not None and action == Flag.Resolution.BAN:
                community_services.ban_membership(target=author)
        _tell_reporters(flag, now)
        if actions.state(item) == content.DELETED:
            actions.erase_text(item)  # its author deleted it; the case no longer needs it
        if flag.urgent and flag.acknowledged_at is None:
            Flag.objects.filter(pk=flag.pk).update(acknowledged_at=now, acknowledged_by=user)
            if flag.circle_id is not None:
                publish.to_roles(flag.circle_id, screening.STAFF_ROLES, AlertCleared(flag=flag.pk, by="A moderator"))
        targets = {"target_message": item} if flag.content_kind == "message" else {"resource": item.pk}
        AuditEntry.objects.record(
            actor=user,
            actor_role=actor_role(user, flag.circle),
            action=action,
            circle=flag.circle,
            target_membership=author,
            reason=reason,
            flag=flag.pk,
            minutes=minutes,
            **targets,
        )
        publish.to_staff(QueueChanged(change="handled", flag=flag.pk, urgent=flag.urgent))
    flag.refresh_from_db()
    return flag


_GONE = {
    content.REMOVED: "A facilitator already removed this {noun}, so it cannot be approved. "
    "Choose another decision to close the item.",
    content.DELETED: "Its author deleted this {noun}, so there is nothing to approve. "
    "Choose another decision to close the item.",
}


def queue_for_review(*, content, source: str = Flag.Source.SUGGESTION) -> Flag:
    """Put ``content`` (a library resource post, say) in the review queue, or
    back in it: one open case per piece of content, shared with whatever a rule
    or a report raised.  Call inside the transaction that stored it."""
    field = screening.content_field(content)
    flag, created = Flag.objects.get_or_create(
        **{field: content}, defaults={"circle_id": content.circle_id, "source": source}
    )
    if not created and flag.status == Flag.Status.RESOLVED:
        reopen(flag)
        flag.save(update_fields=list(REOPEN_FIELDS))
    publish.to_staff(QueueChanged(change="added", flag=flag.pk, urgent=flag.urgent))
    return flag


def open_case(content) -> bool:
    """Whether an undecided review case is about ``content`` (a message or a resource post)."""
    field = screening.content_field(content)
    return Flag.objects.filter(**{field: content}, status=Flag.Status.OPEN).exists()


def messages_under_open_cases(circle) -> QuerySet:
    """The pks of ``circle``'s messages an undecided review case is about."""
    return Flag.objects.filter(circle=circle, status=Flag.Status.OPEN).values("message_id")


def forget_text(content) -> None:
    """Drop what screening and the queue kept of ``content``'s text (its author
    deleted it, or it passed retention)."""
    field = screening.content_field(content)
    RuleHit.objects.filter(**{field: content}).update(matched="")
    Flag.objects.filter(**{field: content}).update(matched="")


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
    if not may_review(user, flag.circle):
        who = "this circle's facilitators and moderators" if flag.circle is not None else "moderators"
        raise DomainError(ErrorCode.FORBIDDEN, f"Only {who} can do that.")
    membership = membership_for(user, flag.circle) if flag.circle is not None else None
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
        if flag.circle_id is not None:
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
    # Room messages only: the alert names a message in a live room (a library
    # post's urgent case waits at the top of the queue).
    overdue = Flag.objects.filter(
        urgent=True,
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        created_at__lte=cutoff,
        message__isnull=False,
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


# What a message meeting a rule's decision would go through, in words.
OUTCOME_WORDS = {
    Verdict.CRISIS: "published; its writer is offered crisis resources at once, and the circle's facilitators "
    "and every moderator are alerted (an urgent item)",
    Verdict.BLOCK: "not posted; its writer is told why",
    Verdict.HOLD: "kept back, shown to nobody until a moderator approves it; its writer sees it waiting",
    Verdict.CONCERN: "published; a quiet check-in item for the circle's facilitators, and gentle resources "
    "offered to its writer",
    Verdict.FLAG: "published as usual, and put in the review queue",
    Verdict.REDACT: "published with the matched text replaced by [removed]",
    Verdict.PUBLISH: "published as usual",
}
MAX_SAMPLE = 4000


@dataclass(frozen=True)
class RuleTrial:
    """What a draft rule makes of a sample text (nothing is saved)."""

    sample: str
    hits: tuple[matcher.Hit, ...]
    decision: Decision
    shadow: bool
    block_reason: str = ""

    @property
    def pieces(self) -> list[tuple[str, bool]]:
        """The sample cut into (text, matched) runs, to show the matches marked."""
        out, pos = [], 0
        for start, end in _merged(self.hits):
            if start > pos:
                out.append((self.sample[pos:start], False))
            out.append((self.sample[start:end], True))
            pos = end
        if pos < len(self.sample):
            out.append((self.sample[pos:], False))
        return out

    @property
    def summary(self) -> str:
        if not self.hits:
            return "No match: this text would be published as usual."
        words = OUTCOME_WORDS[self.decision.verdict]
        if self.decision.outcome is Outcome.BLOCK and self.block_reason:
            words += f" (“{self.block_reason}”)"
        if self.decision.risk is Risk.CRISIS and self.decision.outcome is not Outcome.PUBLISH:
            words += "; a crisis is never silenced, so staff are still alerted"
        n = len(self.hits)
        matched = f"Matched {n} time{'s' if n != 1 else ''}"
        if self.shadow:
            return f"{matched}. In shadow mode the rule only records this; switched on, the message would be {words}."
        return f"{matched}: the message would be {words}."


def _merged(hits) -> list[tuple[int, int]]:
    spans: list[list[int]] = []
    for start, end in sorted((h.start, h.end) for h in hits):
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


def try_rule(
    *, user, pattern: str, kind: str, category: str, action: str, exempt: str = "", shadow: bool = False, sample: str
) -> RuleTrial:
    """Dry-run a draft rule against ``sample`` with the real matcher and the one
    decision rule (``verdicts.decide``); nothing is saved or published.  The one
    place a rule is tried on text by hand: ``manage.py evaluate_rules`` can share
    it.  Raises BAD_RULE (with the matcher's reason) for an unusable pattern."""
    check(user, Action.MANAGE_RULES)
    sample = (sample or "")[:MAX_SAMPLE]
    exempt_phrases = tuple(line.strip() for line in (exempt or "").splitlines() if line.strip())
    spec = matcher.RuleSpec(id=0, pattern=pattern, kind=kind, category=category, action=action, exempt=exempt_phrases)
    try:
        hits = tuple(matcher.compile_rules([spec]).match(sample))
    except (matcher.PatternError, ValueError) as err:
        raise DomainError(ErrorCode.BAD_RULE, str(err).split(": ", 1)[-1]) from None
    decision = decide(h.action for h in hits)
    reason = screening.BLOCK_REASONS.get(category, screening.DEFAULT_BLOCK_REASON) if hits else ""
    return RuleTrial(sample=sample, hits=hits, decision=decision, shadow=shadow, block_reason=reason)


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
