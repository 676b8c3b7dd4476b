"""Open and close rooms on time, send reminders and check-ins (docs/schedules.md)."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from schedules import scheduler

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the session scheduler: a pass every SCHEDULER_INTERVAL_SECONDS (or one pass with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=None, help="Seconds between passes.")

    def handle(self, *args, once=False, interval=None, **options):
        interval = interval if interval is not None else settings.SCHEDULER_INTERVAL_SECONDS
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            try:
                done = scheduler.run_once()
            except Exception:
                if once:
                    raise
                log.exception("scheduler pass failed; trying again")
            else:
                if done.opened or done.closed or done.reminded or done.checkins:
                    log.info(
                        "scheduler: opened %s, closed %s, reminded %s, check-ins %s",
                        done.opened,
                        done.closed,
                        done.reminded,
                        done.checkins,
                    )
                if once:
                    self.stdout.write(
                        f"made {done.made}, opened {len(done.opened)}, closed {len(done.closed)}, "
                        f"reminded {len(done.reminded)}, check-ins {len(done.checkins)}"
                    )
                    return
            close_old_connections()  # a long-lived process: no connection outlives its welcome
            if stop.wait(interval):
                return
