"""Account security reaches the live room: "sign out everywhere" and a recovery
close the account's open sockets on every process, and the ended sessions can
no longer open one."""

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import Client

from community import accounts
from realtime import protocol
from tests.community.test_access_ends import _closed_with
from tests.room_fixtures import Room, communicator_for

pytestmark = pytest.mark.django_db(transaction=True)
NEW = "a new lantern by the door"


async def _room_with_cookie(user, circle, cookie: str) -> Room:
    ws = await dsa(communicator_for)(user, circle.slug, cookie=False)
    ws.scope["headers"].append((b"cookie", f"sessionid={cookie}".encode()))
    connected, code = await ws.connect()
    assert connected, code
    return Room(ws, await ws.receive_json_from(timeout=3))


async def _refused(user, circle, cookie: str) -> int:
    ws = await dsa(communicator_for)(user, circle.slug, cookie=False)
    ws.scope["headers"].append((b"cookie", f"sessionid={cookie}".encode()))
    connected, code = await ws.connect()
    assert not connected
    await ws.disconnect()
    return code


async def test_sign_out_everywhere_closes_the_other_devices_sockets(circle, people):
    [(user, _m)] = await dsa(people)(circle)
    here, phone = Client(), Client()
    await dsa(here.force_login)(user)
    await dsa(phone.force_login)(user)
    phone_cookie = phone.cookies["sessionid"].value
    room = await _room_with_cookie(user, circle, phone_cookie)
    response = await dsa(here.post)("/accounts/sessions/end-others/")
    assert response.status_code == 302
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "signed_out")
    assert await _refused(user, circle, phone_cookie) == protocol.CLOSE_NOT_SIGNED_IN
    # This device stays signed in and may open the room again.
    again = await _room_with_cookie(user, circle, here.cookies["sessionid"].value)
    await again.close()


async def test_a_recovery_closes_every_socket_of_the_account(circle, people):
    [(user, _m)] = await dsa(people)(circle)
    codes = await dsa(accounts.issue_recovery_codes)(user=user)
    elsewhere = Client()
    await dsa(elsewhere.force_login)(user)
    cookie = elsewhere.cookies["sessionid"].value
    room = await _room_with_cookie(user, circle, cookie)
    response = await dsa(Client().post)(
        "/accounts/recover/",
        {"handle": user.username, "code": codes[1], "new_password": NEW, "new_password_again": NEW},
    )
    assert response.status_code == 302
    await _closed_with(room, protocol.CLOSE_ACCESS_CHANGED, "password_changed")
    assert await _refused(user, circle, cookie) == protocol.CLOSE_NOT_SIGNED_IN
