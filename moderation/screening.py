"""The one screening path: chat messages, edits and resource posts all pass here
before they are stored.

``screen`` is pure apart from reading the compiled rules: it returns a
``Verdict``.  ``record_screening`` writes what the verdict implies once the
message exists (rule hits, the queue item, the crisis escalation), inside the
caller's transaction.

The compiled matcher is cached per process and rebuilt when the rule-set
version in the shared cache changes (checked at most every
``RULES_CHECK_SECONDS``), so a rule change reaches every process within a
second or two without a restart.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from community.models import Membership
from realtime import publish
from realtime.events import CrisisAlertView, CrisisResources, QueueChanged, StaffAlert

from . import matcher
from .models import Flag, KeywordRule, RuleHit
from .reports import REOPEN_FIELDS, reopen

log = logging.getLogger(__name__)

RULES_VERSION_KEY = "moderation:rules-version"
RULES_CHECK_SECONDS = 1.0

PUBLISH, FLAG, HOLD, BLOCK, REDACT, CRISIS = "publish", "flag", "hold", "block", "redact", "crisis"
# Which action decides when several rules hit.  A crisis is never silenced, so
# it outranks hold and block.
PRECEDENCE = (CRISIS, BLOCK, HOLD, FLAG, REDACT)

BLOCK_REASONS = {
    "sourcing": "Buying, selling or swapping substances is not allowed here, so this message was not posted.",
    "medical-advice": "Dosing and medication advice is for your clinician, so this message was not posted.",
    "harassment": "This message was not posted because it could hurt someone. Please speak with care.",
    "personal-info": "This message was not posted because it shares personal contact details.",
    "spam": "Links like this one are not allowed here, so this message was not posted.",
}
DEFAULT_BLOCK_REASON = "This message goes against the circle's guidelines, so it was not posted."


@dataclass(frozen=True)
class Verdict:
    action: str
    text: str
    hits: tuple[matcher.Hit, ...] = ()
    shadow_hits: tuple[matcher.Hit, ...] = ()
    reason: str = ""

    @property
    def decisive(self) -> matcher.Hit | None:
        for hit in self.hits:
            if hit.action == self.action:
                return hit
        return None

    @property
    def message_verdict(self) -> str:
        """The value stored on the message (chat.models.Message.Verdict)."""
        return {PUBLISH: "published", FLAG: "flagged", HOLD: "held", REDACT: "redacted", CRISIS: "crisis"}[
            self.action
        ]


@dataclass
class _Cache:
    version: object = None
    checked: float = 0.0
    compiled: matcher.CompiledRules | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache = _Cache()


def _rule_specs() -> list[matcher.RuleSpec]:
    return [
        matcher.RuleSpec(
            id=rule.pk,
            pattern=rule.pattern,
            kind=rule.kind,
            category=rule.category,
            action=rule.action,
            exempt=rule.exempt_phrases,
            circle_id=rule.circle_id,
            shadow=rule.shadow,
        )
        for rule in KeywordRule.objects.filter(enabled=True)
    ]


def compiled_rules() -> matcher.CompiledRules:
    """The process's compiled rule set, rebuilt when the shared version changes."""
    now = time.monotonic()
    state = _cache
    if state.compiled is not None and now - state.checked < RULES_CHECK_SECONDS:
        return state.compiled
    with state.lock:
        if state.compiled is not None and now - state.checked < RULES_CHECK_SECONDS:
            return state.compiled
        version = cache.get(RULES_VERSION_KEY)
        if version is None:
            version = time.time_ns()
            cache.add(RULES_VERSION_KEY, version, timeout=None)
            version = cache.get(RULES_VERSION_KEY, version)
        if state.compiled is None or version != state.version:
            # A row that somehow escaped validation must not stop screening for
            # everyone: it is left out and logged.
            state.compiled = matcher.compile_rules(_rule_specs(), on_error="skip")
            for rule_id, problem in state.compiled.skipped:
                log.error("keyword rule %s skipped: %s", rule_id, problem)
            state.version = version
        state.checked = time.monotonic()
        return state.compiled


