"""Refunds that fail late: refused after they were pending, or failed at the card's bank
after they were reported succeeded. The ledger is reversed (money back in escrow), the
purpose's ``on_refund_failed`` runs once, whatever the order or repetition of webhooks."""

from __future__ import annotations

import pytest

from messaging.models import Notification
from payments import audit, ledger, registry, services
from payments.gateways.base import CardInput, RefundResult
from payments.models import AccountKind, JournalEntry, Refund, StatusEvent, WebhookEvent

from .conftest import deliver, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    seen: list[tuple[str, int, str]] = []
    registry.register(
        "test_funding",
        on_refunded=lambda r: seen.append(("refunded", r.pk, r.status)),
        on_refund_failed=lambda r: seen.append(("refund_failed", r.pk, r.failure_message)),
    )
    yield seen
    registry.unregister("test_funding")


def assert_balanced():
    assert audit.run_checks() == []


def test_register_keeps_the_refund_failed_handler():
    def handler(refund):
        return None

    registry.register("test_refund_hook", on_refund_failed=handler)
    try:
        handlers = registry.handlers_for("test_refund_hook")
        assert handlers.on_refund_failed is handler
        assert handlers.on_refunded is None and handlers.refunds_from_revenue is False
    finally:
        registry.unregister("test_refund_hook")
    assert registry.handlers_for("test_refund_hook").on_refund_failed is None


def test_refund_transitions_table():
    assert {
        "reserved": {"succeeded", "failed"},
        "succeeded": {"failed"},
        "failed": set(),
    } == Refund.TRANSITIONS


# --- local gateway: refund_settle -----------------------------------------------------------------


def test_succeeded_refund_failing_later_is_reversed_back_into_escrow(client_user, calls):
    charge = fund(client_user, 10_000, escrow_reference="contract:9")
    fees_before = ledger.balance(AccountKind.PLATFORM_FEES)
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="m:9:refund")
    assert refund.status == "succeeded" and ledger.escrow_balance("contract:9") == 0

    failed = services.refund_settle(
        refund_id=refund.pk, result=RefundResult(status="failed", failure_message="Card closed.")
    )

    assert failed.status == "failed" and failed.failure_message == "Card closed."
    assert ledger.escrow_balance("contract:9") == 10_000
    assert ledger.balance(AccountKind.PLATFORM_FEES) == fees_before
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 0
    reversals = JournalEntry.objects.filter(reverses__isnull=False).values_list("idempotency_key", flat=True)
    assert sorted(reversals) == ["m:9:refund:failed", "m:9:refund:settled:reversed"]
    assert calls == [("refunded", refund.pk, "succeeded"), ("refund_failed", refund.pk, "Card closed.")]
    assert list(
        StatusEvent.objects.filter(record="refund", record_id=refund.pk).values_list("to_status", flat=True)
    ) == ["reserved", "succeeded", "failed"]
    assert_balanced()

    # the same answer again, or a late "succeeded": no second effect
    again = services.refund_settle(refund_id=refund.pk, result=RefundResult(status="failed"))
    late = services.refund_settle(refund_id=refund.pk, result=RefundResult(status="succeeded"))
    assert again.status == late.status == "failed"
    assert len(calls) == 2 and ledger.escrow_balance("contract:9") == 10_000
    assert_balanced()

    # the money can be refunded again (a new key)
    second = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="m:9:refund:2")
    assert second.status == "succeeded" and ledger.escrow_balance("contract:9") == 0
    assert_balanced()


def test_without_a_handler_the_payer_is_told_the_refund_failed(
    client_user, django_capture_on_commit_callbacks
):
    charge = fund(client_user, 5_000, reference="order:7", escrow_reference="contract:7")
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="o:7:refund")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_settle(
            refund_id=refund.pk, result=RefundResult(status="failed", failure_message="Card closed.")
        )
    texts = list(Notification.objects.filter(recipient=client_user).values_list("text", flat=True))
    assert any("failed at your bank" in text for text in texts)
    assert_balanced()


def test_settling_an_unknown_refund_is_not_found():
    from marketplace.errors import NotFoundError

    with pytest.raises(NotFoundError):
        services.refund_settle(refund_id=999_999, result=RefundResult(status="failed"))


# --- fake Stripe: webhooks --------------------------------------------------------------------------


def _stripe_charge(client_user, token: str, reference: str = "m:1"):
    services.payment_method_add(actor=client_user, card=CardInput(token=token))
    charge = services.charge_create(
        actor=client_user,
        amount_cents=10_000,
        purpose="test_funding",
        reference=reference,
        escrow_reference="contract:1",
    )
    assert charge.status == "succeeded"
    return charge


