"""Writes for scheduled sessions: series and occurrences, RSVPs and the
wait-list, the live window's manual controls, check-ins, and each member's
private tools.

Plain functions with keyword-only arguments, called by views, the scheduler,
the admin and tests alike.  Each asks ``community.permissions``, raises
``DomainError`` on a refusal and changes nothing when it does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from chat import selectors as chat_selectors
from chat import services as chat_services
from community import notifications
from community.models import Circle, Membership, Notification
from community.permissions import Action, check, check_member
from core.errors import DomainError, ErrorCode

from . import recurrence, selectors
from .models import CalendarToken, CheckIn, Occurrence, Preferences, Rsvp, SessionSeries, TreatmentDate

NEUTRAL_TITLE = "Wellness circle"
LOW_SCORE = 2  # a check-in at or below this asks the facilitators to follow up
MAX_DURATION = 8 * 60
MAX_OPEN_BEFORE = 120
MAX_SEATS = 500  # as many as a circle may hold
MAX_EXTEND = 120
MATERIALISE_STEP = timedelta(days=1)  # the horizon moves on in steps of a day


def _bad(message: str, **extra: object) -> DomainError:
    return DomainError(ErrorCode.BAD_SCHEDULE, message, **extra)


# --- series and occurrences ------------------------------------------------------------


def _checked_settings(title: str, duration_minutes: int, open_minutes_before: int, capacity: int | None) -> str:
    """The rules a series' own settings keep, when made and when edited: the
    title (stripped) or BAD_SCHEDULE naming the field."""
    title = (title or "").strip()
    if not title:
        raise _bad("Please give the session a title.", field="title")
    if not 1 <= duration_minutes <= MAX_DURATION:
        raise _bad("A session ends after it starts and lasts at most 8 hours.", field="duration_minutes")
    if not 0 <= open_minutes_before <= MAX_OPEN_BEFORE:
        raise _bad("The room opens at most 2 hours before a session.", field="open_minutes_before")
    if capacity is not None and not 1 <= capacity <= MAX_SEATS:
        raise _bad(f"A session has 1 to {MAX_SEATS} seats.", field="capacity")
    return title


def create_series(
    *,
    user: User,
    circle: Circle,
    title: str,
    start_local: datetime,
    time_zone: str,
    duration_minutes: int,
    weekdays: tuple[str, ...] = (),
    interval: int = 1,
    until: date | None = None,
    count: int | None = None,
    capacity: int | None = None,
    open_minutes_before: int = 10,
    now: datetime | None = None,
) -> SessionSeries:
    """A session series of ``circle`` (facilitators of the circle, SCHEDULE_SESSION),
    starting at the naive local ``start_local`` in ``time_zone``, weekly on
    ``weekdays`` every ``interval`` weeks until a date or ``count`` times (no
    ``weekdays``: one session).  Occurrences are made up to the horizon.
    Refusals: FORBIDDEN/NOT_MEMBER, BAD_SCHEDULE (with ``field``)."""
    check(user, Action.SCHEDULE_SESSION, circle)
    now = now or timezone.now()
    title = _checked_settings(title, duration_minutes, open_minutes_before, capacity)
    try:
        tz = recurrence.zone((time_zone or "").strip())
    except recurrence.RecurrenceError as err:
        raise _bad(str(err), field="time_zone") from None
    start_local = start_local.replace(tzinfo=None, second=0, microsecond=0)
    rule = recurrence.Rule(weekdays=tuple(weekdays), interval=interval, until=until, count=count)
    try:
        recurrence.validate(rule, start_local)
    except recurrence.RecurrenceError as err:
        raise _bad(str(err), field="recurrence") from None
    if start_local.replace(tzinfo=tz) + timedelta(minutes=duration_minutes) <= now:
        raise _bad("That session would be over already.", field="start")
    with transaction.atomic():
        series = SessionSeries.objects.create(
            circle=circle,
            title=title[:120],
            start_local=start_local.replace(tzinfo=UTC),  # the naive wall clock, kept as written
            time_zone=tz.key,
            duration_minutes=duration_minutes,
            rrule=recurrence.rrule_text(rule, tz, start_local),
            capacity=capacity,
            open_minutes_before=open_minutes_before,
            created_by=user,
        )
        materialise(series, now=now)
    return series


def local_start(series: SessionSeries) -> datetime:
    """The series' first start as the naive local wall-clock time."""
    return series.start_local.replace(tzinfo=None)


