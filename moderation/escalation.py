"""Re-alerting unacknowledged crisis flags, from inside each Daphne process.

Every process that serves a moderator socket runs one loop; the conditional
update in ``services.escalate_overdue`` makes each flag re-raised once however
many processes run it.  ``manage.py escalate_crisis_alerts`` does the same from
cron for deployments where no moderator page is open.
"""

import asyncio
import logging

from channels.db import database_sync_to_async

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0
_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


async def _loop() -> None:
    from . import services

    while True:
        try:
            await database_sync_to_async(services.escalate_overdue)()
        except Exception:
            log.exception("crisis escalation check failed")
        await asyncio.sleep(INTERVAL_SECONDS)


def ensure_running() -> None:
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_loop())
