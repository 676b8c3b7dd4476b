"""Who may do what (community.permissions.check / can): every kind of person by every action.

The expectations are written out here, independently of the sets in the module, so a
change to the rules shows up as a failing row rather than passing silently.
"""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission

from community import services
from community.apps import MODERATORS_GROUP
from community.models import Membership
from community.permissions import Action, can, check
from core.errors import ErrorCode
from tests.community.helpers import ban, mute, refuse

A = Action
MEMBER = {A.VIEW_ROOM, A.POST, A.DELETE_OWN, A.REACT, A.REPORT, A.REROLL_ALIAS, A.LEAVE, A.SUGGEST_RESOURCE}
FACILITATOR = MEMBER | {
    A.PIN,
    A.SLOW_MODE,
    A.MUTE,
    A.CLOSE_ROOM,
    A.REMOVE_MESSAGE,
    A.SCHEDULE_SESSION,
    A.PUBLISH_RESOURCE,
    A.VIEW_QUEUE,
    A.DISMISS,
    A.CHECK_IN,
    A.SHARE_RESOURCE,
    A.VERIFY_RESOURCE,
}
CIRCLE_MODERATOR = FACILITATOR | {A.REVIEW, A.BAN, A.WARN, A.MANAGE_RESOURCES}
SITE_WIDE = {A.MANAGE_RULES, A.VIEW_AUDIT, A.REVEAL_IDENTITY, A.CURATE_LIBRARY}
# A site moderator who is not in the circle: moderation actions and the rules and
# audit log, but never the identity behind an alias.
SITE_MODERATOR = {
    A.JOIN,
    A.OWN_ACCOUNT,
    A.REVIEW,
    A.BAN,
    A.WARN,
    A.MUTE,
    A.REMOVE_MESSAGE,
    A.PIN,
    A.VIEW_QUEUE,
    A.DISMISS,
    A.CHECK_IN,
    A.MANAGE_RULES,
    A.VIEW_AUDIT,
    # the library: publish and re-check in any circle, keep the site-wide library
    A.PUBLISH_RESOURCE,
    A.VERIFY_RESOURCE,
    A.MANAGE_RESOURCES,
    A.CURATE_LIBRARY,
}

OK = None


def expected(who: str, action: Action) -> ErrorCode | None:
    """The outcome for ``who`` doing ``action`` in the circle: OK or the refusal's code."""
    if who == "anonymous":
        return ErrorCode.FORBIDDEN
    if who == "site_moderator":
        if action in SITE_MODERATOR:
            return OK
        return ErrorCode.FORBIDDEN if action in SITE_WIDE else ErrorCode.NOT_MEMBER
    if action == A.OWN_ACCOUNT:
        return OK  # anyone signed in, on their own account, whatever their circles
    if action in SITE_WIDE:
        return ErrorCode.FORBIDDEN
    if who in ("outsider", "departed"):
        return OK if action == A.JOIN else ErrorCode.NOT_MEMBER
    if who == "banned":
        return ErrorCode.BANNED
    if action == A.JOIN:
        return ErrorCode.ALREADY_MEMBER
    if who == "muted":
        if action in (A.POST, A.REACT, A.SUGGEST_RESOURCE):  # taking back one's own words stays allowed
            return ErrorCode.MUTED
        who = "member"
    allowed = {"member": MEMBER, "facilitator": FACILITATOR, "circle_moderator": CIRCLE_MODERATOR}[who]
    return OK if action in allowed else ErrorCode.FORBIDDEN


WHO = [
    "anonymous",
    "outsider",
    "member",
    "muted",
    "facilitator",
    "circle_moderator",
    "site_moderator",
    "departed",
    "banned",
]


