"""Writes for the live room.

Each public function is one incoming frame's work: it loads the actor's
membership fresh (so a mute or ban takes effect at once, on every process),
asks ``community.permissions``, writes inside a transaction, and broadcasts
through ``realtime.publish`` on commit.  Consumers call them through one
``database_sync_to_async`` hop; views, tests and management commands call them
directly.  Refusals raise ``DomainError`` and change nothing.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from community import services as community_services
from community.models import Circle, Membership
from community.permissions import Action, check, check_member
from core.errors import DomainError, ErrorCode
from core.prepared import Prepared
from library import selectors as library_selectors
from library.models import ResourcePost
from moderation import screening
from moderation import selectors as moderation_selectors
from moderation import services as moderation_services
from moderation.models import AuditEntry
from moderation.verdicts import Outcome, Verdict
from realtime import publish
from realtime.events import (
    Approved,
    MessageEdited,
    MessagePosted,
    MessageRemoved,
    MessageView,
    Pinned,
    ReactionsChanged,
    RoomStateChanged,
)

from . import ratelimit, selectors, text
from .models import Message, Reaction, Room, Seat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomContext:
    """Who is on a socket: ids only, fixed at connect."""

    user_id: int
    circle_id: int
    membership_id: int
    alias: str
    role: str


# --- connecting -------------------------------------------------------------


def open_room(*, user, slug: str) -> RoomContext:
    """Authorize ``user`` for the live room of circle ``slug``."""
    circle = selectors.circle_by_slug(slug)
    if circle is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That circle does not exist.")
    found = selectors.membership_of(user.pk, circle.pk) if user.is_authenticated else None
    membership = check_member(user, Action.VIEW_ROOM, circle, found)
    return RoomContext(user.pk, circle.pk, membership.pk, membership.alias, membership.role)


def connect_room(*, user, slug: str) -> RoomContext:
    """``open_room`` for a new socket, counted against the member's connect
    budget (RATE_LIMITED with ``retry_after`` past it)."""
    ctx = open_room(user=user, slug=slug)
    ratelimit.hit("connect", ctx.membership_id)
    return ctx


def hello(ctx: RoomContext, *, since: int | None, limit: int, replay_max: int) -> dict[str, Any]:
    """Everything the ``hello`` frame carries except presence (held by the hub).

    With ``since``: the first ``limit`` published messages after it, unless the
    member is more than ``replay_max`` ids behind: then, as without ``since``,
    the newest messages, and ``reset`` (replaying a whole circle on every
    connect would cost every other member of the process).

    The member's own: their reactions on the messages sent (``mine``), how far
    they had read, a mute still running, the aliases they hid; for staff, the
    circle's crisis alerts nobody has acknowledged."""
    membership = selectors.room_member(ctx.membership_id)
    if membership is None or membership.user_id != ctx.user_id:
        raise DomainError(ErrorCode.NOT_MEMBER, "You are no longer a member of this circle.")
    state = selectors.room_state(membership.circle)
    reset = since is not None and state["last_id"] - since > replay_max
    if since is None or reset:
        messages = selectors.recent_history(ctx.circle_id, settings.CHAT_HELLO_HISTORY, viewer=ctx.membership_id)
    else:
        messages = selectors.history_after(ctx.circle_id, since, limit, viewer=ctx.membership_id)
    seat = selectors.seat_of(membership)
    muted = membership.muted_until if membership.is_muted() else None
    staff = membership.role in Membership.STAFF_ROLES
    return {
        "state": state,
        "messages": messages,
        "held": selectors.own_held(ctx.circle_id, ctx.membership_id),
        "resuming": since is not None and not reset,
        "reset": reset,
        "last_read": seat.last_read if seat else 0,
        "muted_until": muted.isoformat() if muted else None,
        "hidden": list(seat.hidden) if seat else [],
        "alerts": moderation_selectors.open_crisis_alerts(ctx.circle_id) if staff else [],
    }


def _actor(ctx: RoomContext, *, lock: bool = False) -> Membership:
    qs = Membership.objects.select_related("circle", "user")
    if lock:
        qs = qs.select_for_update(of=("self",))
    membership = qs.filter(pk=ctx.membership_id).first()
    if membership is None or membership.user_id != ctx.user_id:
        raise DomainError(ErrorCode.NOT_MEMBER, "You are no longer a member of this circle.")
    return membership


def _room(circle_id: int) -> Room:
    """The circle's room row, locked for this transaction (ids are taken under it)."""
    room = Room.objects.select_for_update().filter(circle_id=circle_id).first()
    if room is None:
        Room.objects.get_or_create(circle_id=circle_id)
        room = Room.objects.select_for_update().get(circle_id=circle_id)
    return room


