"""The channel layer on Redis: channels-redis's pub/sub layer, with a room's
subscription no longer queued behind the process's broadcasts.

channels-redis keeps one connection set per Redis host per process and one
lock for everything on it: each broadcast (``group_send``: a Redis PUBLISH,
which waits for its reply) and each subscription (``new_channel`` and
``group_add``: a SUBSCRIBE, which does not).  At a session's start a circle's
first member on a process waits for two subscriptions; behind that one lock
they waited for every broadcast queued before them (presence announcements,
messages), one event-loop turn each: a member's wait between the handshake and
``hello`` reached seconds (bench/README.md, the session-start storm).

Here broadcasts keep a lock of their own, so they still leave in the order they
were made; subscriptions keep channels-redis's lock, one SUBSCRIBE at a time on
the subscriber connection, and the ones asked for while one is being sent go
together in the next (one lock turn for many rooms, not one each); neither
waits for the other.
Closing the connections (``flush``) takes both.  Everything else is
channels-redis's, pinned in requirements.txt (this reaches two of its inner
classes; ``tests/realtime/test_layer.py`` runs it against a real Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)


class _Shard(RedisSingleShardConnection):
    """One Redis host's connections: broadcasts in order, and subscriptions
    gathered into one SUBSCRIBE while the one before is being sent; neither
    waits for the other."""

    def __init__(self, host: Any, channel_layer: RedisPubSubLoopLayer) -> None:
        super().__init__(host, channel_layer)
        self._publishing = asyncio.Lock()
        self._wanted: dict[str, asyncio.Future[None]] = {}  # the next SUBSCRIBE's channels
        self._sending: set[asyncio.Future[None]] = set()

    async def publish(self, channel: str, message: bytes) -> None:
        async with self._publishing:
            self._ensure_redis()  # no await inside: nothing runs between check and set
            await self._redis.publish(channel, message)

    async def subscribe(self, channel: str) -> None:
        if channel in self._subscribed_to:
            return
        done = self._wanted.get(channel)
        if done is None:
            done = self._wanted[channel] = asyncio.get_running_loop().create_future()
            if len(self._wanted) == 1:  # a new batch: it leaves once the one before has
                task = asyncio.ensure_future(self._subscribe_wanted())
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        await asyncio.shield(done)  # a caller that gives up does not cancel the others' wait

    async def _subscribe_wanted(self) -> None:
        batch: dict[str, asyncio.Future[None]] = {}
        try:
            async with self._lock:
                batch, self._wanted = self._wanted, {}
                channels = [channel for channel in batch if channel not in self._subscribed_to]
                if channels:
                    self._ensure_redis()
                    self._ensure_receiver()
                    await self._pubsub.subscribe(*channels)
                    self._subscribed_to.update(channels)
        except BaseException as exc:
            if not batch:  # stopped before taking its batch: no later one would take it
                batch, self._wanted = self._wanted, {}
            failed = exc if isinstance(exc, Exception) else ConnectionError("the subscription was interrupted")
            for done in batch.values():
                if not done.done():
                    done.set_exception(failed)
            if failed is not exc:
                raise
        else:
            for done in batch.values():
                if not done.done():
                    done.set_result(None)

    async def unsubscribe(self, channel: str) -> None:
        waiting = self._wanted.get(channel)
        if waiting is not None:  # its SUBSCRIBE leaves first, then this undoes it
            with contextlib.suppress(Exception):
                await asyncio.shield(waiting)
        async with self._lock:
            if channel in self._subscribed_to:
                # Forgotten before the UNSUBSCRIBE is sent: a subscribe meanwhile
                # (the group's next first member) sends its own after it.
                self._subscribed_to.discard(channel)
                self._ensure_redis()
                self._ensure_receiver()
                await self._pubsub.unsubscribe(channel)

    async def flush(self) -> None:
        async with self._publishing:
            await super().flush()


class _LoopLayer(RedisPubSubLoopLayer):
    _shards: list[RedisSingleShardConnection]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with ``_Shard``s."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
