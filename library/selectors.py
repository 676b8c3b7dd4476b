"""Reads for the library: who sees which resource, the listing (kind, phase,
circle, full-text search, pinned and newest first), the re-check list, and what
a resource looks like on a card in the room."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from community.models import Circle, Membership
from community.permissions import Action, can, is_site_moderator
from core.errors import DomainError, ErrorCode
from realtime import protocol
from realtime.events import ResourceCardView

from .models import PRACTICES, Kind, Phase, ResourcePost, SessionPlaylist

PUBLISHED = ResourcePost.Status.PUBLISHED
PAGE_SIZE = 20
# A filter value that stands for every integration practice.
PRACTICE = "practice"


def my_circle_ids(user) -> list[int]:
    """The circles ``user`` takes part in now."""
    if not (user and user.is_authenticated):
        return []
    return list(
        Membership.objects.filter(user=user, left_at__isnull=True, banned=False).values_list("circle_id", flat=True)
    )


def readable(user) -> QuerySet[ResourcePost]:
    """Published resources ``user`` may read: the site-wide library (anyone) and
    the circles they are in (site moderators: every circle)."""
    qs = ResourcePost.objects.filter(status=PUBLISHED)
    if is_site_moderator(user):
        return qs
    return qs.filter(Q(circle__isnull=True) | Q(circle_id__in=my_circle_ids(user)))


def may_review(user, circle: Circle | None) -> bool:
    """Whether ``user`` works the review queue for ``circle`` (site-wide: site moderators)."""
    if circle is None:
        return can(user, Action.CURATE_LIBRARY)
    return can(user, Action.REVIEW, circle)


def is_author(user, resource: ResourcePost) -> bool:
    return bool(user and user.is_authenticated and resource.author is not None and resource.author.user_id == user.pk)


def access_resource(user, pk: int) -> ResourcePost:
    """A resource ``user`` may open: published and readable; or waiting for
    review, to its author and the moderators who review it.  Anything else,
    removed ones included, is NOT_FOUND."""
    resource = (
        ResourcePost.objects.select_related("circle", "author")
        .prefetch_related("tracks", "prompts")
        .filter(pk=pk)
        .first()
    )
    if resource is None or resource.status == ResourcePost.Status.REMOVED:
        raise DomainError(ErrorCode.NOT_FOUND, "That resource is not in the library.")
    if resource.status == PUBLISHED:
        if resource.circle_id is None or is_site_moderator(user) or resource.circle_id in my_circle_ids(user):
            return resource
    elif is_author(user, resource) or may_review(user, resource.circle):
        return resource
    raise DomainError(ErrorCode.NOT_FOUND, "That resource is not in the library.")


@dataclass(frozen=True)
class Filters:
    kind: str = ""  # a Kind value, PRACTICE, or "" for all
    phase: str = ""  # a Phase value or ""
    circle: str = ""  # a circle slug, "site" for the site-wide library, or "" for all I can read
    q: str = ""


_WORD = re.compile(r"\w+", re.UNICODE)


def _search(qs: QuerySet[ResourcePost], q: str) -> QuerySet[ResourcePost]:
    """Full-text search over title and body: PostgreSQL's (stemmed, ranked,
    title first) where the database is PostgreSQL; every word as a substring
    of the title or the body elsewhere (SQLite)."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "body", weight="B", config="english"
        )
        query = SearchQuery(q, search_type="websearch", config="english")
        return (
            qs.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(search=query)
            .order_by("-pinned", "-rank", "-created_at", "-id")
        )
    words = _WORD.findall(q)[:8]
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return qs


def listing(user, filters: Filters) -> QuerySet[ResourcePost]:
    """The resources ``user`` may read that match ``filters``: pinned first,
    then newest (with a search: pinned, then best match)."""
    qs = readable(user).select_related("circle").prefetch_related("tracks")
    if filters.kind == PRACTICE:
        qs = qs.filter(kind__in=PRACTICES)
    elif filters.kind in Kind.values:
        qs = qs.filter(kind=filters.kind)
    if filters.phase in Phase.values and filters.phase != Phase.ANY:
        qs = qs.filter(phase__in=[filters.phase, Phase.ANY])
    elif filters.phase == Phase.ANY:
        qs = qs.filter(phase=Phase.ANY)
    if filters.circle == "site":
        qs = qs.filter(circle__isnull=True)
    elif filters.circle:
        qs = qs.filter(circle__slug=filters.circle)
    qs = qs.order_by("-pinned", "-created_at", "-id")
    q = " ".join(filters.q.split())[:200]
    if q:
        qs = _search(qs, q)
    return qs


