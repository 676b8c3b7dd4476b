"""Members' actions: reactions, editing and deleting one's own message, reporting."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as dsa
from django.conf import settings
from django.utils import timezone

from chat.models import Message, Reaction
from moderation.models import Flag, Report

from .helpers import stored

pytestmark = pytest.mark.django_db(transaction=True)


def _reaction_count() -> int:
    return Reaction.objects.count()


def _age(circle, seq: int, seconds: int) -> None:
    # No service can make a message older, and waiting out the real window
    # (CHAT_EDIT_WINDOW_SECONDS, 15 minutes by default) is not an option: move the
    # timestamp back instead, so the default window itself is what is tested.
    Message.objects.filter(circle=circle, seq=seq).update(created_at=timezone.now() - timedelta(seconds=seconds))


def _flag_state(circle, seq: int):
    flag = Flag.objects.filter(message__circle=circle, message__seq=seq).first()
    if flag is None:
        return None
    reports = list(Report.objects.filter(flag=flag).order_by("id").values_list("reporter_id", "reason"))
    return flag.source, flag.status, flag.report_count, reports


async def _room_with_message(connect, people, post, circle, n_others=1):
    """An author with one posted message (id 1) and ``n_others`` other members, all connected."""
    made = await dsa(people)(circle, 1 + n_others)
    (author_user, author), others = made[0], made[1:]
    await dsa(post)(author_user, circle, "I slept well for the first time in weeks")
    author_room = await connect(author_user, circle)
    rooms = [await connect(user, circle) for user, _m in others]
    return author, author_room, [m for _u, m in others], rooms


async def test_reactions_are_counted_per_message(connect, circle, people, post):
    """Every member sees each message's reaction counts, per kind, never who reacted."""
    (a_user, _a), (b_user, _b), (c_user, _c) = await dsa(people)(circle, 3)
    await dsa(post)(a_user, circle, "first")
    await dsa(post)(a_user, circle, "second")
    room_a, room_b, room_c = [await connect(u, circle) for u in (a_user, b_user, c_user)]
    rooms = (room_a, room_b, room_c)

    async def react(actor, message: int, reaction: str) -> tuple[dict, dict]:
        await actor.send(type="react", message=message, reaction=reaction, on=True)
        got = await actor.recv_types("done", "reactions")
        for room in rooms:
            if room is not actor:
                assert await room.recv_type("reactions") == got["reactions"]
        return got["done"], got["reactions"]

    assert await react(room_b, 1, "heart") == (
        {"type": "done", "of": "react", "id": 1, "counts": {"heart": 1}},
        {"type": "reactions", "id": 1, "counts": {"heart": 1}},
    )
    assert (await react(room_c, 1, "heart"))[1] == {"type": "reactions", "id": 1, "counts": {"heart": 2}}
    assert (await react(room_c, 2, "hug"))[1] == {"type": "reactions", "id": 2, "counts": {"hug": 1}}
    assert (await react(room_a, 1, "seedling"))[1] == {
        "type": "reactions",
        "id": 1,
        "counts": {"heart": 2, "seedling": 1},
    }
    fresh = await connect(a_user, circle)
    assert [m["reactions"] for m in fresh.hello["messages"]] == [{"heart": 2, "seedling": 1}, {"hug": 1}]
    for room in (room_a, room_b, room_c, fresh):
        await room.close()


async def test_reaction_toggles_on_and_off(connect, circle, people, post):
    """A second "on" changes nothing and broadcasts nothing; "off" takes the reaction back."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="react", message=1, reaction="thanks", on=True)
    await room_b.recv_types("done", "reactions")
    assert (await author_room.recv_type("reactions"))["counts"] == {"thanks": 1}
    await room_b.send(type="react", message=1, reaction="thanks", on=True)
    assert (await room_b.recv_type("done"))["counts"] == {"thanks": 1}
    assert await author_room.nothing(0.3)
    assert await dsa(_reaction_count)() == 1
    await room_b.send(type="react", message=1, reaction="thanks", on=False)
    assert (await room_b.recv_types("done", "reactions"))["done"]["counts"] == {}
    assert (await author_room.recv_type("reactions"))["counts"] == {}
    assert await dsa(_reaction_count)() == 0
    await author_room.close()
    await room_b.close()


@pytest.mark.parametrize("reaction", ["angry", "HEART", "", "thumbs_down", 1, None])
async def test_unknown_reaction_is_refused(connect, circle, people, post, reaction):
    """Only the supportive set is accepted; anything else is BAD_FRAME and stores nothing."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="react", message=1, reaction=reaction, on=True)
    error = await room_b.error("bad_frame")
    assert error["field"] == "reaction"
    assert await dsa(_reaction_count)() == 0
    assert await author_room.nothing(0.2)
    await author_room.close()
    await room_b.close()


