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

import logging
import threading
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .models import Membership

log = logging.getLogger(__name__)

# Event types (the hub maps each to a wire frame in chat.protocol).
ROOM_MESSAGE = "room.message"
ROOM_MESSAGES = "room.messages"  # several room.message events of one commit, in order
ROOM_EDITED = "room.edited"
ROOM_REMOVED = "room.removed"
ROOM_REACTIONS = "room.reactions"
ROOM_PINNED = "room.pinned"
ROOM_STATE = "room.state"
ROOM_NOTICE = "room.notice"
ROOM_APPROVED = "room.approved"  # to the author: your held message was published under a new id
ROOM_KICK = "room.kick"
ROOM_CRISIS_RESOURCES = "room.crisis_resources"
ROOM_PRESENCE_SYNC = "room.presence_sync"
ROOM_PRESENCE_QUERY = "room.presence_query"
STAFF_ALERT = "staff.alert"
STAFF_QUEUE = "staff.queue"
STAFF_ROLES = tuple(role.value for role in Membership.STAFF_ROLES)


def circle_group(circle_id: int) -> str:
    return f"circle.{int(circle_id)}"


def staff_group() -> str:
    return "staff.all"


_collecting = threading.local()


def _send_now(group: str, event: dict[str, Any]) -> None:
    collected = getattr(_collecting, "events", None)
    if collected is not None:
        collected.append((group, event))
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, event)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits (at once
    outside a transaction)."""
    transaction.on_commit(lambda: _send_now(group, event))


@contextmanager
def collecting():
    """Within this block (on this thread) committed events are kept, not sent:
    the caller sends them with ``send_collected`` from its event loop.  A consumer
    uses this around its service call so that the broadcast needs no second hop
    from the worker thread back to the event loop."""
    events: list[tuple[str, dict[str, Any]]] = []
    _collecting.events = events
    try:
        yield events
    finally:
        _collecting.events = None


def _coalesced(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Runs of ``room.message`` events to one group become one ``room.messages``
    event: a batch of stored messages crosses the channel layer once."""
    out: list[tuple[str, dict[str, Any]]] = []
    for group, event in events:
        if event["type"] == ROOM_MESSAGE and out and out[-1][0] == group:
            last = out[-1][1]
            if last["type"] == ROOM_MESSAGE:
                out[-1] = (group, {"type": ROOM_MESSAGES, "events": [last, event]})
                continue
            if last["type"] == ROOM_MESSAGES:
                last["events"].append(event)
                continue
        out.append((group, event))
    return out


async def send_collected(events: list[tuple[str, dict[str, Any]]]) -> None:
    """Send committed events, each on its own: one that fails (the channel
    layer is best-effort) is logged and does not stop the rest, such as a crisis
    card or a staff alert after a batch of messages.  Clients repair lost
    messages from the ``prev`` chain; the crisis escalation job re-raises an
    unacknowledged alert."""
    layer = get_channel_layer()
    for group, event in _coalesced(events):
        try:
            await layer.group_send(group, event)
        except Exception:
            log.warning("could not send %s to %s", event.get("type"), group, exc_info=True)


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
