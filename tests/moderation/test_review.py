"""The review queue: decisions, races, the audit trail, identity kept sealed."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from chat import services as chat_services
from chat.models import Message
from core.errors import DomainError, ErrorCode
from moderation import services
from moderation.models import AuditEntry, Flag

pytestmark = pytest.mark.django_db(transaction=True)


def ctx(m):
    return chat_services.RoomContext(m.user_id, m.circle_id, m.pk, m.alias, m.role)


@pytest.fixture
def flagged(make_rule, member):
    """A published message raised by a flag rule."""
    make_rule("idiot", action="flag")
    result = chat_services.post_message(ctx(member), client_id="q1", body="you idiot")
    return Flag.objects.get(message__seq=result.id, message__circle_id=member.circle_id)


def test_two_moderators_at_once_only_one_succeeds(flagged, site_moderator, site_moderator_2):
    """Of two moderators deciding one item at the same moment, exactly one succeeds;
    the other is told it was already handled."""
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user, action):
        from django.db import connection

        barrier.wait()
        try:
            services.review_flag(user=user, flag_id=flagged.pk, action=action, reason="race")
            outcomes.append("ok")
        except DomainError as err:
            outcomes.append(err.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(site_moderator, "remove")),
        threading.Thread(target=act, args=(site_moderator_2, "dismiss")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes, key=str) == sorted(["ok", ErrorCode.ALREADY_HANDLED], key=str)
    assert AuditEntry.objects.filter(target_message=flagged.message, action__in=["remove", "dismiss"]).count() == 1


def test_reason_is_required(flagged, site_moderator):
    """A decision without a reason is refused and the item stays open."""
    with pytest.raises(DomainError) as err:
        services.review_flag(user=site_moderator, flag_id=flagged.pk, action="remove", reason="  ")
    assert err.value.code == ErrorCode.BAD_FRAME
    flagged.refresh_from_db()
    assert flagged.status == "open"


def test_plain_member_cannot_review(flagged, member):
    """A member acting as a moderator is refused with FORBIDDEN."""
    with pytest.raises(DomainError) as err:
        services.review_flag(user=member.user, flag_id=flagged.pk, action="remove", reason="no")
    assert err.value.code == ErrorCode.FORBIDDEN


@pytest.mark.parametrize("action", ["remove", "warn", "mute", "ban"])
def test_sanctions_remove_the_message_and_act_on_the_member(flagged, site_moderator, action):
    """Remove, warn, mute and ban take the message down; mute and ban change the membership."""
    services.review_flag(user=site_moderator, flag_id=flagged.pk, action=action, reason="hurtful", minutes=15)
    message = Message.objects.get(pk=flagged.message_id)
    assert message.status == "removed"
    author = message.author
    author.refresh_from_db()
    assert author.is_muted() is (action == "mute")
    assert author.banned is (action == "ban")
    entry = AuditEntry.objects.get(action=action)
    assert entry.actor == site_moderator and entry.reason == "hurtful" and entry.target_membership == author


def test_dismiss_keeps_the_message(flagged, site_moderator):
    """Dismissing leaves the message published and resolves the item."""
    services.review_flag(user=site_moderator, flag_id=flagged.pk, action="dismiss", reason="fine in context")
    assert Message.objects.get(pk=flagged.message_id).status == "published"
    assert Flag.objects.get(pk=flagged.pk).resolution == "dismiss"


def test_audit_entries_cannot_be_changed_or_deleted(flagged, site_moderator):
    """The audit log is append-only."""
    services.review_flag(user=site_moderator, flag_id=flagged.pk, action="dismiss", reason="fine")
    entry = AuditEntry.objects.get(action="dismiss")
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "fine"


def test_queue_orders_urgent_first_then_oldest(make_rule, member, site_moderator):
    """Urgent items come first, then by age."""
    from moderation.selectors import review_queue

    make_rule("idiot", action="flag")
    make_rule("end my life", kind="phrase", category="crisis", action="crisis")
    first = chat_services.post_message(ctx(member), client_id="o1", body="idiot one")
    second = chat_services.post_message(ctx(member), client_id="o2", body="idiot two")
    crisis = chat_services.post_message(ctx(member), client_id="o3", body="I want to end my life")
    Flag.objects.filter(message__seq=first.id).update(created_at=timezone.now() - timedelta(minutes=9))
    order = [item.flag.message.seq for item in review_queue(site_moderator)]
    assert order == [crisis.id, first.id, second.id]


def test_queue_page_shows_alias_and_member_number_never_the_handle(flagged, site_moderator, member):
    """The queue shows the author's alias and opaque member number, not the handle."""
    client = Client()
    client.force_login(site_moderator)
    page = client.get("/moderation/").content.decode()
    assert member.alias in page and member.member_number in page
    assert member.user.username not in page


