"""Query budgets: one incoming frame's service call costs a small, fixed number of queries."""

import pytest

from chat import services as chat_services
from community.models import Membership
from core.errors import DomainError, ErrorCode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def compiled_rules(transactional_db, monkeypatch):
    """Budgets are for the steady state: the matcher is compiled once per rule-set
    version per process (one query), not per frame, so compile it before measuring.
    The version is checked once a second (one query on the embedded default, none
    on Redis): a slow machine must not count that check inside a measured frame."""
    from moderation import screening

    monkeypatch.setattr(screening, "RULES_CHECK_SECONDS", 3600.0)
    screening.forget_compiled_rules()
    screening.compiled_rules()


# post_message in a room in use: the client_id lookup, the actor (membership, circle
# and user in one join), the room row (locked), the insert, the room's counters,
# has_posted on a member's first post, and BEGIN/COMMIT where the backend logs them
# (SQLite's BEGIN IMMEDIATE).
SEND_BUDGET = 8
# The very first message of a circle also creates its Room row (once per circle).
FIRST_IN_ROOM_BUDGET = SEND_BUDGET + 5


@pytest.fixture
def ctx(circle, people, post):
    """A member of a room in use (someone else has posted), who has not posted yet."""
    (user, _m), (other, _o) = people(circle, 2)
    post(other, circle, "the room is in use")
    return chat_services.open_room(user=user, slug=circle.slug)


def test_first_message_of_a_room_stays_within_budget(circle, people, django_assert_max_num_queries):
    """The first message ever sent in a circle (creating its room row) stays within its budget."""
    [(user, _m)] = people(circle)
    ctx = chat_services.open_room(user=user, slug=circle.slug)
    with django_assert_max_num_queries(FIRST_IN_ROOM_BUDGET):
        result = chat_services.post_message(ctx, client_id="q1", body="first words")
    assert result.id == 1


def test_first_send_stays_within_budget(ctx, django_assert_max_num_queries):
    """A member's first message (which also locks their alias) stays within the send budget."""
    with django_assert_max_num_queries(SEND_BUDGET):
        result = chat_services.post_message(ctx, client_id="q1", body="first words")
    assert result.id == 2


def test_later_send_stays_within_budget(ctx, django_assert_max_num_queries):
    """A later message costs no more than the first."""
    chat_services.post_message(ctx, client_id="q1", body="first words")
    with django_assert_max_num_queries(SEND_BUDGET - 1):
        result = chat_services.post_message(ctx, client_id="q2", body="**second** words, https://example.org")
    assert result.id == 3


def test_send_cost_does_not_grow_with_history_or_members(ctx, circle, people, post, django_assert_max_num_queries):
    """The send budget holds in a busy room: many members, many messages, reactions."""
    others = people(circle, 10)
    for n, (user, _m) in enumerate(others * 2):
        post(user, circle, f"message {n}")
    chat_services.post_message(ctx, client_id="warm", body="warm up")
    with django_assert_max_num_queries(SEND_BUDGET - 1):
        chat_services.post_message(ctx, client_id="q", body="in a busy room")


def test_retried_send_is_one_query(ctx, django_assert_max_num_queries):
    """A retry of a stored client_id is answered from one lookup."""
    chat_services.post_message(ctx, client_id="q1", body="first words")
    with django_assert_max_num_queries(1):
        result = chat_services.post_message(ctx, client_id="q1", body="first words")
    assert result.duplicate


def test_refused_send_stays_within_budget(ctx, circle, people, django_assert_max_num_queries):
    """A refusal (closed room) is decided from the actor's row, before any write."""
    [(f_user, _f)] = people(circle, role=Membership.Role.FACILITATOR)
    staff = chat_services.open_room(user=f_user, slug=circle.slug)
    chat_services.set_room_closed(staff, closed=True)
    with django_assert_max_num_queries(2), pytest.raises(DomainError) as caught:
        chat_services.post_message(ctx, client_id="q1", body="hello?")
    assert caught.value.code == ErrorCode.ROOM_CLOSED


def test_hello_stays_within_budget(ctx, circle, people, post, django_assert_max_num_queries):
    """The data for ``hello`` (room state, pin, recent history with reaction counts) is a few queries."""
    for n, (user, _m) in enumerate(people(circle, 3) * 10):
        post(user, circle, f"message {n}")
    with django_assert_max_num_queries(5):
        data = chat_services.hello(ctx, since=None, limit=200, replay_max=1000)
    assert len(data["messages"]) == 31


def test_a_batch_of_sends_costs_what_one_send_costs(ctx, circle, people, django_assert_max_num_queries):
    """Group commit: ten members' sends stored together take the queries of one send
    (one lookup each for client_ids and actors, one lock, one insert, one update)."""
    others = [chat_services.open_room(user=u, slug=circle.slug) for u, _m in people(circle, 9)]
    requests = [chat_services.SendRequest(c, f"b{n}", f"batch message {n}") for n, c in enumerate([ctx, *others])]
    with django_assert_max_num_queries(SEND_BUDGET):
        results = chat_services.post_messages(requests)
    assert [r.id for r in results] == list(range(2, 12))
    assert not any(r.duplicate for r in results)
