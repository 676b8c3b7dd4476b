"""Group commit: sends that arrive together are stored together, and each still
gets its own answer, in order, as if it had been sent alone."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async as dsa
from django.db import connection, transaction

from chat import services as chat_services
from chat.models import Message, Room
from community import services as community_services
from community.models import Membership
from core.errors import DomainError, ErrorCode
from moderation import screening
from moderation import services as moderation_services
from realtime import publish
from realtime.batching import Batcher
from realtime.events import MessagePosted, MessagesPosted, Notice
from realtime.hub import get_hub

# --- the batcher on its own --------------------------------------------------------


class Recorder:
    """A run function that records the batches it was given and can be held open."""

    def __init__(self, answer=lambda item: item * 10):
        self.batches: list[list] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.answer = answer

    async def __call__(self, items):
        self.batches.append(list(items))
        await self.gate.wait()
        return [self.answer(item) for item in items]


async def test_a_lone_item_runs_at_once_and_gets_its_answer():
    run = Recorder()
    batcher = Batcher(run, max_batch=10, linger=0.5)
    assert await asyncio.wait_for(batcher.submit(1), timeout=0.4) == 10  # no linger for a lone item
    assert run.batches == [[1]]


async def test_items_arriving_during_a_run_go_together_in_the_next():
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run, max_batch=10)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    rest = [asyncio.ensure_future(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.01)
    run.gate.set()
    assert await first == 10
    assert [await r for r in rest] == [20, 30, 40]
    assert run.batches == [[1], [2, 3, 4]]
    assert (batcher.runs, batcher.items) == (2, 4)


async def test_a_run_takes_at_most_max_batch_items_in_arrival_order():
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run, max_batch=2)
    futures = [asyncio.ensure_future(batcher.submit(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    run.gate.set()
    assert [await f for f in futures] == [0, 10, 20, 30, 40]
    assert run.batches == [[0, 1], [2, 3], [4]]


async def test_an_exception_answer_reaches_only_its_own_caller():
    run = Recorder(answer=lambda item: ValueError(f"no {item}") if item == 2 else item)
    run.gate.clear()
    batcher = Batcher(run, max_batch=10)
    futures = [asyncio.ensure_future(batcher.submit(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)
    run.gate.set()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], ValueError) and str(results[1]) == "no 2"


async def test_a_failed_run_fails_its_callers_and_the_next_run_still_works():
    calls = []

    async def run(items):
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return items

    batcher = Batcher(run, max_batch=10)
    with pytest.raises(RuntimeError):
        await batcher.submit("a")
    assert await batcher.submit("b") == "b"


async def test_a_run_with_a_wrong_number_of_answers_fails_its_callers():
    async def run(items):
        return items[:1]

    batcher = Batcher(run, max_batch=10)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]  # nobody gets a wrong answer
    assert await batcher.submit(3) == 3


async def test_a_caller_that_goes_away_does_not_cancel_the_run():
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run, max_batch=10)
    leaving = asyncio.ensure_future(batcher.submit(1))
    staying = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    run.gate.set()
    assert await staying == 20
    assert run.batches == [[1, 2]]  # the leaving one was run all the same


async def test_under_load_a_run_lingers_to_gather_more():
    run = Recorder()
    run.gate.clear()
    batcher = Batcher(run, max_batch=10, linger=0.05)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0.01)
    run.gate.set()  # the first run ends; the second waits for the linger
    await first
    third = asyncio.ensure_future(batcher.submit(3))  # within the linger: joins the second run
    assert (await second, await third) == (20, 30)
    assert run.batches == [[1], [2, 3]]


# --- post_messages: one transaction, one answer per send -------------------------------


@pytest.fixture
def rules(db):
    moderation_services.save_rule(user=None, pattern="telegram", kind="word", category="spam", action="block")
    moderation_services.save_rule(user=None, pattern="meetup", kind="word", category="personal-info", action="hold")
    screening.forget_compiled_rules()
    yield
    screening.forget_compiled_rules()


@pytest.mark.django_db(transaction=True)
async def test_a_mixed_batch_answers_each_send_as_if_sent_alone(connect, circle, people, post, rules):
    """Refused, blocked, held, repeated and stored sends in one batch: each gets
    what ``post_message`` would have given it, and the stored ones chain; the
    batch's published messages reach the room together, the held one never."""
    members = await dsa(people)(circle, 6)
    (a, _), (b, _), (c, c_m), (d, _), (e, _), (f, _) = members
    earlier = await dsa(post)(b, circle, "stored before", client_id="b-1")
    await dsa(community_services.mute_membership)(target=c_m, minutes=10)
    watcher = await connect(a, circle)
    ctx = {user: await dsa(chat_services.open_room)(user=user, slug=circle.slug) for user, _m in members}
    requests = [
        chat_services.SendRequest(ctx[a], "a-1", "first of the batch"),
        chat_services.SendRequest(ctx[b], "b-1", "a retry of an earlier send"),
        chat_services.SendRequest(ctx[c], "c-1", "muted, so refused"),
        chat_services.SendRequest(ctx[d], "d-1", "join my telegram"),
        chat_services.SendRequest(ctx[e], "e-1", "shall we have a meetup"),
        chat_services.SendRequest(ctx[f], "f-1", "   "),
        chat_services.SendRequest(ctx[a], "a-1", "the same send again, in the same batch"),
        chat_services.SendRequest(ctx[f], "f-2", "last of the batch"),
    ]
    results = await dsa(chat_services.post_messages)(requests)
    ok, retry, muted, blocked, held, empty, again, last = results
    assert (ok.id, ok.verdict, ok.duplicate) == (earlier + 1, "published", False)
    assert (retry.id, retry.duplicate) == (earlier, True)
    assert isinstance(muted, DomainError) and muted.code == ErrorCode.MUTED
    assert (blocked.id, blocked.verdict) == (None, "blocked")
    assert (held.id, held.verdict) == (earlier + 2, "held")
    assert isinstance(empty, DomainError) and empty.code == ErrorCode.EMPTY_BODY
    assert (again.id, again.duplicate) == (ok.id, True)
    assert (last.id, last.verdict) == (earlier + 3, "published")
    rows = await dsa(lambda: list(Message.objects.filter(circle=circle).values_list("seq", "client_id", "status")))()
    assert rows == [
        (earlier, "b-1", "published"),
        (earlier + 1, "a-1", "published"),
        (earlier + 2, "e-1", "held"),
        (earlier + 3, "f-2", "published"),
    ]
    # The chain skips the held one, which nobody sees.
    got = [await watcher.recv_type("message"), await watcher.recv_type("message")]
    assert [(f["message"]["id"], f["prev"]) for f in got] == [(earlier + 1, earlier), (earlier + 3, earlier + 1)]
    assert await watcher.nothing(0.3)
    await watcher.close()


