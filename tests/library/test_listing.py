"""Finding resources (library.selectors): who reads what, kind and phase
filters, full-text search on either database, pinned and newest first, the
re-check list, the starter library."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from library import resources, selectors
from library.models import ResourcePost
from library.selectors import Filters
from library.starter import STARTER
from tests.library.conftest import PLAYLIST

pytestmark = pytest.mark.django_db


def titles(user, **filters) -> list[str]:
    return [r.title for r in selectors.listing(user, Filters(**filters)) if not r.starter_key]


@pytest.fixture
def shelf(circle, facilitator, post_resource):
    """A few posts of the circle's own, oldest first."""
    post_resource(facilitator.user, circle, title="Evening breath", kind="breathwork", phase="integration")
    post_resource(facilitator.user, circle, title="Before you go in", kind="playlist", phase="preparation",
                  tracks=PLAYLIST, body="Calm soundscapes for the hour before.")  # fmt: skip
    post_resource(facilitator.user, circle, title="Draw it out", kind="creative", phase="integration",
                  body="Colour and collage after a session.")  # fmt: skip
    post_resource(facilitator.user, circle, title="Steady pulse", kind="playlist", phase="session",
                  tracks=PLAYLIST, body="Music as a bridge through the session.")  # fmt: skip


def test_a_fresh_deployment_shows_the_starter_library(make_user):
    """Installed by migrate: crisis lines first (pinned), playlists, a worksheet,
    prompts and practices, readable without a circle."""
    everyone = make_user("newcomer")
    starter = [r for r in selectors.listing(everyone, Filters()) if r.starter_key]
    assert {r.starter_key for r in starter} == {item["key"] for item in STARTER}
    kinds = {r.kind for r in starter}
    assert {"crisis_line", "playlist", "worksheet", "journaling", "breathwork", "meditation"} <= kinds
    assert starter[0].pinned
    playlist = next(r for r in starter if r.kind == "playlist")
    assert playlist.tracks.count() >= 5 and playlist.mood and all(not t.link for t in playlist.tracks.all())
    assert ResourcePost.objects.get(starter_key="worksheet-intention").prompts.count() == 6


def test_the_seed_command_adds_only_what_is_missing(capsys):
    ResourcePost.objects.filter(starter_key="breath-box").delete()
    edited = ResourcePost.objects.get(starter_key="crisis-988")
    edited.title = "988 Lifeline (edited)"
    edited.save()
    call_command("seed_library")
    assert "1 starter resource(s) added" in capsys.readouterr().out
    assert ResourcePost.objects.get(starter_key="crisis-988").title == "988 Lifeline (edited)"
    assert ResourcePost.objects.filter(starter_key="breath-box").count() == 1


def test_a_circles_resources_are_for_its_members(shelf, circle, member, make_user):
    assert len(titles(member.user)) == 4
    assert titles(make_user("outsider")) == []


def test_kind_and_phase_filters(shelf, member):
    assert titles(member.user, kind="playlist") == ["Steady pulse", "Before you go in"]
    assert titles(member.user, phase="integration") == ["Draw it out", "Evening breath"]
    assert titles(member.user, kind="practice") == ["Draw it out", "Evening breath"]
    assert titles(member.user, circle="site") == []
    assert titles(member.user, circle="morning", phase="session") == ["Steady pulse"]


def test_any_phase_resources_show_under_every_phase(member):
    crisis = [r.kind for r in selectors.listing(member.user, Filters(phase="session")) if r.starter_key]
    assert "crisis_line" in crisis


def test_pinned_first_then_newest(shelf, circle, facilitator, member):
    oldest = ResourcePost.objects.get(title="Evening breath")
    resources.set_pinned(user=facilitator.user, pk=oldest.pk, pinned=True)
    assert titles(member.user)[:2] == ["Evening breath", "Steady pulse"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("soundscapes", ["Before you go in"]),
        ("collage", ["Draw it out"]),
        ("bridge session", ["Steady pulse"]),
        ("breath", ["Evening breath"]),
        ("nothing-like-this", []),
    ],
)
def test_full_text_search_over_title_and_body(shelf, member, q, expected):
    assert titles(member.user, q=q) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's full-text search")
def test_postgres_search_stems_and_ranks_title_first(shelf, member, circle, facilitator, post_resource):
    """'drawing' finds 'Draw'; a title match ranks above a body match."""
    post_resource(facilitator.user, circle, title="Music notes", body="Drawing while listening.")
    assert titles(member.user, q="drawing") == ["Draw it out", "Music notes"]


def test_search_on_sqlite_matches_every_word(shelf, member):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's fallback")
    assert titles(member.user, q="calm hour") == ["Before you go in"]
    assert titles(member.user, q="calm collage") == []


def test_search_text_is_never_raw_sql(shelf, member):
    assert titles(member.user, q="'; DROP TABLE library_resourcepost; --") == []
    assert ResourcePost.objects.exists()


def test_old_crisis_lines_and_links_need_a_recheck(circle, facilitator, post_resource, site_moderator, settings):
    settings.LIBRARY_RECHECK_DAYS = 30
    linked = post_resource(facilitator.user, circle, title="Linked", link="https://example.org/a")
    plain = post_resource(facilitator.user, circle, title="Plain")
    old = timezone.now() - timezone.timedelta(days=31)
    ResourcePost.objects.filter(pk__in=[linked.pk, plain.pk]).update(verified_at=old)
    ResourcePost.objects.filter(starter_key="crisis-988").update(verified_at=old)
    stale = {r.title for r in selectors.recheck_list(site_moderator)}
    assert stale == {"Linked", "988 Suicide & Crisis Lifeline (US)"}
    assert {r.title for r in selectors.recheck_list(facilitator.user)} == {"Linked"}
    linked.refresh_from_db()
    assert selectors.is_stale(linked) and not selectors.is_stale(ResourcePost.objects.get(pk=plain.pk))
    resources.verify_resource(user=facilitator.user, pk=linked.pk)
    assert {r.title for r in selectors.recheck_list(site_moderator)} == {"988 Suicide & Crisis Lifeline (US)"}


def test_members_do_not_see_the_recheck_list(member, facilitator):
    assert not selectors.may_see_recheck(member.user)
    assert selectors.may_see_recheck(facilitator.user)
