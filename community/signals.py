"""Account events outside a service call: a log-in is recorded (so the account
page can list and end sessions); signing out and losing the site moderator
group in the admin close the sockets they opened."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User

from .accounts import track_session
from .apps import MODERATORS_GROUP
from .services import end_access


def on_logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    track_session(user=user, session_key=session.session_key if session is not None else None)


def on_logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        end_access(user=user, why="signed_out")


def on_groups_changed(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, model: Any, **kwargs: Any
) -> None:
    """A user removed from the moderators' group (from either side of the relation)."""
    if action not in ("post_remove", "post_clear"):
        return
    if isinstance(instance, User):
        groups = Group.objects.filter(pk__in=pk_set or ()) if action == "post_remove" else None
        if groups is None or groups.filter(name=MODERATORS_GROUP).exists():
            end_access(user=instance, why="not_a_moderator")
    elif isinstance(instance, Group) and instance.name == MODERATORS_GROUP and pk_set:
        for user in User.objects.filter(pk__in=pk_set):
            end_access(user=user, why="not_a_moderator")
