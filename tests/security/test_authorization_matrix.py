"""Who may do what, through the real path, as one table (issue 11).

Every HTTP view and every live-room frame type, for ten kinds of person:
anonymous, non-member, member, muted, banned, departed, facilitator of another
circle, facilitator, site moderator, superuser.  A new view or a new frame type
fails ``test_every_view_is_in_the_matrix`` / ``test_every_frame_is_in_the_matrix``
until it joins the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async as dsa
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from chat import services as chat_services
from community import notifications
from community import services as community_services
from community.apps import MODERATORS_GROUP
from community.models import Circle, Membership
from library import resources, starter
from library.models import Prompt, ResourcePost, Track
from library.private import journal, worksheets
from moderation import screening
from moderation.models import Flag
from moderation.services import save_rule
from realtime import protocol
from tests.library import audio
from tests.room_fixtures import Room, communicator_for, staff_communicator

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = (
    "anonymous",
    "non_member",
    "member",
    "muted",
    "banned",
    "departed",
    "other_facilitator",
    "facilitator",
    "site_moderator",
    "superuser",
)

# Outcomes of an HTTP request.
OK = "ok"  # the page or the action (2xx, or a 302 that is not to the log-in page)
LOGIN = "login"  # sent to log in
DENIED = "denied"  # 403, 404 or a refusal status (400/409): nothing happened


@dataclass
class World:
    circle: Circle
    other: Circle
    users: dict[str, User | None]
    memberships: dict[str, Membership]
    message_id: int  # a published message by "author" in circle
    own_message: dict[str, int]  # role -> a message of theirs in circle (when they can post)
    flag_id: int
    rule_id: int
    reveal_membership: int
    author: Membership
    note_id: int  # a notification of the "member" role's
    urgent_flag_id: int  # an unacknowledged crisis alert in circle
    resource_id: int = 0  # a published library post in circle, by the facilitator
    worksheet_id: int = 0  # the starter intention worksheet (site-wide library)
    entry_id: int = 0  # a journal entry of the "member" role's, with a voice note
    sheet_id: int = 0  # a worksheet the "member" role filled in

    def fresh_resource(self) -> int:
        """A new published post in circle, for actions that can be taken only once."""
        data = resources.ResourceInput(
            title=f"Breathing {ResourcePost.objects.count()}",
            body="Out longer than in.",
            kind="breathwork",
            phase="integration",
        )
        return resources.post_resource(user=self.users["facilitator"], circle=self.circle, data=data).resource.pk

    def fresh_flag(self, *, urgent: bool) -> int:
        """A new open queue item (a crisis one when ``urgent``), for actions that
        can be taken only once."""
        n = Flag.objects.count()
        writer = User.objects.create_user(username=f"mx-writer-{n}", password="a long writer passphrase")
        community_services.join_circle(user=writer, circle=self.circle)
        ctx = chat_services.open_room(user=writer, slug=self.circle.slug)
        body = "I want to end my life" if urgent else "what an idiot"
        seq = chat_services.post_message(ctx, client_id=f"fresh-{n}", body=body).id
        return Flag.objects.get(message__circle=self.circle, message__seq=seq).pk


def _build_world(make_user, make_circle, join) -> World:
    circle = make_circle(name="Matrix", slug="matrix", capacity=50)
    other = make_circle(name="Elsewhere", slug="elsewhere", capacity=50)
    users: dict[str, User | None] = {"anonymous": None}
    memberships: dict[str, Membership] = {}
    for role in ROLES[1:]:
        users[role] = make_user(f"mx-{role.replace('_', '-')}")
    author = join(make_user("mx-author"), circle)
    for role in ("member", "muted", "banned", "departed"):
        memberships[role] = join(users[role], circle)
    memberships["facilitator"] = join(users["facilitator"], circle, Membership.Role.FACILITATOR)
    memberships["other_facilitator"] = join(users["other_facilitator"], other, Membership.Role.FACILITATOR)
    users["site_moderator"].groups.add(Group.objects.get(name=MODERATORS_GROUP))
    superuser = users["superuser"]
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    save_rule(user=None, pattern="idiot", kind="word", category="harassment", action="flag")
    save_rule(user=None, pattern="end my life", kind="phrase", category="crisis", action="crisis")
    screening.forget_compiled_rules()
    message_id = chat_services.post_message(
        chat_services.open_room(user=author.user, slug=circle.slug), client_id="a1", body="hello, you idiot"
    ).id
    own = {}
    for role in ("member", "muted", "facilitator"):
        ctx = chat_services.open_room(user=users[role], slug=circle.slug)
        own[role] = chat_services.post_message(ctx, client_id=f"own-{role}", body=f"my words as {role}").id
    community_services.mute_membership(target=memberships["muted"], minutes=60)
    community_services.ban_membership(target=memberships["banned"])
    community_services.leave_circle(user=users["departed"], circle=circle)
    flag = Flag.objects.get(message__circle=circle, message__seq=message_id)
    rule = save_rule(user=None, pattern="plain", kind="word", category="spam", action="flag")
    note = notifications.notify(user=users["member"], kind="report_decided", text="Your report was decided", link="/")
    assert note is not None
    crisis_seq = chat_services.post_message(
        chat_services.open_room(user=author.user, slug=circle.slug), client_id="a2", body="I want to end my life"
    ).id
    urgent = Flag.objects.get(message__circle=circle, message__seq=crisis_seq, urgent=True)
    world = World(
        circle, other, users, memberships, message_id, own, flag.pk, rule.pk, author.pk, author, note.pk, urgent.pk
    )
    world.resource_id = world.fresh_resource()
    if not ResourcePost.objects.filter(starter_key="worksheet-intention").exists():
        starter.install(ResourcePost, Track, Prompt)  # a flushed database has lost the migration's rows
    world.worksheet_id = ResourcePost.objects.get(starter_key="worksheet-intention").pk
    member = users["member"]
    world.entry_id = journal.save_entry(
        member, journal.EntryInput(body="private words", voice=audio.webm(), voice_seconds=3)
    ).entry.pk
    world.sheet_id = worksheets.fill(
        member, resource_id=world.worksheet_id, data=worksheets.SheetInput(answers=["To rest"])
    ).pk
    return world


@pytest.fixture
def world(make_user, make_circle, join, settings, tmp_path) -> World:
    settings.PRIVATE_DATA_DIR = tmp_path / "private"  # the voice notes of this test only
    return _build_world(make_user, make_circle, join)


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def _outcome(response) -> str:
    if response.status_code in (301, 302):
        if "/accounts/login/" in response["Location"]:
            return LOGIN
        # A redirect after a refusal carries the refusal as a message.
        stored = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        return DENIED if stored else OK
    return OK if response.status_code < 300 else DENIED


def _all(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def _signed_in(outcome: str, anonymous: str = LOGIN) -> dict[str, str]:
    return {**_all(outcome), "anonymous": anonymous}


STAFF_ONLY = {**_signed_in(DENIED), "site_moderator": OK, "superuser": OK}
MEMBERS_OK = {
    **_signed_in(DENIED),
    "member": OK,
    "muted": OK,
    "facilitator": OK,
}

# The library: a circle's posts are read by its members (and site moderators);
# its facilitators and the site moderators keep them (edit, remove, re-check, pin).
LIBRARY_READERS = {**MEMBERS_OK, "anonymous": DENIED, "site_moderator": OK, "superuser": OK}
LIBRARY_KEEPERS = {**STAFF_ONLY, "facilitator": OK}
# A member's private things: the "member" role's own entry and worksheet.
OWNER_ONLY = {**_signed_in(DENIED), "member": OK}


@dataclass(frozen=True)
class ViewCase:
    method: str
    kwargs: Any  # a function of the world (and the role, for once-only actions), giving the URL's kwargs
    data: Any  # a function of the world and the role, giving the POST data
    expected: dict[str, str]
    per_role: bool = False  # kwargs(world, role): each role acts on its own fresh object


def _none(world, role=None):
    return {}


VIEWS: dict[str, ViewCase] = {
    "community:directory": ViewCase("GET", _none, _none, _all(OK)),
    "community:circle": ViewCase("GET", lambda w: {"slug": w.circle.slug}, _none, _signed_in(OK)),
    "community:join": ViewCase(
        "POST",
        lambda w: {"slug": w.circle.slug},
        _none,
        {
            **_signed_in(DENIED),
            "non_member": OK,
            "departed": OK,
            "other_facilitator": OK,
            "site_moderator": OK,
            "superuser": OK,
        },
    ),
    # The circle's only facilitator may not leave it (LAST_FACILITATOR).
    "community:leave": ViewCase(
        "POST", lambda w: {"slug": w.circle.slug}, _none, {**MEMBERS_OK, "facilitator": DENIED}
    ),
    "community:reroll": ViewCase(
        "POST",
        lambda w: {"slug": w.circle.slug},
        _none,
        # Everyone here has posted already: the alias is fixed (ALIAS_LOCKED).
        _signed_in(DENIED),
    ),
    "signup": ViewCase(
        "POST",
        _none,
        lambda w, role: {
            "handle": f"new-{role}",
            "password": "a long new passphrase 4",
            "password_again": "a long new passphrase 4",
        },
        # Signed-in people are sent back to the directory (a redirect, nothing created).
        _all(OK),
    ),
    "login": ViewCase("GET", _none, _none, _all(OK)),
    "logout": ViewCase("POST", _none, _none, _all(OK)),
    "password_change": ViewCase("GET", _none, _none, _signed_in(OK)),
    "password_change_done": ViewCase("GET", _none, _none, _signed_in(OK)),
    "delete_account": ViewCase("GET", _none, _none, _signed_in(OK)),
    "export_my_data": ViewCase("GET", _none, _none, _signed_in(OK)),
    # One's own account: every signed-in person, about themselves only.
    "account": ViewCase("GET", _none, _none, _signed_in(OK)),
    # Making new codes needs the password; a wrong one is refused and changes nothing.
    "recovery_codes": ViewCase("POST", _none, lambda w, role: {"password": "not the password"}, _signed_in(DENIED)),
    "recovery_codes_saved": ViewCase("POST", _none, _none, _signed_in(OK)),
    "end_other_sessions": ViewCase("POST", _none, _none, _signed_in(OK)),
    # A forgotten password: signed-out people only (the signed-in are sent to the
    # password change); a made-up code is refused.
    "recover": ViewCase(
        "POST",
        _none,
        lambda w, role: {
            "handle": "mx-member",
            "code": "AAAA-BBBB-CCCC-DDDD",
            "new_password": "a long new passphrase 5",
            "new_password_again": "a long new passphrase 5",
        },
        {**_all(OK), "anonymous": DENIED},
    ),
    "notifications": ViewCase("GET", _none, _none, _signed_in(OK)),
    # Marks only the caller's own notifications (test below: another's stays unread).
    "notifications_read": ViewCase("POST", _none, lambda w, role: {"id": str(w.note_id)}, _signed_in(OK)),
    "notification_open": ViewCase(
        "POST", lambda w: {"note_id": w.note_id}, _none, {**_signed_in(DENIED), "member": OK}
    ),
    "my_reports": ViewCase("GET", _none, _none, _signed_in(OK)),
    "healthz": ViewCase("GET", _none, _none, _all(OK)),
    "readyz": ViewCase("GET", _none, _none, _all(OK)),
    "metrics": ViewCase("GET", _none, _none, _all(DENIED)),  # off unless METRICS_ENABLED
    # Facilitators see their own circles' items (the other circle's facilitator
    # sees an empty queue of their own circle, never this circle's items).
    "moderation:queue": ViewCase("GET", _none, _none, {**STAFF_ONLY, "facilitator": OK, "other_facilitator": OK}),
    "moderation:review": ViewCase(
        "POST",
        lambda w, role: {"flag_id": w.fresh_flag(urgent=False)},
        lambda w, role: {"action": "dismiss", "reason": f"checked by {role}"},
        {**STAFF_ONLY, "facilitator": OK},
        per_role=True,
    ),
    # A crisis alert: the circle's facilitators and the site moderators may say "I am on it".
    "moderation:acknowledge": ViewCase(
        "POST",
        lambda w, role: {"flag_id": w.fresh_flag(urgent=True)},
        _none,
        {**STAFF_ONLY, "facilitator": OK},
        per_role=True,
    ),
    "moderation:rules": ViewCase("GET", _none, _none, STAFF_ONLY),
    # Saving a regex with nested repetition (it froze a process before RE2): site
    # moderators may; it then runs in linear time (test below).
    "moderation:rule_new": ViewCase(
        "POST",
        _none,
        lambda w, role: {
            "pattern": r"(a+)+$" if role != "superuser" else r"(\d+)*x",
            "kind": "regex",
            "category": "spam",
            "action": "flag",
            "enabled": "on",
            "note": f"saved by {role}",
        },
        STAFF_ONLY,
    ),
    "moderation:rule_edit": ViewCase("GET", lambda w: {"rule_id": w.rule_id}, _none, STAFF_ONLY),
    "moderation:audit": ViewCase("GET", _none, _none, STAFF_ONLY),
    "moderation:reveal": ViewCase(
        "GET", lambda w: {"membership_id": w.reveal_membership}, _none, {**_signed_in(DENIED), "superuser": OK}
    ),
    # --- the library (docs/library.md: who may do what) ---------------------------
    # Reading: anyone may browse the site-wide library; a circle's posts are its members'.
    "library:index": ViewCase("GET", _none, _none, _all(OK)),
    "library:resource": ViewCase("GET", lambda w: {"pk": w.resource_id}, _none, LIBRARY_READERS),
    # Posting needs somewhere to post: a circle one is in, or the site-wide library.
    "library:new": ViewCase(
        "GET", _none, _none, {**_signed_in(OK), "non_member": DENIED, "banned": DENIED, "departed": DENIED}
    ),
    "library:mine": ViewCase("GET", _none, _none, _signed_in(OK)),
    # The re-check list: facilitators see their own circles' posts (the other
    # circle's facilitator sees a list of theirs, never this circle's).
    "library:recheck": ViewCase("GET", _none, _none, {**LIBRARY_KEEPERS, "other_facilitator": OK}),
    "library:edit": ViewCase("GET", lambda w: {"pk": w.resource_id}, _none, LIBRARY_KEEPERS),
    "library:remove": ViewCase(
        "POST",
        lambda w, role: {"pk": w.fresh_resource()},
        lambda w, role: {"reason": f"removed by {role}"},
        LIBRARY_KEEPERS,
        per_role=True,
    ),
    "library:verify": ViewCase("POST", lambda w: {"pk": w.resource_id}, _none, LIBRARY_KEEPERS),
    "library:pin": ViewCase("POST", lambda w: {"pk": w.resource_id}, lambda w, r: {"pinned": "1"}, LIBRARY_KEEPERS),
    # Attaching a playlist to a session: nobody here has a session to attach it to.
    "library:attach": ViewCase(
        "POST", lambda w: {"pk": w.resource_id}, lambda w, r: {"occurrence": "1"}, _signed_in(DENIED)
    ),
    # The member's private tools: theirs alone (404 for everyone else, staff included).
    "library:fill": ViewCase("GET", lambda w: {"pk": w.worksheet_id}, _none, _signed_in(OK)),
    "library:journal": ViewCase("GET", _none, _none, _signed_in(OK)),
    "library:entry_new": ViewCase("GET", _none, _none, _signed_in(OK)),
    "library:export": ViewCase("GET", _none, _none, _signed_in(OK)),
    "library:erase": ViewCase("POST", _none, _none, _signed_in(DENIED)),  # refused without the confirmation
    "library:entry": ViewCase("GET", lambda w: {"pk": w.entry_id}, _none, OWNER_ONLY),
    "library:entry_edit": ViewCase("GET", lambda w: {"pk": w.entry_id}, _none, OWNER_ONLY),
    "library:voice": ViewCase("GET", lambda w: {"pk": w.entry_id}, _none, OWNER_ONLY),
    "library:voice_delete": ViewCase("POST", lambda w: {"pk": w.entry_id}, _none, OWNER_ONLY),
    "library:entry_delete": ViewCase("POST", lambda w: {"pk": w.entry_id}, _none, OWNER_ONLY),
    "library:sheet": ViewCase("GET", lambda w: {"pk": w.sheet_id}, _none, OWNER_ONLY),
    "library:sheet_delete": ViewCase("POST", lambda w: {"pk": w.sheet_id}, _none, OWNER_ONLY),
    # Sharing a post into the live room: the circle's facilitators and moderators.
    "chat:share": ViewCase(
        "POST",
        lambda w: {"slug": w.circle.slug},
        lambda w, role: {"resource": str(w.resource_id), "client_id": f"share-{role}"},
        {**_signed_in(DENIED), "facilitator": OK},
    ),
}

# URL names that are not ours to test here (the Django admin has its own permissions).
NOT_IN_MATRIX = {"admin"}


# --- schedules (issue 12) -----------------------------------------------------------------


def _series(world: World) -> int:
    """The series of the circle's upcoming session."""
    from schedules.models import Occurrence

    return Occurrence.objects.get(pk=_session(world)).series_id