def materialise(series: SessionSeries, *, now: datetime | None = None) -> int:
    """Make the series' occurrences up to the horizon (idempotent: an
    occurrence is its (series, original_start)); how many were added."""
    now = now or timezone.now()
    until = recurrence.horizon(now)
    if series.materialised_until is not None and series.materialised_until >= until - MATERIALISE_STEP:
        return 0  # done within the last day: the next pass that matters is tomorrow's
    with transaction.atomic():
        # The series as it is now, locked: an end or an edit committed since the
        # caller read it (the scheduler reads every series first) counts.
        series = SessionSeries.objects.select_for_update().get(pk=series.pk)
        return _materialise_locked(series, until)


def _materialise_locked(series: SessionSeries, until: datetime) -> int:
    last = series.occurrences.aggregate(last=Max("original_start"))["last"]
    starts = recurrence.expand(
        series.rrule,
        local_start(series),
        recurrence.zone(series.time_zone),
        before=until,
        after=last + timedelta(seconds=1) if last else None,
    )
    length = timedelta(minutes=series.duration_minutes)
    rows = [
        Occurrence(series=series, circle_id=series.circle_id, original_start=at, start=at, end=at + length)
        for at in starts
    ]
    Occurrence.objects.bulk_create(rows, ignore_conflicts=True)
    SessionSeries.objects.filter(pk=series.pk).update(materialised_until=until)
    return len(rows)


def _occurrence_for_staff(user: User, occurrence_id: int, action: Action = Action.SCHEDULE_SESSION) -> Occurrence:
    occurrence = Occurrence.objects.select_related("series", "circle").filter(pk=occurrence_id).first()
    if occurrence is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That session does not exist.")
    check(user, action, occurrence.circle)
    return occurrence


def tell_rsvps(
    occurrence: Occurrence, *, kind: str, text: str, key: str, link: str = "", going_only: bool = True
) -> None:
    """Notify those going to ``occurrence`` (and those waiting, unless
    ``going_only``) who are still members: ``text`` may hold ``{title}``, the
    title that member sees (``title_for``), and ``{when}``, its start in that
    member's time zone (``_when``).  ``key`` makes it once per member."""
    rsvps = Rsvp.objects.filter(
        occurrence=occurrence, membership__user__isnull=False, membership__left_at__isnull=True
    ).select_related("membership__user")
    if going_only:
        rsvps = rsvps.filter(status=Rsvp.Status.GOING)
    for rsvp in rsvps:
        user = rsvp.membership.user
        if user is None:
            continue
        notifications.notify(
            user=user,
            kind=kind,
            text=text.format(
                title=title_for(occurrence, user), when=_when(occurrence, user) if "{when}" in text else ""
            ),
            link=link or session_link(occurrence),
            circle=occurrence.circle,
            key=key,
        )


@transaction.atomic
def cancel_occurrence(*, user: User, occurrence_id: int) -> Occurrence:
    """Cancel one session; the series goes on.  Those who RSVP'd are told."""
    occurrence = _occurrence_for_staff(user, occurrence_id)
    if not occurrence.cancelled:
        _cancel(occurrence, why="")
    return occurrence


def _cancel(occurrence: Occurrence, *, why: str) -> None:
    """Mark one session cancelled and tell those who RSVP'd (going or waiting), once each."""
    Occurrence.objects.filter(pk=occurrence.pk).update(cancelled=True)
    occurrence.cancelled = True
    tell_rsvps(
        occurrence,
        kind=Notification.Kind.NOTICE,
        text=f"{{title}} on {{when}} was cancelled{why}.",
        key=f"cancelled:{occurrence.pk}",
        going_only=False,
    )


