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
ORM drops them). ``rows`` gives the rows as the database driver gives them, without the
ORM's converters: for a query of plain values (``values_list`` of integers, text...).
``instances`` gives model instances from a query of one model's rows (no annotations,
``select_related`` or ``only``), through the ORM's converters, as the queryset would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

# stand-ins for the arguments: negative, far outside any id
_STAND_IN = -7_000_000_000_000
MAX_SHAPES = 64  # compiled variants kept per query (one per combination of list lengths)


def _is_int(value: Any) -> bool:
    return type(value) is int


@dataclass(frozen=True)
class _ModelRows:
    """How a compiled query's rows become instances: the model, the attribute names of the
    selected columns in order, and the converters by column (as the ORM's compiler has them)."""

    model: type[Model]
    attnames: list[str]
    converters: dict[int, tuple[list[Any], Any]]


@dataclass(frozen=True)
class _Compiled:
    alias: str
    vendor: str
    sql: str
    params: tuple[Any, ...]  # with stand-ins for the arguments
    model_rows: _ModelRows | None  # None: not a query of model instances


def _model_rows(queryset: QuerySet[Any, Any], compiler: Any) -> _ModelRows | None:
    if queryset._iterable_class is not ModelIterable:  # values(), values_list()...
        return None
    info = compiler.klass_info
    columns = [compiler.select[i][0] for i in info["select_fields"]]
    plain = (
        not info.get("related_klass_infos")
        and not compiler.annotation_col_map
        and len(compiler.select) == len(columns)
        and [column.target.attname for column in columns]
        == [field.attname for field in queryset.model._meta.concrete_fields]
    )
    if not plain:
        raise ValueError("instances: only a query of one model's whole rows")
    return _ModelRows(
        model=queryset.model,
        attnames=[column.target.attname for column in columns],
        converters=compiler.get_converters(columns),
    )


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self.build = build
        self.names = tuple(inspect.signature(build).parameters)
        self._compiled: dict[tuple[int, ...], _Compiled] = {}  # by list lengths

    def _compile(self, shape: tuple[int, ...]) -> _Compiled:
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
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        wanted = [v for value in stand_ins.values() for v in (value if isinstance(value, list) else [value])]
        missing = [v for v in wanted if v not in params]
        if missing:
            raise ValueError(f"{self.build.__name__}: arguments not used as query values ({self.names})")
        return _Compiled(
            alias, connections[alias].vendor, sql, tuple(params), _model_rows(queryset, compiler)
        )

    def rows(self, **arguments: int | Sequence[int]) -> list[tuple[Any, ...]]:
        """The rows of the query for these arguments (one query)."""
        return self._run(arguments)[1]

    def instances(self, **arguments: int | Sequence[int]) -> list[Any]:
        """The model instances of the query for these arguments (one query), as the
        queryset gives them: the columns through the ORM's converters, then
        ``Model.from_db``."""
        compiled, rows = self._run(arguments)
        how = compiled.model_rows
        if how is None:
            raise TypeError(f"{self.build.__name__}: not a query of model instances")
        connection = connections[compiled.alias]
        out = []
        for row in rows:
            values = list(row)
            for position, (converters, expression) in how.converters.items():
                value = values[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                values[position] = value
            out.append(how.model.from_db(compiled.alias, how.attnames, values))
        return out

    def _run(self, arguments: dict[str, int | Sequence[int]]) -> tuple[_Compiled, list[tuple[Any, ...]]]:
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
        if found is None or connections[found.alias].vendor != found.vendor:
            found = self._compile(key)
            if len(self._compiled) >= MAX_SHAPES:
                self._compiled.clear()
            self._compiled[key] = found
        by_stand_in = {_STAND_IN - i: value for i, value in enumerate(values)}
        params = [by_stand_in.get(p, p) if _is_int(p) else p for p in found.params]
        connection = connections[found.alias]
        with connection.cursor() as cursor:
            prepare = getattr(connection, "execute_prepared", None)  # marketplace.db.postgresql
            if prepare is not None:
                prepare(cursor, found.sql, params)
            else:
                cursor.execute(found.sql, params)
            return found, cursor.fetchall()
