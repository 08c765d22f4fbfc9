"""Every form sent twice at the same moment (a double click, two tabs, a retried request)
ends without a server error, on PostgreSQL with real concurrent transactions.

Each kind of visitor of the shared world walks the site as ``test_link_crawl`` does and
collects the POST forms it meets (one per action's URL pattern); each form is then sent as
shown by two threads released together, each with its own database connection and the
visitor's session. Both may succeed (an idempotent action), or the second may be refused
(a 4xx, or a redirect with a message); neither may answer 5xx, which is what an unguarded
unique constraint or a lost lock race would give. The money services' own races (escrow,
payouts, refunds) are tested with their figures in tests/payments and tests/contracts;
this covers every other form too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from payments.gateways import local
from tests.marketplace.test_link_crawl import VISITORS, crawl, start_pages
from tests.marketplace.world import World, build_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="concurrent transactions need PostgreSQL (SQLite serialises writers)",
    ),
]


@pytest.fixture
def world() -> Iterator[World]:
    previous = settings.PAYMENTS_GATEWAY
    settings.PAYMENTS_GATEWAY = "local"
    try:
        yield build_world()
    finally:
        settings.PAYMENTS_GATEWAY = previous
        local.reset()


def _twice_at_once(cookies: dict[str, str], action: str, data: dict[str, str]) -> list[int]:
    """The status codes of two POSTs of ``data`` to ``action`` released together."""
    barrier = threading.Barrier(2)

    def send() -> int:
        client = Client(raise_request_exception=False)
        for name, value in cookies.items():
            client.cookies[name] = value
        try:
            barrier.wait(timeout=10)
            return client.post(action, data).status_code
        finally:
            connections.close_all()  # this thread's connection, before the test's flush

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [future.result() for future in [pool.submit(send), pool.submit(send)]]


@pytest.mark.parametrize("who", [who for who in VISITORS if who != "anonymous"])
def test_every_form_sent_twice_at_once_answers_without_a_server_error(who: str, world: World) -> None:
    user = world.actor(who)
    assert user is not None
    client = Client()
    client.force_login(user)
    walk = crawl(client, start_pages(world))
    assert len(walk.forms) >= 5, f"only {len(walk.forms)} forms met"
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    failures = []
    taken = 0  # forms whose pair did something (not both refused): the sends reach the views
    for form in walk.forms.values():
        data = {name: value for name, _kind, value in form.fields}
        statuses = _twice_at_once(cookies, form.action, data)
        taken += any(status < 400 for status in statuses)
        if any(status >= 500 for status in statuses):
            failures.append(f"{form.action} (on {form.shown_on}): {statuses}")
    assert failures == [], "\n".join(failures)
    assert taken >= 5, f"only {taken} of {len(walk.forms)} forms were taken"
