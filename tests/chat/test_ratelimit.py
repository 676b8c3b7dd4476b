"""Flood control: per-member budgets; an over-limit frame gets RATE_LIMITED and stores nothing."""

import json

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import override_settings

from chat.models import Reaction
from moderation.models import Report

from .helpers import message_count

pytestmark = pytest.mark.django_db(transaction=True)

# Long windows: the counters are fixed windows, and a test that straddled a window
# boundary would see its count start again.
HOUR = 3600
LIMITS = {"send": (3, HOUR), "react": (2, HOUR), "report": (1, HOUR), "frame": (1000, HOUR), "connect": (1000, HOUR)}


async def test_sends_over_the_limit_are_refused_and_not_stored(connect, circle, people):
    """The send after a member's budget gets RATE_LIMITED with retry_after, is not stored and not broadcast."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS=LIMITS):
        room_a = await connect(a_user, circle)
        room_b = await connect(b_user, circle)
        for n in range(3):
            await room_a.send(type="send", client_id=f"a{n}", body=f"message {n}")
            await room_a.sent()
        await room_a.send(type="send", client_id="a3", body="one too many")
        error = await room_a.error("rate_limited")
        assert isinstance(error["retry_after"], int) and 1 <= error["retry_after"] <= HOUR
        assert await dsa(message_count)(circle) == 3
        assert [(await room_b.recv_type("message"))["message"]["id"] for _ in range(3)] == [1, 2, 3]
        assert await room_b.nothing(0.3)
        await room_a.close()
        await room_b.close()


async def test_budgets_are_per_member(connect, circle, people):
    """One member reaching the limit does not limit another."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS=LIMITS):
        room_a = await connect(a_user, circle)
        room_b = await connect(b_user, circle)
        for n in range(3):
            await room_a.send(type="send", client_id=f"a{n}", body=f"message {n}")
            await room_a.sent()
        await room_a.send(type="send", client_id="a3", body="one too many")
        await room_a.error("rate_limited")
        await room_b.send(type="send", client_id="b0", body="my turn")
        assert (await room_b.sent())["id"] == 4
        await room_a.close()
        await room_b.close()


async def test_retried_send_is_acked_even_over_the_limit(connect, circle, people):
    """A retry of an already-stored client_id is answered with its ack, not refused, at the limit."""
    [(a_user, _a)] = await dsa(people)(circle)
    with override_settings(CHAT_RATE_LIMITS=LIMITS):
        room = await connect(a_user, circle)
        for n in range(3):
            await room.send(type="send", client_id=f"a{n}", body=f"message {n}")
            await room.sent()
        await room.send(type="send", client_id="a1", body="message 1")
        ack = await room.recv_type("ack")
        assert (ack["id"], ack["duplicate"]) == (2, True)
        assert await dsa(message_count)(circle) == 3
        await room.close()


async def test_reactions_over_the_limit_are_refused(connect, circle, people, post):
    """Reactions beyond the react budget get RATE_LIMITED and are not stored."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    await dsa(post)(a_user, circle, "a hard day")
    with override_settings(CHAT_RATE_LIMITS=LIMITS):
        room = await connect(b_user, circle)
        for kind in ("heart", "hug"):
            await room.send(type="react", message=1, reaction=kind, on=True)
            await room.recv_types("done", "reactions")
        await room.send(type="react", message=1, reaction="thanks", on=True)
        await room.error("rate_limited")
        assert await dsa(Reaction.objects.count)() == 2
        await room.close()


async def test_reports_over_the_limit_are_refused(connect, circle, people, post):
    """Reports beyond the report budget get RATE_LIMITED and are not stored."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    await dsa(post)(a_user, circle, "first")
    await dsa(post)(a_user, circle, "second")
    with override_settings(CHAT_RATE_LIMITS=LIMITS):
        room = await connect(b_user, circle)
        await room.send(type="report", message=1, reason="spam")
        await room.recv_type("done")
        await room.send(type="report", message=2, reason="spam")
        await room.error("rate_limited")
        assert await dsa(Report.objects.count)() == 1
        await room.close()


async def test_any_frame_over_the_frame_budget_is_refused(connect, circle, people):
    """Every handled frame counts against the frame budget; beyond it even a ping gets RATE_LIMITED."""
    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS={**LIMITS, "frame": (4, HOUR)}):
        room_a = await connect(a_user, circle)
        room_b = await connect(b_user, circle)
        for _ in range(4):
            await room_a.ping()
        await room_a.send(type="ping")
        await room_a.error("rate_limited")
        await room_a.send(type="send", client_id="x", body="not this either")
        await room_a.error("rate_limited")
        assert await dsa(message_count)(circle) == 0
        await room_b.ping()
        await room_a.close()
        await room_b.close()


async def test_a_flood_of_junk_frames_is_counted_before_it_is_parsed(connect, circle, people):
    """Hundreds of non-JSON 16 KiB frames: past twice the frame budget only one
    more reply comes (rate_limited), the rest are dropped unread, and far past
    it the socket is closed with 4429; other members are not affected."""
    from realtime import protocol

    (a_user, _a), (b_user, _b) = await dsa(people)(circle, 2)
    with override_settings(CHAT_RATE_LIMITS={**LIMITS, "frame": (10, HOUR)}):
        room_a = await connect(a_user, circle)
        room_b = await connect(b_user, circle)
        junk = "x" * (16 * 1024 - 10)
        for _ in range(500):
            await room_a.send_raw(junk)
        replies = []
        while True:
            out = await room_a.ws.receive_output(timeout=3)
            if out["type"] == "websocket.close":
                break
            frame = json.loads(out["text"])
            if frame["type"] != "presence":
                replies.append(frame["code"])
        assert out["code"] == protocol.CLOSE_TOO_MANY
        # 20 frames within the socket's budget (each a bad_frame, until the member's
        # shared budget of 10 answers rate_limited), then one rate_limited, then silence.
        assert len(replies) == 21, replies
        assert replies[-1] == "rate_limited"
        await room_b.ping()
        await room_b.close()
        room_a.closed = True
