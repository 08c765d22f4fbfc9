"""Money services called at the same time from several threads (PostgreSQL): one effect,
and no balance below zero."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from marketplace.errors import ApplicationError
from payments import audit, ledger, services
from payments.gateways.base import CardInput
from payments.ledger import Line
from payments.models import AccountKind, Charge, JournalEntry, Payout, Refund
from tests.conftest import requires_postgres

from .conftest import fund, give_available, usable_bank

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def at_once(n: int, func: Callable[[int], Any]) -> list[Any]:
    """Run ``func(i)`` in ``n`` threads released together; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = func(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_same_entry_key_posts_once():
    clearing = ledger.account_for(AccountKind.GATEWAY_CLEARING)
    escrow = ledger.escrow_account("contract:1")
    results = at_once(
        6,
        lambda i: ledger.post_entry(key="same", memo="m", lines=[Line(clearing, -100), Line(escrow, 100)]).pk,
    )
    assert len(set(results)) == 1 and all(isinstance(r, int) for r in results)
    assert ledger.escrow_balance("contract:1") == 100
    assert JournalEntry.objects.count() == 1


def test_account_for_creates_one_account(freelancer):
    results = at_once(6, lambda i: ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=freelancer).pk)
    assert len(set(results)) == 1


def test_releases_never_overdraw_escrow(client_user, freelancer):
    fund(client_user, 10_000)
    results = at_once(
        4,
        lambda i: services.escrow_release(
            escrow_reference="contract:1", payee=freelancer, amount_cents=4_000, idempotency_key=f"r{i}"
        ),
    )
    assert sum(isinstance(r, JournalEntry) for r in results) == 2
    assert all(isinstance(r, ApplicationError) for r in results if not isinstance(r, JournalEntry))
    assert ledger.escrow_balance("contract:1") == 2_000
    assert audit.run_checks() == []


def test_withdrawals_never_overdraw_available(freelancer, monkeypatch):
    from payments import tasks

    monkeypatch.setattr(tasks.process_payout, "delay", lambda *a, **k: None)
    give_available(freelancer, 10_000)  # 9,000
    method = usable_bank(freelancer)
    results = at_once(
        4, lambda i: services.payout_request(actor=freelancer, amount_cents=4_000, method_id=method.pk)
    )
    assert sum(isinstance(r, Payout) for r in results) == 2
    assert Payout.objects.count() == 2
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 1_000
    assert audit.run_checks() == []


def test_refunds_never_exceed_the_charge(client_user):
    charge = fund(client_user, 10_000)
    results = at_once(
        4,
        lambda i: services.refund_create(
            actor=None, charge_id=charge.pk, amount_cents=4_000, idempotency_key=f"r{i}"
        ),
    )
    assert sum(isinstance(r, Refund) for r in results) == 2
    assert ledger.escrow_balance("contract:1") == 2_000
    assert audit.run_checks() == []


def test_the_same_charge_requested_at_once_charges_once(fake_stripe, client_user):
    services.payment_method_add(actor=client_user, card=CardInput(token="pm_card_visa"))
    results = at_once(
        4,
        lambda i: services.charge_create(
            actor=client_user,
            amount_cents=5_000,
            purpose="test_funding",
            reference="m:1",
            escrow_reference="contract:1",
        ),
    )
    charges = [r for r in results if isinstance(r, Charge)]
    assert charges and len({c.pk for c in charges}) == 1
    assert all(isinstance(r, Charge) for r in results), results
    assert len(fake_stripe.state.payment_intents) == 1
    assert Charge.objects.get().status == "succeeded"
    assert ledger.escrow_balance("contract:1") == 5_000
    assert audit.run_checks() == []
