"""The wire format of the live room and the staff socket, mirrored by
docs/protocol.md.

Client frames are parsed here (whitelisted types, typed fields, size limits)
before anything else sees them; every server frame is built here, including
the frames channel-layer events become (``event_frame``).  Nothing else in the
code base knows the JSON shape of a frame.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import DomainError, ErrorCode

from .events import CrisisAlertView, Event, Kicked, MessagePosted, MessagesPosted, MessageView, Notice, ResourceCardView

# A message body's bound in characters after normalisation (chat.text enforces it).
MAX_BODY_CHARS = 4000

# Limits, each set on purpose (docs/protocol.md, "Limits"):
# * inbound: a client frame larger than MAX_FRAME_BYTES is refused with an error
#   frame and the socket stays open;
# * outbound: every frame the server builds is at most MAX_SERVER_FRAME_BYTES:
#   message lists (hello, resume, history, live batches) are paged by size;
# * transport: Daphne's --websocket-max-message-size (DAPHNE_MAX_MESSAGE_BYTES,
#   set by scripts/serve and the tests) is one cap that autobahn applies to both
#   directions: above it an incoming frame drops the connection (1006) and an
#   outgoing one would close the socket with 1011.  It sits above both bounds;
# * one message's HTML is at most MAX_MESSAGE_HTML_BYTES (chat.text), so any
#   frame can carry at least one message.
MAX_FRAME_BYTES = 16 * 1024
MAX_SERVER_FRAME_BYTES = 128 * 1024
DAPHNE_MAX_MESSAGE_BYTES = 256 * 1024
MAX_MESSAGE_HTML_BYTES = 48 * 1024
MAX_CLIENT_ID = 64
MAX_REASON = 500
HISTORY_PAGE = 50
RESUME_BATCH = 200
# A connect with ``since`` replays at most this many messages; further behind,
# the client starts over from the newest (hello ``reset``) and pages back.
RESUME_MAX = 1000
MAX_MUTE_MINUTES = 24 * 60
MAX_SLOW_MODE_SECONDS = 600

# Close codes (4000-4999 are ours).
CLOSE_NOT_SIGNED_IN = 4401  # no session: sign in first
CLOSE_NOT_ALLOWED = 4403  # not a member, banned or removed while connected
CLOSE_TOO_BIG = 1006  # Daphne drops the connection on a frame above DAPHNE_MAX_MESSAGE_BYTES
CLOSE_TOO_MANY = 4429  # too many connects in a short time: wait (retry_after) and reconnect
# Access changed while connected (left the circle, signed out, password changed,
# role changed, session expired): reconnect if you may (you are told if not).
CLOSE_ACCESS_CHANGED = 4409
CLOSE_SESSION_ENDED = 4401
CLOSE_RESTARTING = 1012  # this process is restarting: reconnect at once (to another)
CLOSE_SLOW_READER = 4008  # the socket fell too far behind reading: reconnect and resume
CLOSE_TRY_AGAIN = 1013  # the database is unreachable: reconnect a little later (RFC 6455 "try again later")

REACTIONS = ("heart", "hug", "thanks", "seedling")
# Roles whose messages carry a badge (``role`` in a message view).
BADGED_ROLES = ("facilitator", "moderator")
MAX_ALIAS = 60


@dataclass(frozen=True)
class Frame:
    type: str
    fields: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def _is_text(value: str) -> bool:
    """False for strings holding lone surrogates: valid JSON (``"\\ud800"``) but not
    text; they cannot be stored or sent on as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _echo(value: str) -> str:
    """A client-chosen name made safe to quote back in an error frame."""
    return value[:40].encode("utf-8", "replace").decode("utf-8")


def _string(name: str, *, max_len: int, required: bool = True, allow_empty: bool = False):
    def check(value: Any) -> Any:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be a string.", field=name)
        if not _is_text(value):
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' is not valid text.", field=name)
        if not allow_empty and not value.strip():
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must not be empty.", field=name)
        if len(value) > max_len:
            raise DomainError(
                ErrorCode.TOO_LARGE, f"'{name}' is longer than {max_len} characters.", field=name, limit=max_len
            )
        return value

    return check