def _session(world: World) -> int:
    """An upcoming session of the circle (made once per world, by its facilitator)."""
    from schedules import services as schedule_services
    from schedules.models import Occurrence

    found = Occurrence.objects.filter(circle=world.circle).first()
    if found is not None:
        return found.pk
    from django.utils import timezone

    start = (timezone.now() + timezone.timedelta(days=2)).replace(tzinfo=None, second=0, microsecond=0)
    series = schedule_services.create_series(
        user=world.users["facilitator"],
        circle=world.circle,
        title="Matrix session",
        start_local=start,
        time_zone="UTC",
        duration_minutes=60,
    )
    return series.occurrences.get().pk


def _members_treatment(world: World) -> int:
    from django.utils import timezone

    from schedules import services as schedule_services

    return schedule_services.add_treatment(user=world.users["member"], at=timezone.now()).pk


def _members_feed(world: World) -> str:
    from schedules import services as schedule_services

    return schedule_services.calendar_token(user=world.users["member"]).token


FACILITATOR_ONLY = {**_signed_in(DENIED), "facilitator": OK}
VIEWS |= {
    # One's own schedule page, treatment dates, settings and calendar link.
    "schedules:my_sessions": ViewCase("GET", _none, _none, _signed_in(OK)),
    "schedules:treatment_add": ViewCase("POST", _none, lambda w, role: {"at": "2026-12-01T10:00"}, _signed_in(OK)),
    # Only the owner may delete a treatment date (anyone else: NOT_FOUND, nothing deleted).
    "schedules:treatment_delete": ViewCase(
        "POST", lambda w: {"treatment_id": _members_treatment(w)}, _none, {**_signed_in(DENIED), "member": OK}
    ),
    "schedules:preferences": ViewCase(
        "POST",
        _none,
        lambda w, role: {"time_zone": "Europe/Berlin", "window_from_hours": "24", "window_to_hours": "72"},
        _signed_in(OK),
    ),
    "schedules:calendar": ViewCase("POST", _none, lambda w, role: {"action": "rotate"}, _signed_in(OK)),
    # The secret URL is the credential (calendar apps send no cookie); it names nobody.
    "schedules:feed": ViewCase("GET", lambda w: {"token": _members_feed(w)}, _none, _all(OK)),
    # RSVP: active members of the circle.
    "schedules:rsvp": ViewCase("POST", lambda w: {"occurrence_id": _session(w)}, _none, MEMBERS_OK),
    "schedules:rsvp_cancel": ViewCase("POST", lambda w: {"occurrence_id": _session(w)}, _none, MEMBERS_OK),
    "schedules:check_in": ViewCase("GET", lambda w: {"occurrence_id": _session(w)}, _none, MEMBERS_OK),
    # Running the schedule: the circle's facilitators.
    "schedules:series_new": ViewCase("GET", lambda w: {"slug": w.circle.slug}, _none, FACILITATOR_ONLY),
    "schedules:occurrence": ViewCase("GET", lambda w: {"occurrence_id": _session(w)}, _none, FACILITATOR_ONLY),
    # Circles run by facilitators: leading needs the site permission a moderator grants;
    # a circle's own facilitators edit it, rotate its code and see its members.
    "schedules:circle_new": ViewCase("GET", _none, _none, {**_signed_in(DENIED), "superuser": OK}),
    "schedules:circle_edit": ViewCase("GET", lambda w: {"slug": w.circle.slug}, _none, FACILITATOR_ONLY),
    "schedules:leaders": ViewCase("GET", _none, _none, STAFF_ONLY),
    "schedules:occurrence_action": ViewCase(
        "POST",
        lambda w: {"occurrence_id": _session(w)},
        lambda w, role: {"action": "extend", "minutes": "5"},
        FACILITATOR_ONLY,
    ),
    "schedules:series_edit": ViewCase(
        "POST",
        lambda w: {"series_id": _series(w)},
        lambda w, role: {
            "action": "save",
            "title": f"Renamed by {role}",
            "duration_minutes": "60",
            "capacity": "",
            "open_minutes_before": "10",
        },
        FACILITATOR_ONLY,
    ),
}


