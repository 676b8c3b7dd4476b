"""The one answer to "may X do Y in circle C".

Views, consumers, services and the admin all ask here.  ``check`` raises a coded
``DomainError`` (403-class); ``can`` returns a bool for templates and menus.

Site-wide moderators are the users with ``community.moderate_circles`` (given to
the "Moderators" group by a migration); facilitators and circle moderators hold
their role per circle, on the ``Membership``.
"""

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import DomainError, ErrorCode

from .models import Circle, Membership


class Action(StrEnum):
    # any signed-in person: JOIN a circle; OWN_ACCOUNT: their own account pages
    # (account, recovery codes, sessions, notifications, the reports they made),
    # which only ever read and write that person's own rows
    JOIN = "join"
    OWN_ACCOUNT = "own_account"
    # active members
    VIEW_ROOM = "view_room"
    POST = "post"
    DELETE_OWN = "delete_own"
    REACT = "react"
    REPORT = "report"
    REROLL_ALIAS = "reroll_alias"
    LEAVE = "leave"
    # facilitators of the circle (and moderators)
    PIN = "pin"
    SLOW_MODE = "slow_mode"
    MUTE = "mute"
    CLOSE_ROOM = "close_room"
    REMOVE_MESSAGE = "remove_message"
    SCHEDULE_SESSION = "schedule_session"
    PUBLISH_RESOURCE = "publish_resource"
    # the review queue for the circle: see its items, close one as needing nothing
    # (DISMISS), say they checked in with a member (CHECK_IN, for concern items)
    VIEW_QUEUE = "view_queue"
    DISMISS = "dismiss"
    CHECK_IN = "check_in"
    # the library (library.resources): members suggest, facilitators publish,
    # share into the room and re-check, moderators edit or remove anyone's post
    SUGGEST_RESOURCE = "suggest_resource"
    SHARE_RESOURCE = "share_resource"
    VERIFY_RESOURCE = "verify_resource"
    MANAGE_RESOURCES = "manage_resources"
    # moderators (circle role or site-wide)
    REVIEW = "review"
    BAN = "ban"
    WARN = "warn"
    # site-wide permissions only
    MANAGE_RULES = "manage_rules"
    VIEW_AUDIT = "view_audit"
    REVEAL_IDENTITY = "reveal_identity"
    # the site-wide library (publish, edit, pin, re-check its posts)
    CURATE_LIBRARY = "curate_library"


MEMBER_ACTIONS = frozenset(
    {
        Action.VIEW_ROOM,
        Action.POST,
        Action.DELETE_OWN,
        Action.REACT,
        Action.REPORT,
        Action.REROLL_ALIAS,
        Action.LEAVE,
        Action.SUGGEST_RESOURCE,
    }
)
FACILITATOR_ACTIONS = MEMBER_ACTIONS | {
    Action.PIN,
    Action.SLOW_MODE,
    Action.MUTE,
    Action.CLOSE_ROOM,
    Action.REMOVE_MESSAGE,
    Action.SCHEDULE_SESSION,
    Action.PUBLISH_RESOURCE,
    Action.VIEW_QUEUE,
    Action.DISMISS,
    Action.CHECK_IN,
    Action.SHARE_RESOURCE,
    Action.VERIFY_RESOURCE,
}
MODERATOR_ACTIONS = FACILITATOR_ACTIONS | {Action.REVIEW, Action.BAN, Action.WARN, Action.MANAGE_RESOURCES}
ROLE_ACTIONS = {
    Membership.Role.MEMBER: MEMBER_ACTIONS,
    Membership.Role.FACILITATOR: FACILITATOR_ACTIONS,
    Membership.Role.MODERATOR: MODERATOR_ACTIONS,
}
# What a site-wide moderator may do in any circle, member or not.
SITE_MODERATOR_ACTIONS = frozenset(
    {
        Action.REVIEW,
        Action.BAN,
        Action.WARN,
        Action.MUTE,
        Action.REMOVE_MESSAGE,
        Action.PIN,
        Action.VIEW_QUEUE,
        Action.DISMISS,
        Action.CHECK_IN,
        Action.PUBLISH_RESOURCE,
        Action.VERIFY_RESOURCE,
        Action.MANAGE_RESOURCES,
    }
)
SITE_PERMISSION = {
    Action.MANAGE_RULES: "community.manage_rules",
    Action.VIEW_AUDIT: "community.view_audit",
    Action.REVEAL_IDENTITY: "community.reveal_identity",
    Action.CURATE_LIBRARY: "community.moderate_circles",
}


