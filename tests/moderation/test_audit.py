"""The audit log (moderation.models.AuditEntry): one writer, append-only, newest
first; and every moderator action writes exactly one entry, in its own
transaction, and none when it is refused."""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from chat import services as chat_services
from chat.models import Message, Room
from community import services as community_services
from community.models import Circle, Membership
from core.errors import DomainError, ErrorCode
from moderation import screening
from moderation import services as moderation_services
from moderation.models import AuditEntry, Flag, KeywordRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_compiled_rules():
    """Rules made in a test are rolled back with it: no compiled copy may outlive it."""
    screening.forget_compiled_rules()
    yield
    screening.forget_compiled_rules()


def ctx(membership: Membership) -> chat_services.RoomContext:
    return chat_services.RoomContext(
        membership.user_id, membership.circle_id, membership.pk, membership.alias, membership.role
    )


def new_entries(before: set[int]) -> list[AuditEntry]:
    return list(AuditEntry.objects.exclude(pk__in=before))


def entry_ids() -> set[int]:
    return set(AuditEntry.objects.values_list("pk", flat=True))


# --- the one writer ----------------------------------------------------------------------


def test_record_writes_one_entry_with_the_fields_given(circle, facilitator, member, post):
    """One row: the actor, their role, the action, the circle, the member and
    message acted on, the reason, and whatever else was passed as JSON in ``extra``."""
    seq = post(member.user, circle, "a message to point at")
    message = Message.objects.get(circle=circle, seq=seq)
    before = entry_ids()
    entry = AuditEntry.objects.record(
        actor=facilitator.user,
        actor_role="facilitator",
        action=AuditEntry.Action.REMOVE,
        circle=circle,
        target_membership=member,
        target_message=message,
        reason="off topic",
        flag=7,
        minutes=None,
        changes={"pattern": [None, "plug"], "enabled": ["True", "False"]},
    )
    [stored] = new_entries(before)
    assert stored.pk == entry.pk
    assert (stored.actor, stored.actor_role, stored.action) == (facilitator.user, "facilitator", "remove")
    assert (stored.circle, stored.target_membership, stored.target_message) == (circle, member, message)
    assert stored.reason == "off topic"
    assert stored.extra == {
        "flag": 7,
        "minutes": None,
        "changes": {"pattern": [None, "plug"], "enabled": ["True", "False"]},
    }
    assert timezone.now() - stored.created_at < timedelta(minutes=1)


def test_record_without_targets_or_reason_leaves_them_empty(site_moderator):
    """An entry about nothing in particular (a site-wide rule) has no targets and an
    empty reason, never None."""
    entry = AuditEntry.objects.record(actor=site_moderator, action=AuditEntry.Action.RULE_CHANGE, reason=None)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.circle, stored.target_membership, stored.target_message) == (None, None, None)
    assert (stored.reason, stored.actor_role, stored.extra) == ("", "", {})


# --- append-only -----------------------------------------------------------------------


@pytest.fixture
def entry(site_moderator):
    return AuditEntry.objects.record(
        actor=site_moderator, actor_role="site moderator", action=AuditEntry.Action.DISMISS, reason="original"
    )


def test_an_entry_cannot_be_saved_again(entry):
    """Saving a stored entry raises, however it is saved, and the row is unchanged."""
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.save(update_fields=["reason"])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "original"


