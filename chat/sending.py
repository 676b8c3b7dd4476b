"""A circle's sends in this process, stored together (group commit).

Every ``send`` of a circle that arrives while the previous ones are being
stored waits for the next run, and a run stores them all in one transaction
(``realtime.batching.Batcher``, ``services.post_batch``).  One queue per circle
per process, kept on the hub's room.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.conf import settings

from core import health, metrics
from core.unavailable import unavailable_from
from realtime import publish
from realtime.batching import Batcher
from realtime.hub import Room

from . import services

SEND_BATCH = 64

_post_batch = database_sync_to_async(services.post_batch, thread_sensitive=False)


async def _run(requests: list[services.SendRequest]) -> list[services.PostResult | BaseException]:
    metrics.BATCH.observe(len(requests))
    try:
        answers = await _post_batch(requests)
    except Exception as exc:
        refusal = unavailable_from(exc)
        if refusal is None:
            raise
        raise refusal from None  # every send of the batch: "kept, sent again in a moment"
    health.succeeded("database")
    # Committed: the broadcast goes out before the acks.  A broadcast the channel
    # layer refuses is logged; the messages are stored, members repair the gap
    # from the next message's ``prev``, and the senders get their acks.
    await publish.flushed()
    return answers


def queue_of(room: Room) -> Batcher[services.SendRequest, services.PostResult]:
    """This circle's send queue in this process (made with its first send)."""
    if room.sends is None:
        room.sends = Batcher(_run, max_batch=SEND_BATCH, linger=settings.CHAT_SEND_LINGER_MS / 1000)
    return room.sends


async def submit(room: Room, request: services.SendRequest) -> services.PostResult:
    """Store ``request`` with whatever else the circle's queue gathered; its
    answer, or its refusal raised."""
    return await queue_of(room).submit(request)