def _url_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_view_is_in_the_matrix():
    """A view that is not in the table fails here until someone decides who may use it."""
    assert _url_names(get_resolver()) - set(VIEWS) == set()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_each_view_allows_exactly_whom_the_matrix_says(world, name):
    case = VIEWS[name]
    got = {}
    for role in ROLES:
        url = reverse(name, kwargs=case.kwargs(world, role) if case.per_role else case.kwargs(world))
        client = _client(world, role)
        response = client.get(url) if case.method == "GET" else client.post(url, case.data(world, role))
        got[role] = _outcome(response)
    assert got == case.expected


# --- the staff socket --------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_the_staff_socket_opens_for_site_moderators_only(world, role):
    ws = await dsa(staff_communicator)(world.users[role])
    connected, code = await ws.connect()
    expected = role in ("site_moderator", "superuser")
    assert connected is expected, (role, code)
    if connected:
        await ws.disconnect()
    else:
        assert code in (protocol.CLOSE_NOT_SIGNED_IN, protocol.CLOSE_NOT_ALLOWED)


# --- the live room's frames ---------------------------------------------------------------

# Who can open the circle's room at all; the rest are refused at connect.
CONNECTS = {
    "anonymous": protocol.CLOSE_NOT_SIGNED_IN,
    "non_member": protocol.CLOSE_NOT_ALLOWED,
    "banned": protocol.CLOSE_NOT_ALLOWED,
    "departed": protocol.CLOSE_NOT_ALLOWED,
    "other_facilitator": protocol.CLOSE_NOT_ALLOWED,
    "site_moderator": protocol.CLOSE_NOT_ALLOWED,  # not a member: moderates from the queue
    "superuser": protocol.CLOSE_NOT_ALLOWED,
    "member": None,
    "muted": None,
    "facilitator": None,
}
IN_ROOM = ("member", "muted", "facilitator")


