"""Escrow under concurrency on PostgreSQL: approve and refund of one submitted milestone
called together from 32 threads -> exactly one succeeds, escrow never below zero."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from contracts import services
from contracts.models import Milestone
from marketplace.errors import ApplicationError
from payments import ledger
from payments.models import AccountKind, JournalEntry, Refund
from tests.conftest import requires_postgres

from .conftest import Hire, save_card
from .test_concurrency import _ensure_taxonomy, _in_threads

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_32_approves_and_refunds_at_once_one_wins(local_gateway):
    _ensure_taxonomy()
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")

    def work(index: int):
        if index % 2:
            return services.milestone_approve(actor=hire.client, milestone_id=milestone.pk).status
        return services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk).status

    results = _in_threads(32, work)

    wins = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if not isinstance(r, str)]
    assert len(wins) == 1, [f"{type(r).__name__}: {r}" for r in results]
    unexpected = [f"{type(e).__name__}: {e}" for e in errors if not isinstance(e, ApplicationError)]
    assert unexpected == []
    milestone.refresh_from_db()
    escrow = ledger.escrow_balance(f"contract:{contract.pk}")
    assert escrow == 0 and milestone.escrow_cents == 0
    released = JournalEntry.objects.filter(idempotency_key=f"milestone-release:{milestone.pk}").count()
    refunds = Refund.objects.filter(charge__reference=f"milestone:{milestone.pk}").count()
    assert released + refunds == 1
    if released:
        assert milestone.status == Milestone.Status.RELEASED
        assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 45_000
    else:
        assert milestone.status == Milestone.Status.REFUNDED
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def test_funding_one_milestone_from_8_threads_charges_once(local_gateway):
    from payments.models import Charge

    _ensure_taxonomy()
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()

    results = _in_threads(
        8,
        lambda _: services.milestone_fund(
            actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk]
        ),
    )

    unexpected = [
        f"{type(r).__name__}: {r}"
        for r in results
        if isinstance(r, Exception) and not isinstance(r, ApplicationError)
    ]
    assert unexpected == []
    assert Charge.objects.filter(reference=f"milestone:{milestone.pk}", status="succeeded").count() == 1
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED and milestone.escrow_cents == 50_000
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 50_000
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
