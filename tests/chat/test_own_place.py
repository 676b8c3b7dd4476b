"""A member's own place in the room, through real sockets: their reactions, how far
they have read, their message's source, the members they chose not to see; the
staff badge; reasons for removals and mutes."""

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import Client

from chat import selectors
from chat import services as chat_services
from chat.models import Message, Seat
from community.models import Membership
from core.errors import DomainError, ErrorCode

from .helpers import audit_actions, stored

pytestmark = pytest.mark.django_db(transaction=True)


async def _close_all(*rooms):
    for room in rooms:
        await room.close()


# --- reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "remove", "message": 1},
        {"type": "remove", "message": 1, "reason": "   "},
        {"type": "mute", "alias": "ALIAS", "minutes": 5},
        {"type": "mute", "alias": "ALIAS", "minutes": 5, "reason": ""},
    ],
    ids=["remove-none", "remove-blank", "mute-none", "mute-empty"],
)
async def test_remove_and_mute_need_a_reason(connect, circle, people, post, frame):
    """A removal or a mute without a reason (missing or blank) is refused with
    REASON_REQUIRED naming the field; nothing changes and nothing is audited."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(a_user, a)] = await dsa(people)(circle)
    await dsa(post)(a_user, circle, "a message to act on")
    f_room = await connect(f_user, circle)
    frame = {**frame, "alias": a.alias} if frame["type"] == "mute" else frame
    await f_room.send(**frame)
    error = await f_room.error("reason_required")
    assert error["field"] == "reason"
    assert (await dsa(stored)(circle, 1)).status == Message.Status.PUBLISHED
    assert (await dsa(Membership.objects.get)(pk=a.pk)).muted_until is None
    assert await dsa(audit_actions)(circle) == []
    await f_room.close()


def test_services_refuse_an_empty_reason_too(circle, people, post):
    """The services refuse a blank reason whoever calls them (not only the socket)."""
    [(f_user, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    [(a_user, a)] = people(circle)
    post(a_user, circle, "words")
    ctx = chat_services.open_room(user=f_user, slug=circle.slug)
    for call in (
        lambda: chat_services.remove_message(ctx, message_id=1, reason=" "),
        lambda: chat_services.mute_member(ctx, alias=a.alias, minutes=3, reason=""),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.code == ErrorCode.REASON_REQUIRED
    assert Message.objects.get(circle=circle, seq=1).status == Message.Status.PUBLISHED


# --- the staff badge ------------------------------------------------------------------


async def test_staff_messages_carry_the_role_they_were_written_in(connect, circle, people, post):
    """A facilitator's message carries ``role`` (live, in hello and in history); a
    member's carries none."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(a_user, _a)] = await dsa(people)(circle)
    a_room = await connect(a_user, circle)
    await dsa(post)(f_user, circle, "Welcome, everyone.")
    assert (await a_room.recv_type("message"))["message"]["role"] == "facilitator"
    await a_room.send(type="send", client_id="m1", body="Thank you")
    await a_room.sent()
    late = await connect(a_user, circle)
    assert [m.get("role") for m in late.hello["messages"]] == ["facilitator", None]
    await late.send(type="history", before=3)
    assert [m.get("role") for m in (await late.recv_type("batch"))["messages"]] == ["facilitator", None]
    await _close_all(a_room, late)


# --- your own reactions ------------------------------------------------------------------


