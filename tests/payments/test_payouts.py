"""Payout methods and withdrawals: requested -> processing -> paid | failed."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from payments import audit, ledger, services
from payments.gateways import local
from payments.gateways.base import GatewayError
from payments.models import AccountKind, Payout, PayoutMethod, PayoutSchedule, StatusEvent, Transfer
from payments.tasks import process_payout, run_scheduled_payouts, sweep_stuck_payouts
from tests import factories
from tests.conftest import requires_postgres

from .conftest import give_available, stripe_ready_freelancer, usable_bank

pytestmark = pytest.mark.django_db


def available(user) -> int:
    return ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=user)


def in_transit(user) -> int:
    return ledger.balance(AccountKind.PAYOUTS_IN_TRANSIT, owner=user)


@pytest.fixture
def rich_freelancer(freelancer):
    give_available(freelancer, 10_000)  # 9,000 net
    return freelancer


# --- payout methods -----------------------------------------------------------------------------


def test_bank_account_keeps_only_last4_and_waits_three_days(freelancer):
    method = services.payout_method_add_bank_account(
        actor=freelancer, holder_name="Free Lancer", routing_number="110000000", account_number="000123456789"
    )
    assert (method.kind, method.status, method.last4) == ("bank_account", "active", "6789")
    assert "000123456789" not in str(PayoutMethod.objects.filter(pk=method.pk).values().get())
    assert not method.is_usable()
    assert method.is_usable(timezone.now() + timedelta(days=3, minutes=1))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"routing_number": "123"}, "routing_number"),
        ({"account_number": "12ab"}, "account_number"),
        ({"holder_name": " "}, "holder_name"),
    ],
)
def test_bank_account_validation(freelancer, fields, field):
    args = {
        "holder_name": "Free Lancer",
        "routing_number": "110000000",
        "account_number": "000123456789",
        **fields,
    }
    with pytest.raises(ApplicationError) as info:
        services.payout_method_add_bank_account(actor=freelancer, **args)
    assert info.value.extra["field"] == field


def test_clients_have_no_payout_methods(client_user):
    with pytest.raises(PermissionDeniedError):
        services.payout_method_add_bank_account(
            actor=client_user, holder_name="C", routing_number="110000000", account_number="1234"
        )


def test_remove_payout_method_and_foreign_users(freelancer):
    method = usable_bank(freelancer)
    with pytest.raises(NotFoundError):
        services.payout_method_remove(actor=factories.make_freelancer(), method_id=method.pk)
    services.payout_method_remove(actor=freelancer, method_id=method.pk)
    method.refresh_from_db()
    assert method.status == "removed" and method.removed_at
    with pytest.raises(NotFoundError):
        services.payout_method_remove(actor=freelancer, method_id=method.pk)


def test_stripe_connect_onboarding_activates_on_account_updated(fake_stripe, freelancer):
    method, url = services.payout_method_connect_stripe(
        actor=freelancer, return_url="http://testserver/ok", refresh_url="http://testserver/r"
    )
    assert method.status == "onboarding" and url.startswith(fake_stripe.url)
    again, url2 = services.payout_method_connect_stripe(
        actor=freelancer, return_url="http://testserver/ok", refresh_url="http://testserver/r"
    )
    assert again.pk == method.pk and url2 != url and len(fake_stripe.state.accounts) == 1
    services.payout_method_sync_account(
        account_id=method.gateway_account_id, details_submitted=True, payouts_enabled=True
    )
    method.refresh_from_db()
    assert method.status == "active"
    services.payout_method_sync_account(
        account_id=method.gateway_account_id, details_submitted=True, payouts_enabled=False
    )
    method.refresh_from_db()
    assert method.status == "restricted"


def test_payout_method_transitions_table():
    assert PayoutMethod.TRANSITIONS["removed"] == set()
    transitions = Payout.TRANSITIONS
    assert transitions == {
        "requested": {"processing", "failed"},
        "processing": {"paid", "failed"},
        "paid": {"failed"},
        "failed": set(),
    }


# --- requesting ----------------------------------------------------------------------------------


def test_withdrawal_via_local_bank_is_paid(rich_freelancer, django_capture_on_commit_callbacks):
    method = usable_bank(rich_freelancer)
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.gateway_payout_id.startswith("po_local_")
    assert (available(rich_freelancer), in_transit(rich_freelancer)) == (4_000, 0)
    assert list(
        StatusEvent.objects.filter(record="payout", record_id=payout.pk).values_list("to_status", flat=True)
    ) == [
        "requested",
        "processing",
        "paid",
    ]
    [op] = local.operations("payout")
    assert op.idempotency_key == f"payout:{payout.pk}:payout"
    assert audit.run_checks() == []


def test_withdrawal_to_a_failing_bank_returns_the_money(rich_freelancer, django_capture_on_commit_callbacks):
    method = usable_bank(rich_freelancer, account_number="000111111116")
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "failed" and "does not exist" in payout.failure_message
    assert (available(rich_freelancer), in_transit(rich_freelancer)) == (9_000, 0)
    assert audit.run_checks() == []


def test_request_moves_available_to_in_transit_before_the_task(rich_freelancer):
    method = usable_bank(rich_freelancer)
    payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    assert payout.status == "requested"
    assert (available(rich_freelancer), in_transit(rich_freelancer)) == (4_000, 5_000)


@pytest.mark.parametrize(
    ("amount", "message"),
    [(999, "smallest withdrawal is \\$10.00"), (9_001, "withdraw up to \\$90.00"), (0, "more than zero")],
)
def test_amount_limits(rich_freelancer, settings, amount, message):
    settings.PAYOUT_MIN_CENTS = 1_000
    method = usable_bank(rich_freelancer)
    with pytest.raises(ApplicationError, match=message):
        services.payout_request(actor=rich_freelancer, amount_cents=amount, method_id=method.pk)
    assert not Payout.objects.exists()
    assert available(rich_freelancer) == 9_000


def test_new_methods_wait(rich_freelancer):
    method = services.payout_method_add_bank_account(
        actor=rich_freelancer,
        holder_name="Free Lancer",
        routing_number="110000000",
        account_number="000123456789",
    )
    with pytest.raises(ApplicationError, match="For your security") as info:
        services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    assert info.value.code == "method_too_new"


def test_someone_elses_method_is_not_found(rich_freelancer):
    other = usable_bank(factories.make_freelancer())
    with pytest.raises(NotFoundError):
        services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=other.pk)


def test_request_is_idempotent_by_key(rich_freelancer):
    method = usable_bank(rich_freelancer)
    first = services.payout_request(
        actor=rich_freelancer, amount_cents=5_000, method_id=method.pk, idempotency_key="a"
    )
    again = services.payout_request(
        actor=rich_freelancer, amount_cents=5_000, method_id=method.pk, idempotency_key="a"
    )
    assert first.pk == again.pk and available(rich_freelancer) == 4_000
    with pytest.raises(ConflictError):
        services.payout_request(
            actor=rich_freelancer, amount_cents=4_000, method_id=method.pk, idempotency_key="a"
        )


# --- processing -------------------------------------------------------------------------------------


def test_task_twice_is_one_payout(rich_freelancer):
    method = usable_bank(rich_freelancer)
    payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    assert process_payout(payout.pk) == "paid"
    assert process_payout(payout.pk) == "paid"
    assert len(local.operations("payout")) == 1
    assert in_transit(rich_freelancer) == 0


def test_retryable_error_leaves_processing_for_the_sweeper(rich_freelancer, monkeypatch):
    method = usable_bank(rich_freelancer)
    payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    real = local.LocalGateway.payout
    monkeypatch.setattr(
        local.LocalGateway,
        "payout",
        lambda self, **kw: (_ for _ in ()).throw(GatewayError("down", retryable=True)),
    )
    assert process_payout(payout.pk) == "processing"
    payout.refresh_from_db()
    assert payout.last_error == "down" and payout.attempts == 1
    monkeypatch.setattr(local.LocalGateway, "payout", real)
    assert sweep_stuck_payouts() == 1
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("paid", 2)


def test_sweeper_takes_over_a_dead_workers_payout(rich_freelancer):
    method = usable_bank(rich_freelancer)
    payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    # A worker claimed it and died: processing with a lease.
    Payout.objects.filter(pk=payout.pk).update(
        status="processing", lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert process_payout(payout.pk) == "processing"  # the lease is someone else's
    assert services.payouts_sweep_stuck() == 0
    assert services.payouts_sweep_stuck(now=timezone.now() + timedelta(minutes=6)) == 1
    payout.refresh_from_db()
    assert payout.status == "paid"


def test_sweeper_picks_up_requested_payouts_whose_task_was_lost(rich_freelancer):
    method = usable_bank(rich_freelancer)
    payout = services.payout_request(actor=rich_freelancer, amount_cents=5_000, method_id=method.pk)
    assert services.payouts_sweep_stuck(now=timezone.now() + timedelta(minutes=10)) == 1
    payout.refresh_from_db()
    assert payout.status == "paid"


# --- Stripe -----------------------------------------------------------------------------------------------


def test_stripe_withdrawal_transfers_then_pays_out(
    fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks
):
    method, amount = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    assert amount == 9_000
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=amount, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "processing"
    [transfer] = fake_stripe.state.transfers.values()
    assert (transfer["amount"], transfer["destination"]) == (9_000, method.gateway_account_id)
    [stored] = fake_stripe.state.payouts.values()
    assert (stored["amount"], stored["_account"], stored["status"]) == (
        9_000,
        method.gateway_account_id,
        "pending",
    )
    keys = [r.idempotency_key for r in fake_stripe.requests if r.path in ("/v1/transfers", "/v1/payouts")]
    assert keys == [f"payout:{payout.pk}:transfer", f"payout:{payout.pk}:payout"]
    assert Transfer.objects.get().status == "succeeded"
    # The sweeper asks Stripe once the bank has answered.
    fake_stripe.settle_payout(stored["id"], "paid")
    assert services.payouts_sweep_stuck(now=timezone.now() + timedelta(hours=1)) == 1
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert len(fake_stripe.state.transfers) == 1 and len(fake_stripe.state.payouts) == 1
    assert audit.run_checks() == []


def test_stripe_transfer_refused_fails_the_payout(
    fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks
):
    method, amount = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    fake_stripe.state.platform_balance = 0  # the platform's Stripe balance is short
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=amount, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "failed" and "insufficient available funds" in payout.failure_message
    assert available(freelancer) == amount


def test_stripe_lost_transfer_answer_is_retried_with_the_same_key(
    fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks
):
    method, amount = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    fake_stripe.fail_next("lost", path="/v1/transfers")
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=amount, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "processing" and payout.last_error
    assert services.payouts_sweep_stuck(now=timezone.now() + timedelta(minutes=1)) == 1
    payout.refresh_from_db()
    assert payout.gateway_payout_id
    assert len(fake_stripe.state.transfers) == 1
    assert fake_stripe.count("POST", "/v1/transfers", replayed=True) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_payout_task_twice_at_once_makes_one_transfer(
    fake_stripe, freelancer, client_user, monkeypatch
):
    from payments import tasks

    method, amount = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    monkeypatch.setattr(tasks.process_payout, "delay", lambda *a, **k: None)  # we run it ourselves
    payout = services.payout_request(actor=freelancer, amount_cents=amount, method_id=method.pk)
    barrier = threading.Barrier(2)
    results: list[str | None] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(process_payout(payout.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == ["processing", "processing"]
    assert len(fake_stripe.state.transfers) == 1
    assert fake_stripe.count("POST", "/v1/transfers") == 1
    assert len(fake_stripe.state.payouts) == 1
    assert Transfer.objects.count() == 1
    payout.refresh_from_db()
    assert payout.attempts == 1
    assert audit.run_checks() == []


# --- schedules -------------------------------------------------------------------------------------------


def test_weekly_schedule_withdraws_once_per_week(rich_freelancer):
    method = usable_bank(rich_freelancer)
    services.payout_schedule_set(actor=rich_freelancer, frequency="weekly", method_id=method.pk)
    monday = datetime(2030, 1, 7, 6, tzinfo=timezone.get_current_timezone())
    assert services.payouts_run_scheduled(now=monday) == 1
    assert services.payouts_run_scheduled(now=monday + timedelta(days=1)) == 0
    payout = Payout.objects.get()
    assert (payout.amount_cents, payout.automatic) == (9_000, True)
    assert payout.idempotency_key == f"{rich_freelancer.pk}:schedule:2030-W02"


def test_monthly_schedule_and_small_balances(freelancer, settings):
    give_available(freelancer, 1_000)  # 900 net: under the minimum
    method = usable_bank(freelancer)
    services.payout_schedule_set(actor=freelancer, frequency="monthly", method_id=method.pk)
    assert run_scheduled_payouts() == 0
    settings.PAYOUT_MIN_CENTS = 500
    assert (
        services.payouts_run_scheduled(now=datetime(2030, 2, 1, 6, tzinfo=timezone.get_current_timezone()))
        == 1
    )


def test_schedule_needs_a_method_and_removing_it_stops_the_schedule(freelancer):
    with pytest.raises(ApplicationError, match="Choose where"):
        services.payout_schedule_set(actor=freelancer, frequency="weekly")
    with pytest.raises(ApplicationError):
        services.payout_schedule_set(actor=freelancer, frequency="daily")
    method = usable_bank(freelancer)
    services.payout_schedule_set(actor=freelancer, frequency="weekly", method_id=method.pk)
    services.payout_method_remove(actor=freelancer, method_id=method.pk)
    schedule = PayoutSchedule.objects.get(user=freelancer)
    assert (schedule.frequency, schedule.method_id) == ("manual", None)
