"""Stripe webhooks: only authentic events are stored, each is processed once, and the
final state does not depend on delivery order or repetition."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from payments import audit, ledger, registry, services
from payments.gateways.base import CardInput
from payments.models import AccountKind, Charge, JournalEntry, Payout, WebhookEvent
from payments.webhooks import webhook_process
from tests.conftest import requires_postgres

from .conftest import WEBHOOK_URL, deliver, stripe_ready_freelancer

pytestmark = pytest.mark.django_db


@pytest.fixture
def reserved_charge(fake_stripe, client_user):
    """A charge that happened at Stripe but whose answer was lost: still reserved here."""
    services.payment_method_add(actor=client_user, card=CardInput(token="pm_card_visa"))
    fake_stripe.fail_next("lost", path="/v1/payment_intents")
    charge = services.charge_create(
        actor=client_user,
        amount_cents=10_000,
        purpose="test_funding",
        reference="m:1",
        escrow_reference="contract:1",
    )
    assert charge.status == "reserved"
    return charge


@pytest.fixture
def succeeded_event(fake_stripe, reserved_charge):
    [event] = fake_stripe.events_of("payment_intent.succeeded")
    return event


@pytest.fixture
def handler_calls():
    calls: list[int] = []
    registry.register("test_funding", on_succeeded=lambda charge: calls.append(charge.pk))
    yield calls
    registry.unregister("test_funding")


# --- authenticity -------------------------------------------------------------------------


def test_authentic_event_is_stored_and_processed(
    client, fake_stripe, succeeded_event, reserved_charge, handler_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, fake_stripe, succeeded_event)
    assert response.status_code == 200
    assert response.json() == {"received": succeeded_event["id"], "duplicate": False}
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.type) == (succeeded_event["id"], "payment_intent.succeeded")
    assert stored.processed_at is not None and stored.outcome == f"charge {reserved_charge.pk} succeeded"
    reserved_charge.refresh_from_db()
    assert reserved_charge.status == "succeeded"
    assert ledger.escrow_balance("contract:1") == 10_000
    assert handler_calls == [reserved_charge.pk]


@pytest.mark.parametrize(
    "case", ["unsigned", "tampered", "wrong_secret", "stale", "future", "garbage_header", "no_v1", "not_json"]
)
def test_inauthentic_requests_are_rejected_without_a_write(client, fake_stripe, succeeded_event, case):
    payload = json.dumps(succeeded_event)
    now = int(time.time())
    if case == "unsigned":
        response = deliver(client, fake_stripe, payload=payload, secret="")
    elif case == "tampered":
        header = fake_stripe.sign(payload)
        response = deliver(client, fake_stripe, payload=payload.replace("10500", "99999"), header=header)
    elif case == "wrong_secret":
        response = deliver(client, fake_stripe, payload=payload, secret="whsec_someone_else")
    elif case == "stale":
        response = deliver(client, fake_stripe, payload=payload, timestamp=now - 301)
    elif case == "future":
        # well past the 300 s tolerance: at now + 301 a slow machine's second between here
        # and the check brought it back within (the test failed once that way)
        response = deliver(client, fake_stripe, payload=payload, timestamp=now + 330)
    elif case == "garbage_header":
        response = deliver(client, fake_stripe, payload=payload, header="nonsense")
    elif case == "no_v1":
        response = deliver(client, fake_stripe, payload=payload, header=f"t={now},v0=abc")
    else:
        body = "not json"
        response = deliver(client, fake_stripe, payload=body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert WebhookEvent.objects.count() == 0
    assert Charge.objects.get().status == "reserved"


def test_timestamps_within_the_tolerance_are_accepted(client, fake_stripe, succeeded_event):
    assert deliver(client, fake_stripe, succeeded_event, timestamp=int(time.time()) - 290).status_code == 200


def test_no_secret_configured_rejects_everything(client, fake_stripe, succeeded_event, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(client, fake_stripe, succeeded_event).status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_only_post(client):
    assert client.get(WEBHOOK_URL).status_code == 405


# --- once -------------------------------------------------------------------------------------


def test_duplicate_delivery_has_one_effect(
    client, fake_stripe, succeeded_event, reserved_charge, handler_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, fake_stripe, succeeded_event)
        second = deliver(client, fake_stripe, succeeded_event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert handler_calls == [reserved_charge.pk]
    assert JournalEntry.objects.filter(idempotency_key__endswith=":settled").count() == 1


def test_processing_twice_is_a_no_op(fake_stripe, client, succeeded_event, handler_calls):
    deliver(client, fake_stripe, succeeded_event)  # on_commit not run: stored, not processed
    event = WebhookEvent.objects.get()
    assert event.processed_at is None
    webhook_process(event_pk=event.pk)
    webhook_process(event_pk=event.pk)
    assert WebhookEvent.objects.get().attempts == 1
    assert len(handler_calls) == 1


def test_unhandled_types_are_recorded_as_ignored(client, fake_stripe, django_capture_on_commit_callbacks):
    event = fake_stripe.make_event("customer.created", {"id": "cus_1", "object": "customer"})
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, fake_stripe, event).status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored: event type not handled"


def test_a_failing_handler_leaves_the_event_for_the_sweeper(
    client, fake_stripe, succeeded_event, reserved_charge, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import webhooks

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", lambda e: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, fake_stripe, succeeded_event).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.processed_at is None and "ZeroDivisionError" in event.last_error
    monkeypatch.undo()
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=event.received_at - webhooks.timedelta(minutes=5)
    )
    assert webhooks.webhooks_sweep() == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == 2
    reserved_charge.refresh_from_db()
    assert reserved_charge.status == "succeeded"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_have_one_effect(
    fake_stripe, succeeded_event, reserved_charge, handler_calls
):
    payload = json.dumps(succeeded_event)
    header = fake_stripe.sign(payload)
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client().post(
                WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().processed_at is not None
    assert handler_calls == [reserved_charge.pk]
    assert JournalEntry.objects.filter(idempotency_key__endswith=":settled").count() == 1
    assert ledger.escrow_balance("contract:1") == 10_000
    assert audit.run_checks() == []


# --- order --------------------------------------------------------------------------------------


def test_webhook_before_the_retry_reaches_the_same_state(
    client, fake_stripe, succeeded_event, reserved_charge, handler_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, succeeded_event)
    retried = services.charge_create(
        actor=reserved_charge.payer,
        amount_cents=10_000,
        purpose="test_funding",
        reference="m:1",
        escrow_reference="contract:1",
    )
    assert retried.status == "succeeded" and retried.pk == reserved_charge.pk
    assert len(fake_stripe.state.payment_intents) == 1
    assert handler_calls == [reserved_charge.pk]
    assert ledger.escrow_balance("contract:1") == 10_000


def test_a_late_failure_event_does_not_undo_a_success(
    client, fake_stripe, client_user, django_capture_on_commit_callbacks
):
    services.payment_method_add(actor=client_user, card=CardInput(token="pm_card_visa"))
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:2"
    )
    intent = dict(fake_stripe.state.payment_intents[charge.gateway_payment_id])
    intent.update(status="requires_payment_method", last_payment_error={"message": "Your card was declined."})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, fake_stripe.make_event("payment_intent.payment_failed", intent))
    charge.refresh_from_db()
    assert charge.status == "succeeded"
    assert WebhookEvent.objects.get().outcome == f"charge {charge.pk} succeeded"


def test_payment_failed_event_fails_a_reserved_charge(
    client, fake_stripe, client_user, django_capture_on_commit_callbacks
):
    services.payment_method_add(actor=client_user, card=CardInput(token="pm_card_chargeDeclined"))
    fake_stripe.fail_next("lost", path="/v1/payment_intents")
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:3"
    )
    assert charge.status == "reserved"
    [event] = fake_stripe.events_of("payment_intent.payment_failed")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, event)
    charge.refresh_from_db()
    assert (charge.status, charge.failure_message) == ("failed", "Your card was declined.")
    assert charge.gateway_payment_id == event["data"]["object"]["id"]


def test_account_updated_out_of_order_keeps_the_newest(
    client, fake_stripe, freelancer, django_capture_on_commit_callbacks
):
    method, _ = services.payout_method_connect_stripe(
        actor=freelancer, return_url="http://testserver/ok", refresh_url="http://testserver/r"
    )
    account = fake_stripe.state.accounts[method.gateway_account_id]
    older = fake_stripe.make_event("account.updated", dict(account), created=int(time.time()) - 60)
    newer = fake_stripe.make_event(
        "account.updated",
        fake_stripe.complete_onboarding(method.gateway_account_id),
        created=int(time.time()),
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, newer)
        deliver(client, fake_stripe, older)
    method.refresh_from_db()
    assert (method.status, method.payouts_enabled) == ("active", True)


@pytest.mark.parametrize("order", [("paid", "failed"), ("failed", "paid")])
def test_payout_events_in_any_order_end_failed_with_money_available(
    client, fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks, order
):
    method, available = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=available, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "processing" and payout.gateway_payout_id
    stored = fake_stripe.state.payouts[payout.gateway_payout_id]
    account = stored["_account"]
    paid = fake_stripe.make_event("payout.paid", {**stored, "status": "paid"}, account=account)
    failed = fake_stripe.settle_payout(payout.gateway_payout_id, "failed")
    events = {"paid": paid, "failed": failed}
    with django_capture_on_commit_callbacks(execute=True):
        for name in order:
            assert deliver(client, fake_stripe, events[name]).status_code == 200
    payout.refresh_from_db()
    assert payout.status == "failed"
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == available
    assert ledger.balance(AccountKind.PAYOUTS_IN_TRANSIT, owner=freelancer) == 0
    transfer = payout.transfers.get()
    assert transfer.status == "reversed"
    assert fake_stripe.state.transfers[transfer.gateway_transfer_id]["reversed"] is True
    assert audit.run_checks() == []


def test_payout_paid_event_completes_the_payout(
    client, fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks
):
    method, available = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=available, method_id=method.pk)
    payout.refresh_from_db()
    event = fake_stripe.settle_payout(payout.gateway_payout_id, "paid")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, event)
        deliver(client, fake_stripe, event)
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.paid_at is not None
    assert ledger.balance(AccountKind.PAYOUTS_IN_TRANSIT, owner=freelancer) == 0
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 0
    assert JournalEntry.objects.filter(idempotency_key=f"payout:{payout.pk}:paid").count() == 1


def test_transfer_reversed_by_stripe_fails_a_processing_payout(
    client, fake_stripe, freelancer, client_user, django_capture_on_commit_callbacks
):
    method, available = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    fake_stripe.fail_next("error_500", path="/v1/payouts")  # transfer made, payout not yet
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=available, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "processing" and payout.gateway_transfer_id
    # Staff reverse the transfer in Stripe's dashboard: Stripe tells us.
    fake_stripe.state.account_balances[method.gateway_account_id] = available
    transfer = fake_stripe.state.transfers[payout.gateway_transfer_id]
    transfer.update(amount_reversed=available, reversed=True)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, fake_stripe.make_event("transfer.reversed", transfer))
    payout.refresh_from_db()
    assert payout.status == "failed" and "reversed" in payout.failure_message
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == available
    assert Payout.objects.get().transfers.get().status == "reversed"


@pytest.mark.django_db(transaction=True)
def test_the_fake_sends_signed_webhooks_to_a_live_server(live_server, fake_stripe, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = fake_stripe.make_event("customer.created", {"id": "cus_9", "object": "customer"})
    status, body = fake_stripe.send_webhook(live_server.url + WEBHOOK_URL, event)
    assert status == 200 and json.loads(body)["received"] == event["id"]
    status, _ = fake_stripe.send_webhook(live_server.url + WEBHOOK_URL, event, secret="whsec_wrong")
    assert status == 400
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is not None and stored.outcome == "ignored: event type not handled"


def test_success_for_a_failed_charge_is_flagged_for_review(
    client, fake_stripe, client_user, django_capture_on_commit_callbacks
):
    services.payment_method_add(actor=client_user, card=CardInput(token="pm_card_chargeDeclined"))
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:4"
    )
    assert charge.status == "failed"
    intent = {**fake_stripe.state.payment_intents[charge.gateway_payment_id], "status": "succeeded"}
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, fake_stripe.make_event("payment_intent.succeeded", intent))
    assert "needs review" in WebhookEvent.objects.get().outcome
    charge.refresh_from_db()
    assert charge.status == "failed"
    assert ledger.escrow_balance("m:4") == 0