@transaction.atomic
def move_occurrence(
    *, user: User, occurrence_id: int, start_local: datetime, now: datetime | None = None
) -> Occurrence:
    """Move one session to ``start_local`` (naive, in the series' zone); it keeps
    its length, its RSVPs and its place in the series."""
    now = now or timezone.now()
    occurrence = _occurrence_for_staff(user, occurrence_id)
    if occurrence.cancelled or occurrence.end <= now:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is cancelled or over.")
    tz = recurrence.zone(occurrence.series.time_zone)
    start = start_local.replace(tzinfo=None, second=0, microsecond=0).replace(tzinfo=tz).astimezone(UTC)
    if start <= now:
        raise _bad("Move a session to a time still to come.", field="start")
    length = occurrence.end - occurrence.start
    occurrence.start, occurrence.end = start, start + length
    occurrence.save(update_fields=["start", "end"])
    tell_rsvps(
        occurrence,
        kind=Notification.Kind.NOTICE,
        text="{title}, which you signed up for, was moved.",
        key=f"moved:{occurrence.pk}:{int(start.timestamp())}",
        going_only=False,
    )
    return occurrence


def _still_to_come(series: SessionSeries, now: datetime) -> list[Occurrence]:
    """The series' sessions that have not begun (nor opened early), not cancelled,
    locked: what a change to the series reaches (one that began keeps what it had)."""
    return list(
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("series", "circle")
        .filter(series=series, cancelled=False, start__gt=now, opened_at__isnull=True)
        .order_by("start")
    )


@transaction.atomic
def edit_series(
    *,
    user: User,
    series_id: int,
    title: str,
    duration_minutes: int,
    capacity: int | None,
    open_minutes_before: int,
    now: datetime | None = None,
) -> SessionSeries:
    """Change a whole series: its title, length, seats and how early the room
    opens.  Sessions still to come take the new length and seats (wait-listed
    members move up, and are told, into new seats; fewer seats take nobody's
    away); a session that began or is over keeps its times.  The day and time
    stay: move single sessions, or end the series and schedule a new one.
    Refusals as ``create_series``; NOT_FOUND for an unknown series."""
    now = now or timezone.now()
    series = selectors.series_for_staff(user, series_id, lock=True)  # the series first, then its sessions
    old_length = timedelta(minutes=series.duration_minutes)
    title = _checked_settings(title, duration_minutes, open_minutes_before, capacity)
    series.title = title[:120]
    series.duration_minutes = duration_minutes
    series.capacity = capacity
    series.open_minutes_before = open_minutes_before
    series.save(update_fields=["title", "duration_minutes", "capacity", "open_minutes_before"])
    length = timedelta(minutes=duration_minutes)
    for occurrence in _still_to_come(series, now):
        occurrence.series = series  # the new seats, for _promote
        # A new length reaches the sessions of the old one; a session lengthened
        # on its own (extend) keeps its length.
        if length != old_length and occurrence.end - occurrence.start == old_length:
            occurrence.end = occurrence.start + length
            occurrence.save(update_fields=["end"])
        _promote(occurrence)
    return series


@transaction.atomic
def end_series(*, user: User, series_id: int, now: datetime | None = None) -> int:
    """End a series: its sessions still to come are cancelled (those who RSVP'd
    are told, once each) and no more are made; calendars stop it after the last
    session that began (its RRULE gets an UNTIL there).  A session live now
    runs to its end.  Idempotent; returns how many sessions were cancelled."""
    now = now or timezone.now()
    series = selectors.series_for_staff(user, series_id, lock=True)  # the series first, then its sessions
    to_come = _still_to_come(series, now)
    began = series.occurrences.filter(Q(start__lte=now) | Q(opened_at__isnull=False)).aggregate(
        last=Max("original_start")
    )["last"]  # none of ``to_come``: they have neither started nor opened
    # The last session kept (if none began, the first, cancelled with the rest:
    # RFC 5545 counts DTSTART as an instance, so the rule keeps it and the feed
    # lists it as an EXDATE): the recurrence ends there, in calendars and for
    # materialise alike.
    last = (
        began
        if began is not None
        else series.start_local.replace(tzinfo=None).replace(tzinfo=recurrence.zone(series.time_zone))
    )
    rule = recurrence.parse(series.rrule)
    if rule.repeats:
        series.rrule = recurrence.rrule_text_until(rule, last.astimezone(UTC))
        series.save(update_fields=["rrule"])  # materialise makes none past it
    for occurrence in to_come:
        _cancel(occurrence, why=": the series has ended")
    return len(to_come)


