"""The live room's records: messages (per-circle increasing ids), reactions, room
state, and each member's own place in the room (``Seat``)."""

from django.db import connection, models
from django.utils import timezone

from community.models import Circle, Membership
from moderation import verdicts


class RoomManager(models.Manager):
    def take_ids(self, circle_id: int, count: int, published_upto: int) -> tuple[int, int]:
        """Reserve the circle's next ``count`` message ids, of which the first
        ``published_upto`` end with a published one (0: none is published).

        One statement, which also locks the row until the transaction ends, so
        ids increase in commit order (the circle's first message creates the
        row first).  Returns the last id taken before and the last *published*
        id before.  Call inside a transaction.
        """
        row = self._take_ids(circle_id, count, published_upto)
        if row is None:
            self.get_or_create(circle_id=circle_id)
            row = self._take_ids(circle_id, count, published_upto)
        if row is None:
            raise RuntimeError(f"no room row for circle {circle_id}")
        return row[0] - count, row[1]

    def _take_ids(self, circle_id: int, count: int, published_upto: int) -> tuple[int, int] | None:
        with connection.cursor() as cursor:
            # Every right-hand side sees the row as it was (SQL, PostgreSQL and SQLite).
            # chat_room is this model's table (Django's default name, app + model).
            cursor.execute(
                "UPDATE chat_room SET prev_published_seq = last_published_seq,"
                " last_published_seq = CASE WHEN %s > 0 THEN last_seq + %s ELSE last_published_seq END,"
                " last_seq = last_seq + %s WHERE circle_id = %s RETURNING last_seq, prev_published_seq",
                [published_upto, published_upto, count, circle_id],
            )
            return cursor.fetchone()


class Room(models.Model):
    """Per-circle counters and the pin.  Its row is locked while messages take
    their ids (``Room.objects.take_ids``), so ids increase in commit order
    within a circle."""

    circle = models.OneToOneField(Circle, on_delete=models.CASCADE, related_name="room", primary_key=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_published_seq = models.PositiveBigIntegerField(default=0)
    prev_published_seq = models.PositiveBigIntegerField(
        default=0, help_text="last_published_seq before the latest take_ids (what its RETURNING reports)."
    )
    pinned = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = RoomManager()

    def __str__(self) -> str:
        return f"room of {self.circle_id}"


class Message(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HELD = "held", "Held for review"
        REMOVED = "removed", "Removed by a facilitator or moderator"
        DELETED = "deleted", "Deleted by its author"
        BLOCKED = "blocked", "Blocked, kept only for a safety case"

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField(help_text="Per-circle increasing id, the id clients see.")
    author = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="messages")
    alias = models.CharField(max_length=60, help_text="The author's alias when posting.")
    author_role = models.CharField(
        max_length=12,
        choices=Membership.Role.choices,
        default=Membership.Role.MEMBER,
        help_text="The author's role in the circle when posting (facilitators and moderators get a badge).",
    )
    client_id = models.CharField(max_length=64)
    body = models.TextField(help_text="Normalised source text.")
    html = models.TextField(help_text="Rendered, bleach-cleaned HTML.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    verdict = models.CharField(
        max_length=10, choices=verdicts.choices(verdicts.Verdict), default=verdicts.Verdict.PUBLISH.value
    )
    hidden = models.BooleanField(default=False, help_text="Hidden pending review after member reports.")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=200, blank=True)
    # A resource a facilitator shared into the room: the page shows it as a card.
    resource = models.ForeignKey(
        "library.ResourcePost", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # By column, not by relation: ordering by "circle" would join the circle
        # table and sort by its name on every lookup of the send path.
        ordering = ["circle_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "seq"], name="message_seq_unique_in_circle"),
            models.UniqueConstraint(fields=["author", "client_id"], name="message_client_id_unique"),
        ]
        indexes = [models.Index(fields=["circle", "status", "seq"], name="message_room_order")]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.circle_id} by {self.alias}"


class Reaction(models.Model):
    class Kind(models.TextChoices):
        HEART = "heart", "❤️ Heart"
        HUG = "hug", "🫂 Hug"
        THANKS = "thanks", "🙏 Thank you"
        SEEDLING = "seedling", "🌱 Growing"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "member", "kind"], name="one_reaction_of_a_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on message {self.message_id}"


class Seat(models.Model):
    """One member's own place in a circle's live room, shown to them alone: how
    far they have read (the "new since you were here" line, unread counts) and
    the aliases they chose not to read.  Created on first use."""

    MAX_HIDDEN = 200

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="seat", primary_key=True)
    last_read = models.PositiveBigIntegerField(default=0, help_text="The newest message id they have seen.")
    hidden = models.JSONField(
        default=list, blank=True, help_text="Aliases whose messages this member chose not to see (never told)."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"seat of {self.membership_id}"
