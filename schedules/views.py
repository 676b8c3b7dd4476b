"""Pages for scheduled sessions.  Thin: parse the form, call a service, render
or redirect with the outcome (a refusal as an error message)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from community import selectors as community_selectors
from community.permissions import Action, check, is_site_moderator
from core.errors import DomainError, ErrorCode

from . import facilitation, feed, selectors, services
from .forms import (
    CheckInForm,
    CircleForm,
    LeaderForm,
    MoveForm,
    PreferencesForm,
    SeriesEditForm,
    SeriesForm,
    TreatmentForm,
)
from .models import CalendarToken, Occurrence, Preferences

TZ_COOKIE = "ic_tz"  # the browser's time zone, set by static/js/schedule.js


def viewer_zone_name(request: HttpRequest) -> str:
    """The viewer's zone: their setting, else the browser's (cookie), else UTC."""
    fallback = request.COOKIES.get(TZ_COOKIE, "UTC")
    return selectors.viewer_zone(_user(request), fallback).key


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here but the feed is behind ``login_required``)."""
    return cast(User, request.user)


def _naive(value: datetime) -> datetime:
    """A form's datetime as the wall clock typed (forms make it aware in UTC)."""
    return value.replace(tzinfo=None)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else fallback)


def _refused(request: HttpRequest, err: DomainError, fallback: str) -> HttpResponse:
    messages.error(request, err.message)
    return _back(request, fallback)


def _occurrence_circle_url(occurrence_id: int) -> str:
    occ = Occurrence.objects.select_related("circle").filter(pk=occurrence_id).first()
    if occ is None:
        raise Http404("no such session")
    return occ.circle.get_absolute_url() + "#schedule"


# --- members ---------------------------------------------------------------------------


@login_required
@require_POST
def rsvp(request: HttpRequest, occurrence_id: int) -> HttpResponse:
    back = _occurrence_circle_url(occurrence_id)
    try:
        entry = services.rsvp(user=_user(request), occurrence_id=occurrence_id)
    except DomainError as err:
        return _refused(request, err, back)
    if entry.status == entry.Status.GOING:
        messages.success(request, "You are going. See you there.")
    else:
        messages.success(request, "The session is full: you are on the wait-list and will be told if a seat frees.")
    return _back(request, back)


@login_required
@require_POST
def rsvp_cancel(request: HttpRequest, occurrence_id: int) -> HttpResponse:
    back = _occurrence_circle_url(occurrence_id)
    try:
        services.cancel_rsvp(user=_user(request), occurrence_id=occurrence_id)
    except DomainError as err:
        return _refused(request, err, back)
    messages.success(request, "You are no longer going to that session.")
    return _back(request, back)


@login_required
def check_in(request: HttpRequest, occurrence_id: int) -> HttpResponse:
    occurrence = Occurrence.objects.select_related("circle").filter(pk=occurrence_id).first()
    if occurrence is None:
        raise Http404("no such session")
    form = CheckInForm(request.POST or None)
    if request.method == "POST":
        skip = "skip" in request.POST
        if skip or form.is_valid():
            data = form.cleaned_data if not skip else {}
            try:
                services.check_in(
                    user=_user(request),
                    occurrence_id=occurrence_id,
                    score=data.get("score") or None,
                    words=data.get("words", ""),
                    skip=skip,
                )
            except DomainError as err:
                return _refused(request, err, reverse("schedules:check_in", args=[occurrence_id]))
            messages.success(request, "Thank you. Take good care of yourself." if not skip else "Skipped. Take care.")
            return redirect("schedules:my_sessions")
    else:
        check(request.user, Action.VIEW_ROOM, occurrence.circle)
    return render(request, "schedules/check_in.html", {"occurrence": occurrence, "form": form})


@login_required
@never_cache
def my_sessions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    check(user, Action.OWN_ACCOUNT)
    token = CalendarToken.objects.filter(user=user).first()
    prefs = Preferences.objects.filter(user=user).first()
    context = {
        "rows": selectors.my_sessions(_user(request)),
        "suggested": selectors.suggestions(_user(request)),
        "treatments": selectors.treatments(_user(request)),
        "treatment_form": TreatmentForm(),
        "prefs_form": PreferencesForm(
            initial={
                "time_zone": prefs.time_zone if prefs else "",
                "window_from_hours": prefs.window_from_hours if prefs else 24,
                "window_to_hours": prefs.window_to_hours if prefs else 72,
                "real_titles": prefs.real_titles if prefs else False,
            }
        ),
        "feed_url": request.build_absolute_uri(reverse("schedules:feed", args=[token.token])) if token else "",
        "zone": viewer_zone_name(request),
        "now": timezone.now(),
    }
    return render(request, "schedules/my_sessions.html", context)


