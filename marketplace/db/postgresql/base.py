"""Django's PostgreSQL backend with a health check that needs no round trip when it can
tell without one, and server-side prepared statements for the queries every signed-in
request runs.

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before the first query of each
request with ``SELECT 1``: a round trip to the server on every request that touches the
database, a quarter of the statements of a signed-in page. A connection the server has
ended (a restart, ``pg_terminate_backend``, an idle timeout) has news on its socket: the
server's last message and the end of the stream. So when the connection is idle (no
transaction open) and its socket has nothing to read, the check passes without a query;
in every other case Django's own check runs as before. A connection lost without a word
(a host gone from the network) is caught no later than with ``SELECT 1``, which would wait
for the network just the same: the query fails, and Django drops the connection at the
end of that request, as it did.

Prepared statements (``execute_prepared``, used by ``marketplace.prepared.PreparedQuery``):
PostgreSQL plans every statement it is sent; the navigation's badges query took 0.27 ms to
plan and 0.09 ms to run, and the three small queries of a signed-in page cost the server
about 0.75 ms a request, against about 0.13 ms as prepared statements (pgbench, same
queries). So each such query is ``PREPARE``d once per connection and then ``EXECUTE``d
with its arguments. Only outside a transaction (a ``PREPARE`` that fails then harms
nothing: the query runs plainly and is not prepared again); inside one, and for a query
PostgreSQL could not prepare, the query runs as before; and always with
``PREPARE_STATEMENTS`` off in the database's settings (``DB_PREPARE_STATEMENTS=0``: behind a
pooler that moves a session between server connections) or connections not kept
(``CONN_MAX_AGE=0``: a connection per request, where preparing would only add a round trip). The ``PREPARE`` goes to the driver's
own cursor, so query logs and counts show one query per call, as ``EXECUTE name(...)``.
"""

from __future__ import annotations

import hashlib
import re
import select
from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql import base

IDLE = 0  # the transaction status of a connection outside a transaction (psycopg2 and 3)
_PLACEHOLDER = re.compile(r"%%|%s")
_UNPREPARABLE: set[str] = set()  # queries PostgreSQL refused to prepare, in this process


def numbered(sql: str) -> str:
    """The ORM's SQL (``%s`` placeholders, ``%%`` for a percent sign) as PREPARE takes it
    (``$1``, ``$2``..., ``%``)."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(replace, sql)


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # set by Django's wrapper
    statements: dict[str, str]  # SQL -> name of its prepared statement on this connection

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self.statements = {}  # prepared statements live and die with the connection
        return connection

    def execute_prepared(self, cursor: Any, sql: str, params: Sequence[Any]) -> None:
        """Run ``sql`` with ``params`` on ``cursor`` (a cursor of this connection) as a
        prepared statement when it can be, else as it is."""
        # no transaction open; allowed (DB_PREPARE_STATEMENTS); and connections are kept
        # (CONN_MAX_AGE 0 opens one per request: a PREPARE would be a round trip more)
        outside = (
            self.autocommit
            and not self.in_atomic_block
            and self.settings_dict.get("PREPARE_STATEMENTS", True)
            and self.settings_dict.get("CONN_MAX_AGE") != 0
        )
        name = self.statements.get(sql)
        if name is None and outside and sql not in _UNPREPARABLE:
            candidate = "mp_" + hashlib.sha256(sql.encode()).hexdigest()[:24]
            try:
                cursor.cursor.execute(f"PREPARE {candidate} AS {numbered(sql)}")
            except self.Database.Error:  # the driver's: nothing else was in its transaction
                _UNPREPARABLE.add(sql)
            else:
                name = self.statements[sql] = candidate
        if name is None or not outside:
            cursor.execute(sql, params)
            return
        cursor.execute(
            f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params
        )

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.settings_dict["CONN_HEALTH_CHECKS"]
            and not self.health_check_done
            and self._quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet(self) -> bool:
        """Open, outside a transaction, and nothing from the server waiting on the socket."""
        if not hasattr(select, "poll"):  # no poll() on this system: Django's check
            return False
        raw = self.connection
        try:
            if raw.closed or raw.info.transaction_status != IDLE:
                return False
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)  # an error or a hang-up is reported too
        except Exception:  # any doubt: Django's own check decides
            return False