def test_messages_of_one_commit_cross_the_channel_layer_once():
    """A run of MessagePosted to one group waiting in the outbox together becomes
    one MessagesPosted; other events and other groups keep their place."""

    def posted(n, prev):
        return MessagePosted(message={"id": n}, prev=prev)

    notice = Notice(code="x", message="y")
    batch = [
        ("circle.1", posted(1, 0)),
        ("circle.1", posted(2, 1)),
        ("circle.2", posted(7, 6)),
        ("circle.1", posted(3, 2)),
        ("circle.1", notice),
        ("circle.1", posted(4, 3)),
        ("circle.1", posted(5, 4)),
    ]
    out = publish.coalesce(batch)
    assert [g for g, _e in out] == ["circle.1", "circle.2", "circle.1", "circle.1", "circle.1"]
    first, second, third, fourth, fifth = [e for _g, e in out]
    assert isinstance(first, MessagesPosted) and [i.message["id"] for i in first.items] == [1, 2]
    assert second == posted(7, 6) and third == posted(3, 2) and fourth == notice
    assert isinstance(fifth, MessagesPosted) and [i.prev for i in fifth.items] == [3, 4]
    # and it survives the channel layer's plain-dict form
    from realtime.events import from_layer

    assert from_layer(fifth.to_layer()) == fifth


def _while_a_rival_holds_the_room(work, then):
    """Run ``work`` in another thread inside a transaction that holds the room's
    lock, call ``then()`` while it holds it (it waits for the lock), and let the
    rival commit half a second later.  Returns what ``then`` returned."""
    holding, release = threading.Event(), threading.Event()

    def rival():
        try:
            with transaction.atomic():
                work()
                holding.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=rival)
    thread.start()
    assert holding.wait(5)
    threading.Timer(0.5, release.set).start()
    try:
        return then()
    finally:
        thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_client_id_raced_in_elsewhere_stores_the_rest(circle, people):
    """Another tab (another process) stores the same client_id between the batch's
    lookup and its insert: the batch falls back to one transaction per send,
    answers that one as a duplicate and stores the rest."""
    (a, _a), (b, _b) = people(circle, 2)
    ctx_a = chat_services.open_room(user=a, slug=circle.slug)
    ctx_b = chat_services.open_room(user=b, slug=circle.slug)
    # The other tab's insert holds the room's write lock while this batch looks
    # (and finds nothing), then commits while the batch waits for the lock.
    results = _while_a_rival_holds_the_room(
        lambda: chat_services.post_message(ctx_a, client_id="a-1", body="from the other tab"),
        lambda: chat_services.post_messages(
            [
                chat_services.SendRequest(ctx_a, "a-1", "from this tab"),
                chat_services.SendRequest(ctx_b, "b-1", "unrelated"),
            ]
        ),
    )
    assert (results[0].id, results[0].duplicate) == (1, True)
    assert (results[1].id, results[1].duplicate) == (2, False)
    assert Message.objects.get(circle=circle, seq=1).body == "from the other tab"


