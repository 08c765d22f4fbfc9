"""Weekly billing under concurrency on PostgreSQL: the weekly task from 8 threads released
together bills once; releases race each other and a dispute; settlements race each other.
Every run ends with a balanced, clean ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contracts import billing
from contracts.models import Contract, Timesheet
from marketplace.errors import ApplicationError
from payments import audit, ledger
from payments.models import AccountKind, Charge, JournalEntry, Refund
from tests.conftest import requires_postgres

from .conftest import Hire, save_card
from .test_billing import log_time
from .test_concurrency import _ensure_taxonomy, _in_threads

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _unexpected(results: list) -> list[str]:
    return [
        f"{type(r).__name__}: {r}"
        for r in results
        if isinstance(r, Exception) and not isinstance(r, ApplicationError)
    ]


def _billable_contract(minutes: int = 300) -> tuple[Hire, Contract]:
    """An hourly contract ($45/hr) started three weeks ago with ``minutes`` logged last week."""
    _ensure_taxonomy()
    hire = Hire(hourly=True)
    contract = hire.contract()
    save_card(hire.client)
    now = timezone.now()
    Contract.objects.filter(pk=contract.pk).update(started_at=now - timedelta(days=21))
    last_week = billing.week_start_of(now) - timedelta(days=7)
    start, _ = billing.week_bounds(last_week)
    log_time(contract, start + timedelta(days=1, hours=9), minutes)
    return hire, contract


def _audit() -> list[str]:
    return [f"{f.check}: {f.message}" for f in audit.run_checks()]


def test_the_weekly_task_from_8_threads_bills_once(local_gateway):
    _hire, contract = _billable_contract()

    results = _in_threads(8, lambda _: billing.timesheets_close_week())

    assert _unexpected(results) == []
    assert sum(r["closed"] for r in results if isinstance(r, dict)) >= 1
    sheets = list(Timesheet.objects.filter(contract=contract).exclude(status=Timesheet.Status.EMPTY))
    assert len(sheets) == 1
    timesheet = sheets[0]
    assert timesheet.status == Timesheet.Status.IN_REVIEW and timesheet.amount_cents == 22_500
    assert Charge.objects.filter(purpose="timesheet_billing").count() == 1
    assert JournalEntry.objects.filter(purpose="timesheet_billing").count() == 1
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 22_500
    assert timesheet.segments.count() == 30
    assert _audit() == []


def _billed(local_gateway) -> tuple[Hire, Contract, Timesheet]:
    hire, contract = _billable_contract()
    billing.timesheets_close_week()
    timesheet = Timesheet.objects.get(contract=contract, status=Timesheet.Status.IN_REVIEW)
    return hire, contract, timesheet


def test_releases_and_a_dispute_at_once_leave_one_outcome(local_gateway):
    hire, contract, timesheet = _billed(local_gateway)
    end = timesheet.review_ends_at
    assert end is not None

    def work(index: int):
        if index % 2:
            return billing.timesheet_release(timesheet_id=timesheet.pk, now=end + timedelta(seconds=1))
        return billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=end).status

    results = _in_threads(8, work)

    assert _unexpected(results) == []
    timesheet.refresh_from_db()
    released = JournalEntry.objects.filter(idempotency_key=f"timesheet-release:{timesheet.pk}").count()
    if timesheet.status == Timesheet.Status.RELEASED:
        assert released == 1 and results.count(True) == 1
        assert Timesheet.Status.DISPUTED not in results  # no freeze "won" and was then overwritten
        assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 20_250
        assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    else:
        assert timesheet.status == Timesheet.Status.DISPUTED
        assert released == 0 and results.count(Timesheet.Status.DISPUTED) == 1
        assert True not in results
        assert ledger.escrow_balance(f"contract:{contract.pk}") == 22_500
    assert _audit() == []


def test_the_release_task_from_8_threads_releases_once(local_gateway):
    hire, _contract, timesheet = _billed(local_gateway)
    Timesheet.objects.filter(pk=timesheet.pk).update(review_ends_at=timezone.now() - timedelta(minutes=1))

    results = _in_threads(8, lambda _: billing.timesheets_release_due())

    assert _unexpected(results) == []
    assert sum(r for r in results if isinstance(r, int)) == 1
    assert JournalEntry.objects.filter(idempotency_key=f"timesheet-release:{timesheet.pk}").count() == 1
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 20_250
    assert _audit() == []


def test_a_split_settled_from_4_threads_refunds_and_releases_once(local_gateway):
    hire, contract, timesheet = _billed(local_gateway)
    billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk)

    results = _in_threads(
        4,
        lambda _: (
            billing.timesheet_settle_split(
                timesheet_id=timesheet.pk, refund_cents=10_000, release_cents=12_500
            ).status
        ),
    )

    assert _unexpected(results) == []
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RESOLVED
    assert (timesheet.refunded_cents, timesheet.released_cents, timesheet.escrow_cents) == (10_000, 12_500, 0)
    assert Refund.objects.filter(status=Refund.Status.SUCCEEDED).count() == 1
    assert JournalEntry.objects.filter(idempotency_key=f"timesheet-release:{timesheet.pk}").count() == 1
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 12_500 - 1_250
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    assert _audit() == []
