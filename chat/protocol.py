"""The wire format of the live room, mirrored by docs/protocol.md.

Client frames are parsed here (whitelisted types, typed fields, size limits)
before anything else sees them; server frames are built here.  Nothing else in
the code base knows the JSON shape of a frame.
"""

import json
from dataclasses import dataclass
from typing import Any

from community.errors import DomainError, ErrorCode

from .text import MAX_BODY_CHARS

# A text frame larger than this is refused with an error frame (the socket stays
# open).  Above DAPHNE_MAX_MESSAGE_BYTES (set on Daphne's command line by
# scripts/serve and the tests) Daphne drops the connection; the client sees 1006.
MAX_FRAME_BYTES = 16 * 1024
DAPHNE_MAX_MESSAGE_BYTES = 64 * 1024
MAX_CLIENT_ID = 64
MAX_REASON = 500
HISTORY_PAGE = 50
RESUME_BATCH = 200
MAX_MUTE_MINUTES = 24 * 60
MAX_SLOW_MODE_SECONDS = 600

# Close codes (4000-4999 are ours).
CLOSE_NOT_ALLOWED = 4403  # banned or removed while connected
CLOSE_TOO_BIG = 1006  # Daphne drops the connection on a frame above DAPHNE_MAX_MESSAGE_BYTES

REACTIONS = ("heart", "hug", "thanks", "seedling")


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
            raise DomainError(ErrorCode.TOO_LARGE, f"'{name}' is longer than {max_len} characters.", field=name)
        return value

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
    # facilitator controls
    "pin": {"message": _message},
    "unpin": {},
    "slow_mode": {"seconds": _int("seconds", lo=0, hi=MAX_SLOW_MODE_SECONDS)},
    "mute": {
        "alias": _string("alias", max_len=60),
        "minutes": _int("minutes", lo=1, hi=MAX_MUTE_MINUTES),
        "reason": _string("reason", max_len=MAX_REASON, required=False, allow_empty=True),
    },
    "close_room": {},
    "open_room": {},
    "remove": {
        "message": _message,
        "reason": _string("reason", max_len=MAX_REASON, required=False, allow_empty=True),
    },
}


def parse_client_frame(text: str | None, binary: bytes | None = None) -> Frame:
    """Turn one WebSocket frame into a validated ``Frame`` or raise ``DomainError``."""
    if binary is not None or text is None:
        raise DomainError(ErrorCode.BAD_FRAME, "Binary frames are not accepted; send JSON text.")
    if len(text) > MAX_FRAME_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise DomainError(
            ErrorCode.TOO_LARGE, f"Frames can be at most {MAX_FRAME_BYTES} bytes.", limit=MAX_FRAME_BYTES
        )
    try:
        content = json.loads(text)
    except (ValueError, RecursionError):
        raise DomainError(ErrorCode.BAD_FRAME, "That frame is not valid JSON.")
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


def error_frame(err: DomainError, ref: str | None = None, **context: Any) -> dict[str, Any]:
    frame = {"type": "error", "code": err.code.value, "message": err.message}
    safe_extra = {k: v for k, v in err.extra.items() if k in ("field", "limit", "until", "retry_after", "got", "ref")}
    frame.update(safe_extra)
    frame.update(context)
    if ref is not None:
        frame["ref"] = ref
    return frame


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def ack_frame(client_id: str, message_id: int | None, verdict: str, duplicate: bool, reason: str = "") -> dict[str, Any]:
    """The reply to a ``send``: the stored id and what the author is told."""
    ack: dict[str, Any] = {"type": "ack", "client_id": client_id, "id": message_id, "verdict": verdict,
                           "duplicate": duplicate}
    if reason:
        ack["reason"] = reason
    return ack


def messages_frame(events: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``message`` frame, or a ``messages`` frame when several messages go out
    together (in id order)."""
    if len(events) == 1:
        return {"type": "message", "message": events[0]["message"], "prev": events[0]["prev"]}
    return {"type": "messages", "items": [{"message": e["message"], "prev": e["prev"]} for e in events]}


def _replayed(item: dict[str, Any], last_id: int) -> bool:
    # Ids are taken in commit order, so a replay up to ``last_id`` held every
    # chained message up to it.  A late approval (``prev`` None) may be newer news.
    return item["prev"] is not None and item["message"]["id"] <= last_id


def lowest_chained_id(frame: dict[str, Any]) -> int | None:
    """The smallest id of a chained message in a message(s) frame, else None."""
    if frame["type"] == "message":
        items = [frame]
    elif frame["type"] == "messages":
        items = frame["items"]
    else:
        return None
    ids = [item["message"]["id"] for item in items if item["prev"] is not None]
    return min(ids) if ids else None


def messages_after(frame: dict[str, Any], last_id: int) -> dict[str, Any] | None:
    """``frame`` without the messages a replay up to ``last_id`` already sent;
    ``None`` when nothing is left, ``frame`` itself when unchanged."""
    if frame["type"] == "message":
        return None if _replayed(frame, last_id) else frame
    if frame["type"] == "messages":
        items = [item for item in frame["items"] if not _replayed(item, last_id)]
        if not items:
            return None
        if len(items) == len(frame["items"]):
            return frame
        return messages_frame(items)
    return frame


def event_to_frame(event: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a channel-layer event (community.notify) into the wire frame, or None
    for events the hub handles itself."""
    kind = event["type"]
    if kind == "room.message":
        return {"type": "message", "message": event["message"], "prev": event["prev"]}
    if kind == "room.edited":
        return {"type": "edited", "message": event["message"]}
    if kind == "room.removed":
        return {"type": "removed", "id": event["id"], "reason": event["reason"]}
    if kind == "room.reactions":
        return {"type": "reactions", "id": event["id"], "counts": event["counts"]}
    if kind == "room.pinned":
        return {"type": "pinned", "message": event["message"]}
    if kind == "room.state":
        return {"type": "room_state", "state": event["state"]}
    if kind == "room.notice":
        return {"type": "notice", "code": event["code"], "message": event["message"]}
    if kind == "room.approved":
        return {"type": "approved", "held_id": event["held_id"], "id": event["id"]}
    if kind == "room.kick":
        return {"type": "notice", "code": event["code"], "message": event["message"]}
    if kind == "room.crisis_resources":
        return {"type": "crisis_resources", "message": event["message"], "resources": event["resources"]}
    if kind == "staff.alert":
        return {"type": "alert", "alert": event["alert"]}
    return None
