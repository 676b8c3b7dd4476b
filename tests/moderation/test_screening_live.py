"""Screening on the one path: WebSocket sends that are held, blocked, redacted,
flagged and crisis-escalated, through the real ASGI stack."""

import pytest
from channels.db import database_sync_to_async as dsa

from chat.models import Message
from community.models import Membership
from moderation.models import Flag, RuleHit
from tests.room_fixtures import staff_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(make_user, circle, join):
    a, b = make_user("sender-s"), make_user("reader-s")
    return join(a, circle), join(b, circle)


async def _held_and_left(connect, membership, circle, client_id: str = "h1"):
    """The member sends what a hold rule catches, is acked ``held`` and leaves;
    returns the message's queue item."""
    room = await connect(membership.user, circle)
    await room.send(type="send", client_id=client_id, body="anyone know a plug nearby")
    assert (await room.recv_type("ack"))["verdict"] == "held"
    await room.close()
    return await dsa(Flag.objects.get)(message__circle=circle, message__client_id=client_id)


async def _review(moderator, flag, action: str) -> None:
    from moderation.services import review_flag

    await dsa(review_flag)(user=moderator, flag_id=flag.pk, action=action, reason="reviewed")


async def test_held_message_is_not_shown_until_approved(connect, pair, circle, make_rule, site_moderator):
    """A hold rule stores the message unseen; approving it publishes it live."""
    from moderation.services import review_flag

    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="h1", body="anyone know a plug nearby")
    ack = await a.recv_type("ack")
    assert ack["verdict"] == "held" and ack["id"] == 1
    assert await b.nothing()
    message = await dsa(Message.objects.get)(seq=1, circle=circle)
    assert message.status == "held" and message.verdict == "hold"
    flag = await dsa(Flag.objects.get)(message=message)
    assert flag.status == "open" and flag.source == "rule"

    await dsa(review_flag)(user=site_moderator, flag_id=flag.pk, action="approve", reason="context is fine")
    # Published as the room's newest message, in the chain like any other, with
    # the time it was published (an older one would give away that it waited).
    live = await b.recv_type("message")
    assert live["message"]["id"] == 2 and live["prev"] == 0
    assert live["message"]["at"] > message.created_at.isoformat()
    assert "plug" in live["message"]["html"]
    got = await a.recv_types("message", "approved")
    assert got["message"] == live
    assert got["approved"] == {"type": "approved", "held_id": 1, "id": 2}
    assert await b.nothing()  # the approved frame is the author's alone
    await a.close()
    await b.close()


async def test_a_member_away_during_an_approval_gets_the_message_on_resume(
    connect, pair, circle, make_rule, site_moderator, post
):
    """Held, then others talk, then a member leaves, then the moderator approves:
    reconnecting with ``since`` brings the approved message after the rest."""
    from moderation.services import review_flag

    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    await a.send(type="send", client_id="h1", body="anyone know a plug nearby")
    assert (await a.recv_type("ack"))["verdict"] == "held"
    later = await dsa(post)(b_m.user, circle, "talking meanwhile")
    b = await connect(b_m.user, circle)
    seen = b.hello["messages"][-1]["id"]
    assert seen == later == 2
    await b.close()
    flag = await dsa(Flag.objects.get)(message__circle=circle, message__client_id="h1")
    await dsa(review_flag)(user=site_moderator, flag_id=flag.pk, action="approve", reason="context is fine")
    back = await connect(b_m.user, circle, since=seen)
    assert [m["id"] for m in back.hello["messages"]] == [3]
    assert "plug" in back.hello["messages"][0]["html"]
    await a.close()
    await back.close()


async def test_blocked_message_is_refused_with_the_reason_and_not_stored(connect, pair, circle, make_rule):
    """A block rule refuses the message, tells the sender why, stores nothing."""
    await dsa(make_rule)("venmo me", kind="phrase", category="sourcing", action="block")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="b1", body="just venmo me and I'll send it")
    ack = await a.recv_type("ack")
    assert ack["verdict"] == "blocked" and ack["id"] is None
    assert "not posted" in ack["reason"]
    assert await b.nothing()
    assert await dsa(Message.objects.count)() == 0
    await a.close()
    await b.close()


async def test_redacted_text_is_replaced_before_storing(connect, pair, circle, make_rule):
    """A redact rule replaces the matched text before the message is stored and shown."""
    await dsa(make_rule)("@phone", kind="regex", category="personal-info", action="redact")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="r1", body="text me on 555-867-5309 ok")
    ack = (await a.recv_types("ack", "message"))["ack"]
    assert ack["verdict"] == "redacted"
    live = await b.recv_type("message")
    assert "867" not in live["message"]["html"] and "[removed]" in live["message"]["html"]
    stored = await dsa(Message.objects.get)(seq=ack["id"], circle=circle)
    assert "867" not in stored.body and stored.verdict == "redact"
    await a.close()
    await b.close()


