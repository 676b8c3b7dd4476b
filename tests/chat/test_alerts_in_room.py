"""Crisis alerts in the live room, through real sockets: staff see them (also after
a reload) until someone says "I am on it", and then they leave every staff
screen in the room."""

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import Client

from community.models import Membership
from moderation import services as moderation_services
from moderation.models import AuditEntry, Flag

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crisis_rule(transactional_db):
    moderation_services.save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")


async def _crisis(connect, people, circle):
    """Two facilitators and a member, connected; the member posts a crisis message."""
    staff = await dsa(people)(circle, 2, role=Membership.Role.FACILITATOR)
    [(a_user, a)] = await dsa(people)(circle)
    f1, f2 = [await connect(user, circle) for user, _m in staff]
    a_room = await connect(a_user, circle)
    await a_room.send(type="send", client_id="c1", body="tonight I want to end my life")
    card = (await a_room.recv_types("ack", "message", "crisis_resources"))["crisis_resources"]
    assert card["tier"] == "crisis"
    alerts = [await f.recv_types("message", "alert") for f in (f1, f2)]
    return staff, (f1, f2), (a_user, a, a_room), alerts[0]["alert"]["alert"]


async def test_staff_see_unacknowledged_alerts_after_a_reload(connect, circle, people, crisis_rule):
    """A facilitator who opens the room after the alert went out finds it in
    hello (``you.alerts``); a member's hello has no alerts at all."""
    staff, rooms, (a_user, a, a_room), alert = await _crisis(connect, people, circle)
    assert alert["alias"] == a.alias and alert["message_id"] == 1
    late = await connect(staff[0][0], circle)
    assert [x["flag"] for x in late.hello["you"]["alerts"]] == [alert["flag"]]
    assert late.hello["you"]["alerts"][0]["excerpt"] == "tonight I want to end my life"
    member_again = await connect(a_user, circle)
    assert "alerts" not in member_again.hello["you"]
    for room in (*rooms, a_room, late, member_again):
        await room.close()


async def test_i_am_on_it_clears_the_alert_on_every_staff_screen(connect, circle, people, crisis_rule):
    """``ack_alert`` acknowledges (audited); every staff socket in the room gets
    ``alert_cleared`` naming who is on it; the member's screen gets nothing; a
    second acknowledgement is ALREADY_HANDLED; a reload no longer shows it."""
    staff, (f1, f2), (_a_user, _a, a_room), alert = await _crisis(connect, people, circle)
    await f1.send(type="ack_alert", flag=alert["flag"])
    got = await f1.recv_types("done", "alert_cleared")
    assert got["done"] == {"type": "done", "of": "ack_alert", "flag": alert["flag"]}
    cleared = await f2.recv_type("alert_cleared")
    assert cleared == {"type": "alert_cleared", "flag": alert["flag"], "by": staff[0][1].alias}
    assert await a_room.nothing(0.3)
    await f2.send(type="ack_alert", flag=alert["flag"])
    await f2.error("already_handled")
    flag = await dsa(Flag.objects.get)(pk=alert["flag"])
    assert flag.acknowledged_by_id == staff[0][0].pk
    assert await dsa(AuditEntry.objects.filter(action=AuditEntry.Action.ACK_CRISIS).count)() == 1
    late = await connect(staff[1][0], circle)
    assert late.hello["you"]["alerts"] == []
    for room in (f1, f2, a_room, late):
        await room.close()


async def test_members_cannot_acknowledge_and_other_circles_alerts_are_not_found(
    connect, circle, make_circle, people, crisis_rule
):
    """A member's ``ack_alert`` is FORBIDDEN; a facilitator's for another
    circle's alert is NOT_FOUND from this room; nothing is acknowledged."""
    staff, (f1, f2), (_a_user, _a, a_room), alert = await _crisis(connect, people, circle)
    await a_room.send(type="ack_alert", flag=alert["flag"])
    await a_room.error("forbidden")
    other = await dsa(make_circle)()
    await dsa(Membership.objects.create)(user=staff[0][0], circle=other, alias="Far Heron", role="facilitator")
    elsewhere = await connect(staff[0][0], other)
    await elsewhere.send(type="ack_alert", flag=alert["flag"])
    await elsewhere.error("not_found")
    assert (await dsa(Flag.objects.get)(pk=alert["flag"])).acknowledged_at is None
    for room in (f1, f2, a_room, elsewhere):
        await room.close()


async def test_acknowledging_from_the_queue_clears_the_room_too(connect, circle, people, crisis_rule):
    """The moderators' "acknowledge" (the queue page's endpoint) clears the alert
    in the room as well."""
    staff, (f1, f2), (_a_user, _a, a_room), alert = await _crisis(connect, people, circle)
    client = Client()
    await dsa(client.force_login)(staff[1][0])
    response = await dsa(client.post)(f"/moderation/flags/{alert['flag']}/acknowledge/", {"next": "/"})
    assert response.status_code == 302
    for room in (f1, f2):
        assert (await room.recv_type("alert_cleared"))["flag"] == alert["flag"]
    for room in (f1, f2, a_room):
        await room.close()
