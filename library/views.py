"""The library's pages: browse and search, one resource, post or suggest, edit,
remove, re-check, pin, attach a playlist, the re-check list.  Thin: a form, one
service call, a page.  Refusals a user can meet land on the form's field, or
(missing, not theirs to read) on the calm error page with its status."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from community.models import Circle, Membership
from community.permissions import Action, can, is_site_moderator
from core.errors import DomainError, ErrorCode

from . import resources, schedule_links, selectors, text
from .forms import SITE, FilterForm, RemoveForm, ResourceForm, place_errors
from .models import PROMPTED, Kind, Phase, ResourcePost

# Refusals about who may do it (not about what was typed): the error page, with its status.
PAGE_REFUSALS = (ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.NOT_MEMBER, ErrorCode.BANNED)


def _reading_places(user) -> list[tuple[str, str]]:
    """The libraries ``user`` reads: site-wide, and their circles'."""
    places = [(SITE, "Site-wide library")]
    if user.is_authenticated:
        rows = Membership.objects.filter(user=user, left_at__isnull=True, banned=False).select_related("circle")
        places += [(m.circle.slug, m.circle.name) for m in rows.order_by("circle__name")]
    return places


def _posting_places(user) -> list[tuple[str, str]]:
    """Where ``user`` may post or suggest: the site-wide library (site
    moderators) and every circle they are an active member of."""
    places = [(SITE, "Site-wide library")] if can(user, Action.CURATE_LIBRARY) else []
    rows = Membership.objects.filter(user=user, left_at__isnull=True, banned=False, user__isnull=False)
    for m in rows.select_related("circle").order_by("circle__name"):
        verb = "publish" if can(user, Action.PUBLISH_RESOURCE, m.circle, m) else "suggest"
        places.append((m.circle.slug, f"{m.circle.name} ({verb})"))
    return places


def index(request):
    """Browse the library: by kind, phase and library, with full-text search;
    pinned and newest first, 20 a page."""
    places = _reading_places(request.user)
    form = FilterForm(request.GET or None, places=places)
    filters = selectors.Filters()
    if form.is_valid():
        filters = selectors.Filters(**{k: form.cleaned_data.get(k) or "" for k in ("kind", "phase", "circle", "q")})
    page = Paginator(selectors.listing(request.user, filters), selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    for resource in page.object_list:
        resource.needs_recheck = selectors.is_stale(resource)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    phase_links = []
    for value, label in [("", "All phases"), *[(p.value, p.label) for p in Phase if p != Phase.ANY]]:
        linked = query.copy()
        linked.pop("phase", None)
        if value:
            linked["phase"] = value
        phase_links.append((label, f"?{linked.urlencode()}" if linked else "?", filters.phase == value))
    return render(
        request,
        "library/index.html",
        {
            "form": form,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "phase_links": phase_links,
            "more_filters": bool(filters.kind or filters.circle),
            "may_recheck": request.user.is_authenticated and selectors.may_see_recheck(request.user),
        },
    )


def _resource_context(request, resource: ResourcePost, **extra):
    user = request.user
    circle = resource.circle
    tracks = list(resource.tracks.all())
    context: dict[str, Any] = {
        "resource": resource,
        "tracks": tracks,
        "prompts": list(resource.prompts.all()),
        "stale": selectors.is_stale(resource),
        "recheck_days": settings.LIBRARY_RECHECK_DAYS,
        "is_author": selectors.is_author(user, resource),
        "may_edit": False,
        "may_verify": False,
        "may_pin": False,
        "share_circles": [],
        "sessions": [],
        "crisis_resources": settings.CRISIS_RESOURCES,
        "remove_form": RemoveForm(),
        "share_nonce": uuid.uuid4().hex,  # one share per page view, however often it is submitted
    }
    if user.is_authenticated:
        try:
            resources.access_for_edit(user, resource.pk)
            context["may_edit"] = True
        except DomainError:
            pass
        staff_action_ok = can(user, Action.CURATE_LIBRARY) if circle is None else None
        context["may_verify"] = staff_action_ok if circle is None else can(user, Action.VERIFY_RESOURCE, circle)
        context["may_pin"] = staff_action_ok if circle is None else can(user, Action.PUBLISH_RESOURCE, circle)
        if resource.status == ResourcePost.Status.PUBLISHED:
            rows = Membership.objects.filter(user=user, left_at__isnull=True, banned=False).select_related("circle")
            if circle is not None:
                rows = rows.filter(circle=circle)
            context["share_circles"] = [m.circle for m in rows if can(user, Action.SHARE_RESOURCE, m.circle, m)]
            if resource.kind == Kind.PLAYLIST:
                staff_circles = [m.circle.pk for m in rows if can(user, Action.SCHEDULE_SESSION, m.circle, m)]
                context["sessions"] = schedule_links.upcoming_sessions(staff_circles)
    context["total"] = text.format_length(sum(t.seconds for t in tracks)) if tracks else ""
    context.update(extra)
    return context


def resource_page(request, pk: int):
    resource = selectors.access_resource(request.user, pk)
    return render(request, "library/resource.html", _resource_context(request, resource))


def _input(form: ResourceForm) -> resources.ResourceInput:
    data = form.cleaned_data
    return resources.ResourceInput(**{k: data.get(k) or "" for k in resources.ResourceInput.__dataclass_fields__})


def _circle_for(slug: str) -> Circle | None:
    if slug == SITE:
        return None
    circle = Circle.objects.filter(slug=slug).first()
    if circle is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That circle does not exist.", field="circle")
    return circle


def _saved(request, saved: resources.Saved, verb: str):
    if saved.outcome == "pending":
        messages.success(
            request,
            "Thank you. A moderator will look at it before it shows in the library."
            if saved.resource.suggested or verb == "suggested"
            else "Saved. It is waiting for a moderator's review before it shows in the library.",
        )
    else:
        messages.success(request, f"{verb.capitalize()}. It is in the library now.")
    if saved.care:
        resource = selectors.access_resource(request.user, saved.resource.pk)
        return render(request, "library/resource.html", _resource_context(request, resource, care=saved.care))
    return redirect(saved.resource)


@login_required
def new(request):
    """Post (facilitators, moderators) or suggest (members) a resource."""
    places = _posting_places(request.user)
    if not places:
        raise DomainError(ErrorCode.NOT_MEMBER, "Join a circle first: members suggest resources to their circles.")
    initial = {"circle": request.GET.get("circle", places[0][0]), "kind": request.GET.get("kind", "")}
    form = ResourceForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            circle = _circle_for(form.cleaned_data["circle"])
            saved = resources.post_resource(user=request.user, circle=circle, data=_input(form))
        except DomainError as err:
            if err.code in PAGE_REFUSALS:
                raise
            place_errors(form, err)
        else:
            return _saved(request, saved, "published" if saved.resource.status == "published" else "suggested")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "library/resource_form.html", {"form": form, "resource": None, "prompted": PROMPTED}, status=status
    )


