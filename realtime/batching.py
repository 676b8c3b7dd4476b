"""Group commit: one worker runs everything that queued up while it was busy.

The live room stores every message before broadcasting it, and a database
transaction (its statements, its commit, the hop into a worker thread) costs
far more than the message itself.  A ``Batcher`` runs the first item at once,
alone; the items that arrive while that runs wait and go together in the next
run, up to ``max_batch``.  Under no load nothing waits; under load each run
carries many items, so the fixed cost per run is shared.  A run that follows
another one directly first waits ``linger`` seconds for more items: a few
milliseconds more per message under load, and on our 2-core machine fewer,
larger transactions and about 40 % more messages per second at 100 members
(bench/README.md).

The batcher knows nothing of messages: ``run`` takes the list of items and
returns one answer per item, in order (an answer may be an exception instance,
which is raised to that item's caller alone).  One ``Batcher`` per circle per
process (``realtime.hub.Room.sends``), on the process's event loop; one run at a
time, so the items of one process reach the database in the order they came.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from core.errors import DomainError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class Batcher(Generic[Item, Answer]):
    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[list[Answer | BaseException]]],
        *,
        max_batch: int,
        linger: float = 0.0,
    ) -> None:
        self.run = run
        self.max_batch = max_batch
        self.linger = linger
        self.waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self.worker: asyncio.Task[None] | None = None
        self.runs = 0  # counters, for tests and the curious
        self.items = 0

    async def submit(self, item: Item) -> Answer:
        """Queue ``item``; return its answer (or raise its exception) once its run ends."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        if self.worker is None:
            self.worker = asyncio.ensure_future(self._work())
        # The caller going away (a socket closing) must not cancel the run: the
        # item is stored or refused all the same, and a retry finds it.
        return await asyncio.shield(future)

    async def drained(self) -> None:
        """Wait until everything submitted so far has run (the worker runs until
        the queue is empty)."""
        while self.worker is not None:
            await asyncio.shield(self.worker)

    async def _work(self) -> None:
        try:
            first = True
            while self.waiting:
                if not first and self.linger:
                    await asyncio.sleep(self.linger)  # under load: gather a little longer
                first = False
                batch, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
                self.runs += 1
                self.items += len(batch)
                answers: list[Answer | BaseException]
                try:
                    answers = await self.run([item for item, _ in batch])
                    if len(answers) != len(batch):
                        raise RuntimeError(f"batch run gave {len(answers)} answers for {len(batch)} items")
                except asyncio.CancelledError:
                    # The loop is stopping: nobody waits forever for this run.
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(RuntimeError("the queue stopped before this item ran"))
                    raise
                except Exception as exc:  # every caller of this run hears of it
                    if not isinstance(exc, DomainError):  # a refusal for all is no fault here
                        log.exception("batch run failed")
                    answers = [exc] * len(batch)
                for (_, future), answer in zip(batch, answers, strict=True):
                    if future.done():
                        continue
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        finally:
            # In the same step that found the queue empty: the next submit()
            # starts a new worker.
            self.worker = None
