"""The wire format (realtime.protocol, docs/protocol.md): every client frame parsed or
refused with its exact code, every server frame built, every channel-layer event
turned into its frame and carried through the layer's plain-dict form."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError, ErrorCode
from realtime import events, protocol
from realtime.events import (
    AlertCleared,
    Approved,
    CrisisResources,
    Kicked,
    MessageEdited,
    MessagePosted,
    MessageRemoved,
    MessagesPosted,
    Notice,
    NotificationAdded,
    Pinned,
    PresenceQuery,
    PresenceSync,
    QueueChanged,
    ReactionsChanged,
    RoomStateChanged,
    StaffAlert,
)
from realtime.protocol import CLIENT_FRAMES, MAX_FRAME_BYTES, Frame, parse_client_frame


def refusal(text, binary=None) -> DomainError:
    """The DomainError ``parse_client_frame`` raises for this frame."""
    with pytest.raises(DomainError) as caught:
        parse_client_frame(text, binary)
    return caught.value


def dumps(**frame) -> str:
    return json.dumps(frame, ensure_ascii=False)


# --- client frames: one valid example of each -----------------------------------------

VALID = {
    "send": {"client_id": "c-1", "body": "hello **there**"},
    "edit": {"message": 3, "body": "better words"},
    "delete": {"message": 3},
    "react": {"message": 3, "reaction": "hug", "on": False},
    "report": {"message": 3, "reason": "unkind to another member"},
    "history": {"before": 51},
    "resume": {"since": 0},
    "ping": {},
    "pin": {"message": 3},
    "unpin": {},
    "slow_mode": {"seconds": 600},
    "mute": {"alias": "Quiet Heron", "minutes": 15, "reason": "cool down"},
    "close_room": {},
    "open_room": {},
    "remove": {"message": 3, "reason": "off topic"},
    "read": {"upto": 12},
    "source": {"message": 3},
    "hide": {"alias": "Quiet Heron", "on": True},
    "ack_alert": {"flag": 4},
    "share": {"client_id": "s-1", "resource": 12, "pin": True},
}
# Every field of VALID is required but these.  A moderator's reason (mute,
# remove) goes to the audit log: missing, null or blank is REASON_REQUIRED
# rather than BAD_FRAME.  A flag that is true or false may be left out (not set).
REASONS = {("mute", "reason"), ("remove", "reason")}
OPTIONAL_FLAGS = {("share", "pin")}
REQUIRED = [
    (kind, name) for kind, fields in VALID.items() for name in fields if (kind, name) not in REASONS | OPTIONAL_FLAGS
]
# A value of the wrong JSON type for each field name.
WRONG_TYPE = {
    "client_id": 7,
    "body": {"text": "hi"},
    "message": "3",
    "reaction": ["hug"],
    "on": 1,
    "reason": ["no"],
    "before": 5.0,
    "since": "0",
    "seconds": "30",
    "alias": 12,
    "minutes": 1.5,
    "upto": "12",
    "flag": [4],
    "resource": "12",
    "pin": "yes",
}


def test_every_client_frame_type_has_a_valid_example():
    """The table below covers CLIENT_FRAMES exactly: a new frame type needs its example."""
    assert set(VALID) == set(CLIENT_FRAMES)
    assert {kind: set(fields) for kind, fields in VALID.items()} == {
        kind: set(spec) for kind, spec in CLIENT_FRAMES.items()
    }


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_frame_parses_into_its_fields(kind):
    """Every client frame type, from valid JSON, becomes a Frame with exactly its fields."""
    assert parse_client_frame(dumps(type=kind, **VALID[kind])) == Frame(kind, VALID[kind])


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_frame_keeps_its_ref(kind):
    """A client's ``ref`` is kept beside the frame's fields, to be echoed on the reply."""
    frame = parse_client_frame(dumps(type=kind, ref="r-42", **VALID[kind]))
    assert frame == Frame(kind, {**VALID[kind], "ref": "r-42"})
    assert frame.get("ref") == "r-42"


@pytest.mark.parametrize(("kind", "name"), sorted(REASONS))
def test_a_moderators_reason_is_required(kind, name):
    """The reason of mute and remove may not be missing, null, empty or blank."""
    fields = {k: v for k, v in VALID[kind].items() if k != name}
    for extra in ({}, {name: None}, {name: ""}, {name: "  \n "}):
        err = refusal(dumps(type=kind, **fields, **extra))
        assert (err.code, err.extra.get("field")) == (ErrorCode.REASON_REQUIRED, name)


def test_an_optional_flag_may_be_left_out_or_null():
    """``share``'s ``pin`` is true or false; left out or null it is not set."""
    fields = {"client_id": "s-1", "resource": 12}
    assert not parse_client_frame(dumps(type="share", **fields))["pin"]
    assert not parse_client_frame(dumps(type="share", **fields, pin=None))["pin"]
    assert parse_client_frame(dumps(type="share", **fields, pin=False))["pin"] is False


def test_a_body_may_be_empty_at_the_parser():
    """Emptiness of a body is judged after normalisation (EMPTY_BODY there), not here."""
    assert parse_client_frame(dumps(type="send", client_id="c", body=""))["body"] == ""
    assert parse_client_frame(dumps(type="edit", message=1, body="   "))["body"] == "   "


