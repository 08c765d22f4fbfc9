"""Django's PostgreSQL backend with a health check that needs no round trip when it can
tell without one.

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
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

IDLE = 0  # the transaction status of a connection outside a transaction (psycopg2 and 3)


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # set by Django's wrapper

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
