"""The seed_demo management command: one demo circle and four people, safe to run twice."""

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from community.apps import MODERATORS_GROUP
from community.models import Circle, Membership
from community.permissions import Action, can
from tests.community.helpers import is_alias

User = get_user_model()
LINE = re.compile(r"^\s+(\S+)\s+handle=(\S+)\s+password=(\S+)\s+alias=(.+)$")


def seed() -> dict[str, tuple[str, str, str]]:
    """Run seed_demo; return {handle: (role label, password, alias)} as printed."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    rows = {}
    for line in out.getvalue().splitlines():
        match = LINE.match(line)
        if match:
            role, handle, password, alias = match.groups()
            rows[handle] = (role, password, alias.strip())
    return rows


def test_seed_demo_creates_one_circle_with_facilitator_moderator_and_two_members(db):
    """seed_demo makes one circle with a facilitator, a moderator and two members, each with an alias."""
    seed()
    circle = Circle.objects.get()
    roles = sorted(Membership.objects.filter(circle=circle, left_at__isnull=True).values_list("role", flat=True))
    assert roles == ["facilitator", "member", "member", "moderator"]
    assert all(is_alias(m.alias) for m in Membership.objects.filter(circle=circle))
    assert circle.description


def test_seed_demo_prints_passwords_that_log_in(db):
    """Every printed handle and password logs in, and the printed alias is the stored one."""
    rows = seed()
    assert len(rows) == 4
    for handle, (_role, password, alias) in rows.items():
        assert Client().login(username=handle, password=password), handle
        assert Membership.objects.get(user__username=handle).alias == alias


def test_seed_demo_moderator_is_a_site_moderator(db):
    """The demo moderator is in the Moderators group and may review and ban in the circle."""
    rows = seed()
    [handle] = [h for h, (role, _, _) in rows.items() if role == "Moderator"]
    user = User.objects.get(username=handle)
    assert user.groups.filter(name=MODERATORS_GROUP).exists()
    circle = Circle.objects.get()
    assert can(user, Action.REVIEW, circle) and can(user, Action.BAN, circle)
    assert not can(user, Action.REVEAL_IDENTITY)


def test_seed_demo_twice_keeps_one_circle_and_the_same_aliases(db):
    """A second run keeps one circle and four memberships with the same aliases, and prints new working passwords."""
    first = seed()
    second = seed()
    assert Circle.objects.count() == 1
    assert Membership.objects.count() == 4
    assert User.objects.count() == 4
    assert {h: alias for h, (_, _, alias) in first.items()} == {h: alias for h, (_, _, alias) in second.items()}
    for handle, (_role, password, _alias) in second.items():
        assert Client().login(username=handle, password=password), handle


def test_seed_demo_quiet_passwords_hides_them(db):
    """With --quiet-passwords the passwords are masked in the output."""
    out = io.StringIO()
    call_command("seed_demo", "--quiet-passwords", stdout=out)
    assert out.getvalue().count("password=********") == 4
