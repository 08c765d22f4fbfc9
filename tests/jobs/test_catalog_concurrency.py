"""Catalog orders under concurrency on PostgreSQL: approve and late-cancel of one order
from 16 threads at once -> one effect each, ledger balanced."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from jobs import catalog
from jobs.models import ServiceOrder
from marketplace.errors import ApplicationError
from payments import ledger
from payments.audit import run_checks
from payments.models import JournalEntry
from tests import factories
from tests.conftest import requires_postgres
from tests.contracts.test_concurrency import _in_threads
from tests.jobs.catalog_helpers import answers_for, make_listing, save_card
from tests.jobs.conftest import _ensure_taxonomy

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def test_16_approvals_at_once_release_once(local_gateway):
    _ensure_taxonomy()
    listing = make_listing()
    buyer = factories.make_client()
    save_card(buyer)
    order = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="standard")
    assert catalog.order_pay(actor=buyer, order_id=order.pk).paid
    catalog.order_submit_requirements(actor=buyer, order_id=order.pk, answers=answers_for(listing))
    catalog.order_deliver(actor=listing.freelancer, order_id=order.pk, message="Done.")

    results = _in_threads(16, lambda i: catalog.order_approve(actor=buyer, order_id=order.pk).status)

    wins = [r for r in results if isinstance(r, str)]
    unexpected = [r for r in results if not isinstance(r, str | ApplicationError)]
    assert len(wins) == 1 and unexpected == [], results
    order.refresh_from_db()
    assert order.status == ServiceOrder.Status.COMPLETED
    milestone = catalog.order_milestone(order)
    assert JournalEntry.objects.filter(idempotency_key=f"milestone-release:{milestone.pk}").count() == 1
    assert ledger.escrow_balance(f"contract:{order.contract_id}") == 0
    assert [f.message for f in run_checks()] == []


def test_16_late_cancellations_at_once_refund_once(local_gateway):
    _ensure_taxonomy()
    listing = make_listing()
    buyer = factories.make_client()
    save_card(buyer)
    order = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="starter")
    assert catalog.order_pay(actor=buyer, order_id=order.pk).paid
    order = catalog.order_submit_requirements(actor=buyer, order_id=order.pk, answers=answers_for(listing))
    assert order.delivery_due_at is not None
    with time_machine.travel(order.delivery_due_at + timedelta(hours=1), tick=True):
        results = _in_threads(16, lambda i: catalog.order_cancel(actor=buyer, order_id=order.pk).status)
    wins = [r for r in results if isinstance(r, str)]
    unexpected = [r for r in results if not isinstance(r, str | ApplicationError)]
    assert len(wins) == 1 and unexpected == [], results
    milestone = catalog.order_milestone(order)
    assert milestone.status == "refunded" and milestone.refunded_cents == order.amount_cents
    assert ledger.escrow_balance(f"contract:{order.contract_id}") == 0
    assert [f.message for f in run_checks()] == []
