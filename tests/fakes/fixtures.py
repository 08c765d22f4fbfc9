"""Pytest fixtures around the fake Stripe server.

``fake_stripe``: the server (one per test process, state reset for each test) with the
settings pointing the ``stripe`` gateway at it: ``PAYMENTS_GATEWAY="stripe"``, the fake's
API key and webhook secret, ``STRIPE_API_BASE`` = its URL, no SDK-level retries and a
3-second client timeout (so a "timeout" fault is quick to provoke).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .stripe_server import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripe, settings) -> Iterator[FakeStripe]:
    fake_stripe_server.reset()
    settings.PAYMENTS_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = fake_stripe_server.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake_stripe_server.webhook_secret
    settings.STRIPE_API_BASE = fake_stripe_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 3
    yield fake_stripe_server
    fake_stripe_server.reset()
