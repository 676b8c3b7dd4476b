"""The moderation pages through the real views: facilitators' queue and what they
may decide, check-in items, messages already taken down, filters and search,
the explanation page, "try this rule", the rules list, and live queue frames."""

import json

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import Client

from chat import services as chat_services
from chat.models import Message
from core.errors import DomainError, ErrorCode
from moderation import services
from moderation.models import AuditEntry, Flag, KeywordRule
from moderation.selectors import QueueFilters, review_queue
from tests.room_fixtures import staff_socket

pytestmark = pytest.mark.django_db(transaction=True)


def ctx(m):
    return chat_services.RoomContext(m.user_id, m.circle_id, m.pk, m.alias, m.role)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def decisions_offered(page: str, flag: Flag) -> list[str]:
    start = page.index(f'id="action-{flag.pk}"')
    chunk = page[start : page.index("</select>", start)]
    return [v for v in ("approve", "checked_in", "dismiss", "remove", "warn", "mute", "ban") if f'value="{v}"' in chunk]


@pytest.fixture
def flagged(make_rule, member):
    """A published message raised by a flag rule."""
    make_rule("idiot", action="flag")
    result = chat_services.post_message(ctx(member), client_id="q1", body="you idiot")
    return Flag.objects.get(message__seq=result.id, message__circle_id=member.circle_id)


@pytest.fixture
def concern(make_rule, member):
    """A message a concern rule raised: a check-in item."""
    make_rule("no point anymore", kind="phrase", category="crisis", action="concern")
    result = chat_services.post_message(ctx(member), client_id="c1", body="some days there is no point anymore")
    return Flag.objects.get(message__seq=result.id, message__circle_id=member.circle_id)


# --- facilitators ----------------------------------------------------------------------------