# --- RSVP and the wait-list ------------------------------------------------------------


def session_link(occurrence: Occurrence) -> str:
    return reverse("community:circle", kwargs={"slug": occurrence.circle.slug}) + "#schedule"


def _bookable(occurrence_id: int, now: datetime) -> Occurrence:
    occurrence = (
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("series", "circle")
        .filter(pk=occurrence_id)
        .first()
    )
    if occurrence is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That session does not exist.")
    return occurrence


@transaction.atomic
def rsvp(*, user: User, occurrence_id: int, now: datetime | None = None) -> Rsvp:
    """Say you are coming.  A seat if one is free, else a place on the wait-list
    (in order of asking).  Idempotent: asking again returns the same RSVP.
    The occurrence row is locked, so two members never take one last seat.
    Refusals: NOT_MEMBER and friends, SESSION_UNAVAILABLE (cancelled or over)."""
    now = now or timezone.now()
    occurrence = _bookable(occurrence_id, now)
    membership = check_member(user, Action.VIEW_ROOM, occurrence.circle)
    if occurrence.cancelled:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is cancelled.")
    if occurrence.end <= now:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is over.")
    existing = Rsvp.objects.filter(occurrence=occurrence, membership=membership).first()
    if existing is not None:
        return existing
    going = Rsvp.objects.filter(occurrence=occurrence, status=Rsvp.Status.GOING).count()
    status = Rsvp.Status.GOING if going < occurrence.series.seats else Rsvp.Status.WAITLISTED
    return Rsvp.objects.create(occurrence=occurrence, membership=membership, status=status)


@transaction.atomic
def cancel_rsvp(*, user: User, occurrence_id: int, now: datetime | None = None) -> Rsvp | None:
    """Withdraw an RSVP.  A freed seat goes to the first on the wait-list, who is
    told (a notification, live if connected).  Returns who moved up, if anyone."""
    now = now or timezone.now()
    occurrence = _bookable(occurrence_id, now)
    membership = check_member(user, Action.VIEW_ROOM, occurrence.circle)
    mine = Rsvp.objects.filter(occurrence=occurrence, membership=membership).first()
    if mine is None:
        return None
    freed = mine.status == Rsvp.Status.GOING
    mine.delete()
    if not freed or occurrence.cancelled or occurrence.end <= now:
        return None
    return _promote(occurrence)


def _promote(occurrence: Occurrence) -> Rsvp | None:
    """Fill free seats from the wait-list, in order (call with the occurrence locked)."""
    promoted = None
    going = Rsvp.objects.filter(occurrence=occurrence, status=Rsvp.Status.GOING).count()
    waiting = Rsvp.objects.filter(occurrence=occurrence, status=Rsvp.Status.WAITLISTED).select_related(
        "membership__user"
    )
    for entry in waiting[: max(0, occurrence.series.seats - going)]:
        entry.status = Rsvp.Status.GOING
        entry.save(update_fields=["status"])
        promoted = entry
        user = entry.membership.user
        if user is not None:
            notifications.notify(
                user=user,
                kind=Notification.Kind.WAITLIST,
                text=f"A seat freed up: you are now going to the session on {_when(occurrence, user)}.",
                link=session_link(occurrence),
                circle=occurrence.circle,
                key=f"seat:{occurrence.pk}:{entry.pk}",
            )
    return promoted


def _when(occurrence: Occurrence, user: User) -> str:
    prefs = Preferences.objects.filter(user=user).first()
    name = prefs.time_zone if prefs and prefs.time_zone else occurrence.series.time_zone
    local = occurrence.start.astimezone(recurrence.zone(name))
    return f"{local:%a %d %b, %H:%M} ({name})"


def title_for(occurrence: Occurrence, user: User | None) -> str:
    """The title a reminder or a calendar shows: neutral unless the member chose real titles."""
    if user is not None and Preferences.objects.filter(user=user, real_titles=True).exists():
        return occurrence.series.title
    return NEUTRAL_TITLE


