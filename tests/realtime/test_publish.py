"""Publishing (realtime.publish): on commit, through the outbox of the event loop
that started the worker thread, in order; runs of messages folded into one layer
event; ``flushed()`` waits for what was put before it and no more."""

import asyncio
import logging
import threading

import pytest
from channels.db import database_sync_to_async as dsa
from channels.layers import get_channel_layer
from django.db import connection, transaction

from realtime import groups, publish
from realtime.events import MessagePosted, MessagesPosted, Notice, QueueChanged

GROUP = groups.circle_group(4)


def posted(msg_id: int, prev: int | None, **audience) -> MessagePosted:
    return MessagePosted(message={"id": msg_id}, prev=prev, **audience)


def notice(n: int) -> Notice:
    return Notice(code="n", message=str(n))


@pytest.fixture
def layer(settings):
    """The real in-memory channel layer (whatever the run's default), roomy enough
    that nothing is dropped for want of space."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}
    }
    return get_channel_layer()


@pytest.fixture
async def subscriber(layer):
    """``await subscriber(group)``: a channel in ``group``, and a way to read it."""

    async def subscribe(group: str = GROUP):
        channel = await layer.new_channel()
        await layer.group_add(group, channel)

        async def receive(timeout: float = 1.0) -> dict:
            return await asyncio.wait_for(layer.receive(channel), timeout)

        receive.channel = channel  # type: ignore[attr-defined]
        return receive

    return subscribe


def waiting(layer, receive) -> int:
    """How many messages wait on the subscriber's channel, read without waiting."""
    queue = layer.channels.get(receive.channel)
    return 0 if queue is None else queue.qsize()


# --- coalesce ------------------------------------------------------------------------------


def test_coalesce_of_nothing_is_nothing():
    """An empty batch sends nothing."""
    assert publish.coalesce([]) == []


def test_coalesce_leaves_a_lone_message_as_it_is():
    """A message with no neighbour to fold with crosses the layer as itself."""
    assert publish.coalesce([(GROUP, posted(1, 0))]) == [(GROUP, posted(1, 0))]


def test_coalesce_never_folds_a_message_addressed_to_one_member():
    """A message for one member keeps its audience: it is neither folded into the run
    before it nor does a later message fold into it."""
    batch = [(GROUP, posted(1, 0)), (GROUP, posted(2, 1, to=5)), (GROUP, posted(3, 2))]
    assert publish.coalesce(batch) == batch


def test_coalesce_starts_a_new_run_after_an_addressed_message():
    """Messages for everyone before and after one for a single member make two runs,
    each folded into one MessagesPosted, with the addressed one between them."""
    batch = [(GROUP, posted(n, n - 1, to=5 if n == 3 else None)) for n in range(1, 6)]
    assert publish.coalesce(batch) == [
        (GROUP, MessagesPosted(items=(posted(1, 0), posted(2, 1)))),
        (GROUP, posted(3, 2, to=5)),
        (GROUP, MessagesPosted(items=(posted(4, 3), posted(5, 4)))),
    ]


def test_coalesce_never_folds_a_message_addressed_to_roles():
    """A message for some roles keeps its audience, like one for one member."""
    batch = [(GROUP, posted(1, 0)), (GROUP, posted(2, 1, roles=("moderator",)))]
    assert publish.coalesce(batch) == batch


# --- the outbox ------------------------------------------------------------------------------


async def test_the_outbox_sends_events_in_the_order_they_were_put(layer, subscriber):
    """Events go out in order, a run of messages folded into one layer event in its place."""
    receive = await subscriber()
    outbox = publish.outbox_for(asyncio.get_running_loop())
    for event in (notice(1), posted(1, 0), posted(2, 1), notice(2), QueueChanged(change="added", flag=1, urgent=False)):
        outbox.put(GROUP, event)
    await outbox.flushed()
    got = [await receive() for _ in range(4)]
    assert [g["type"] for g in got] == ["room.notice", "room.messages", "room.notice", "staff.queue"]
    assert (got[0]["message"], got[2]["message"]) == ("1", "2")
    assert [item["message"]["id"] for item in got[1]["items"]] == [1, 2]


async def test_events_put_while_a_send_is_under_way_follow_in_order(layer, subscriber):
    """Events put while the outbox is sending go in its next batch, after the first."""
    receive = await subscriber()
    outbox = publish.outbox_for(asyncio.get_running_loop())
    outbox.put(GROUP, notice(1))
    await asyncio.sleep(0)  # the outbox has started sending the first
    for n in range(2, 6):
        outbox.put(GROUP, notice(n))
    await outbox.flushed()
    assert [(await receive())["message"] for _ in range(5)] == ["1", "2", "3", "4", "5"]


async def test_flushed_returns_at_once_when_nothing_is_waiting(layer):
    """With nothing put, or everything sent, ``flushed()`` does not wait."""
    outbox = publish.outbox_for(asyncio.get_running_loop())
    await asyncio.wait_for(outbox.flushed(), timeout=0.05)
    await asyncio.wait_for(publish.flushed(), timeout=0.05)


async def test_flushed_waits_until_every_event_put_before_it_is_in_the_layer(layer, subscriber):
    """When ``flushed()`` returns, every event put before it is on the layer."""
    receive = await subscriber()
    outbox = publish.outbox_for(asyncio.get_running_loop())
    for n in range(5):
        outbox.put(GROUP, notice(n))
    await outbox.flushed()
    assert waiting(layer, receive) == 5