def forget_compiled_rules() -> None:
    """Make this process rebuild its matcher on the next screening."""
    with _cache.lock:
        _cache.compiled = None
        _cache.checked = 0.0


def rules_changed() -> None:
    """Bump the shared rule-set version (on commit); every process recompiles."""

    def bump():
        cache.set(RULES_VERSION_KEY, time.time_ns(), timeout=None)
        forget_compiled_rules()

    transaction.on_commit(bump)


def screen(circle_id: int | None, text: str) -> Verdict:
    """Screen normalised ``text`` for ``circle_id`` and return one verdict."""
    hits = compiled_rules().match(text, circle_id)
    acting = tuple(h for h in hits if not h.shadow)
    shadow = tuple(h for h in hits if h.shadow)
    actions = {h.action for h in acting}
    decided = next((a for a in PRECEDENCE if a in actions), PUBLISH)
    out = matcher.redact(text, acting) if REDACT in actions else text
    reason = ""
    if decided == BLOCK:
        category = next(h.category for h in acting if h.action == BLOCK)
        reason = BLOCK_REASONS.get(category, DEFAULT_BLOCK_REASON)
    return Verdict(decided, out, acting, shadow, reason)


def record_screening(*, message, verdict: Verdict, author) -> Flag | None:
    """Write the rule hits, the queue item and the crisis escalation for a stored
    message.  Call inside the transaction that stored it; notifications go out on
    commit.  Returns the flag, if the verdict raised one."""
    rows = [
        RuleHit(rule_id=h.rule_id, message=message, shadow=h.shadow, matched=h.matched[:200])
        for h in (*verdict.hits, *verdict.shadow_hits)
    ]
    if rows:
        RuleHit.objects.bulk_create(rows)
    if verdict.action not in (FLAG, HOLD, CRISIS):
        return None
    hit = verdict.decisive
    flag, created = Flag.objects.get_or_create(
        message=message,
        defaults={
            "circle_id": message.circle_id,
            "source": Flag.Source.RULE,
            "rule_id": hit.rule_id if hit else None,
            "category": hit.category if hit else "",
            "matched": (hit.matched if hit else "")[:200],
            "urgent": verdict.action == CRISIS,
        },
    )
    if not created:  # the message was queued before (an edit, or reports)
        if flag.status == Flag.Status.RESOLVED:
            reopen(flag)
        if hit is not None:
            flag.rule_id, flag.category, flag.matched = hit.rule_id, hit.category, hit.matched[:200]
        flag.urgent = flag.urgent or verdict.action == CRISIS
        flag.save(update_fields=[*REOPEN_FIELDS, "rule", "category", "matched", "urgent"])
    if verdict.action == CRISIS:
        publish.to_member(
            message.circle_id,
            author.pk,
            CrisisResources(message=settings.CRISIS_MESSAGE, resources=settings.CRISIS_RESOURCES),
        )
        alert = crisis_alert_payload(flag, message)
        publish.to_roles(message.circle_id, STAFF_ROLES, StaffAlert(alert=alert))
        publish.to_staff(StaffAlert(alert=alert))
    publish.to_staff(QueueChanged(change="added", flag=flag.pk, urgent=flag.urgent))
    return flag


STAFF_ROLES = tuple(str(role) for role in Membership.STAFF_ROLES)


def crisis_alert_payload(flag: Flag, message, *, repeat: bool = False) -> CrisisAlertView:
    """What facilitators and moderators see in a crisis alert: alias, circle, text."""
    return {
        "flag": flag.pk,
        "circle": message.circle.name,
        "circle_slug": message.circle.slug,
        "message_id": message.seq,
        "alias": message.alias,
        "excerpt": message.body[:280],
        "created_at": flag.created_at.isoformat(),
        "repeat": repeat,
    }
