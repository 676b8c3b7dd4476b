"""ORM reads compiled once, run many times: for the few queries every socket
connect makes.

Django builds a query's SQL anew on every run, and for a small read that is
most of the cost: a membership by primary key costs about 0.7 ms through the
ORM and 0.06 ms once its SQL is known (bench/README.md, the session-start
storm).  ``Prepared`` lets the ORM write the SQL once per worker thread, with
stand-in values for the arguments, and then runs that SQL with the real ones:
the query is still written as a queryset, so its shape stays with the models.

Rules, checked when the SQL is first built (``PreparedError``):

- each argument reaches the SQL only as a query parameter, unchanged (a
  filter value, an ``__in`` list); an argument used to slice, changed on its
  way (``since + 1``, a LIKE lookup's escaping) or wrapped (``__contains``) is
  refused.  ``build`` must not branch on its arguments either: it runs with
  stand-ins only, and what it decided then holds for every later call;
- the queryset is a model queryset (``select_related`` and annotations as
  usual; read with ``models``), or a ``values_list`` queryset, not flat (read
  with ``rows``), made from a model's manager (not a related manager);
- arguments are ``int`` (within the database's 64-bit range), ``str`` or
  lists of either (a list's length is part of the compiled shape; with
  ``pad_lists`` lists, all used with ``__in``, are padded to a power of two
  by repeating their last item, so that batches of any size share a few
  shapes).  What
  must shape the SQL itself (a slice's size) is a keyword argument: passed
  to ``build`` as it is, and a part of the shape, so each value is compiled
  once.

The run goes through Django's cursor (query counts, error wrapping, the
connection's lifetime) and Django's value converters, so a row reads as it
would through the queryset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

M = TypeVar("M", bound=Model)

Arg = int | str | Sequence[int] | Sequence[str]

# Stand-ins: compiled twice, with two sets, so that a constant which happens
# to equal a stand-in is never taken for an argument, and an argument changed
# on its way (``since + 1``, a lookup's escaping) is refused: the two sets
# step differently, so a changed value never lands on the same argument's
# stand-in in both.  Ints: small and positive, valid for every integer field
# (Django folds a lookup whose value is out of its field's range, and the
# parameter would vanish).  Text: no real text holds NUL, and the LIKE
# wildcards and escape show whether a lookup escaped it.
_INT_SETS = ((20_000, 3), (26_000, 5))  # (base, step): at most 32,767
_MAX_INTS = (32_767 - 26_000) // 5
# What the database's integers hold (a larger one is refused, not sent).
_INT_RANGE = range(-(2**63), 2**63)


class PreparedError(TypeError):
    """The queryset cannot be prepared (see the module's rules)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str | None  # None: the query can match nothing (an empty ``__in`` list)
    # For each SQL parameter: ``(k, j)`` takes argument k (element j of a list,
    # -1 for a scalar); ``None`` keeps the constant in ``constants``.
    slots: tuple[tuple[int, int] | None, ...]
    constants: tuple[Any, ...]
    compiler: Any  # django's SQLCompiler: its converters read the rows
    converters: dict[int, Any]
    kind: str  # "models" or "rows"
    model: type[Model]
    # Models: the main model's columns and attnames, how select_related's
    # objects are made from a row (Django's own), and annotations' columns.
    fields: slice
    names: tuple[str, ...]
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    # Columns the ORM selected only to order by (distinct + order_by): cut, as
    # Django's execute_sql cuts them.
    trim: int | None = None


def _shape(args: tuple[Arg, ...]) -> tuple[Any, ...]:
    shape: list[Any] = []
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, str, list, tuple)):
            raise PreparedError(f"prepared arguments are int, str or a list of one of them, not {type(arg).__name__}")
        if isinstance(arg, (list, tuple)):
            if all(isinstance(x, str) for x in arg) and arg:
                shape.append(("strs", len(arg)))
                continue
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in arg):
                raise PreparedError("a prepared list argument holds int only, or str only")
            if not all(x in _INT_RANGE for x in arg):
                raise PreparedError("an integer argument is outside the database's range")
            shape.append(("list", len(arg)))
        elif isinstance(arg, str):
            shape.append("str")
        else:
            if arg not in _INT_RANGE:
                raise PreparedError("an integer argument is outside the database's range")
            shape.append("int")
    ints = sum(1 if kind == "int" else kind[1] for kind in shape if kind == "int" or kind[0] == "list")
    if ints > _MAX_INTS:
        raise PreparedError(f"at most {_MAX_INTS} integer arguments")
    return tuple(shape)