async def test_own_reactions_come_back_to_their_owner_only(connect, circle, people, post):
    """After a reload each member's hello (and history and resume) says which
    reactions are theirs (``mine``); the broadcast counts never say who."""
    [(a_user, _a), (b_user, _b)] = await dsa(people)(circle, 2)
    for n in range(3):
        await dsa(post)(b_user, circle, f"message {n}")
    a_room, b_room = await connect(a_user, circle), await connect(b_user, circle)
    await a_room.send(type="react", message=1, reaction="hug", on=True)
    await a_room.recv_types("done", "reactions")
    await b_room.recv_type("reactions")
    await b_room.send(type="react", message=1, reaction="heart", on=True)
    got = await b_room.recv_types("done", "reactions")
    assert "mine" not in got["reactions"] and set(got["reactions"]) == {"type", "id", "counts"}
    assert (await a_room.recv_type("reactions"))["counts"] == {"hug": 1, "heart": 1}

    a_again, b_again = await connect(a_user, circle), await connect(b_user, circle)
    assert a_again.hello["messages"][0]["mine"] == ["hug"]
    assert b_again.hello["messages"][0]["mine"] == ["heart"]
    assert all("mine" not in m for m in a_again.hello["messages"][1:])
    await a_again.send(type="history", before=2)
    assert (await a_again.recv_type("batch"))["messages"][0]["mine"] == ["hug"]
    await a_again.send(type="resume", since=0)
    assert (await a_again.recv_type("batch"))["messages"][0]["mine"] == ["hug"]
    resumed = await connect(a_user, circle, since=0)
    assert resumed.hello["messages"][0]["mine"] == ["hug"]
    await _close_all(a_room, b_room, a_again, b_again, resumed)


# --- how far you have read ---------------------------------------------------------------


async def test_read_position_survives_a_reload_and_only_moves_forward(connect, circle, people, post):
    """``read`` stores the newest id seen; hello tells it back (``last_read``); an
    older id changes nothing; an id the room has not reached is NOT_FOUND."""
    [(a_user, _a), (b_user, _b)] = await dsa(people)(circle, 2)
    for n in range(3):
        await dsa(post)(b_user, circle, f"message {n}")
    room = await connect(a_user, circle)
    assert room.hello["you"]["last_read"] == 0
    await room.send(type="read", upto=2)
    assert await room.recv_type("done") == {"type": "done", "of": "read", "upto": 2}
    await room.send(type="read", upto=1)
    await room.recv_type("done")
    await room.send(type="read", upto=99)
    assert (await room.error("not_found"))["field"] == "upto"
    await room.send(type="read", upto=0)
    await room.error("bad_frame")
    again = await connect(a_user, circle)
    assert again.hello["you"]["last_read"] == 2
    other = await connect(b_user, circle)
    assert other.hello["you"]["last_read"] == 0
    await _close_all(room, again, other)


def test_unread_counts_per_circle_in_one_query(make_circle, people, post, django_assert_num_queries):
    """The circle list's unread counts: others' published messages after the
    member's read mark, for every circle at once, in one query; one's own
    messages and removed ones do not count."""
    first, second = make_circle(), make_circle()
    [(me, _m1)] = people(first)
    me_in_second = Membership.objects.create(user=me, circle=second, alias="Quiet Wren")
    [(other, _o)] = people(first)
    Membership.objects.create(user=other, circle=second, alias="Soft Owl")
    for n in range(3):
        post(other, first, f"first {n}")
    post(other, second, "second 0")
    post(me, first, "my own words")
    ctx = chat_services.open_room(user=me, slug=first.slug)
    chat_services.mark_read(ctx, upto=1)
    Seat.objects.create(membership=me_in_second, last_read=0)
    post(other, second, "second 1")
    f_user = people(second, role=Membership.Role.FACILITATOR)[0][0]
    staff = chat_services.open_room(user=f_user, slug=second.slug)
    chat_services.remove_message(staff, message_id=2, reason="test")
    with django_assert_num_queries(1):
        counts = selectors.unread_counts(me)
    assert counts == {first.pk: 2, second.pk: 1}


def test_circle_list_shows_unread_counts(make_circle, people, post):
    """The circle list says how many new messages wait in each of your circles."""
    circle = make_circle(name="Evening Circle")
    [(me, _m)] = people(circle)
    [(other, _o)] = people(circle)
    post(other, circle, "one")
    chat_services.mark_read(chat_services.open_room(user=me, slug=circle.slug), upto=1)
    post(other, circle, "two")
    post(other, circle, "three")
    client = Client()
    client.force_login(me)
    page = client.get("/").content.decode()
    assert "2 new messages" in page
    client.force_login(other)
    assert "new message" not in client.get("/").content.decode()


