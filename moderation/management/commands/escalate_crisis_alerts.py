from django.core.management.base import BaseCommand

from moderation.services import escalate_overdue


class Command(BaseCommand):
    help = "Raise again, to every moderator, each crisis flag nobody acknowledged in time."

    def handle(self, *args, **options):
        raised = escalate_overdue()
        self.stdout.write(f"re-alerted {len(raised)} flag(s)")
