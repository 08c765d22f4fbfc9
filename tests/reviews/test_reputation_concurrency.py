"""Two refreshes of one freelancer at the same instant (a reveal and the daily task) on
PostgreSQL: both succeed, one after the other (the profile row is locked), and the day
keeps one snapshot."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from reviews import reputation
from reviews.models import JobSuccessSnapshot
from tests import factories
from tests.conftest import requires_postgres

from .test_reputation import end, hire

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_refreshes_write_one_snapshot():
    freelancer = factories.make_published_freelancer()
    contract = hire(freelancer, factories.make_client(), title="Booking site")
    end(contract, by=freelancer, reason="other")  # nothing funded: a neutral outcome
    count = 4
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            reputation.refresh_for_user(user_id=freelancer.pk)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert JobSuccessSnapshot.objects.filter(freelancer=freelancer).count() == 1
    freelancer.freelancer_profile.refresh_from_db()
    assert freelancer.freelancer_profile.total_jobs == 1
