"""Charges, escrow release and refunds through the local gateway, with the ledger
balanced after each and the purpose handlers called in the settlement transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ClientProfile
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from payments import audit, ledger, registry, services
from payments.gateways import local
from payments.gateways.base import ChargeResult, GatewayError
from payments.models import AccountKind, Charge, Refund, StatusEvent
from tests import factories

from .conftest import DECLINED, NO_FUNDS, add_card, card, fund

pytestmark = pytest.mark.django_db


def assert_balanced():
    assert audit.run_checks() == []


@pytest.fixture
def calls():
    seen: list[tuple[str, int, str]] = []
    registry.register(
        "test_funding",
        on_succeeded=lambda c: seen.append(("succeeded", c.pk, c.status)),
        on_failed=lambda c: seen.append(("failed", c.pk, c.failure_message)),
        on_refunded=lambda r: seen.append(("refunded", r.pk, r.status)),
    )
    yield seen
    registry.unregister("test_funding")


# --- cards --------------------------------------------------------------------------------


def test_saving_a_card_verifies_the_client(client_user):
    method = add_card(client_user)
    assert (method.brand, method.last4, method.is_default) == ("visa", "4242", True)
    assert ClientProfile.objects.get(user=client_user).payment_method_verified is True
    assert not hasattr(method, "number")


def test_a_second_card_becomes_default_and_removing_promotes_the_other(client_user):
    first = add_card(client_user)
    second = add_card(client_user, "5555555555554444")
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    services.payment_method_remove(actor=client_user, method_id=second.pk)
    first.refresh_from_db()
    assert first.is_default is True
    services.payment_method_remove(actor=client_user, method_id=first.pk)
    assert ClientProfile.objects.get(user=client_user).payment_method_verified is False
    assert [op.kind for op in local.operations("card_remove")] == ["card_remove", "card_remove"]


def test_bad_card_number_is_a_form_error(client_user):
    with pytest.raises(ApplicationError, match="incorrect") as info:
        services.payment_method_add(actor=client_user, card=card("4242424242424241"))
    assert info.value.extra["field"] == "number"
    assert ClientProfile.objects.get(user=client_user).payment_method_verified is False


def test_freelancers_save_cards_without_becoming_clients(freelancer):
    # freelancers pay for Connects with a card; that does not make them a client
    method = add_card(freelancer)
    assert method.user_id == freelancer.pk
    assert not ClientProfile.objects.filter(user=freelancer).exists()


def test_someone_elses_card_cannot_be_removed(client_user):
    method = add_card(client_user)
    with pytest.raises(NotFoundError):
        services.payment_method_remove(actor=factories.make_client(), method_id=method.pk)


# --- charges --------------------------------------------------------------------------------


def test_successful_charge_funds_escrow_and_takes_the_client_fee(client_user, calls):
    charge = fund(client_user, 10_000, reference="milestone:1", escrow_reference="contract:7")
    assert (charge.status, charge.amount_cents, charge.client_fee_cents, charge.total_cents) == (
        "succeeded",
        10_000,
        500,
        10_500,
    )
    assert charge.idempotency_key == "charge:test_funding:milestone:1:1"
    assert ledger.escrow_balance("contract:7") == 10_000
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 500
    assert ledger.balance(AccountKind.GATEWAY_CLEARING) == -10_500
    assert calls == [("succeeded", charge.pk, "succeeded")]
    [op] = local.operations("charge")
    assert op.params["amount"] == 10_500
    assert op.params["metadata"]["purpose"] == "test_funding" and op.params["transfer_group"] == "contract:7"
    assert list(
        StatusEvent.objects.filter(record="charge", record_id=charge.pk).values_list("to_status", flat=True)
    ) == [
        "reserved",
        "succeeded",
    ]
    assert_balanced()


@pytest.mark.parametrize(
    ("number", "message"), [(DECLINED, "Your card was declined."), (NO_FUNDS, "insufficient funds")]
)
def test_declined_charge_moves_nothing(client_user, calls, number, message):
    add_card(client_user, number)
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    assert charge.status == "failed" and message in charge.failure_message
    assert ledger.escrow_balance("m:1") == 0
    assert calls == [("failed", charge.pk, charge.failure_message)]
    assert_balanced()


def test_charging_again_after_success_returns_the_same_charge(client_user):
    first = fund(client_user, 5_000)
    again = fund(client_user, 5_000)
    assert again.pk == first.pk
    assert len(local.operations("charge")) == 1
    assert ledger.escrow_balance("contract:1") == 5_000


def test_a_different_amount_for_the_same_reference_is_a_conflict(client_user):
    fund(client_user, 5_000)
    with pytest.raises(ConflictError):
        fund(client_user, 6_000)


def test_after_a_decline_a_new_attempt_gets_a_new_key(client_user):
    add_card(client_user, DECLINED)
    failed = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    add_card(client_user)  # the new card is the default
    paid = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    assert (failed.attempt, paid.attempt, paid.status) == (1, 2, "succeeded")
    assert paid.idempotency_key.endswith(":2")


def test_provider_unreachable_leaves_the_charge_reserved_and_a_retry_charges_once(client_user, monkeypatch):
    add_card(client_user)
    real = local.LocalGateway.charge
    fail = {"left": 1}

    def flaky(self, **kwargs):
        result = real(self, **kwargs)  # the effect happens ...
        if fail["left"]:
            fail["left"] -= 1
            raise GatewayError(
                "We could not reach the payment provider.", retryable=True
            )  # ... the answer is lost
        return result

    monkeypatch.setattr(local.LocalGateway, "charge", flaky)
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    assert charge.status == "reserved" and "could not reach" in charge.last_error
    assert ledger.escrow_balance("m:1") == 0
    retried = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    assert (retried.pk, retried.status) == (charge.pk, "succeeded")
    ops = local.operations("charge")
    assert [op.replayed for op in ops] == [False, True]
    assert ledger.escrow_balance("m:1") == 5_000
    assert_balanced()


def test_sweeper_retries_stuck_charges(client_user, monkeypatch):
    add_card(client_user)
    monkeypatch.setattr(
        local.LocalGateway,
        "charge",
        lambda self, **kw: (_ for _ in ()).throw(GatewayError("down", retryable=True)),
    )
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    monkeypatch.undo()
    assert services.charges_sweep_reserved() == 0  # too fresh
    assert services.charges_sweep_reserved(now=timezone.now() + timedelta(minutes=5)) == 1
    charge.refresh_from_db()
    assert charge.status == "succeeded"


def test_settle_is_idempotent(client_user, calls):
    charge = fund(client_user, 5_000)
    again = services.charge_settle(
        charge_id=charge.pk, result=ChargeResult(status="succeeded", payment_id="x")
    )
    assert again.status == "succeeded"
    assert (
        services.charge_settle(charge_id=charge.pk, result=ChargeResult(status="failed")).status
        == "succeeded"
    )
    assert len(calls) == 1
    assert ledger.escrow_balance("contract:1") == 5_000


def test_a_failing_handler_does_not_lose_the_money(client_user):
    def boom(charge):
        raise RuntimeError("milestone was cancelled")

    registry.register("test_funding", on_succeeded=boom)
    try:
        charge = fund(client_user, 5_000)
    finally:
        registry.unregister("test_funding")
    assert charge.status == "succeeded"
    assert "milestone was cancelled" in Charge.objects.get(pk=charge.pk).handler_error
    assert ledger.escrow_balance("contract:1") == 5_000


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount_cents": 0}, "invalid_amount"),
        ({"amount_cents": -5}, "invalid_amount"),
        ({"amount_cents": 12.5}, "invalid_amount"),
        ({"amount_cents": "abc"}, "invalid_amount"),
        ({"purpose": "Bad Purpose"}, "invalid_purpose"),
        ({"reference": "has spaces"}, "invalid_reference"),
    ],
)
def test_bad_input_is_refused(client_with_card, kwargs, code):
    args = {"amount_cents": 1000, "purpose": "test_funding", "reference": "m:1", **kwargs}
    with pytest.raises(ApplicationError) as info:
        services.charge_create(actor=client_with_card, **args)
    assert info.value.code == code
    assert not Charge.objects.exists()


def test_no_card_no_charge(client_user):
    with pytest.raises(ApplicationError, match="Add a card"):
        services.charge_create(actor=client_user, amount_cents=1000, purpose="test_funding", reference="m:1")


def test_another_clients_card_cannot_be_used(client_user):
    other_card = add_card(factories.make_client())
    add_card(client_user)
    with pytest.raises(ApplicationError, match="No such card"):
        services.charge_create(
            actor=client_user,
            amount_cents=1000,
            purpose="test_funding",
            reference="m:1",
            payment_method_id=other_card.pk,
        )


def test_suspended_clients_cannot_pay(client_with_card, staff):
    from accounts.services import user_suspend

    user_suspend(actor=staff, user_id=client_with_card.pk, reason="fraud")
    client_with_card.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.charge_create(
            actor=client_with_card, amount_cents=1000, purpose="test_funding", reference="m:1"
        )


def test_charge_transitions_table():
    transitions = Charge.TRANSITIONS
    assert transitions == {
        "reserved": {"succeeded", "failed"},
        "succeeded": set(),
        "failed": set(),
    }


# --- release --------------------------------------------------------------------------------


def test_release_puts_earnings_on_hold_minus_the_service_fee(client_user, freelancer):
    fund(client_user, 10_000, escrow_reference="contract:7")
    entry = services.escrow_release(
        escrow_reference="contract:7",
        payee=freelancer,
        amount_cents=10_000,
        idempotency_key="milestone:1:release",
    )
    assert ledger.escrow_balance("contract:7") == 0
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=freelancer) == 9_000
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 500 + 1_000
    [hold] = ledger.held_postings(freelancer)
    assert timedelta(days=4, hours=23) < hold.available_at - timezone.now() <= timedelta(days=5)
    again = services.escrow_release(
        escrow_reference="contract:7",
        payee=freelancer,
        amount_cents=10_000,
        idempotency_key="milestone:1:release",
    )
    assert again.pk == entry.pk
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=freelancer) == 9_000
    assert_balanced()


def test_release_refuses_more_than_the_escrow_holds(client_user, freelancer):
    fund(client_user, 10_000, escrow_reference="contract:7")
    with pytest.raises(ApplicationError, match="Not enough money in the escrow"):
        services.escrow_release(
            escrow_reference="contract:7", payee=freelancer, amount_cents=10_001, idempotency_key="r"
        )


def test_hold_release_task_is_idempotent(client_user, freelancer):
    from payments.tasks import release_matured_holds

    fund(client_user, 10_000, escrow_reference="contract:7")
    services.escrow_release(
        escrow_reference="contract:7", payee=freelancer, amount_cents=4_000, idempotency_key="r1"
    )
    assert release_matured_holds() == 0
    later = timezone.now() + timedelta(days=5, minutes=1)
    assert services.release_matured_holds(now=later) == 1
    assert services.release_matured_holds(now=later) == 0
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 3_600
    assert_balanced()


# --- refunds --------------------------------------------------------------------------------


def test_full_refund_returns_escrow_and_fee_to_the_card(client_user, calls):
    charge = fund(client_user, 10_000, reference="m:1", escrow_reference="contract:7")
    refund = services.refund_create(actor=client_user, charge_id=charge.pk, idempotency_key="m:1:refund")
    assert (refund.status, refund.amount_cents, refund.fee_cents) == ("succeeded", 10_000, 500)
    assert local.operations("refund")[0].params["amount"] == 10_500
    assert ledger.escrow_balance("contract:7") == 0
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 0
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 0
    assert ledger.balance(AccountKind.GATEWAY_CLEARING) == 0
    assert calls[-1] == ("refunded", refund.pk, "succeeded")
    assert_balanced()


def test_partial_refunds_add_up_and_cannot_exceed_the_charge(client_user):
    charge = fund(client_user, 10_001, reference="m:1")
    first = services.refund_create(
        actor=None, purpose="test_funding", reference="m:1", amount_cents=3_333, idempotency_key="r1"
    )
    assert (first.amount_cents, first.fee_cents) == (3_333, 167)
    with pytest.raises(ApplicationError, match=r"At most \$66\.68"):
        services.refund_create(actor=None, charge_id=charge.pk, amount_cents=6_669, idempotency_key="r2")
    rest = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="r3")
    assert rest.amount_cents == 6_668 and first.fee_cents + rest.fee_cents == charge.client_fee_cents
    with pytest.raises(ApplicationError, match="refunded in full"):
        services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="r4")
    assert_balanced()


def test_refund_is_idempotent_by_key(client_user):
    charge = fund(client_user, 10_000)
    first = services.refund_create(actor=None, charge_id=charge.pk, amount_cents=1_000, idempotency_key="r1")
    again = services.refund_create(actor=None, charge_id=charge.pk, amount_cents=1_000, idempotency_key="r1")
    assert again.pk == first.pk and Refund.objects.count() == 1
    with pytest.raises(ConflictError):
        services.refund_create(actor=None, charge_id=charge.pk, amount_cents=2_000, idempotency_key="r1")


def test_refund_of_released_escrow_is_refused(client_user, freelancer):
    charge = fund(client_user, 10_000, escrow_reference="contract:7")
    services.escrow_release(
        escrow_reference="contract:7", payee=freelancer, amount_cents=8_000, idempotency_key="r"
    )
    with pytest.raises(ApplicationError, match="Not enough money in the escrow"):
        services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="refund")
    assert not Refund.objects.exists()


def test_a_refused_refund_goes_back_to_escrow(client_user, monkeypatch):
    charge = fund(client_user, 10_000)
    monkeypatch.setattr(
        local.LocalGateway,
        "refund",
        lambda self, **kw: (_ for _ in ()).throw(GatewayError("Charge is disputed.", retryable=False)),
    )
    refund = services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="r1")
    assert (refund.status, refund.failure_message) == ("failed", "Charge is disputed.")
    assert ledger.escrow_balance("contract:1") == 10_000
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 500
    assert ledger.balance(AccountKind.REFUNDS_IN_TRANSIT) == 0
    assert_balanced()


def test_a_failed_charge_cannot_be_refunded(client_user):
    add_card(client_user, DECLINED)
    charge = services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="test_funding", reference="m:1"
    )
    with pytest.raises(ApplicationError, match="completed payment"):
        services.refund_create(actor=None, charge_id=charge.pk, idempotency_key="r")


def test_charge_for_reference_selector(client_user):
    from payments.selectors import charge_for_reference

    assert charge_for_reference("test_funding", "order:1") is None
    charge = fund(client_user, 5_000)
    found = charge_for_reference("test_funding", "order:1")
    assert found is not None and found.pk == charge.pk