# --- the live window, by hand ------------------------------------------------------------


def open_early(*, user: User, occurrence_id: int, now: datetime | None = None) -> Occurrence:
    """Open the room now for this session (facilitators: CLOSE_ROOM)."""
    now = now or timezone.now()
    occurrence = _occurrence_for_staff(user, occurrence_id, Action.CLOSE_ROOM)
    if occurrence.cancelled or occurrence.end <= now:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is cancelled or over.")
    Occurrence.objects.filter(pk=occurrence.pk, opened_at__isnull=True).update(opened_at=now)
    actor = Membership.objects.filter(user=user, circle=occurrence.circle).first()
    chat_services.set_room_closed_on_schedule(occurrence.circle_id, closed=False, actor=actor)
    occurrence.refresh_from_db()
    return occurrence


def extend(*, user: User, occurrence_id: int, minutes: int, now: datetime | None = None) -> Occurrence:
    """Let the session run ``minutes`` longer (1 to 120)."""
    now = now or timezone.now()
    if not 1 <= minutes <= MAX_EXTEND:
        raise _bad("Extend by 1 to 120 minutes.", field="minutes")
    occurrence = _occurrence_for_staff(user, occurrence_id, Action.CLOSE_ROOM)
    if occurrence.cancelled or occurrence.closed_at is not None or occurrence.end <= now:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is cancelled or over.")
    occurrence.end = occurrence.end + timedelta(minutes=minutes)
    occurrence.save(update_fields=["end"])
    return occurrence


def end_now(*, user: User, occurrence_id: int, now: datetime | None = None) -> Occurrence:
    """End the session now: the room closes (unless the circle stays open
    between sessions), check-ins go out on the scheduler's next pass."""
    now = now or timezone.now()
    occurrence = _occurrence_for_staff(user, occurrence_id, Action.CLOSE_ROOM)
    if occurrence.cancelled or occurrence.closed_at is not None:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session is cancelled or over.")
    if occurrence.start >= now:
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "That session has not started yet.")
    Occurrence.objects.filter(pk=occurrence.pk).update(end=max(now, occurrence.start + timedelta(minutes=1)))
    actor = Membership.objects.filter(user=user, circle=occurrence.circle).first()
    if close_window(occurrence.pk, now=now) and not occurrence.circle.open_between_sessions:
        chat_services.set_room_closed_on_schedule(occurrence.circle_id, closed=True, actor=actor)
    occurrence.refresh_from_db()
    return occurrence


# Taking part a little after the end still counts: the goodbyes, and the read
# marks they cause.  It also keeps a member who read all session and then read
# a goodbye (their seat's newest read is after the end) from being missed: the
# seat keeps only its newest read, so a read after this grace, before a late
# close (a scheduler down for longer), would still hide one.
ATTENDANCE_GRACE = timedelta(minutes=10)


def close_window(occurrence_id: int, *, now: datetime) -> bool:
    """Mark the session closed and record who attended (took part from the
    window's opening to ``ATTENDANCE_GRACE`` after the end); True for the one
    caller that did it (a conditional UPDATE)."""
    with transaction.atomic():
        if not Occurrence.objects.filter(pk=occurrence_id, closed_at__isnull=True).update(closed_at=now):
            return False
        occurrence = Occurrence.objects.get(pk=occurrence_id)
        # From when the room opened (early, or before a later edit of the series'
        # opening time moved ``opens_at``).
        since = min(occurrence.opens_at, occurrence.opened_at or occurrence.opens_at)
        posters = chat_selectors.members_active_between(
            occurrence.circle_id, since=since, until=occurrence.end + ATTENDANCE_GRACE
        )
        Rsvp.objects.filter(occurrence=occurrence, membership_id__in=posters).update(attended=True)
    return True


# --- after a session ---------------------------------------------------------------