def _published(ctx: RoomContext, message_id: int) -> Message:
    message = Message.objects.filter(circle_id=ctx.circle_id, seq=message_id).first()
    if message is None or message.status != Message.Status.PUBLISHED:
        raise DomainError(ErrorCode.NOT_FOUND, "That message is not in this room (it may have been removed).")
    return message


def _audit(actor: Membership, action: str, *, reason: str = "", **targets: Any) -> None:
    AuditEntry.objects.record(
        actor=actor.user,
        actor_role=actor.role,
        actor_membership=actor,
        action=action,
        circle=actor.circle,
        reason=reason,
        **targets,
    )


# --- members ----------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    id: int | None
    verdict: str  # what the author is told: published, held, redacted or blocked
    duplicate: bool = False
    reason: str = ""


def author_verdict(status: str, verdict: str) -> str:
    """What the author is told of a message: published, held, redacted or
    blocked (and for a retried send, as the message stands now: removed after
    a removal, published after an approval).  A flag, a concern or a crisis
    publishes as usual (the resources follow privately)."""
    if status in (Message.Status.REMOVED, Message.Status.DELETED):
        return "removed"  # taken out of the room (or never published) meanwhile
    if status == Message.Status.BLOCKED:
        return "blocked"
    if status == Message.Status.HELD:
        return "held"
    return "redacted" if verdict == Verdict.REDACT else "published"


def _already_stored(seq: int, status: str, verdict: str) -> PostResult:
    """The answer to a retried send whose message was stored before."""
    return PostResult(
        None if status == Message.Status.BLOCKED else seq, author_verdict(status, verdict), duplicate=True
    )


def _author_sees(screened: screening.Screened) -> str:
    decision = screened.decision
    if decision.outcome is Outcome.BLOCK:
        return "blocked"
    if decision.outcome is Outcome.HOLD:
        return "held"
    return "redacted" if decision.redact else "published"


_STATUS_OF = {
    Outcome.PUBLISH: Message.Status.PUBLISHED,
    Outcome.HOLD: Message.Status.HELD,
    Outcome.BLOCK: Message.Status.BLOCKED,
}


@dataclass(frozen=True)
class SendRequest:
    """One ``send`` frame's content, as ``post_messages`` takes it.  ``resource``:
    the library resource a ``share`` puts in the room as a card (its message is
    stored, screened and broadcast like any other)."""

    ctx: RoomContext
    client_id: str
    body: str
    resource: ResourcePost | None = None


@dataclass
class _Prepared:
    index: int
    request: SendRequest
    actor: Membership
    screened: screening.Screened
    html: str
    message: Message | None = None

    @property
    def held(self) -> bool:
        """Stored but not published (held for review, or blocked and kept for a case)."""
        return not self.screened.decision.visible


def post_message(ctx: RoomContext, *, client_id: str, body: str) -> PostResult:
    """Store a message, then broadcast it (``room.message``) on commit.

    Idempotent on ``client_id``: a retried send returns the stored message's id
    and broadcasts nothing new.  Refusals: NOT_MEMBER, BANNED, MUTED,
    ROOM_CLOSED, SLOW_MODE, RATE_LIMITED, EMPTY_BODY, TOO_LARGE.
    """
    result = post_messages([SendRequest(ctx, client_id, body)])[0]
    if isinstance(result, Exception):
        raise result
    return result


def post_batch(requests: Sequence[SendRequest]) -> list[PostResult | BaseException]:
    """One run of a circle's send queue (``chat.sending``), in a worker thread:
    each frame counts against its member's frame budget (one round trip for the
    batch), then the sends are stored together.  One answer per request."""
    answers: list[PostResult | BaseException | None] = [None] * len(requests)
    allowed: list[int] = []
    limited = ratelimit.hit_many([("frame", request.ctx.membership_id) for request in requests])
    for i, refusal in enumerate(limited):
        if refusal is not None:
            answers[i] = refusal
        else:
            allowed.append(i)
    for i, answer in zip(allowed, post_messages([requests[i] for i in allowed]), strict=True):
        answers[i] = answer
    return [answer for answer in answers if answer is not None]


