"""Moderation records: flags (the review queue), member reports, the audit log."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from community.models import Circle, Membership


class Flag(models.Model):
    """One review-queue item per message: rule hits and member reports merge here."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Source(models.TextChoices):
        RULE = "rule", "Keyword rule"
        REPORT = "report", "Member report"

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="flags")
    message = models.OneToOneField("chat.Message", on_delete=models.CASCADE, related_name="flag")
    source = models.CharField(max_length=8, choices=Source.choices)
    category = models.CharField(max_length=20, blank=True)
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    report_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolution = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-urgent", "created_at"]
        indexes = [models.Index(fields=["status", "urgent", "created_at"], name="flag_queue_order")]

    def __str__(self) -> str:
        return f"flag on message {self.message_id} ({self.status})"


class Report(models.Model):
    """A member's report of a message.  The reporter is never shown to the author."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reports_made")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flag", "reporter"], name="one_report_per_member")]


class AuditEntryManager(models.Manager):
    def record(self, *, actor, action, circle=None, target_membership=None, target_message=None, reason="", actor_role="", **extra):
        """The only writer of the audit log.  Call inside the action's transaction."""
        return self.create(
            actor=actor,
            actor_role=actor_role,
            action=action,
            circle=circle,
            target_membership=target_membership,
            target_message=target_message,
            reason=reason or "",
            extra=extra,
        )


class AuditEntry(models.Model):
    """Append-only: nothing in the app edits or deletes an entry."""

    class Action(models.TextChoices):
        PIN = "pin", "Pinned a message"
        UNPIN = "unpin", "Unpinned"
        SLOW_MODE = "slow_mode", "Set slow mode"
        MUTE = "mute", "Muted a member"
        CLOSE_ROOM = "close_room", "Closed the room"
        OPEN_ROOM = "open_room", "Reopened the room"
        REMOVE = "remove", "Removed a message"
        APPROVE = "approve", "Approved a message"
        WARN = "warn", "Warned a member"
        BAN = "ban", "Banned a member"
        DISMISS = "dismiss", "Dismissed a flag"
        RULE_CHANGE = "rule_change", "Changed a keyword rule"
        ACK_CRISIS = "ack_crisis", "Acknowledged a crisis alert"
        REVEAL = "reveal", "Revealed the handle behind an alias"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    circle = models.ForeignKey(Circle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_message = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)

    objects = AuditEntryManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")
