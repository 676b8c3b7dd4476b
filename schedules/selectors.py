"""Reads for scheduled sessions: a circle's upcoming sessions as a viewer sees
them, a member's own sessions and suggestions, a facilitator's roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.utils import timezone

from community.models import Circle, Membership
from community.permissions import Action, check
from core.errors import DomainError, ErrorCode

from . import recurrence
from .facilitation import LEAD_PERMISSION
from .models import CheckIn, Occurrence, Preferences, Rsvp, SessionSeries, TreatmentDate

UPCOMING = 8  # sessions shown on the circle page


def viewer_zone(user: User | None, fallback: str = "UTC") -> ZoneInfo:
    """The zone a person sees times in: their setting, else ``fallback``."""
    prefs = Preferences.objects.filter(user=user).first() if user is not None and user.is_authenticated else None
    name = prefs.time_zone if prefs and prefs.time_zone else fallback
    try:
        return recurrence.zone(name)
    except recurrence.RecurrenceError:
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class SessionRow:
    occurrence: Occurrence
    going: int
    waitlisted: int
    mine: str  # "", "going" or "waitlisted"
    position: int  # place on the wait-list (1-based), 0 when not waiting
    state: str  # "upcoming", "live", "ended", "cancelled"

    @property
    def seats(self) -> int:
        return self.occurrence.series.seats

    @property
    def full(self) -> bool:
        return self.going >= self.seats


def state_of(occurrence: Occurrence, now: datetime) -> str:
    if occurrence.cancelled:
        return "cancelled"
    if occurrence.end <= now or occurrence.closed_at is not None:
        return "ended"
    if occurrence.opened_at is not None or occurrence.start <= now:
        return "live"
    return "upcoming"


def _rows(occurrences: list[Occurrence], membership: Membership | None, now: datetime) -> list[SessionRow]:
    ids = [o.pk for o in occurrences]
    counts: dict[int, dict[str, int]] = {
        row["occurrence_id"]: {"going": row["going"], "waiting": row["waiting"]}
        for row in Rsvp.objects.filter(occurrence_id__in=ids)
        .values("occurrence_id")
        .annotate(
            going=Count("id", filter=Q(status=Rsvp.Status.GOING)),
            waiting=Count("id", filter=Q(status=Rsvp.Status.WAITLISTED)),
        )
    }
    mine: dict[int, Rsvp] = {}
    positions: dict[int, int] = {}
    if membership is not None:
        mine = {r.occurrence_id: r for r in Rsvp.objects.filter(occurrence_id__in=ids, membership=membership)}
        for occ_id, rsvp in mine.items():
            if rsvp.status == Rsvp.Status.WAITLISTED:
                positions[occ_id] = (
                    Rsvp.objects.filter(
                        occurrence_id=occ_id, status=Rsvp.Status.WAITLISTED, created_at__lte=rsvp.created_at
                    )
                    .exclude(created_at=rsvp.created_at, pk__gt=rsvp.pk)
                    .count()
                )
    return [
        SessionRow(
            occurrence=o,
            going=counts.get(o.pk, {}).get("going", 0),
            waitlisted=counts.get(o.pk, {}).get("waiting", 0),
            mine=mine[o.pk].status if o.pk in mine else "",
            position=positions.get(o.pk, 0),
            state=state_of(o, now),
        )
        for o in occurrences
    ]


def circle_sessions(circle: Circle, membership: Membership | None, *, now: datetime | None = None) -> list[SessionRow]:
    """The circle's next sessions (and one running now), with counts and the viewer's RSVP."""
    now = now or timezone.now()
    occurrences = list(
        Occurrence.objects.filter(circle=circle, end__gt=now).select_related("series", "circle")[:UPCOMING]
    )
    return _rows(occurrences, membership, now)


def my_sessions(user: User, *, now: datetime | None = None) -> list[SessionRow]:
    """Every upcoming session ``user`` RSVP'd to, over all their circles."""
    now = now or timezone.now()
    rsvps = (
        Rsvp.objects.filter(membership__user=user, membership__left_at__isnull=True, occurrence__end__gt=now)
        .select_related("occurrence__series", "occurrence__circle", "membership")
        .order_by("occurrence__start")
    )
    rows = []
    for rsvp in rsvps:
        rows.extend(_rows([rsvp.occurrence], rsvp.membership, now))
    return rows