def post_messages(requests: Sequence[SendRequest]) -> list[PostResult | Exception]:
    """Several sends to one circle, checked one by one and stored in one
    transaction (group commit): the live room batches the sends that arrive
    while the previous batch is being written (``chat.sending``).

    Each request gets its own answer, in order: a ``PostResult`` or the
    ``DomainError`` that refused it (exactly what ``post_message`` would have
    raised).  A refusal changes nothing and does not affect the other requests;
    neither does an unexpected error in one send's checks or in its own
    transaction (the fallback below), which is that send's answer alone.  Only
    a failure of the batch's one transaction fails them all (and then nothing
    was stored).
    Ids are taken in order, so the batch's messages chain (``prev``) as if
    they had been sent one after the other.
    """
    if not requests:
        return []
    circle_ids = {r.ctx.circle_id for r in requests}
    if len(circle_ids) != 1:
        raise ValueError("post_messages takes the sends of one circle")
    results: list[PostResult | Exception | None] = [None] * len(requests)
    keys = [(r.ctx.membership_id, r.client_id) for r in requests]
    stored = _stored_sends(keys)
    actors = _actors({k[0] for k in keys if k not in stored})
    first_of: dict[tuple[int, str], int] = {}  # a client_id sent twice in one batch
    admitted: list[tuple[int, Membership, str]] = []
    for i, request in enumerate(requests):
        key = keys[i]
        if key in stored:
            results[i] = _already_stored(*stored[key])
            continue
        if key in first_of:
            continue  # answered below, from the first one's outcome
        first_of[key] = i
        try:
            actor = _may_post(request.ctx, actors.get(request.ctx.membership_id))
            admitted.append((i, actor, text.normalise(request.body)))
        except DomainError as err:
            results[i] = err
        except Exception as exc:  # this send's alone
            log.exception("checking a send failed")
            results[i] = exc
    prepared = _screen_all(requests, admitted, results)
    if prepared:
        _store_all(prepared, results)
    for i, key in enumerate(keys):
        if results[i] is None:  # the repeat of a client_id earlier in this batch
            first = results[first_of[key]]
            if isinstance(first, PostResult) and first.id is not None:
                results[i] = PostResult(first.id, first.verdict, duplicate=True)
            else:
                results[i] = first
    return results  # type: ignore[return-value]


# Both lookups are unordered and the first gives tuples: on this path the ORM's
# compiling of ordering and building of model rows cost more than the queries.
# Compiled once per worker thread (core.prepared); batches of any size share a
# few shapes (the lists are padded).
_STORED_SENDS = Prepared(
    lambda authors, client_ids: (
        Message.objects.filter(author_id__in=authors, client_id__in=client_ids)
        .order_by()
        .values_list("author_id", "client_id", "seq", "status", "verdict")
    ),
    pad_lists=True,
)
_ACTORS = Prepared(
    lambda ids: Membership.objects.select_related("circle", "user").filter(pk__in=ids).order_by(), pad_lists=True
)


def _stored_sends(keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, str, str]]:
    """(author, client_id) -> (id, status, verdict) of the sends stored before."""
    rows = _STORED_SENDS.rows(sorted({k[0] for k in keys}), sorted({k[1] for k in keys}))
    return {(author_id, client_id): (seq, status, verdict) for author_id, client_id, seq, status, verdict in rows}


def _actors(membership_ids: set[int]) -> dict[int, Membership]:
    """The senders' memberships, read fresh (a mute, ban or closing takes effect
    on the next send, on every process)."""
    if not membership_ids:
        return {}
    return {m.pk: m for m in _ACTORS.models(sorted(membership_ids))}


def _screen_all(
    requests: Sequence[SendRequest], admitted: list[tuple[int, Membership, str]], results: list
) -> list[_Prepared]:
    """The send budget (one round trip for the batch), slow mode, screening and
    rendering of the admitted sends; refusals and verdicts go into ``results``."""
    limited = ratelimit.hit_many([("send", actor.pk) for _i, actor, _clean in admitted])
    prepared: list[_Prepared] = []
    for (i, actor, clean), refusal in zip(admitted, limited, strict=True):
        try:
            if refusal is not None:
                raise refusal
            item = _screen(i, requests[i], actor, clean)
        except DomainError as err:
            results[i] = err
            continue
        except Exception as exc:  # this send's alone
            log.exception("screening a send failed")
            results[i] = exc
            continue
        if isinstance(item, PostResult):
            results[i] = item
        else:
            prepared.append(item)
    return prepared


def _store_all(prepared: list[_Prepared], results: list) -> None:
    """Store the prepared sends in one transaction, or one by one when a
    client_id raced in elsewhere; answers go into ``results``."""
    try:
        with transaction.atomic():
            _store(prepared)
    except IntegrityError:
        for item in prepared:
            item.message = None
            try:
                with transaction.atomic():
                    _store([item])
            except IntegrityError as exc:
                item.message = None
                existing = Message.objects.filter(author_id=item.actor.pk, client_id=item.request.client_id).first()
                results[item.index] = (
                    _already_stored(existing.seq, existing.status, existing.verdict) if existing is not None else exc
                )
            except Exception as exc:
                # This send's alone: the ones before it are committed and must
                # still be answered and broadcast.
                log.exception("storing a send failed")
                item.message = None
                results[item.index] = exc
    for item in prepared:
        if item.message is not None and results[item.index] is None:
            blocked = item.message.status == Message.Status.BLOCKED
            results[item.index] = PostResult(
                None if blocked else item.message.seq, _author_sees(item.screened), reason=item.screened.reason
            )


