"""The library's sections of a member's data download and account erasure
(``community.memberdata``): the resources they posted, and their private tools."""

from __future__ import annotations

from typing import Any

from . import resources
from .models import ResourcePost
from .private import export, journal


def export_posts(user) -> list[dict[str, Any]]:
    """The resources the member posted or suggested, in every circle."""
    rows = ResourcePost.objects.filter(author__user=user).select_related("circle").order_by("created_at")
    return [
        {
            "circle": r.circle.name if r.circle else "site-wide",
            "title": r.title,
            "text": r.body,
            "link": r.link,
            "kind": r.kind,
            "phase": r.phase,
            "status": r.status,
            "alias": r.author_label,
            "at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def erase_posts(user) -> int:
    """Take the member's posts out of the library and forget what they said."""
    count = 0
    for resource in ResourcePost.objects.filter(author__user=user).exclude(status=ResourcePost.Status.REMOVED):
        resources.erase_by_author(resource)
        count += 1
    return count


def export_private(user) -> dict[str, Any]:
    """Their worksheets and journal (the journal page also exports a zip with the audio)."""
    return export.data(user)


def erase_private(user) -> int:
    """Every worksheet, journal entry and voice note of theirs (the account's
    deletion also cascades to them; this is for an explicit erase)."""
    return journal.erase_all(user)