def _frame(kind: str, world: World, role: str) -> dict[str, Any]:
    mine = world.own_message.get(role, 1)
    frames = {
        "send": {"client_id": f"m-{role}", "body": "a thought"},
        "edit": {"message": mine, "body": "a better thought"},
        "delete": {"message": mine},
        "react": {"message": world.message_id, "reaction": "heart", "on": True},
        "report": {"message": world.message_id, "reason": "unkind"},
        "history": {"before": 100},
        "resume": {"since": 0},
        "ping": {},
        "pin": {"message": world.message_id},
        "unpin": {},
        "slow_mode": {"seconds": 5},
        "close_room": {},
        "open_room": {},
        "mute": {"alias": world.memberships["member"].alias, "minutes": 5, "reason": "cool down"},
        "remove": {"message": world.message_id, "reason": "hurtful"},
        "read": {"upto": world.message_id},
        "source": {"message": mine},
        "hide": {"alias": world.author.alias, "on": True},
        "ack_alert": {"flag": world.urgent_flag_id},
        "share": {"client_id": f"s-{role}", "resource": world.resource_id},
    }
    return {"type": kind, **frames[kind]}


STAFF_FRAMES = ("pin", "unpin", "slow_mode", "close_room", "open_room", "mute", "remove", "ack_alert", "share")
# frame -> role -> "ok" or the error code
FRAMES: dict[str, dict[str, str]] = {
    "send": {"member": "ok", "muted": "muted", "facilitator": "ok"},
    "edit": {"member": "ok", "muted": "muted", "facilitator": "ok"},
    "delete": {"member": "ok", "muted": "ok", "facilitator": "ok"},
    "react": {"member": "ok", "muted": "muted", "facilitator": "ok"},
    "report": {"member": "ok", "muted": "ok", "facilitator": "ok"},
    "history": dict.fromkeys(IN_ROOM, "ok"),
    "resume": dict.fromkeys(IN_ROOM, "ok"),
    "ping": dict.fromkeys(IN_ROOM, "ok"),
    # One's own place in the room: the read mark, one's own Markdown, whom one hides.
    "read": {"member": "ok", "muted": "ok", "facilitator": "ok"},
    "source": {"member": "ok", "muted": "ok", "facilitator": "ok"},
    "hide": {"member": "ok", "muted": "ok", "facilitator": "ok"},
    **{kind: {"member": "forbidden", "muted": "forbidden", "facilitator": "ok"} for kind in STAFF_FRAMES},
}