def _may_post(ctx: RoomContext, actor: Membership | None) -> Membership:
    if actor is None or actor.user_id != ctx.user_id:
        raise DomainError(ErrorCode.NOT_MEMBER, "You are no longer a member of this circle.")
    check(actor.user, Action.POST, actor.circle, actor)
    return actor


def _screen(index: int, request: SendRequest, actor: Membership, clean: str) -> "_Prepared | PostResult":
    """Slow mode, then screening and rendering: all that is left before the write."""
    circle = actor.circle
    if actor.role not in Membership.STAFF_ROLES:
        ratelimit.slow_mode(circle.pk, actor.pk, circle.slow_mode_seconds)
    screened = screening.screen(circle.pk, clean, author=(circle.pk, actor.pk))
    if not screened.decision.stored:
        return PostResult(None, "blocked", reason=screened.reason)
    return _Prepared(index, request, actor, screened, text.render_for_storage(screened.text))


def _store(items: list[_Prepared]) -> None:
    """Take ids (locking the room row), insert, and broadcast on commit.  Call
    inside a transaction."""
    circle_id = items[0].request.ctx.circle_id
    published_upto = max((n for n, item in enumerate(items, 1) if not item.held), default=0)
    seq, prev = Room.objects.take_ids(circle_id, len(items), published_upto)
    chain: list[int | None] = []
    for item in items:
        seq += 1
        item.message = Message(
            circle_id=circle_id,
            seq=seq,
            author=item.actor,
            alias=item.actor.alias,
            author_role=item.actor.role,
            client_id=item.request.client_id,
            body=item.screened.text,
            html=item.html,
            status=_STATUS_OF[item.screened.decision.outcome],
            verdict=item.screened.verdict,
            resource=item.request.resource,
        )
        chain.append(None if item.held else prev)
        if not item.held:
            prev = seq
    stored = [item.message for item in items if item.message is not None]
    Message.objects.bulk_create(stored)
    first_posts = {item.actor.pk for item in items if not item.actor.has_posted}
    if first_posts:
        Membership.objects.filter(pk__in=first_posts).update(has_posted=True)
    # The messages first, together (one channel-layer event for the batch), then
    # what screening raised about them (queue items, crisis cards and alerts).
    for message, before in zip(stored, chain, strict=True):
        if message.status == Message.Status.PUBLISHED:
            publish.to_circle(circle_id, MessagePosted(message=selectors.message_payload(message), prev=before))
    for item in items:
        screening.record_screening(message=item.message, screened=item.screened, author=item.actor)


def _own(ctx: RoomContext, message_id: int, action: Action, *, recent: bool) -> tuple[Membership, Message]:
    """The actor and their own published message; ``recent``: within the edit window."""
    actor = _actor(ctx)
    check(actor.user, action, actor.circle, actor)
    message = _published(ctx, message_id)
    if message.author_id != actor.pk:
        raise DomainError(ErrorCode.FORBIDDEN, "You can only change your own messages.")
    window = settings.CHAT_EDIT_WINDOW_SECONDS
    if recent and timezone.now() - message.created_at > timedelta(seconds=window):
        raise DomainError(ErrorCode.EDIT_WINDOW, f"Messages can be edited for {window // 60} minutes after posting.")
    return actor, message


def edit_message(ctx: RoomContext, *, message_id: int, body: str) -> dict[str, Any]:
    """Edit your own message within the edit window; the new text is screened like
    a new message.  Broadcasts ``room.edited`` (or ``room.removed`` when the new
    text is held for review).  A blocked edit changes nothing (BLOCKED), unless
    it carries a risk: then the message leaves the room, the new text is kept
    for the safety case, the crisis lane runs, and the author still gets
    BLOCKED.

    Refused with ROOM_CLOSED while the room is closed (read-only), as a send is.
    """
    actor, message = _own(ctx, message_id, Action.POST, recent=True)
    ratelimit.hit("send", actor.pk)
    clean = text.normalise(body)
    screened = screening.screen(ctx.circle_id, clean)
    decision = screened.decision
    if not decision.stored:
        raise DomainError(ErrorCode.BLOCKED, screened.reason)
    with transaction.atomic():
        message.body, message.html = screened.text, text.render_for_storage(screened.text)
        message.edited_at, message.verdict = timezone.now(), screened.verdict
        fields = ["body", "html", "edited_at", "verdict"]
        if not decision.visible:
            message.status = _STATUS_OF[decision.outcome]
            fields.append("status")
        message.save(update_fields=fields)
        screening.record_screening(message=message, screened=screened, author=actor)
        if not decision.visible:
            _unpin_if_pinned(message)
            publish.to_circle(ctx.circle_id, MessageRemoved(id=message.seq, reason="held"))
        else:
            payload = selectors.message_payload(message, selectors.reaction_counts(message))
            publish.to_circle(ctx.circle_id, MessageEdited(message=payload))
    if decision.outcome is Outcome.BLOCK:
        raise DomainError(ErrorCode.BLOCKED, screened.reason)
    return {"id": message.seq, "verdict": _author_sees(screened)}


