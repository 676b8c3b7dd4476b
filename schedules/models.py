"""Scheduled group sessions: series, their materialised occurrences, RSVPs and
the wait-list, check-ins after a session, and each member's private planning
tools (treatment dates, calendar feed token, preferences).

Times are stored in UTC; a series keeps its local wall-clock start and IANA
zone so that daylight-saving changes keep the local time (``recurrence``).
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Circle, Membership


class SessionSeries(models.Model):
    """A recurring (or one-off) session of a circle, as the facilitator set it."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="session_series")
    title = models.CharField(max_length=120)
    # The local wall-clock start of the first occurrence, in ``time_zone``.
    start_local = models.DateTimeField(help_text="Naive local date and time of the first session.")
    time_zone = models.CharField(max_length=64)
    duration_minutes = models.PositiveIntegerField()
    # RFC 5545 recurrence, built by ``recurrence.rrule_text`` (empty: one session only).
    rrule = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the circle's capacity.")
    open_minutes_before = models.PositiveIntegerField(default=10)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Occurrences exist up to here (the scheduler extends an open-ended series).
    materialised_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["circle_id", "start_local"]
        permissions = [("lead_circles", "Can create circles and facilitate them")]

    def __str__(self) -> str:
        return self.title

    @property
    def seats(self) -> int:
        return self.capacity if self.capacity is not None else self.circle.capacity


class Occurrence(models.Model):
    """One session of a series.  ``original_start`` identifies it in the series
    (the calendar's RECURRENCE-ID); ``start``/``end`` may be moved.  The
    scheduler's transitions are the ``*_at`` columns, each set once by a
    conditional UPDATE, so several schedulers act once."""

    series = models.ForeignKey(SessionSeries, on_delete=models.CASCADE, related_name="occurrences")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="occurrences")
    original_start = models.DateTimeField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    cancelled = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    started_notice_at = models.DateTimeField(null=True, blank=True)
    checkins_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "original_start"], name="one_occurrence_per_instant"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="occurrence_ends_after_start"),
        ]
        indexes = [models.Index(fields=["start"], name="occurrence_start")]

    def __str__(self) -> str:
        return f"{self.series_id} at {self.start.isoformat()}"

    @property
    def moved(self) -> bool:
        return self.start != self.original_start

    @property
    def opens_at(self) -> datetime:
        return self.start - timedelta(minutes=self.series.open_minutes_before)


class Rsvp(models.Model):
    class Status(models.TextChoices):
        GOING = "going", "Going"
        WAITLISTED = "waitlisted", "On the wait-list"

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="rsvps")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=12, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    attended = models.BooleanField(default=False)

    class Meta:
        ordering = ["occurrence_id", "created_at", "id"]  # the wait-list's order
        constraints = [models.UniqueConstraint(fields=["occurrence", "membership"], name="one_rsvp_per_member")]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.status} {self.occurrence_id}"


class CheckIn(models.Model):
    """How a member is after a session: 1-5 and optional words, or skipped.
    Private to the member; a low score makes a follow-up item for the circle's
    facilitators that names the alias only."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="checkins")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="checkins")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    words = models.CharField(max_length=500, blank=True)
    skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    follow_up = models.BooleanField(default=False)
    followed_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["occurrence", "membership"], name="one_checkin_per_session")]

    def __str__(self) -> str:
        return f"check-in {self.occurrence_id}/{self.membership_id}"


class TreatmentDate(models.Model):
    """A treatment the member recorded: readable by its owner only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="treatment_dates")
    at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"treatment of {self.user_id}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """The secret in a member's calendar-feed URL.  Rotating it revokes the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar token of {self.user_id}"


class Preferences(models.Model):
    """A member's schedule settings."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_prefs")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the browser's.")
    window_from_hours = models.PositiveIntegerField(default=24)
    window_to_hours = models.PositiveIntegerField(default=72)
    real_titles = models.BooleanField(default=False, help_text="Show session titles in calendars and reminders.")

    def __str__(self) -> str:
        return f"schedule settings of {self.user_id}"