def test_second_moderator_is_told_on_the_page(flagged, site_moderator, site_moderator_2):
    """Through the page, the second decision on one item answers 409 with a clear sentence."""
    one, two = Client(), Client()
    one.force_login(site_moderator)
    two.force_login(site_moderator_2)
    url = f"/moderation/flags/{flagged.pk}/review/"
    assert one.post(url, {"action": "remove", "reason": "hurtful"}).status_code == 302
    response = two.post(url, {"action": "approve", "reason": "fine"})
    assert response.status_code == 409
    assert "already handled" in response.content.decode()


def test_queue_page_is_refused_to_members(member):
    """A plain member gets 403 from the moderation pages."""
    client = Client()
    client.force_login(member.user)
    assert client.get("/moderation/").status_code == 403
    assert client.get("/moderation/audit/").status_code == 403
    assert client.get("/moderation/rules/").status_code == 403


def test_reveal_needs_an_administrator_and_a_reason_and_is_audited(member, site_moderator):
    """Only a site administrator sees the handle behind an alias, with a written reason, audited."""
    moderator = Client()
    moderator.force_login(site_moderator)
    url = f"/moderation/members/{member.pk}/reveal/"
    assert moderator.post(url, {"reason": "I need to know who this is"}).status_code == 403
    admin = get_user_model().objects.create_superuser(username="root-admin", password="x-very-long-pw")
    client = Client()
    client.force_login(admin)
    short = client.post(url, {"reason": "why"})
    assert member.user.username not in short.content.decode()
    response = client.post(url, {"reason": "Credible threat to another member's safety"})
    assert member.user.username in response.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == admin and entry.target_membership == member and "Credible" in entry.reason


def test_unacknowledged_crisis_is_raised_again_once(make_rule, member, site_moderator, settings):
    """An urgent flag nobody acknowledged in time is re-raised exactly once; acknowledging is recorded."""
    make_rule("end my life", kind="phrase", category="crisis", action="crisis")
    result = chat_services.post_message(ctx(member), client_id="u1", body="I want to end my life")
    flag = Flag.objects.get(message__seq=result.id)
    assert services.escalate_overdue() == []
    later = timezone.now() + timedelta(seconds=settings.CRISIS_ESCALATE_SECONDS + 1)
    assert services.escalate_overdue(now=later) == [flag.pk]
    assert services.escalate_overdue(now=later) == []
    services.acknowledge_crisis(user=site_moderator, flag_id=flag.pk)
    flag.refresh_from_db()
    assert flag.acknowledged_by == site_moderator and flag.acknowledged_at is not None
    assert AuditEntry.objects.filter(action="ack_crisis", actor=site_moderator).exists()
    with pytest.raises(DomainError) as err:
        services.acknowledge_crisis(user=site_moderator, flag_id=flag.pk)
    assert err.value.code == ErrorCode.ALREADY_HANDLED


def test_reports_merge_into_one_item_with_a_count(circle, join, make_user, member, site_moderator):
    """Reports from several members become one queue item with their count."""
    posted = chat_services.post_message(ctx(member), client_id="m1", body="something")
    for i in range(2):
        reporter = join(make_user(f"reporter-{i}"), circle)
        chat_services.report_message(ctx(reporter), message_id=posted.id, reason=f"reason {i}")
    flags = Flag.objects.filter(message__seq=posted.id)
    assert flags.count() == 1 and flags.get().report_count == 2


def test_bad_regular_expression_is_refused_when_saved(site_moderator):
    """A bad regular expression is refused on the rule page with a clear message; nothing is saved."""
    from moderation.models import KeywordRule

    client = Client()
    client.force_login(site_moderator)
    response = client.post(
        "/moderation/rules/new/",
        {"pattern": "(unclosed", "kind": "regex", "category": "spam", "action": "flag", "enabled": "on"},
    )
    assert response.status_code == 400
    assert "regular expression" in response.content.decode().lower()
    assert not KeywordRule.objects.exists()


def test_rule_change_is_audited_and_listed_with_hits(site_moderator, member):
    """Saving a rule writes an audit entry; the rule list shows its hits and precision."""
    client = Client()
    client.force_login(site_moderator)
    response = client.post(
        "/moderation/rules/new/",
        {"pattern": "idiot", "kind": "word", "category": "harassment", "action": "flag", "enabled": "on"},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="rule_change", actor=site_moderator).exists()
    posted = chat_services.post_message(ctx(member), client_id="p1", body="idiot")
    flag = Flag.objects.get(message__seq=posted.id)
    services.review_flag(user=site_moderator, flag_id=flag.pk, action="remove", reason="rude")
    page = client.get("/moderation/rules/").content.decode()
    assert "100 %" in page and "(1/1)" in page


