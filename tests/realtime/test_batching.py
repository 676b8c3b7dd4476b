"""The batcher (realtime.batching) beyond tests/chat/test_batching.py: a failed run
strands nothing queued behind it, and a queue that went idle starts afresh."""

import asyncio

import pytest

from realtime.batching import Batcher


async def test_a_failed_run_does_not_strand_the_items_queued_behind_it():
    """Items that arrived while a run was failing are run next, by the same worker,
    without waiting for another submit."""
    gate = asyncio.Event()
    batches: list[list[int]] = []

    async def run(items):
        batches.append(list(items))
        await gate.wait()
        if items == [1]:
            raise RuntimeError("database went away")
        return [item * 10 for item in items]

    batcher = Batcher(run, max_batch=10)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    behind = [asyncio.ensure_future(batcher.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0.01)
    gate.set()
    with pytest.raises(RuntimeError, match="went away"):
        await first
    assert await asyncio.wait_for(asyncio.gather(*behind), timeout=1) == [20, 30]
    assert batches == [[1], [2, 3]]


async def test_a_queue_that_went_idle_runs_its_next_item_at_once():
    """Linger applies to a run that follows another directly: after the queue has
    drained, the next lone item runs at once, as the very first did."""
    ran: list[list[int]] = []

    async def run(items):
        ran.append(list(items))
        return items

    batcher = Batcher(run, max_batch=10, linger=0.5)
    assert await asyncio.wait_for(batcher.submit(1), timeout=0.4) == 1
    await asyncio.sleep(0.01)
    assert batcher.worker is None  # idle
    assert await asyncio.wait_for(batcher.submit(2), timeout=0.4) == 2
    assert (ran, batcher.runs) == ([[1], [2]], 2)
