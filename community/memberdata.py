"""Everything held about one member, gathered for their download, and what their
account deletion may erase.

Each app registers, when Django starts (``AppConfig.ready``), a section: how to
export what it holds about a user, and optionally how to erase it.  The account
pages call ``export`` and ``erase``; community never imports the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from .models import Membership


@dataclass(frozen=True)
class Section:
    export: Callable[[User], Any]
    erase: Callable[[User], int] | None = None  # returns how many items it erased


_sections: dict[str, Section] = {}


def register(name: str, *, export: Callable[[User], Any], erase: Callable[[User], int] | None = None) -> None:
    _sections[name] = Section(export, erase)


def _memberships(user: User) -> list[dict[str, Any]]:
    return [
        {
            "circle": m.circle.name,
            "circle_slug": m.circle.slug,
            "alias": m.alias,
            "member_number": m.number,
            "role": m.role,
            "joined_at": m.joined_at.isoformat(),
            "left_at": m.left_at.isoformat() if m.left_at else None,
            "muted_until": m.muted_until.isoformat() if m.muted_until else None,
            "banned": m.banned,
        }
        for m in Membership.objects.filter(user=user).select_related("circle").order_by("joined_at")
    ]


def export(user: User) -> dict[str, Any]:
    """Everything held about ``user``, as JSON-ready data (their own download)."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {"handle": user.username, "joined": user.date_joined.isoformat()},
        "memberships": _memberships(user),
    }
    for name, section in sorted(_sections.items()):
        data[name] = section.export(user)
    return data


def erase(user: User) -> dict[str, int]:
    """Erase what every section can erase of ``user`` (their messages, say);
    how many items each erased.  Call inside the deletion's transaction."""
    return {name: section.erase(user) for name, section in sorted(_sections.items()) if section.erase is not None}
