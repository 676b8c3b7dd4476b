"""Template pieces other pages include with one line: the circle page's shelf
(with the facilitators' "share in the live room" form), and the links to the
library and the journal."""

from __future__ import annotations

import uuid

from django import template
from django.utils import timezone

from community.permissions import Action, can, membership_for
from core import markup

from .. import selectors, text

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """270 → 4:30."""
    try:
        return text.format_length(int(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def plain(html: str) -> str:
    """What a reader sees of stored HTML, as text (for excerpts)."""
    return markup.visible_text(html or "")


@register.filter
def age(when) -> str:
    """How long ago, the way a reader says it: today, yesterday, 12 days ago,
    3 months ago, over a year ago."""
    if not when:
        return ""
    days = (timezone.now() - when).days
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    if days < 365:
        return f"{days // 30} months ago"
    years = days // 365
    return "over a year ago" if years == 1 else f"over {years} years ago"


@register.inclusion_tag("library/_circle_shelf.html", takes_context=True)
def circle_library(context, circle):
    """The circle's resources, and what the viewer may do with them."""
    user = context["request"].user
    membership = membership_for(user, circle)
    active = membership if membership is not None and membership.is_active else None
    may_share = active is not None and can(user, Action.SHARE_RESOURCE, circle, active)
    return {
        "circle": circle,
        "resources": selectors.circle_shelf(user, circle),
        "member": active is not None,
        "may_publish": active is not None and can(user, Action.PUBLISH_RESOURCE, circle, active),
        "may_share": may_share,
        "shareable": selectors.shareable_in(circle) if may_share else [],
        "client_id": uuid.uuid4().hex,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def may_recheck(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and selectors.may_see_recheck(user))