def delete_own_message(ctx: RoomContext, *, message_id: int) -> dict[str, Any]:
    """Delete your own message, at any time (the edit window is for edits);
    broadcasts ``room.removed``.  Its text is erased at once, unless an open
    moderation case needs it: then when the case is decided."""
    _actor, message = _own(ctx, message_id, Action.DELETE_OWN, recent=False)
    with transaction.atomic():
        message.status, message.removed_at = Message.Status.DELETED, timezone.now()
        message.save(update_fields=["status", "removed_at"])
        if not moderation_services.open_case(message):
            erase_text(message)
        _unpin_if_pinned(message)
        publish.to_circle(ctx.circle_id, MessageRemoved(id=message.seq, reason="deleted"))
    return {"id": message.seq}


FORMER_MEMBER = "Former member"


def erase_by_author(message: Message) -> None:
    """A deleted account's message, its author having asked to erase it: gone from
    the room, its alias no longer shown, its text erased (or, under an open
    moderation case, when the case is decided)."""
    was_published = message.status == Message.Status.PUBLISHED
    message.status, message.removed_at, message.alias = Message.Status.DELETED, timezone.now(), FORMER_MEMBER
    message.save(update_fields=["status", "removed_at", "alias"])
    if not moderation_services.open_case(message):
        erase_text(message)
    _unpin_if_pinned(message)
    if was_published:
        publish.to_circle(message.circle_id, MessageRemoved(id=message.seq, reason="deleted"))


def erase_text(message: Message) -> None:
    """Forget what a message said (deleted by its author, or past retention):
    its body and HTML here, and what screening kept of it."""
    message.body, message.html = "", ""
    message.save(update_fields=["body", "html"])
    moderation_services.forget_text(message)


def react(ctx: RoomContext, *, message_id: int, reaction: str, on: bool) -> dict[str, Any]:
    """Add or take back a reaction; broadcasts the new counts (never who reacted)."""
    actor = _actor(ctx)
    check(actor.user, Action.REACT, actor.circle, actor)
    ratelimit.hit("react", actor.pk)
    message = _published(ctx, message_id)
    with transaction.atomic():
        if on:
            _created = Reaction.objects.get_or_create(message=message, member=actor, kind=reaction)[1]
            changed = _created
        else:
            changed = Reaction.objects.filter(message=message, member=actor, kind=reaction).delete()[0] > 0
        counts = selectors.reaction_counts(message)
        if changed:
            publish.to_circle(ctx.circle_id, ReactionsChanged(id=message.seq, counts=counts))
    return {"id": message.seq, "counts": counts}


def share_resource(ctx: RoomContext, *, client_id: str, resource_id: int, pin: bool = False) -> PostResult:
    """Share a library resource into the room: a message naming it (a link to
    its page when ``SITE_URL`` is set), which the room shows as a card.  It is
    stored, screened, chained and broadcast exactly like a ``send`` (idempotent
    on ``client_id``); with ``pin`` it is then pinned for the session.

    The resource must be published, and site-wide or this circle's (else
    NOT_FOUND).  Refusals: FORBIDDEN (facilitators and moderators share), and
    every refusal of a send."""
    actor = _actor(ctx)
    check(actor.user, Action.SHARE_RESOURCE, actor.circle, actor)
    resource = library_selectors.shareable(resource_id, circle_id=ctx.circle_id)
    body = library_selectors.share_body(resource, site_url=settings.SITE_URL)
    result = post_messages([SendRequest(ctx, client_id, body, resource)])[0]
    if isinstance(result, Exception):
        raise result
    if pin and result.id is not None and result.verdict in ("published", "redacted") and not result.duplicate:
        pin_message(ctx, message_id=result.id)
    return result


