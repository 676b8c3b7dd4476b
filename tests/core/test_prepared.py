"""core.prepared: a read compiled once per thread reads what the queryset reads,
in one query, and refuses what it cannot prepare."""

import threading
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, connections
from django.db.models import Count, Q
from django.utils import timezone

from chat.models import Message, Reaction, Room, Seat
from community.models import Circle, Membership
from community.sessions import SessionStore
from core.prepared import Prepared, PreparedError
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


def fields_of(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def room(circle, make_user, join):
    members = [join(make_user(f"p-{n}"), circle) for n in range(3)]
    Seat.objects.create(membership=members[0], last_read=7, hidden=["Quiet Fern", "Ash"])
    messages = [
        Message.objects.create(
            circle=circle,
            seq=n + 1,
            author=members[n % 3],
            alias=f"a{n}",
            body=f"b{n}",
            html=f"h{n}",
            client_id=f"c{n}",
        )
        for n in range(6)
    ]
    Message.objects.filter(pk=messages[4].pk).update(status=Message.Status.HELD, edited_at=timezone.now())
    for m in messages[:3]:
        Reaction.objects.create(message=m, member=members[0], kind="heart")
        Reaction.objects.create(message=m, member=members[1], kind="heart")
    Reaction.objects.create(message=messages[1], member=members[2], kind="hug")
    room = Room.objects.get_or_create(circle=circle)[0]
    Room.objects.filter(pk=room.pk).update(pinned=messages[2], last_published_seq=6)
    return members, messages


MEMBER = Prepared(lambda pk: Membership.objects.select_related("circle", "seat").filter(pk=pk)[:1])


def test_a_model_read_with_select_related_is_the_querysets(room):
    members, _ = room
    for m in members:
        expected = Membership.objects.select_related("circle", "seat").get(pk=m.pk)
        got = MEMBER.model(m.pk)
        assert fields_of(got) == fields_of(expected)
        assert fields_of(got.circle) == fields_of(expected.circle)
        # The reverse one-to-one: read, or known to be missing (no query either way).
        with _no_queries():
            has_seat = hasattr(got, "seat")
        assert has_seat == hasattr(expected, "seat")
        if has_seat:
            assert fields_of(got.seat) == fields_of(expected.seat)
            assert got.seat.hidden == ["Quiet Fern", "Ash"]  # JSON read back through its converter
    assert MEMBER.model(10**9) is None


def _no_queries():
    from django.test.utils import CaptureQueriesContext

    class Guard(CaptureQueriesContext):
        def __exit__(self, *exc):
            super().__exit__(*exc)
            assert not self.captured_queries, self.captured_queries

    return Guard(connection)


def test_a_nullable_chain_of_select_related_reads_as_django_reads_it(circle, room):
    prepared = Prepared(lambda cid: Room.objects.filter(circle_id=cid).select_related("pinned", "pinned__resource")[:1])
    got, expected = (
        prepared.model(circle.pk),
        Room.objects.select_related("pinned", "pinned__resource").get(circle=circle),
    )
    assert fields_of(got) == fields_of(expected)
    assert fields_of(got.pinned) == fields_of(expected.pinned)
    assert got.pinned.resource is None and expected.pinned.resource is None
    assert isinstance(got.pinned.created_at, type(timezone.now()))


def test_one_query_per_read_and_the_same_sql_each_time(room, django_assert_num_queries):
    members, _ = room
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        for m in members:
            MEMBER.model(m.pk)
    assert len(q.captured_queries) == 3
    assert len({x["sql"].split(" WHERE ")[0] for x in q.captured_queries}) == 1


def test_rows_of_an_annotated_values_list_with_a_list_argument(room):
    members, messages = room
    prepared = Prepared(
        lambda ids, viewer: (
            Reaction.objects.filter(message__in=ids)
            .values_list("message_id", "kind")
            .annotate(n=Count("id"), own=Count("id", filter=Q(member_id=viewer)))
            .order_by("message_id", "kind")
        )
    )
    for ids in ([messages[0].pk], [m.pk for m in messages[:2]], [m.pk for m in messages], [m.pk for m in messages[3:]]):
        for viewer in (members[0].pk, members[2].pk, 0):
            expected = list(
                Reaction.objects.filter(message__in=ids)
                .values_list("message_id", "kind")
                .annotate(n=Count("id"), own=Count("id", filter=Q(member_id=viewer)))
                .order_by("message_id", "kind")
            )
            assert prepared.rows(ids, viewer) == expected


def test_a_keyword_shapes_the_sql_and_each_value_is_its_own(circle, room):
    prepared = Prepared(lambda cid, *, limit: Message.objects.filter(circle_id=cid).order_by("-seq")[:limit])
    assert [m.seq for m in prepared.models(circle.pk, limit=2)] == [6, 5]
    assert [m.seq for m in prepared.models(circle.pk, limit=4)] == [6, 5, 4, 3]
    assert [m.seq for m in prepared.models(circle.pk, limit=2)] == [6, 5]


def test_text_arguments_and_datetimes_read_back(circle):
    prepared = Prepared(lambda slug: Circle.objects.filter(slug=slug).values_list("pk", "created_at")[:1])
    [(pk, created)] = prepared.rows(circle.slug)
    assert pk == circle.pk
    assert abs(created - Circle.objects.get(pk=pk).created_at) < timedelta(microseconds=1)
    assert prepared.rows("no-such-circle") == []
    # A text argument is a parameter, never SQL.
    assert prepared.rows("x' OR '1'='1") == []


def test_each_thread_compiles_its_own_and_uses_its_own_connection(room):
    members, _ = room
    results, errors = [], []

    def read():
        try:
            results.append(MEMBER.model(members[1].pk).alias)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [members[1].alias] * 3


@pytest.mark.parametrize(
    ("build", "args", "why"),
    [
        # Sizes a slice: not a parameter.
        (lambda n: Message.objects.all()[:n], (3,), "depends on an argument"),
        # Wrapped by the lookup (LIKE %...%).
        (lambda text: Message.objects.filter(body__contains=text), ("x",), "reach"),
        # Not an argument type.
        (lambda flag: Message.objects.filter(edited_at__isnull=flag), (True,), "int, str or a list"),
        (lambda ids: Message.objects.filter(pk__in=ids), (["1"],), "does not reach"),
        # Flat values and dicts are not prepared.
        (lambda pk: Message.objects.filter(pk=pk).values_list("seq", flat=True), (1,), "cannot be prepared"),
        (lambda pk: Message.objects.filter(pk=pk).values("seq"), (1,), "cannot be prepared"),
    ],
)
def test_what_cannot_be_prepared_is_refused(build, args, why):
    with pytest.raises(PreparedError, match=why):
        Prepared(build).models(*args)


def test_a_read_asks_for_what_the_queryset_gives(circle):
    with pytest.raises(PreparedError, match="rows"):
        Prepared(lambda pk: Circle.objects.filter(pk=pk).values_list("pk")).models(circle.pk)
    with pytest.raises(PreparedError, match="models"):
        Prepared(lambda pk: Circle.objects.filter(pk=pk)).rows(circle.pk)


def test_a_related_managers_queryset_is_refused(circle):
    with pytest.raises(PreparedError, match="related manager"):
        Prepared(lambda pk: Circle.objects.get(pk=circle.pk).memberships.filter(pk=pk)).models(1)


def test_a_range_lookup_on_an_unsigned_field_keeps_its_parameter(circle, room):
    """Django drops a lookup whose value lies outside its field's range (a
    negative bound on a positive field); the stand-ins stay inside every range."""
    prepared = Prepared(lambda cid, since: Message.objects.filter(circle_id=cid, seq__gt=since).order_by("seq"))
    assert [m.seq for m in prepared.models(circle.pk, 0)] == [1, 2, 3, 4, 5, 6]
    assert [m.seq for m in prepared.models(circle.pk, 4)] == [5, 6]
    assert prepared.models(circle.pk, 6) == []


def test_an_empty_list_matches_nothing_without_a_query(room, django_assert_num_queries):
    """As Django: an empty ``__in`` list reads nothing and asks the database nothing."""
    members, messages = room
    prepared = Prepared(
        lambda ids, viewer: Reaction.objects.filter(message__in=ids, member_id=viewer).values_list("kind")
    )
    with django_assert_num_queries(0):
        assert prepared.rows([], members[0].pk) == []
    assert prepared.rows([messages[0].pk], members[0].pk) == [("heart",)]


@pytest.mark.parametrize(
    ("build", "arg"),
    [
        # An argument changed on its way lands on no stand-in of its own: refused,
        # never bound to the next argument.
        (lambda since, cid: Message.objects.filter(circle_id=cid, seq__gte=since + 1), 2),
        (lambda since, cid: Message.objects.filter(circle_id=cid, seq__gte=since + 15), 2),
    ],
)
def test_an_argument_changed_on_its_way_is_refused(build, arg):
    with pytest.raises(PreparedError, match=r"changed|depends|does not reach"):
        Prepared(build).models(arg, 1)


def test_a_value_a_lookup_escapes_is_refused_where_it_is_escaped(circle, room):
    """SQLite's iexact is a LIKE with % _ and \\ escaped in the value: refused
    there; PostgreSQL compares UPPER()s of the value as it is: read as Django."""
    prepared = Prepared(lambda alias, cid: Message.objects.filter(circle_id=cid, alias__iexact=alias).order_by("seq"))
    for alias in ("A1", "a_", "a%"):
        expected = [m.seq for m in Message.objects.filter(circle_id=circle.pk, alias__iexact=alias).order_by("seq")]
        if connection.vendor == "sqlite":
            with pytest.raises(PreparedError, match="changed"):
                prepared.models(alias, circle.pk)
        else:
            assert [m.seq for m in prepared.models(alias, circle.pk)] == expected


def test_columns_selected_only_to_order_a_distinct_read_are_cut(circle, room):
    prepared = Prepared(
        lambda cid: Message.objects.filter(circle_id=cid).values_list("author_id").distinct().order_by("seq")
    )
    expected = list(Message.objects.filter(circle_id=circle.pk).values_list("author_id").distinct().order_by("seq"))
    assert prepared.rows(circle.pk) == expected
    assert all(len(row) == 1 for row in expected)


def test_text_and_int_subclasses_are_their_base_types(circle, room):
    prepared = Prepared(lambda cid, status: Message.objects.filter(circle_id=cid, status=status).order_by("seq"))
    assert [m.seq for m in prepared.models(circle.pk, Message.Status.HELD)] == [5]


def test_an_integer_beyond_the_databases_range_is_refused():
    prepared = Prepared(lambda since: Message.objects.filter(seq__gt=since))
    with pytest.raises(PreparedError, match="range"):
        prepared.models(2**64)


async def test_the_async_session_read_keeps_the_same_rule(make_user):
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)()
    key = await sync_to_async(session_cookie_for)(user)
    assert (await SessionStore(key).aload())["_auth_user_id"] == str(user.pk)
    await Session.objects.filter(session_key=key).aupdate(expire_date=timezone.now() - timedelta(seconds=1))
    ended = SessionStore(key)
    assert await ended.aload() == {}
    assert ended.session_key is None


def test_padded_lists_of_ids_and_texts_read_as_the_queryset_with_few_shapes(circle, room):
    """``pad_lists``: an ``__in`` list grows to a power of two by repeating its
    last item; it reads the same, and lists of 1 to 6 items share 4 shapes."""
    members, _messages = room
    prepared = Prepared(
        lambda authors, client_ids: (
            Message.objects.filter(author_id__in=authors, client_id__in=client_ids)
            .order_by("seq")
            .values_list("seq", "client_id")
        ),
        pad_lists=True,
    )
    authors = [m.pk for m in members]
    for n in range(1, 7):
        cids = [f"c{k}" for k in range(n)]
        for some in (authors[:1], authors):
            expected = list(
                Message.objects.filter(author_id__in=some, client_id__in=cids)
                .order_by("seq")
                .values_list("seq", "client_id")
            )
            assert prepared.rows(some, cids) == expected
    assert len(prepared._local.cache) <= 4 * 2


def test_a_list_mixing_ints_and_texts_is_refused():
    with pytest.raises(PreparedError, match="int only, or str only"):
        Prepared(lambda ids: Message.objects.filter(pk__in=ids)).models([1, "2"])
