"""Schedules in Chromium against a live Daphne: RSVP with a wait-list, and a
live window opening in front of a connected member (issue 12)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from community.apps import MODERATORS_GROUP
from community.models import Circle, Membership
from schedules import facilitation, services
from tests.browser.conftest import PHONE, assert_accessible, page_for, shot
from tests.conftest import ROOT, _database_url

pytestmark = pytest.mark.browser


def _session(facilitator, *, minutes: int, seats=None, length: int = 60):
    start = (timezone.now() + timedelta(minutes=minutes)).replace(tzinfo=None, second=0, microsecond=0)
    series = services.create_series(
        user=facilitator.user,
        circle=facilitator.circle,
        title="Integration circle",
        start_local=start,
        time_zone="UTC",
        duration_minutes=length,
        capacity=seats,
        open_minutes_before=10,
    )
    return series.occurrences.get()


def _close_between_sessions(circle) -> None:
    Circle.objects.filter(pk=circle.pk).update(open_between_sessions=False, room_closed=True)


def test_rsvp_with_a_wait_list_and_a_freed_seat(daphne_server, make_user, circle, join, chromium):
    """One seat: the first member takes it, the second joins the wait-list; when
    the first withdraws, the second is going and has a notification."""
    guide = join(make_user("sched-guide"), circle, Membership.Role.FACILITATOR)
    first, second = join(make_user("sched-first"), circle), join(make_user("sched-second"), circle)
    _session(guide, minutes=24 * 60, seats=1)

    page_a = page_for(chromium, daphne_server, first.user, circle.get_absolute_url() + "#schedule")
    card_a = page_a.locator("#schedule")
    expect(card_a.get_by_test_id("session-seats")).to_have_text("0 of 1 seats taken")
    card_a.get_by_role("button", name="I'm coming").click()
    expect(page_a.locator("#schedule").get_by_test_id("rsvp-state")).to_have_text("You are going.")

    page_b = page_for(chromium, daphne_server, second.user, circle.get_absolute_url() + "#schedule", PHONE)
    card_b = page_b.locator("#schedule")
    expect(card_b.get_by_test_id("session-seats")).to_have_text("1 of 1 seats taken")
    card_b.get_by_role("button", name="Join the wait-list").click()
    expect(page_b.locator("#schedule").get_by_test_id("rsvp-state")).to_have_text("You are number 1 on the wait-list.")
    # Checked with the flash message ("You are on the wait-list") still shown.
    assert_accessible(page_b, "schedule card, wait-listed, phone")
    shot(page_b, "schedule-waitlisted-phone")

    page_a.locator("#schedule").get_by_role("button", name="I can't come after all").click()
    # The seat went straight to the wait-list: the session is full again.
    expect(page_a.locator("#schedule").get_by_role("button", name="Join the wait-list")).to_be_visible()

    page_b.reload()
    expect(page_b.locator("#schedule").get_by_test_id("rsvp-state")).to_have_text("You are going.")
    expect(page_b.locator("#header-unread")).to_be_visible()
    page_b.goto("/accounts/notifications/")
    expect(page_b.locator("p.note-text", has_text="A seat freed up: you are now going")).to_be_visible()


def test_a_facilitator_opening_early_goes_live_in_front_of_a_connected_member(
    daphne_server, make_user, circle, join, chromium
):
    """The facilitator's "Open the room now" (a page served by Daphne) reaches the
    member's open page as a room frame: the session shows "Live now", the room opens."""
    _close_between_sessions(circle)
    guide = join(make_user("early-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("early-member"), circle)
    occ = _session(guide, minutes=45)

    page = page_for(chromium, daphne_server, member.user, circle.get_absolute_url())
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")  # the socket
    status = page.locator("#schedule").get_by_test_id("session-status")
    expect(status).to_contain_text("Starts in")
    expect(page.locator("#room-closed")).to_be_visible()

    staff = page_for(chromium, daphne_server, guide.user, f"/sessions/{occ.pk}/")
    staff.get_by_role("button", name="Open the room now").click()
    expect(staff.get_by_text("The room is open.")).to_be_visible()

    expect(status).to_have_text("Live now")
    expect(page.locator("#room-closed")).to_be_hidden()


@pytest.mark.services
def test_the_scheduler_opens_a_live_window_in_front_of_a_connected_member(
    daphne_server, make_user, circle, join, chromium
):
    """``manage.py run_scheduler --once``, a process of its own, opens the room as
    the window begins: the connected member sees "Live now" without reloading."""
    _close_between_sessions(circle)
    guide = join(make_user("window-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("window-member"), circle)
    _session(guide, minutes=5)  # the window (10 minutes before) has begun

    page = page_for(chromium, daphne_server, member.user, circle.get_absolute_url())
    expect(page.locator("#room-status")).to_have_attribute("data-state", "live")
    status = page.locator("#schedule").get_by_test_id("session-status")
    expect(status).to_contain_text("Starts in")
    expect(page.locator("#room-closed")).to_be_visible()

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=_database_url(),
        IC_TEST_CACHE_SUFFIX=getattr(settings, "IC_TEST_CACHE_SUFFIX", ""),
    )
    run = subprocess.run(
        [sys.executable, "manage.py", "run_scheduler", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "opened 1" in run.stdout

    expect(status).to_have_text("Live now")
    expect(page.locator("#room-closed")).to_be_hidden()
    shot(page, "schedule-live-now")


def test_every_schedule_page_passes_the_page_checks_on_both_screens(daphne_server, make_user, circle, join, chromium):
    """The circle's Schedule card, "My sessions" (with a treatment, a suggestion
    and a calendar link), the series form, the session page, the series' edit
    page, the check-in and the circle settings: no CSP violation, no serious axe finding, nothing wider than
    the screen, 44 px touch targets on a phone."""
    from community import services as community_services
    from tests.browser.pagecheck import check_page, new_page
    from tests.conftest import session_cookie_for

    guide = join(make_user("pages-guide"), circle, Membership.Role.FACILITATOR)
    member = join(make_user("pages-member"), circle)
    occ = _session(guide, minutes=36 * 60, seats=1)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    services.add_treatment(user=member.user, at=timezone.now())
    services.calendar_token(user=member.user)
    community_services.mute_membership(target=member, minutes=30)
    moderator = make_user("pages-moderator")
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    facilitation.set_leader(by=moderator, user=guide.user, on=True)  # the leaders list shows them
    problems: list[str] = []
    for viewport in ("desktop", "phone"):
        page, seen = new_page(chromium, daphne_server, viewport, session_cookie_for(member.user))
        for name, path in [
            ("schedule-card-member", circle.get_absolute_url()),
            ("my-sessions", "/sessions/"),
            ("check-in", f"/sessions/{occ.pk}/check-in/"),
        ]:
            page.goto(path)
            problems += check_page(page, seen, name, viewport)
        page.context.close()
        page, seen = new_page(chromium, daphne_server, viewport, session_cookie_for(guide.user))
        for name, path in [
            ("schedule-card-facilitator", circle.get_absolute_url()),
            ("series-form", f"/sessions/circles/{circle.slug}/new/"),
            ("session-page", f"/sessions/{occ.pk}/"),
            ("series-edit", f"/sessions/series/{occ.series_id}/edit/"),
            ("circle-settings", f"/sessions/circles/{circle.slug}/edit/"),
        ]:
            page.goto(path)
            problems += check_page(page, seen, name, viewport)
        page.context.close()
        # The leaders page, as a site moderator: member numbers, never handles.
        page, seen = new_page(chromium, daphne_server, viewport, session_cookie_for(moderator))
        page.goto("/sessions/leaders/")
        problems += check_page(page, seen, "leaders", viewport)
        assert "pages-guide" not in page.content()
        page.context.close()
    assert not problems, "\n".join(problems)