def test_edit_caught_by_a_rule_reopens_a_decided_item(flagged, site_moderator, make_rule, member):
    """A dismissed item comes back to the queue when its message is edited into held text."""
    services.review_flag(user=site_moderator, flag_id=flagged.pk, action="dismiss", reason="fine")
    make_rule("plug", category="sourcing", action="hold")
    result = chat_services.edit_message(ctx(member), message_id=flagged.message.seq, body="ask my plug")
    assert result["verdict"] == "held"
    flag = Flag.objects.get(pk=flagged.pk)
    assert flag.status == "open" and flag.resolution == "" and flag.category == "sourcing"
    assert Message.objects.get(pk=flagged.message_id).status == "held"


def _queue_of(prefix, n_circles, per_circle, make_circle, make_user, join):
    """Queue items in several circles, with published messages around each."""
    for c in range(n_circles):
        circle = make_circle(name=f"Queue {prefix}{c}", slug=f"queue-{prefix}{c}")
        members = [join(make_user(f"q{prefix}{c}-{k}"), circle) for k in range(3)]
        for k in range(per_circle):
            author = members[k % 3]
            chat_services.post_message(ctx(author), client_id=f"b{k}", body=f"plain words {k}")
            chat_services.post_message(ctx(author), client_id=f"f{k}", body=f"what an idiot {k}")
        chat_services.post_message(ctx(members[0]), client_id="last", body="the end")


def _queue_page_queries(site_moderator, django_assert_max_num_queries, budget):
    client = Client()
    client.force_login(site_moderator)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/moderation/")
    assert page.status_code == 200
    return len(captured), page.content.decode()


QUEUE_PAGE_BUDGET = 12


def test_queue_page_queries_do_not_grow_with_the_queue(
    make_circle, make_user, join, make_rule, site_moderator, django_assert_max_num_queries
):
    """The queue page costs a fixed number of queries, whether it holds 2 items
    or 40 across several circles (it made about 400 for 200 items before)."""
    make_rule("idiot", action="flag")
    _queue_of("a", 1, 2, make_circle, make_user, join)
    small, _small_page = _queue_page_queries(site_moderator, django_assert_max_num_queries, QUEUE_PAGE_BUDGET)
    _queue_of("b", 4, 10, make_circle, make_user, join)
    large, large_page = _queue_page_queries(site_moderator, django_assert_max_num_queries, QUEUE_PAGE_BUDGET)
    assert small <= QUEUE_PAGE_BUDGET and large <= QUEUE_PAGE_BUDGET, (small, large)
    assert large == small
    assert large_page.count("what an idiot") >= 42  # every item, with its context


def test_queue_items_show_the_published_messages_around_them(flagged, member, site_moderator):
    """Each item carries up to two published messages before and after it, in order,
    skipping what is not published."""
    from moderation.selectors import review_queue

    c = ctx(member)
    chat_services.post_message(c, client_id="a1", body="after one")
    chat_services.post_message(c, client_id="a2", body="after two")
    chat_services.post_message(c, client_id="a3", body="after three")
    removed = Message.objects.get(client_id="a1", circle_id=member.circle_id)
    chat_services.do_remove_message(removed)
    [item] = review_queue(site_moderator)
    assert item.before == []
    assert [m.body for m in item.after] == ["after two", "after three"]


def test_reporters_are_told_when_their_report_is_decided(make_user, member, circle, join, site_moderator):
    """Every member who reported an item gets a neutral notification once it is
    decided (not how, not by whom); the author gets none of it."""
    from community.models import Notification

    result = chat_services.post_message(ctx(member), client_id="r1", body="something sharp")
    reporters = [join(make_user(f"reporter-{n}"), circle) for n in range(2)]
    for reporter in reporters:
        chat_services.report_message(ctx(reporter), message_id=result.id, reason="unkind")
    flag = Flag.objects.get(message__seq=result.id, message__circle=circle)
    services.review_flag(user=site_moderator, flag_id=flag.pk, action="remove", reason="hurtful")
    notes = Notification.objects.filter(kind="report_decided")
    assert sorted(n.user_id for n in notes) == sorted(r.user_id for r in reporters)
    assert all("looked at" in n.text and member.alias not in n.text for n in notes)
    assert not Notification.objects.filter(user=member.user).exists()