# --- client frames: refusals ------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), REQUIRED)
def test_a_missing_required_field_is_a_bad_frame_naming_it(kind, name):
    """Leaving out any required field of any frame type is BAD_FRAME with ``field`` naming it."""
    fields = {k: v for k, v in VALID[kind].items() if k != name}
    err = refusal(dumps(type=kind, **fields))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize(("kind", "name"), REQUIRED)
def test_a_required_field_sent_as_null_is_a_bad_frame_naming_it(kind, name):
    """A required field sent as JSON null counts as missing: BAD_FRAME naming it."""
    err = refusal(dumps(type=kind, **{**VALID[kind], name: None}))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, fields in VALID.items() for n in fields])
def test_a_field_of_the_wrong_type_is_a_bad_frame_naming_it(kind, name):
    """Any field of any frame type given a value of the wrong JSON type is BAD_FRAME naming it."""
    err = refusal(dumps(type=kind, **{**VALID[kind], name: WRONG_TYPE[name]}))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_an_unknown_field_is_a_bad_frame_naming_it(kind):
    """A typo is never silently ignored, on any frame type."""
    err = refusal(dumps(type=kind, **VALID[kind], colour="blue"))
    assert err.code == ErrorCode.BAD_FRAME
    assert "'colour'" in err.message


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ({"type": "history", "before": True}, "before"),
        ({"type": "resume", "since": False}, "since"),
        ({"type": "delete", "message": True}, "message"),
        ({"type": "slow_mode", "seconds": False}, "seconds"),
        ({"type": "mute", "alias": "Quiet Heron", "minutes": True}, "minutes"),
        ({"type": "react", "message": 1, "reaction": "heart", "on": 0}, "on"),
        ({"type": "react", "message": 1, "reaction": "heart", "on": "true"}, "on"),
    ],
)
def test_a_bool_is_not_a_number_nor_a_number_a_bool(frame, name):
    """JSON true is not the id 1 (Python's bool is an int), and 0/"true" are not booleans."""
    err = refusal(json.dumps(frame))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ({"type": "delete", "message": 0}, "message"),
        ({"type": "delete", "message": -1}, "message"),
        ({"type": "delete", "message": 2**53 + 1}, "message"),
        ({"type": "history", "before": 0}, "before"),
        ({"type": "resume", "since": -1}, "since"),
        ({"type": "resume", "since": 2**53 + 1}, "since"),
        ({"type": "slow_mode", "seconds": -1}, "seconds"),
        ({"type": "slow_mode", "seconds": 601}, "seconds"),
        ({"type": "mute", "alias": "Quiet Heron", "minutes": 0}, "minutes"),
        ({"type": "mute", "alias": "Quiet Heron", "minutes": 24 * 60 + 1}, "minutes"),
    ],
)
def test_a_number_out_of_range_is_a_bad_frame_naming_it(frame, name):
    """Ids (1 … 2^53), ``since`` (0 … 2^53), slow mode seconds (0 … 600) and mute
    minutes (1 … 1440) outside their range are BAD_FRAME naming the field."""
    err = refusal(json.dumps(frame))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "delete", "message": 1},
        {"type": "delete", "message": 2**53},
        {"type": "resume", "since": 0},
        {"type": "resume", "since": 2**53},
        {"type": "slow_mode", "seconds": 0},
        {"type": "slow_mode", "seconds": 600},
        {"type": "mute", "alias": "Quiet Heron", "minutes": 1, "reason": "r"},
        {"type": "mute", "alias": "Quiet Heron", "minutes": 24 * 60, "reason": "r"},
        {"type": "read", "upto": 1},
        {"type": "ack_alert", "flag": 2**53},
    ],
)
def test_a_number_at_the_edge_of_its_range_is_accepted(frame):
    """The bounds themselves are inside the range."""
    parsed = parse_client_frame(json.dumps(frame))
    assert all(parsed[name] == value for name, value in frame.items() if name != "type")


# (frame type, field, the longest accepted length)
STRING_LIMITS = [
    ("send", "client_id", protocol.MAX_CLIENT_ID),
    ("send", "body", protocol.MAX_BODY_CHARS * 2),
    ("edit", "body", protocol.MAX_BODY_CHARS * 2),
    ("report", "reason", protocol.MAX_REASON),
    ("mute", "alias", 60),
    ("mute", "reason", protocol.MAX_REASON),
    ("remove", "reason", protocol.MAX_REASON),
    ("ping", "ref", protocol.MAX_CLIENT_ID),
]


@pytest.mark.parametrize(("kind", "name", "limit"), STRING_LIMITS)
def test_a_string_at_its_length_limit_is_accepted(kind, name, limit):
    """A string of exactly its limit in characters (two-byte ones here) is accepted."""
    frame = parse_client_frame(dumps(type=kind, **{**VALID[kind], name: "é" * limit}))
    assert frame[name] == "é" * limit


