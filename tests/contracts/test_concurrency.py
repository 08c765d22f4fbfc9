"""Concurrent accepts on PostgreSQL: two connections accepting one offer at the same instant
start one contract, count one hire, and both get that contract back."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import ClientProfile, Skill
from contracts import services
from contracts.models import Contract, ContractEvent, Milestone, Offer
from jobs.models import Job
from messaging.models import Conversation
from tests import factories
from tests.conftest import requires_postgres

from .conftest import Hire

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _ensure_taxonomy() -> None:
    """Transactional tests flush the database after each test, taxonomy rows of the data
    migration included; the jobs fixtures need the Python skill."""
    if not Skill.objects.filter(name="Python").exists():
        factories.SkillFactory(name="Python", slug="python")


def _in_threads(count: int, work) -> list:
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # reported by the assertions below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_accepts_at_once_start_one_contract():
    _ensure_taxonomy()
    hire = Hire()
    offer = hire.offer()

    results = _in_threads(2, lambda _: services.offer_accept(actor=hire.freelancer, offer_id=offer.pk).pk)

    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Contract.objects.count() == 1
    assert Milestone.objects.count() == 2
    assert ContractEvent.objects.filter(kind="started").count() == 1
    assert Offer.objects.get(pk=offer.pk).status == "accepted"
    assert Job.objects.get(pk=hire.job.pk).hires_count == 1
    assert ClientProfile.objects.get(user=hire.client).hires_count == 1
    assert Conversation.objects.filter(has_contract=True).count() == 1


def test_accept_and_withdraw_at_once_leave_one_outcome():
    _ensure_taxonomy()
    hire = Hire()
    offer = hire.offer()

    def work(index: int):
        if index == 0:
            return services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)
        return services.offer_withdraw(actor=hire.client, offer_id=offer.pk)

    results = _in_threads(2, work)

    offer.refresh_from_db()
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert getattr(errors[0], "code", None) == "illegal_transition"
    if offer.status == "accepted":
        assert Contract.objects.count() == 1
    else:
        assert offer.status == "withdrawn"
        assert not Contract.objects.exists()
        hire.proposal.refresh_from_db()
        assert hire.proposal.offer_pending is False