# --- your own message's source -------------------------------------------------------------


async def test_source_goes_to_the_author_alone(connect, circle, people):
    """``source`` gives the author their message's Markdown (to edit it); anyone
    else is FORBIDDEN, and no broadcast ever carries it."""
    [(a_user, _a), (b_user, _b)] = await dsa(people)(circle, 2)
    a_room, b_room = await connect(a_user, circle), await connect(b_user, circle)
    await a_room.send(type="send", client_id="s1", body="I felt **held** today")
    await a_room.sent()
    live = await b_room.recv_type("message")
    assert "**" not in str(live) and "source" not in live["message"]
    await a_room.send(type="source", message=1, ref="e1")
    assert await a_room.recv_type("source") == {"type": "source", "id": 1, "body": "I felt **held** today", "ref": "e1"}
    await b_room.send(type="source", message=1)
    await b_room.error("forbidden")
    await a_room.send(type="source", message=7)
    await a_room.error("not_found")
    await _close_all(a_room, b_room)


# --- members you chose not to see ------------------------------------------------------------


async def test_hiding_a_member_is_yours_alone_and_survives_a_reload(connect, circle, people, post):
    """``hide`` keeps an alias in your seat (hello ``you.hidden`` on every device);
    the hidden member and everyone else are told nothing; ``on: false`` undoes it."""
    [(a_user, _a), (b_user, b)] = await dsa(people)(circle, 2)
    a_room, b_room = await connect(a_user, circle), await connect(b_user, circle)
    await a_room.send(type="hide", alias=b.alias, on=True)
    assert await a_room.recv_type("done") == {"type": "done", "of": "hide", "alias": b.alias, "hidden": True}
    assert await b_room.nothing(0.3)
    again = await connect(a_user, circle)
    assert again.hello["you"]["hidden"] == [b.alias]
    b_again = await connect(b_user, circle)
    assert b_again.hello["you"]["hidden"] == []
    await again.send(type="hide", alias=b.alias, on=False)
    assert (await again.recv_type("done"))["hidden"] is False
    assert (await connect(a_user, circle)).hello["you"]["hidden"] == []
    await _close_all(a_room, b_room, again, b_again)


@pytest.mark.parametrize("target", ["nobody", "self", "facilitator"])
async def test_some_aliases_cannot_be_hidden(connect, circle, people, target):
    """Hiding an unknown alias is NOT_FOUND; yourself or a facilitator FORBIDDEN
    (those who keep the room safe stay readable); nothing is stored."""
    [(a_user, a)] = await dsa(people)(circle)
    [(_f_user, f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    alias = {"nobody": "Nobody Here", "self": a.alias, "facilitator": f.alias}[target]
    room = await connect(a_user, circle)
    await room.send(type="hide", alias=alias, on=True)
    await room.error("not_found" if target == "nobody" else "forbidden")
    assert await dsa(lambda: [s.hidden for s in Seat.objects.all()])() in ([], [[]])
    await room.close()


# --- a mute that lasts ------------------------------------------------------------------------


async def test_a_muted_member_learns_until_when_live_and_after_a_reload(connect, circle, people, post):
    """The mute notice says until when (``until``), and a reload's hello still
    says so (``muted_until``) while the mute lasts."""
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(a_user, a)] = await dsa(people)(circle)
    f_room, a_room = await connect(f_user, circle), await connect(a_user, circle)
    await f_room.send(type="mute", alias=a.alias, minutes=1, reason="a short pause")
    done = await f_room.recv_type("done")
    notice = await a_room.recv_type("notice")
    assert notice["code"] == "muted" and notice["until"] == done["until"]
    assert "1 minute." in notice["message"]
    again = await connect(a_user, circle)
    assert again.hello["you"]["muted_until"] == done["until"]
    assert (await connect(f_user, circle)).hello["you"]["muted_until"] is None
    await _close_all(f_room, a_room, again)