async def test_reaction_to_a_missing_message_is_not_found(connect, circle, people, post):
    """Reacting to an id that is not a published message of the room is NOT_FOUND."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="react", message=99, reaction="heart", on=True)
    await room_b.error("not_found")
    assert await dsa(_reaction_count)() == 0
    await author_room.close()
    await room_b.close()


async def test_author_edits_own_message_within_the_window(connect, circle, people, post):
    """An edit within the window re-renders the message for everyone and marks it edited."""
    author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await author_room.send(type="edit", message=1, body="I slept **well**")
    got = await author_room.recv_types("done", "edited")
    assert got["done"] == {"type": "done", "of": "edit", "id": 1, "verdict": "published"}
    frame = await room_b.recv_type("edited")
    assert frame == got["edited"]
    assert frame["message"]["id"] == 1 and frame["message"]["alias"] == author.alias
    assert frame["message"]["html"] == "<p>I slept <strong>well</strong></p>"
    assert "edited" in frame["message"]
    message = await dsa(stored)(circle, 1)
    assert (message.body, message.edited_at is not None) == ("I slept **well**", True)
    await author_room.close()
    await room_b.close()


async def test_author_deletes_own_message_within_the_window(connect, circle, people, post):
    """A delete within the window removes the message from every screen and from history."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await author_room.send(type="delete", message=1)
    got = await author_room.recv_types("done", "removed")
    assert got["removed"] == {"type": "removed", "id": 1, "reason": "deleted"}
    assert await room_b.recv_type("removed") == got["removed"]
    assert (await dsa(stored)(circle, 1)).status == Message.Status.DELETED
    await room_b.send(type="history", before=2)
    assert (await room_b.recv_type("batch"))["messages"] == []
    await author_room.close()
    await room_b.close()


@pytest.mark.parametrize(
    "frame", [{"type": "edit", "message": 1, "body": "not mine"}, {"type": "delete", "message": 1}]
)
async def test_members_cannot_change_others_messages(connect, circle, people, post, frame):
    """Editing or deleting someone else's message is FORBIDDEN and changes nothing."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(**frame)
    await room_b.error("forbidden")
    message = await dsa(stored)(circle, 1)
    assert (message.status, message.body, message.edited_at) == (
        Message.Status.PUBLISHED,
        "I slept well for the first time in weeks",
        None,
    )
    assert await author_room.nothing(0.2)
    await author_room.close()
    await room_b.close()


async def test_own_message_cannot_be_edited_after_the_window(connect, circle, people, post):
    """Once CHAT_EDIT_WINDOW_SECONDS have passed, an edit gets EDIT_WINDOW and changes nothing."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await dsa(_age)(circle, 1, settings.CHAT_EDIT_WINDOW_SECONDS + 5)
    await author_room.send(type="edit", message=1, body="too late")
    await author_room.error("edit_window_passed")
    message = await dsa(stored)(circle, 1)
    assert (message.status, message.edited_at) == (Message.Status.PUBLISHED, None)
    assert await room_b.nothing(0.2)
    await author_room.close()
    await room_b.close()


async def test_own_message_can_be_deleted_at_any_time_and_its_text_is_erased(connect, circle, people, post):
    """Deleting is yours at any time (the window is for edits): the message leaves
    every screen and its text is kept nowhere."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await dsa(_age)(circle, 1, settings.CHAT_EDIT_WINDOW_SECONDS * 10)
    await author_room.send(type="delete", message=1)
    got = await author_room.recv_types("done", "removed")
    assert got["removed"] == {"type": "removed", "id": 1, "reason": "deleted"}
    assert (await room_b.recv_type("removed"))["id"] == 1
    message = await dsa(stored)(circle, 1)
    assert (message.status, message.body, message.html) == (Message.Status.DELETED, "", "")
    await author_room.close()
    await room_b.close()


async def test_a_deleted_message_under_review_keeps_its_text_until_the_case_is_decided(
    connect, circle, people, post, make_user
):
    """A reported message deleted by its author stays readable to moderators until
    they decide; then its text is erased (the message, the queue item, the rule hits)."""
    from django.contrib.auth.models import Group

    from community.apps import MODERATORS_GROUP
    from moderation.models import Flag
    from moderation.services import review_flag

    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="report", message=1, reason="this is hurtful")
    await room_b.recv_type("done")
    await author_room.send(type="delete", message=1)
    await author_room.recv_types("done", "removed")
    message = await dsa(stored)(circle, 1)
    assert message.status == Message.Status.DELETED and message.body
    flag = await dsa(Flag.objects.get)(message=message)

    def make_moderator():
        user = make_user("decider")
        user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
        return user

    decider = await dsa(make_moderator)()
    await dsa(review_flag)(user=decider, flag_id=flag.pk, action="dismiss", reason="author took it back")
    message = await dsa(stored)(circle, 1)
    assert (message.body, message.html) == ("", "")
    await author_room.close()
    await room_b.close()


async def test_edit_to_an_empty_body_is_refused(connect, circle, people, post):
    """An edit that normalises to nothing is EMPTY_BODY; the message keeps its text."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await author_room.send(type="edit", message=1, body=" \u200b ")
    await author_room.error("empty_body")
    assert (await dsa(stored)(circle, 1)).edited_at is None
    await author_room.close()
    await room_b.close()