@pytest.fixture
def person(request, make_user, circle, join, site_moderator):
    """The user for one kind of person, relative to ``circle``."""
    who = request.param
    if who == "anonymous":
        return AnonymousUser()
    if who == "site_moderator":
        return site_moderator
    user = make_user(f"{who.replace('_', '-')}-person")
    if who == "outsider":
        return user
    role = {"facilitator": Membership.Role.FACILITATOR, "circle_moderator": Membership.Role.MODERATOR}
    membership = join(user, circle, role.get(who, Membership.Role.MEMBER))
    if who == "departed":
        services.leave_circle(user=user, circle=circle)
    elif who == "banned":
        ban(membership)
    elif who == "muted":
        mute(membership, by=join(make_user("muting-facilitator"), circle, Membership.Role.FACILITATOR))
    return user


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("person", WHO, indirect=True)
def test_check_allows_or_refuses_with_the_expected_code(person, action, circle, request):
    """check() allows exactly the actions of each kind of person and refuses the rest with a stable code."""
    who = request.node.callspec.params["person"]
    want = expected(who, action)
    if want is OK:
        check(person, action, circle)
        assert can(person, action, circle)
    else:
        refuse(want, check, user=person, action=action, circle=circle)
        assert not can(person, action, circle)


def test_every_action_has_a_row_in_the_table():
    """The table above covers every Action the module defines."""
    assert set(Action) == {A.JOIN, A.OWN_ACCOUNT} | CIRCLE_MODERATOR | SITE_WIDE


def test_moderators_group_holds_moderation_permissions_but_not_reveal_identity(db):
    """The post_migrate hook gives the "Moderators" group moderation, rules and audit rights, never reveal_identity."""
    group = Group.objects.get(name=MODERATORS_GROUP)
    community = set(group.permissions.filter(content_type__app_label="community").values_list("codename", flat=True))
    assert community == {"moderate_circles", "manage_rules", "view_audit"}
    assert not group.permissions.filter(codename="reveal_identity").exists()
    assert Permission.objects.filter(codename="reveal_identity", content_type__app_label="community").exists()


def test_site_moderator_may_review_and_ban_but_not_reveal_identity(site_moderator, circle):
    """A site moderator may review and ban in a circle they are not in, but never reveal an identity."""
    assert can(site_moderator, Action.REVIEW, circle)
    assert can(site_moderator, Action.BAN, circle)
    refuse(ErrorCode.FORBIDDEN, check, user=site_moderator, action=Action.REVEAL_IDENTITY)


def test_site_moderator_banned_from_a_circle_as_member_still_moderates_it(site_moderator, circle, join):
    """Site-wide moderation does not depend on the moderator's own membership of the circle."""
    ban(join(site_moderator, circle))
    assert can(site_moderator, Action.REMOVE_MESSAGE, circle)
    refuse(ErrorCode.BANNED, check, user=site_moderator, action=Action.POST, circle=circle)


def test_a_superuser_may_reveal_identity(make_user):
    """Only a holder of the reveal_identity permission (here a superuser) may reveal who is behind an alias."""
    user = make_user("operator-one")
    # No service makes operators (createsuperuser does); set the flag as it would.
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    check(user, Action.REVEAL_IDENTITY)


def test_circle_action_without_a_circle_is_refused_with_not_found(make_user):
    """Asking about a circle action with no circle is refused with NOT_FOUND."""
    refuse(ErrorCode.NOT_FOUND, check, user=make_user(), action=Action.POST, circle=None)


def test_a_passed_membership_of_none_means_not_a_member(member, circle):
    """A caller passing membership=None (already looked up, none found) is treated as a non-member."""
    refuse(ErrorCode.NOT_MEMBER, check, user=member.user, action=Action.POST, circle=circle, membership=None)


def test_muted_message_names_the_end_of_the_mute(member, facilitator, circle):
    """The MUTED refusal tells the member until when, and carries the time for clients."""
    mute(member, by=facilitator, minutes=30)
    err = refuse(ErrorCode.MUTED, check, user=member.user, action=Action.POST, circle=circle)
    assert err.message.startswith("You are muted in this circle until ")
    member.refresh_from_db()
    assert err.extra["until"] == member.muted_until.isoformat()


def test_a_circle_role_holds_only_in_its_own_circle(circle_moderator, make_circle, join):
    """A moderator of one circle is a plain member elsewhere: banning there is FORBIDDEN."""
    other = make_circle()
    join(circle_moderator.user, other)
    assert can(circle_moderator.user, Action.BAN, circle_moderator.circle)
    refuse(ErrorCode.FORBIDDEN, check, user=circle_moderator.user, action=Action.BAN, circle=other)
    refuse(ErrorCode.NOT_MEMBER, check, user=circle_moderator.user, action=Action.BAN, circle=make_circle())
