"""Queries written with the ORM, compiled to SQL once per process and run again with new
arguments.

A signed-in page runs a few small queries on every request (the navigation's badges, the
Connects balance, the saved flags of a list of jobs). Compiling each queryset (filters,
annotations, subqueries) cost the web process several times what running it did. A
``PreparedQuery`` keeps the SQL that the ORM wrote the first time, and runs it with each
call's arguments: the queryset stays the definition (tables, columns, joins, the
database's dialect), and only the compiling is saved.

The builder is called with stand-in integers for its arguments; the compiled parameters
that equal a stand-in are replaced by the call's values. So a builder may use its
arguments only as query values (not in Python conditions), and only integers (ids) or
lists of integers (for ``__in``: compiled once per list length, duplicates dropped as the
ORM drops them); and its query must return plain values (``values_list`` of integers,
text...): rows come back as the database driver gives them, without the ORM's converters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# stand-ins for the arguments: negative, far outside any id
_STAND_IN = -7_000_000_000_000
MAX_SHAPES = 64  # compiled variants kept per query (one per combination of list lengths)


def _is_int(value: Any) -> bool:
    return type(value) is int


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self.build = build
        self.names = tuple(inspect.signature(build).parameters)
        # list lengths -> (alias, vendor, sql, parameters with stand-ins)
        self._compiled: dict[tuple[int, ...], tuple[str, str, str, tuple[Any, ...]]] = {}

    def _compile(self, shape: tuple[int, ...]) -> tuple[str, str, str, tuple[Any, ...]]:
        stand_ins: dict[str, Any] = {}
        next_stand_in = _STAND_IN
        for name, length in zip(self.names, shape, strict=True):
            if length < 0:
                stand_ins[name] = next_stand_in
                next_stand_in -= 1
            else:
                stand_ins[name] = list(range(next_stand_in, next_stand_in - length, -1))
                next_stand_in -= length
        queryset = self.build(**stand_ins)
        alias = queryset.db
        sql, params = queryset.query.get_compiler(alias).as_sql()
        wanted = [v for value in stand_ins.values() for v in (value if isinstance(value, list) else [value])]
        missing = [v for v in wanted if v not in params]
        if missing:
            raise ValueError(f"{self.build.__name__}: arguments not used as query values ({self.names})")
        return alias, connections[alias].vendor, sql, tuple(params)

    def rows(self, **arguments: int | Sequence[int]) -> list[tuple[Any, ...]]:
        """The rows of the query for these arguments (one query)."""
        if set(arguments) != set(self.names):
            raise TypeError(f"{self.build.__name__} takes {self.names}, got {sorted(arguments)}")
        values: list[int] = []
        shape: list[int] = []
        for name in self.names:
            value = arguments[name]
            if _is_int(value):
                values.append(value)  # type: ignore[arg-type]
                shape.append(-1)
            elif isinstance(value, list | tuple) and value and all(_is_int(v) for v in value):
                distinct = list(dict.fromkeys(value))
                values.extend(distinct)
                shape.append(len(distinct))
            else:
                raise TypeError(
                    f"{self.build.__name__}: {name} must be an integer or a non-empty list of them"
                )
        key = tuple(shape)
        found = self._compiled.get(key)
        if found is None or connections[found[0]].vendor != found[1]:
            found = self._compile(key)
            if len(self._compiled) >= MAX_SHAPES:
                self._compiled.clear()
            self._compiled[key] = found
        alias, _, sql, params = found
        by_stand_in = {_STAND_IN - i: value for i, value in enumerate(values)}
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [by_stand_in.get(p, p) if _is_int(p) else p for p in params])
            return cursor.fetchall()
