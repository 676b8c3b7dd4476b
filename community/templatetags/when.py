"""Times as a tired reader wants them: "just now", "5 minutes ago", "in 11 hours"."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def from_now(value: datetime | None) -> str:
    if value is None:
        return ""
    if (value - timezone.now()).total_seconds() < 60:
        return "in under a minute"
    return f"in {timeuntil(value, depth=1)}"
