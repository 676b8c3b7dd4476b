"""Writes for resource posts: post (publish or suggest), edit, remove, re-check,
pin, attach a playlist to a session.

Every post and every edit takes the one screening path chat messages take
(``moderation.screening.screen`` then ``record_screening`` in the same
transaction).  Facilitators (in their circles) and moderators publish at once,
unless screening holds the text; a member's post is a suggestion and waits in
the moderation queue, as does a member's edit.  Every refusal is a
``DomainError`` raised before anything is written.  Staff actions write their
audit entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from community.models import Circle, Membership
from community.permissions import Action, can, check, check_member, is_site_moderator, membership_for
from core.errors import DomainError, ErrorCode
from moderation import screening
from moderation import services as moderation_services
from moderation.models import AuditEntry, Flag
from moderation.verdicts import Outcome, Risk

from . import schedule_links, selectors, text
from .models import PROMPTED, Kind, Phase, Prompt, ResourcePost, SessionPlaylist, Track

SITE_LABEL = "Site moderator"
FORMER_MEMBER = "Former member"
REDACT_REASON = (
    "This post seems to include personal contact details (a phone number, an e-mail or street address, "
    "or a handle). The library cannot show them; please take them out."
)


@dataclass(frozen=True)
class ResourceInput:
    """What the form sends, unchecked."""

    title: str = ""
    body: str = ""
    link: str = ""
    kind: str = ""
    phase: str = ""
    mood: str = ""
    tracks: str = ""
    prompts: str = ""


@dataclass(frozen=True)
class _Clean:
    title: str
    body: str
    html: str
    link: str
    kind: str
    phase: str
    mood: str
    tracks: list[text.TrackIn]
    prompts: list[str]

    def screened_text(self) -> str:
        """Everything a reader will see, as one text for screening."""
        parts = [self.title, self.body, self.link, self.mood]
        parts += [f"{t.title} {t.artist} {t.link}" for t in self.tracks]
        parts += self.prompts
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Saved:
    """The answer to a post or an edit: the resource, what the author is told
    (``published`` or ``pending``), and the care tier when the text read as a
    crisis or a concern (the page then offers the help lines, privately)."""

    resource: ResourcePost
    outcome: str
    care: str = ""


def clean_input(data: ResourceInput) -> _Clean:
    """Check every field; the first refusal is raised (with its ``field``)."""
    if data.kind not in Kind.values:
        raise DomainError(ErrorCode.INVALID, "Choose what kind of resource this is.", field="kind")
    if data.phase not in Phase.values:
        raise DomainError(ErrorCode.INVALID, "Choose the phase it is for.", field="phase")
    title = text.line(data.title, field="title", label="The title", max_len=text.TITLE_MAX)
    body = text.body(data.body, field="body", label="The description")
    link = text.link(data.link, field="link", required=data.kind == Kind.CRISIS_LINE and not body)
    mood = text.line(data.mood, field="mood", label="The mood note", max_len=text.MOOD_MAX, required=False)
    tracks = text.tracks(data.tracks) if data.kind == Kind.PLAYLIST else []
    prompts = text.prompts(data.prompts) if data.kind in PROMPTED else []
    if data.kind == Kind.PLAYLIST and not tracks:
        raise DomainError(ErrorCode.INVALID, "A playlist needs at least one track.", field="tracks")
    if data.kind == Kind.WORKSHEET and not prompts:
        raise DomainError(ErrorCode.INVALID, "A worksheet needs at least one prompt.", field="prompts")
    return _Clean(title, body, text.render(body), link, data.kind, data.phase, mood, tracks, prompts)


def _screen(circle_id: int | None, clean: _Clean) -> screening.Screened:
    """The one screening path; a text it refuses, or one it would have to cut
    (redact), is refused here, before anything is stored."""
    screened = screening.screen(circle_id, clean.screened_text())
    if not screened.decision.stored:
        raise DomainError(ErrorCode.BLOCKED, screened.reason or screening.DEFAULT_BLOCK_REASON)
    if screened.decision.redact:
        raise DomainError(ErrorCode.BLOCKED, REDACT_REASON)
    return screened


def _care(screened: screening.Screened, actor: _Actor) -> str:
    """The help lines are offered to a member whose own words read as a crisis or
    a concern; staff writing about a crisis line are not "in crisis"."""
    risk = screened.decision.risk
    return str(risk.value) if isinstance(risk, Risk) and not actor.publishes else ""


def label_for(user, membership: Membership | None) -> str:
    """How readers see who posted or re-checked: the alias in the circle, else a
    role label.  Never a handle."""
    if membership is not None and membership.is_active:
        return membership.alias
    if is_site_moderator(user):
        return SITE_LABEL
    return "Staff"


@dataclass(frozen=True)
class _Actor:
    membership: Membership | None
    publishes: bool  # publishes at once (else: a suggestion)
    label: str
    role: str


def _actor_in(user, circle: Circle | None) -> _Actor:
    """Who ``user`` is for a post in ``circle`` (None: the site-wide library)."""
    if circle is None:
        check(user, Action.CURATE_LIBRARY)
        return _Actor(None, True, SITE_LABEL, "site moderator")
    membership = membership_for(user, circle)
    if can(user, Action.PUBLISH_RESOURCE, circle, membership):
        active = membership if membership is not None and membership.is_active else None
        role = active.role if active is not None else "site moderator"
        return _Actor(active, True, label_for(user, active), str(role))
    member = check_member(user, Action.SUGGEST_RESOURCE, circle, membership)  # NOT_MEMBER, BANNED, MUTED …
    return _Actor(member, False, member.alias, str(member.role))


def _write_parts(resource: ResourcePost, clean: _Clean) -> None:
    resource.tracks.all().delete()
    resource.prompts.all().delete()
    Track.objects.bulk_create(
        Track(resource=resource, position=n, title=t.title, artist=t.artist, seconds=t.seconds, link=t.link)
        for n, t in enumerate(clean.tracks, 1)
    )
    Prompt.objects.bulk_create(Prompt(resource=resource, position=n, text=p) for n, p in enumerate(clean.prompts, 1))


def _audit(user, actor: _Actor, action: str, resource: ResourcePost, reason: str = "", **extra) -> None:
    AuditEntry.objects.record(
        actor=user,
        actor_role=actor.role,
        actor_membership=actor.membership,
        action=action,
        circle=resource.circle,
        reason=reason,
        resource=resource.pk,
        **extra,
    )


def post_resource(*, user, circle: Circle | None, data: ResourceInput) -> Saved:
    """Post a resource to ``circle``'s library (None: the site-wide library).

    Facilitators and moderators publish (held for review when screening says
    so); members suggest: the post waits in the moderation queue.  Refusals:
    FORBIDDEN (the site-wide library is the site moderators'), NOT_MEMBER (not
    in that circle), BANNED, MUTED, INVALID / BAD_LINK / TOO_LARGE / EMPTY_BODY
    (with the field), BLOCKED (screening)."""
    actor = _actor_in(user, circle)
    clean = clean_input(data)
    screened = _screen(circle.pk if circle else None, clean)
    visible = actor.publishes and screened.decision.outcome is Outcome.PUBLISH
    now = timezone.now()
    with transaction.atomic():
        resource = ResourcePost.objects.create(
            circle=circle,
            title=clean.title,
            body=clean.body,
            html=clean.html,
            link=clean.link,
            kind=clean.kind,
            phase=clean.phase,
            mood=clean.mood,
            author=actor.membership,
            author_label=actor.label,
            status=ResourcePost.Status.PUBLISHED if visible else ResourcePost.Status.PENDING,
            verdict=screened.verdict,
            suggested=not actor.publishes,
            created_at=now,
            updated_at=now,
            verified_at=now,
            verified_by_label=actor.label,
        )
        _stored(
            user, actor, resource, clean, screened, author=actor.membership, audit=AuditEntry.Action.RESOURCE_PUBLISH
        )
    return Saved(resource, "published" if visible else "pending", _care(screened, actor))


def _stored(user, actor: _Actor, resource: ResourcePost, clean, screened, *, author, audit: str) -> None:
    """What follows storing a post or an edit, in its transaction: its tracks or
    prompts, the screening record, then the review queue (a member's suggestion)
    or the audit log (a publisher's post)."""
    _write_parts(resource, clean)
    screening.record_screening(content=resource, screened=screened, author=author)
    if not actor.publishes:
        moderation_services.queue_for_review(content=resource, source=Flag.Source.SUGGESTION)
    else:
        _audit(user, actor, audit, resource)


def access_for_edit(user, pk: int) -> tuple[ResourcePost, _Actor]:
    """A resource ``user`` may change, and who they are for it: its author, or a
    moderator of its circle (the site-wide library: site moderators).  Someone
    who may read it but not change it gets FORBIDDEN; anyone else NOT_FOUND."""
    resource = selectors.access_resource(user, pk)
    if resource.circle is None:
        if can(user, Action.CURATE_LIBRARY):
            return resource, _Actor(None, True, SITE_LABEL, "site moderator")
    else:
        membership = membership_for(user, resource.circle)
        active = membership if membership is not None and membership.is_active else None
        if can(user, Action.MANAGE_RESOURCES, resource.circle, membership):
            role = active.role if active is not None else "site moderator"
            return resource, _Actor(active, True, label_for(user, active), str(role))
        if selectors.is_author(user, resource) and active is not None:
            publishes = can(user, Action.PUBLISH_RESOURCE, resource.circle, membership)
            return resource, _Actor(active, publishes, active.alias, str(active.role))
    raise DomainError(ErrorCode.FORBIDDEN, "You can only change your own posts.")


def edit_resource(*, user, pk: int, data: ResourceInput) -> Saved:
    """Change a resource (see ``access_for_edit``); screened like a new post.  A
    member's edit goes back to the queue before it shows; a staff edit stays
    published unless screening holds it.  A refused edit changes nothing."""
    resource, actor = access_for_edit(user, pk)
    clean = clean_input(data)
    screened = _screen(resource.circle_id, clean)
    # A staff edit keeps a published post published unless screening holds it;
    # a waiting post is published by its review, never by an edit.
    was_published = resource.status == ResourcePost.Status.PUBLISHED
    visible = actor.publishes and was_published and screened.decision.outcome is Outcome.PUBLISH
    now = timezone.now()
    with transaction.atomic():
        for name in ("title", "body", "html", "link", "kind", "phase", "mood"):
            setattr(resource, name, getattr(clean, name))
        resource.status = ResourcePost.Status.PUBLISHED if visible else ResourcePost.Status.PENDING
        resource.verdict, resource.updated_at = screened.verdict, now
        fields = ["title", "body", "html", "link", "kind", "phase", "mood", "status", "verdict", "updated_at"]
        if actor.publishes:  # who edits a fact re-checks it
            resource.verified_at, resource.verified_by_label = now, actor.label
            fields += ["verified_at", "verified_by_label"]
        resource.save(update_fields=fields)
        _stored(user, actor, resource, clean, screened, author=resource.author, audit=AuditEntry.Action.RESOURCE_EDIT)
    return Saved(resource, "published" if visible else "pending", _care(screened, actor))


def remove_resource(*, user, pk: int, reason: str = "") -> ResourcePost:
    """Take a resource out of the library: its author, or a moderator (audited
    with the reason).  Cards already shared in a room stop showing it."""
    resource, actor = access_for_edit(user, pk)
    own = selectors.is_author(user, resource)
    if not own and not reason.strip():
        raise DomainError(ErrorCode.INVALID, "Please give a reason; it is kept in the audit log.", field="reason")
    with transaction.atomic():
        do_remove(resource)
        if not own or actor.publishes:
            _audit(user, actor, AuditEntry.Action.RESOURCE_REMOVE, resource, reason=reason.strip()[:500])
    return resource


def do_remove(resource: ResourcePost) -> None:
    """Trusted step: the resource leaves every listing (callers check and audit)."""
    resource.status, resource.removed_at, resource.pinned = ResourcePost.Status.REMOVED, timezone.now(), False
    resource.save(update_fields=["status", "removed_at", "pinned"])


def _staff_for(user, resource: ResourcePost, action: Action) -> _Actor:
    """Facilitators and moderators of the resource's circle (site-wide: site moderators)."""
    if resource.circle is None:
        check(user, Action.CURATE_LIBRARY)
        return _Actor(None, True, SITE_LABEL, "site moderator")
    membership = membership_for(user, resource.circle)
    check(user, action, resource.circle, membership)
    active = membership if membership is not None and membership.is_active else None
    role = active.role if active is not None else "site moderator"
    return _Actor(active, True, label_for(user, active), str(role))


def verify_resource(*, user, pk: int) -> ResourcePost:
    """Record that someone re-checked the resource (its link works, the line is
    still staffed): now, by their alias or role label."""
    resource = selectors.access_resource(user, pk)
    actor = _staff_for(user, resource, Action.VERIFY_RESOURCE)
    with transaction.atomic():
        resource.verified_at, resource.verified_by_label = timezone.now(), actor.label
        resource.save(update_fields=["verified_at", "verified_by_label"])
        _audit(user, actor, AuditEntry.Action.RESOURCE_VERIFY, resource)
    return resource


def set_pinned(*, user, pk: int, pinned: bool) -> ResourcePost:
    """Pin a resource to the top of its library (or unpin it)."""
    resource = selectors.access_resource(user, pk)
    actor = _staff_for(user, resource, Action.PUBLISH_RESOURCE)
    if resource.status != ResourcePost.Status.PUBLISHED:
        raise DomainError(ErrorCode.INVALID, "Only a published resource can be pinned.")
    with transaction.atomic():
        resource.pinned = pinned
        resource.save(update_fields=["pinned"])
        _audit(user, actor, AuditEntry.Action.RESOURCE_PIN, resource, pinned=pinned)
    return resource


def attach_playlist(*, user, pk: int, occurrence_id: int) -> SessionPlaylist:
    """Attach a published playlist to a scheduled session of its circle (a
    site-wide playlist to any circle's session), so members can prepare with it.
    Facilitators of the session's circle.  NOT_FOUND when there is no such
    session (or no schedule yet)."""
    resource = selectors.access_resource(user, pk)
    if resource.kind != Kind.PLAYLIST or resource.status != ResourcePost.Status.PUBLISHED:
        raise DomainError(ErrorCode.INVALID, "Only a published playlist can be attached to a session.")
    session = schedule_links.session(occurrence_id)
    if session is None:
        raise DomainError(ErrorCode.NOT_FOUND, "That session is not on the schedule.")
    circle = Circle.objects.get(pk=session.circle_id)
    if resource.circle_id not in (None, circle.pk):
        raise DomainError(ErrorCode.INVALID, "This playlist belongs to another circle's library.")
    membership = membership_for(user, circle)
    check(user, Action.SCHEDULE_SESSION, circle, membership)
    label = label_for(user, membership)
    with transaction.atomic():
        link, _created = SessionPlaylist.objects.get_or_create(
            occurrence_id=session.id,
            resource=resource,
            defaults={"circle": circle, "attached_by_label": label},
        )
        AuditEntry.objects.record(
            actor=user,
            actor_role=str(membership.role) if membership else "site moderator",
            actor_membership=membership,
            action=AuditEntry.Action.PLAYLIST_ATTACH,
            circle=circle,
            resource=resource.pk,
            session=session.id,
        )
    return link


def playlists_for_session(occurrence_id: int) -> list[ResourcePost]:
    """The published playlists attached to a session (for its page)."""
    return list(
        ResourcePost.objects.filter(session_links__occurrence_id=occurrence_id, status=ResourcePost.Status.PUBLISHED)
        .prefetch_related("tracks")
        .order_by("title")
    )


# --- the moderation hooks' trusted steps (library.content) --------------------------


def publish_reviewed(resource: ResourcePost) -> None:
    """A moderator approved a waiting post: it is published, and counts as
    re-checked now by the moderators."""
    resource.status = ResourcePost.Status.PUBLISHED
    resource.verified_at, resource.verified_by_label = timezone.now(), "Moderators"
    resource.save(update_fields=["status", "verified_at", "verified_by_label"])


def erase_text(resource: ResourcePost) -> None:
    """Forget what a post said (its author erased what they wrote)."""
    resource.body, resource.html, resource.mood, resource.link = "", "", "", ""
    resource.save(update_fields=["body", "html", "mood", "link"])
    resource.tracks.all().delete()
    resource.prompts.all().delete()
    moderation_services.forget_text(resource)


def erase_by_author(resource: ResourcePost) -> None:
    """A deleted account's post, its author having asked to erase what they
    wrote: out of the library, the alias no longer shown, its text erased (kept
    until decided where an open moderation case needs it)."""
    do_remove(resource)
    resource.author_label = FORMER_MEMBER
    resource.save(update_fields=["author_label"])
    if not moderation_services.open_case(resource):
        erase_text(resource)