async def test_flagged_message_is_published_and_queued_without_telling_the_author(connect, pair, circle, make_rule):
    """A flag rule publishes as usual, queues the message, and the ack says only 'published'."""
    await dsa(make_rule)("idiot", category="harassment", action="flag")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="f1", body="what an idiot I was")
    ack = (await a.recv_types("ack", "message"))["ack"]
    assert ack["verdict"] == "published"
    assert (await b.recv_type("message"))["message"]["id"] == ack["id"]
    message = await dsa(Message.objects.get)(seq=ack["id"], circle=circle)
    assert message.verdict == "flag"
    assert await dsa(Flag.objects.filter(message=message, status="open").exists)()
    assert await dsa(RuleHit.objects.filter(message=message).count)() == 1
    await a.close()
    await b.close()


async def test_crisis_is_published_supported_and_alerted(
    connect, pair, circle, join, make_user, make_rule, site_moderator
):
    """A crisis message is published, the sender privately gets the crisis resources,
    the circle's facilitator in the room and every online moderator are alerted."""
    await dsa(make_rule)("end my life", kind="phrase", category="crisis", action="crisis")
    a_m, b_m = pair
    guide = await dsa(join)(await dsa(make_user)("guide-s"), circle, Membership.Role.FACILITATOR)
    staff = await staff_socket(site_moderator)
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    g = await connect(guide.user, circle)
    await a.send(type="send", client_id="c1", body="some nights I want to end my life")
    got = await a.recv_types("ack", "message", "crisis_resources")
    assert got["ack"]["verdict"] == "published"
    resources = " ".join(r["contact"] for r in got["crisis_resources"]["resources"])
    assert "988" in resources and "62-FIRESIDE" in resources
    assert (await b.recv_type("message"))["message"]["id"] == got["ack"]["id"]
    assert await b.nothing()  # no alert, no resources for other members
    g_frames = await g.recv_types("message", "alert")
    assert g_frames["alert"]["alert"]["alias"] == a_m.alias
    staff_frames = {}
    while "alert" not in staff_frames:
        frame = await staff.receive_json_from(timeout=3)
        staff_frames[frame["type"]] = frame
    assert staff_frames["alert"]["alert"]["excerpt"].startswith("some nights")
    flag = await dsa(Flag.objects.get)(message__seq=got["ack"]["id"])
    assert flag.urgent and flag.category == "crisis"
    for sock in (a, b, g):
        await sock.close()
    await staff.disconnect()


async def test_edit_is_screened_too(connect, pair, circle, make_rule):
    """An edit into blocked text is refused and the message keeps its old text."""
    await dsa(make_rule)("venmo", category="sourcing", action="block")
    a_m, _ = pair
    a = await connect(a_m.user, circle)
    await a.send(type="send", client_id="e1", body="hello all")
    ack = (await a.recv_types("ack", "message"))["ack"]
    await a.send(type="edit", message=ack["id"], body="venmo me")
    err = await a.recv_type("error")
    assert err["code"] == "blocked"
    stored = await dsa(Message.objects.get)(seq=ack["id"], circle=circle)
    assert stored.body == "hello all"
    await a.close()


async def test_shadow_rule_records_without_acting(connect, pair, circle, make_rule):
    """A shadow rule records its hit but the message is published unflagged."""
    rule = await dsa(make_rule)("sunrise", category="spam", action="block", shadow=True)
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="s1", body="the sunrise was lovely")
    ack = (await a.recv_types("ack", "message"))["ack"]
    assert ack["verdict"] == "published"
    assert (await b.recv_type("message"))["message"]["id"] == ack["id"]
    hit = await dsa(RuleHit.objects.get)(rule=rule)
    assert hit.shadow and hit.matched.lower() == "sunrise"
    assert not await dsa(Flag.objects.exists)()
    await a.close()
    await b.close()


async def test_a_retried_send_after_its_approval_is_acked_as_published_under_the_new_id(
    connect, pair, circle, make_rule, site_moderator
):
    """The author's socket dropped before the ack, the message was approved
    meanwhile: the retry (same client_id) is answered with the published id."""
    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, _b_m = pair
    await _review(site_moderator, await _held_and_left(connect, a_m, circle), "approve")
    again = await connect(a_m.user, circle)
    await again.send(type="send", client_id="h1", body="anyone know a plug nearby")
    ack = await again.recv_type("ack")
    assert (ack["id"], ack["verdict"], ack["duplicate"]) == (2, "published", True)
    await again.close()


