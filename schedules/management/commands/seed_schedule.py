"""Give the demo circle a schedule: a weekly evening session, and one that opens
in a few minutes (so a newcomer sees the live window open)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from community.management.commands.seed_demo import DEMO_SLUG
from community.models import Circle, Membership
from schedules import services
from schedules.models import SessionSeries
from schedules.recurrence import WEEKDAYS

WEEKLY = "Evening integration circle"
SOON = "Drop-in check-in"


class Command(BaseCommand):
    help = "Schedule sessions in the demo circle (run after seed_demo; adds nothing twice)."

    def handle(self, *args, **options) -> None:
        circle = Circle.objects.filter(slug=DEMO_SLUG).first()
        guide = Membership.objects.filter(circle=circle, role=Membership.Role.FACILITATOR, user__isnull=False).first()
        if circle is None or guide is None or guide.user is None:
            raise CommandError("Run seed_demo first: there is no demo circle with a facilitator.")
        user = guide.user
        have = set(SessionSeries.objects.filter(circle=circle).values_list("title", flat=True))
        now = timezone.localtime(timezone.now(), timezone.get_default_timezone()).replace(tzinfo=None)
        zone = str(timezone.get_default_timezone())
        made = 0
        if WEEKLY not in have:
            evening = (now + timedelta(days=1)).replace(hour=19, minute=0, second=0, microsecond=0)
            services.create_series(
                user=user,
                circle=circle,
                title=WEEKLY,
                start_local=evening,
                time_zone=zone,
                duration_minutes=75,
                weekdays=(WEEKDAYS[evening.weekday()],),
                count=12,
            )
            made += 1
        if SOON not in have:
            soon = (now + timedelta(minutes=20)).replace(second=0, microsecond=0)
            services.create_series(
                user=user, circle=circle, title=SOON, start_local=soon, time_zone=zone, duration_minutes=30
            )
            made += 1
        self.stdout.write(f"Demo schedule: {made} series added in {circle.name}.")
