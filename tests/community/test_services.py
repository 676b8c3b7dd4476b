"""Circles and roles through community.services: joining, aliases, leaving, refusals."""

import pytest

from community import services
from community.models import Membership
from core.errors import ErrorCode
from tests.community.helpers import ban, is_alias, mark_posted, refuse, snapshot

# --- joining ------------------------------------------------------------------------


def test_join_gives_an_active_member_with_a_two_word_alias(make_user, circle):
    """Joining makes an active member (role member) known by a two-word alias."""
    membership = services.join_circle(user=make_user(), circle=circle)
    assert membership.is_active
    assert membership.role == Membership.Role.MEMBER
    assert is_alias(membership.alias)
    assert not membership.has_posted


def test_aliases_are_unique_within_a_circle(make_user, make_circle):
    """Every member of a circle gets a different alias."""
    circle = make_circle(capacity=60)
    memberships = [services.join_circle(user=make_user(), circle=circle) for _ in range(60)]
    assert len({m.alias for m in memberships}) == 60
    assert all(is_alias(m.alias) for m in memberships)


def test_aliases_in_two_circles_are_drawn_independently_of_the_handle(make_user, make_circle):
    """One person in two circles gets a valid alias in each, neither containing the handle."""
    user = make_user("amber-heron-fan")
    first = services.join_circle(user=user, circle=make_circle())
    second = services.join_circle(user=user, circle=make_circle())
    for membership in (first, second):
        assert is_alias(membership.alias)
        assert "amber-heron-fan" not in membership.alias.lower()
        assert user.username.lower() not in membership.alias.lower()


def test_join_refuses_a_full_circle_with_circle_full(make_user, make_circle):
    """A circle at capacity refuses a new member with CIRCLE_FULL (409) and makes no membership."""
    circle = make_circle(capacity=2)
    services.join_circle(user=make_user(), circle=circle)
    services.join_circle(user=make_user(), circle=circle)
    before = snapshot(circle)
    latecomer = make_user()
    err = refuse(ErrorCode.CIRCLE_FULL, services.join_circle, user=latecomer, circle=circle)
    assert err.http_status == 409
    assert snapshot(circle) == before
    assert not Membership.objects.filter(user=latecomer).exists()


def test_departed_members_free_their_seat(make_user, make_circle):
    """Someone who left no longer takes a seat, so a full circle has room again."""
    circle = make_circle(capacity=1)
    first = make_user()
    services.join_circle(user=first, circle=circle)
    services.leave_circle(user=first, circle=circle)
    assert services.join_circle(user=make_user(), circle=circle).is_active


@pytest.mark.parametrize("code", ["", "sunrise-41", "SUNRISE-42"])
def test_join_refuses_a_wrong_invite_code_with_bad_invite_code(make_user, make_circle, code):
    """An invite-only circle refuses a missing or wrong code with BAD_INVITE_CODE and makes no membership."""
    circle = make_circle(access="invite", invite_code="sunrise-42")
    user = make_user()
    err = refuse(ErrorCode.BAD_INVITE_CODE, services.join_circle, user=user, circle=circle, invite_code=code)
    assert err.http_status == 400
    assert not Membership.objects.filter(circle=circle).exists()


def test_join_accepts_the_right_invite_code(make_user, make_circle):
    """The right invite code (surrounding spaces ignored) joins an invite-only circle."""
    circle = make_circle(access="invite", invite_code="sunrise-42")
    membership = services.join_circle(user=make_user(), circle=circle, invite_code=" sunrise-42 ")
    assert membership.is_active and membership.circle_id == circle.pk


def test_joining_twice_is_refused_with_already_member(member, circle):
    """An active member joining again gets ALREADY_MEMBER (409) and keeps the same alias."""
    before = snapshot(circle)
    err = refuse(ErrorCode.ALREADY_MEMBER, services.join_circle, user=member.user, circle=circle)
    assert err.http_status == 409
    assert snapshot(circle) == before


def test_banned_member_cannot_rejoin(member, circle):
    """A banned member joining again gets BANNED (403) and stays banned under the same alias."""
    ban(member)
    before = snapshot(circle)
    err = refuse(ErrorCode.BANNED, services.join_circle, user=member.user, circle=circle)
    assert err.http_status == 403
    assert snapshot(circle) == before


def test_banned_member_who_left_cannot_rejoin(member, circle):
    """Leaving before the ban is noticed does not open a way back in: rejoining is BANNED."""
    services.leave_circle(user=member.user, circle=circle)
    ban(member)
    before = snapshot(circle)
    refuse(ErrorCode.BANNED, services.join_circle, user=member.user, circle=circle)
    assert snapshot(circle) == before


def test_banned_member_does_not_count_towards_capacity(make_user, make_circle):
    """A banned member's seat is free for someone else."""
    circle = make_circle(capacity=1)
    banned = services.join_circle(user=make_user(), circle=circle)
    ban(banned)
    assert services.join_circle(user=make_user(), circle=circle).is_active


# --- aliases ------------------------------------------------------------------------


