"""The library's pages through the real stack: statuses, who sees what, and
what a refused form says; the one-line includes on other pages."""

import pytest
from django.test import Client

from community.models import Membership
from library.models import ResourcePost
from moderation.models import Flag
from tests.library.conftest import PLAYLIST, snapshot

pytestmark = pytest.mark.django_db

FORM = {"circle": "morning", "title": "Evening breath", "kind": "breathwork", "phase": "integration",
        "body": "Breathe out for longer."}  # fmt: skip


def test_the_library_is_open_to_read_and_lists_the_starter_posts():
    page = Client().get("/library/")
    text = page.content.decode()
    assert page.status_code == 200 and "988 Suicide &amp; Crisis Lifeline (US)" in text
    assert "Setting an intention" in text and "Log in" in text
    assert Client().get("/library/?q=breathing&kind=practice&phase=preparation").status_code == 200


def test_a_starter_resource_page_shows_its_check_and_its_parts(client_for, member):
    playlist = ResourcePost.objects.get(starter_key="playlist-arriving")
    text = Client().get(playlist.get_absolute_url()).content.decode()
    assert "Last checked" in text and "Integration Circles team" in text
    assert "6 tracks, 1:00:00 in all" in text and "No audio is hosted here" in text
    worksheet = ResourcePost.objects.get(starter_key="worksheet-intention")
    text = client_for(member.user).get(worksheet.get_absolute_url()).content.decode()
    assert "Fill it in privately" in text


def test_a_facilitator_posts_through_the_form(client_for, facilitator, circle):
    client = client_for(facilitator.user)
    assert client.get("/library/new/?circle=morning").status_code == 200
    response = client.post("/library/new/", {**FORM, "kind": "playlist", "tracks": PLAYLIST, "mood": "Calm"})
    resource = ResourcePost.objects.get(title="Evening breath")
    assert response.status_code == 302 and response["Location"] == resource.get_absolute_url()
    page = client.get(resource.get_absolute_url()).content.decode()
    assert "Low tide" in page and facilitator.alias in page and "facilitator-one" not in page
    assert "Share in Morning Circle" in page and "Checked: still right" in page


def test_a_members_suggestion_says_it_waits_and_shows_only_to_them(client_for, member, people, circle):
    client = client_for(member.user)
    response = client.post("/library/new/", FORM, follow=True)
    assert "A moderator will look at it" in response.content.decode()
    resource = ResourcePost.objects.get(title="Evening breath")
    assert resource.status == "pending"
    assert "Waiting for a moderator" in client.get(resource.get_absolute_url()).content.decode()
    [(other, _m)] = people(circle)
    assert client_for(other).get(resource.get_absolute_url()).status_code == 404
    assert "Evening breath" in client.get("/library/mine/").content.decode()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": "<script>alert(1)</script>"}, "HTML is not allowed"),
        ({"link": "javascript:alert(1)"}, "https://"),
        ({"body": "x" * 8001}, "at most 8000"),
        ({"kind": "playlist", "tracks": "A | B | later"}, "Track 1"),
    ],
)
def test_bad_input_comes_back_on_the_form_and_nothing_is_stored(client_for, facilitator, changes, error):
    response = client_for(facilitator.user).post("/library/new/", {**FORM, **changes})
    assert response.status_code == 400 and error in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode() or "<script>" not in response.content.decode()
    assert snapshot() == []


def test_suggesting_into_a_circle_you_are_not_in_is_a_clear_refusal(client_for, member, make_circle):
    make_circle(name="Evening", slug="evening")
    response = client_for(member.user).post("/library/new/", {**FORM, "circle": "evening"})
    assert response.status_code == 403 and "Join this circle first" in response.content.decode()
    assert snapshot() == []