async def test_report_is_stored_for_the_moderators(connect, circle, people, post):
    """A report is stored as a Report on the message's Flag, with its reason and a count."""
    _author, author_room, [reporter], [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="report", message=1, reason="  This reads like a goodbye  ")
    done = await room_b.recv_type("done")
    assert (done["of"], done["id"]) == ("report", 1)
    assert await dsa(_flag_state)(circle, 1) == ("report", "open", 1, [(reporter.pk, "This reads like a goodbye")])
    await author_room.close()
    await room_b.close()


async def test_second_report_by_the_same_member_is_refused(connect, circle, people, post):
    """Reporting the same message twice is ALREADY_REPORTED and does not count twice."""
    _author, author_room, [reporter], [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="report", message=1, reason="unkind")
    await room_b.recv_type("done")
    await room_b.send(type="report", message=1, reason="still unkind")
    await room_b.error("already_reported")
    assert await dsa(_flag_state)(circle, 1) == ("report", "open", 1, [(reporter.pk, "unkind")])
    await author_room.close()
    await room_b.close()


async def test_reporting_needs_a_reason_and_not_ones_own_message(connect, circle, people, post):
    """A blank reason is BAD_FRAME; reporting one's own message is FORBIDDEN; neither is stored."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await room_b.send(type="report", message=1, reason="   ")
    await room_b.error("bad_frame")
    await author_room.send(type="report", message=1, reason="testing")
    await author_room.error("forbidden")
    assert await dsa(_flag_state)(circle, 1) is None
    await author_room.close()
    await room_b.close()


async def test_author_is_not_told_about_a_report(connect, circle, people, post):
    """The author's socket receives nothing at all when their message is reported."""
    _author, author_room, _others, [room_b] = await _room_with_message(connect, people, post, circle)
    await author_room.nothing(0.4)  # presence of the others settles first
    await room_b.send(type="report", message=1, reason="worrying")
    await room_b.recv_type("done")
    assert await author_room.nothing(0.5, ignore=())
    await author_room.close()
    await room_b.close()


async def test_three_reports_hide_the_message_for_everyone(connect, circle, people, post):
    """Reports from REPORTS_TO_HIDE distinct members blank the message on every screen, naming no reporter."""
    assert settings.REPORTS_TO_HIDE == 3
    made = await dsa(people)(circle, 5)
    (author_user, _author), reporters, (by_user, _bystander) = made[0], made[1:4], made[4]
    await dsa(post)(author_user, circle, "something hard to read")
    reporter_rooms = [await connect(user, circle) for user, _m in reporters]
    bystander = await connect(by_user, circle)
    author_room = await connect(author_user, circle)
    for n, room in enumerate(reporter_rooms[:2]):
        await room.send(type="report", message=1, reason=f"reason {n}")
        await room.recv_type("done")
        assert await author_room.nothing(0.2)
    last = reporter_rooms[2]
    await last.send(type="report", message=1, reason="reason 2")
    edited = [(await last.recv_types("done", "edited"))["edited"]]
    for room in [author_room, bystander, *reporter_rooms[:2]]:
        edited.append(await room.recv_type("edited"))
    for frame in edited:
        assert frame["message"]["id"] == 1
        assert frame["message"]["html"] == "" and frame["message"]["hidden"] is True
    edited = json.dumps([f for f in author_room.seen if f["type"] not in ("hello", "presence")])
    for user, membership in reporters:
        assert membership.alias not in edited and user.username not in edited
    message = await dsa(stored)(circle, 1)
    assert message.hidden and message.status == Message.Status.PUBLISHED
    late = await connect(by_user, circle)
    assert late.hello["messages"][0]["html"] == "" and late.hello["messages"][0]["hidden"] is True
    for room in [author_room, bystander, late, *reporter_rooms]:
        await room.close()