@pytest.mark.parametrize(("kind", "name", "limit"), STRING_LIMITS)
def test_a_string_over_its_length_limit_is_too_large_naming_the_field(kind, name, limit):
    """One character over its limit is TOO_LARGE naming the field."""
    err = refusal(dumps(type=kind, **{**VALID[kind], name: "é" * (limit + 1)}))
    assert (err.code, err.extra.get("field")) == (ErrorCode.TOO_LARGE, name)


def test_a_string_over_its_length_limit_names_the_limit():
    """Each too_large refusal of a string field says its bound in ``limit``."""
    for kind, name, limit in STRING_LIMITS:
        err = refusal(dumps(type=kind, **{**VALID[kind], name: "x" * (limit + 1)}))
        assert protocol.error_frame(err).get("limit") == limit, (kind, name)


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ({"type": "send", "client_id": "", "body": "hi"}, "client_id"),
        ({"type": "send", "client_id": "   ", "body": "hi"}, "client_id"),
        ({"type": "report", "message": 1, "reason": " "}, "reason"),
        ({"type": "mute", "alias": "", "minutes": 5}, "alias"),
        ({"type": "ping", "ref": ""}, "ref"),
    ],
)
def test_a_blank_required_string_is_a_bad_frame_naming_it(frame, name):
    """An empty or blank client_id, report reason, alias or ref is BAD_FRAME naming it."""
    err = refusal(json.dumps(frame))
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


def _send_frame_of(size: int) -> str:
    """A valid ``send`` frame of exactly ``size`` UTF-8 bytes, its body mostly
    four-byte characters (so it has far fewer characters than bytes)."""
    head, tail = '{"type":"send","client_id":"c","body":"', '"}'
    room = size - len(head) - len(tail)
    fours, ones = divmod(room, 4)
    text = head + "\N{SEEDLING}" * fours + "a" * ones + tail
    assert len(text.encode("utf-8")) == size
    return text


def test_a_frame_of_exactly_the_byte_limit_is_accepted():
    """A frame of exactly MAX_FRAME_BYTES UTF-8 bytes is parsed."""
    assert parse_client_frame(_send_frame_of(MAX_FRAME_BYTES)).type == "send"


def test_a_frame_one_byte_over_the_limit_is_too_large_counting_bytes_not_characters():
    """The limit counts UTF-8 bytes: a frame of multi-byte characters one byte over it
    is TOO_LARGE with the limit, though it has far fewer characters."""
    text = _send_frame_of(MAX_FRAME_BYTES + 1)
    assert len(text) < MAX_FRAME_BYTES / 3  # far fewer characters than the limit
    err = refusal(text)
    assert err.code == ErrorCode.TOO_LARGE
    assert err.extra == {"limit": MAX_FRAME_BYTES}  # about the frame, naming no field


def test_an_oversize_frame_is_refused_before_it_is_parsed():
    """Too large wins over not JSON: nothing of it is read."""
    assert refusal("x" * (MAX_FRAME_BYTES + 1)).code == ErrorCode.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    ["hello there", "", "{", '{"type": "send", ', "{'type': 'ping'}", "[" * 9000, '{"type": "ping"} trailing'],
)
def test_text_that_is_not_json_is_a_bad_frame(text):
    """Text that does not parse as JSON (or nests beyond the parser) is BAD_FRAME."""
    err = refusal(text)
    assert err.code == ErrorCode.BAD_FRAME and "field" not in err.extra


@pytest.mark.parametrize("text", ["[]", '["ping"]', '"ping"', "42", "null", "true", "NaN"])
def test_json_that_is_not_an_object_is_a_bad_frame(text):
    """A JSON array, string, number, null, boolean or NaN is BAD_FRAME."""
    assert refusal(text).code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize("text", ['{"body": "hi"}', '{"type": null}', '{"type": 5}', '{"type": ["ping"]}'])
def test_an_object_without_a_string_type_is_a_bad_frame(text):
    """An object whose ``type`` is missing or not a string is BAD_FRAME."""
    assert refusal(text).code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize(("text", "binary"), [(None, b'{"type": "ping"}'), ('{"type": "ping"}', b""), (None, None)])
def test_a_binary_frame_is_a_bad_frame(text, binary):
    """A binary frame (or no text at all) is BAD_FRAME, whatever it holds."""
    assert refusal(text, binary).code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize("kind", ["shout", "", "room.message", "ack", "websocket.disconnect", "__init__"])
def test_an_unknown_type_is_unknown_type_and_quotes_it_back(kind):
    """A string ``type`` that names no client frame (a server frame, a layer event, an
    ASGI message) is UNKNOWN_TYPE, with the type quoted back in ``got``."""
    err = refusal(dumps(type=kind))
    assert err.code == ErrorCode.UNKNOWN_TYPE and err.extra["got"] == kind


