"""marketplace.prepared: a queryset compiled once per process, run with new arguments,
gives what the queryset itself gives, in one query per call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from marketplace.prepared import PreparedQuery
from tests import factories

pytestmark = pytest.mark.django_db


def _names(user_id: int, other_id: int):
    return User.objects.filter(pk__in=[user_id, other_id]).order_by("pk").values_list("pk", "email")


def test_rows_are_the_querysets_rows_for_each_call_and_it_is_compiled_once():
    users = [factories.make_freelancer(), factories.make_client(), factories.make_freelancer()]
    built: list[tuple[int, int]] = []

    def build(user_id: int, other_id: int):
        built.append((user_id, other_id))
        return _names(user_id, other_id)

    query = PreparedQuery(build)
    for one in users:
        for other in users:
            with CaptureQueriesContext(connection) as queries:
                rows = query.rows(user_id=one.pk, other_id=other.pk)
            assert rows == list(_names(one.pk, other.pk))
            assert len(queries) == 1
    assert query.rows(user_id=-1, other_id=-2) == []
    assert len(built) == 1  # compiled with the stand-ins, once


def test_an_argument_not_used_as_a_query_value_is_refused():
    def build(user_id: int, other_id: int):
        return User.objects.filter(pk=user_id).values_list("pk")

    with pytest.raises(ValueError, match="other_id"):
        PreparedQuery(build).rows(user_id=1, other_id=2)


@pytest.mark.parametrize(
    "arguments", [{"user_id": "1"}, {"user_id": 1.0}, {"user_id": True}, {}, {"user_id": 1, "x": 2}]
)
def test_arguments_must_be_the_builders_integers(arguments):
    query = PreparedQuery(lambda user_id: User.objects.filter(pk=user_id).values_list("pk"))

    with pytest.raises(TypeError):
        query.rows(**arguments)


def test_list_arguments_are_compiled_per_length_and_deduplicated():
    users = [factories.make_freelancer() for _ in range(4)]
    ids = [user.pk for user in users]
    built: list[int] = []

    def build(user_ids: list[int]):
        built.append(len(user_ids))
        return User.objects.filter(pk__in=user_ids).order_by("pk").values_list("pk")

    query = PreparedQuery(build)

    assert query.rows(user_ids=ids) == [(pk,) for pk in sorted(ids)]
    assert query.rows(user_ids=list(reversed(ids))) == [(pk,) for pk in sorted(ids)]
    assert query.rows(user_ids=ids[:2]) == [(pk,) for pk in sorted(ids[:2])]
    assert query.rows(user_ids=[ids[0], ids[0], ids[1]]) == [(pk,) for pk in sorted(ids[:2])]
    assert query.rows(user_ids=[-5, ids[3]]) == [(ids[3],)]
    assert built == [4, 2]  # one compilation per length
    with pytest.raises(TypeError):
        query.rows(user_ids=[])
    with pytest.raises(TypeError):
        query.rows(user_ids=[1, "2"])
