"""Writes for people and places: accounts, joining, leaving, aliases.

Plain functions with keyword-only arguments, called by views, consumers, the admin,
management commands and tests alike.  Each raises ``DomainError`` on a refusal and
changes nothing when it does.
"""

import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from core.prepared import Prepared
from realtime import publish
from realtime.events import Kicked, Notice
from realtime.protocol import CLOSE_ACCESS_CHANGED

from . import aliases, memberdata, throttle
from .models import Circle, Membership
from .permissions import Action, check, check_member

HANDLE_MIN, HANDLE_MAX = 3, 30
HANDLE_RULE = (
    f"{HANDLE_MIN} to {HANDLE_MAX} characters: letters, numbers, dots, underscores and hyphens (. _ -), no spaces."
)
_HANDLE_CHAR = re.compile(r"[\w.-]")


# --- accounts ---------------------------------------------------------------


def normalise_handle(handle: str) -> str:
    """The handle as stored: surrounding spaces dropped, Unicode NFKC (as Django
    normalises usernames), so look-alike encodings of one name are one handle."""
    return unicodedata.normalize("NFKC", (handle or "").strip())


def validate_handle(handle: str) -> str:
    """The one handle rule (sign-up form and ``register_user`` alike): 3 to 30
    characters, letters, digits and . _ - only.  Returns the normalised handle;
    raises ``DomainError(BAD_HANDLE)`` with a sentence saying what to change.
    Never shortens a handle: a long one is refused, not cut."""
    handle = normalise_handle(handle)
    if not handle:
        raise DomainError(ErrorCode.BAD_HANDLE, "Please choose a handle.")
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        raise DomainError(
            ErrorCode.BAD_HANDLE,
            f"A handle is {HANDLE_MIN} to {HANDLE_MAX} characters long; this one has {len(handle)}.",
        )
    bad = sorted({ch for ch in handle if not _HANDLE_CHAR.fullmatch(ch)}, key=handle.index)
    if bad:
        shown = ", ".join("a space" if ch.isspace() else f"“{ch}”" for ch in bad[:5])
        raise DomainError(
            ErrorCode.BAD_HANDLE,
            f"A handle may use only letters, numbers, dots, underscores and hyphens (this one has {shown}).",
        )
    return handle


def register_user(*, handle: str, password: str) -> User:
    """Create an account from a handle and a password only (no e-mail, no name).

    Handles follow ``validate_handle`` and are unique case-insensitively.
    Raises ``DomainError`` (BAD_HANDLE, HANDLE_TAKEN) or ``ValidationError``
    (weak password).  Recovery codes are issued separately
    (``accounts.issue_recovery_codes``), by the sign-up page.
    """
    handle = validate_handle(handle)
    if User.objects.filter(username__iexact=handle).exists():
        raise DomainError(ErrorCode.HANDLE_TAKEN, "That handle is taken. Please choose another.")
    validate_password(password, user=User(username=handle))
    try:
        with transaction.atomic():
            return User.objects.create_user(username=handle, password=password)
    except IntegrityError:
        raise DomainError(ErrorCode.HANDLE_TAKEN, "That handle is taken. Please choose another.") from None


# --- access ending while connected -----------------------------------------------

ACCESS_ENDED = {
    # why: (code, what the page says)
    "left": ("left", "You left this circle."),
    "signed_out": ("signed_out", "You signed out."),
    "signed_out_elsewhere": ("signed_out", "This session was ended from the account page. Please sign in again."),
    "password_changed": ("password_changed", "Your password changed. Please sign in again."),
    "account_deleted": ("account_deleted", "Your account is deleted."),
    "role_changed": ("role_changed", "Your role in this circle changed."),
    "not_a_moderator": ("role_changed", "You are no longer a site moderator."),
}


# Read by a socket's connect when its session was not loaded (core.prepared).
_SESSION_EXPIRY = Prepared(lambda key: Session.objects.filter(session_key=key).values_list("expire_date")[:1])


def session_expiry(session: SessionBase | None) -> datetime | None:
    """When the stored ``session`` ends (None: no such session): the expiry its
    load read (community.sessions; a connect has just loaded it to know who is
    signed in), else read by its key."""
    if session is None or not session.session_key:
        return None
    stored = getattr(session, "stored_expiry", None)
    if stored is not None:
        return stored
    found = _SESSION_EXPIRY.rows(session.session_key)
    return found[0][0] if found else None


def end_access(*, user: User, why: str, circle: Circle | None = None) -> None:
    """Close, on every process, the sockets through which ``user`` follows
    ``circle`` (or every circle and the moderators' socket): told ``why`` in a
    notice, then closed with 4409 (the page reconnects if it still may).  Sent
    on commit; call it where the access ends."""
    code, message = ACCESS_ENDED[why]
    event = Kicked(code=code, message=message, close_code=CLOSE_ACCESS_CHANGED, user=user.pk)
    circle_ids = (
        [circle.pk]
        if circle is not None
        else list(Membership.objects.filter(user=user).values_list("circle_id", flat=True))
    )
    for circle_id in circle_ids:
        publish.to_circle(circle_id, event)
    if circle is None:
        publish.to_staff(event)


@transaction.atomic
def delete_account(*, user: User, erase_messages: bool = False) -> None:
    """Delete the account.  Memberships stay as departed rows without a user, so
    the aliases are never handed to someone else in the same circle.  Open
    sockets close at once.  ``erase_messages``: also take the member's messages
    out of every room and erase their text (``memberdata.erase``)."""
    end_access(user=user, why="account_deleted")
    if erase_messages:
        memberdata.erase(user)
    Membership.objects.filter(user=user).update(user=None, left_at=timezone.now())
    user.delete()