def test_every_frame_is_in_the_matrix():
    """A client frame type that is not in the table fails here until someone decides who may send it."""
    assert set(protocol.CLIENT_FRAMES) == set(FRAMES)


@pytest.mark.parametrize("role", [r for r in ROLES if CONNECTS[r] is not None])
async def test_who_cannot_enter_the_room_is_refused_before_any_data(world, role):
    communicator = await dsa(communicator_for)(world.users[role], world.circle.slug)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, CONNECTS[role])
    await communicator.disconnect()


@pytest.mark.parametrize("kind", sorted(FRAMES))
@pytest.mark.parametrize("role", IN_ROOM)
async def test_each_frame_allows_exactly_whom_the_matrix_says(world, role, kind):
    communicator = await dsa(communicator_for)(world.users[role], world.circle.slug)
    connected, code = await communicator.connect()
    assert connected, code
    room = Room(communicator, await communicator.receive_json_from(timeout=3))
    await room.send(**_frame(kind, world, role), ref="matrix")
    while True:
        frame = await room.recv()
        if frame.get("ref") == "matrix" or frame["type"] in ("ack", "error"):
            break
    got = frame["code"] if frame["type"] == "error" else "ok"
    assert got == FRAMES[kind][role], json.dumps(frame)
    await room.close()