def suggestions(user: User, *, now: datetime | None = None) -> list[Occurrence]:
    """Sessions of the member's circles that fall in the integration window
    (the member's setting, default 24-72 h) after one of their treatments."""
    now = now or timezone.now()
    prefs = Preferences.objects.filter(user=user).first()
    lo = timedelta(hours=prefs.window_from_hours if prefs else 24)
    hi = timedelta(hours=prefs.window_to_hours if prefs else 72)
    treatments = list(TreatmentDate.objects.filter(user=user, at__gt=now - hi).values_list("at", flat=True))
    if not treatments:
        return []
    window = Q()
    for at in treatments:
        window |= Q(start__gte=at + lo, start__lte=at + hi)
    circles = Membership.objects.filter(user=user, left_at__isnull=True, banned=False).values("circle_id")
    return list(
        Occurrence.objects.filter(window, circle_id__in=circles, cancelled=False, end__gt=now).select_related(
            "series", "circle"
        )[:20]
    )


def treatments(user: User) -> list[TreatmentDate]:
    return list(TreatmentDate.objects.filter(user=user))


@dataclass(frozen=True)
class Roster:
    occurrence: Occurrence
    going: list[Rsvp]
    waitlisted: list[Rsvp]
    follow_ups: list[CheckIn]


def series_for_staff(user: User, series_id: int, *, lock: bool = False) -> SessionSeries:
    """A series, for a facilitator of its circle (SCHEDULE_SESSION); NOT_FOUND or
    a refusal otherwise.  ``lock``: its row locked to the end of the transaction
    (writes to a series lock it before its sessions)."""
    found = SessionSeries.objects.select_related("circle")
    if lock:
        found = found.select_for_update(of=("self",))
    series = found.filter(pk=series_id).first()
    if series is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That series does not exist.")
    check(user, Action.SCHEDULE_SESSION, series.circle)
    return series


def sessions_to_come(series: SessionSeries, now: datetime) -> int:
    """How many of the series' sessions are not over and not cancelled."""
    return series.occurrences.filter(cancelled=False, end__gt=now).count()


def roster(occurrence_id: int, user: User) -> Roster:
    """What a facilitator of the circle sees of a session: aliases going and
    waiting, attendance, and check-ins asking for a follow-up (alias and score
    only; the words stay the member's)."""
    occurrence = Occurrence.objects.select_related("series", "circle").filter(pk=occurrence_id).first()
    if occurrence is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That session does not exist.")
    check(user, Action.SCHEDULE_SESSION, occurrence.circle)
    rsvps = list(occurrence.rsvps.select_related("membership"))
    return Roster(
        occurrence=occurrence,
        going=[r for r in rsvps if r.status == Rsvp.Status.GOING],
        waitlisted=[r for r in rsvps if r.status == Rsvp.Status.WAITLISTED],
        follow_ups=list(occurrence.checkins.filter(follow_up=True).select_related("membership")),
    )


@dataclass(frozen=True)
class PastSession:
    occurrence: Occurrence
    going: int
    attended: int


def past_sessions(circle: Circle, *, limit: int = 10, now: datetime | None = None) -> list[PastSession]:
    """The circle's last sessions with how many were going and how many took part
    (for its facilitators; the caller checks)."""
    now = now or timezone.now()
    rows = (
        Occurrence.objects.filter(circle=circle, end__lte=now, cancelled=False)
        .select_related("series")
        .annotate(
            n_going=Count("rsvps", filter=Q(rsvps__status=Rsvp.Status.GOING)),
            n_attended=Count("rsvps", filter=Q(rsvps__attended=True)),
        )
        .order_by("-start")[:limit]
    )
    return [PastSession(o, o.n_going, o.n_attended) for o in rows]


def suggestion_count(user: User) -> int:
    """How many sessions ``user`` is suggested (for the directory)."""
    return len(suggestions(user)) if user.is_authenticated else 0


# --- who may lead circles (the leaders page) ----------------------------------------------


def membership_by_number(number: str) -> Membership | None:
    """The membership whose opaque member number is ``number`` (M-…), with its account."""
    return Membership.objects.select_related("user").filter(number__iexact=(number or "").strip()).first()


def leaders_by_number() -> list[list[str]]:
    """Everyone who may lead circles, each as their memberships' numbers and
    circles ("M-… in Circle"), never a handle; [] for a leader in no circle."""
    app_label, codename = LEAD_PERMISSION.split(".")
    leaders = User.objects.filter(
        user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
    ).order_by("pk")
    rows = Membership.objects.filter(user__in=leaders).select_related("circle").order_by("user_id", "circle__name")
    by_user: dict[int, list[str]] = {leader.pk: [] for leader in leaders}
    for m in rows:
        if m.user_id is not None:
            by_user[m.user_id].append(f"{m.member_number} in {m.circle.name}")
    return list(by_user.values())