def _padded(args: tuple[Arg, ...]) -> tuple[Arg, ...]:
    """Lists grown to the next power of two by repeating their last item: an
    ``__in`` list reads the same, and a batch of any size needs few shapes."""
    out: list[Arg] = []
    for arg in args:
        if isinstance(arg, (list, tuple)) and arg:
            size = 1 << (len(arg) - 1).bit_length()
            out.append([*arg, *[arg[-1]] * (size - len(arg))])
        else:
            out.append(arg)
    return tuple(out)


def _stand_ins(shape: tuple[Any, ...], variant: int) -> tuple[tuple[Any, ...], dict[Any, tuple[int, int]]]:
    args: list[Any] = []
    where: dict[Any, tuple[int, int]] = {}
    n, step = _INT_SETS[variant]
    for k, kind in enumerate(shape):
        if kind == "str":
            value = f"\x00prepared-{k}-{variant}%_\\\x00"
            args.append(value)
            where[value] = (k, -1)
        elif kind == "int":
            n += step
            args.append(n)
            where[n] = (k, -1)
        elif kind[0] == "strs":
            texts = [f"\x00prepared-{k}.{j}-{variant}%_\\\x00" for j in range(kind[1])]
            args.append(texts)
            where.update({text: (k, j) for j, text in enumerate(texts)})
        else:
            items = []
            for j in range(kind[1]):
                n += step
                items.append(n)
                where[n] = (k, j)
            args.append(items)
    return tuple(args), where