async def test_a_message_held_by_an_edit_returns_to_its_place_when_approved(
    connect, pair, circle, make_rule, site_moderator
):
    """Published, then edited into something held: on approval it comes back
    under its own id (it may have replies and reactions), outside the chain."""
    from moderation.services import review_flag

    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="e1", body="good morning")
    assert (await a.sent())["id"] == 1
    assert (await b.recv_type("message"))["message"]["id"] == 1
    await a.send(type="edit", message=1, body="good morning, anyone know a plug")
    assert (await a.recv_types("done", "removed"))["removed"] == {"type": "removed", "id": 1, "reason": "held"}
    assert (await b.recv_type("removed"))["id"] == 1
    flag = await dsa(Flag.objects.get)(message__circle=circle, message__seq=1)
    await dsa(review_flag)(user=site_moderator, flag_id=flag.pk, action="approve", reason="a phone plug")
    back = await b.recv_type("message")
    assert back["message"]["id"] == 1 and back["prev"] is None
    assert (await a.recv_type("message"))["message"]["id"] == 1
    assert await a.nothing()  # no "approved" frame: nothing moved
    await a.close()
    await b.close()


async def test_hello_tells_only_the_author_which_of_their_messages_still_wait(
    connect, pair, circle, make_rule, site_moderator
):
    """Across reloads and reconnects the author's screen keeps saying "waiting":
    their hello lists their held messages; nobody else's does; once approved,
    the list is empty again."""
    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, b_m = pair
    flag = await _held_and_left(connect, a_m, circle)
    again = await connect(a_m.user, circle)
    [held] = again.hello["you"]["held"]
    assert held["id"] == 1 and "plug" in held["html"] and held["at"]
    other = await connect(b_m.user, circle)
    assert other.hello["you"]["held"] == [] and other.hello["messages"] == []
    await again.close()
    await _review(site_moderator, flag, "approve")
    after = await connect(a_m.user, circle)
    assert after.hello["you"]["held"] == []
    assert [m["id"] for m in after.hello["messages"]] == [2]
    await after.close()
    await other.close()


async def test_a_retried_send_after_its_removal_is_acked_as_removed(connect, pair, circle, make_rule, site_moderator):
    """Held, the ack lost with the socket, then removed by a moderator: the retry
    is told the message is no longer in the room (not "held", not "published")."""
    await dsa(make_rule)("plug", category="sourcing", action="hold")
    a_m, _b_m = pair
    await _review(site_moderator, await _held_and_left(connect, a_m, circle), "remove")
    again = await connect(a_m.user, circle)
    assert again.hello["you"]["held"] == []
    await again.send(type="send", client_id="h1", body="anyone know a plug nearby")
    ack = await again.recv_type("ack")
    assert (ack["verdict"], ack["duplicate"]) == ("removed", True)
    await again.close()


async def test_crisis_with_a_block_is_blocked_and_still_supported_and_alerted(
    connect, pair, circle, make_rule, site_moderator
):
    """Adding "I want to die" to a sale offer publishes nothing (no loophole), and
    the person behind it still gets the resources and staff are still alerted;
    the text is kept, shown to nobody, for the moderators' urgent case."""
    await dsa(make_rule)("want to die", kind="phrase", category="crisis", action="crisis")
    await dsa(make_rule)("for sale", kind="phrase", category="sourcing", action="block")
    a_m, b_m = pair
    staff = await staff_socket(site_moderator)
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="cb1", body="k for sale, dm me. honestly i want to die")
    got = await a.recv_types("ack", "crisis_resources")
    assert got["ack"]["verdict"] == "blocked" and got["ack"]["id"] is None and "not posted" in got["ack"]["reason"]
    assert got["crisis_resources"]["tier"] == "crisis"
    assert await b.nothing()  # nothing reached the room
    frame = await staff.receive_json_from(timeout=3)
    while frame["type"] != "alert":
        frame = await staff.receive_json_from(timeout=3)
    assert frame["alert"]["alias"] == a_m.alias and "want to die" in frame["alert"]["excerpt"]
    message = await dsa(Message.objects.get)(circle=circle, client_id="cb1")
    assert message.status == "blocked" and message.verdict == "crisis"
    flag = await dsa(Flag.objects.get)(message=message)
    assert flag.urgent and flag.status == "open"
    # A retry of the same send is told the same, and stores nothing more.
    await a.send(type="send", client_id="cb1", body="k for sale, dm me. honestly i want to die")
    again = await a.recv_type("ack")
    assert (again["verdict"], again["id"], again["duplicate"]) == ("blocked", None, True)
    assert await dsa(Message.objects.count)() == 1
    await a.close()
    await b.close()
    await staff.disconnect()


