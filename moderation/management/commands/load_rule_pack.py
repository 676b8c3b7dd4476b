"""Install or refresh the shipped keyword-rule pack (moderation/rulepacks/)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from moderation.models import KeywordRule
from moderation.services import save_rule

PACK_DIR = Path(__file__).resolve().parent.parent.parent / "rulepacks"


def load_pack(name: str = "default") -> tuple[int, int]:
    """Create the pack's rules that are missing; leave rules moderators changed
    alone.  Returns (created, unchanged)."""
    entries = json.loads((PACK_DIR / f"{name}.json").read_text())
    if isinstance(entries, dict):
        entries = entries["rules"]
    created = unchanged = 0
    with transaction.atomic():
        for entry in entries:
            exists = KeywordRule.objects.filter(
                pattern=entry["pattern"], kind=entry["kind"], circle__isnull=True, source=f"{name}-pack"
            ).exists()
            if exists:
                unchanged += 1
                continue
            rule = KeywordRule(source=f"{name}-pack")
            save_rule(
                user=None,
                rule=rule,
                pattern=entry["pattern"],
                kind=entry["kind"],
                category=entry["category"],
                action=entry["action"],
                exempt="\n".join(entry.get("exempt", [])),
                note=entry.get("note", "")[:300],
                enabled=entry.get("enabled", True),
                shadow=entry.get("shadow", False),
            )
            created += 1
    return created, unchanged


class Command(BaseCommand):
    help = "Install the default keyword-rule pack (existing pack rules are left as moderators set them)."

    def add_arguments(self, parser):
        parser.add_argument("--pack", default="default")

    def handle(self, *args, **options):
        created, unchanged = load_pack(options["pack"])
        self.stdout.write(f"rule pack '{options['pack']}': {created} created, {unchanged} already present")
