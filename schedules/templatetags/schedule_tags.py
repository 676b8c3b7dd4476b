"""The circle page's Schedule card (``{% circle_schedule %}`` in community/circle.html):
community's template asks, community's code never imports this app."""

from django import template
from django.utils import timezone

from community.permissions import Action, can
from library import selectors as library_selectors

from .. import selectors

register = template.Library()


@register.inclusion_tag("schedules/_circle_schedule.html", takes_context=True)
def circle_schedule(context):
    request = context["request"]
    circle = context["circle"]
    membership = context.get("membership")
    zone = selectors.viewer_zone(request.user, request.COOKIES.get("ic_tz", "UTC"))
    rows = selectors.circle_sessions(circle, membership)
    playlists = library_selectors.session_playlists([row.occurrence.pk for row in rows])
    return {
        "circle": circle,
        "membership": membership,
        "rows": [
            (
                row,
                row.occurrence.start.astimezone(zone),
                row.occurrence.end.astimezone(zone),
                playlists.get(row.occurrence.pk, []),
            )
            for row in rows
        ],
        "zone": zone.key,
        "can_schedule": can(request.user, Action.SCHEDULE_SESSION, circle, membership),
        "room_closed": circle.room_closed,
        "now": timezone.now(),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("schedules/_suggestions_note.html", takes_context=True)
def schedule_suggestions(context):
    """The directory's note: sessions in the member's integration window."""
    user = context["request"].user
    return {"count": selectors.suggestion_count(user) if user.is_authenticated else 0}
