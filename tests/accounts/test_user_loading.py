"""The signed-in user's load on every request (``UserManager.get`` by primary key, without
compiling the query again): the same user, the same errors, and the session's checks on top
of it unchanged."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import models as account_models
from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(user: User) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


@pytest.mark.parametrize("name", ["pk", "id"])
def test_get_by_primary_key_gives_the_querysets_user_in_one_query(name):
    user = factories.make_freelancer(first_name="Ada", last_name="Lovelace")
    factories.make_client()
    account_models._BY_PK._compiled.clear()  # to see this call compile it

    with CaptureQueriesContext(connection) as queries:
        found = User.objects.get(**{name: user.pk})

    assert len(queries) == 1
    assert account_models._BY_PK._compiled  # through the query compiled once per process
    assert _fields(found) == _fields(User.objects.filter(pk=user.pk).get())
    assert found == user and found.display_name == user.display_name


@pytest.mark.parametrize("pk", [987654321, 2**63, -(2**63) - 1, 2**100])
def test_get_by_a_missing_primary_key_raises_does_not_exist(pk):
    """Ids beyond the database's integers too, as the queryset answers them (not a 500)."""
    assert not User.objects.filter(pk=pk).exists()
    with pytest.raises(User.DoesNotExist, match="User matching query does not exist"):
        User.objects.get(pk=pk)


def test_other_lookups_go_through_the_queryset_as_before():
    user = factories.make_client()

    assert User.objects.get(pk=str(user.pk)) == user  # a string: the field converts it
    assert User.objects.get(email=user.email) == user
    assert User.objects.db_manager("default").get(pk=user.pk) == user
    with pytest.raises(ValueError):
        User.objects.get(pk="not a number")
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=user.pk, email="someone.else@example.com")


def test_a_signed_in_request_loads_its_user_and_the_session_checks_still_apply(client):
    user = factories.make_freelancer(first_name="Grace")
    client.force_login(user)
    dashboard = reverse("dashboard")

    assert client.get(dashboard).status_code == 200
    assert client.get(reverse("jobs:saved")).status_code == 200  # a page for the signed-in only

    user.set_password("a-new-password-2026")  # the session's hash no longer matches
    user.save()
    response = client.get(reverse("jobs:saved"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_deactivated_users_session_no_longer_signs_them_in(client):
    user = factories.make_client()
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = client.get(reverse("jobs:saved"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_migrations_historical_user_model_goes_through_its_own_queryset():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(executor.loader.graph.leaf_nodes())
    historical = state.apps.get_model("accounts", "User")
    user = factories.make_client()

    found = historical.objects.get(pk=user.pk)

    assert type(found) is historical and found.email == user.email
