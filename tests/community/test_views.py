"""Pages: the directory, the circle page and its join / leave / re-roll forms, the admin."""

import pytest
from django.urls import reverse

from community.models import Membership
from core.errors import ErrorCode
from tests.community.helpers import ban, is_alias, mark_posted, snapshot


def circle_url(circle, name: str = "circle") -> str:
    return reverse(f"community:{name}", kwargs={"slug": circle.slug})


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- directory ------------------------------------------------------------------------


def test_directory_lists_circles_with_member_counts(client, circle, member, make_circle):
    """The directory lists every circle with its active member count and capacity, for anyone."""
    make_circle(name="Sunday Stillness", topic="Quiet reflection", capacity=12)
    response = client.get(reverse("community:directory"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Morning Circle" in html and "Sunday Stillness" in html and "Quiet reflection" in html
    assert "1 of 20 members" in html
    assert "0 of 12 members" in html
    assert reverse("signup") in html


def test_directory_shows_my_alias_in_circles_i_joined(client_for, member, make_circle):
    """A member sees their own alias next to the circles they joined and no sign-up call."""
    make_circle(name="Sunday Stillness")
    html = client_for(member.user).get(reverse("community:directory")).content.decode()
    assert f"you are <strong>{member.alias}</strong>" in html
    assert html.count("you are <strong>") == 1
    assert 'class="button primary" href="/accounts/signup/"' not in html


def test_directory_marks_invite_only_circles(client, make_circle):
    """An invite-only circle is labelled as such in the directory."""
    make_circle(name="Closed Circle", access="invite", invite_code="sunrise-42")
    assert "invite only" in client.get(reverse("community:directory")).content.decode()


# --- circle page --------------------------------------------------------------------------


def test_circle_page_needs_a_login(client, circle):
    """An anonymous visitor opening a circle is sent to log in first."""
    response = client.get(circle_url(circle))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_circle_page_shows_description_my_alias_and_member_count(client_for, make_circle, make_user, join):
    """A member's circle page shows the description, their alias and the active member count."""
    circle = make_circle(name="Evening Circle", description="Gentle sharing after a session.", capacity=8)
    me = join(make_user(), circle)
    join(make_user(), circle)
    response = client_for(me.user).get(circle_url(circle))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gentle sharing after a session." in html
    assert f'Here you are <strong id="my-alias" data-testid="alias">{me.alias}</strong>' in html
    assert '<span id="member-count">2</span> of 8 members' in html
    assert "Draw a different alias" in html
    assert "Leave this circle" in html


def test_circle_page_offers_join_to_a_non_member(client_for, make_user, circle):
    """Someone not in the circle sees the join button and no alias."""
    html = client_for(make_user()).get(circle_url(circle)).content.decode()
    assert f'action="{circle_url(circle, "join")}"' in html
    assert 'id="my-alias"' not in html


def test_circle_page_asks_for_an_invite_code_in_an_invite_only_circle(client_for, make_user, make_circle):
    """An invite-only circle's join form has an invite code field."""
    circle = make_circle(access="invite", invite_code="sunrise-42")
    html = client_for(make_user()).get(circle_url(circle)).content.decode()
    assert 'name="invite_code"' in html


def test_circle_page_never_shows_another_members_handle(client_for, make_user, circle, join):
    """Member A's circle page (and directory) shows A's alias and never member B's handle."""
    a = join(make_user("zorblax-quill"), circle)
    b = join(make_user("vantorra-plume"), circle)
    client = client_for(a.user)
    for url in (circle_url(circle), reverse("community:directory")):
        html = client.get(url).content.decode()
        assert "vantorra-plume" not in html.lower()
    html = client.get(circle_url(circle)).content.decode()
    assert a.alias in html
    assert "zorblax-quill" not in html.lower()  # not even one's own handle, e.g. on a shared screen
    assert b.user.username not in html


def test_circle_page_hides_reroll_once_the_member_has_posted(client_for, member, circle):
    """After the first post the re-roll button is gone (the alias is fixed)."""
    mark_posted(member)
    html = client_for(member.user).get(circle_url(circle)).content.decode()
    assert "Draw a different alias" not in html


def test_circle_page_tells_a_banned_member_they_cannot_take_part(client_for, member, circle):
    """A banned member sees a plain refusal and neither a join button nor their old alias."""
    ban(member)
    html = client_for(member.user).get(circle_url(circle)).content.decode()
    assert "You can no longer take part in this circle." in html
    assert f'action="{circle_url(circle, "join")}"' not in html
    assert member.alias not in html


@pytest.mark.parametrize("name", ["circle", "join", "leave", "reroll"])
def test_unknown_circle_slug_is_404(client_for, make_user, name):
    """Every circle URL with an unknown slug answers 404 with the NOT_FOUND code."""
    client = client_for(make_user())
    url = reverse(f"community:{name}", kwargs={"slug": "no-such-circle"})
    response = client.get(url) if name == "circle" else client.post(url)
    assert response.status_code == 404
    assert f'data-code="{ErrorCode.NOT_FOUND}"' in response.content.decode()


# --- join / leave / re-roll -------------------------------------------------------------------


def test_join_post_makes_a_member_and_shows_the_alias(client_for, make_user, circle):
    """Posting the join form makes the person a member and greets them by their new alias."""
    user = make_user()
    response = client_for(user).post(circle_url(circle, "join"), follow=True)
    membership = Membership.objects.get(user=user, circle=circle)
    assert response.redirect_chain == [(circle_url(circle), 302)]
    assert is_alias(membership.alias)
    assert f"You joined Morning Circle. Here you are {membership.alias}." in flash(response)
    assert f'data-testid="alias">{membership.alias}</strong>' in response.content.decode()


def test_join_by_get_is_not_allowed(client_for, make_user, circle):
    """Joining only happens by POST; a GET is 405 and joins nobody."""
    assert client_for(make_user()).get(circle_url(circle, "join")).status_code == 405
    assert not Membership.objects.exists()


def test_join_post_needs_a_login(client, circle):
    """An anonymous join is sent to log in and makes no membership."""
    response = client.post(circle_url(circle, "join"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Membership.objects.exists()


def test_join_post_to_a_full_circle_is_409_circle_full(client_for, make_user, make_circle, join):
    """Joining a full circle answers 409 with CIRCLE_FULL on the circle page and makes no membership."""
    circle = make_circle(capacity=1)
    join(make_user(), circle)
    before = snapshot(circle)
    response = client_for(make_user()).post(circle_url(circle, "join"))
    assert response.status_code == 409
    assert response.context["error"].code == ErrorCode.CIRCLE_FULL
    assert f'data-code="{ErrorCode.CIRCLE_FULL}"' in response.content.decode()
    assert snapshot(circle) == before


def test_join_post_with_a_wrong_invite_code_is_400_bad_invite_code(client_for, make_user, make_circle):
    """A wrong invite code answers 400 with BAD_INVITE_CODE and makes no membership."""
    circle = make_circle(access="invite", invite_code="sunrise-42")
    response = client_for(make_user()).post(circle_url(circle, "join"), {"invite_code": "sunset-42"})
    assert response.status_code == 400
    assert response.context["error"].code == ErrorCode.BAD_INVITE_CODE
    assert not Membership.objects.filter(circle=circle).exists()


def test_join_post_with_the_right_invite_code_joins(client_for, make_user, make_circle):
    """The right invite code joins an invite-only circle."""
    circle = make_circle(access="invite", invite_code="sunrise-42")
    user = make_user()
    response = client_for(user).post(circle_url(circle, "join"), {"invite_code": "sunrise-42"})
    assert response.status_code == 302
    assert Membership.objects.get(user=user, circle=circle).is_active


def test_join_post_twice_is_409_already_member(client_for, member, circle):
    """A member posting join again gets 409 ALREADY_MEMBER and keeps their alias."""
    before = snapshot(circle)
    response = client_for(member.user).post(circle_url(circle, "join"))
    assert response.status_code == 409
    assert response.context["error"].code == ErrorCode.ALREADY_MEMBER
    assert snapshot(circle) == before


def test_join_post_by_a_banned_member_is_403_banned(client_for, member, circle):
    """A banned member posting join gets 403 BANNED and stays banned."""
    ban(member)
    before = snapshot(circle)
    response = client_for(member.user).post(circle_url(circle, "join"))
    assert response.status_code == 403
    assert response.context["error"].code == ErrorCode.BANNED
    assert snapshot(circle) == before


def test_leave_post_leaves_and_returns_to_the_directory(client_for, member, circle):
    """Posting leave marks the membership departed and goes back to the directory."""
    response = client_for(member.user).post(circle_url(circle, "leave"), follow=True)
    assert response.redirect_chain == [(reverse("community:directory"), 302)]
    assert "You left Morning Circle." in flash(response)
    member.refresh_from_db()
    assert member.left_at is not None


def test_leave_then_rejoin_through_the_pages_gives_a_new_alias(client_for, member, circle):
    """Leaving and joining again through the pages shows a different alias."""
    old = member.alias
    client = client_for(member.user)
    client.post(circle_url(circle, "leave"))
    client.post(circle_url(circle, "join"))
    member.refresh_from_db()
    assert member.is_active
    assert member.alias != old
    html = client.get(circle_url(circle)).content.decode()
    assert f'data-testid="alias">{member.alias}</strong>' in html
    assert old not in html


def test_leave_post_by_the_last_facilitator_is_409_last_facilitator(client_for, facilitator, circle):
    """The only facilitator posting leave gets 409 LAST_FACILITATOR and stays."""
    before = snapshot(circle)
    response = client_for(facilitator.user).post(circle_url(circle, "leave"))
    assert response.status_code == 409
    assert response.context["error"].code == ErrorCode.LAST_FACILITATOR
    assert snapshot(circle) == before


def test_reroll_post_changes_the_alias(client_for, member, circle):
    """Posting re-roll before the first post stores and shows a different alias."""
    old = member.alias
    response = client_for(member.user).post(circle_url(circle, "reroll"), follow=True)
    member.refresh_from_db()
    assert member.alias != old
    assert f"Your new alias is {member.alias}." in flash(response)


def test_reroll_post_after_posting_is_409_alias_locked(client_for, member, circle):
    """Posting re-roll after the first post gets 409 ALIAS_LOCKED and the alias stays."""
    mark_posted(member)
    before = snapshot(circle)
    response = client_for(member.user).post(circle_url(circle, "reroll"))
    assert response.status_code == 409
    assert response.context["error"].code == ErrorCode.ALIAS_LOCKED
    assert snapshot(circle) == before


@pytest.mark.parametrize("name", ["leave", "reroll"])
def test_member_action_by_a_non_member_is_403_not_500(client_for, make_user, circle, member, name):
    """Acting as a member without being one answers 403 NOT_MEMBER, never a server error."""
    before = snapshot(circle)
    response = client_for(make_user()).post(circle_url(circle, name))
    assert response.status_code == 403
    assert response.context["error"].code == ErrorCode.NOT_MEMBER
    assert snapshot(circle) == before


@pytest.mark.parametrize("name", ["leave", "reroll"])
def test_member_action_by_a_banned_member_is_403_banned(client_for, member, circle, name):
    """A banned member leaving or re-rolling gets 403 BANNED and nothing changes."""
    ban(member)
    before = snapshot(circle)
    response = client_for(member.user).post(circle_url(circle, name))
    assert response.status_code == 403
    assert response.context["error"].code == ErrorCode.BANNED
    assert snapshot(circle) == before


# --- admin -------------------------------------------------------------------------------


@pytest.fixture
def superuser(make_user):
    user = make_user("operator-one")
    # No service makes operators (createsuperuser does); set the flags as it would.
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_admin_is_reachable_for_a_superuser(client_for, superuser):
    """A superuser opens the admin index and the circle and membership lists."""
    client = client_for(superuser)
    for url in ("/admin/", "/admin/community/circle/", "/admin/community/membership/"):
        assert client.get(url).status_code == 200, url


def test_admin_is_refused_to_a_plain_member(client_for, member):
    """A plain member opening the admin is sent to the admin log-in and sees nothing of it."""
    client = client_for(member.user)
    for url in ("/admin/", "/admin/community/membership/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/admin/login/")


def test_admin_membership_list_shows_aliases_not_handles(client_for, superuser, circle, make_user, join):
    """The admin's membership list names members by alias and opaque number, not by handle."""
    membership = join(make_user("vantorra-plume"), circle)
    html = client_for(superuser).get("/admin/community/membership/").content.decode()
    assert membership.alias in html
    assert membership.member_number in html
    assert "vantorra-plume" not in html


def test_admin_membership_page_does_not_expose_the_user(client_for, superuser, circle, make_user, join):
    """The admin's membership form has no user field."""
    membership = join(make_user("vantorra-plume"), circle)
    response = client_for(superuser).get(f"/admin/community/membership/{membership.pk}/change/")
    assert response.status_code == 200
    assert 'name="user"' not in response.content.decode()
    assert "vantorra-plume" not in response.content.decode()