def test_editing_someone_elses_post_is_refused(client_for, facilitator, people, circle):
    client_for(facilitator.user).post("/library/new/", FORM)
    resource = ResourcePost.objects.get(title="Evening breath")
    [(other, _m)] = people(circle)
    client = client_for(other)
    assert client.get(f"/library/r/{resource.pk}/edit/").status_code == 403
    response = client.post(f"/library/r/{resource.pk}/edit/", {**FORM, "title": "Mine now"})
    assert response.status_code == 403
    assert client.post(f"/library/r/{resource.pk}/remove/").status_code == 403
    assert client.post(f"/library/r/{resource.pk}/verify/").status_code == 403
    resource.refresh_from_db()
    assert (resource.title, resource.status) == ("Evening breath", "published")


def test_a_circles_resource_is_not_found_for_outsiders(client_for, facilitator, make_user):
    client_for(facilitator.user).post("/library/new/", FORM)
    resource = ResourcePost.objects.get(title="Evening breath")
    assert client_for(make_user("outsider")).get(resource.get_absolute_url()).status_code == 404
    assert Client().get(resource.get_absolute_url()).status_code == 404


def test_the_queue_shows_a_suggestion_and_a_moderator_approves_it(client_for, member, site_moderator):
    client_for(member.user).post("/library/new/", FORM)
    flag = Flag.objects.get()
    moderator = client_for(site_moderator)
    queue = moderator.get("/moderation/").content.decode()
    assert "Library suggestion" in queue and "Evening breath" in queue and member.alias in queue
    assert "member-one" not in queue
    response = moderator.post(f"/moderation/flags/{flag.pk}/review/", {"action": "approve", "reason": "Helpful"})
    assert response.status_code == 302
    assert ResourcePost.objects.get(title="Evening breath").status == "published"


def test_the_recheck_page_is_for_staff(client_for, member, facilitator, site_moderator):
    assert client_for(member.user).get("/library/recheck/").status_code == 403
    assert client_for(facilitator.user).get("/library/recheck/").status_code == 200
    page = client_for(site_moderator).get("/library/recheck/").content.decode()
    assert "Everything has been checked" in page
    assert "Library re-checks" in client_for(site_moderator).get("/moderation/").content.decode()


def test_the_circle_page_shows_its_shelf_and_the_share_form_to_facilitators(client_for, facilitator, member):
    client_for(facilitator.user).post("/library/new/", FORM)
    as_facilitator = client_for(facilitator.user).get("/circles/morning/").content.decode()
    assert "Evening breath" in as_facilitator and 'id="share-form"' in as_facilitator
    assert "(site-wide)" in as_facilitator and "js/library.js" in as_facilitator
    as_member = client_for(member.user).get("/circles/morning/").content.decode()
    assert "Evening breath" in as_member and 'id="share-form"' not in as_member
    assert "Suggest a resource" in as_member


def test_the_header_links_to_the_library_and_the_journal(client_for, member):
    assert 'href="/library/"' in Client().get("/").content.decode()
    text = client_for(member.user).get("/").content.decode()
    assert 'href="/library/journal/"' in text


def test_pages_carry_no_inline_script_or_style(client_for, facilitator, member):
    """CSP-clean: scripts come from files, data from attributes."""
    client_for(facilitator.user).post("/library/new/", FORM)
    resource = ResourcePost.objects.get(title="Evening breath")
    client = client_for(facilitator.user)
    for path in ("/library/", resource.get_absolute_url(), "/library/new/", "/library/journal/",
                 "/library/journal/new/", "/library/recheck/", "/library/mine/"):  # fmt: skip
        text = client.get(path).content.decode()
        main = text.split('<main id="main"', 1)[1].split("</main>", 1)[0]
        assert "<style" not in main and " style=" not in main, path
        assert "<script>" not in text.replace('<script type="application/json"', ""), path


def test_site_moderators_post_to_the_site_wide_library_and_facilitators_cannot(client_for, facilitator, site_moderator):
    refused = client_for(facilitator.user).post("/library/new/", {**FORM, "circle": "site"})
    assert refused.status_code == 403
    done = client_for(site_moderator).post("/library/new/", {**FORM, "circle": "site"})
    assert done.status_code == 302
    resource = ResourcePost.objects.get(title="Evening breath")
    assert resource.circle is None and resource.author_label == "Site moderator"
    assert Membership.objects.filter(user=site_moderator).count() == 0