def is_site_moderator(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("community.moderate_circles"))


def is_site_moderator_now(user) -> bool:
    """``is_site_moderator``, asked of the database again (``has_perm`` caches
    the answer on the user object for its lifetime, a socket's included)."""
    if not (user and user.is_authenticated):
        return False
    return is_site_moderator(get_user_model()._default_manager.filter(pk=user.pk).first())


def membership_for(user, circle: Circle) -> Membership | None:
    if not (user and user.is_authenticated):
        return None
    return Membership.objects.filter(user=user, circle=circle).first()


_UNSET = object()


def check(user, action: Action, circle: Circle | None = None, membership=_UNSET) -> None:
    """Raise ``DomainError`` unless ``user`` may do ``action`` (in ``circle``).

    ``membership`` may be passed when the caller already looked it up (``None``
    meaning "has none"), to save a query; it must be the user's membership of
    ``circle``.
    """
    if not (user and user.is_authenticated):
        raise DomainError(ErrorCode.FORBIDDEN, "Please log in first.")
    if action == Action.OWN_ACCOUNT:
        return
    if action in SITE_PERMISSION:
        if user.has_perm(SITE_PERMISSION[action]):
            return
        raise DomainError(ErrorCode.FORBIDDEN, "Only site moderators may do that.")
    if circle is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That circle does not exist.")
    if membership is _UNSET:
        membership = membership_for(user, circle)
    if action == Action.JOIN:
        if membership is not None and membership.banned:
            raise DomainError(ErrorCode.BANNED, "You can no longer join this circle.")
        if membership is not None and membership.left_at is None:
            raise DomainError(ErrorCode.ALREADY_MEMBER, "You are already a member of this circle.")
        return
    if action in SITE_MODERATOR_ACTIONS and is_site_moderator(user):
        return
    if membership is None or membership.left_at is not None:
        raise DomainError(ErrorCode.NOT_MEMBER, "Join this circle first.")
    if membership.banned:
        raise DomainError(ErrorCode.BANNED, "You are no longer a member of this circle.")
    if action not in ROLE_ACTIONS[Membership.Role(membership.role)]:
        raise DomainError(ErrorCode.FORBIDDEN, "Your role in this circle does not allow that.")
    # Muted: no new words, no reactions, no suggestions; taking back your own words stays allowed.
    if action in (Action.POST, Action.REACT, Action.SUGGEST_RESOURCE) and membership.is_muted(timezone.now()):
        until = timezone.localtime(membership.muted_until).strftime("%H:%M")
        raise DomainError(
            ErrorCode.MUTED, f"You are muted in this circle until {until}.", until=membership.muted_until.isoformat()
        )
    # Closed means read-only for members: no new words and no reactions (taking
    # back your own message, DELETE_OWN, stays allowed).
    if action in (Action.POST, Action.REACT) and circle.room_closed and membership.role not in Membership.STAFF_ROLES:
        raise DomainError(ErrorCode.ROOM_CLOSED, "The room is closed for now. You can still read it.")


def check_member(user, action: Action, circle: Circle, membership: Membership | object | None = _UNSET) -> Membership:
    """``check`` for an action taken as a member of ``circle``; returns the
    membership (NOT_MEMBER when there is none, site moderators included)."""
    if membership is _UNSET:
        membership = membership_for(user, circle)
    check(user, action, circle, membership)
    if not isinstance(membership, Membership):
        raise DomainError(ErrorCode.NOT_MEMBER, "Join this circle first.")
    return membership


def check_owner(user, owner_id: int | None) -> None:
    """A member's private things (journal, worksheets, voice notes) are theirs
    alone: anyone else gets NOT_FOUND, never FORBIDDEN, which would tell them
    the thing exists.  No role, not even a moderator's, reads them."""
    if not (user and user.is_authenticated) or owner_id is None or owner_id != user.pk:
        raise DomainError(ErrorCode.NOT_FOUND, "There is nothing here.")


def can(user, action: Action, circle: Circle | None = None, membership=_UNSET) -> bool:
    try:
        check(user, action, circle, membership)
    except DomainError:
        return False
    return True