def report_message(ctx: RoomContext, *, message_id: int, reason: str) -> dict[str, Any]:
    """Report a message to the moderators (see moderation.reports.file_report)."""
    from moderation.reports import file_report

    actor = _actor(ctx)
    check(actor.user, Action.REPORT, actor.circle, actor)
    ratelimit.hit("report", actor.pk)
    message = _published(ctx, message_id)
    file_report(reporter=actor, message=message, reason=reason.strip())
    return {"id": message.seq}


# --- the member's own place in the room ------------------------------------------


def mark_read(ctx: RoomContext, *, upto: int) -> dict[str, Any]:
    """Remember that the member has seen the room up to message ``upto`` (their
    "new since you were here" line and unread counts, on every device).

    Only moves forward: an older ``upto`` changes nothing.  NOT_FOUND for an id
    the room has not reached.  The page sends it at most every few seconds; it
    costs one read and one conditional write (two the first time)."""
    last = Room.objects.filter(circle_id=ctx.circle_id).values_list("last_published_seq", flat=True).first() or 0
    if upto > last:
        raise DomainError(ErrorCode.NOT_FOUND, "There is no such message in this room yet.", field="upto")
    now = timezone.now()
    moved = Seat.objects.filter(
        membership_id=ctx.membership_id,
        membership__user_id=ctx.user_id,
        membership__left_at__isnull=True,
        last_read__lt=upto,
    ).update(last_read=upto, updated_at=now)
    if not moved and not Seat.objects.filter(membership_id=ctx.membership_id).exists():
        _actor(ctx)  # still a member (NOT_MEMBER otherwise)
        Seat.objects.bulk_create([Seat(membership_id=ctx.membership_id, last_read=upto)], ignore_conflicts=True)
    return {"upto": upto}


def message_source(ctx: RoomContext, *, message_id: int) -> tuple[int, str]:
    """The Markdown source of your own published message, to edit it (FORBIDDEN
    for anyone else's: the room only ever sees the rendered HTML)."""
    _member, message = _own(ctx, message_id, Action.VIEW_ROOM, recent=False)
    return message.seq, message.body


def hide_member(ctx: RoomContext, *, alias: str, on: bool) -> dict[str, Any]:
    """Stop (or start again) showing the messages of the member called ``alias``
    to this member alone.  Nobody else is told, the hidden member least of all.

    Refusals: NOT_FOUND (no such alias in this circle), FORBIDDEN (yourself, or
    a facilitator or moderator: those who keep the room safe stay readable),
    TOO_LARGE past ``Seat.MAX_HIDDEN`` aliases."""
    actor = _actor(ctx)
    check(actor.user, Action.VIEW_ROOM, actor.circle, actor)
    if on:
        target = Membership.objects.filter(circle_id=ctx.circle_id, alias=alias).only("pk", "role").first()
        if target is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Nobody in this circle has that alias.", field="alias")
        if target.pk == actor.pk:
            raise DomainError(ErrorCode.FORBIDDEN, "You cannot hide your own messages.")
        if target.role in Membership.STAFF_ROLES:
            raise DomainError(
                ErrorCode.FORBIDDEN, "Facilitators' and moderators' messages stay visible: they keep the room safe."
            )
    with transaction.atomic():
        seat, _created = Seat.objects.select_for_update().get_or_create(membership_id=actor.pk)
        hidden = [a for a in seat.hidden if a != alias]
        if on:
            if len(hidden) >= Seat.MAX_HIDDEN:
                raise DomainError(
                    ErrorCode.TOO_LARGE, f"You can hide at most {Seat.MAX_HIDDEN} members.", limit=Seat.MAX_HIDDEN
                )
            hidden.append(alias)
        if hidden != seat.hidden:
            seat.hidden, seat.updated_at = hidden, timezone.now()
            seat.save(update_fields=["hidden", "updated_at"])
    return {"alias": alias, "hidden": on}


# --- facilitator controls ------------------------------------------------------


def _staff(ctx: RoomContext, action: Action) -> Membership:
    actor = _actor(ctx)
    check(actor.user, action, actor.circle, actor)
    return actor


def pin_message(ctx: RoomContext, *, message_id: int | None) -> dict[str, Any]:
    """Pin a published message (or unpin with ``None``); broadcasts ``room.pinned``."""
    actor = _staff(ctx, Action.PIN)
    message = _published(ctx, message_id) if message_id is not None else None
    with transaction.atomic():
        room = _room(ctx.circle_id)
        room.pinned = message
        room.save(update_fields=["pinned"])
        payload = selectors.message_payload(message, selectors.reaction_counts(message)) if message else None
        _audit(actor, AuditEntry.Action.PIN if message else AuditEntry.Action.UNPIN, target_message=message)
        publish.to_circle(ctx.circle_id, Pinned(message=payload))
    return {"id": message.seq if message else None}


