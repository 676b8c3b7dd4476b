"""Sending: ack with the stored id, broadcast, idempotent client ids, rendering, bounds."""

import re

import pytest
from channels.db import database_sync_to_async as dsa

from chat.text import MAX_BODY_CHARS, MAX_BODY_LINES

from .helpers import message_count, stored

pytestmark = pytest.mark.django_db(transaction=True)


async def _two(connect, people, circle):
    (a_user, a), (b_user, b) = await dsa(people)(circle, 2)
    return a, await connect(a_user, circle), b, await connect(b_user, circle)


async def test_sender_gets_ack_naming_the_stored_id(connect, circle, people):
    """The ack names the id the message was stored under, with its verdict."""
    a, room_a, _b, room_b = await _two(connect, people, circle)
    await room_a.send(type="send", client_id="c-1", body="Good morning, everyone")
    ack = (await room_a.recv_types("ack", "message"))["ack"]
    assert ack == {"type": "ack", "client_id": "c-1", "id": 1, "verdict": "published", "duplicate": False}
    message = await dsa(stored)(circle, ack["id"])
    assert (message.client_id, message.alias, message.body) == ("c-1", a.alias, "Good morning, everyone")
    assert message.author_id == a.pk
    await room_a.close()
    await room_b.close()


async def test_message_is_broadcast_to_other_members(connect, circle, people):
    """Every member in the room receives the message, with the sender's alias and nothing identifying."""
    a, room_a, _b, room_b = await _two(connect, people, circle)
    await room_a.send(type="send", client_id="c-1", body="hello **there**")
    own = await room_a.recv_types("ack", "message")  # the sender's own screen shows it too
    ack = own["ack"]
    frame = await room_b.recv_type("message")
    assert frame == own["message"]
    assert frame["prev"] == 0
    message = frame["message"]
    assert set(message) == {"id", "alias", "html", "at", "reactions"}
    assert (message["id"], message["alias"], message["html"]) == (
        ack["id"],
        a.alias,
        "<p>hello <strong>there</strong></p>",
    )
    await room_a.close()
    await room_b.close()


async def test_repeated_client_id_stores_one_message_and_acks_both(connect, circle, people):
    """A retried send (same client_id) is stored once, broadcast once, and acked
    twice, with duplicate=true the second time."""
    _a, room_a, _b, room_b = await _two(connect, people, circle)
    await room_a.send(type="send", client_id="retry-me", body="Once only")
    await room_a.send(type="send", client_id="retry-me", body="Once only")
    frames = await room_a.frames(3)
    first, second = [f for f in frames if f["type"] == "ack"]
    assert [f["type"] for f in frames].count("message") == 1
    assert second["id"] == first["id"] and second["duplicate"] is True and first["duplicate"] is False
    assert await room_a.nothing(0.3)
    assert await dsa(message_count)(circle) == 1
    assert (await room_b.recv_type("message"))["message"]["id"] == first["id"]
    assert await room_b.nothing(0.3)
    await room_a.close()
    await room_b.close()


async def test_same_client_id_on_two_tabs_stores_one_message(connect, circle, people):
    """The same client_id from two sockets of one member is one message."""
    [(user, _m)] = await dsa(people)(circle)
    tab1 = await connect(user, circle)
    tab2 = await connect(user, circle)
    await tab1.send(type="send", client_id="shared", body="from a tab")
    await tab2.send(type="send", client_id="shared", body="from a tab")
    ack1 = (await tab1.recv_types("ack", "message"))["ack"]
    ack2 = (await tab2.recv_types("ack", "message"))["ack"]
    assert ack1["id"] == ack2["id"]
    assert sorted([ack1["duplicate"], ack2["duplicate"]]) == [False, True]
    assert await dsa(message_count)(circle) == 1
    await tab1.close()
    await tab2.close()


RENDERED = [
    ("hello **there**", "<p>hello <strong>there</strong></p>"),
    ("*soft* _also_ __bold__", "<p><em>soft</em> <em>also</em> <strong>bold</strong></p>"),
    ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
    ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
    ("line one\nline two", "<p>line one<br>\nline two</p>"),
    (
        "[a guide](https://example.org/guide)",
        '<p><a href="https://example.org/guide" rel="nofollow noopener">a guide</a></p>',
    ),
    (
        "see https://example.org now",
        '<p>see <a href="https://example.org" rel="nofollow noopener">https://example.org</a> now</p>',
    ),
    # Everything outside the subset is shown as text.
    ("# not a heading", "<p># not a heading</p>"),
    ("> not a quote", "<p>&gt; not a quote</p>"),
    ("`not code`", "<p>`not code`</p>"),
]