def test_an_unknown_type_is_quoted_back_at_most_forty_characters():
    """The quoted type is cut to 40 characters."""
    err = refusal(dumps(type="t" * 500))
    assert err.extra["got"] == "t" * 40


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"type": "send", "client_id": "c", "body": "a\\ud800b"}', "body"),
        ('{"type": "send", "client_id": "\\udfff", "body": "hi"}', "client_id"),
        ('{"type": "report", "message": 1, "reason": "\\ud83d"}', "reason"),
        ('{"type": "ping", "ref": "\\udc00"}', "ref"),
        ('{"type": "send", "client_id": "c", "body": "a\ud800b"}', "body"),  # a raw lone surrogate
    ],
)
def test_a_string_with_a_lone_surrogate_is_a_bad_frame_naming_it(text, name):
    """Valid JSON, but not text: it could be neither stored nor sent on as UTF-8."""
    err = refusal(text)
    assert (err.code, err.extra.get("field")) == (ErrorCode.BAD_FRAME, name)


@pytest.mark.parametrize("text", ['{"type": "\\ud800"}', '{"type": "ping", "\\ud800": 1}'])
def test_a_refusal_quoting_a_lone_surrogate_can_still_be_sent(text):
    """A type or field name that is not text is quoted back made safe: the error
    frame encodes to UTF-8."""
    err = refusal(text)
    assert err.code in (ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_FRAME)
    protocol.encode(protocol.error_frame(err)).encode("utf-8")


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "send", "ref": "r-7", "body": "no client id"},
        {"type": "send", "ref": "r-7", "client_id": 7, "body": "hi"},
        {"type": "ping", "ref": "r-7", "extra": 1},
        {"type": "shout", "ref": "r-7"},
        {"type": None, "ref": "r-7"},
        {"type": "history", "ref": "r-7", "before": 0},
        {"type": "send", "ref": "r-7", "client_id": "c" * 65, "body": "hi"},
    ],
)
def test_a_refusal_echoes_the_frames_ref(frame):
    """Whatever else is wrong, a valid ``ref`` comes back on the error frame."""
    err = refusal(json.dumps(frame))
    assert err.extra["ref"] == "r-7"
    assert protocol.error_frame(err)["ref"] == "r-7"


@pytest.mark.parametrize(("ref", "code"), [(5, ErrorCode.BAD_FRAME), ("r" * 65, ErrorCode.TOO_LARGE)])
def test_a_bad_ref_is_refused_naming_it_and_not_echoed(ref, code):
    """A ``ref`` that is not a string, or over 64 characters, is refused naming ``ref``,
    and the error frame does not echo it."""
    err = refusal(json.dumps({"type": "ping", "ref": ref}))
    assert (err.code, err.extra.get("field")) == (code, "ref")
    assert "ref" not in protocol.error_frame(err)


# --- client frames: properties ------------------------------------------------------------

# Any code point, lone surrogates included (by number: no Unicode table to build).
_ANY_CHAR = (
    st.integers(min_value=0, max_value=0x10FFFF).map(chr)
    | st.integers(min_value=0x20, max_value=0x7E).map(chr)
    | st.sampled_from(["\ud800", "\udfff", "\x00", '"', "\\", "{", "}"])
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-2, max_value=2**53 + 2)
    | st.integers()
    | st.floats()
    | st.text(_ANY_CHAR, max_size=80)
    | st.sampled_from([*protocol.REACTIONS, "c-1", "Quiet Heron"])
)
_JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(_ANY_CHAR, max_size=5), inner, max_size=3),
)
_NAMES = sorted({name for spec in CLIENT_FRAMES.values() for name in spec} | {"ref", "type", "colour"})


@st.composite
def _frame_dicts(draw):
    """A JSON object near a client frame: a valid example with fields changed,
    added or dropped, or a frame of any type with any fields."""
    if draw(st.booleans()):
        kind = draw(st.sampled_from(sorted(VALID)))
        frame = {"type": kind, **VALID[kind]}
        for name in draw(st.lists(st.sampled_from(_NAMES), max_size=3)):
            if draw(st.booleans()):
                frame[name] = draw(_JSON_VALUES)
            else:
                frame.pop(name, None)
        return frame
    kind = draw(st.sampled_from([*CLIENT_FRAMES, "shout"]) | _JSON_VALUES)
    return {"type": kind, **draw(st.dictionaries(st.sampled_from(_NAMES), _JSON_VALUES, max_size=4))}


_FRAME_TEXTS = (
    st.text(_ANY_CHAR, max_size=200)
    | _frame_dicts().map(json.dumps)
    | _frame_dicts().map(lambda frame: json.dumps(frame, ensure_ascii=False))
)


@given(_FRAME_TEXTS)
def test_any_text_is_parsed_or_refused_with_a_domain_error_that_can_be_sent(text):
    """No input makes the parser raise anything but DomainError, and every refusal
    becomes an error frame that encodes to UTF-8."""
    refused: DomainError | None = None
    try:
        frame = parse_client_frame(text)
    except DomainError as err:
        refused = err
    if refused is None:
        assert frame.type in CLIENT_FRAMES
    else:
        assert refused.code in (
            ErrorCode.BAD_FRAME,
            ErrorCode.UNKNOWN_TYPE,
            ErrorCode.TOO_LARGE,
            ErrorCode.REASON_REQUIRED,
        )
        protocol.encode(protocol.error_frame(refused)).encode("utf-8")


