"""Sharing a resource into the live room (the ``share`` frame and its page twin):
a message like any other, screened, chained and broadcast, carrying a card."""

import pytest
from channels.db import database_sync_to_async as dsa
from django.test import Client

from chat import services as chat_services
from chat.models import Message, Room
from community.models import Membership
from library import resources
from library.models import ResourcePost
from moderation.models import RuleHit
from tests.library.conftest import resource_input

pytestmark = pytest.mark.django_db(transaction=True)


def _post(user, circle, **fields) -> ResourcePost:
    return resources.post_resource(user=user, circle=circle, data=resource_input(**fields)).resource


def _site_resource(moderator) -> ResourcePost:
    return _post(moderator, None, title="Box breathing")


async def _scene(people, circle):
    [(f_user, _f)] = await dsa(people)(circle, role=Membership.Role.FACILITATOR)
    [(m_user, _m)] = await dsa(people)(circle)
    resource = await dsa(_post)(f_user, circle, title="Evening *breath*")
    return f_user, m_user, resource


async def test_a_shared_resource_reaches_the_room_as_a_card(connect, circle, people):
    """The facilitator gets an ack; every member gets a message naming the
    resource, with its card (title, kind, phase, its page), never its author."""
    f_user, m_user, resource = await _scene(people, circle)
    f_room, m_room = await connect(f_user, circle), await connect(m_user, circle)
    await f_room.send(type="share", client_id="s-1", resource=resource.pk)
    ack = await f_room.sent()
    assert (ack["verdict"], ack["duplicate"]) == ("published", False)
    frame = await m_room.recv_type("message")
    message = frame["message"]
    assert message["id"] == ack["id"] and frame["prev"] == 0
    assert message["resource"] == {
        "id": resource.pk,
        "title": "Evening *breath*",
        "kind": "breathwork",
        "kind_label": "Breathwork",
        "phase": "integration",
        "phase_label": "Integration and aftercare",
        "url": f"/library/r/{resource.pk}/",
    }
    assert "From the library" in message["html"] and "Evening *breath*" in message["html"]
    await f_room.close()
    await m_room.close()


async def test_a_retried_share_is_one_message_and_history_keeps_the_card(connect, circle, people):
    f_user, m_user, resource = await _scene(people, circle)
    f_room = await connect(f_user, circle)
    await f_room.send(type="share", client_id="s-1", resource=resource.pk)
    first = await f_room.sent()
    await f_room.send(type="share", client_id="s-1", resource=resource.pk)
    again = await f_room.recv_type("ack")
    assert again["duplicate"] and again["id"] == first["id"]
    assert await dsa(Message.objects.filter(resource=resource).count)() == 1
    later = await connect(m_user, circle)
    assert later.hello["messages"][-1]["resource"]["id"] == resource.pk
    await f_room.close()
    await later.close()


async def test_a_share_may_be_pinned_for_the_session(connect, circle, people):
    f_user, m_user, resource = await _scene(people, circle)
    f_room, m_room = await connect(f_user, circle), await connect(m_user, circle)
    await f_room.send(type="share", client_id="s-2", resource=resource.pk, pin=True)
    got = await m_room.recv_types("message", "pinned")
    assert got["pinned"]["message"]["resource"]["id"] == resource.pk
    assert (await f_room.recv_types("ack", "message", "pinned"))["ack"]["verdict"] == "published"
    again = await connect(m_user, circle)
    assert again.hello["room"]["pinned"]["resource"]["title"] == "Evening *breath*"
    for room in (f_room, m_room, again):
        await room.close()


async def test_members_cannot_share(connect, circle, people):
    _f, m_user, resource = await _scene(people, circle)
    m_room = await connect(m_user, circle)
    await m_room.send(type="share", client_id="s-3", resource=resource.pk)
    await m_room.error("forbidden")
    assert await dsa(Message.objects.count)() == 0
    await m_room.close()


async def test_another_circles_or_a_waiting_resource_is_not_found(
    connect, circle, people, make_circle, join, site_moderator
):
    f_user, m_user, _resource = await _scene(people, circle)
    other = await dsa(make_circle)(name="Other", slug="other")
    [(of_user, _of)] = await dsa(people)(other, role=Membership.Role.FACILITATOR)
    elsewhere = await dsa(_post)(of_user, other, title="Theirs")
    waiting = await dsa(_post)(m_user, circle, title="A suggestion")
    f_room = await connect(f_user, circle)
    for resource_id in (elsewhere.pk, waiting.pk, 999_999):
        await f_room.send(type="share", client_id=f"s-{resource_id}", resource=resource_id)
        await f_room.error("not_found")
    # the site-wide library is shareable everywhere
    await f_room.send(type="share", client_id="s-site", resource=(await dsa(_site_resource)(site_moderator)).pk)
    assert (await f_room.sent())["verdict"] == "published"
    await f_room.close()


async def test_a_share_is_screened_like_any_message(connect, circle, people):
    from moderation import services as moderation_services

    f_user, _m, resource = await _scene(people, circle)
    await dsa(moderation_services.save_rule)(user=None, pattern="breath", kind="word", category="spam", action="flag")
    f_room = await connect(f_user, circle)
    await f_room.send(type="share", client_id="s-4", resource=resource.pk)
    await f_room.sent()
    hit = await dsa(RuleHit.objects.select_related("message").get)()
    assert hit.message is not None and hit.message.resource_id == resource.pk
    await f_room.close()


async def test_a_removed_resource_leaves_the_card_out(connect, circle, people):
    f_user, m_user, resource = await _scene(people, circle)
    f_room = await connect(f_user, circle)
    await f_room.send(type="share", client_id="s-5", resource=resource.pk)
    await f_room.sent()
    await dsa(resources.remove_resource)(user=f_user, pk=resource.pk)
    later = await connect(m_user, circle)
    assert "resource" not in later.hello["messages"][-1]
    await f_room.close()
    await later.close()


def test_the_circle_page_share_form_shares_and_answers_json(circle, people, settings):
    """The page twin of the frame: same service, a JSON answer for the page's script."""
    settings.SITE_URL = "https://circles.example.org"
    [(f_user, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    resource = _post(f_user, circle)
    client = Client()
    client.force_login(f_user)
    response = client.post(
        f"/circles/{circle.slug}/share/",
        {"resource": resource.pk, "client_id": "page-1", "pin": "on"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json()["verdict"] == "published"
    message = Message.objects.get(resource=resource)
    assert f'href="https://circles.example.org/library/r/{resource.pk}/"' in message.html
    assert Room.objects.get(circle=circle).pinned_id == message.pk
    refused = client.post(f"/circles/{circle.slug}/share/", {"resource": 0}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_a_member_posting_the_share_form_is_refused(circle, people, member):
    [(f_user, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    resource = _post(f_user, circle)
    client = Client()
    client.force_login(member.user)
    response = client.post(f"/circles/{circle.slug}/share/", {"resource": resource.pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and not Message.objects.exists()


def test_sharing_costs_what_a_send_costs(circle, people, django_assert_max_num_queries):
    """One share: the actor, the resource, then a send's budget (tests/chat/test_query_budget.py)."""
    [(f_user, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    resource = _post(f_user, circle)
    ctx = chat_services.open_room(user=f_user, slug=circle.slug)
    chat_services.post_message(ctx, client_id="warm", body="the room is in use")
    with django_assert_max_num_queries(2 + 7):
        chat_services.share_resource(ctx, client_id="q", resource_id=resource.pk)