def test_an_entry_cannot_be_deleted(entry):
    """Deleting an entry raises and the row stays."""
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_queryset_update_cannot_rewrite_an_entry(entry):
    # A refusal by a guard or by the database rolls back this savepoint only.
    """A bulk update is refused (by a guard or by the database) and the row is unchanged."""
    with contextlib.suppress(ValueError, DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    assert AuditEntry.objects.get(pk=entry.pk).reason == "original"


def test_a_queryset_delete_cannot_remove_an_entry(entry):
    # A refusal by a guard or by the database rolls back this savepoint only.
    """A bulk delete is refused (by a guard or by the database) and the row stays."""
    with contextlib.suppress(ValueError, DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_outlives_its_actors_account_and_keeps_the_role(circle, facilitator):
    """Deleting the account that acted keeps the entry: who acted becomes unknown,
    in what role stays."""
    entry = AuditEntry.objects.record(
        actor=facilitator.user, actor_role="facilitator", action=AuditEntry.Action.CLOSE_ROOM, circle=circle
    )
    community_services.delete_account(user=facilitator.user)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor, stored.actor_role, stored.action) == (None, "facilitator", "close_room")


def test_an_entry_outlives_its_circle_and_targets(circle, facilitator, member, post):
    """Deleting a circle (its members and messages with it) keeps its entries."""
    seq = post(member.user, circle, "soon gone with its circle")
    entry = AuditEntry.objects.record(
        actor=facilitator.user,
        actor_role="facilitator",
        action=AuditEntry.Action.REMOVE,
        circle=circle,
        target_membership=member,
        target_message=Message.objects.get(circle=circle, seq=seq),
        reason="kept after the circle goes",
    )
    Circle.objects.filter(pk=circle.pk).delete()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.circle, stored.target_membership, stored.target_message) == (None, None, None)
    assert stored.reason == "kept after the circle goes"


def test_the_log_lists_the_newest_entry_first(site_moderator):
    """Newest first; of two entries of the same moment, the later written first."""
    same_moment = timezone.now() - timedelta(hours=1)
    older = AuditEntry(
        actor=site_moderator, action=AuditEntry.Action.WARN, created_at=same_moment - timedelta(minutes=1)
    )
    first = AuditEntry(actor=site_moderator, action=AuditEntry.Action.BAN, created_at=same_moment)
    second = AuditEntry(actor=site_moderator, action=AuditEntry.Action.MUTE, created_at=same_moment)
    for made in (older, first, second):
        made.save()
    newest = AuditEntry.objects.record(actor=site_moderator, action=AuditEntry.Action.APPROVE)
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [newest.pk, second.pk, first.pk, older.pk]


# --- every moderator action writes one entry, in its own transaction --------------------------


@dataclass
class Env:
    circle: Circle
    facilitator: Membership
    moderator: Membership  # the circle's moderator role
    member: Membership
    site_moderator: Any
    admin: Any
    post: Callable[..., int]
    make_rule: Callable[..., KeywordRule]

    def message(self, body: str = "a message in the room") -> int:
        return self.post(self.member.user, self.circle, body)

    def flagged(self) -> Flag:
        """A published message raised by a flag rule."""
        self.make_rule("idiot", action="flag")
        seq = self.message("you idiot")
        return Flag.objects.get(message__circle=self.circle, message__seq=seq)

    def crisis(self) -> Flag:
        """An urgent flag nobody has acknowledged."""
        self.make_rule("end my life", kind="phrase", category="crisis", action="crisis")
        seq = self.message("I want to end my life")
        return Flag.objects.get(message__circle=self.circle, message__seq=seq, urgent=True)


@pytest.fixture
def env(circle, facilitator, circle_moderator, member, site_moderator, post, make_rule):
    admin = get_user_model().objects.create_superuser(username="root-admin", password="x-very-long-pw")
    return Env(circle, facilitator, circle_moderator, member, site_moderator, admin, post, make_rule)


def pinned(env: Env):
    return Room.objects.filter(circle=env.circle).values_list("pinned_id", flat=True).first()


def circle_state(env: Env):
    return Circle.objects.filter(pk=env.circle.pk).values_list("room_closed", "slow_mode_seconds").get()


def membership_state(membership: Membership):
    return Membership.objects.filter(pk=membership.pk).values_list("muted_until", "banned").get()


def message_state(env: Env, seq: int):
    return Message.objects.filter(circle=env.circle, seq=seq).values_list("status", "hidden").get()


def flag_state(flag: Flag):
    row = Flag.objects.filter(pk=flag.pk).values_list("status", "resolution", "acknowledged_at").get()
    message = Message.objects.filter(pk=flag.message_id).values_list("status", "hidden").get()
    return row, message, membership_state(flag.message.author)