class Prepared(Generic[M]):
    """``build(*args)`` returns the queryset; ``Prepared(build).models(*args)``
    (or ``.rows``) runs it with its SQL built once per thread and argument shape."""

    def __init__(
        self, build: Callable[..., QuerySet[M, Any]], *, using: str = "default", pad_lists: bool = False
    ) -> None:
        self.build = build
        self.using = using
        self._local = threading.local()
        # Only for lists used with ``__in`` (repeats read the same there).
        self.pad_lists = pad_lists

    def _compiled(self, shape: tuple[Any, ...], fixed: dict[str, int]) -> _Compiled:
        cache: dict[tuple[Any, ...], _Compiled] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        key = (shape, tuple(sorted(fixed.items())))
        found = cache.get(key)
        if found is None:
            found = cache[key] = self._compile(shape, fixed)
        return found

    def _compile(self, shape: tuple[Any, ...], fixed: dict[str, int]) -> _Compiled:
        (qs, compiler, sql, params, where), (_, _, sql_b, params_b, where_b) = (
            self._build(shape, fixed, v) for v in (0, 1)
        )
        if sql != sql_b or len(params) != len(params_b):
            raise PreparedError("the SQL depends on an argument's value: make that a keyword argument")
        iterable = qs._iterable_class
        if iterable is ModelIterable:
            kind = "models"
        elif iterable is ValuesListIterable:
            kind = "rows"
        else:
            raise PreparedError(f"{iterable.__name__} querysets cannot be prepared")
        if sql is None:
            return _Compiled(
                sql=None,
                slots=(),
                constants=(),
                compiler=None,
                converters={},
                kind=kind,
                model=qs.model,
                fields=slice(0),
                names=(),
                populators=(),
                annotations=(),
            )
        slots: list[tuple[int, int] | None] = []
        for a, b in zip(params, params_b, strict=True):
            slot = where.get(a) if _plain(a) and _plain(b) and a != b else None
            if a != b and (slot is None or where_b.get(b) != slot):
                raise PreparedError("an argument reaches the SQL changed (wrapped in a lookup, or converted)")
            slots.append(slot)
        missing = set(where.values()) - set(slots)
        if missing:
            k = min(missing)[0]
            raise PreparedError(f"argument {k} does not reach the SQL as a plain parameter")
        select = compiler.select
        converters = compiler.get_converters([col for col, _, _ in select[: compiler.col_count]])
        fields, names, annotations = slice(0), (), ()
        populators: tuple[Any, ...] = ()
        if kind == "models":  # as Django's ModelIterable reads a row
            info = compiler.klass_info
            fields = slice(info["select_fields"][0], info["select_fields"][-1] + 1)
            names = tuple(col.target.attname for col, _, _ in select[fields])
            # django-stubs 6 describes Django 6's signature (a fourth argument,
            # fetch_mode); the Django we run (5.2) takes three.
            populators = tuple(get_related_populators(info, select, self.using))  # type: ignore[call-arg]
            annotations = tuple((compiler.annotation_col_map or {}).items())
        return _Compiled(
            sql=sql,
            slots=tuple(slots),
            constants=tuple(params),
            compiler=compiler,
            converters=converters,
            kind=kind,
            model=qs.model,
            fields=fields,
            names=names,
            populators=populators,
            annotations=annotations,
            trim=compiler.col_count if compiler.has_extra_select else None,
        )

    def _build(
        self, shape: tuple[Any, ...], fixed: dict[str, int], variant: int
    ) -> tuple[Any, Any, str | None, Any, dict[Any, tuple[int, int]]]:
        """The queryset made with one stand-in set, compiled; and where each
        stand-in stands."""
        stand_ins, where = _stand_ins(shape, variant)
        try:
            qs = self.build(*stand_ins, **fixed)
        except (TypeError, ValueError) as exc:
            raise PreparedError(f"an argument does not reach the SQL as a plain parameter ({exc})") from exc
        if qs._known_related_objects:  # type: ignore[attr-defined]
            raise PreparedError("a prepared queryset is made from a model's manager, not a related manager")
        compiler = qs.query.get_compiler(using=self.using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # as Django's execute_sql: no rows, no query
            return qs, compiler, None, (), where
        return qs, compiler, sql, tuple(params), where

    def _run(self, kind: str, args: tuple[Arg, ...], fixed: dict[str, int]) -> tuple[_Compiled, list[tuple[Any, ...]]]:
        if self.pad_lists:
            args = _padded(args)
        c = self._compiled(_shape(args), fixed)
        if c.kind != kind:
            raise PreparedError(f"this queryset is read with {c.kind}()")
        if c.sql is None:
            return c, []
        params = [c.constants[i] if slot is None else _value(args, slot) for i, slot in enumerate(c.slots)]
        with connections[self.using].cursor() as cursor:
            cursor.execute(c.sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        if c.trim is not None:
            rows = [row[: c.trim] for row in rows]
        if c.converters:
            rows = [tuple(row) for row in c.compiler.apply_converters(rows, c.converters)]
        return c, rows

    def models(self, *args: Arg, **fixed: int) -> list[M]:
        """The model instances the queryset gives for ``args``."""
        c, rows = self._run("models", args, fixed)
        found = []
        for row in rows:
            obj = c.model.from_db(self.using, c.names, row[c.fields])
            for populator in c.populators:
                populator.populate(row, obj)
            for name, col in c.annotations:
                setattr(obj, name, row[col])
            found.append(obj)
        return cast("list[M]", found)

    def model(self, *args: Arg, **fixed: int) -> M | None:
        """The first instance, or None (end the queryset with ``[:1]``)."""
        found = self.models(*args, **fixed)
        return found[0] if found else None

    def rows(self, *args: Arg, **fixed: int) -> list[tuple[Any, ...]]:
        """The rows of a ``values_list`` queryset for ``args``, as tuples."""
        return self._run("rows", args, fixed)[1]


def _plain(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def _value(args: tuple[Arg, ...], slot: tuple[int, int]) -> Any:
    arg = args[slot[0]]
    if isinstance(arg, int | str):
        return arg
    return arg[slot[1]]