@login_required
@require_POST
def treatment_add(request: HttpRequest) -> HttpResponse:
    form = TreatmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please give the date and time of the treatment.")
        return redirect("schedules:my_sessions")
    zone = selectors.viewer_zone(_user(request), request.COOKIES.get(TZ_COOKIE, "UTC"))
    at = _naive(form.cleaned_data["at"]).replace(tzinfo=zone)
    services.add_treatment(user=_user(request), at=at)
    messages.success(request, "Saved. Only you can see it.")
    return redirect("schedules:my_sessions")


@login_required
@require_POST
def treatment_delete(request: HttpRequest, treatment_id: int) -> HttpResponse:
    try:
        services.delete_treatment(user=_user(request), treatment_id=treatment_id)
    except DomainError as err:
        return _refused(request, err, reverse("schedules:my_sessions"))
    messages.success(request, "Deleted.")
    return redirect("schedules:my_sessions")


@login_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Please check the settings: " + " ".join(str(e) for el in form.errors.values() for e in el)
        )
        return redirect("schedules:my_sessions")
    try:
        services.set_preferences(user=_user(request), **form.cleaned_data)
    except DomainError as err:
        return _refused(request, err, reverse("schedules:my_sessions"))
    messages.success(request, "Settings saved.")
    return redirect("schedules:my_sessions")


@login_required
@require_POST
def calendar(request: HttpRequest) -> HttpResponse:
    """Make (or replace) the secret feed URL, or revoke it."""
    if request.POST.get("action") == "revoke":
        services.revoke_calendar_token(user=_user(request))
        messages.success(request, "Your calendar link no longer works.")
    else:
        services.rotate_calendar_token(user=_user(request))
        messages.success(request, "Here is your new calendar link; any old one stopped working.")
    return redirect("schedules:my_sessions")


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The .ics feed: the token is the only credential (calendar apps send no cookie)."""
    user = feed.user_for_token(token)
    if user is None:
        raise Http404("no such calendar")
    response = HttpResponse(feed.build(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- facilitators ----------------------------------------------------------------------------


@login_required
def series_new(request: HttpRequest, slug: str) -> HttpResponse:
    circle = community_selectors.access_circle(slug)
    check(request.user, Action.SCHEDULE_SESSION, circle)
    form = SeriesForm(request.POST or None, initial={"time_zone": viewer_zone_name(request)})
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_series(
                user=_user(request),
                circle=circle,
                title=data["title"],
                start_local=_naive(data["start"]),
                time_zone=data["time_zone"],
                duration_minutes=data["duration_minutes"],
                weekdays=tuple(data["weekdays"]),
                interval=data["interval"],
                until=data["until"],
                count=data["count"],
                capacity=data["capacity"],
                open_minutes_before=data["open_minutes_before"],
            )
        except DomainError as err:
            error = err
        else:
            messages.success(request, "The sessions are on the schedule.")
            return redirect(circle.get_absolute_url() + "#schedule")
    status = error.http_status if error else (400 if request.method == "POST" else 200)
    return render(
        request, "schedules/series_form.html", {"circle": circle, "form": form, "error": error}, status=status
    )


@login_required
def series_edit(request: HttpRequest, series_id: int) -> HttpResponse:
    """A facilitator changes a whole series, or ends it."""
    series = selectors.series_for_staff(_user(request), series_id)
    back = series.circle.get_absolute_url() + "#schedule"
    initial = {
        "title": series.title,
        "duration_minutes": series.duration_minutes,
        "capacity": series.capacity,
        "open_minutes_before": series.open_minutes_before,
    }
    action = request.POST.get("action", "") if request.method == "POST" else None
    form = SeriesEditForm(request.POST if action == "save" else None, initial=initial)
    error = end_error = None
    if action == "end":
        if request.POST.get("confirm") != "yes":
            end_error = DomainError(
                ErrorCode.BAD_SCHEDULE, "Tick the box to confirm that the series ends.", field="confirm"
            )
        else:
            try:
                cancelled = services.end_series(user=_user(request), series_id=series.pk)
            except DomainError as err:
                end_error = err
            else:
                messages.success(request, f"The series has ended; {cancelled} session(s) to come were cancelled.")
                return redirect(back)
    elif action == "save" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_series(
                user=_user(request),
                series_id=series.pk,
                title=data["title"],
                duration_minutes=data["duration_minutes"],
                capacity=data["capacity"],
                open_minutes_before=data["open_minutes_before"],
            )
        except DomainError as err:
            error = err
        else:
            messages.success(request, "The series is updated; sessions still to come follow it.")
            return redirect(back)
    elif action is not None and action != "save":
        error = DomainError(ErrorCode.BAD_SCHEDULE, "Unknown action: nothing was changed.")
    refusal = error or end_error
    status = refusal.http_status if refusal else (400 if request.method == "POST" else 200)
    context = {
        "series": series,
        "circle": series.circle,
        "form": form,
        "error": error,
        "end_error": end_error,
        "back": back,
        "sessions_to_come": selectors.sessions_to_come(series, timezone.now()),
    }
    return render(request, "schedules/series_edit.html", context, status=status)


@login_required
def occurrence(request: HttpRequest, occurrence_id: int) -> HttpResponse:
    roster = selectors.roster(occurrence_id, _user(request))
    zone = selectors.viewer_zone(_user(request), request.COOKIES.get(TZ_COOKIE, roster.occurrence.series.time_zone))
    context = {
        "roster": roster,
        "occurrence": roster.occurrence,
        "start_local": roster.occurrence.start.astimezone(zone),
        "zone": zone.key,
        "state": selectors.state_of(roster.occurrence, timezone.now()),
        "move_form": MoveForm(),
    }
    return render(request, "schedules/occurrence.html", context)


@login_required
@require_POST
def occurrence_action(request: HttpRequest, occurrence_id: int) -> HttpResponse:
    """A facilitator's change to one session: cancel, move, open now, extend, end now."""
    back = reverse("schedules:occurrence", args=[occurrence_id])
    action = request.POST.get("action", "")
    user = _user(request)
    try:
        if action == "cancel":
            services.cancel_occurrence(user=user, occurrence_id=occurrence_id)
            done = "Session cancelled; those going were told."
        elif action == "move":
            form = MoveForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Please give the new date and time.")
                return redirect(back)
            services.move_occurrence(
                user=user, occurrence_id=occurrence_id, start_local=_naive(form.cleaned_data["start"])
            )
            done = "Session moved; those going were told."
        elif action == "open":
            services.open_early(user=user, occurrence_id=occurrence_id)
            done = "The room is open."
        elif action == "extend":
            minutes = int(request.POST.get("minutes") or 15) if (request.POST.get("minutes") or "15").isdigit() else 0
            services.extend(user=user, occurrence_id=occurrence_id, minutes=minutes)
            done = f"Extended by {minutes} minutes."
        elif action == "end":
            services.end_now(user=user, occurrence_id=occurrence_id)
            done = "Session ended."
        else:
            messages.error(request, "Unknown action.")
            return redirect(back)
    except DomainError as err:
        return _refused(request, err, back)
    messages.success(request, done)
    return redirect(back)