# Each prepares an action in ``env`` and returns (the acting user, the call, a
# reading of what the call changes, or None when it changes nothing but the log).
Prepared = tuple[Any, Callable[[], Any], Callable[[], Any] | None]


def _pin(env: Env) -> Prepared:
    seq = env.message()
    return (
        env.facilitator.user,
        lambda: chat_services.pin_message(ctx(env.facilitator), message_id=seq),
        lambda: pinned(env),
    )


def _unpin(env: Env) -> Prepared:
    chat_services.pin_message(ctx(env.facilitator), message_id=env.message())
    return (
        env.facilitator.user,
        lambda: chat_services.pin_message(ctx(env.facilitator), message_id=None),
        lambda: pinned(env),
    )


def _slow_mode(env: Env) -> Prepared:
    return (
        env.facilitator.user,
        lambda: chat_services.set_slow_mode(ctx(env.facilitator), seconds=30),
        lambda: circle_state(env),
    )


def _mute(env: Env) -> Prepared:
    return (
        env.facilitator.user,
        lambda: chat_services.mute_member(ctx(env.facilitator), alias=env.member.alias, minutes=10, reason="pause"),
        lambda: membership_state(env.member),
    )


def _close_room(env: Env) -> Prepared:
    return (
        env.facilitator.user,
        lambda: chat_services.set_room_closed(ctx(env.facilitator), closed=True),
        lambda: circle_state(env),
    )


def _open_room(env: Env) -> Prepared:
    chat_services.set_room_closed(ctx(env.facilitator), closed=True)
    return (
        env.facilitator.user,
        lambda: chat_services.set_room_closed(ctx(env.facilitator), closed=False),
        lambda: circle_state(env),
    )


def _remove(env: Env) -> Prepared:
    seq = env.message()
    return (
        env.moderator.user,
        lambda: chat_services.remove_message(ctx(env.moderator), message_id=seq, reason="off topic"),
        lambda: message_state(env, seq),
    )


def _review(action: str, *, by_circle_moderator: bool = False) -> Callable[[Env], Prepared]:
    def prepare(env: Env) -> Prepared:
        flag = env.flagged()
        user = env.moderator.user if by_circle_moderator else env.site_moderator
        return (
            user,
            lambda: moderation_services.review_flag(
                user=user, flag_id=flag.pk, action=action, reason="decided", minutes=15
            ),
            lambda: flag_state(flag),
        )

    return prepare


def _new_rule(env: Env) -> Prepared:
    return (
        env.site_moderator,
        lambda: moderation_services.save_rule(
            user=env.site_moderator, pattern="plug", kind="word", category="sourcing", action="hold"
        ),
        lambda: KeywordRule.objects.filter(pattern="plug").count(),
    )


def _changed_rule(env: Env) -> Prepared:
    rule = env.make_rule("plug", category="sourcing", action="hold")
    return (
        env.site_moderator,
        lambda: moderation_services.save_rule(user=env.site_moderator, rule=rule, enabled=False),
        lambda: KeywordRule.objects.filter(pk=rule.pk).values_list("enabled", flat=True).get(),
    )


def _system_rule(env: Env) -> Prepared:
    return (
        None,
        lambda: moderation_services.save_rule(user=None, pattern="plug", kind="word", category="sourcing"),
        lambda: KeywordRule.objects.filter(pattern="plug").count(),
    )


def _acknowledge(env: Env) -> Prepared:
    flag = env.crisis()
    return (
        env.facilitator.user,
        lambda: moderation_services.acknowledge_crisis(user=env.facilitator.user, flag_id=flag.pk),
        lambda: flag_state(flag),
    )


def _reveal(env: Env) -> Prepared:
    return (
        env.admin,
        lambda: moderation_services.reveal_identity(
            user=env.admin, membership_id=env.member.pk, reason="Credible threat to another member's safety"
        ),
        None,
    )


@dataclass(frozen=True)
class Case:
    action: str
    role: str
    prepare: Callable[[Env], Prepared]
    in_circle: bool = True  # the entry names the circle (a site-wide rule names none)