async def test_markdown_subset_is_rendered(connect, circle, people):
    """Bold, italic, lists, line breaks and links are rendered; other Markdown stays text."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    for n, (body, html) in enumerate(RENDERED):
        await room.send(type="send", client_id=f"md-{n}", body=body)
        got = await room.recv_types("ack", "message")
        assert got["message"]["message"]["html"] == html, body
        assert (await dsa(stored)(circle, got["ack"]["id"])).html == html
    await room.close()


DANGEROUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://example.org></iframe>",
    '<p style="position:fixed">x</p>',
]


async def test_html_in_a_body_is_escaped(connect, circle, people):
    """Raw HTML in a body reaches no screen as markup: every tag is escaped text."""
    _a, room_a, _b, room_b = await _two(connect, people, circle)
    for n, body in enumerate(DANGEROUS):
        await room_a.send(type="send", client_id=f"x-{n}", body=body)
        html = (await room_b.recv_type("message"))["message"]["html"]
        assert html.startswith("<p>&lt;") and html.endswith("&gt;</p>"), html
        assert set(re.findall(r"<(\w+)", html)) <= {"p", "a"}, html  # a: the linkified URL
        assert all(href.startswith("https://") for href in re.findall(r'href="([^"]*)"', html)), html
        assert not re.search(r"<[^>]*(style|on\w+)=", html), html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (await dsa(stored)(circle, 1)).html
    await room_a.close()
    await room_b.close()


@pytest.mark.parametrize(
    "body",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](ftp://example.org/file)",
        "[x](/relative/path)",
    ],
)
async def test_links_other_than_http_are_dropped(connect, circle, people, body):
    """Only http(s) links survive; any other link becomes plain text."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="l", body=body)
    html = (await room.recv_types("ack", "message"))["message"]["message"]["html"]
    assert "<a" not in html and "href" not in html, html
    await room.close()


async def test_every_link_gets_nofollow_noopener(connect, circle, people):
    """Markdown links, bare URLs and www. names all carry rel="nofollow noopener" and nothing else."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    body = '[one](https://example.org "a title") http://example.net www.example.com'
    await room.send(type="send", client_id="l", body=body)
    html = (await room.recv_types("ack", "message"))["message"]["message"]["html"]
    assert html.count("<a ") == 3
    assert html.count('rel="nofollow noopener"') == 3
    assert "title=" not in html and "target=" not in html
    await room.close()


async def test_body_over_the_limit_is_refused_and_not_stored(connect, circle, people):
    """A body longer than MAX_BODY_CHARS is refused with TOO_LARGE; one at the limit is accepted."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="big", body="a" * (MAX_BODY_CHARS + 1))
    error = await room.error("too_large")
    assert error["limit"] == MAX_BODY_CHARS
    assert await dsa(message_count)(circle) == 0
    await room.send(type="send", client_id="fits", body="a" * MAX_BODY_CHARS)
    assert (await room.recv_types("ack", "message"))["ack"]["id"] == 1
    await room.close()


async def test_body_with_too_many_lines_is_refused(connect, circle, people):
    """A body of more than MAX_BODY_LINES lines is refused with TOO_LARGE and not stored."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="tall", body="\n".join(["x"] * (MAX_BODY_LINES + 1)))
    await room.error("too_large")
    assert await dsa(message_count)(circle) == 0
    await room.close()


@pytest.mark.parametrize("body", ["", "   ", " \n\t\n ", "\u200b\u202e\x00", "\r\n\r\n"])
async def test_empty_body_is_refused_with_empty_body(connect, circle, people, body):
    """A body that is empty once normalised is refused with EMPTY_BODY and not stored."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send(type="send", client_id="e", body=body)
    await room.error("empty_body")
    assert await dsa(message_count)(circle) == 0
    await room.ping()
    await room.close()


async def test_control_characters_are_stripped_and_text_normalised(connect, circle, people):
    """Control and format characters (bidi overrides, zero-width spaces, NUL) are stripped; text is NFC."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    body = "ab\x00c\x07d\u202ee\u200bf\x1b[31mg Cafe\u0301\r\nnext\ttab"
    await room.send(type="send", client_id="cc", body=body)
    got = await room.recv_types("ack", "message")
    message = await dsa(stored)(circle, got["ack"]["id"])
    assert message.body == "abcdef[31mg Caf\u00e9\nnext tab"
    assert got["message"]["message"]["html"] == "<p>abcdef[31mg Caf\u00e9<br>\nnext tab</p>"
    await room.close()


async def test_zero_width_joiner_in_emoji_is_kept(connect, circle, people):
    """The zero-width joiner that builds emoji sequences survives normalisation."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    family = "\U0001f469\u200d\U0001f467"
    await room.send(type="send", client_id="zwj", body=family)
    got = await room.recv_types("ack", "message")
    assert got["message"]["message"]["html"] == f"<p>{family}</p>"
    await room.close()


async def test_lone_surrogate_in_a_body_is_refused_cleanly(connect, circle, people):
    """A JSON-escaped lone surrogate (valid JSON, not valid text) gets BAD_FRAME, is
    not stored, and the socket works on."""
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await room.send_raw('{"type":"send","client_id":"s","body":"hi \\ud800 there"}')
    error = await room.error("bad_frame")
    assert error.get("field") == "body"
    await room.send_raw('{"type":"send","client_id":"\\udfff","body":"hi"}')
    await room.error("bad_frame")
    assert await dsa(message_count)(circle) == 0
    await room.ping()
    await room.close()
