"""Every channel-layer event, declared once.

An event is a frozen dataclass: its ``NAME`` (the channel layer's ``type``),
its typed fields, its audience (``to``: one membership's sockets; ``roles``:
only sockets of those roles; neither: everyone subscribed to the group) and the
wire frame it becomes (``FRAME``; ``realtime.protocol.event_frame`` builds it).
Payloads carry aliases and ids only, never a handle or a user id.

Events cross the channel layer as plain dicts (``to_layer``; msgpack on Redis)
and are read back with ``from_layer``, which refuses an unknown name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

_REGISTRY: dict[str, type[Event]] = {}
_AUDIENCE = ("to", "roles")


class ResourceCardView(TypedDict):
    """A library resource shared into the room, as its card shows it
    (``realtime.protocol.resource_card`` builds it)."""

    id: int
    title: str
    kind: str
    kind_label: str
    phase: str
    phase_label: str
    url: str


class MessageView(TypedDict, total=False):
    """The public shape of one message (``realtime.protocol.message_view`` builds it)."""

    id: int
    alias: str
    html: str
    at: str
    reactions: dict[str, int]
    edited: str
    hidden: bool
    role: str  # the author's role when posting, only when staff: facilitator or moderator
    mine: list[str]  # the viewer's own reactions: only in replies to one socket, never broadcast
    resource: ResourceCardView


class RoomStateView(TypedDict):
    closed: bool
    slow_mode: int
    pinned: MessageView | None
    last_id: int


class CrisisAlertView(TypedDict):
    """What facilitators and moderators see in a crisis alert: alias, circle, text."""

    flag: int
    circle: str
    circle_slug: str
    message_id: int
    alias: str
    excerpt: str
    created_at: str
    repeat: bool


class UnknownEventError(ValueError):
    """A channel-layer message whose ``type`` no event declares."""


@dataclass(frozen=True, kw_only=True)
class Event:
    NAME: ClassVar[str]
    FRAME: ClassVar[str | None] = None  # None: the hub acts on it itself

    to: int | None = None
    roles: tuple[str, ...] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("NAME")
        if name is not None:
            if name in _REGISTRY:
                raise TypeError(f"event {name!r} is declared twice")
            _REGISTRY[name] = cls

    def payload(self) -> dict[str, Any]:
        """The event's own fields (its audience left out)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _AUDIENCE}

    def to_layer(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.NAME, **self.payload()}
        if self.to is not None:
            data["to"] = self.to
        if self.roles is not None:
            data["roles"] = list(self.roles)
        return data

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> Event:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("roles") is not None:
            values["roles"] = tuple(values["roles"])
        return cls(**values)


def from_layer(data: dict[str, Any]) -> Event:
    """The event a channel-layer message carries."""
    cls = _REGISTRY.get(data.get("type", ""))
    if cls is None:
        raise UnknownEventError(f"unknown event {data.get('type')!r}")
    return cls._from_fields(data)


def declared() -> dict[str, type[Event]]:
    """Every declared event by name (for tests and docs)."""
    return dict(_REGISTRY)


# --- the live room ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MessagePosted(Event):
    """A message is published; ``prev`` is the circle's previous published id
    (None for a message returning to its place after review, outside the chain)."""

    NAME = "room.message"
    FRAME = "message"
    message: MessageView
    prev: int | None


@dataclass(frozen=True, kw_only=True)
class MessagesPosted(Event):
    """Several ``MessagePosted`` of one commit, in id order: one crossing of the
    channel layer for a batch (``realtime.publish`` folds them together)."""

    NAME = "room.messages"
    FRAME = "messages"
    items: tuple[MessagePosted, ...]

    def payload(self) -> dict[str, Any]:
        return {"items": [item.payload() for item in self.items]}

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> Event:
        roles = data.get("roles")
        return cls(
            items=tuple(MessagePosted(**item) for item in data["items"]),
            to=data.get("to"),
            roles=tuple(roles) if roles is not None else None,
        )


@dataclass(frozen=True, kw_only=True)
class MessageEdited(Event):
    NAME = "room.edited"
    FRAME = "edited"
    message: MessageView


@dataclass(frozen=True, kw_only=True)
class MessageRemoved(Event):
    """Gone from the room: ``reason`` is removed, deleted or held."""

    NAME = "room.removed"
    FRAME = "removed"
    id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReactionsChanged(Event):
    NAME = "room.reactions"
    FRAME = "reactions"
    id: int
    counts: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class Pinned(Event):
    NAME = "room.pinned"
    FRAME = "pinned"
    message: MessageView | None


@dataclass(frozen=True, kw_only=True)
class RoomStateChanged(Event):
    NAME = "room.state"
    FRAME = "room_state"
    state: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """A private word to one member (muted, a moderator's warning); ``until``: when
    its cause ends (a mute), so the page can keep it up until then."""

    NAME = "room.notice"
    FRAME = "notice"
    code: str
    message: str
    until: str | None = None


@dataclass(frozen=True, kw_only=True)
class Approved(Event):
    """To the author: the held message ``held_id`` is published as ``id``."""

    NAME = "room.approved"
    FRAME = "approved"
    held_id: int
    id: int


@dataclass(frozen=True, kw_only=True)
class Kicked(Event):
    """Access ended: told why (a ``notice`` frame), then the sockets are closed
    with ``close_code``: those of one membership (``to``), or every socket of
    one account in the group (``user``: signed out, password changed, account
    deleted, no longer a moderator)."""

    NAME = "room.kick"
    FRAME = "notice"
    code: str
    message: str
    close_code: int = 4403
    user: int | None = None


@dataclass(frozen=True, kw_only=True)
class CrisisResources(Event):
    """To the author of a crisis (or concern) message, privately and at once."""

    NAME = "room.crisis_resources"
    FRAME = "crisis_resources"
    message: str
    resources: list[dict[str, Any]]
    tier: str = "crisis"  # or "concern": offered gently


@dataclass(frozen=True, kw_only=True)
class AlertCleared(Event):
    """Someone acknowledged the crisis alert ``flag``: it leaves every staff
    screen in the circle's room (sent to the staff roles only).  ``by``: who is
    on it, as the room knows them (an alias, or "A moderator")."""

    NAME = "room.alert_cleared"
    FRAME = "alert_cleared"
    flag: int
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class PresenceSync(Event):
    """Between processes: the aliases of one process's sockets in a circle."""

    NAME = "room.presence_sync"
    process: str
    members: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class PresenceQuery(Event):
    """As ``PresenceSync``, and every other process answers with its own."""

    NAME = "room.presence_query"
    process: str
    members: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class NotificationAdded(Event):
    """To one member: a new in-app notification, and their unread count."""

    NAME = "room.notification"
    FRAME = "notification"
    id: int
    kind: str
    text: str
    link: str
    unread: int


# --- staff -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StaffAlert(Event):
    """A crisis alert (to a circle's staff in its room, and to every moderator)."""

    NAME = "staff.alert"
    FRAME = "alert"
    alert: CrisisAlertView


@dataclass(frozen=True, kw_only=True)
class QueueChanged(Event):
    """The review queue changed: an item was added, handled or acknowledged."""

    NAME = "staff.queue"
    FRAME = "queue"
    change: str
    flag: int
    urgent: bool
