"""Members own their data (issue 11.17, 11.18): a download of everything held
about them, deletion that may erase what they wrote, and retention."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat import services as chat_services
from chat.models import Message, Reaction
from community import services
from moderation.models import Flag, RuleHit

pytestmark = pytest.mark.django_db(transaction=True)


def _ctx(membership):
    return chat_services.open_room(user=membership.user, slug=membership.circle.slug)


def test_the_download_holds_everything_about_the_member_and_nobody_else(
    client_for, make_user, circle, make_circle, join
):
    me = make_user("owner-of-data")
    other = make_user("someone-else")
    second = make_circle(name="Second", slug="second")
    mine = join(me, circle)
    join(me, second)
    theirs = join(other, circle)
    my_msg = chat_services.post_message(_ctx(mine), client_id="m1", body="my own words")
    their_msg = chat_services.post_message(_ctx(theirs), client_id="t1", body="their words")
    chat_services.react(_ctx(mine), message_id=their_msg.id, reaction="hug", on=True)
    chat_services.report_message(_ctx(mine), message_id=their_msg.id, reason="felt unkind")
    response = client_for(me).get("/accounts/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["handle"] == "owner-of-data"
    assert {m["alias"] for m in data["memberships"]} == {mine.alias, me.memberships.get(circle=second).alias}
    assert [m["text"] for m in data["messages"]] == ["my own words"]
    assert data["messages"][0]["id"] == my_msg.id
    assert data["reactions"] == [
        {"circle": circle.name, "message": their_msg.id, "reaction": "hug", "at": data["reactions"][0]["at"]}
    ]
    assert [r["reason"] for r in data["reports"]] == ["felt unkind"]
    text = response.content.decode()
    assert "their words" not in text and "someone-else" not in text and theirs.alias not in text


def test_the_download_needs_a_signed_in_member(client):
    assert client.get("/accounts/export/").status_code == 302


def test_deleting_the_account_may_erase_everything_written(make_user, circle, join, connect, people):
    me = make_user("leaving-for-good")
    mine = join(me, circle)
    first = chat_services.post_message(_ctx(mine), client_id="a", body="first thing I said")
    second = chat_services.post_message(_ctx(mine), client_id="b", body="second thing I said")
    services.delete_account(user=me, erase_messages=True)
    rows = list(
        Message.objects.filter(seq__in=[first.id, second.id], circle=circle).values_list(
            "status", "body", "html", "alias"
        )
    )
    assert rows == [("deleted", "", "", chat_services.FORMER_MEMBER)] * 2


def test_deleting_the_account_without_erasing_keeps_messages_under_their_alias(make_user, circle, join):
    me = make_user("leaving-quietly")
    mine = join(me, circle)
    sent = chat_services.post_message(_ctx(mine), client_id="a", body="words that stay")
    services.delete_account(user=me)
    message = Message.objects.get(circle=circle, seq=sent.id)
    assert (message.status, message.body, message.alias) == ("published", "words that stay", mine.alias)
    assert message.author.user is None


def test_retention_deletes_old_messages_but_not_those_under_an_open_case(make_user, circle, join):
    from moderation import screening
    from moderation.services import save_rule

    save_rule(user=None, pattern="idiot", kind="word", category="harassment", action="flag")
    screening.forget_compiled_rules()
    member = join(make_user("retained"), circle)
    ctx = _ctx(member)
    old_plain = chat_services.post_message(ctx, client_id="o1", body="an old ordinary message")
    old_flagged = chat_services.post_message(ctx, client_id="o2", body="an old message, you idiot")
    chat_services.react(ctx, message_id=old_plain.id, reaction="heart", on=True)
    new = chat_services.post_message(ctx, client_id="n1", body="a recent message")
    Message.objects.filter(circle=circle, seq__in=[old_plain.id, old_flagged.id]).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    circle.retention_days = 30
    circle.save(update_fields=["retention_days"])
    call_command("apply_retention", "--dry-run")
    assert Message.objects.filter(circle=circle).count() == 3
    call_command("apply_retention")
    left = set(Message.objects.filter(circle=circle).values_list("seq", flat=True))
    assert left == {old_flagged.id, new.id}
    assert not Reaction.objects.filter(message__seq=old_plain.id, message__circle=circle).exists()
    Flag.objects.filter(message__circle=circle).update(status=Flag.Status.RESOLVED)
    call_command("apply_retention")
    assert set(Message.objects.filter(circle=circle).values_list("seq", flat=True)) == {new.id}
    assert not RuleHit.objects.filter(message__circle=circle).exists()
