"""seed_schedule: the demo circle gets a weekly session and a drop-in that opens
soon, once however often it runs; without the demo circle it says what to do."""

import io

import pytest
from django.core.management import CommandError, call_command

from schedules import selectors
from schedules.models import SessionSeries

pytestmark = pytest.mark.django_db


def test_the_demo_circle_gets_its_sessions_once():
    call_command("seed_demo", "--quiet-passwords", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_schedule", stdout=out)
    call_command("seed_schedule", stdout=out)
    assert "2 series added" in out.getvalue() and "0 series added" in out.getvalue()
    series = SessionSeries.objects.order_by("title")
    assert [s.title for s in series] == ["Drop-in check-in", "Evening integration circle"]
    weekly = series.get(title="Evening integration circle")
    assert weekly.occurrences.count() == 12 and weekly.rrule
    drop_in = series.get(title="Drop-in check-in").occurrences.get()
    # Its window (10 minutes before a start 20 minutes away) opens within minutes of seeding.
    assert selectors.state_of(drop_in, drop_in.opens_at) != "ended"


def test_without_the_demo_circle_it_says_to_seed_it_first():
    with pytest.raises(CommandError, match="seed_demo first"):
        call_command("seed_schedule", stdout=io.StringIO())
