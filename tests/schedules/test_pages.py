"""The schedule pages through HTTP: the circle's Schedule card, RSVP, facilitator forms, my sessions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from library import resources, schedule_links
from library.models import SessionPlaylist
from schedules.models import Occurrence, Rsvp, SessionSeries

from .helpers import one_session, soon_local

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_circle_page_lists_sessions_and_a_member_rsvps_then_waits(facilitator, member, make_user, join, circle):
    occ = one_session(facilitator, seats=1, title="Thursday circle")
    page = _client(member.user).get(circle.get_absolute_url()).content.decode()
    assert "Thursday circle" in page and "0 of 1 seats taken" in page and "coming</button>" in page
    response = _client(member.user).post(reverse("schedules:rsvp", args=[occ.pk]))
    assert response.status_code == 302
    late = join(make_user("late-one"), circle)
    page = _client(late.user).get(circle.get_absolute_url()).content.decode()
    assert "1 of 1 seats taken" in page and "Join the wait-list" in page
    _client(late.user).post(reverse("schedules:rsvp", args=[occ.pk]))
    page = _client(late.user).get(circle.get_absolute_url()).content.decode()
    assert "You are number 1 on the wait-list." in page


def test_a_facilitator_schedules_a_weekly_series_through_the_form(facilitator, circle):
    start = soon_local(60 * 24 * 2)
    day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]
    response = _client(facilitator.user).post(
        reverse("schedules:series_new", args=[circle.slug]),
        {
            "title": "Evening integration",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "America/New_York",
            "duration_minutes": "75",
            "weekdays": [day],
            "interval": "1",
            "count": "6",
            "open_minutes_before": "10",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    series = SessionSeries.objects.get()
    assert series.time_zone == "America/New_York" and series.occurrences.count() == 6


def test_the_series_form_shows_a_refusal_and_makes_nothing(facilitator, circle):
    response = _client(facilitator.user).post(
        reverse("schedules:series_new", args=[circle.slug]),
        {
            "title": "Bad zone",
            "start": soon_local(600).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "Moon/Base",
            "duration_minutes": "60",
            "interval": "1",
            "open_minutes_before": "10",
        },
    )
    assert response.status_code == 400
    assert "not a time zone" in response.content.decode()
    assert not SessionSeries.objects.exists()


def test_a_facilitator_sees_counts_and_aliases_and_a_member_cannot(facilitator, member):
    occ = one_session(facilitator)
    _client(member.user).post(reverse("schedules:rsvp", args=[occ.pk]))
    page = _client(facilitator.user).get(reverse("schedules:occurrence", args=[occ.pk])).content.decode()
    assert member.alias in page and "1 of" in page
    assert member.user.username not in page
    assert _client(member.user).get(reverse("schedules:occurrence", args=[occ.pk])).status_code == 403


def test_a_member_editing_a_session_is_refused_and_nothing_changes(facilitator, member):
    occ = one_session(facilitator)
    for action in ("cancel", "open", "end"):
        _client(member.user).post(reverse("schedules:occurrence_action", args=[occ.pk]), {"action": action})
    assert Occurrence.objects.get(pk=occ.pk).cancelled is False
    assert Occurrence.objects.get(pk=occ.pk).opened_at is None


def test_my_sessions_shows_rsvps_and_suggestions_after_a_treatment(facilitator, member):
    occ = one_session(facilitator, minutes_from_now=36 * 60, title="After the infusion")
    _client(member.user).post(reverse("schedules:rsvp", args=[occ.pk]))
    client = _client(member.user)
    client.post(reverse("schedules:treatment_add"), {"at": (timezone.now()).strftime("%Y-%m-%dT%H:%M")})
    page = client.get(reverse("schedules:my_sessions")).content.decode()
    assert "After the infusion" in page and "You are going." in page
    assert 'data-testid="suggestions"' in page
    assert Rsvp.objects.count() == 1
    assert timedelta(0) < occ.start - timezone.now()


def test_the_directory_points_to_suggested_sessions(facilitator, member):
    one_session(facilitator, minutes_from_now=36 * 60)
    client = _client(member.user)
    client.post(reverse("schedules:treatment_add"), {"at": timezone.now().strftime("%Y-%m-%dT%H:%M")})
    page = client.get(reverse("community:directory")).content.decode()
    assert "1 session falls in your integration window" in page


def test_the_circle_settings_page_shows_attendance_of_past_sessions(facilitator, member, post):
    from datetime import timedelta as td

    from schedules import scheduler, services

    occ = one_session(facilitator, minutes_from_now=0, length=30)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    scheduler.run_once()
    post(member.user, member.circle, "Here with you all.")
    scheduler.run_once(occ.end + td(minutes=1))
    Occurrence.objects.filter(pk=occ.pk).update(
        end=timezone.now() - td(seconds=1), start=timezone.now() - td(minutes=30)
    )
    page = _client(facilitator.user).get(reverse("schedules:circle_edit", args=[member.circle.slug])).content.decode()
    assert "1 of 1 going took part" in page


def test_a_facilitator_attaches_a_playlist_and_members_see_it_on_the_schedule(facilitator, member, circle):
    """Issue 13's playlists meet the schedule: attached through the library's page
    to a real session, listed on the circle's Schedule card for members; a
    session that does not exist is refused and nothing is attached."""
    occ = one_session(facilitator, title="Friday integration")
    playlist = resources.post_resource(
        user=facilitator.user,
        circle=circle,
        data=resources.ResourceInput(
            title="Settling in, 40 minutes",
            body="Slow and wordless.",
            kind="playlist",
            phase="preparation",
            tracks="Low tide | Any ambient artist | 6:30",
        ),
    ).resource
    guide = _client(facilitator.user)
    assert occ.pk in [s.id for s in schedule_links.upcoming_sessions([circle.pk])]
    refused = guide.post(reverse("library:attach", args=[playlist.pk]), {"occurrence": str(occ.pk + 999)})
    assert refused.status_code == 404 and not SessionPlaylist.objects.exists()
    # a member may not attach
    _client(member.user).post(reverse("library:attach", args=[playlist.pk]), {"occurrence": str(occ.pk)})
    assert not SessionPlaylist.objects.exists()
    response = guide.post(reverse("library:attach", args=[playlist.pk]), {"occurrence": str(occ.pk)})
    assert response.status_code == 302
    assert SessionPlaylist.objects.get().occurrence_id == occ.pk
    page = _client(member.user).get(circle.get_absolute_url()).content.decode()
    assert "To prepare with:" in page and "Settling in, 40 minutes" in page
