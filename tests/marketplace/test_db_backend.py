"""marketplace.db.postgresql: the health check of a kept connection costs no round trip
while the connection is idle and quiet, and still replaces a connection the server ended
(no request fails after a database restart); the queries of ``PreparedQuery`` run as
server-side prepared statements outside transactions, as they are inside."""

from __future__ import annotations

import io
import select
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from marketplace.db.postgresql.base import numbered
from marketplace.prepared import PreparedQuery
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the connection as a request has it, outside a test transaction
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "marketplace.db.postgresql",
        reason="the backend is used with PostgreSQL",
    ),
]


@pytest.fixture
def other() -> Iterator:
    """A second connection to the same database, to watch and end the first one."""
    wrapper = connections.create_connection("default")
    yield wrapper
    wrapper.close()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _last_statement(other, pid: int) -> str:
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def _wait_until_readable() -> None:
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100):
        assert time.monotonic() < deadline, "the server sent nothing"


def _next_request() -> None:
    """What Django does to a kept connection when a request starts (close_old_connections)."""
    connection.close_if_unusable_or_obsolete()


def test_an_idle_quiet_connection_passes_its_health_check_without_a_statement(other):
    assert connection.health_check_enabled
    pid = _backend_pid()
    _next_request()
    assert not connection.health_check_done

    connection.close_if_health_check_failed()

    assert connection.health_check_done
    assert _last_statement(other, pid) == "SELECT pg_backend_pid()"  # no "SELECT 1" was sent
    assert _backend_pid() == pid  # the same connection goes on


def test_a_connection_with_news_on_its_socket_gets_the_real_check(other):
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN marketplace_health")
    with other.cursor() as cursor:
        cursor.execute("NOTIFY marketplace_health")
    _wait_until_readable()
    _next_request()

    connection.close_if_health_check_failed()

    assert _last_statement(other, pid) == "SELECT 1"  # Django's own check ran
    assert _backend_pid() == pid  # and passed: the connection is fine
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(other):
    pid = _backend_pid()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_until_readable()
    _next_request()

    assert _backend_pid() != pid  # a new connection, no error


def _get(handler: WSGIHandler, path: str) -> str:
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    body.close()
    return statuses[0]


def test_requests_go_on_across_a_database_restart_of_their_connection(other, settings):
    """Through the WSGI handler, whose request signals keep and check the connection as a
    server's do (the test client turns that off)."""
    settings.ALLOWED_HOSTS = ["testserver"]
    handler = WSGIHandler()
    assert _get(handler, "/healthz/") == "200 OK"
    pid = _backend_pid()
    assert _get(handler, "/healthz/") == "200 OK"
    assert _backend_pid() == pid  # kept between requests

    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_until_readable()

    assert _get(handler, "/healthz/") == "200 OK"
    assert _backend_pid() != pid


# --- prepared statements ---------------------------------------------------------------------------


def _prepared_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _emails(user_id: int):
    return User.objects.filter(pk=user_id).values_list("email")


def test_a_prepared_query_is_prepared_once_per_connection_and_executed_with_each_calls_values():
    users = [factories.make_freelancer(), factories.make_client()]
    query = PreparedQuery(_emails)

    with CaptureQueriesContext(connection) as queries:
        rows = [query.rows(user_id=user.pk) for user in users]

    assert rows == [[(user.email,)] for user in users]
    assert len(queries) == 2  # one per call: the PREPARE is not a query of the page
    assert all(q["sql"].startswith("EXECUTE mp_") for q in queries.captured_queries)
    (statement,) = [text for name, text in _prepared_statements().items() if name.startswith("mp_")]
    assert '"accounts_user"."id" = $1' in statement

    connection.close()  # a new connection has none: prepared again on first use
    assert query.rows(user_id=users[0].pk) == [(users[0].email,)]
    assert len([name for name in _prepared_statements() if name.startswith("mp_")]) == 1


def test_inside_a_transaction_the_query_runs_as_it_is():
    user = factories.make_client()
    query = PreparedQuery(_emails)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert query.rows(user_id=user.pk) == [(user.email,)]

    assert 'FROM "accounts_user"' in queries.captured_queries[0]["sql"]
    assert not [name for name in _prepared_statements() if name.startswith("mp_")]
    assert query.rows(user_id=user.pk) == [(user.email,)]  # outside: prepared now
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert query.rows(user_id=user.pk) == [(user.email,)]
    assert 'FROM "accounts_user"' in queries.captured_queries[0]["sql"]  # not EXECUTE


def test_a_query_postgresql_cannot_prepare_runs_as_it_is():
    sql = "SELECT %s IS NULL"  # the parameter's type cannot be inferred: PREPARE refuses it
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
            connection.execute_prepared(cursor, sql, [5])
            assert cursor.fetchall() == [(False,)]
        assert queries.captured_queries[0]["sql"] == "SELECT 5 IS NULL"
    assert sql not in connection.statements


def test_the_signed_in_users_load_is_a_prepared_statement(client):
    user = factories.make_freelancer()

    with CaptureQueriesContext(connection) as queries:
        found = User.objects.get(pk=user.pk)

    assert found == user and found.email == user.email
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE mp_")


@pytest.mark.parametrize("pk", [2**63, -(2**63) - 1])
def test_the_users_load_by_an_id_beyond_bigint_is_no_such_user(pk):
    """A prepared statement takes a bigint (a plain query compared any number): the
    manager answers as the queryset does instead of a database error."""
    User.objects.get(pk=factories.make_client().pk)  # prepared on this connection
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=pk)


def test_placeholders_are_numbered_and_percent_signs_unescaped():
    assert numbered("SELECT 1 WHERE a LIKE '%%x' AND b = %s AND c IN (%s, %s)") == (
        "SELECT 1 WHERE a LIKE '%x' AND b = $1 AND c IN ($2, $3)"
    )


@pytest.mark.parametrize("setting", [("PREPARE_STATEMENTS", False), ("CONN_MAX_AGE", 0)])
def test_prepared_statements_can_be_turned_off(monkeypatch, setting):
    """DB_PREPARE_STATEMENTS=0 (behind a pooler that moves sessions between connections),
    and not with a connection per request (CONN_MAX_AGE=0: preparing would only cost)."""
    monkeypatch.setitem(connection.settings_dict, *setting)
    user = factories.make_client()

    with CaptureQueriesContext(connection) as queries:
        assert PreparedQuery(_emails).rows(user_id=user.pk) == [(user.email,)]

    assert 'FROM "accounts_user"' in queries.captured_queries[0]["sql"]
    assert not [name for name in _prepared_statements() if name.startswith("mp_")]