@given(_frame_dicts())
def test_an_accepted_frame_encoded_again_parses_to_the_same_frame(content):
    """A frame the parser accepts, encoded again from its fields (or sent with raw
    non-ASCII text), parses to the same Frame."""
    try:
        frame = parse_client_frame(json.dumps(content))
    except DomainError:
        return
    again = json.dumps({"type": frame.type, **frame.fields})
    assert parse_client_frame(again) == frame
    assert parse_client_frame(json.dumps(content, ensure_ascii=False)) == frame


# --- server frames -------------------------------------------------------------------------


def view(msg_id: int, **extra) -> dict:
    return protocol.message_view(
        id=msg_id,
        alias="Quiet Heron",
        html=f"<p>note {msg_id}</p>",
        at="2026-11-28T10:00:00+00:00",
        reactions={"heart": 1} if msg_id % 2 else {},
        edited=extra.get("edited"),
        hidden=extra.get("hidden", False),
    )


def roundtrip(frame: dict) -> dict:
    text = protocol.encode(frame)
    assert json.loads(text) == frame
    return frame


def test_encode_is_compact_json_keeping_non_ascii_text():
    """``encode`` writes compact JSON and keeps non-ASCII characters as they are."""
    assert protocol.encode({"type": "x", "a": ["é", 1]}) == '{"type":"x","a":["é",1]}'


def test_message_view_has_alias_and_content_only():
    """A message's public shape is id, alias, html, time and reaction counts; ``edited``
    only when it was edited."""
    assert view(7) == {
        "id": 7,
        "alias": "Quiet Heron",
        "html": "<p>note 7</p>",
        "at": "2026-11-28T10:00:00+00:00",
        "reactions": {"heart": 1},
    }
    assert view(8, edited="2026-11-28T10:05:00+00:00")["edited"] == "2026-11-28T10:05:00+00:00"


def test_a_hidden_message_view_carries_no_text():
    """A message hidden pending review goes out with empty html and ``hidden``."""
    hidden = view(7, hidden=True)
    assert (hidden["html"], hidden["hidden"]) == ("", True)


def test_hello_frame_carries_you_room_present_messages_and_limits():
    """The hello frame carries the member, the room, who is here, the messages and the limits."""
    room = {"closed": False, "slow_mode": 0, "pinned": None, "last_id": 8}
    held = [{"id": 5, "html": "<p>waiting</p>", "at": "2026-11-28T09:00:00+00:00"}]
    frame = protocol.hello_frame(
        alias="Quiet Heron",
        role="member",
        held=held,
        room=room,
        present=["Quiet Heron", "Warm Lantern"],
        messages=[view(7), view(8)],
        resuming=True,
        more=True,
    )
    assert roundtrip(frame) == {
        "type": "hello",
        "you": {
            "alias": "Quiet Heron",
            "role": "member",
            "held": held,
            "last_read": 0,
            "muted_until": None,
            "hidden": [],
        },
        "room": room,
        "present": ["Quiet Heron", "Warm Lantern"],
        "messages": [view(7), view(8)],
        "more_after": True,
        "limits": {
            "body_chars": protocol.MAX_BODY_CHARS,
            "frame_bytes": MAX_FRAME_BYTES,
            "server_frame_bytes": protocol.MAX_SERVER_FRAME_BYTES,
        },
    }


def test_ack_frame_names_the_send_and_its_verdict():
    """An ack names the client_id, the stored id, the verdict and whether it was a retry."""
    assert roundtrip(protocol.ack_frame("c-1", 9, "published", False)) == {
        "type": "ack",
        "client_id": "c-1",
        "id": 9,
        "verdict": "published",
        "duplicate": False,
    }


def test_ack_frame_of_a_blocked_send_has_no_id_and_says_why():
    """A blocked send's ack has no id and carries the reason the sender is told."""
    assert roundtrip(protocol.ack_frame("c-2", None, "blocked", False, "No sales here.")) == {
        "type": "ack",
        "client_id": "c-2",
        "id": None,
        "verdict": "blocked",
        "duplicate": False,
        "reason": "No sales here.",
    }


def test_error_frame_carries_code_message_and_only_the_safe_extras():
    """An error's extras reach the client only if they are among the documented
    fields: anything else a DomainError carries stays on the server."""
    err = DomainError(
        ErrorCode.SLOW_MODE,
        "Slow mode is on.",
        field="body",
        limit=4000,
        until="2026-11-28T10:00:00+00:00",
        retry_after=12,
        got="shout",
        ref="r-1",
        handle="secret-handle",
        user_id=42,
    )
    assert roundtrip(protocol.error_frame(err)) == {
        "type": "error",
        "code": "slow_mode",
        "message": "Slow mode is on.",
        "field": "body",
        "limit": 4000,
        "until": "2026-11-28T10:00:00+00:00",
        "retry_after": 12,
        "got": "shout",
        "ref": "r-1",
    }


def test_error_frame_ref_and_code_arguments_win():
    """The reply's ref and an overriding code (server_error) replace the error's own."""
    err = DomainError(ErrorCode.BAD_FRAME, "No.", ref="from-parse")
    frame = protocol.error_frame(err, "from-reply", code="server_error")
    assert (frame["code"], frame["ref"]) == ("server_error", "from-reply")


