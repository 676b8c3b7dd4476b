"""After a session and around a treatment: check-ins, follow-ups, private dates, suggestions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community import memberdata
from community.models import Membership, Notification
from core.errors import DomainError, ErrorCode
from schedules import scheduler, selectors, services
from schedules.models import CheckIn, TreatmentDate

from .helpers import one_session

pytestmark = pytest.mark.django_db
LATER = timezone.now() + timedelta(days=1)  # after the sessions these tests make (an hour from now)


def test_a_low_check_in_asks_the_facilitators_to_follow_up_by_alias_only(facilitator, member):
    occ = one_session(facilitator)
    entry = services.check_in(
        now=LATER, user=member.user, occurrence_id=occ.pk, score=1, words="rough night, my sister"
    )
    assert entry.follow_up
    note = Notification.objects.get(user=facilitator.user, kind=Notification.Kind.FOLLOW_UP)
    assert member.alias in note.text
    assert "sister" not in note.text and member.user.username not in note.text
    roster = selectors.roster(occ.pk, facilitator.user)
    assert [c.membership for c in roster.follow_ups] == [member]


def test_a_good_check_in_or_a_skip_tells_nobody(facilitator, member, make_user, join, circle):
    occ = one_session(facilitator)
    services.check_in(now=LATER, user=member.user, occurrence_id=occ.pk, score=4)
    other = join(make_user("skipper"), circle)
    skipped = services.check_in(now=LATER, user=other.user, occurrence_id=occ.pk, score=None, skip=True)
    assert skipped.skipped and skipped.score is None
    assert not Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP).exists()


def test_a_check_in_needs_a_score_from_1_to_5_and_counts_once(facilitator, member):
    occ = one_session(facilitator)
    with pytest.raises(DomainError) as caught:
        services.check_in(now=LATER, user=member.user, occurrence_id=occ.pk, score=9)
    assert caught.value.code == ErrorCode.BAD_SCHEDULE
    services.check_in(now=LATER, user=member.user, occurrence_id=occ.pk, score=3)
    services.check_in(now=LATER, user=member.user, occurrence_id=occ.pk, score=1)
    assert list(CheckIn.objects.values_list("score", flat=True)) == [3]


def test_treatment_dates_are_private_deletable_and_exported_to_their_owner(member, facilitator):
    at = timezone.now() - timedelta(hours=2)
    mine = services.add_treatment(user=member.user, at=at)
    with pytest.raises(DomainError) as caught:
        services.delete_treatment(user=facilitator.user, treatment_id=mine.pk)
    assert caught.value.code == ErrorCode.NOT_FOUND
    assert memberdata.export(member.user)["schedule"]["treatment_dates"] == [at.isoformat()]
    assert memberdata.export(facilitator.user)["schedule"]["treatment_dates"] == []
    services.delete_treatment(user=member.user, treatment_id=mine.pk)
    assert not TreatmentDate.objects.exists()


def test_sessions_in_the_integration_window_are_suggested(facilitator, member):
    treatment = timezone.now()
    services.add_treatment(user=member.user, at=treatment)
    too_soon = one_session(facilitator, minutes_from_now=12 * 60, title="Too soon")
    inside = one_session(facilitator, minutes_from_now=36 * 60, title="Inside")
    too_late = one_session(facilitator, minutes_from_now=80 * 60, title="Too late")
    assert selectors.suggestions(member.user) == [inside]
    services.set_preferences(user=member.user, window_from_hours=6, window_to_hours=96)
    assert selectors.suggestions(member.user) == [too_soon, inside, too_late]
    assert selectors.suggestions(facilitator.user) == []  # no treatments of their own


def test_bad_preferences_are_refused(member):
    for kw in ({"time_zone": "Atlantis/Capital"}, {"window_from_hours": 72, "window_to_hours": 24}):
        with pytest.raises(DomainError) as caught:
            services.set_preferences(user=member.user, **kw)
        assert caught.value.code == ErrorCode.BAD_SCHEDULE


def test_check_ins_go_out_after_the_session_to_those_going(facilitator, member):
    occ = one_session(facilitator, minutes_from_now=5, length=30)
    services.rsvp(user=member.user, occurrence_id=occ.pk)
    scheduler.run_once(occ.end + timedelta(minutes=1))
    note = Notification.objects.get(user=member.user, kind=Notification.Kind.CHECK_IN)
    assert note.link.endswith(f"/{occ.pk}/check-in/")
    assert Membership.objects.get(pk=member.pk).alias not in note.text


def test_the_check_in_opens_only_after_the_session(facilitator, member):
    occ = one_session(facilitator)
    with pytest.raises(DomainError) as caught:
        services.check_in(user=member.user, occurrence_id=occ.pk, score=3)
    assert caught.value.code == ErrorCode.SESSION_UNAVAILABLE
    assert not CheckIn.objects.exists()