def _set_circle(ctx: RoomContext, action: Action, audit_action: str, reason: str = "", **fields: Any) -> dict:
    actor = _staff(ctx, action)
    with transaction.atomic():
        circle = Circle.objects.select_for_update().get(pk=ctx.circle_id)
        for name, value in fields.items():
            setattr(circle, name, value)
        circle.save(update_fields=list(fields))
        _audit(actor, audit_action, reason=reason, value=fields)
        state = {"closed": circle.room_closed, "slow_mode": circle.slow_mode_seconds}
        publish.to_circle(ctx.circle_id, RoomStateChanged(state=state))
    return state


def set_slow_mode(ctx: RoomContext, *, seconds: int) -> dict[str, Any]:
    """One message per ``seconds`` per member (0 turns it off); facilitators are exempt."""
    return _set_circle(ctx, Action.SLOW_MODE, AuditEntry.Action.SLOW_MODE, slow_mode_seconds=seconds)


def set_room_closed(ctx: RoomContext, *, closed: bool) -> dict[str, Any]:
    """Close the room (read-only for members) or reopen it."""
    audit_action = AuditEntry.Action.CLOSE_ROOM if closed else AuditEntry.Action.OPEN_ROOM
    return _set_circle(ctx, Action.CLOSE_ROOM, audit_action, room_closed=closed)


def _reason(reason: str) -> str:
    """A facilitator's reason for the audit log: required (REASON_REQUIRED)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            ErrorCode.REASON_REQUIRED, "Please give a reason; it is kept in the audit log.", field="reason"
        )
    return reason


def mute_member(ctx: RoomContext, *, alias: str, minutes: int, reason: str) -> dict[str, Any]:
    """Mute the member called ``alias`` for ``minutes``; takes effect at once.
    A reason is required (REASON_REQUIRED) and kept in the audit log.

    The muted member is told privately (``room.notice`` to them only).
    """
    reason = _reason(reason)
    actor = _staff(ctx, Action.MUTE)
    target = Membership.objects.filter(
        circle_id=ctx.circle_id, alias=alias, left_at__isnull=True, banned=False, user__isnull=False
    ).first()
    if target is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Nobody in this circle has that alias.")
    if target.pk == actor.pk or target.role in Membership.STAFF_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN, "Facilitators and moderators cannot be muted here.")
    with transaction.atomic():
        community_services.mute_membership(target=target, minutes=minutes)
        _audit(actor, AuditEntry.Action.MUTE, reason=reason, target_membership=target, minutes=minutes)
    until = target.muted_until
    return {"alias": target.alias, "until": until.isoformat() if until else None}


def remove_message(ctx: RoomContext, *, message_id: int, reason: str) -> dict[str, Any]:
    """Remove a message from the room; it disappears from every open screen.  A
    reason is required (REASON_REQUIRED) and kept in the audit log."""
    reason = _reason(reason)
    actor = _staff(ctx, Action.REMOVE_MESSAGE)
    message = _published(ctx, message_id)
    with transaction.atomic():
        do_remove_message(message, reason=reason)
        _audit(actor, AuditEntry.Action.REMOVE, reason=reason, target_message=message)
    return {"id": message.seq}


def acknowledge_alert(ctx: RoomContext, *, flag_id: int) -> dict[str, Any]:
    """ "I am on it": acknowledge a crisis alert of this circle from its room (see
    ``moderation.services.acknowledge_crisis``: FORBIDDEN for members,
    ALREADY_HANDLED when someone was quicker).  It leaves every staff screen."""
    actor = _actor(ctx)
    flag = moderation_services.acknowledge_crisis(user=actor.user, flag_id=flag_id, circle_id=ctx.circle_id)
    return {"flag": flag.pk}


# --- trusted steps (callers check permissions and write the audit entry) ----------


def do_remove_message(message: Message, *, reason: str = "") -> None:
    """Take a published or held message out of the room, on every open screen."""
    message.status, message.removed_at = Message.Status.REMOVED, timezone.now()
    message.removed_reason = (reason or "")[:200]
    message.save(update_fields=["status", "removed_at", "removed_reason"])
    _unpin_if_pinned(message)
    publish.to_circle(message.circle_id, MessageRemoved(id=message.seq, reason="removed"))


def _unpin_if_pinned(message: Message) -> None:
    if Room.objects.filter(circle_id=message.circle_id, pinned=message).update(pinned=None):
        publish.to_circle(message.circle_id, Pinned(message=None))


def publish_held(message: Message) -> None:
    """Publish a message that was held for review.  Call inside the transaction
    that resolves the review.

    Held when it was sent (never seen by anyone): it is published as the room's
    newest message, under a new id at the end of the chain (its held id stays a
    hole), so it is broadcast like any new message and a member who was away
    gets it on resume.  Its author alone is told which held message it was
    (``room.approved``), so their screen can drop the "waiting" placeholder.

    Held by an edit (it had been published, and may have replies, reactions or
    a pin): it returns to its place under its own id, broadcast with ``prev:
    null`` (outside the chain; clients insert it in order).
    """
    message.status, message.hidden = Message.Status.PUBLISHED, False
    if message.edited_at is not None:
        message.save(update_fields=["status", "hidden"])
        payload = selectors.message_payload(message, selectors.reaction_counts(message))
        publish.to_circle(message.circle_id, MessagePosted(message=payload, prev=None))
        return
    held_id = message.seq
    last, prev = Room.objects.take_ids(message.circle_id, 1, 1)
    # It enters the conversation now: its time says so (an old time among the
    # newest messages would tell everyone it sat in review).
    message.seq, message.created_at = last + 1, timezone.now()
    message.save(update_fields=["seq", "created_at", "status", "hidden"])
    payload = selectors.message_payload(message, selectors.reaction_counts(message))
    publish.to_circle(message.circle_id, MessagePosted(message=payload, prev=prev))
    if message.author_id is not None:
        publish.to_member(message.circle_id, message.author_id, Approved(held_id=held_id, id=message.seq))


def set_hidden(message: Message, *, hidden: bool) -> None:
    """Hide a message behind "hidden pending review", or show it again."""
    message.hidden = hidden
    message.save(update_fields=["hidden"])
    payload = selectors.message_payload(message, selectors.reaction_counts(message))
    publish.to_circle(message.circle_id, MessageEdited(message=payload))


# --- reads a frame asks for -------------------------------------------------


def history(ctx: RoomContext, *, before: int, limit: int) -> list[MessageView]:
    actor = _actor(ctx)
    check(actor.user, Action.VIEW_ROOM, actor.circle, actor)
    return selectors.history_before(ctx.circle_id, before, limit, viewer=ctx.membership_id)


def resume(ctx: RoomContext, *, since: int, limit: int) -> tuple[list[MessageView], int]:
    """Published messages after ``since`` and the room's latest published id."""
    actor = _actor(ctx)
    check(actor.user, Action.VIEW_ROOM, actor.circle, actor)
    last = Room.objects.filter(circle_id=ctx.circle_id).values_list("last_published_seq", flat=True).first() or 0
    return selectors.history_after(ctx.circle_id, since, limit, viewer=ctx.membership_id), last