def circle_shelf(user, circle: Circle, *, limit: int = 6) -> list[ResourcePost]:
    """The resources a circle page shows: the circle's own, pinned and newest first."""
    if circle.pk not in my_circle_ids(user) and not is_site_moderator(user):
        return []
    return list(ResourcePost.objects.filter(circle=circle, status=PUBLISHED).order_by("-pinned", "-created_at")[:limit])


def shareable_in(circle: Circle) -> list[ResourcePost]:
    """What a facilitator can share into ``circle``'s room: its resources and the
    site-wide library, by title."""
    return list(
        ResourcePost.objects.filter(Q(circle=circle) | Q(circle__isnull=True), status=PUBLISHED)
        .order_by("title")
        .only("id", "title", "kind", "circle_id")[:300]
    )


def shareable(resource_id: int, *, circle_id: int) -> ResourcePost:
    """A resource that may be shared into ``circle_id``'s room (published, and
    site-wide or that circle's), else NOT_FOUND."""
    resource = (
        ResourcePost.objects.filter(pk=resource_id, status=PUBLISHED)
        .filter(Q(circle__isnull=True) | Q(circle_id=circle_id))
        .first()
    )
    if resource is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That resource is not in this circle's library.")
    return resource


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+!|~>-])")


def share_body(resource: ResourcePost, *, site_url: str = "") -> str:
    """The text of the message that shares ``resource``: its title, linked to
    its page when the site's public address is known."""
    title = _MD_SPECIAL.sub(r"\\\1", resource.title)
    if site_url:
        return f"📚 From the library: [{title}]({site_url}{resource.get_absolute_url()})"
    return f"📚 From the library: **{title}**"


def shared_card(resource: ResourcePost | None) -> ResourceCardView | None:
    """A shared resource's card in the room, while it is published."""
    if resource is None or resource.status != PUBLISHED:
        return None
    return protocol.resource_card(
        id=resource.pk,
        title=resource.title,
        kind=resource.kind,
        kind_label=resource.get_kind_display(),
        phase=resource.phase,
        phase_label=resource.get_phase_display(),
        url=resource.get_absolute_url(),
    )


# --- staleness -------------------------------------------------------------------


def session_playlists(occurrence_ids: list[int]) -> dict[int, list[ResourcePost]]:
    """The published playlists attached to each of these sessions (the schedule
    shows them, so members can prepare with them), in the order attached."""
    found: dict[int, list[ResourcePost]] = {}
    links = SessionPlaylist.objects.filter(
        occurrence_id__in=occurrence_ids, resource__status=ResourcePost.Status.PUBLISHED
    ).select_related("resource")
    for link in links.order_by("created_at", "pk"):
        found.setdefault(link.occurrence_id, []).append(link.resource)
    return found


def recheck_cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=settings.LIBRARY_RECHECK_DAYS)


def needs_links(qs: QuerySet[ResourcePost]) -> QuerySet[ResourcePost]:
    """The resources whose facts can go stale: crisis lines, and anything with a link."""
    return qs.filter(Q(kind=Kind.CRISIS_LINE) | ~Q(link="") | Q(tracks__link__gt="")).distinct()


def is_stale(resource: ResourcePost, now=None) -> bool:
    """Whether readers should be told the resource may be out of date."""
    if resource.verified_at > recheck_cutoff(now):
        return False
    if resource.kind == Kind.CRISIS_LINE or resource.link:
        return True
    return any(t.link for t in resource.tracks.all())


def recheck_list(user) -> list[ResourcePost]:
    """Published crisis lines and linked resources not re-checked within
    ``LIBRARY_RECHECK_DAYS``, oldest check first: every one for site
    moderators, their circles' for circle moderators and facilitators."""
    qs = ResourcePost.objects.filter(status=PUBLISHED, verified_at__lt=recheck_cutoff())
    if not is_site_moderator(user):
        circles = [
            m.circle
            for m in Membership.objects.filter(user=user, left_at__isnull=True, banned=False).select_related("circle")
            if can(user, Action.VERIFY_RESOURCE, m.circle, m)
        ]
        qs = qs.filter(circle__in=circles)
    return list(needs_links(qs).select_related("circle").order_by("verified_at", "id")[:500])


def may_see_recheck(user) -> bool:
    if is_site_moderator(user):
        return True
    return any(
        can(user, Action.VERIFY_RESOURCE, m.circle, m)
        for m in Membership.objects.filter(user=user, left_at__isnull=True, banned=False).select_related("circle")
    )


def my_posts(user) -> QuerySet[ResourcePost]:
    """What ``user`` posted or suggested in any circle (not removed), newest first."""
    if not (user and user.is_authenticated):
        return ResourcePost.objects.none()
    return (
        ResourcePost.objects.filter(author__user=user)
        .exclude(status=ResourcePost.Status.REMOVED)
        .select_related("circle")
        .order_by("-created_at")
    )
