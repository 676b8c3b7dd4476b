"""Circles run by facilitators: the lead permission, making and editing a circle, members and mutes."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from community import services as community_services
from community.apps import MODERATORS_GROUP
from community.models import Circle, Membership
from core.errors import ErrorCode
from schedules import facilitation, selectors
from tests.community.helpers import refuse

pytestmark = pytest.mark.django_db


def _moderator(make_user):
    user = make_user("site-mod")
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def test_a_moderator_lets_someone_lead_who_then_creates_a_circle_as_its_facilitator(make_user):
    person = make_user("future-lead")
    refuse(ErrorCode.FORBIDDEN, facilitation.create_circle, user=person, name="New dawn")
    refuse(ErrorCode.FORBIDDEN, facilitation.set_leader, by=make_user("nobody-special"), user=person, on=True)
    facilitation.set_leader(by=_moderator(make_user), user=person, on=True)
    person = type(person).objects.get(pk=person.pk)
    circle = facilitation.create_circle(user=person, name="New dawn", access="invite", capacity=12)
    assert circle.invite_code and circle.capacity == 12
    assert Membership.objects.get(circle=circle, user=person).role == Membership.Role.FACILITATOR


def test_a_facilitator_edits_their_circle_and_rotates_the_code_but_not_another(
    facilitator, make_circle, make_user, join
):
    circle = facilitation.update_circle(
        user=facilitator.user,
        circle=facilitator.circle,
        name="Evening Circle",
        topic="After the infusion",
        access="invite",
        open_between_sessions=False,
        retention_days=30,
    )
    assert (circle.name, circle.access, circle.open_between_sessions, circle.retention_days) == (
        "Evening Circle",
        "invite",
        False,
        30,
    )
    old = circle.invite_code
    assert facilitation.rotate_invite_code(user=facilitator.user, circle=circle) != old
    other = make_circle(name="Not yours", slug="not-yours")
    refuse(ErrorCode.NOT_MEMBER, facilitation.update_circle, user=facilitator.user, circle=other, name="Taken")
    assert Circle.objects.get(pk=other.pk).name == "Not yours"


def test_a_member_cannot_edit_the_circle(member):
    refuse(ErrorCode.FORBIDDEN, facilitation.update_circle, user=member.user, circle=member.circle, name="Mine")
    assert Circle.objects.get(pk=member.circle_id).name == "Morning Circle"


def test_bad_circle_settings_are_refused(facilitator):
    for kw in ({"name": "  "}, {"capacity": 1}, {"access": "secret"}, {"retention_days": 0}):
        refuse(
            ErrorCode.BAD_SCHEDULE, facilitation.update_circle, user=facilitator.user, circle=facilitator.circle, **kw
        )


def test_the_facilitator_sees_members_by_alias_with_mutes_and_unmutes(facilitator, member):
    community_services.mute_membership(target=member, minutes=30)
    rows = {r.alias: r for r in facilitation.members(user=facilitator.user, circle=facilitator.circle)}
    assert rows[member.alias].muted_until is not None and rows[facilitator.alias].role == "facilitator"
    client = Client()
    client.force_login(facilitator.user)
    page = client.get(reverse("schedules:circle_edit", args=[facilitator.circle.slug])).content.decode()
    assert member.alias in page and member.user.username not in page
    client.post(
        reverse("schedules:circle_edit", args=[facilitator.circle.slug]),
        {"action": "unmute", "membership": str(member.pk)},
    )
    assert Membership.objects.get(pk=member.pk).muted_until is None
    refuse(ErrorCode.FORBIDDEN, facilitation.unmute, user=member.user, circle=member.circle, membership_id=member.pk)


def test_the_leaders_page_works_by_member_number_and_never_shows_a_handle(make_user, circle, join):
    """Issue 11's rule on the issue 12 page: a site moderator grants the lead
    permission by a member number and sees numbers, never a handle."""
    person = join(make_user("quiet-handle-4417"), circle)
    client = Client()
    client.force_login(_moderator(make_user))
    refused = client.post("/sessions/leaders/", {"who": "M-NOPE", "on": "1"}, follow=True)
    assert "No member has that number" in refused.content.decode()
    assert not selectors.leaders_by_number()
    client.post("/sessions/leaders/", {"who": person.member_number, "on": "1"})
    assert type(person.user).objects.get(pk=person.user.pk).has_perm("schedules.lead_circles")
    page = client.get("/sessions/leaders/").content.decode()
    assert person.member_number in page and "quiet-handle-4417" not in page
    # a handle is not taken either
    other = join(make_user("another-handle-99"), circle)
    client.post("/sessions/leaders/", {"who": "another-handle-99", "on": "1"})
    assert not type(other.user).objects.get(pk=other.user.pk).has_perm("schedules.lead_circles")