@transaction.atomic
def check_in(
    *,
    user: User,
    occurrence_id: int,
    score: int | None,
    words: str = "",
    skip: bool = False,
    now: datetime | None = None,
) -> CheckIn:
    """The member's check-in after a session: 1-5 and optional words, or a skip.
    Once per session (a second answer replaces nothing).  A score at or below
    ``LOW_SCORE`` makes a follow-up notification for the circle's facilitators
    naming the alias only, never the words."""
    occurrence = Occurrence.objects.select_related("circle", "series").filter(pk=occurrence_id).first()
    if occurrence is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That session does not exist.")
    membership = check_member(user, Action.VIEW_ROOM, occurrence.circle)
    if occurrence.cancelled or (occurrence.end > (now or timezone.now()) and occurrence.closed_at is None):
        raise DomainError(ErrorCode.SESSION_UNAVAILABLE, "The check-in opens when the session has ended.")
    existing = CheckIn.objects.filter(occurrence=occurrence, membership=membership).first()
    if existing is not None:
        return existing
    if not skip and (score is None or not 1 <= score <= 5):
        raise _bad("Choose 1 to 5, or skip.", field="score")
    low = not skip and score is not None and score <= LOW_SCORE
    entry = CheckIn.objects.create(
        occurrence=occurrence,
        membership=membership,
        score=None if skip else score,
        words="" if skip else (words or "").strip()[:500],
        skipped=skip,
        follow_up=low,
    )
    if low:
        staff = Membership.objects.filter(
            circle=occurrence.circle, role__in=Membership.STAFF_ROLES, left_at__isnull=True, user__isnull=False
        ).select_related("user")
        for person in staff:
            if person.user is None:
                continue
            notifications.notify(
                user=person.user,
                kind=Notification.Kind.FOLLOW_UP,
                text=f"{membership.alias} may need a follow-up after the session on {occurrence.start:%d %b}.",
                link=reverse("schedules:occurrence", kwargs={"occurrence_id": occurrence.pk}),
                circle=occurrence.circle,
                key=f"follow-up:{entry.pk}",
            )
    return entry


# --- the member's own tools ---------------------------------------------------------------


def add_treatment(*, user: User, at: datetime) -> TreatmentDate:
    """Record a treatment (private to ``user``)."""
    check(user, Action.OWN_ACCOUNT)
    if timezone.is_naive(at):
        raise _bad("A treatment time needs a time zone.", field="at")
    return TreatmentDate.objects.create(user=user, at=at)


def delete_treatment(*, user: User, treatment_id: int) -> None:
    """Delete one of ``user``'s treatment dates (NOT_FOUND if it is not theirs)."""
    check(user, Action.OWN_ACCOUNT)
    if not TreatmentDate.objects.filter(user=user, pk=treatment_id).delete()[0]:
        raise DomainError(ErrorCode.NOT_FOUND, "That date does not exist.")


def set_preferences(
    *,
    user: User,
    time_zone: str = "",
    window_from_hours: int = 24,
    window_to_hours: int = 72,
    real_titles: bool = False,
) -> Preferences:
    check(user, Action.OWN_ACCOUNT)
    if time_zone:
        try:
            recurrence.zone(time_zone)
        except recurrence.RecurrenceError as err:
            raise _bad(str(err), field="time_zone") from None
    if not 0 <= window_from_hours < window_to_hours <= 24 * 14:
        raise _bad("The integration window starts before it ends, within two weeks.", field="window_from_hours")
    prefs, _ = Preferences.objects.update_or_create(
        user=user,
        defaults={
            "time_zone": time_zone,
            "window_from_hours": window_from_hours,
            "window_to_hours": window_to_hours,
            "real_titles": real_titles,
        },
    )
    return prefs


def calendar_token(*, user: User) -> CalendarToken:
    """The member's calendar-feed token (made on first use)."""
    check(user, Action.OWN_ACCOUNT)
    token, _ = CalendarToken.objects.get_or_create(user=user)
    return token


def rotate_calendar_token(*, user: User) -> CalendarToken:
    """A new feed URL; the old one stops working at once."""
    check(user, Action.OWN_ACCOUNT)
    CalendarToken.objects.filter(user=user).delete()
    return CalendarToken.objects.create(user=user)


def revoke_calendar_token(*, user: User) -> None:
    """No feed URL any more."""
    check(user, Action.OWN_ACCOUNT)
    CalendarToken.objects.filter(user=user).delete()