async def test_a_nested_repetition_saved_by_a_moderator_cannot_freeze_the_room(world, connect):
    """The shapes that used to hold a process at 100 % CPU, saved through the rule
    page by a site moderator, then a member's worst-case message: it is screened
    and stored at once, and the room goes on."""
    import time

    client = await dsa(_client)(world, "site_moderator")
    for pattern in (r"(a+)+$", r"(\d+)*x", r"(a|aa)+$"):
        response = await dsa(client.post)(
            reverse("moderation:rule_new"),
            {"pattern": pattern, "kind": "regex", "category": "spam", "action": "flag", "enabled": "on"},
        )
        assert response.status_code == 302, response.content[:500]
    await dsa(screening.forget_compiled_rules)()
    room = await connect(world.users["member"], world.circle)
    started = time.monotonic()
    for n, body in enumerate(("a" * 3999 + "!", "1" * 3999 + "!", "aa" * 1999 + "!")):
        await room.send(type="send", client_id=f"evil-{n}", body=body)
        ack = await room.sent(timeout=10)
        assert ack["id"]
    assert time.monotonic() - started < 5  # generous on a busy machine; backtracking never ends
    await room.ping()
    await room.close()


def test_nobody_else_can_read_or_open_a_members_notification(world):
    """Marking or opening someone else's notification changes nothing: it stays unread."""
    from community.models import Notification

    for role in ROLES:
        if role == "member":
            continue
        _client(world, role).post(reverse("notifications_read"), {"id": str(world.note_id)})
        _client(world, role).post(reverse("notification_open", kwargs={"note_id": world.note_id}))
        _client(world, role).post(reverse("notifications_read"))  # "all of mine"
    assert Notification.objects.get(pk=world.note_id).read_at is None
    _client(world, "member").post(reverse("notification_open", kwargs={"note_id": world.note_id}))
    assert Notification.objects.get(pk=world.note_id).read_at is not None


def test_nobody_else_reads_a_members_calendar_with_a_wrong_or_old_token(world):
    """A made-up or rotated token is a 404; the feed names no handle, alias or circle."""
    from schedules import services as schedule_services

    _session(world)
    token = _members_feed(world)
    body = Client().get(reverse("schedules:feed", kwargs={"token": token})).content.decode()
    for secret in ("mx-member", world.memberships["member"].alias, world.circle.name, "Matrix session"):
        assert secret not in body
    schedule_services.rotate_calendar_token(user=world.users["member"])
    assert Client().get(reverse("schedules:feed", kwargs={"token": token})).status_code == 404
    assert Client().get(reverse("schedules:feed", kwargs={"token": "x" * 43})).status_code == 404
