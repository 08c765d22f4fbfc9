"""A milestone refund that fails late (refused after it was pending, or failed at the
card's bank after it was reported succeeded): the milestone's marker is cleared, its
escrow restored, the timeline and both parties told, and it can be refunded again."""

from __future__ import annotations

import pytest

from contracts import escrow, services
from contracts.models import ContractEvent, Milestone
from contracts.selectors import event_text
from marketplace.errors import ConflictError
from messaging.models import Notification
from payments import audit, ledger
from payments import services as payment_services
from payments.gateways.base import CardInput, RefundResult
from payments.models import Refund
from tests.fakes.fixtures import fake_stripe, fake_stripe_server  # noqa: F401
from tests.payments.conftest import deliver

pytestmark = pytest.mark.django_db


def escrow_of(contract) -> int:
    return ledger.escrow_balance(f"contract:{contract.pk}")


def assert_audit_clean() -> None:
    assert audit.run_checks() == []
    assert escrow.audit_escrow() == []


def failure_events(milestone):
    return list(
        ContractEvent.objects.filter(
            milestone=milestone, kind=ContractEvent.Kind.MILESTONE_REFUND_REQUESTED, data__refund_failed=True
        )
    )


def texts_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


# --- local gateway: refund_settle reports the failure --------------------------------------------------


def test_full_refund_failing_after_success_restores_the_milestone(
    funded, hire, django_capture_on_commit_callbacks
):
    contract, milestone = funded
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
    milestone = services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk, reason="Sorry")
    assert milestone.status == Milestone.Status.REFUNDED and escrow_of(contract) == 0
    refund = Refund.objects.get(charge__reference=f"milestone:{milestone.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        payment_services.refund_settle(
            refund_id=refund.pk, result=RefundResult(status="failed", failure_message="The card is closed.")
        )

    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.SUBMITTED  # where it was before the refund
    assert (milestone.escrow_cents, milestone.refunded_cents, milestone.refund_pending_cents) == (
        50_000,
        0,
        0,
    )
    assert escrow_of(contract) == 50_000
    [event] = failure_events(milestone)
    assert (event.from_status, event.to_status) == ("refunded", "submitted")
    assert event.data["refund_id"] == refund.pk and event.data["refunded_cents"] == 50_000
    assert "failed: The card is closed." in event_text(event)
    assert any("did not reach your card" in t for t in texts_for(hire.client))
    assert any("refund again" in t for t in texts_for(hire.freelancer))
    assert_audit_clean()

    # refunded again, with a new key: the milestone ends refunded and the ledger agrees
    milestone = services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)
    assert milestone.status == Milestone.Status.REFUNDED and milestone.refunded_cents == 50_000
    keys = sorted(Refund.objects.values_list("idempotency_key", "status"))
    assert keys == [
        (f"milestone-refund:{milestone.pk}:0", "failed"),
        (f"milestone-refund:{milestone.pk}:0:retry1", "succeeded"),
    ]
    assert escrow_of(contract) == 0
    assert_audit_clean()


def test_partial_refund_failing_after_success_gives_the_escrow_back(funded, hire):
    contract, milestone = funded
    services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk, amount_cents=20_000)
    refund = Refund.objects.get()
    payment_services.refund_settle(refund_id=refund.pk, result=RefundResult(status="failed"))
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED
    assert (milestone.escrow_cents, milestone.refunded_cents) == (50_000, 0)
    assert escrow_of(contract) == 50_000
    assert_audit_clean()
    # the same failure reported again changes nothing
    payment_services.refund_settle(refund_id=refund.pk, result=RefundResult(status="failed"))
    milestone.refresh_from_db()
    assert milestone.escrow_cents == 50_000 and len(failure_events(milestone)) == 1
    assert_audit_clean()


# --- fake Stripe: the webhook reports the failure -----------------------------------------------------


@pytest.fixture
def stripe_funded(hire, fake_stripe):  # noqa: F811
    """A fixed contract funded through (fake) Stripe with a card whose refunds stay pending."""
    contract = hire.contract()
    payment_services.payment_method_add(actor=hire.client, card=CardInput(token="pm_card_pendingRefund"))
    milestone = contract.milestones.order_by("pk").first()
    result = services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    assert len(result.funded) == 1
    milestone.refresh_from_db()
    return contract, milestone


def _deliver(client, fake, events, capture) -> None:
    for event in events:
        with capture(execute=True):
            assert deliver(client, fake, event).status_code == 200


def test_pending_refund_failing_by_webhook_clears_the_marker_and_can_be_sent_again(
    client,
    fake_stripe,  # noqa: F811
    stripe_funded,
    hire,
    django_capture_on_commit_callbacks,
):
    contract, milestone = stripe_funded
    milestone = services.milestone_refund(
        actor=hire.freelancer, milestone_id=milestone.pk, amount_cents=20_000
    )
    assert milestone.refund_pending_cents == 20_000 and milestone.escrow_cents == 50_000
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.RESERVED
    with pytest.raises(ConflictError):  # in flight: no second refund meanwhile
        services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)

    _deliver(
        client,
        fake_stripe,
        fake_stripe.settle_refund(refund.gateway_refund_id, "failed", failure_reason="lost_or_stolen_card"),
        django_capture_on_commit_callbacks,
    )

    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED
    assert (milestone.escrow_cents, milestone.refund_pending_cents, milestone.refunded_cents) == (
        50_000,
        0,
        0,
    )
    assert escrow_of(contract) == 50_000
    [event] = failure_events(milestone)
    assert "lost or stolen card" in event.data["message"]
    assert any("did not reach your card" in t for t in texts_for(hire.client))
    assert any("refund again" in t for t in texts_for(hire.freelancer))
    assert_audit_clean()

    # sent again: a new refund (new key), which the bank confirms later
    milestone = services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)
    second = Refund.objects.exclude(pk=refund.pk).get()
    assert second.idempotency_key == f"milestone-refund:{milestone.pk}:0:retry1"
    assert milestone.refund_pending_cents == 50_000
    _deliver(
        client,
        fake_stripe,
        fake_stripe.settle_refund(second.gateway_refund_id, "succeeded"),
        django_capture_on_commit_callbacks,
    )
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.REFUNDED and milestone.refunded_cents == 50_000
    assert escrow_of(contract) == 0
    assert_audit_clean()


def test_refund_failing_at_the_bank_after_success_reopens_the_milestone(
    client,
    fake_stripe,  # noqa: F811
    hire,
    django_capture_on_commit_callbacks,
):
    contract = hire.contract()
    payment_services.payment_method_add(actor=hire.client, card=CardInput(token="pm_card_refundFail"))
    milestone = contract.milestones.order_by("pk").first()
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    milestone = services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)
    assert milestone.status == Milestone.Status.REFUNDED
    refund = Refund.objects.get()

    events = fake_stripe.settle_refund(refund.gateway_refund_id, "failed")
    _deliver(client, fake_stripe, [*events, events[0]], django_capture_on_commit_callbacks)

    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED
    assert (milestone.escrow_cents, milestone.refunded_cents, milestone.refund_pending_cents) == (
        50_000,
        0,
        0,
    )
    assert escrow_of(contract) == 50_000 and len(failure_events(milestone)) == 1
    assert_audit_clean()
    # the work can go on: submitted and approved, the escrow released once
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done after all.")
    services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    assert escrow_of(contract) == 0
    assert_audit_clean()