def test_server_error_frame_says_nothing_changed_and_echoes_ref():
    """An unexpected failure is a ``server_error`` error frame saying nothing changed,
    with the frame's ref when there was one."""
    frame = roundtrip(protocol.server_error_frame("r-3"))
    assert set(frame) == {"type", "code", "message", "ref"}
    assert (frame["type"], frame["code"], frame["ref"]) == ("error", "server_error", "r-3")
    assert "nothing was changed" in frame["message"]
    assert "ref" not in protocol.server_error_frame()


def test_done_frame_names_the_frame_and_its_result():
    """A done frame names the frame it answers (``of``) beside the service's result."""
    assert roundtrip(protocol.done_frame("react", {"id": 3, "counts": {"hug": 2}})) == {
        "type": "done",
        "of": "react",
        "id": 3,
        "counts": {"hug": 2},
    }


def test_report_done_frame_thanks_the_member():
    """A report is answered with a done frame naming the message and a thank-you."""
    frame = roundtrip(protocol.report_done_frame(3))
    assert (frame["type"], frame["of"], frame["id"]) == ("done", "report", 3)
    assert frame["message"]


def test_history_frame_says_more_only_for_a_full_page():
    """A history batch says ``more`` only when it is a full page (older ones may remain)."""
    full = [view(n) for n in range(1, protocol.HISTORY_PAGE + 1)]
    assert roundtrip(protocol.history_frame(51, full)) == {
        "type": "batch",
        "kind": "history",
        "before": 51,
        "messages": full,
        "more": True,
    }
    assert protocol.history_frame(51, full[:-1])["more"] is False
    assert protocol.history_frame(1, [])["more"] is False


def test_resume_frame_for_a_resume_request_has_since_latest_and_more():
    """The answer to a resume frame names since, the room's latest id, and ``more``
    when the batch is full."""
    full = [view(n) for n in range(1, protocol.RESUME_BATCH + 1)]
    assert roundtrip(protocol.resume_frame(0, full, latest=300)) == {
        "type": "batch",
        "kind": "resume",
        "since": 0,
        "messages": full,
        "latest": 300,
        "more": True,
    }
    assert protocol.resume_frame(0, full[:-1], latest=199)["more"] is False


def test_resume_frame_of_an_empty_room_still_has_latest():
    """latest 0 (no message yet) is a value, not a missing one."""
    assert protocol.resume_frame(0, [], latest=0) == {
        "type": "batch",
        "kind": "resume",
        "since": 0,
        "messages": [],
        "latest": 0,
        "more": False,
    }


def test_resume_frame_after_hello_has_messages_only():
    """A resume batch sent after hello (a ``?since`` connect) carries only the messages."""
    assert roundtrip(protocol.resume_frame(250, [view(251)])) == {
        "type": "batch",
        "kind": "resume",
        "messages": [view(251)],
        "more": False,
    }


def test_pong_frame_is_its_type_alone():
    """A pong is a frame with nothing but its type."""
    assert roundtrip(protocol.pong_frame()) == {"type": "pong"}


def test_presence_frame_names_who_came_and_went_and_the_count():
    """A presence frame lists the aliases that came and went, and how many are here."""
    assert roundtrip(protocol.presence_frame(joined=["Quiet Heron"], left=["Warm Lantern"], count=4)) == {
        "type": "presence",
        "joined": ["Quiet Heron"],
        "left": ["Warm Lantern"],
        "count": 4,
    }


def test_messages_frame_of_one_message_is_a_message_frame():
    """One message goes out as a ``message`` frame with its ``prev``."""
    assert roundtrip(protocol.messages_frame([MessagePosted(message=view(7), prev=6)])) == {
        "type": "message",
        "message": view(7),
        "prev": 6,
    }


def test_messages_frame_of_several_lists_them_in_the_order_given():
    """Several messages go out as one ``messages`` frame of ``{message, prev}`` items."""
    items = [MessagePosted(message=view(7), prev=6), MessagePosted(message=view(9), prev=None)]
    assert roundtrip(protocol.messages_frame(items)) == {
        "type": "messages",
        "items": [{"message": view(7), "prev": 6}, {"message": view(9), "prev": None}],
    }


# --- every declared event: its frame and the channel layer's plain-dict form ------------------

ALERT = {
    "flag": 3,
    "circle": "Morning Circle",
    "circle_slug": "morning",
    "message_id": 7,
    "alias": "Quiet Heron",
    "excerpt": "I do not want to be here any more",
    "created_at": "2026-11-28T10:00:00+00:00",
    "repeat": False,
}
RESOURCES = [{"name": "Helpline", "phone": "116 123"}]