def _reason(name: str = "reason"):
    """A reason that goes to the audit log: required, not blank, bounded."""
    bounded = _string(name, max_len=MAX_REASON, allow_empty=True)

    def check(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DomainError(
                ErrorCode.REASON_REQUIRED, "Please give a reason; it is kept in the audit log.", field=name
            )
        return bounded(value)

    return check


def _int(name: str, *, lo: int, hi: int, required: bool = True):
    def check(value: Any) -> Any:
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be a whole number.", field=name)
        if not lo <= value <= hi:
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be between {lo} and {hi}.", field=name)
        return value

    return check


def _bool(name: str):
    def check(value: Any) -> Any:
        if not isinstance(value, bool):
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be true or false.", field=name)
        return value

    return check


def _optional_bool(name: str):
    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, bool):
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be true or false.", field=name)
        return value

    return check


def _choice(name: str, options: tuple[str, ...]):
    def check(value: Any) -> Any:
        if value not in options:
            raise DomainError(ErrorCode.BAD_FRAME, f"'{name}' must be one of: {', '.join(options)}.", field=name)
        return value

    return check


_ID = 2**53  # the largest integer JavaScript holds exactly
# Emptiness is judged after normalisation (chat.text), so that "", "  " and a body
# of nothing but control characters all get the same EMPTY_BODY.
_body = _string("body", max_len=MAX_BODY_CHARS * 2, allow_empty=True)
_message = _int("message", lo=1, hi=_ID)

# type -> {field: validator}; a field whose validator accepts None is optional.
CLIENT_FRAMES: dict[str, dict[str, Any]] = {
    "send": {"client_id": _string("client_id", max_len=MAX_CLIENT_ID), "body": _body},
    "edit": {"message": _message, "body": _body},
    "delete": {"message": _message},
    "react": {"message": _message, "reaction": _choice("reaction", REACTIONS), "on": _bool("on")},
    "report": {"message": _message, "reason": _string("reason", max_len=MAX_REASON)},
    "history": {"before": _int("before", lo=1, hi=_ID)},
    "resume": {"since": _int("since", lo=0, hi=_ID)},
    "ping": {},
    # the member's own place in the room
    "read": {"upto": _int("upto", lo=1, hi=_ID)},
    "source": {"message": _message},
    "hide": {"alias": _string("alias", max_len=MAX_ALIAS), "on": _bool("on")},
    # facilitator controls
    "pin": {"message": _message},
    "unpin": {},
    "slow_mode": {"seconds": _int("seconds", lo=0, hi=MAX_SLOW_MODE_SECONDS)},
    "mute": {
        "alias": _string("alias", max_len=MAX_ALIAS),
        "minutes": _int("minutes", lo=1, hi=MAX_MUTE_MINUTES),
        "reason": _reason(),
    },
    "close_room": {},
    "open_room": {},
    "remove": {"message": _message, "reason": _reason()},
    "ack_alert": {"flag": _int("flag", lo=1, hi=_ID)},
    # share a library resource into the room as a card (a message like any other)
    "share": {
        "client_id": _string("client_id", max_len=MAX_CLIENT_ID),
        "resource": _int("resource", lo=1, hi=_ID),
        "pin": _optional_bool("pin"),
    },
}