CASES = {
    "pin": Case("pin", "facilitator", _pin),
    "unpin": Case("unpin", "facilitator", _unpin),
    "slow mode": Case("slow_mode", "facilitator", _slow_mode),
    "mute": Case("mute", "facilitator", _mute),
    "close room": Case("close_room", "facilitator", _close_room),
    "open room": Case("open_room", "facilitator", _open_room),
    "remove": Case("remove", "moderator", _remove),
    **{
        f"review {action}": Case(action, "site moderator", _review(action))
        for action in ("approve", "remove", "warn", "mute", "ban", "dismiss")
    },
    "review ban by the circle's moderator": Case("ban", "moderator", _review("ban", by_circle_moderator=True)),
    "new rule": Case("rule_change", "site moderator", _new_rule, in_circle=False),
    "changed rule": Case("rule_change", "site moderator", _changed_rule, in_circle=False),
    "rule from a command": Case("rule_change", "system", _system_rule, in_circle=False),
    "acknowledge crisis": Case("ack_crisis", "facilitator", _acknowledge),
    "reveal identity": Case("reveal", "administrator", _reveal),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_moderator_action_writes_one_entry_naming_actor_and_role(env, case):
    """Every moderator action, through its service, writes exactly one entry with
    its action, the acting user and their role, and does what it says."""
    actor, call, state = case.prepare(env)
    before_state = state() if state else None
    before = entry_ids()
    result = call()
    [entry] = new_entries(before)
    assert (entry.action, entry.actor_role, entry.actor) == (case.action, case.role, actor)
    assert entry.circle == (env.circle if case.in_circle else None)
    if state is not None:
        assert state() != before_state  # the action happened
    if case.action == "reveal":
        assert result == env.member.user.username


def _refuse_audit_inserts(execute, sql, params, many, context):
    """The database refuses any write to the audit log (a full disk, a lost connection)."""
    if sql.lstrip().upper().startswith("INSERT") and AuditEntry._meta.db_table in sql:
        raise DatabaseError("the audit log cannot be written")
    return execute(sql, params, many, context)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_action_whose_entry_cannot_be_written_changes_nothing(env, case):
    """The entry is written in the action's own transaction: if it fails, the action
    is undone with it (and a revealed handle is never returned)."""
    _actor, call, state = case.prepare(env)
    before_state = state() if state else None
    before = entry_ids()
    # An action that changes nothing but the log needs no transaction of its own;
    # the savepoint stands for its caller's (this test runs inside one transaction).
    own = transaction.atomic() if state is None else contextlib.nullcontext()
    with connection.execute_wrapper(_refuse_audit_inserts), pytest.raises(DatabaseError, match="audit log"), own:
        call()
    assert new_entries(before) == []
    if state is not None:
        assert state() == before_state


# Each prepares a refused action in ``env``: (the call, the refusal expected: an
# error code, or an exception class for a refusal that is not a DomainError).
Refused = tuple[Callable[[], Any], ErrorCode | type[Exception]]


def _twice(first: Callable[[Env], Prepared]) -> Callable[[Env], Refused]:
    def prepare(env: Env) -> Refused:
        _actor, call, _state = first(env)
        call()
        return call, ErrorCode.ALREADY_HANDLED

    return prepare


def _refused_review(who: str, action: str, reason: str, code: ErrorCode) -> Callable[[Env], Refused]:
    def prepare(env: Env) -> Refused:
        flag = env.flagged()
        user = env.member.user if who == "member" else env.site_moderator
        return lambda: moderation_services.review_flag(user=user, flag_id=flag.pk, action=action, reason=reason), code

    return prepare


def _refused_acknowledge(env: Env) -> Refused:
    flag = env.crisis()
    return lambda: moderation_services.acknowledge_crisis(user=env.member.user, flag_id=flag.pk), ErrorCode.FORBIDDEN


REFUSALS: dict[str, Callable[[Env], Refused]] = {
    "pin by a member": lambda env: (
        lambda: chat_services.pin_message(ctx(env.member), message_id=env.message()),
        ErrorCode.FORBIDDEN,
    ),
    "pin of a missing message": lambda env: (
        lambda: chat_services.pin_message(ctx(env.facilitator), message_id=999),
        ErrorCode.NOT_FOUND,
    ),
    "unpin by a member": lambda env: (
        lambda: chat_services.pin_message(ctx(env.member), message_id=None),
        ErrorCode.FORBIDDEN,
    ),
    "slow mode by a member": lambda env: (
        lambda: chat_services.set_slow_mode(ctx(env.member), seconds=30),
        ErrorCode.FORBIDDEN,
    ),
    "mute by a member": lambda env: (
        lambda: chat_services.mute_member(ctx(env.member), alias=env.facilitator.alias, minutes=10, reason="test"),
        ErrorCode.FORBIDDEN,
    ),
    "mute of a moderator": lambda env: (
        lambda: chat_services.mute_member(ctx(env.facilitator), alias=env.moderator.alias, minutes=10, reason="test"),
        ErrorCode.FORBIDDEN,
    ),
    "mute of an unknown alias": lambda env: (
        lambda: chat_services.mute_member(ctx(env.facilitator), alias="Nobody Here", minutes=10, reason="test"),
        ErrorCode.NOT_FOUND,
    ),
    "close room by a member": lambda env: (
        lambda: chat_services.set_room_closed(ctx(env.member), closed=True),
        ErrorCode.FORBIDDEN,
    ),
    "open room by a member": lambda env: (
        lambda: chat_services.set_room_closed(ctx(env.member), closed=False),
        ErrorCode.FORBIDDEN,
    ),
    "remove by a member": lambda env: (
        lambda: chat_services.remove_message(ctx(env.member), message_id=env.message(), reason="test"),
        ErrorCode.FORBIDDEN,
    ),
    "remove of a missing message": lambda env: (
        lambda: chat_services.remove_message(ctx(env.facilitator), message_id=999, reason="test"),
        ErrorCode.NOT_FOUND,
    ),
    "review by a member": _refused_review("member", "remove", "no", ErrorCode.FORBIDDEN),
    "review without a reason": _refused_review("site_moderator", "remove", "  ", ErrorCode.BAD_FRAME),
    "review with an unknown action": _refused_review("site_moderator", "shout", "loud", ErrorCode.BAD_FRAME),
    "review of a handled item": _twice(_review("dismiss")),
    "rule change by a member": lambda env: (
        lambda: moderation_services.save_rule(user=env.member.user, pattern="plug", category="sourcing"),
        ErrorCode.FORBIDDEN,
    ),
    "rule with a bad pattern": lambda env: (
        lambda: moderation_services.save_rule(
            user=env.site_moderator, pattern="(oops", kind="regex", category="sourcing"
        ),
        ValidationError,
    ),
    "acknowledge by a member": _refused_acknowledge,
    "acknowledge twice": _twice(_acknowledge),
    "reveal by a site moderator": lambda env: (
        lambda: moderation_services.reveal_identity(
            user=env.site_moderator, membership_id=env.member.pk, reason="I need to know who this is"
        ),
        ErrorCode.FORBIDDEN,
    ),
    "reveal without a real reason": lambda env: (
        lambda: moderation_services.reveal_identity(user=env.admin, membership_id=env.member.pk, reason="why"),
        ErrorCode.BAD_FRAME,
    ),
    "reveal of an unknown member": lambda env: (
        lambda: moderation_services.reveal_identity(
            user=env.admin, membership_id=99_999, reason="Credible threat to another member's safety"
        ),
        ErrorCode.NOT_FOUND,
    ),
}


@pytest.mark.parametrize("prepare", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_action_writes_no_entry(env, prepare):
    """A refused moderator action raises its refusal and writes no entry."""
    call, expected = prepare(env)
    before = entry_ids()
    if isinstance(expected, ErrorCode):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.code == expected
    else:
        with pytest.raises(expected):
            call()
    assert new_entries(before) == []