# name -> (an instance, with an audience where it has one; the frame it becomes, or None)
EVENTS = {
    "room.message": (MessagePosted(message=view(7), prev=6), {"type": "message", "message": view(7), "prev": 6}),
    "room.messages": (
        MessagesPosted(items=(MessagePosted(message=view(7), prev=6), MessagePosted(message=view(8), prev=7))),
        {"type": "messages", "items": [{"message": view(7), "prev": 6}, {"message": view(8), "prev": 7}]},
    ),
    "room.edited": (
        MessageEdited(message=view(7, edited="2026-11-28T10:05:00+00:00")),
        {"type": "edited", "message": view(7, edited="2026-11-28T10:05:00+00:00")},
    ),
    "room.removed": (MessageRemoved(id=7, reason="removed"), {"type": "removed", "id": 7, "reason": "removed"}),
    "room.reactions": (
        ReactionsChanged(id=7, counts={"heart": 3, "hug": 1}),
        {"type": "reactions", "id": 7, "counts": {"heart": 3, "hug": 1}},
    ),
    "room.pinned": (Pinned(message=None), {"type": "pinned", "message": None}),
    "room.state": (
        RoomStateChanged(state={"closed": True, "slow_mode": 30}),
        {"type": "room_state", "state": {"closed": True, "slow_mode": 30}},
    ),
    "room.notice": (
        Notice(code="muted", message="Your posting is paused.", to=12),
        {"type": "notice", "code": "muted", "message": "Your posting is paused."},
    ),
    "room.approved": (Approved(held_id=4, id=9, to=12), {"type": "approved", "held_id": 4, "id": 9}),
    "room.kick": (
        Kicked(code="banned", message="You can no longer take part.", to=12),
        {"type": "notice", "code": "banned", "message": "You can no longer take part."},
    ),
    "room.crisis_resources": (
        CrisisResources(message="You are not alone.", resources=RESOURCES, tier="concern", to=12),
        {"type": "crisis_resources", "message": "You are not alone.", "resources": RESOURCES, "tier": "concern"},
    ),
    "room.notification": (
        NotificationAdded(id=3, kind="reminder", text="Your circle meets in an hour.", link="/me/", unread=2, to=12),
        {
            "type": "notification",
            "id": 3,
            "kind": "reminder",
            "text": "Your circle meets in an hour.",
            "link": "/me/",
            "unread": 2,
        },
    ),
    "room.presence_sync": (PresenceSync(process="p-1", members={"12": "Quiet Heron"}), None),
    "room.presence_query": (PresenceQuery(process="p-2", members={}), None),
    "room.alert_cleared": (
        AlertCleared(flag=3, by="Quiet Heron", roles=("facilitator", "moderator")),
        {"type": "alert_cleared", "flag": 3, "by": "Quiet Heron"},
    ),
    "staff.alert": (StaffAlert(alert=ALERT, roles=("facilitator", "moderator")), {"type": "alert", "alert": ALERT}),
    "staff.queue": (
        QueueChanged(change="added", flag=3, urgent=True),
        {"type": "queue", "change": "added", "flag": 3, "urgent": True},
    ),
}


def test_every_declared_event_has_an_example_here():
    """A new event must come with its frame test (the table above)."""
    declared = events.declared()
    assert set(EVENTS) == set(declared)
    for name, (event, _frame) in EVENTS.items():
        assert type(event) is declared[name]
        assert name == event.NAME


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_event_becomes_its_frame_without_its_audience(name):
    """The frame an event becomes (None: the hub acts on it itself); who it is for
    (``to``, ``roles``) never reaches the wire."""
    event, frame = EVENTS[name]
    assert protocol.event_frame(event) == frame
    if frame is not None:
        assert roundtrip(frame) == frame
        assert "to" not in frame and "roles" not in frame


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_event_survives_the_channel_layers_plain_dict_form(name):
    """``from_layer(event.to_layer())`` gives the event back, from plain JSON-able data
    (what msgpack carries on Redis)."""
    event, _frame = EVENTS[name]
    data = event.to_layer()
    assert data["type"] == name
    assert json.loads(json.dumps(data)) == data
    assert events.from_layer(data) == event
    assert events.from_layer(json.loads(json.dumps(data))) == event


def test_to_layer_carries_the_audience_only_when_there_is_one():
    """An event's plain-dict form has ``to`` and ``roles`` (a list) only when they are set."""
    assert Notice(code="c", message="m").to_layer() == {
        "type": "room.notice",
        "code": "c",
        "message": "m",
        "until": None,
    }
    assert Notice(code="c", message="m", to=5).to_layer()["to"] == 5
    assert Notice(code="c", message="m", roles=("moderator",)).to_layer()["roles"] == ["moderator"]


def test_an_addressed_batch_of_messages_keeps_its_audience_across_the_layer():
    """A batch of messages addressed to one member or to roles keeps that audience
    through ``from_layer(to_layer())``."""
    event = MessagesPosted(items=(MessagePosted(message=view(7), prev=6),), to=12, roles=("moderator",))
    assert events.from_layer(event.to_layer()) == event


def test_from_layer_ignores_keys_no_field_declares():
    """A layer may add its own keys to a message; they do not break the event."""
    event, _frame = EVENTS["room.removed"]
    assert events.from_layer({**event.to_layer(), "__asgi_group__": "circle.1"}) == event


@pytest.mark.parametrize("data", [{"type": "room.bogus"}, {"type": "websocket.send"}, {"code": 1}, {"type": None}])
def test_from_layer_refuses_an_unknown_event(data):
    """A layer message no event declares raises UnknownEventError."""
    with pytest.raises(events.UnknownEventError):
        events.from_layer(data)


