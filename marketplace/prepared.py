"""Queries written with the ORM, compiled to SQL once per process and run again with new
arguments.

A signed-in page runs a few small queries on every request (the navigation's badges, the
Connects balance). Compiling each queryset (filters, annotations, subqueries) cost the web
process several times what running it did. A ``PreparedQuery`` keeps the SQL that the ORM
wrote the first time, per database connection, and runs it with each call's arguments: the
queryset stays the definition (tables, columns, joins, the database's dialect), and only
the compiling is saved.

The builder is called once, with stand-in integers for its arguments; the compiled
parameters that equal a stand-in are replaced by the call's values. So a builder may use
its arguments only as query values (not in Python conditions), and only integers (ids),
and its query must return plain values (``values_list`` of integers, text...): rows come
back as the database driver gives them, without the ORM's converters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# stand-ins for the arguments: negative, far outside any id
_STAND_IN = -7_000_000_000_000


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self.names = tuple(inspect.signature(build).parameters)
        # connection alias -> (vendor, sql, parameters with stand-ins)
        self._compiled: dict[str, tuple[str, str, tuple[Any, ...]]] = {}

    def _compile(self) -> tuple[str, str, str, tuple[Any, ...]]:
        stand_ins = {name: _STAND_IN - i for i, name in enumerate(self.names)}
        queryset = self.build(**stand_ins)
        alias = queryset.db
        sql, params = queryset.query.get_compiler(alias).as_sql()
        missing = [name for name, value in stand_ins.items() if value not in params]
        if missing:
            raise ValueError(f"{self.build.__name__}: arguments not used as query values: {missing}")
        return alias, connections[alias].vendor, sql, tuple(params)

    def rows(self, **arguments: int) -> list[tuple[Any, ...]]:
        """The rows of the query for these arguments (one query)."""
        if set(arguments) != set(self.names) or not all(type(v) is int for v in arguments.values()):
            raise TypeError(f"{self.build.__name__} takes the integers {self.names}, got {arguments!r}")
        found = next(iter(self._compiled.items()), None)
        if found is None or connections[found[0]].vendor != found[1][0]:
            alias, vendor, sql, params = self._compile()
            self._compiled = {alias: (vendor, sql, params)}
        else:
            alias, (vendor, sql, params) = found
        values = {_STAND_IN - i: arguments[name] for i, name in enumerate(self.names)}
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [values.get(p, p) if type(p) is int else p for p in params])
            return cursor.fetchall()
