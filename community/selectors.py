"""Reads for people and places."""

from django.db.models import Count, Q, QuerySet

from core.errors import DomainError, ErrorCode

from .models import Circle, Membership


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