@login_required
def edit(request, pk: int):
    resource, _actor = resources.access_for_edit(request.user, pk)
    places = [(resource.circle.slug, resource.circle.name) if resource.circle else (SITE, "Site-wide library")]
    initial = {
        "circle": places[0][0],
        "title": resource.title,
        "kind": resource.kind,
        "phase": resource.phase,
        "body": resource.body,
        "link": resource.link,
        "mood": resource.mood,
        "tracks": text.tracks_text(resource.tracks.all()),
        "prompts": "\n".join(p.text for p in resource.prompts.all()),
    }
    form = ResourceForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = resources.edit_resource(user=request.user, pk=pk, data=_input(form))
        except DomainError as err:
            if err.code in PAGE_REFUSALS:
                raise
            place_errors(form, err)
        else:
            return _saved(request, saved, "saved")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "library/resource_form.html", {"form": form, "resource": resource, "prompted": PROMPTED}, status=status
    )


@login_required
@require_POST
def remove(request, pk: int):
    form = RemoveForm(request.POST)
    form.is_valid()
    try:
        resources.remove_resource(user=request.user, pk=pk, reason=form.cleaned_data.get("reason", ""))
    except DomainError as err:
        if err.code != ErrorCode.INVALID:
            raise
        messages.error(request, err.message)
        return redirect("library:resource", pk=pk)
    messages.success(request, "Removed from the library.")
    return redirect("library:index")


@login_required
@require_POST
def verify(request, pk: int):
    resources.verify_resource(user=request.user, pk=pk)
    messages.success(request, "Marked as re-checked today. Thank you.")
    return _back(request, "library:resource", pk)


@login_required
@require_POST
def pin(request, pk: int):
    pinned = request.POST.get("pinned") == "1"
    resources.set_pinned(user=request.user, pk=pk, pinned=pinned)
    messages.success(request, "Pinned to the top of the library." if pinned else "Unpinned.")
    return redirect("library:resource", pk=pk)


@login_required
@require_POST
def attach(request, pk: int):
    try:
        occurrence_id = int(request.POST.get("occurrence", ""))
    except ValueError:
        raise DomainError(ErrorCode.NOT_FOUND, "That session is not on the schedule.") from None
    resources.attach_playlist(user=request.user, pk=pk, occurrence_id=occurrence_id)
    messages.success(request, "Attached: members see it with the session.")
    return redirect("library:resource", pk=pk)


def _back(request, fallback: str, pk: int):
    if request.POST.get("next") == "recheck":
        return redirect("library:recheck")
    return redirect(fallback, pk=pk)


@login_required
def recheck(request):
    """Crisis lines and linked resources not re-checked for a while: the
    moderators' (and facilitators', for their circles) list."""
    if not selectors.may_see_recheck(request.user):
        raise DomainError(ErrorCode.FORBIDDEN, "Only moderators and facilitators keep the library up to date.")
    return render(
        request,
        "library/recheck.html",
        {
            "items": selectors.recheck_list(request.user),
            "days": settings.LIBRARY_RECHECK_DAYS,
            "site_moderator": is_site_moderator(request.user),
        },
    )


@login_required
def mine(request):
    """What I posted or suggested, and where each one stands."""
    page = Paginator(selectors.my_posts(request.user), selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "library/mine.html", {"page": page})
