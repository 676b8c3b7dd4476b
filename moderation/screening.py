"""The one screening path: chat messages, edits and resource posts all pass here
before they are stored.

``screen`` is pure apart from reading the compiled rules: it returns what it
made of the text (``Screened``: a ``moderation.verdicts.Decision``, the text to
store, the hits).  ``record_screening`` writes what the decision implies once the
message exists (rule hits, the queue item, the crisis escalation), inside the
caller's transaction.

The compiled matcher is cached per process and rebuilt when the rule-set
version (``_rules_version``) changes (checked at most every
``RULES_CHECK_SECONDS``), so a rule change reaches every process within a
second or two without a restart.
"""

import dataclasses
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from community.models import Membership
from core import metrics
from core.cache import resilient
from realtime import publish
from realtime.events import CrisisAlertView, CrisisResources, QueueChanged, StaffAlert

from . import matcher
from .models import Flag, KeywordRule, RuleHit
from .reports import REOPEN_FIELDS, reopen
from .verdicts import Decision, Outcome, Risk, Verdict, decide

log = logging.getLogger(__name__)

RULES_VERSION_KEY = "moderation:rules-version"
RULES_CHECK_SECONDS = 1.0

BLOCK_REASONS = {
    "sourcing": "Buying, selling or swapping substances is not allowed here, so this message was not posted.",
    "medical-advice": "Dosing and medication advice is for your clinician, so this message was not posted.",
    "harassment": "This message was not posted because it could hurt someone. Please speak with care.",
    "personal-info": "This message was not posted because it shares personal contact details.",
    "spam": "Links like this one are not allowed here, so this message was not posted.",
}
DEFAULT_BLOCK_REASON = "This message goes against the circle's guidelines, so it was not posted."
REDACTED = "[removed]"  # what is kept of a redacted match anywhere (rule hits, queue items)


@dataclass(frozen=True)
class Screened:
    """What screening made of one text: the decision, the text to store (redacted
    where a rule said so), the hits, and the reason a blocked sender is told."""

    decision: Decision
    text: str
    hits: tuple[matcher.Hit, ...] = ()
    shadow_hits: tuple[matcher.Hit, ...] = ()
    reason: str = ""

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def decisive(self) -> matcher.Hit | None:
        """The hit that named the verdict."""
        for hit in self.hits:
            if hit.action == self.verdict:
                return hit
        return None


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
        version = _rules_version()
        if state.compiled is None or version != state.version:
            # A row that somehow escaped validation must not stop screening for
            # everyone: it is left out and logged.
            state.compiled = matcher.compile_rules(_rule_specs(), on_error="skip")
            for rule_id, problem in state.compiled.skipped:
                log.error("keyword rule %s skipped: %s", rule_id, problem)
            state.version = version
        state.checked = time.monotonic()
        return state.compiled


