"""Delete messages older than their circle's retention period.

Meant to run once a day (docs/operations.md lists it with the other scheduled
commands).  A message under an open moderation case is kept until the case is
decided; the next run after that deletes it.
"""

from django.core.management.base import BaseCommand

from chat.services import apply_retention


class Command(BaseCommand):
    help = "Delete messages older than each circle's retention period (not those under an open case)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **options):
        done = apply_retention(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        total = sum(done.values())
        self.stdout.write(f"retention: {verb} {total} message(s) in {len(done)} circle(s)")
        for slug, count in sorted(done.items()):
            self.stdout.write(f"  {slug}: {count}")
