"""Install or update a shipped keyword-rule pack (moderation/rulepacks/).

The same code path as the data migrations (``moderation.rulepack.sync_pack``):
new pack rules are created, rules nobody edited are brought up to the pack,
rules that left the pack are switched off, and a moderator's edit is never
overwritten.  ``migrate`` already installs the default pack; this command is
for re-running the sync by hand or loading another pack.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from moderation import rulepack, screening
from moderation.models import AuditEntry, KeywordRule


def load_pack(name: str = "default") -> rulepack.SyncReport:
    with transaction.atomic():
        report = rulepack.sync_pack(KeywordRule, rulepack.read_pack(name), audit_model=AuditEntry)
        if report.changed:
            screening.rules_changed()  # every process recompiles, on commit
    return report


class Command(BaseCommand):
    help = "Install or update a keyword-rule pack (rules moderators edited are left as they are)."

    def add_arguments(self, parser):
        parser.add_argument("--pack", default="default")

    def handle(self, *args, **options):
        report = load_pack(options["pack"])
        self.stdout.write(report.summary())
