"""When access ends, the sockets it opened close at once (issue 11.4): leaving a
circle, signing out, changing the password, deleting the account, a change of
role, a ban, losing the moderators' group, or the session running out."""

import asyncio

import pytest
from channels.db import database_sync_to_async as dsa
from django.contrib.auth.models import Group
from django.test import Client, override_settings

from community import services
from community.apps import MODERATORS_GROUP
from community.models import Membership
from realtime import protocol
from tests.conftest import PASSWORD
from tests.room_fixtures import staff_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def _closed_with(room, code: int, notice: str | None = None) -> None:
    """The socket's next frames: (a notice ``notice``, then) the close ``code``."""
    while True:
        out = await room.ws.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == code, out
            room.closed = True
            return
        frame = __import__("json").loads(out["text"])
        if frame["type"] == "notice" and notice is not None:
            assert frame["code"] == notice, frame
            notice = None


async def test_leaving_a_circle_closes_its_sockets(connect, circle, people):
    (user, _m), (other, _o) = await dsa(people)(circle, 2)
    room = await connect(user, circle)
    stays = await connect(other, circle)
    await dsa(services.leave_circle)(user=user, circle=circle)
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "left")
    await stays.ping()  # only the one who left
    await stays.close()


async def test_signing_out_closes_every_socket_and_the_session_no_longer_opens_one(
    connect, circle, make_circle, people, join
):
    [(user, _m)] = await dsa(people)(circle)
    second = await dsa(make_circle)(name="Evening", slug="evening")
    await dsa(join)(user, second)
    client = Client()
    await dsa(client.force_login)(user)
    cookie = client.cookies["sessionid"].value
    from tests.room_fixtures import Room, communicator_for

    async def open_with_cookie(c):
        ws = await dsa(communicator_for)(user, c.slug, cookie=False)
        ws.scope["headers"].append((b"cookie", f"sessionid={cookie}".encode()))
        connected, code = await ws.connect()
        return ws, connected, code

    sockets = []
    for c in (circle, second):
        ws, connected, _code = await open_with_cookie(c)
        assert connected
        hello = await ws.receive_json_from(timeout=3)
        sockets.append(Room(ws, hello))
    await dsa(client.post)("/accounts/logout/")
    for room in sockets:
        await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "signed_out")
    _ws, connected, code = await open_with_cookie(circle)
    assert (connected, code) == (False, protocol.CLOSE_NOT_SIGNED_IN)


async def test_changing_the_password_closes_the_accounts_sockets(connect, circle, people):
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    client = Client()
    await dsa(client.force_login)(user)
    response = await dsa(client.post)(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a fresh long passphrase 7",
            "new_password2": "a fresh long passphrase 7",
        },
    )
    assert response.status_code == 302
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "password_changed")


async def test_deleting_the_account_closes_its_sockets(connect, circle, people):
    [(user, _m)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await dsa(services.delete_account)(user=user)
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "account_deleted")


async def test_a_demoted_facilitator_reconnects_as_a_member_and_gets_no_more_alerts(connect, circle, people):
    [(user, membership)] = await dsa(people)(circle, 1, role=Membership.Role.FACILITATOR)
    room = await connect(user, circle)
    assert room.hello["you"]["role"] == "facilitator"
    await dsa(services.set_role)(circle=circle, membership=membership, role=Membership.Role.MEMBER)
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "role_changed")
    again = await connect(user, circle)
    assert again.hello["you"]["role"] == "member"
    await again.close()


async def test_a_ban_outside_the_queue_closes_the_sockets(connect, circle, people):
    [(user, membership)] = await dsa(people)(circle)
    room = await connect(user, circle)
    await dsa(services.ban_membership)(target=membership)
    await _closed_with(room, protocol.CLOSE_NOT_ALLOWED, "banned")


async def test_losing_the_moderators_group_closes_the_staff_socket(make_user):
    user = await dsa(make_user)("mod-leaving")
    group = await dsa(Group.objects.get)(name=MODERATORS_GROUP)
    await dsa(user.groups.add)(group)
    ws = await staff_socket(user)
    await dsa(user.groups.remove)(group)
    while True:
        out = await ws.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == protocol.CLOSE_ACCESS_CHANGED
            break


async def test_an_expired_session_cannot_keep_sending(connect, circle, people):
    """A socket opened with a session that then runs out refuses the next frame
    (session_ended) and closes with 4401."""
    [(user, _m)] = await dsa(people)(circle)
    with override_settings(SESSION_COOKIE_AGE=2):
        room = await connect(user, circle)
    await room.ping()
    await asyncio.sleep(2.2)
    await room.send(type="send", client_id="late", body="after my session ended")
    err = await room.recv_type("error")
    assert err["code"] == "session_ended"
    await _closed_with(room, protocol.CLOSE_SESSION_ENDED)
    assert await dsa(lambda: circle.messages.count())() == 0