def parse_client_frame(text: str | None, binary: bytes | None = None) -> Frame:
    """Turn one WebSocket frame into a validated ``Frame`` or raise ``DomainError``."""
    if binary is not None or text is None:
        raise DomainError(ErrorCode.BAD_FRAME, "Binary frames are not accepted; send JSON text.")
    if len(text) > MAX_FRAME_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise DomainError(ErrorCode.TOO_LARGE, f"Frames can be at most {MAX_FRAME_BYTES} bytes.", limit=MAX_FRAME_BYTES)
    try:
        content = json.loads(text)
    except (ValueError, RecursionError):
        raise DomainError(ErrorCode.BAD_FRAME, "That frame is not valid JSON.") from None
    if not isinstance(content, dict):
        raise DomainError(ErrorCode.BAD_FRAME, "A frame must be a JSON object with a 'type'.")
    # Read first, so that an error about the rest of the frame echoes it too.
    ref = content.get("ref")
    if ref is not None:
        ref = _string("ref", max_len=MAX_CLIENT_ID)(ref)
    try:
        kind = content.get("type")
        if not isinstance(kind, str):
            raise DomainError(ErrorCode.BAD_FRAME, "A frame must have a string 'type'.")
        spec = CLIENT_FRAMES.get(kind)
        if spec is None:
            raise DomainError(ErrorCode.UNKNOWN_TYPE, "Unknown frame type.", got=_echo(kind))
        unknown = set(content) - set(spec) - {"type", "ref"}
        if unknown:
            raise DomainError(ErrorCode.BAD_FRAME, f"Unexpected field '{_echo(sorted(unknown)[0])}'.")
        fields = {name: check(content.get(name)) for name, check in spec.items()}
    except DomainError as err:
        if ref is not None:
            err.extra["ref"] = ref
        raise
    if ref is not None:
        fields["ref"] = ref
    return Frame(kind, fields)


# --- server frames ------------------------------------------------------------

Frame_ = dict[str, Any]
# The ``error`` frame's fields beside code and message that an error may carry.
_ERROR_EXTRA = ("field", "limit", "until", "retry_after", "got", "ref")


def encode(frame: Frame_) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def error_frame(err: DomainError, ref: str | None = None, *, code: str | None = None) -> Frame_:
    """A refusal: a stable ``code`` and a human sentence (``code`` overrides the
    error's own, e.g. ``server_error``)."""
    frame: Frame_ = {"type": "error", "code": code or err.code.value, "message": err.message}
    frame.update({k: v for k, v in err.extra.items() if k in _ERROR_EXTRA})
    if ref is not None:
        frame["ref"] = ref
    return frame


def server_error_frame(ref: str | None = None) -> Frame_:
    """An unexpected failure: the socket stays open, nothing was changed."""
    err = DomainError(ErrorCode.BAD_FRAME, "Something went wrong with that request; nothing was changed.")
    return error_frame(err, ref, code="server_error")


def message_view(
    *,
    id: int,
    alias: str,
    html: str,
    at: str,
    reactions: dict[str, int],
    edited: str | None,
    hidden: bool,
    role: str = "",
    mine: Sequence[str] = (),
    resource: ResourceCardView | None = None,
) -> MessageView:
    """The public shape of a message: alias and content only, never who wrote it.

    ``role``: the author's role when they posted; only a staff role is shown (a
    badge), a member's is left out.  ``mine``: the viewer's own reactions, for
    views in a reply to one socket (hello, history, resume), never in a
    broadcast.  ``resource``: the card of a library resource the message shares."""
    view: MessageView = {"id": id, "alias": alias, "html": "" if hidden else html, "at": at, "reactions": reactions}
    if role in BADGED_ROLES:
        view["role"] = role
    if edited:
        view["edited"] = edited
    if hidden:
        view["hidden"] = True
    elif resource is not None:
        view["resource"] = resource
    if mine:
        view["mine"] = sorted(mine)
    return view


def resource_card(
    *, id: int, title: str, kind: str, kind_label: str, phase: str, phase_label: str, url: str
) -> ResourceCardView:
    """A shared library resource as the room's card shows it: what it is and
    where its page is (a path on this site); never who posted it."""
    return {
        "id": id,
        "title": title,
        "kind": kind,
        "kind_label": kind_label,
        "phase": phase,
        "phase_label": phase_label,
        "url": url,
    }


def size(value: Any) -> int:
    """Bytes of ``value`` as encoded in a frame."""
    return len(encode(value).encode("utf-8"))


