"""The library: resource posts (with a playlist's tracks and a worksheet's
prompts), and each member's private tools (filled-in worksheets, journal
entries, voice notes).

Resource posts are community content: screened like chat messages, reviewed
in the moderation queue, shown by alias or role label.  The private tools are
their owner's alone: no admin, no staff page, no screening record, no log line
(``__str__`` never carries what was written), nothing in any export but the
owner's own.  docs/library.md says what is private and how.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from community.models import Circle, Membership
from moderation import verdicts


class Kind(models.TextChoices):
    PLAYLIST = "playlist", "Playlist"
    WORKSHEET = "worksheet", "Intention worksheet"
    JOURNALING = "journaling", "Journaling prompts"
    BREATHWORK = "breathwork", "Breathwork"
    MEDITATION = "meditation", "Meditation"
    CREATIVE = "creative", "Creative expression"
    MOVEMENT = "movement", "Movement"
    READING = "reading", "Reading"
    CRISIS_LINE = "crisis_line", "Crisis line"


# Integration practices: one group of kinds in filters and menus.
PRACTICES = (Kind.BREATHWORK, Kind.MEDITATION, Kind.CREATIVE, Kind.MOVEMENT)
# Kinds that carry prompts (a worksheet's questions, journaling prompts).
PROMPTED = (Kind.WORKSHEET, Kind.JOURNALING)


class Phase(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    SESSION = "session", "The session itself"
    INTEGRATION = "integration", "Integration and aftercare"
    ANY = "any", "Any time"


class ResourcePost(models.Model):
    """One resource in a circle's library, or in the site-wide library (no circle)."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Waiting for a moderator"
        REMOVED = "removed", "Removed"

    circle = models.ForeignKey(
        Circle, null=True, blank=True, on_delete=models.CASCADE, related_name="resources", help_text="Empty: site-wide."
    )
    title = models.CharField(max_length=120)
    body = models.TextField(help_text="Normalised Markdown-subset source.")
    html = models.TextField(help_text="Rendered, bleach-cleaned HTML.")
    link = models.CharField(max_length=500, blank=True, help_text="An optional http(s) link.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    phase = models.CharField(max_length=12, choices=Phase.choices)
    mood = models.CharField(max_length=200, blank=True, help_text="A playlist's mood and when to use it.")
    # Who posted it, as readers see them: the alias in the circle, or a role
    # label for a site-wide post by a site moderator; never a handle.
    author = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    author_label = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    verdict = models.CharField(
        max_length=10, choices=verdicts.choices(verdicts.Verdict), default=verdicts.Verdict.PUBLISH.value
    )
    suggested = models.BooleanField(default=False, help_text="Posted by a member, published after review.")
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(default=timezone.now)
    verified_by_label = models.CharField(max_length=60, help_text="An alias or a role label, never a handle.")
    removed_at = models.DateTimeField(null=True, blank=True)
    starter_key = models.CharField(
        max_length=40, blank=True, db_index=True, help_text="The starter library's key for the posts it seeded."
    )

    class Meta:
        ordering = ["-pinned", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["circle", "status", "kind", "phase"], name="resource_listing"),
            models.Index(fields=["status", "verified_at"], name="resource_recheck"),
        ]

    def __str__(self) -> str:
        return f"resource {self.pk} ({self.kind})"

    def get_absolute_url(self) -> str:
        return reverse("library:resource", kwargs={"pk": self.pk})

    @property
    def is_practice(self) -> bool:
        return self.kind in PRACTICES

    @property
    def total_seconds(self) -> int:
        return sum(t.seconds for t in self.tracks.all())


class Track(models.Model):
    """One track of a playlist, in order.  No audio is hosted: a title, an artist,
    a length and an optional link to where it is published."""

    resource = models.ForeignKey(ResourcePost, on_delete=models.CASCADE, related_name="tracks")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    artist = models.CharField(max_length=200, blank=True)
    seconds = models.PositiveIntegerField()
    link = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["resource_id", "position"]
        constraints = [models.UniqueConstraint(fields=["resource", "position"], name="track_position_unique")]

    def __str__(self) -> str:
        return f"track {self.position} of {self.resource_id}"


class Prompt(models.Model):
    """One prompt of a worksheet or a set of journaling prompts, in order."""

    resource = models.ForeignKey(ResourcePost, on_delete=models.CASCADE, related_name="prompts")
    position = models.PositiveIntegerField()
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["resource_id", "position"]
        constraints = [models.UniqueConstraint(fields=["resource", "position"], name="prompt_position_unique")]

    def __str__(self) -> str:
        return f"prompt {self.position} of {self.resource_id}"


class SessionPlaylist(models.Model):
    """A playlist a facilitator attached to a scheduled session, so members can
    prepare with it.  ``occurrence_id`` names a ``community`` schedule occurrence
    (loosely: the schedule is resolved through ``library.schedule_links``)."""

    resource = models.ForeignKey(ResourcePost, on_delete=models.CASCADE, related_name="session_links")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    occurrence_id = models.PositiveBigIntegerField()
    attached_by_label = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["occurrence_id", "resource"], name="playlist_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"playlist {self.resource_id} for session {self.occurrence_id}"


# --- private tools: their owner's alone ------------------------------------------------


class FilledWorksheet(models.Model):
    """A member's private copy of an intention worksheet, filled in.  The prompts
    are copied with the answers, so the copy stays whole if the worksheet
    resource changes or is removed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(ResourcePost, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=120)
    answers = models.JSONField(default=list, help_text='[{"prompt": …, "answer": …}, …]')
    # Loose links to the schedule (library.schedule_links resolves them).
    occurrence_id = models.PositiveBigIntegerField(null=True, blank=True)
    treatment_date_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return "filled worksheet"  # never what was written: a stray log line must not carry it


class JournalEntry(models.Model):
    """A member's private journal entry (Markdown subset), with tags and optional
    links to one of their worksheets, a session or a treatment date."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    tags = models.JSONField(default=list)
    worksheet = models.ForeignKey(FilledWorksheet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurrence_id = models.PositiveBigIntegerField(null=True, blank=True)
    treatment_date_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="journal_timeline")]

    def __str__(self) -> str:
        return "journal entry"  # never what was written


class VoiceNote(models.Model):
    """A short recording on a journal entry, stored under the private data
    folder (never a static or media path) by a random name; served to its owner
    alone.  The file goes when the row goes (``library.voice``)."""

    entry = models.OneToOneField(JournalEntry, on_delete=models.CASCADE, related_name="voice")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    storage_name = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="voice_note_not_empty")]

    def __str__(self) -> str:
        return "voice note"