# --- circles -------------------------------------------------------------------


@transaction.atomic
def join_circle(*, user: User, circle: Circle, invite_code: str = "", source: str = "") -> Membership:
    """Join ``circle`` and receive a fresh alias, unique in the circle.

    Refusals: BANNED, ALREADY_MEMBER, BAD_INVITE_CODE, CIRCLE_FULL, and
    RATE_LIMITED after too many wrong invite codes from the account or from
    ``source`` (``throttle.source_of``; views pass it).  The circle row is
    locked so two joins cannot both take the last seat.
    """
    circle = Circle.objects.select_for_update().get(pk=circle.pk)
    existing = Membership.objects.filter(user=user, circle=circle).first()
    check(user, Action.JOIN, circle, existing)
    if circle.access == Circle.Access.INVITE:
        throttle.check_invite(user_id=user.pk, source=source)
        if not secrets.compare_digest((invite_code or "").strip().encode(), circle.invite_code.encode()):
            throttle.invite_failed(user_id=user.pk, source=source)
            raise DomainError(ErrorCode.BAD_INVITE_CODE, "That invite code is not right for this circle.")
    if active_member_count(circle) >= circle.capacity:
        raise DomainError(ErrorCode.CIRCLE_FULL, "This circle is full right now.")
    taken = set(Membership.objects.filter(circle=circle).values_list("alias", flat=True))
    try:
        alias = aliases.unique_alias(taken)
    except ValueError:  # every two-word alias has been used in this circle
        raise DomainError(ErrorCode.CIRCLE_FULL, "This circle cannot take new members any more.") from None
    if existing is not None:
        # Coming back after leaving: a new alias, unlinkable to the old one.
        # The same membership (its number and moderation history stay), and a
        # mute still running stays: leaving is not a way out of a sanction.
        existing.alias, existing.left_at, existing.joined_at = alias, None, timezone.now()
        existing.role, existing.has_posted = Membership.Role.MEMBER, False
        existing.save(update_fields=["alias", "left_at", "joined_at", "role", "has_posted"])
        return existing
    return Membership.objects.create(user=user, circle=circle, alias=alias)


def active_member_count(circle: Circle) -> int:
    return Membership.objects.filter(circle=circle, left_at__isnull=True, banned=False, user__isnull=False).count()


@transaction.atomic
def leave_circle(*, user: User, circle: Circle) -> None:
    locked = Membership.objects.select_for_update().filter(user=user, circle=circle).first()
    membership = check_member(user, Action.LEAVE, circle, locked)
    if membership.role == Membership.Role.FACILITATOR and not (
        Membership.objects.filter(
            circle=circle, role=Membership.Role.FACILITATOR, left_at__isnull=True, banned=False, user__isnull=False
        )
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise DomainError(
            ErrorCode.LAST_FACILITATOR,
            "You are this circle's only facilitator. Ask an administrator to hand the circle on first.",
        )
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    end_access(user=user, why="left", circle=circle)


@transaction.atomic
def reroll_alias(*, user: User, circle: Circle) -> Membership:
    """Draw a new alias; allowed only before the member's first post."""
    locked = Membership.objects.select_for_update().filter(user=user, circle=circle).first()
    membership = check_member(user, Action.REROLL_ALIAS, circle, locked)
    if membership.has_posted:
        raise DomainError(
            ErrorCode.ALIAS_LOCKED, "Your alias is fixed once you have posted, so others can follow the thread."
        )
    taken = set(Membership.objects.filter(circle=circle).values_list("alias", flat=True))
    membership.alias = aliases.unique_alias(taken, avoid=membership.alias)
    membership.save(update_fields=["alias"])
    return membership


def set_role(*, circle: Circle, membership: Membership, role: Membership.Role) -> Membership:
    """Give a member a role in the circle.  Their open sockets in the circle
    reconnect with it (a demoted facilitator stops getting crisis alerts at once)."""
    changed = membership.role != role
    membership.role = role
    membership.save(update_fields=["role"])
    if changed and membership.user is not None:
        end_access(user=membership.user, why="role_changed", circle=circle)
    return membership


# --- sanctions (called by chat and moderation services, which check permissions) ---


def mute_membership(*, target: Membership, minutes: int) -> Membership:
    """Mute ``target`` for ``minutes`` from now; takes effect at once on every
    process (posting re-reads the membership).  The member is told privately."""

    target.muted_until = until = timezone.now() + timedelta(minutes=minutes)
    target.save(update_fields=["muted_until"])
    span = "1 minute" if minutes == 1 else f"{minutes} minutes"
    publish.to_member(
        target.circle_id,
        target.pk,
        Notice(
            code="muted",
            message=f"Your posting is paused for {span}. You can still read along.",
            until=until.isoformat(),
        ),
    )
    return target


def warn_membership(*, target: Membership, text: str) -> None:
    """A private notice from the moderators to ``target``."""

    publish.to_member(
        target.circle_id, target.pk, Notice(code="warning", message=f"A note from the moderators: {text}")
    )


def ban_membership(*, target: Membership) -> Membership:
    """Ban ``target`` from the circle; their open sockets are closed at once."""

    target.banned, target.banned_at = True, timezone.now()
    target.save(update_fields=["banned", "banned_at"])
    publish.to_member(
        target.circle_id, target.pk, Kicked(code="banned", message="You can no longer take part in this circle.")
    )
    return target
