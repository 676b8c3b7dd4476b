"""Reads for people and places."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.errors import DomainError, ErrorCode

from .models import Circle, Membership, Notification


def circle_directory(user) -> QuerySet[Circle]:
    """Every circle with its active member count."""
    return Circle.objects.annotate(
        member_count=Count(
            "memberships",
            filter=Q(memberships__left_at__isnull=True, memberships__banned=False, memberships__user__isnull=False),
        )
    )


def my_memberships(user) -> dict[int, Membership]:
    if not user.is_authenticated:
        return {}
    return {m.circle_id: m for m in Membership.objects.filter(user=user, left_at__isnull=True, banned=False)}


def access_circle(slug: str) -> Circle:
    try:
        return circle_directory(None).get(slug=slug)
    except Circle.DoesNotExist:
        raise DomainError(ErrorCode.NOT_FOUND, "That circle does not exist.") from None


def memberships_of(user) -> list[Membership]:
    """The circles ``user`` takes part in now, each with their alias there."""
    return list(
        Membership.objects.filter(user=user, left_at__isnull=True, banned=False)
        .select_related("circle")
        .order_by("circle__name")
    )


@dataclass(frozen=True)
class HeaderFacts:
    unread: int  # unread notifications
    staff: bool  # facilitator or moderator of some circle (the review queue link)


def header_facts(user) -> HeaderFacts:
    """What the page header needs about the signed-in person, in one query."""
    staff_role = Membership.objects.filter(
        user=OuterRef("pk"), role__in=Membership.STAFF_ROLES, left_at__isnull=True, banned=False
    )
    unread = (
        Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(unread=Coalesce(Subquery(unread), 0), staff=Exists(staff_role))
        .values("unread", "staff")
        .first()
    )
    return HeaderFacts(unread=row["unread"], staff=row["staff"]) if row else HeaderFacts(0, False)