async def test_flushed_does_not_wait_for_events_put_after_it(layer, subscriber):
    """In a busy process the outbox may never be empty: ``flushed()`` returns once
    what was put before it has gone, while later events keep coming."""
    receive = await subscriber()
    outbox = publish.outbox_for(asyncio.get_running_loop())

    started = asyncio.Event()

    async def keep_publishing():
        for n in range(2000):
            outbox.put(GROUP, notice(n))
            if n == 4:
                started.set()
            await asyncio.sleep(0)

    producer = asyncio.ensure_future(keep_publishing())
    await started.wait()
    before = outbox.put_count
    await asyncio.wait_for(outbox.flushed(), timeout=5)
    try:
        assert not producer.done()
        assert waiting(layer, receive) >= before
    finally:
        producer.cancel()
        await outbox.flushed()  # what the producer put goes out before the loop closes
    assert [(await receive())["message"] for _ in range(before)] == [str(n) for n in range(before)]


async def test_an_event_the_layer_refuses_is_logged_and_the_next_still_goes(layer, subscriber, caplog):
    """A run of messages the layer refuses (here: a group name it does not accept)
    is logged by name; the events after it still go, in order, and flushed() returns."""
    receive = await subscriber()
    outbox = publish.outbox_for(asyncio.get_running_loop())
    caplog.set_level(logging.WARNING, logger="realtime.publish")
    outbox.put(GROUP, notice(1))
    outbox.put("not a group!", posted(1, 0))
    outbox.put("not a group!", posted(2, 1))
    outbox.put(GROUP, notice(2))
    await asyncio.wait_for(outbox.flushed(), timeout=1)
    assert [(await receive())["message"] for _ in range(2)] == ["1", "2"]
    assert [r.getMessage() for r in caplog.records] == ["could not send room.messages to not a group!"]


# --- publishing from a service -----------------------------------------------------------------

AUDIENCES = {
    "circle": (lambda ev: publish.to_circle(4, ev), GROUP, {}),
    "member": (lambda ev: publish.to_member(4, 12, ev), GROUP, {"to": 12}),
    "roles": (
        lambda ev: publish.to_roles(4, ("facilitator", "moderator"), ev),
        GROUP,
        {"roles": ["facilitator", "moderator"]},
    ),
    "staff": (lambda ev: publish.to_staff(ev), groups.staff_group(), {}),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("send", "group", "audience"), AUDIENCES.values(), ids=AUDIENCES.keys())
async def test_an_event_published_in_a_worker_thread_goes_out_through_this_loops_outbox(
    layer, subscriber, send, group, audience
):
    """A service publishing from a worker thread (outside a transaction: at once)
    hands the event to the outbox of the loop that started the thread; the loop's
    ``flushed()`` afterwards finds it sent, to its group, with its audience."""
    receive = await subscriber(group)
    await dsa(send)(notice(1))
    await publish.flushed()
    assert waiting(layer, receive) == 1
    assert await receive() == {"type": "room.notice", "code": "n", "message": "1", "until": None, **audience}


# Transactions of their own in a worker thread: the test may not hold one open
# (SQLite would lock the worker out).
@pytest.mark.django_db(transaction=True)
async def test_an_event_published_in_a_transaction_goes_out_when_it_commits(layer, subscriber):
    """Events published inside a transaction (and a nested one) are sent once it
    commits, in the order they were published."""
    receive = await subscriber()

    def service():
        with transaction.atomic():
            publish.to_circle(4, notice(1))
            with transaction.atomic():
                publish.to_circle(4, notice(2))

    await dsa(service)()
    await publish.flushed()
    assert [(await receive())["message"] for _ in range(2)] == ["1", "2"]


@pytest.mark.django_db(transaction=True)
async def test_an_event_published_in_a_rolled_back_transaction_is_never_sent(layer, subscriber):
    """A transaction rolled back sends nothing it published; a rolled-back savepoint
    drops only what was published inside it."""
    receive = await subscriber()

    def refused_service():
        with transaction.atomic():
            publish.to_circle(4, notice(1))
            raise RuntimeError("refused after publishing")

    def partly_refused_service():
        with transaction.atomic():
            publish.to_circle(4, notice(2))
            try:
                with transaction.atomic():
                    publish.to_circle(4, notice(3))
                    raise RuntimeError("this part is undone")
            except RuntimeError:
                pass

    with pytest.raises(RuntimeError):
        await dsa(refused_service)()
    await dsa(partly_refused_service)()
    await publish.flushed()
    assert (await receive())["message"] == "2"
    assert waiting(layer, receive) == 0


@pytest.mark.django_db
async def test_an_event_published_where_no_event_loop_runs_is_sent_at_once(layer, subscriber):
    """A management command has no event loop: its events go straight to the layer."""
    receive = await subscriber()
    done = threading.Event()

    def command():
        try:
            publish.to_circle(4, notice(1))
        finally:
            connection.close()
            done.set()

    threading.Thread(target=command).start()
    await asyncio.get_running_loop().run_in_executor(None, done.wait, 5)
    assert waiting(layer, receive) == 1
    assert (await receive())["message"] == "1"
