"""People and places: circles and the memberships that give each person an alias."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U


def new_member_number() -> str:
    """M-XXXX-XXXX from a 30-letter alphabet: about 39 bits, drawn by ``secrets``."""
    chars = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"M-{chars[:4]}-{chars[4:]}"


class Circle(models.Model):
    class Access(models.TextChoices):
        OPEN = "open", "Open to every member"
        INVITE = "invite", "Invite code required"

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    topic = models.CharField(max_length=120, blank=True)
    capacity = models.PositiveIntegerField(default=50)
    access = models.CharField(max_length=8, choices=Access.choices, default=Access.OPEN)
    invite_code = models.CharField(max_length=40, blank=True)
    open_between_sessions = models.BooleanField(
        default=True, help_text="Whether the live room is open outside scheduled sessions."
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Messages older than this many days are deleted by `manage.py apply_retention` "
        "(except those under an open moderation case). Empty: kept.",
    )
    # Live-room controls, changed by facilitators (chat.services).
    room_closed = models.BooleanField(default=False)
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(access="invite") | ~Q(invite_code=""),
                name="invite_circle_has_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("community:circle", kwargs={"slug": self.slug})


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        FACILITATOR = "facilitator", "Facilitator"
        MODERATOR = "moderator", "Moderator"

    # Roles that run a room: exempt from slow mode, may post while it is closed,
    # cannot be muted by a facilitator, and see crisis alerts in the room.
    STAFF_ROLES = (Role.FACILITATOR, Role.MODERATOR)

    # Null once the account is deleted: the row stays so the alias is never reused
    # in this circle and the moderation history keeps its opaque member number.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.MEMBER)
    alias = models.CharField(max_length=60)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    banned = models.BooleanField(default=False)
    banned_at = models.DateTimeField(null=True, blank=True)
    has_posted = models.BooleanField(default=False)
    # Random and unguessable, one per membership (kept when a member leaves and
    # rejoins the same circle: see docs/moderation.md, "What staff can link").
    number = models.CharField(max_length=16, unique=True, default=new_member_number, editable=False)

    class Meta:
        ordering = ["circle_id", "joined_at"]  # by column: no join on hot lookups
        constraints = [
            models.UniqueConstraint(fields=["circle", "alias"], name="alias_unique_in_circle"),
            models.UniqueConstraint(fields=["user", "circle"], name="one_membership_per_circle"),
        ]
        permissions = [
            ("moderate_circles", "Can moderate every circle"),
            ("manage_rules", "Can change keyword rules"),
            ("view_audit", "Can read the audit log"),
            ("reveal_identity", "Can see the handle behind an alias (with a reason)"),
        ]

    def __str__(self) -> str:
        return f"{self.alias} in {self.circle_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None and not self.banned and self.user_id is not None

    def is_muted(self, now=None) -> bool:
        return self.muted_until is not None and self.muted_until > (now or timezone.now())

    @property
    def member_number(self) -> str:
        """Opaque number moderators use instead of the handle: random per
        membership, so it tells nothing about the person's other circles or
        when they joined."""
        return self.number


class Notification(models.Model):
    """An in-app notice for one account: a report decided, a session reminder, a
    check-in waiting.  Shown in the notification list (unread count in the
    header); a connected member also gets it live.  Texts are neutral: they name
    no other member and nothing of what was said."""

    class Kind(models.TextChoices):
        REPORT_DECIDED = "report_decided", "A report you made was decided"
        REMINDER = "reminder", "Session reminder"
        STARTING = "starting", "Session starting"
        CHECK_IN = "check_in", "Check-in after a session"
        WAITLIST = "waitlist", "A seat freed up"
        FOLLOW_UP = "follow_up", "A member may need a follow-up"
        NOTICE = "notice", "Notice"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True, help_text="A path on this site.")
    circle = models.ForeignKey(Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(
        max_length=80, blank=True, help_text="Idempotency: one notification per (user, key), e.g. reminder:42."
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="one_notification_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class RecoveryCode(models.Model):
    """One of an account's recovery codes: with no e-mail on file, the only way
    back in after a forgotten password.  Shown once, when made; kept as its first
    group in clear (``selector``, to find the row without trying every hash) and
    a password hash of the rest.  Spent on use."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    selector = models.CharField(max_length=8)
    code_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)
    saved_at = models.DateTimeField(null=True, blank=True, help_text="When the member said they had saved them.")
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "selector"], name="recovery_selector_unique")]

    def __str__(self) -> str:
        return f"recovery code {self.selector}… of {self.user_id}"


class AccountSession(models.Model):
    """A session an account is signed in with, so its owner can see and end them
    from the account page.  Holds no address and nothing about the device; it
    goes when the session goes (sign-out, expiry, ``clearsessions``)."""

    session = models.OneToOneField(
        "sessions.Session", on_delete=models.CASCADE, primary_key=True, related_name="account_session"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    stay_signed_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session of {self.user_id}"