def _deliver_all(client, fake, events, capture):
    for event in events:
        with capture(execute=True):
            assert deliver(client, fake, event).status_code == 200


def test_pending_refund_failing_by_webhook_goes_back_to_escrow(
    client, fake_stripe, client_user, calls, django_capture_on_commit_callbacks
):
    charge = _stripe_charge(client_user, "pm_card_pendingRefund")
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="m:1:refund")
    assert refund.status == "reserved" and refund.gateway_refund_id
    assert ledger.escrow_balance("contract:1") == 0
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 10_000 + charge.client_fee_cents

    events = fake_stripe.settle_refund(refund.gateway_refund_id, "failed")
    _deliver_all(client, fake_stripe, events, django_capture_on_commit_callbacks)

    refund.refresh_from_db()
    assert refund.status == "failed" and "expired or canceled card" in refund.failure_message
    assert ledger.escrow_balance("contract:1") == 10_000
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 0
    assert calls == [("refund_failed", refund.pk, refund.failure_message)]
    outcomes = list(WebhookEvent.objects.order_by("pk").values_list("type", "outcome"))
    assert outcomes[0] == ("charge.refund.updated", f"refund {refund.pk} reserved -> failed")
    assert all(outcome == f"refund {refund.pk} failed (provider: failed)" for _t, outcome in outcomes[1:])
    assert_balanced()


def test_pending_refund_succeeding_by_webhook_settles(
    client, fake_stripe, client_user, calls, django_capture_on_commit_callbacks
):
    charge = _stripe_charge(client_user, "pm_card_pendingRefund")
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="m:1:refund")
    events = fake_stripe.settle_refund(refund.gateway_refund_id, "succeeded")
    _deliver_all(client, fake_stripe, events, django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert calls == [("refunded", refund.pk, "succeeded")]
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 0
    assert_balanced()


def test_refund_failing_after_success_is_reversed_once_whatever_the_order(
    client, fake_stripe, client_user, calls, django_capture_on_commit_callbacks
):
    charge = _stripe_charge(client_user, "pm_card_refundFail")
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="m:1:refund")
    assert refund.status == "succeeded"
    succeeded_event = fake_stripe.make_event(
        "refund.updated", fake_stripe.state.refunds[refund.gateway_refund_id]
    )
    events = fake_stripe.settle_refund(refund.gateway_refund_id, "failed")

    # the failure first (refund.failed), then a stale "succeeded" and the rest, one replayed
    _deliver_all(
        client,
        fake_stripe,
        [events[2], succeeded_event, events[0], events[1], events[2]],
        django_capture_on_commit_callbacks,
    )

    refund.refresh_from_db()
    assert refund.status == "failed"
    assert ledger.escrow_balance("contract:1") == 10_000
    assert calls == [
        ("refunded", refund.pk, "succeeded"),
        ("refund_failed", refund.pk, refund.failure_message),
    ]
    assert WebhookEvent.objects.count() == 4  # the replay was stored once
    assert_balanced()
    # Stripe and the ledger agree: the platform holds the money again
    assert fake_stripe.state.payment_intents[charge.gateway_payment_id]["amount_refunded"] == 0


def test_refund_event_for_an_unknown_refund_is_ignored(
    client, fake_stripe, django_capture_on_commit_callbacks
):
    event = fake_stripe.make_event(
        "refund.failed", {"id": "re_unknown", "object": "refund", "status": "failed", "metadata": {}}
    )
    _deliver_all(client, fake_stripe, [event], django_capture_on_commit_callbacks)
    assert WebhookEvent.objects.get().outcome == "ignored: no refund for this provider refund"


def test_refund_made_in_the_stripe_dashboard_is_recorded_once(
    client, fake_stripe, client_user, calls, django_capture_on_commit_callbacks
):
    charge = _stripe_charge(client_user, "pm_card_visa")
    fees = ledger.balance(AccountKind.PLATFORM_FEES)
    events = fake_stripe.refund_from_dashboard(charge.gateway_payment_id)  # all of it, fee included
    _deliver_all(client, fake_stripe, [*events, events[1]], django_capture_on_commit_callbacks)

    refund = Refund.objects.get()
    assert (refund.status, refund.amount_cents, refund.fee_cents) == (
        "succeeded",
        10_000,
        charge.client_fee_cents,
    )
    assert refund.total_cents == fake_stripe.state.refunds[refund.gateway_refund_id]["amount"]
    assert ledger.escrow_balance("contract:1") == 0
    assert ledger.balance(AccountKind.PLATFORM_FEES) == fees - charge.client_fee_cents
    assert calls == [("refunded", refund.pk, "succeeded")]
    assert_balanced()
