"""``asgi_live_server``: a live server for browser tests that speaks websockets too.

pytest-django's ``live_server`` is a WSGI server, so a page's websocket fails there (and the
browser logs the failed handshake as a console error). This fixture runs uvicorn in a
thread of the test process instead, serving the ASGI application of tests/messaging/asgi.py
(Django for HTTP, the websocket routes behind the origin check and session auth) against
the test database. Use it with ``pytest.mark.django_db(transaction=True)`` so the server
thread sees what the test creates.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest


class Live:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def asgi_live_server(settings, tmp_path) -> Iterator[Live]:
    yield from serve(settings, tmp_path)


def serve(settings, tmp_path) -> Iterator[Live]:
    """The fixture's body, for conftest files that declare the fixture themselves:
    ``yield from serve(settings, tmp_path)``."""
    import uvicorn

    from tests.messaging.asgi import build_application

    _fresh_channel_layers()
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private-media")
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build_application(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            # open websockets are cancelled after 3 s, so the thread ends within the join below
            timeout_graceful_shutdown=3,
        )
    )
    thread = threading.Thread(target=server.run, name="asgi-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)

    yield Live(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    _fresh_channel_layers()
    _close_server_connections()


def _fresh_channel_layers() -> None:
    """Each server gets channel layers of its own. Channels keeps one layer object per
    process, and the Redis layer keeps asyncio locks and counters of the receives in
    progress: a server whose event loop ended while a consumer waited for a message leaves
    them held, bound to that dead loop, and the next server's consumers then fail ("bound
    to a different event loop"), so its pages fall back to reloading. In production a
    process has one loop for its whole life; here every test starts a new one."""
    from channels.layers import channel_layers

    channel_layers.backends = {}


def _close_server_connections() -> None:
    """The server's worker threads keep their database connections (CONN_MAX_AGE); end them
    so that the test database can be dropped."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