def test_a_facilitator_sees_their_circles_items_only(flagged, facilitator, make_circle, make_user, join, make_rule):
    """The queue lists the facilitator's circle's items, not another circle's."""
    elsewhere = join(make_user("elsewhere-author"), make_circle(name="Elsewhere", slug="elsewhere"))
    chat_services.post_message(ctx(elsewhere), client_id="e1", body="you idiot over there")
    page = client_of(facilitator.user).get("/moderation/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-flag="{flagged.pk}"' in html
    assert "idiot over there" not in html
    assert [i.flag.pk for i in review_queue(facilitator.user)] == [flagged.pk]


def test_a_facilitator_is_offered_only_what_they_may_decide(flagged, facilitator):
    """Remove, mute, dismiss and check in; approving, warning and banning are for moderators."""
    html = client_of(facilitator.user).get("/moderation/").content.decode()
    assert decisions_offered(html, flagged) == ["checked_in", "dismiss", "remove", "mute"]


@pytest.mark.parametrize("action", ["approve", "warn", "ban"])
def test_a_facilitator_cannot_take_a_moderators_decision(flagged, facilitator, action):
    """Refused with FORBIDDEN (403 through the page); nothing changes."""
    response = client_of(facilitator.user).post(
        f"/moderation/flags/{flagged.pk}/review/", {"action": action, "reason": "trying"}
    )
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.status == "open"
    assert not AuditEntry.objects.filter(action=action).exists()


def test_a_facilitator_may_remove_and_it_is_audited_as_theirs(flagged, facilitator):
    response = client_of(facilitator.user).post(
        f"/moderation/flags/{flagged.pk}/review/", {"action": "remove", "reason": "unkind"}
    )
    assert response.status_code == 302
    assert Message.objects.get(pk=flagged.message_id).status == "removed"
    entry = AuditEntry.objects.get(action="remove")
    assert entry.actor_role == "facilitator" and facilitator.alias in entry.actor_label


def test_nobody_decides_a_case_about_their_own_message(make_rule, facilitator, circle, join, make_user):
    """A facilitator whose own message was flagged is told another person decides it."""
    make_rule("idiot", action="flag")
    result = chat_services.post_message(ctx(facilitator), client_id="own", body="what an idiot I was")
    flag = Flag.objects.get(message__seq=result.id, circle=circle)
    with pytest.raises(DomainError) as caught:
        services.review_flag(user=facilitator.user, flag_id=flag.pk, action="dismiss", reason="mine")
    assert caught.value.code == ErrorCode.OWN_CASE
    html = client_of(facilitator.user).get("/moderation/").content.decode()
    assert "about your own message" in html
    assert f'id="action-{flag.pk}"' not in html


@pytest.mark.parametrize(
    ("path", "says"), [("/moderation/rules/", "keyword rules"), ("/moderation/audit/", "audit log")]
)
def test_a_facilitator_on_a_site_moderator_page_gets_an_explanation(facilitator, path, says):
    """Not "something went wrong": a 403 page saying who keeps it, and the way to the queue."""
    response = client_of(facilitator.user).get(path)
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="not-for-you"' in html
    assert says in html.lower() and "kept by site moderators" in html
    assert 'href="/moderation/"' in html
    assert "That did not work" not in html


def test_a_member_on_the_queue_gets_an_explanation(member):
    response = client_of(member.user).get("/moderation/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "for facilitators and moderators" in html and 'href="/moderation/"' not in html


# --- check-in items ----------------------------------------------------------------------------


def test_a_concern_is_a_check_in_item_with_checked_in_first(concern, facilitator):
    html = client_of(facilitator.user).get("/moderation/").content.decode()
    assert "Check-in" in html and "may be having a hard time" in html
    assert decisions_offered(html, concern)[0] == "checked_in"
    services.review_flag(user=facilitator.user, flag_id=concern.pk, action="checked_in", reason="Said hello")
    concern.refresh_from_db()
    assert concern.resolution == "checked_in"
    assert Message.objects.get(pk=concern.message_id).status == "published"  # the message is left as it is
    assert AuditEntry.objects.filter(action="checked_in", reason="Said hello").exists()


# --- already taken down ------------------------------------------------------------------------


def test_an_item_removed_in_the_room_says_so_and_cannot_be_approved(flagged, facilitator, site_moderator):
    """A facilitator removed it in the room: the queue says so, offers no approve, and
    the server refuses one (MESSAGE_GONE, 409) without changing anything."""
    chat_services.remove_message(ctx(facilitator), message_id=flagged.message.seq, reason="unkind")
    client = client_of(site_moderator)
    html = client.get("/moderation/").content.decode()
    assert "Already removed by a facilitator" in html
    assert "approve" not in decisions_offered(html, flagged)
    response = client.post(f"/moderation/flags/{flagged.pk}/review/", {"action": "approve", "reason": "fine"})
    assert response.status_code == 409
    assert "already removed this message" in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.status == "open"
    assert Message.objects.get(pk=flagged.message_id).status == "removed"
    services.review_flag(user=site_moderator, flag_id=flagged.pk, action="dismiss", reason="handled in the room")


def test_an_item_deleted_by_its_author_cannot_be_approved(flagged, member, site_moderator):
    chat_services.delete_own_message(ctx(member), message_id=flagged.message.seq)
    with pytest.raises(DomainError) as caught:
        services.review_flag(user=site_moderator, flag_id=flagged.pk, action="approve", reason="fine")
    assert caught.value.code == ErrorCode.MESSAGE_GONE
    assert "Deleted by its author" in client_of(site_moderator).get("/moderation/").content.decode()


# --- filters, search, links ----------------------------------------------------------------------


def test_filters_and_search(make_rule, member, circle, join, make_user, make_circle, site_moderator):
    make_rule("idiot", action="flag")
    make_rule("end my life", kind="phrase", category="crisis", action="crisis")
    rude = chat_services.post_message(ctx(member), client_id="r", body="you idiot")
    crisis = chat_services.post_message(ctx(member), client_id="c", body="I want to end my life")
    said = chat_services.post_message(ctx(member), client_id="s", body="meet me at the usual corner")
    reporter = join(make_user("reporter-x"), circle)
    chat_services.report_message(ctx(reporter), message_id=said.id, reason="sounds like a handoff")
    other = join(make_user("other-circle-author"), make_circle(name="Other", slug="other"))
    chat_services.post_message(ctx(other), client_id="o", body="idiot elsewhere")

    def seqs(**filters):
        return sorted(
            i.flag.message.seq for i in review_queue(site_moderator, QueueFilters(**filters)) if i.flag.circle == circle
        )

    def count(**filters):
        return len(review_queue(site_moderator, QueueFilters(**filters)))

    assert seqs(kind="urgent") == [crisis.id]
    assert seqs(kind="report") == [said.id]
    assert seqs(category="harassment") == [rude.id]
    assert count(circle="other") == 1
    assert seqs(q="USUAL CORNER") == [said.id]  # message text, any case
    assert seqs(q="handoff") == [said.id]  # a report's reason
    assert count(q="nothing like this") == 0
    assert count(status="decided") == 0
    flag = Flag.objects.get(message__seq=rude.id, circle=circle)
    services.review_flag(user=site_moderator, flag_id=flag.pk, action="remove", reason="rude")
    assert seqs(status="decided") == [rude.id]
    assert rude.id not in seqs()


def test_the_page_keeps_the_filters_in_its_live_fragment_and_links_to_the_room(flagged, site_moderator):
    client = client_of(site_moderator)
    html = client.get("/moderation/?kind=rule&q=idiot").content.decode()
    assert 'data-fragment-url="/moderation/?kind=rule&amp;q=idiot&amp;fragment=1"' in html
    assert f'href="/circles/{flagged.circle.slug}/#m-{flagged.message.seq}"' in html
    fragment = client.get("/moderation/?kind=rule&q=idiot&fragment=1").content.decode()
    assert "<html" not in fragment and f'data-flag="{flagged.pk}"' in fragment
    none = client.get("/moderation/?q=nothing+of+the+kind").content.decode()
    assert "No items match these filters" in none


def test_unknown_filter_values_are_ignored_calmly(flagged, site_moderator):
    response = client_of(site_moderator).get("/moderation/?status=banana&kind=zzz&category=nope")
    assert response.status_code == 200
    assert f'data-flag="{flagged.pk}"' in response.content.decode()


# --- "I am on it" ----------------------------------------------------------------------------------


def test_acknowledging_answers_json_for_the_page_script(make_rule, member, facilitator, site_moderator):
    make_rule("end my life", kind="phrase", category="crisis", action="crisis")
    result = chat_services.post_message(ctx(member), client_id="u", body="I want to end my life")
    flag = Flag.objects.get(message__seq=result.id)
    html = client_of(site_moderator).get("/moderation/rules/").content.decode()
    assert f'class="alert-banner" data-flag="{flag.pk}"' in html  # on every moderation page
    url = f"/moderation/flags/{flag.pk}/acknowledge/"
    first = client_of(facilitator.user).post(url, HTTP_ACCEPT="application/json")
    assert first.status_code == 200 and first.json() == {"ok": True, "flag": flag.pk}
    again = client_of(site_moderator).post(url, HTTP_ACCEPT="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_handled"
    assert 'class="alert-banner"' not in client_of(site_moderator).get("/moderation/").content.decode()


# --- rules ---------------------------------------------------------------------------------------------


def test_the_rules_list_describes_each_rule_in_words(make_rule, site_moderator):
    make_rule("plug", category="sourcing", action="hold", note="Asking where to buy.")
    html = client_of(site_moderator).get("/moderation/rules/").content.decode()
    assert "Asking where to buy." in html
    assert "Hold until approved" in html and "Word (whole words only)" in html and "Sourcing" in html
    assert 'data-label="What it does"' in html


RULE = {"pattern": "kill myself", "kind": "phrase", "category": "crisis", "action": "crisis", "enabled": "on"}


@pytest.mark.parametrize(
    ("fields", "sample", "says"),
    [
        ({}, "some nights I want to k.i.l.l myself", "Matched 1 time: the message would be published; its writer"),
        ({}, "a calm evening", "No match"),
        ({"exempt": "kill myself laughing"}, "I could kill myself laughing", "No match"),
        ({"shadow": "on"}, "I want to kill myself", "In shadow mode the rule only records this"),
        ({"action": "block", "category": "harassment"}, "I want to kill myself", "not posted"),
    ],
)
def test_try_this_rule_dry_runs_the_draft_and_saves_nothing(site_moderator, fields, sample, says):
    client = client_of(site_moderator)
    before = AuditEntry.objects.count()
    response = client.post("/moderation/rules/new/", {**RULE, **fields, "sample": sample, "intent": "try"})
    assert response.status_code == 200
    html = response.content.decode()
    assert says in html, html[html.find("try-result") : html.find("try-result") + 600]
    assert not KeywordRule.objects.exists()
    assert AuditEntry.objects.count() == before
    if "Matched" in says:
        assert "<mark>" in html


def test_try_this_rule_explains_a_bad_pattern(site_moderator):
    response = client_of(site_moderator).post(
        "/moderation/rules/new/", {**RULE, "kind": "regex", "pattern": "(unclosed", "sample": "x", "intent": "try"}
    )
    assert response.status_code == 400
    assert "regular expression" in response.content.decode().lower()
    assert not KeywordRule.objects.exists()


def test_try_rule_needs_the_rules_permission(facilitator):
    with pytest.raises(DomainError) as caught:
        services.try_rule(user=facilitator.user, pattern="x", kind="word", category="spam", action="flag", sample="x")
    assert caught.value.code == ErrorCode.FORBIDDEN


# --- a member's own reports ----------------------------------------------------------------------------


def test_a_member_sees_their_reports_waiting_then_decided(member, circle, join, make_user, site_moderator):
    reporter = join(make_user("reporter-own"), circle)
    posted = chat_services.post_message(ctx(member), client_id="m", body="something sharp")
    chat_services.report_message(ctx(reporter), message_id=posted.id, reason="felt unkind")
    client = client_of(reporter.user)
    html = client.get("/accounts/reports/").content.decode()
    assert "Waiting for a moderator" in html and "felt unkind" in html and circle.name in html
    assert member.alias not in html and member.user.username not in html
    flag = Flag.objects.get(message__seq=posted.id, circle=circle)
    services.review_flag(user=site_moderator, flag_id=flag.pk, action="dismiss", reason="fine")
    assert "Decided" in client.get("/accounts/reports/").content.decode()
    assert 'id="reports-empty"' in client_of(member.user).get("/accounts/reports/").content.decode()


# --- live -------------------------------------------------------------------------------------------------


async def test_a_member_report_tells_the_moderators_socket(circle, people, site_moderator):
    """A report reaches the staff socket as a ``queue`` frame (the page refetches its list)."""
    (_author, a), (_reporter, r) = await dsa(people)(circle, 2)
    posted = await dsa(chat_services.post_message)(ctx(a), client_id="live", body="hello there")
    ws = await staff_socket(site_moderator)
    await dsa(chat_services.report_message)(ctx(r), message_id=posted.id, reason="not kind")
    frame = json.loads((await ws.receive_output(timeout=3))["text"])
    flag = await dsa(Flag.objects.get)(message__seq=posted.id, circle=circle)
    assert frame == {"type": "queue", "change": "reported", "flag": flag.pk, "urgent": False}
    await ws.disconnect()
