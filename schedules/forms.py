"""Forms for the schedule pages: parsing only; the rules are in ``services``."""

from django import forms

from .recurrence import WEEKDAYS
from .services import MAX_DURATION, MAX_OPEN_BEFORE, MAX_SEATS  # told beside the field when out of range

DAY_CHOICES = list(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))


class SeriesForm(forms.Form):
    title = forms.CharField(max_length=120)
    start = forms.DateTimeField(
        label="First session (local date and time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    time_zone = forms.CharField(max_length=64, help_text="An IANA name, like Europe/Berlin or America/New_York.")
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=MAX_DURATION, initial=90)
    weekdays = forms.MultipleChoiceField(
        label="Repeats on",
        choices=DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None: a single session.",
    )
    interval = forms.IntegerField(label="Every how many weeks", min_value=1, initial=1)
    until = forms.DateField(label="Until (date)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(label="Or this many sessions", required=False, min_value=1)
    capacity = forms.IntegerField(
        label="Seats", required=False, min_value=1, max_value=MAX_SEATS, help_text="Empty: the circle's size."
    )
    open_minutes_before = forms.IntegerField(
        label="Room opens (minutes before)", min_value=0, max_value=MAX_OPEN_BEFORE, initial=10
    )


class SeriesEditForm(forms.Form):
    """What changes for a whole series (its day and time stay: move single
    sessions, or end the series and schedule a new one)."""

    title = forms.CharField(max_length=120)
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=MAX_DURATION)
    capacity = forms.IntegerField(
        label="Seats", required=False, min_value=1, max_value=MAX_SEATS, help_text="Empty: the circle's size."
    )
    open_minutes_before = forms.IntegerField(
        label="Room opens (minutes before)", min_value=0, max_value=MAX_OPEN_BEFORE
    )


class MoveForm(forms.Form):
    start = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class CheckInForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How are you? (1 = struggling, 5 = well)",
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )
    words = forms.CharField(
        label="Anything you want to add (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TreatmentForm(forms.Form):
    at = forms.DateTimeField(
        label="Treatment date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class PreferencesForm(forms.Form):
    time_zone = forms.CharField(max_length=64, required=False, help_text="Empty: your browser's time zone.")
    window_from_hours = forms.IntegerField(label="Integration window from (hours after)", min_value=0, initial=24)
    window_to_hours = forms.IntegerField(label="to (hours after)", min_value=1, initial=72)
    real_titles = forms.BooleanField(
        label="Show real session titles in reminders and my calendar",
        required=False,
        help_text="Off: “Wellness circle”, so a lock screen or a shared calendar reveals nothing.",
    )


class CircleForm(forms.Form):
    name = forms.CharField(max_length=80)
    topic = forms.CharField(max_length=120, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    capacity = forms.IntegerField(min_value=2, max_value=MAX_SEATS, initial=20)
    access = forms.ChoiceField(choices=[("open", "Open to every member"), ("invite", "Invite code required")])
    open_between_sessions = forms.BooleanField(
        required=False, label="The live room stays open between sessions", initial=True
    )
    retention_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Delete messages after (days)", help_text="Empty: kept."
    )


class LeaderForm(forms.Form):
    who = forms.CharField(
        max_length=30,
        label="Their member number",
        help_text="The M-… number shown in the review queue or a circle's member list (staff never see handles).",
    )
    on = forms.TypedChoiceField(
        choices=[("1", "May lead circles"), ("0", "May no longer lead circles")],
        coerce=lambda v: v == "1",
        label="Permission",
    )
