"""Bad frames: each gets an ``error`` frame with a stable code; the socket, the server and
the other members carry on; nothing is stored; no input closes a socket (1011 or otherwise)."""

import json

import pytest
from channels.db import database_sync_to_async as dsa

from realtime import protocol

from .helpers import message_count

pytestmark = pytest.mark.django_db(transaction=True)

BIG = protocol.MAX_FRAME_BYTES

# (id, raw text frame, expected code, expected "field" or None)
TEXT_CASES = [
    ("not-json", "hello there", "bad_frame", None),
    ("truncated-json", '{"type": "send", ', "bad_frame", None),
    ("empty-text", "", "bad_frame", None),
    ("json-array", '["send", "hi"]', "bad_frame", None),
    ("json-string", '"ping"', "bad_frame", None),
    ("json-null", "null", "bad_frame", None),
    ("json-number", "42", "bad_frame", None),
    ("missing-type", '{"body": "hi"}', "bad_frame", None),
    ("null-type", '{"type": null}', "bad_frame", None),
    ("number-type", '{"type": 5}', "bad_frame", None),
    ("list-type", '{"type": ["ping"]}', "bad_frame", None),
    ("unknown-type", '{"type": "shout"}', "unknown_type", None),
    ("empty-type", '{"type": ""}', "unknown_type", None),
    ("asgi-type", '{"type": "websocket.disconnect", "code": 1011}', "unknown_type", None),
    ("layer-event-type", '{"type": "room.message", "message": {"id": 1}, "prev": 0}', "unknown_type", None),
    ("server-frame-type", '{"type": "ack", "id": 1}', "unknown_type", None),
    ("dunder-type", '{"type": "__init__"}', "unknown_type", None),
    ("surrogate-type", '{"type": "\\ud800"}', "unknown_type", None),
    ("missing-client-id", '{"type": "send", "body": "hi"}', "bad_frame", "client_id"),
    ("missing-body", '{"type": "send", "client_id": "c"}', "bad_frame", "body"),
    ("missing-on", '{"type": "react", "message": 1, "reaction": "heart"}', "bad_frame", "on"),
    ("missing-before", '{"type": "history"}', "bad_frame", "before"),
    ("missing-since", '{"type": "resume"}', "bad_frame", "since"),
    ("string-id", '{"type": "history", "before": "5"}', "bad_frame", "before"),
    ("bool-as-int", '{"type": "history", "before": true}', "bad_frame", "before"),
    ("float-id", '{"type": "history", "before": 5.0}', "bad_frame", "before"),
    ("nan-id", '{"type": "history", "before": NaN}', "bad_frame", "before"),
    ("infinite-id", '{"type": "history", "before": 1e400}', "bad_frame", "before"),
    ("zero-id", '{"type": "history", "before": 0}', "bad_frame", "before"),
    ("negative-since", '{"type": "resume", "since": -1}', "bad_frame", "since"),
    ("id-beyond-2-53", '{"type": "history", "before": 9007199254740993}', "bad_frame", "before"),
    ("id-of-5000-digits", '{"type": "history", "before": ' + "9" * 5000 + "}", "bad_frame", None),
    ("int-as-bool", '{"type": "react", "message": 1, "reaction": "heart", "on": 1}', "bad_frame", "on"),
    ("number-client-id", '{"type": "send", "client_id": 7, "body": "hi"}', "bad_frame", "client_id"),
    ("blank-client-id", '{"type": "send", "client_id": "  ", "body": "hi"}', "bad_frame", "client_id"),
    ("long-client-id", '{"type": "send", "client_id": "' + "c" * 65 + '", "body": "hi"}', "too_large", "client_id"),
    ("object-body", '{"type": "send", "client_id": "c", "body": {"text": "hi"}}', "bad_frame", "body"),
    ("surrogate-body", '{"type": "send", "client_id": "c", "body": "a\\udc00b"}', "bad_frame", "body"),
    ("nested-body", '{"type": "send", "client_id": "c", "body": ' + "[" * 500 + "]" * 500 + "}", "bad_frame", "body"),
    ("slow-mode-out-of-range", '{"type": "slow_mode", "seconds": 601}', "bad_frame", "seconds"),
    ("extra-field", '{"type": "ping", "extra": 1}', "bad_frame", None),
    ("forged-author", '{"type": "send", "client_id": "c", "body": "hi", "author": 1}', "bad_frame", None),
    ("number-ref", '{"type": "ping", "ref": 5}', "bad_frame", "ref"),
    ("deeply-nested-array", "[" * 10_000, "bad_frame", None),
    ("deeply-nested-object", '{"a":' * 3_000, "bad_frame", None),
    ("deep-and-oversize", "[" * 100_000, "too_large", None),
    ("oversize-ascii", '{"type": "send", "client_id": "c", "body": "' + "a" * BIG + '"}', "too_large", None),
    (
        "oversize-in-bytes-only",
        '{"type": "send", "client_id": "c", "body": "' + "\u00e9" * (BIG // 2 + 1) + '"}',
        "too_large",
        None,
    ),
]

BINARY_CASES = [
    ("binary-json", b'{"type": "ping"}'),
    ("binary-garbage", b"\x00\xff\xfe\x01"),
    ("binary-empty", b""),
]


async def _pair(connect, people, circle):
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    room_a = await connect(a_user, circle)
    room_b = await connect(b_user, circle)
    await room_b.nothing(0.3)  # presence settles
    return room_a, room_b


async def _still_fine(room_a, room_b, circle):
    """The sender's socket still answers, the other member saw nothing and still
    answers, and nothing was stored."""
    await room_a.ping()
    assert await room_b.nothing(0.1)
    await room_b.ping()
    assert await dsa(message_count)(circle) == 0


@pytest.mark.parametrize(("raw", "code", "field"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
async def test_bad_text_frame_gets_an_error_and_the_socket_stays_open(connect, circle, people, raw, code, field):
    """A malformed text frame is answered with an ``error`` of a stable code; both sockets carry on."""
    room_a, room_b = await _pair(connect, people, circle)
    await room_a.send_raw(raw)
    error = await room_a.error(code)
    assert error.get("field") == field
    if code == "too_large" and field is None:
        assert error["limit"] == protocol.MAX_FRAME_BYTES
    json.dumps(error, ensure_ascii=False).encode("utf-8")  # sendable as real UTF-8 text
    await _still_fine(room_a, room_b, circle)
    await room_a.close()
    await room_b.close()


@pytest.mark.parametrize("data", [c[1] for c in BINARY_CASES], ids=[c[0] for c in BINARY_CASES])
async def test_binary_frame_gets_bad_frame(connect, circle, people, data):
    """Binary frames are refused with BAD_FRAME; both sockets carry on."""
    room_a, room_b = await _pair(connect, people, circle)
    await room_a.send_raw(data=data)
    await room_a.error("bad_frame")
    await _still_fine(room_a, room_b, circle)
    await room_a.close()
    await room_b.close()


async def test_unknown_type_names_what_was_sent(connect, circle, people):
    """An unknown type is quoted back (shortened) so a client developer sees the typo."""
    room_a, room_b = await _pair(connect, people, circle)
    await room_a.send(type="sendd")
    assert (await room_a.error("unknown_type"))["got"] == "sendd"
    await room_a.send(type="x" * 500)
    assert (await room_a.error("unknown_type"))["got"] == "x" * 40
    await room_a.close()
    await room_b.close()


async def test_error_for_a_malformed_frame_echoes_its_ref(connect, circle, people):
    """A frame refused for its fields still has its ``ref`` echoed, so the client can match the error."""
    room_a, room_b = await _pair(connect, people, circle)
    await room_a.send(type="history", before="soon", ref="h-1")
    assert (await room_a.error("bad_frame"))["ref"] == "h-1"
    await room_a.send(type="shout", ref="s-1")
    assert (await room_a.error("unknown_type"))["ref"] == "s-1"
    await room_a.send(type="send", client_id="c", body="", ref="e-1")
    assert (await room_a.error("empty_body"))["ref"] == "e-1"
    await room_a.close()
    await room_b.close()


async def test_a_burst_of_bad_frames_is_answered_in_order_on_one_socket(connect, circle, people):
    """Every bad frame of a burst gets its own error, in order, on one socket that stays open."""
    room_a, room_b = await _pair(connect, people, circle)
    for _name, raw, _code, _field in TEXT_CASES:
        await room_a.send_raw(raw)
    for _name, data in BINARY_CASES:
        await room_a.send_raw(data=data)
    expected = [code for _n, _r, code, _f in TEXT_CASES] + ["bad_frame"] * len(BINARY_CASES)
    got = [(await room_a.recv_type("error"))["code"] for _ in expected]
    assert got == expected
    await _still_fine(room_a, room_b, circle)
    await room_a.send(type="send", client_id="after", body="still here")
    assert (await room_a.sent())["id"] == 1
    assert (await room_b.recv_type("message"))["message"]["id"] == 1
    await room_a.close()
    await room_b.close()