def test_an_event_name_declared_twice_is_refused():
    """A second event class with a declared name is refused; the first stays."""
    with pytest.raises(TypeError, match="declared twice"):

        class Again(events.Event):  # pragma: no cover - never created
            NAME = "room.notice"

    assert events.declared()["room.notice"] is Notice


# --- what a socket already got from its replay (hub.go_live, hub.deliver) ----------------------


def message_frame(msg_id: int, prev: int | None) -> dict:
    return {"type": "message", "message": view(msg_id), "prev": prev}


def messages_frame(*pairs: tuple[int, int | None]) -> dict:
    return {"type": "messages", "items": [{"message": view(i), "prev": p} for i, p in pairs]}


def test_a_frame_that_is_not_about_messages_is_kept_whole():
    """Any frame but message(s) is kept as it is, and has no chained id."""
    frame = {"type": "removed", "id": 3, "reason": "removed"}
    assert protocol.messages_after(frame, 10) is frame
    assert protocol.lowest_chained_id(frame) is None


def test_a_chained_message_up_to_last_id_was_replayed():
    """A chained message whose id is at most last_id was in the replay: nothing is left."""
    assert protocol.messages_after(message_frame(5, 4), 5) is None
    assert protocol.messages_after(message_frame(4, 3), 5) is None


def test_a_chained_message_after_last_id_is_kept_unchanged():
    """A chained message newer than last_id is the same frame, unchanged."""
    frame = message_frame(6, 5)
    assert protocol.messages_after(frame, 5) is frame


def test_a_late_approval_is_kept_even_below_last_id():
    """prev None: a held message approved later, outside the chain; a replay up to
    last_id may not have had it."""
    frame = message_frame(3, None)
    assert protocol.messages_after(frame, 5) is frame


def test_a_partly_replayed_batch_keeps_the_newer_messages():
    """A batch with messages on both sides of last_id keeps the newer ones, in order."""
    frame = messages_frame((4, 3), (5, 4), (6, 5), (7, 6))
    assert protocol.messages_after(frame, 5) == messages_frame((6, 5), (7, 6))


def test_a_batch_trimmed_to_one_message_becomes_a_message_frame():
    """A batch with one message left becomes a ``message`` frame."""
    assert protocol.messages_after(messages_frame((4, 3), (5, 4), (6, 5)), 5) == message_frame(6, 5)


def test_a_fully_replayed_batch_leaves_nothing():
    """A batch wholly within the replay leaves nothing to send."""
    assert protocol.messages_after(messages_frame((4, 3), (5, 4)), 5) is None


def test_an_untrimmed_batch_is_the_same_frame():
    """A batch with nothing to trim is the same frame (its encoding is reused)."""
    frame = messages_frame((6, 5), (7, 6))
    assert protocol.messages_after(frame, 5) is frame


def test_a_batch_keeps_its_late_approvals_when_trimmed():
    """Late approvals in a batch stay when the chained messages around them are trimmed."""
    frame = messages_frame((2, None), (5, 4), (6, 5))
    assert protocol.messages_after(frame, 5) == messages_frame((2, None), (6, 5))


def test_lowest_chained_id_skips_late_approvals():
    """The lowest chained id of a message(s) frame ignores late approvals, and is None
    when only late approvals are left."""
    assert protocol.lowest_chained_id(message_frame(6, 5)) == 6
    assert protocol.lowest_chained_id(messages_frame((2, None), (6, 5), (7, 6))) == 6
    assert protocol.lowest_chained_id(messages_frame((2, None), (3, None))) is None
    assert protocol.lowest_chained_id(message_frame(2, None)) is None


_ITEMS = st.lists(
    st.tuples(st.integers(min_value=1, max_value=60), st.none() | st.integers(min_value=0, max_value=60)),
    min_size=1,
    max_size=8,
)
_OTHER_FRAMES = st.fixed_dictionaries(
    {"type": st.sampled_from(["removed", "edited", "presence", "notice", "pinned"])},
    optional={"id": st.integers(), "prev": st.integers(), "items": st.lists(st.integers())},
)


@given(_ITEMS, st.integers(min_value=0, max_value=70))
def test_messages_after_keeps_exactly_the_messages_not_replayed(pairs, last_id):
    """For any batch and last_id, exactly the late approvals and the chained messages
    after last_id are kept, in order, as None, the same frame, a message or a messages frame."""
    frame = message_frame(*pairs[0]) if len(pairs) == 1 else messages_frame(*pairs)
    kept = [(i, p) for i, p in pairs if p is None or i > last_id]
    out = protocol.messages_after(frame, last_id)
    if not kept:
        assert out is None
    elif len(kept) == len(pairs):
        assert out is frame
    elif len(kept) == 1:
        assert out == message_frame(*kept[0])
    else:
        assert out == messages_frame(*kept)
    chained = [i for i, p in pairs if p is not None]
    assert protocol.lowest_chained_id(frame) == (min(chained) if chained else None)


@given(_OTHER_FRAMES, st.integers())
def test_messages_after_returns_any_other_frame_itself(frame, last_id):
    """Any frame but message(s), whatever its fields, is returned itself."""
    assert protocol.messages_after(frame, last_id) is frame
    assert protocol.lowest_chained_id(frame) is None
