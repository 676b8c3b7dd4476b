"""Group names and channel-layer events, defined once; the only ``group_send``.

Every event goes to one group per circle (``circle.<id>``).  Each Daphne process
subscribes once per circle it serves (chat.hub) and writes the resulting frame to
its local sockets, so an event crosses the channel layer once per process, not
once per member.  Events addressed to one member carry ``to`` (a membership id);
the hub delivers them only to that member's sockets.  Payloads carry aliases and
ids only, never a handle or a user id.

Services call these after writing; the send happens on commit, so a rolled-back
write never reaches a screen.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Event types (the hub maps each to a wire frame in chat.protocol).
ROOM_MESSAGE = "room.message"
ROOM_EDITED = "room.edited"
ROOM_REMOVED = "room.removed"
ROOM_REACTIONS = "room.reactions"
ROOM_PINNED = "room.pinned"
ROOM_STATE = "room.state"
ROOM_NOTICE = "room.notice"
ROOM_KICK = "room.kick"
ROOM_CRISIS_RESOURCES = "room.crisis_resources"
ROOM_PRESENCE_SYNC = "room.presence_sync"
ROOM_PRESENCE_QUERY = "room.presence_query"
STAFF_ALERT = "staff.alert"
STAFF_QUEUE = "staff.queue"
STAFF_ROLES = ("facilitator", "moderator")


def circle_group(circle_id: int) -> str:
    return f"circle.{int(circle_id)}"


def staff_group() -> str:
    return "staff.all"


def _send_now(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, event)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits (at once
    outside a transaction)."""
    transaction.on_commit(lambda: _send_now(group, event))


def to_circle(circle_id: int, event_type: str, **payload: Any) -> None:
    send_on_commit(circle_group(circle_id), {"type": event_type, **payload})


def to_circle_staff(circle_id: int, event_type: str, **payload: Any) -> None:
    """To the facilitators and moderators of the circle who are in its room."""
    send_on_commit(circle_group(circle_id), {"type": event_type, "roles": list(STAFF_ROLES), **payload})


def to_staff(event_type: str, **payload: Any) -> None:
    """To every site moderator online (the moderation pages' socket)."""
    send_on_commit(staff_group(), {"type": event_type, **payload})


def to_member(circle_id: int, membership_id: int, event_type: str, **payload: Any) -> None:
    send_on_commit(circle_group(circle_id), {"type": event_type, "to": int(membership_id), **payload})
