import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_message_reaches_other_member(connect, make_user, circle, join):
    """A message sent by one member is acked to the sender and delivered to another."""
    from channels.db import database_sync_to_async as dsa

    a_user = await dsa(make_user)("alice-h")
    b_user = await dsa(make_user)("bobby-h")
    a_m = await dsa(join)(a_user, circle)
    await dsa(join)(b_user, circle)
    a = await connect(a_user, circle)
    b = await connect(b_user, circle)
    assert a.hello["you"]["alias"] == a_m.alias
    await a.send(type="send", client_id="c1", body="hello **there**")
    ack = (await a.recv_types("ack", "message"))["ack"]
    assert ack["id"] == 1 and ack["verdict"] == "published"
    msg = await b.recv_type("message")
    assert msg["message"]["html"] == "<p>hello <strong>there</strong></p>"
    assert msg["message"]["alias"] == a_m.alias
    await a.close()
    await b.close()
