"""The local gateway: Stripe-like test cards, deterministic ids, idempotent keys."""

from __future__ import annotations

import pytest

from payments.gateways import get_gateway, local
from payments.gateways.base import CardInput, GatewayError, PayoutDestination
from payments.gateways.local import LocalGateway

from .conftest import DECLINED, NO_FUNDS, VISA, card


def charge(gateway: LocalGateway, pm: str, key: str = "charge:1", amount: int = 1000):
    return gateway.charge(
        customer_id="cus_local_x",
        payment_method_id=pm,
        amount_cents=amount,
        currency="USD",
        description="",
        metadata={"purpose": "test"},
        transfer_group="contract:1",
        idempotency_key=key,
    )


def saved(gateway: LocalGateway, number: str, key: str = "card:1"):
    return gateway.card_save(customer_id="cus_local_x", card=card(number), idempotency_key=key)


def test_get_gateway_follows_settings(settings):
    settings.PAYMENTS_GATEWAY = "local"
    assert isinstance(get_gateway(), LocalGateway)
    with pytest.raises(GatewayError):
        get_gateway("paypal")


def test_4242_succeeds_with_deterministic_ids():
    gateway = LocalGateway()
    pm = saved(gateway, VISA)
    assert (pm.brand, pm.last4) == ("visa", "4242")
    result = charge(gateway, pm.payment_method_id)
    assert result.status == "succeeded"
    assert result.payment_id.startswith("pi_local_") and result.charge_id.startswith("ch_local_")
    local.reset()
    assert charge(LocalGateway(), pm.payment_method_id).payment_id == result.payment_id


def test_0002_is_declined():
    gateway = LocalGateway()
    result = charge(gateway, saved(gateway, DECLINED).payment_method_id)
    assert (result.status, result.failure_code, result.failure_message) == (
        "failed",
        "card_declined",
        "Your card was declined.",
    )


def test_9995_has_insufficient_funds():
    gateway = LocalGateway()
    result = charge(gateway, saved(gateway, NO_FUNDS).payment_method_id)
    assert (result.status, result.failure_code) == ("failed", "insufficient_funds")
    assert "insufficient funds" in result.failure_message


def test_stripe_test_tokens_work():
    gateway = LocalGateway()
    pm = gateway.card_save(
        customer_id="c", card=CardInput(token="pm_card_chargeDeclined"), idempotency_key="k"
    )
    assert charge(gateway, pm.payment_method_id).status == "failed"


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "message"),
    [
        ("4242424242424241", 12, 2099, "123", "card number is incorrect"),
        ("4242", 12, 2099, "123", "card number is incorrect"),
        (VISA, 1, 2001, "123", "expired"),
        (VISA, 13, 2099, "123", "expiration date"),
        (VISA, 12, 2099, "1", "security code"),
    ],
)
def test_bad_cards_are_refused(number, month, year, cvc, message):
    with pytest.raises(GatewayError, match=message) as info:
        LocalGateway().card_save(
            customer_id="c",
            card=CardInput(number=number, exp_month=month, exp_year=year, cvc=cvc),
            idempotency_key="k",
        )
    assert info.value.retryable is False


def test_same_key_replays_and_other_params_conflict():
    gateway = LocalGateway()
    pm = saved(gateway, VISA).payment_method_id
    first = charge(gateway, pm, key="k1")
    assert charge(gateway, pm, key="k1") == first
    assert [op.replayed for op in local.operations("charge")] == [False, True]
    with pytest.raises(GatewayError, match="conflicts") as info:
        charge(gateway, pm, key="k1", amount=2000)
    assert info.value.code == "idempotency_error"


def test_unknown_card_is_refused():
    with pytest.raises(GatewayError, match="not known"):
        charge(LocalGateway(), "pm_nonsense")


def test_bank_payouts_and_failing_test_accounts():
    gateway = LocalGateway()
    paid = gateway.payout(
        destination=PayoutDestination(kind="bank_account", last4="6789"),
        amount_cents=5000,
        currency="USD",
        metadata={},
        idempotency_key="p1",
    )
    assert paid.status == "paid"
    failed = gateway.payout(
        destination=PayoutDestination(kind="bank_account", last4="1116"),
        amount_cents=5000,
        currency="USD",
        metadata={},
        idempotency_key="p2",
    )
    assert failed.status == "failed" and "does not exist" in failed.failure_message
    assert (
        gateway.payout_retrieve(
            payout_id=failed.payout_id, destination=PayoutDestination(kind="bank_account")
        )
        == failed
    )


def test_transfers_refunds_and_accounts():
    gateway = LocalGateway()
    account = gateway.connected_account_create(
        user_id=1, email="a@example.com", country="US", idempotency_key="a"
    )
    assert account.payouts_enabled
    transfer = gateway.transfer(
        destination=account.account_id,
        amount_cents=100,
        currency="USD",
        transfer_group="",
        metadata={},
        idempotency_key="t",
    )
    reversal = gateway.transfer_reverse(
        transfer_id=transfer.transfer_id, amount_cents=100, metadata={}, idempotency_key="r"
    )
    assert reversal.amount_cents == 100
    assert (
        gateway.refund(payment_id="pi_local_x", amount_cents=10, metadata={}, idempotency_key="re").status
        == "succeeded"
    )
    assert (
        gateway.connected_account_link(
            account_id=account.account_id,
            refresh_url="http://x/r",
            return_url="http://x/ok",
            idempotency_key="l",
        )
        == "http://x/ok"
    )