def fit(items: Sequence[Any], budget: int, *, keep: str) -> tuple[list[Any], bool]:
    """As many of ``items`` as fit in ``budget`` bytes, kept from the ``"oldest"``
    (first) or the ``"newest"`` (last) end; and whether any were left out.  At
    least one item is kept (every single message fits in a frame)."""
    ordered = list(items) if keep == "oldest" else list(reversed(items))
    kept: list[Any] = []
    used = 0
    for item in ordered:
        cost = size(item) + 1
        if kept and used + cost > budget:
            break
        kept.append(item)
        used += cost
    if keep != "oldest":
        kept.reverse()
    return kept, len(kept) < len(items)


def hello_frame(
    *,
    alias: str,
    role: str,
    held: list[dict[str, Any]],
    room: dict[str, Any],
    present: list[str],
    messages: list[MessageView],
    resuming: bool,
    more: bool,
    reset: bool = False,
    last_read: int = 0,
    muted_until: str | None = None,
    hidden: Sequence[str] = (),
    alerts: Sequence[CrisisAlertView] = (),
) -> Frame_:
    """The first frame on a live-room socket, at most MAX_SERVER_FRAME_BYTES.

    A fresh connect carries the newest messages (the oldest left out when they do
    not fit: the client pages back with ``history``).  A resuming connect carries
    the oldest messages after ``since`` and ``more_after`` when more follow (in
    ``batch`` frames).  ``reset``: the client was too far behind to replay; these
    are the newest messages and the client starts over from them.

    ``you`` is this member's alone: ``last_read`` (the newest id they had seen),
    ``muted_until``, the aliases they chose not to read (``hidden``), and for staff the crisis
    ``alerts`` of this circle nobody has acknowledged yet."""
    you: dict[str, Any] = {
        "alias": alias,
        "role": role,
        "held": [],
        "last_read": last_read,
        "muted_until": muted_until,
        "hidden": list(hidden)[:200],
    }
    if role in BADGED_ROLES:
        you["alerts"] = list(alerts)[:20]
    frame: Frame_ = {
        "type": "hello",
        "you": you,
        "room": room,
        "present": present[:500],
        "messages": [],
        "more_after": False,
        "limits": {
            "body_chars": MAX_BODY_CHARS,
            "frame_bytes": MAX_FRAME_BYTES,
            "server_frame_bytes": MAX_SERVER_FRAME_BYTES,
        },
    }
    if reset:
        frame["reset"] = True
    frame["you"]["held"], _ = fit(held, MAX_SERVER_FRAME_BYTES // 4, keep="newest")
    budget = MAX_SERVER_FRAME_BYTES - size(frame)
    frame["messages"], trimmed = fit(messages, budget, keep="oldest" if resuming else "newest")
    frame["more_after"] = resuming and (more or trimmed)
    return frame


def ack_frame(client_id: str, message_id: int | None, verdict: str, duplicate: bool, reason: str = "") -> Frame_:
    """The reply to a ``send``: the stored id and what the author is told."""
    ack: Frame_ = {"type": "ack", "client_id": client_id, "id": message_id, "verdict": verdict, "duplicate": duplicate}
    if reason:
        ack["reason"] = reason
    return ack


def done_frame(of: str, result: dict[str, Any]) -> Frame_:
    """The reply to a frame that changed something (``of`` names the frame)."""
    return {"type": "done", "of": of, **result}


def report_done_frame(message_id: int) -> Frame_:
    return done_frame("report", {"id": message_id, "message": "Thank you. A moderator will look at it."})


_LIST_BUDGET = MAX_SERVER_FRAME_BYTES - 512  # room for the frame's other fields


def history_frame(before: int, messages: list[MessageView]) -> Frame_:
    """A page of older messages, oldest first, at most MAX_SERVER_FRAME_BYTES (the
    ones nearest ``before`` kept); ``more`` when older ones remain."""
    kept, trimmed = fit(messages, _LIST_BUDGET, keep="newest")
    return {
        "type": "batch",
        "kind": "history",
        "before": before,
        "messages": kept,
        "more": trimmed or len(messages) == HISTORY_PAGE,
    }


def resume_frame(since: int, messages: list[MessageView], latest: int | None = None) -> Frame_:
    """Published messages after ``since``, oldest first, at most
    MAX_SERVER_FRAME_BYTES; ``more`` when newer ones remain.  Asked for by the
    client (with the room's ``latest`` id), or sent after ``hello`` on a
    resuming connect (without it)."""
    kept, trimmed = fit(messages, _LIST_BUDGET, keep="oldest")
    frame: Frame_ = {
        "type": "batch",
        "kind": "resume",
        "messages": kept,
        "more": trimmed or len(messages) == RESUME_BATCH,
    }
    if latest is not None:
        frame.update(since=since, latest=latest)
    return frame


def source_frame(message_id: int, body: str) -> Frame_:
    """The reply to ``source``: the Markdown source of your own message (to edit it)."""
    return {"type": "source", "id": message_id, "body": body}


def presence_frame(*, joined: list[str], left: list[str], count: int) -> Frame_:
    """Who came and went (aliases), and how many are here now."""
    return {"type": "presence", "joined": joined, "left": left, "count": count}


def pong_frame() -> Frame_:
    return {"type": "pong"}


def messages_frame(items: Sequence[MessagePosted]) -> Frame_:
    """One ``message`` frame, or a ``messages`` frame when several messages go out
    together (in id order).  See ``messages_frames`` for the size bound."""
    if len(items) == 1:
        return {"type": "message", "message": items[0].message, "prev": items[0].prev}
    return {"type": "messages", "items": [{"message": e.message, "prev": e.prev} for e in items]}


def messages_frames(items: Sequence[MessagePosted]) -> list[Frame_]:
    """``items`` as message frames in id order, each at most MAX_SERVER_FRAME_BYTES."""
    frames: list[Frame_] = []
    rest = list(items)
    while rest:
        entries = [{"message": e.message, "prev": e.prev} for e in rest]
        kept, _ = fit(entries, _LIST_BUDGET, keep="oldest")
        frames.append(messages_frame(rest[: len(kept)]))
        rest = rest[len(kept) :]
    return frames


def event_frame(event: Event) -> Frame_ | None:
    """The frame a channel-layer event becomes on a socket, or None for events
    the hub acts on itself (presence)."""
    if event.FRAME is None:
        return None
    if isinstance(event, MessagesPosted):
        return messages_frame(event.items)
    if isinstance(event, Kicked):
        return {"type": event.FRAME, "code": event.code, "message": event.message}
    if isinstance(event, Notice) and event.until is None:
        return {"type": event.FRAME, "code": event.code, "message": event.message}
    return {"type": event.FRAME, **event.payload()}


def _replayed(item: Frame_, last_id: int) -> bool:
    # Ids are taken in commit order, so a replay up to ``last_id`` held every
    # chained message up to it.  A late approval (``prev`` None) may be newer news.
    return item["prev"] is not None and item["message"]["id"] <= last_id


def _items(frame: Frame_) -> list[Frame_] | None:
    if frame["type"] == "message":
        return [frame]
    if frame["type"] == "messages":
        return list(frame["items"])
    return None


def lowest_chained_id(frame: Frame_) -> int | None:
    """The smallest id of a chained message in a message(s) frame, else None."""
    items = _items(frame)
    if items is None:
        return None
    ids = [item["message"]["id"] for item in items if item["prev"] is not None]
    return min(ids) if ids else None


def messages_after(frame: Frame_, last_id: int) -> Frame_ | None:
    """``frame`` without the messages a replay up to ``last_id`` already sent;
    ``None`` when nothing is left, ``frame`` itself when unchanged."""
    items = _items(frame)
    if items is None:
        return frame
    left = [item for item in items if not _replayed(item, last_id)]
    if not left:
        return None
    if len(left) == len(items):
        return frame
    if len(left) == 1:
        return {"type": "message", "message": left[0]["message"], "prev": left[0]["prev"]}
    return {"type": "messages", "items": [{"message": i["message"], "prev": i["prev"]} for i in left]}