def _rules_version() -> object:
    """The rule-set version every process agrees on.  On a shared cache (Redis):
    its counter, bumped by every change.  On a process-local cache (the embedded
    default) that counter is this process's own, so the rule table itself is the
    version: a change made by another process (``manage.py load_rule_pack``, a
    test) is seen too, for one small query a second."""
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        seen = KeywordRule.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
        return (seen["n"], seen["top"], seen["last"])
    cache = resilient()
    version = cache.get(RULES_VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(RULES_VERSION_KEY, version, timeout=None)
        version = cache.get(RULES_VERSION_KEY, version)
    return version


def warm_rules() -> None:
    """Compile the rules now (at a process's start) rather than at its first
    message; that first message still checks the version at once, so a change
    made in between is not missed."""
    compiled_rules()
    with _cache.lock:
        _cache.checked = 0.0


def forget_compiled_rules() -> None:
    """Make this process rebuild its matcher on the next screening."""
    with _cache.lock:
        _cache.compiled = None
        _cache.checked = 0.0


def rules_changed() -> None:
    """Bump the shared rule-set version (on commit); every process recompiles."""

    def bump():
        resilient().set(RULES_VERSION_KEY, time.time_ns(), timeout=None)
        forget_compiled_rules()

    transaction.on_commit(bump)


def screen(circle_id: int | None, text: str, *, author: tuple[int, int] | None = None) -> Screened:
    """Screen normalised ``text`` for ``circle_id``: one decision for the text.

    ``author`` (circle id, membership id): the text is also screened joined to
    the author's last messages in that circle within ``WINDOW_SECONDS``
    (``recent``), so a sentence split over two messages is still one sentence;
    a rule that matches only across the join counts for this text (its span
    clipped to this text)."""
    compiled = compiled_rules()
    hits = list(compiled.match(text, circle_id))
    if author is not None:
        before = recent.before(author)
        if before:
            tail, head = _seam(before, text)
            joined = f"{tail} {head}"
            start = len(joined) - len(head)
            for hit in compiled.match(joined, circle_id):
                if hit.start < start < hit.end:  # across the join: new only in the joined text
                    end = hit.end - start
                    hits.append(dataclasses.replace(hit, start=0, end=end, matched=text[:end]))
        recent.add(author, text)
    acting = tuple(h for h in hits if not h.shadow)
    shadow = tuple(h for h in hits if h.shadow)
    decision = decide(h.action for h in acting)
    metrics.SCREENED.labels(decision.verdict.value).inc()
    out = matcher.redact(text, acting, REDACTED) if decision.redact else text
    reason = ""
    if decision.outcome is Outcome.BLOCK:
        category = next(h.category for h in acting if h.action == Verdict.BLOCK)
        reason = BLOCK_REASONS.get(category, DEFAULT_BLOCK_REASON)
    return Screened(decision, out, acting, shadow, reason)


WINDOW_SECONDS = 60.0
# Only a match across the join between the author's last texts and this one is
# new, and rules are short: the seam's neighbourhood is screened again, not the
# whole window (which tripled the cost of screening a chatty member's message).
SEAM_WORDS = 12  # each side of the join
SEAM_CHARS = 200  # and never more than this each side
_HEAD = re.compile(rf"\s*(?:\S+\s+){{0,{SEAM_WORDS - 1}}}\S*")


def _seam(before: str, text: str) -> tuple[str, str]:
    """The last words of ``before`` and the first words of ``text`` (a prefix of
    it, so that positions in it are positions in ``text``)."""
    cut = before[-SEAM_CHARS:]
    words = cut.split()
    if len(cut) < len(before) and not before[-SEAM_CHARS - 1].isspace() and words:
        words = words[1:]  # a word cut in two is not a word
    head = _HEAD.match(text, 0, SEAM_CHARS)
    return " ".join(words[-SEAM_WORDS:]), text[: head.end() if head else 0]


WINDOW_MESSAGES = 3
WINDOW_AUTHORS = 10_000


class RecentTexts:
    """Each author's last few texts in a circle, for screening split sentences.

    What it holds: for each (circle, membership) that wrote in the last minute,
    up to WINDOW_MESSAGES of their normalised texts from the last WINDOW_SECONDS,
    in this process's memory only (never stored, logged or shared between
    processes; gone on restart), at most WINDOW_AUTHORS authors (the oldest
    forgotten first).  A member's consecutive messages normally pass through one
    process (their socket's), which is the case it is for."""

    def __init__(self) -> None:
        self.texts: OrderedDict[tuple[int, int], list[tuple[float, str]]] = OrderedDict()
        self.lock = threading.Lock()

    def before(self, author: tuple[int, int]) -> str:
        now = time.monotonic()
        with self.lock:
            kept = [(at, t) for at, t in self.texts.get(author, []) if now - at <= WINDOW_SECONDS]
        return " ".join(t for _at, t in kept[-WINDOW_MESSAGES:])

    def add(self, author: tuple[int, int], text: str) -> None:
        now = time.monotonic()
        with self.lock:
            kept = [(at, t) for at, t in self.texts.pop(author, []) if now - at <= WINDOW_SECONDS]
            kept.append((now, text))
            self.texts[author] = kept[-WINDOW_MESSAGES:]
            while len(self.texts) > WINDOW_AUTHORS:
                self.texts.popitem(last=False)

    def forget(self) -> None:
        with self.lock:
            self.texts.clear()


recent = RecentTexts()


def _kept(hit: matcher.Hit) -> str:
    """What is kept of a match: never the text a redaction took out."""
    return REDACTED if hit.action == Verdict.REDACT else hit.matched[:200]


def record_screening(*, screened: Screened, author, message=None, content=None) -> Flag | None:
    """Write the rule hits, the queue item and the risk lane for stored content:
    a chat message (``message=``) or any content kind moderation knows
    (``content=``: a library resource post).  Call inside the transaction that
    stored it; notifications go out on commit.  Returns the flag, if the
    decision raised one.

    Crisis: the author privately gets the crisis resources at once, and the
    circle's staff in the room and every moderator are alerted (an urgent queue
    item until someone acknowledges it).  Concern: a quiet queue item for the
    circle's facilitators and moderators, and gentler resources to the author.
    Content that is not a room message has no room to carry those frames: its
    queue item is urgent when a member wrote it, and the author's page shows
    the help lines (the owning app's service says so in its answer)."""
    item = message if message is not None else content
    field = content_field(item)
    rows = [
        RuleHit(rule_id=h.rule_id, shadow=h.shadow, matched=_kept(h), **{field: item})
        for h in (*screened.hits, *screened.shadow_hits)
    ]
    if rows:
        RuleHit.objects.bulk_create(rows)
    decision = screened.decision
    if not decision.queued:
        return None
    hit = screened.decisive
    # Urgent means a person may be in danger now: any crisis in the room; in other
    # content (a library post), only a member's own words (a facilitator's post
    # about a crisis line reads as crisis and is queued, not raised as an alarm).
    urgent = decision.risk is Risk.CRISIS and (field == "message" or _a_member(author))
    flag, created = Flag.objects.get_or_create(
        **{field: item},
        defaults={
            "circle_id": item.circle_id,
            "source": Flag.Source.RULE,
            "rule_id": hit.rule_id if hit else None,
            "category": hit.category if hit else "",
            "matched": _kept(hit) if hit else "",
            "urgent": urgent,
        },
    )
    if not created:  # the content was queued before (an edit, reports, a suggestion)
        if flag.status == Flag.Status.RESOLVED:
            reopen(flag)
        if hit is not None:
            flag.rule_id, flag.category, flag.matched = hit.rule_id, hit.category, _kept(hit)
        flag.urgent = flag.urgent or urgent
        flag.save(update_fields=[*REOPEN_FIELDS, "rule", "category", "matched", "urgent"])
    if field == "message":
        _room_lanes(decision, flag, item, author)
    publish.to_staff(QueueChanged(change="added", flag=flag.pk, urgent=flag.urgent))
    return flag


def _a_member(author) -> bool:
    return author is not None and author.role == Membership.Role.MEMBER


def _room_lanes(decision: Decision, flag: Flag, message, author) -> None:
    """A room message's risk lanes: the author's private resources, the alerts."""
    if decision.risk is Risk.CRISIS:
        publish.to_member(
            message.circle_id,
            author.pk,
            CrisisResources(message=settings.CRISIS_MESSAGE, resources=settings.CRISIS_RESOURCES),
        )
        alert = crisis_alert_payload(flag, message)
        publish.to_roles(message.circle_id, STAFF_ROLES, StaffAlert(alert=alert))
        publish.to_staff(StaffAlert(alert=alert))
    elif decision.risk is Risk.CONCERN:
        publish.to_member(
            message.circle_id,
            author.pk,
            CrisisResources(message=settings.CONCERN_MESSAGE, resources=settings.CRISIS_RESOURCES, tier="concern"),
        )


# Content moderation keeps cases about, by model label: the Flag and RuleHit field
# that points at it, which is also the name its app registers its hooks under
# (moderation.content).  String labels only: moderation imports no content app.
CONTENT_FIELDS = {"chat.message": "message", "library.resourcepost": "resource"}


def content_field(item) -> str:
    """``"message"`` or ``"resource"``: which kind of content ``item`` is."""
    try:
        return CONTENT_FIELDS[item._meta.label_lower]
    except (AttributeError, KeyError):
        raise TypeError(f"moderation keeps no cases about {type(item).__name__}") from None


def care_for(text: str) -> Risk | None:
    """The care tier a private text reads as (crisis, concern or none), so its
    writer can be offered the help lines gently.  Nothing is recorded, counted,
    logged or shared: no rule hit, no queue item, no metric, no alert, and the
    text is not kept in the split-sentence window.  For text nobody but its
    writer may ever read (a journal entry)."""
    compiled = compiled_rules()
    hits = [h for h in compiled.match(text, None) if not h.shadow]
    return decide(h.action for h in hits).risk


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
