"""Moderation records: flags (the review queue), member reports, the audit log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Circle, Membership

from . import verdicts


class KeywordRule(models.Model):
    """A screening rule: data, editable by moderators; compiled per rule-set version."""

    class Kind(models.TextChoices):
        WORD = "word", "Word (whole words only)"
        PHRASE = "phrase", "Phrase"
        REGEX = "regex", "Regular expression"

    class Category(models.TextChoices):
        CRISIS = "crisis", "Crisis"
        SOURCING = "sourcing", "Sourcing"
        MEDICAL = "medical-advice", "Medical advice"
        HARASSMENT = "harassment", "Harassment"
        PERSONAL = "personal-info", "Personal info"
        SPAM = "spam", "Spam"

    ACTIONS = verdicts.choices(verdicts.RULE_ACTIONS)

    pattern = models.CharField(max_length=500)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WORD)
    category = models.CharField(max_length=20, choices=Category.choices)
    action = models.CharField(max_length=8, choices=ACTIONS, default=verdicts.Verdict.FLAG.value)
    circle = models.ForeignKey(
        Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="rules", help_text="Empty: every circle."
    )
    exempt = models.TextField(blank=True, help_text="Exempt phrases, one per line (known false positives).")
    enabled = models.BooleanField(default=True)
    shadow = models.BooleanField(
        default=False, help_text="Shadow mode: record what the rule would match, without acting."
    )
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="'default-pack' for rules from the shipped pack.")
    # Pack tracking (moderation/rulepack.py): which pack rule this row is, and the
    # pack version and content hash it was installed with, so a pack update never
    # overwrites a moderator's edit.
    pack_key = models.CharField(max_length=80, blank=True, db_index=True, help_text="The rule's identity in its pack.")
    pack_version = models.PositiveIntegerField(null=True, blank=True)
    pack_hash = models.CharField(
        max_length=64, blank=True, help_text="Content hash of the rule as the pack installed it."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["category", "pattern"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} '{self.pattern}' → {self.action}"

    @property
    def exempt_phrases(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.exempt.splitlines() if line.strip())

    def clean(self):
        from django.core.exceptions import ValidationError

        from .matcher import PatternError, validate

        try:
            validate(self.kind, self.pattern)
        except PatternError as err:
            raise ValidationError({"pattern": str(err)}) from None


class Flag(models.Model):
    """One review-queue item per piece of content (a chat message or a library
    resource post): rule hits, member reports and suggestions merge here.  The
    content is referenced by string foreign key and acted on through the hooks
    its app registers (``moderation.content``); exactly one is set."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Source(models.TextChoices):
        RULE = "rule", "Keyword rule"
        REPORT = "report", "Member report"
        SUGGESTION = "suggestion", "Member suggestion"

    class Resolution(models.TextChoices):
        APPROVE = "approve", "Approved"
        REMOVE = "remove", "Removed"
        WARN = "warn", "Warned"
        MUTE = "mute", "Muted"
        BAN = "ban", "Banned"
        DISMISS = "dismiss", "Dismissed"
        CHECKED_IN = "checked_in", "Checked in with the member"

    # Empty only for a site-wide resource post (site moderators review it).
    circle = models.ForeignKey(Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    message = models.OneToOneField("chat.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="flag")
    resource = models.OneToOneField(
        "library.ResourcePost", null=True, blank=True, on_delete=models.CASCADE, related_name="flag"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    rule = models.ForeignKey(KeywordRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    category = models.CharField(max_length=20, blank=True)
    matched = models.CharField(max_length=200, blank=True, help_text="The text the rule matched.")
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    report_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the unacknowledged alert was raised again."
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)

    class Meta:
        ordering = ["-urgent", "created_at"]
        indexes = [models.Index(fields=["status", "urgent", "created_at"], name="flag_queue_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=False, resource__isnull=True)
                | Q(message__isnull=True, resource__isnull=False),
                name="flag_about_one_content",
            ),
        ]

    def __str__(self) -> str:
        return f"flag on {self.content_kind} {self.message_id or self.resource_id} ({self.status})"

    @property
    def content_kind(self) -> str:
        """The kind of content the case is about: its hooks' name in ``moderation.content``."""
        return "message" if self.message_id is not None else "resource"

    @property
    def content(self):
        """The message or resource post the case is about."""
        return self.message if self.message_id is not None else self.resource


class Report(models.Model):
    """A member's report of a message.  The reporter is never shown to the author."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reports_made")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flag", "reporter"], name="one_report_per_member")]

    def __str__(self) -> str:
        return f"report on flag {self.flag_id}"


class RuleHit(models.Model):
    """A rule matched a message (shadow rules too): the base of hit counts and precision."""

    rule = models.ForeignKey(KeywordRule, on_delete=models.CASCADE, related_name="hits")
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="rule_hits"
    )
    resource = models.ForeignKey(
        "library.ResourcePost", null=True, blank=True, on_delete=models.CASCADE, related_name="rule_hits"
    )
    shadow = models.BooleanField(default=False)
    matched = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["rule", "-created_at"], name="rulehit_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=False, resource__isnull=True)
                | Q(message__isnull=True, resource__isnull=False),
                name="rulehit_about_one_content",
            ),
        ]

    def __str__(self) -> str:
        what = f"message {self.message_id}" if self.message_id else f"resource {self.resource_id}"
        return f"rule {self.rule_id} hit {what}"


def actor_label(actor, circle, actor_role: str, membership: Membership | None = None) -> str:
    """How staff see who acted: the actor's alias and member number in the circle
    (unlinkable across circles), else their role; never a handle.  Only the
    audited identity reveal shows who is behind an alias."""
    if actor is None:
        return "System"
    if membership is None and circle is not None:
        membership = Membership.objects.filter(user=actor, circle=circle).first()
    if membership is not None:
        return f"{membership.alias} ({membership.number})"
    return (actor_role or "staff").capitalize()


class AuditEntryQuerySet(models.QuerySet):
    """Append-only for queries too: no bulk rewrite, no bulk delete."""

    def update(self, **kwargs):
        raise ValueError("Audit entries are append-only.")

    def delete(self):
        raise ValueError("Audit entries are append-only.")


_AuditEntryBaseManager = models.Manager.from_queryset(AuditEntryQuerySet)


class AuditEntryManager(_AuditEntryBaseManager):
    def record(
        self,
        *,
        actor,
        action,
        circle=None,
        target_membership=None,
        target_message=None,
        reason="",
        actor_role="",
        actor_membership: Membership | None = None,
        **extra,
    ):
        """The only writer of the audit log.  Call inside the action's transaction.
        ``actor_membership``: the actor's membership of ``circle`` when the caller
        has it (saves a query)."""
        return self.create(
            actor=actor,
            actor_label=actor_label(actor, circle, actor_role, actor_membership),
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
        CHECKED_IN = "checked_in", "Checked in with a member"
        RULE_CHANGE = "rule_change", "Changed a keyword rule"
        ACK_CRISIS = "ack_crisis", "Acknowledged a crisis alert"
        REVEAL = "reveal", "Revealed the handle behind an alias"
        RESOURCE_PUBLISH = "resource_publish", "Published a library resource"
        RESOURCE_EDIT = "resource_edit", "Edited a library resource"
        RESOURCE_REMOVE = "resource_remove", "Removed a library resource"
        RESOURCE_VERIFY = "resource_verify", "Re-checked a library resource"
        RESOURCE_PIN = "resource_pin", "Pinned or unpinned a library resource"
        PLAYLIST_ATTACH = "playlist_attach", "Attached a playlist to a session"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(
        max_length=100, blank=True, help_text="What staff see of the actor: alias and number, or role."
    )
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    circle = models.ForeignKey(Circle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