async def test_crisis_with_a_hold_is_held_and_still_supported(connect, pair, circle, make_rule):
    await dsa(make_rule)("kill myself", kind="phrase", category="crisis", action="crisis")
    await dsa(make_rule)("telegram", category="personal-info", action="hold")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="ch1", body="add me on telegram before I kill myself")
    got = await a.recv_types("ack", "crisis_resources")
    assert got["ack"]["verdict"] == "held"
    assert await b.nothing()
    flag = await dsa(Flag.objects.get)(message__client_id="ch1")
    assert flag.urgent
    await a.close()
    await b.close()


async def test_concern_is_published_with_gentle_resources_and_a_quiet_queue_item(
    connect, pair, circle, make_rule, site_moderator
):
    """A concern (a passive wish) publishes as usual, offers the author resources
    gently, and queues a non-urgent item; no staff alert is raised."""
    await dsa(make_rule)("better off without me", kind="phrase", category="crisis", action="concern")
    a_m, b_m = pair
    staff = await staff_socket(site_moderator)
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="q1", body="sometimes i think everyone is better off without me")
    got = await a.recv_types("ack", "message", "crisis_resources")
    assert got["ack"]["verdict"] == "published"
    assert got["crisis_resources"]["tier"] == "concern"
    assert (await b.recv_type("message"))["message"]["id"] == got["ack"]["id"]
    frame = await staff.receive_json_from(timeout=3)
    assert frame["type"] == "queue" and frame["urgent"] is False
    assert await staff.receive_nothing(timeout=0.3)
    flag = await dsa(Flag.objects.get)(message__seq=got["ack"]["id"])
    assert not flag.urgent and flag.status == "open"
    await a.close()
    await b.close()
    await staff.disconnect()


async def test_redacted_text_is_kept_nowhere(connect, pair, circle, make_rule):
    """What a redaction took out is in no stored row: not the message, not the
    rule hit, not the queue item."""
    await dsa(make_rule)("@phone", kind="regex", category="personal-info", action="redact")
    await dsa(make_rule)("call me", kind="phrase", category="personal-info", action="flag")
    a_m, _b = pair
    a = await connect(a_m.user, circle)
    await a.send(type="send", client_id="r2", body="call me on 555-867-5309 tonight")
    ack = (await a.recv_types("ack", "message"))["ack"]
    assert ack["verdict"] == "redacted"

    def stored_texts():
        message = Message.objects.get(seq=ack["id"], circle=circle)
        texts = [message.body, message.html]
        texts += list(RuleHit.objects.filter(message=message).values_list("matched", flat=True))
        texts += list(Flag.objects.filter(message=message).values_list("matched", flat=True))
        return texts

    texts = await dsa(stored_texts)()
    assert len(texts) >= 4
    assert not any("867" in t or "5309" in t for t in texts), texts
    await a.close()


async def test_a_sentence_split_over_two_messages_is_still_one_sentence(
    connect, pair, circle, make_rule, site_moderator
):
    """'some nights I want to' then 'end my life' a moment later: the second
    message raises the crisis lane (the rule matched across the two)."""
    from moderation import screening

    screening.recent.forget()
    await dsa(make_rule)("end my life", kind="phrase", category="crisis", action="crisis")
    a_m, _b = pair
    a = await connect(a_m.user, circle)
    await a.send(type="send", client_id="s1", body="some nights I want to end")
    assert (await a.recv_types("ack", "message"))["ack"]["verdict"] == "published"
    await a.send(type="send", client_id="s2", body="my life, honestly")
    got = await a.recv_types("ack", "message", "crisis_resources")
    assert got["crisis_resources"]["tier"] == "crisis"
    flag = await dsa(Flag.objects.get)(message__client_id="s2")
    assert flag.urgent
    await a.close()


async def test_the_split_window_is_one_authors_and_short(connect, pair, circle, make_rule, monkeypatch):
    """Another member's words are not joined to yours, and after WINDOW_SECONDS
    your earlier words are no longer joined either."""
    from moderation import screening

    screening.recent.forget()
    await dsa(make_rule)("end my life", kind="phrase", category="crisis", action="crisis")
    a_m, b_m = pair
    a = await connect(a_m.user, circle)
    b = await connect(b_m.user, circle)
    await a.send(type="send", client_id="w1", body="I want to end")
    await a.recv_types("ack", "message")
    await b.send(type="send", client_id="w2", body="my life has been busy")
    await b.sent()
    assert not await dsa(Flag.objects.filter(message__client_id="w2").exists)()
    monkeypatch.setattr(screening, "WINDOW_SECONDS", 0.0)
    await a.send(type="send", client_id="w3", body="my life is fine")
    await a.sent()
    assert not await dsa(Flag.objects.filter(message__client_id="w3").exists)()
    await a.close()
    await b.close()