# --- retention ------------------------------------------------------------------------


def apply_retention(*, now=None, dry_run: bool = False) -> dict[str, int]:
    """Delete each circle's messages older than its ``retention_days``, except
    those under an open moderation case (their reactions, rule hits and decided
    queue items go with them; audit entries keep their reason, not the text).
    Returns how many were (or would be) deleted per circle slug."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for circle in Circle.objects.filter(retention_days__isnull=False):
        days = circle.retention_days or 0
        old = Message.objects.filter(circle=circle, created_at__lt=now - timedelta(days=days))
        old = old.exclude(pk__in=moderation_services.messages_under_open_cases(circle))
        count = old.count()
        if count and not dry_run:
            with transaction.atomic():
                Room.objects.filter(circle=circle, pinned__in=old).update(pinned=None)
                old.delete()
        if count:
            done[circle.slug] = count
    return done


# --- the schedule (issue 12): the room opened and closed on time ------------------


def set_room_closed_on_schedule(circle_id: int, *, closed: bool, actor: Membership | None = None) -> bool:
    """Open or close the room for a scheduled session (the scheduler, or a
    facilitator opening early or ending, who checked ``Action.CLOSE_ROOM``).
    A conditional UPDATE: True when this call changed the room, so several
    schedulers change it, audit it and broadcast ``room.state`` once."""
    with transaction.atomic():
        changed = Circle.objects.filter(pk=circle_id).exclude(room_closed=closed).update(room_closed=closed)
        if not changed:
            return False
        circle = Circle.objects.get(pk=circle_id)
        AuditEntry.objects.record(
            actor=actor.user if actor else None,
            actor_role=actor.role if actor else "schedule",
            actor_membership=actor,
            action=AuditEntry.Action.CLOSE_ROOM if closed else AuditEntry.Action.OPEN_ROOM,
            circle=circle,
            reason="scheduled session",
        )
        state = {"closed": circle.room_closed, "slow_mode": circle.slow_mode_seconds}
        publish.to_circle(circle_id, RoomStateChanged(state=state))
    return True