def test_reroll_before_first_post_draws_a_different_alias(member, circle):
    """Before the first post, re-rolling gives a new valid alias and stores it."""
    old = member.alias
    updated = services.reroll_alias(user=member.user, circle=circle)
    assert updated.alias != old
    assert is_alias(updated.alias)
    member.refresh_from_db()
    assert member.alias == updated.alias


def test_reroll_after_first_post_is_refused_with_alias_locked(member, circle):
    """Once the member has posted, re-rolling is refused with ALIAS_LOCKED (409) and the alias stays."""
    mark_posted(member)
    before = snapshot(circle)
    err = refuse(ErrorCode.ALIAS_LOCKED, services.reroll_alias, user=member.user, circle=circle)
    assert err.http_status == 409
    assert snapshot(circle) == before


def test_reroll_by_a_non_member_is_refused_with_not_member(make_user, circle, member):
    """Someone who is not in the circle cannot re-roll: NOT_MEMBER."""
    before = snapshot(circle)
    refuse(ErrorCode.NOT_MEMBER, services.reroll_alias, user=make_user(), circle=circle)
    assert snapshot(circle) == before


def test_reroll_never_takes_another_members_alias(make_user, make_circle):
    """A re-rolled alias is never one already used in the circle."""
    circle = make_circle(capacity=30)
    others = {services.join_circle(user=make_user(), circle=circle).alias for _ in range(29)}
    me = services.join_circle(user=make_user(), circle=circle)
    for _ in range(20):
        assert services.reroll_alias(user=me.user, circle=circle).alias not in others


# --- leaving ------------------------------------------------------------------------


def test_leave_marks_the_membership_departed(member, circle):
    """Leaving keeps the row (alias reserved) but the person is no longer an active member."""
    services.leave_circle(user=member.user, circle=circle)
    member.refresh_from_db()
    assert member.left_at is not None
    assert not member.is_active
    assert services.active_member_count(circle) == 0


def test_rejoin_after_leaving_gets_a_new_alias(member, circle):
    """Coming back after leaving gives a fresh alias, not the old one, and a plain member role."""
    old = member.alias
    services.leave_circle(user=member.user, circle=circle)
    again = services.join_circle(user=member.user, circle=circle)
    assert again.pk == member.pk
    assert again.is_active
    assert again.alias != old and is_alias(again.alias)
    assert again.role == Membership.Role.MEMBER


def test_rejoin_after_leaving_can_reroll_again(member, circle):
    """A member who posted, left and came back is a new face: re-rolling is allowed again."""
    mark_posted(member)
    services.leave_circle(user=member.user, circle=circle)
    services.join_circle(user=member.user, circle=circle)
    assert services.reroll_alias(user=member.user, circle=circle).has_posted is False


def test_leave_by_a_non_member_is_refused_with_not_member(make_user, circle, member):
    """Leaving a circle one is not in is refused with NOT_MEMBER (403)."""
    before = snapshot(circle)
    err = refuse(ErrorCode.NOT_MEMBER, services.leave_circle, user=make_user(), circle=circle)
    assert err.http_status == 403
    assert snapshot(circle) == before


def test_leaving_twice_is_refused_with_not_member(member, circle):
    """A member who already left cannot leave again: NOT_MEMBER, and left_at is unchanged."""
    services.leave_circle(user=member.user, circle=circle)
    before = snapshot(circle)
    refuse(ErrorCode.NOT_MEMBER, services.leave_circle, user=member.user, circle=circle)
    assert snapshot(circle) == before


def test_last_facilitator_cannot_leave(facilitator, member, circle):
    """The circle's only facilitator is refused with LAST_FACILITATOR (409) and stays."""
    before = snapshot(circle)
    err = refuse(ErrorCode.LAST_FACILITATOR, services.leave_circle, user=facilitator.user, circle=circle)
    assert err.http_status == 409
    assert snapshot(circle) == before


def test_a_facilitator_can_leave_when_another_remains(facilitator, make_user, circle, join):
    """With a second active facilitator, one facilitator may leave."""
    join(make_user(), circle, Membership.Role.FACILITATOR)
    services.leave_circle(user=facilitator.user, circle=circle)
    facilitator.refresh_from_db()
    assert facilitator.left_at is not None


def test_a_banned_facilitator_does_not_count_as_another_facilitator(facilitator, make_user, circle, join):
    """A banned co-facilitator cannot run the circle, so the last active facilitator still cannot leave."""
    ban(join(make_user(), circle, Membership.Role.FACILITATOR))
    before = snapshot(circle)
    refuse(ErrorCode.LAST_FACILITATOR, services.leave_circle, user=facilitator.user, circle=circle)
    assert snapshot(circle) == before


def test_set_role_changes_the_members_role(member, circle):
    """set_role gives a member a role in the circle."""
    services.set_role(circle=circle, membership=member, role=Membership.Role.FACILITATOR)
    member.refresh_from_db()
    assert member.role == Membership.Role.FACILITATOR


def test_active_member_count_counts_only_active_members(circle, member, make_user, join):
    """The member count shown on pages leaves out departed and banned members."""
    ban(join(make_user(), circle))
    services.leave_circle(user=join(make_user(), circle).user, circle=circle)
    assert services.active_member_count(circle) == 1
