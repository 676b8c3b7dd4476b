"""Seed a demo circle with a facilitator, a moderator and two members."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from community import services
from community.apps import MODERATORS_GROUP
from community.models import Circle, Membership

DEMO_SLUG = "evening-integration"
PEOPLE = (
    ("demo-facilitator", Membership.Role.FACILITATOR),
    ("demo-moderator", Membership.Role.MODERATOR),
    ("demo-member-1", Membership.Role.MEMBER),
    ("demo-member-2", Membership.Role.MEMBER),
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo circle and its four people; prints their passwords."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-passwords", action="store_true", help="Do not print passwords.")

    @transaction.atomic
    def handle(self, *args, **options):
        user_model = get_user_model()
        circle, _ = Circle.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": "Evening Integration Circle",
                "topic": "Gentle, open sharing after a session",
                "description": (
                    "A calm space to put words to what came up in your ketamine-assisted sessions. "
                    "Listen more than you advise; share only what feels right."
                ),
                "capacity": 40,
            },
        )
        lines = []
        for handle, role in PEOPLE:
            password = secrets.token_urlsafe(9)
            user = user_model.objects.filter(username=handle).first()
            if user is None:
                user = user_model.objects.create_user(username=handle, password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            if role == Membership.Role.MODERATOR:
                user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            membership = Membership.objects.filter(user=user, circle=circle, left_at__isnull=True).first()
            if membership is None:
                membership = services.join_circle(user=user, circle=circle)
            services.set_role(circle=circle, membership=membership, role=role)
            lines.append((handle, password, role.label, membership.alias))
        self.stdout.write(f"Demo circle: {circle.name} (/circles/{circle.slug}/)")
        for handle, password, role_label, alias in lines:
            shown = "********" if options["quiet_passwords"] else password
            self.stdout.write(f"  {role_label:<12} handle={handle:<18} password={shown:<14} alias={alias}")
