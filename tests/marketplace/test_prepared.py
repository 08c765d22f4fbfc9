"""marketplace.prepared: a queryset compiled once per process, run with new arguments,
gives what the queryset itself gives, in one query per call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import FreelancerProfile, User
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


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_instances_are_the_querysets_instances_through_the_orms_converters():
    users = [factories.make_freelancer(), factories.make_client()]
    users[0].suspended_at = timezone.now()  # a datetime and a null, converted as the ORM does
    users[0].save(update_fields=["suspended_at"])
    query = PreparedQuery(lambda user_id: User.objects.filter(pk=user_id))

    for user in users:
        with CaptureQueriesContext(connection) as queries:
            (found,) = query.instances(user_id=user.pk)
        expected = User.objects.get(email=user.email)
        assert len(queries) == 1
        assert type(found) is User and found.pk == user.pk
        assert _fields(found) == _fields(expected)
        assert found._state.db == "default" and not found._state.adding
    assert query.instances(user_id=-1) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda user_id: User.objects.filter(pk=user_id).only("email"),
        lambda user_id: User.objects.filter(pk=user_id).annotate(n=Count("groups")),
        lambda user_id: FreelancerProfile.objects.filter(pk=user_id).select_related("user"),
    ],
)
def test_instances_refuse_a_query_that_is_not_one_models_whole_rows(build):
    with pytest.raises(ValueError, match="whole rows"):
        PreparedQuery(build).instances(user_id=1)


def test_instances_of_a_values_query_are_refused():
    with pytest.raises(TypeError, match="not a query of model instances"):
        PreparedQuery(lambda user_id: User.objects.filter(pk=user_id).values_list("pk")).instances(user_id=1)