def test_post_messages_refuses_sends_of_two_circles():
    class Ctx:
        def __init__(self, circle_id):
            self.circle_id, self.membership_id = circle_id, 1

    with pytest.raises(ValueError, match="one circle"):
        chat_services.post_messages(
            [chat_services.SendRequest(Ctx(1), "x", "one"), chat_services.SendRequest(Ctx(2), "y", "two")]
        )


# --- through the live room ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_sends_from_many_sockets_at_once_are_stored_together_and_all_delivered(connect, circle, people):
    """Twenty sends from ten sockets at once: fewer transactions than messages,
    every ack names a distinct id, and every member receives every message once,
    in id order, each naming the one before it."""
    members = await dsa(people)(circle, 10)
    rooms = [await connect(user, circle) for user, _m in members]
    for room in rooms:
        await room.ws.receive_nothing(timeout=0.3)  # presence settles
    for round_ in range(2):
        await asyncio.gather(
            *(
                room.send(type="send", client_id=f"r{round_}-{n}", body=f"note {round_}-{n}")
                for n, room in enumerate(rooms)
            )
        )
    acks, seen = [], {n: [] for n in range(len(rooms))}
    for n, room in enumerate(rooms):
        while len([f for f in room.seen if f["type"] == "ack"]) < 2 or len(seen[n]) < 20:
            frame = await room.recv(timeout=5)
            if frame["type"] == "ack":
                acks.append(frame)
            elif frame["type"] == "message":
                seen[n].append((frame["message"]["id"], frame["prev"]))
    ids = sorted(ack["id"] for ack in acks)
    assert ids == list(range(1, 21)) and not any(ack["duplicate"] for ack in acks)
    for n in seen:
        assert seen[n] == [(i, i - 1) for i in range(1, 21)]
    batcher = get_hub().room(circle.pk).sends
    assert batcher.items == 20 and batcher.runs < 20
    for room in rooms:
        await room.close()


@pytest.mark.django_db(transaction=True)
async def test_one_send_failing_in_its_own_transaction_does_not_fail_the_others(connect, circle, people):
    """A send whose author's membership is deleted while the batch waits for the
    room lock cannot be stored (its foreign key fails at commit): that send alone
    gets the error; the others are stored, answered and broadcast."""
    (a, a_m), (b, _b), (w, _w) = await dsa(people)(circle, 3)
    ctx_a = await dsa(chat_services.open_room)(user=a, slug=circle.slug)
    ctx_b = await dsa(chat_services.open_room)(user=b, slug=circle.slug)
    await dsa(chat_services.post_message)(ctx_b, client_id="b-0", body="the room row exists")
    watcher = await connect(w, circle)

    def leave():  # holds the room row (and, on SQLite, the write lock) while a leaves
        Room.objects.select_for_update().get(circle=circle)
        Room.objects.filter(circle=circle).update(pinned=None)
        Membership.objects.filter(pk=a_m.pk).delete()

    def send_both():
        return chat_services.post_messages(
            [
                chat_services.SendRequest(ctx_a, "a-1", "written just before leaving"),
                chat_services.SendRequest(ctx_b, "b-1", "still here"),
            ]
        )

    results = await dsa(_while_a_rival_holds_the_room)(leave, send_both)
    assert isinstance(results[0], Exception) and not isinstance(results[0], DomainError)
    assert (results[1].id, results[1].duplicate) == (2, False)
    rows = await dsa(lambda: list(Message.objects.filter(circle=circle).values_list("seq", "client_id")))()
    assert rows == [(1, "b-0"), (2, "b-1")]
    frame = await watcher.recv_type("message")
    assert (frame["message"]["id"], frame["prev"]) == (2, 1)
    assert await watcher.nothing(0.3)
    await watcher.close()


async def test_an_event_the_layer_refuses_does_not_stop_the_ones_after_it():
    """The outbox sends each event on its own: a refused one is logged and the
    next (a crisis card, a staff alert) still goes out."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("circle.77", channel)
    outbox = publish.outbox_for(asyncio.get_running_loop())
    outbox.put("not a valid group name!", Notice(code="x", message="lost"))
    outbox.put("circle.77", Notice(code="y", message="still sent"))
    await outbox.flushed()
    received = await asyncio.wait_for(layer.receive(channel), timeout=2)
    assert received["code"] == "y"
    await layer.group_discard("circle.77", channel)


def test_the_system_check_refuses_a_sqlite_without_returning():
    """Ids are taken with UPDATE … RETURNING: an older SQLite is named at start-up."""
    from chat.checks import sqlite_problems

    [error] = sqlite_problems("django.db.backends.sqlite3", (3, 34, 1))
    assert error.id == "chat.E001" and "3.34.1" in error.msg
    assert sqlite_problems("django.db.backends.sqlite3", (3, 35, 0)) == []
    assert sqlite_problems("django.db.backends.postgresql", (3, 7, 0)) == []
