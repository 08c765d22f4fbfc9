"""Both sides submitting at the same instant on PostgreSQL: the contract row lock
serialises them, so the second one always sees the first and both end up revealed."""

from __future__ import annotations

import pytest

from reviews import services
from reviews.models import Review, ReviewEvent
from tests.conftest import requires_postgres
from tests.contracts.test_concurrency import _ensure_taxonomy, _in_threads

from .conftest import Ended, about_client, about_freelancer

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_both_sides_at_once_are_both_revealed(attempt):
    _ensure_taxonomy()
    ended = Ended()
    work = [
        lambda: services.review_submit(
            actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
        ),
        lambda: services.review_submit(
            actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client()
        ),
    ]

    results = _in_threads(2, lambda i: work[i]().pk)

    assert all(isinstance(r, int) for r in results), results
    reviews = list(Review.objects.filter(contract=ended.contract))
    assert len(reviews) == 2
    assert all(r.revealed_at is not None for r in reviews)
    assert ReviewEvent.objects.filter(review__in=reviews, kind="revealed").count() == 2


def test_one_side_twice_at_once_stores_one_review():
    _ensure_taxonomy()
    ended = Ended()

    results = _in_threads(
        4,
        lambda _: (
            services.review_submit(
                actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
            ).pk
        ),
    )

    assert sum(isinstance(r, int) for r in results) == 1, results
    assert {getattr(r, "code", None) for r in results if not isinstance(r, int)} == {"already_reviewed"}
    assert Review.objects.filter(contract=ended.contract).count() == 1