# --- circles run by facilitators ------------------------------------------------------------


@login_required
def circle_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not facilitation.may_lead(user):
        return render(request, "403.html", status=403)
    form = CircleForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            circle = facilitation.create_circle(user=user, **form.cleaned_data)
        except DomainError as err:
            error = err
        else:
            messages.success(request, f"{circle.name} is ready. You are its facilitator.")
            return redirect("schedules:circle_edit", slug=circle.slug)
    status = error.http_status if error else (400 if request.method == "POST" else 200)
    return render(request, "schedules/circle_form.html", {"form": form, "error": error, "circle": None}, status=status)


@login_required
def circle_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A facilitator's page for their circle: its settings, invite code, members and mutes."""
    user = _user(request)
    circle = community_selectors.access_circle(slug)
    check(user, Action.SCHEDULE_SESSION, circle)
    form = CircleForm(request.POST or None, initial={f: getattr(circle, f) for f in facilitation.EDITABLE})
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "rotate":
                facilitation.rotate_invite_code(user=user, circle=circle)
                messages.success(request, "New invite code made; the old one no longer works.")
                return redirect("schedules:circle_edit", slug=slug)
            if action == "unmute":
                target = facilitation.unmute(
                    user=user, circle=circle, membership_id=int(request.POST.get("membership") or 0)
                )
                messages.success(request, f"{target.alias} can post again.")
                return redirect("schedules:circle_edit", slug=slug)
            if form.is_valid():
                facilitation.update_circle(user=user, circle=circle, **form.cleaned_data)
                messages.success(request, "Circle saved.")
                return redirect("schedules:circle_edit", slug=slug)
        except DomainError as err:
            error = err
    circle.refresh_from_db()
    context = {
        "form": form,
        "error": error,
        "circle": circle,
        "members": facilitation.members(user=user, circle=circle),
        "past": selectors.past_sessions(circle),
    }
    status = error.http_status if error else (400 if request.method == "POST" else 200)
    return render(request, "schedules/circle_form.html", context, status=status)


@login_required
def leaders(request: HttpRequest) -> HttpResponse:
    """Site moderators choose who may create and lead circles, by member number:
    the page never shows or takes a handle (staff see aliases and numbers only;
    a superuser can also grant it in the admin)."""
    user = _user(request)
    if not (user.is_superuser or is_site_moderator(user)):
        return render(request, "403.html", status=403)
    form = LeaderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = selectors.membership_by_number(form.cleaned_data["who"])
        if membership is None or membership.user is None:
            messages.error(request, "No member has that number. Copy it from the review queue or a member list.")
        else:
            facilitation.set_leader(by=user, user=membership.user, on=form.cleaned_data["on"])
            messages.success(request, "Saved.")
        return redirect("schedules:leaders")
    return render(request, "schedules/leaders.html", {"form": form, "leaders": selectors.leaders_by_number()})
