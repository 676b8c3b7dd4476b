"""realtime.layer on a real Redis (pass 2): subscriptions asked for together
all take effect, broadcasts from one process arrive in the order they were
made, a caller that gives up does not take the others' subscriptions with it,
and a subscription is not held behind a queue of broadcasts."""

import asyncio
import os

import pytest

from realtime.layer import PubSubChannelLayer

pytestmark = pytest.mark.services


@pytest.fixture
async def layers():
    """Two layers, as two processes would hold them, under this run's own prefix."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (pass 2)")
    prefix = f"{os.environ.get('REDIS_PREFIX', 'ic-test')}:layer-test:"
    made = [PubSubChannelLayer(hosts=[url], prefix=prefix) for _ in range(2)]
    yield made
    for layer in made:
        await layer.flush()


async def _joined(layer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def test_rooms_subscribed_at_once_each_receive_their_broadcasts(layers):
    here, there = layers
    groups = [f"room-{n}" for n in range(60)]
    channels = await asyncio.gather(*(_joined(here, group) for group in groups))
    for n, group in enumerate(groups):
        await there.group_send(group, {"type": "event", "n": n})
    got = await asyncio.wait_for(asyncio.gather(*(here.receive(channel) for channel in channels)), 10)
    assert [event["n"] for event in got] == list(range(60))


async def test_broadcasts_made_at_once_arrive_in_the_order_they_were_made(layers):
    here, there = layers
    channel = await _joined(here, "ordered")
    await asyncio.gather(*(there.group_send("ordered", {"type": "event", "n": n}) for n in range(300)))
    got = [(await asyncio.wait_for(here.receive(channel), 10))["n"] for _ in range(300)]
    assert got == list(range(300))


async def test_a_caller_that_gives_up_leaves_the_others_subscribed(layers):
    """Two members' first joins wait for the same group's SUBSCRIBE; one gives up
    (its socket closed): the other still gets in, and hears the room."""
    here, there = layers
    first, second = await here.new_channel(), await here.new_channel()
    given_up = asyncio.ensure_future(here.group_add("shared", first))
    kept = asyncio.ensure_future(here.group_add("shared", second))
    await asyncio.sleep(0)  # both wait for the one SUBSCRIBE
    given_up.cancel()
    await asyncio.wait_for(kept, 10)
    with pytest.raises(asyncio.CancelledError):
        await given_up
    await there.group_send("shared", {"type": "event", "n": 1})
    assert (await asyncio.wait_for(here.receive(second), 10))["n"] == 1


async def test_a_group_left_and_joined_again_at_once_stays_subscribed(layers):
    """The last member leaves while the next one arrives: whichever way the two
    interleave, the group ends subscribed and hears the room."""
    here, there = layers
    old = await _joined(here, "again")
    new = await here.new_channel()
    leaving = asyncio.ensure_future(here.group_discard("again", old))
    await asyncio.sleep(0)  # the UNSUBSCRIBE is on its way
    await asyncio.wait_for(here.group_add("again", new), 10)
    await asyncio.wait_for(leaving, 10)
    await there.group_send("again", {"type": "event", "n": 2})
    assert (await asyncio.wait_for(here.receive(new), 10))["n"] == 2


async def test_a_subscription_is_not_queued_behind_the_broadcasts(layers):
    """Hundreds of broadcasts queued on this process, then a room's first
    member subscribes: it is in before the last broadcast has left (with one
    lock for both, as channels-redis has it, it waited for all of them)."""
    here, there = layers
    await _joined(there, "busy")
    sending = asyncio.gather(*(here.group_send("busy", {"type": "e"}) for _ in range(500)))
    await asyncio.sleep(0)
    channel = await asyncio.wait_for(_joined(here, "first-member"), 10)
    assert not sending.done()
    await there.group_send("first-member", {"type": "event", "n": 7})
    assert (await asyncio.wait_for(here.receive(channel), 10))["n"] == 7
    await asyncio.wait_for(sending, 30)
