"""Raise again each crisis alert nobody acknowledged in time.

Once: ``manage.py escalate_crisis_alerts`` (from cron, every minute).  As a
process of its own: ``--loop`` (scripts/serve --processes runs it; every
``--interval`` seconds, 10 by default).  Safe to run in several places at once:
each flag is re-raised once (a conditional update)."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from core import health
from core.unavailable import DATABASE_DOWN
from moderation.services import escalate_overdue


class Command(BaseCommand):
    help = "Raise again, to every moderator, each crisis flag nobody acknowledged in time."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval seconds")
        parser.add_argument("--interval", type=float, default=10.0)

    def handle(self, *args, **options):
        if not options["loop"]:
            raised = escalate_overdue()
            self.stdout.write(f"re-alerted {len(raised)} flag(s)")
            return
        while True:
            close_old_connections()
            try:
                escalate_overdue()
                health.succeeded("database")
            except DATABASE_DOWN as exc:
                health.failed("database", exc)
            time.sleep(options["interval"])
