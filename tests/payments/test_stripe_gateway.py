"""The Stripe gateway: the real SDK against the fake Stripe server (no network)."""

from __future__ import annotations

import pytest

from payments import audit, ledger, services
from payments.gateways import get_gateway
from payments.gateways.base import CardInput, GatewayError, PayoutDestination
from payments.gateways.stripe import StripeGateway
from payments.models import AccountKind, Charge

pytestmark = pytest.mark.django_db


def stripe_card(client, token: str = "pm_card_visa"):
    return services.payment_method_add(actor=client, card=CardInput(token=token))


def charge(client, amount: int = 10_000, reference: str = "m:1"):
    return services.charge_create(
        actor=client,
        amount_cents=amount,
        purpose="test_funding",
        reference=reference,
        escrow_reference="contract:1",
    )


def test_settings_choose_the_stripe_gateway(fake_stripe):
    assert isinstance(get_gateway(), StripeGateway)


def test_saving_a_card_creates_customer_attaches_and_sets_up(fake_stripe, client_user):
    method = stripe_card(client_user)
    assert (method.gateway, method.brand, method.last4) == ("stripe", "visa", "4242")
    assert method.gateway_customer_id in fake_stripe.state.customers
    pm = fake_stripe.state.payment_methods[method.gateway_payment_method_id]
    assert pm["customer"] == method.gateway_customer_id
    [setup] = fake_stripe.state.setup_intents.values()
    assert (setup["status"], setup["usage"]) == ("succeeded", "off_session")
    keys = [r.idempotency_key for r in fake_stripe.requests if r.method == "POST"]
    assert keys == [
        f"customer:{client_user.pk}",
        *[k for k in keys[1:] if k.startswith(f"card:{client_user.pk}:")],
    ]
    assert len(keys) == 3


def test_card_numbers_never_go_to_stripe_from_the_server(fake_stripe, client_user):
    with pytest.raises(Exception, match="from the browser"):
        services.payment_method_add(actor=client_user, card=CardInput(number="4242424242424242"))


def test_successful_charge(fake_stripe, client_user):
    stripe_card(client_user)
    result = charge(client_user)
    assert result.status == "succeeded"
    [intent] = fake_stripe.state.payment_intents.values()
    assert (intent["amount"], intent["status"], intent["transfer_group"]) == (
        10_500,
        "succeeded",
        "contract:1",
    )
    assert intent["metadata"] == {
        "purpose": "test_funding",
        "reference": "m:1",
        "escrow_reference": "contract:1",
        "charge_key": "charge:test_funding:m:1:1",
        "payer_id": str(client_user.pk),
    }
    assert (result.gateway_payment_id, result.gateway_charge_id) == (intent["id"], intent["latest_charge"])
    [request] = [r for r in fake_stripe.requests if r.path == "/v1/payment_intents"]
    assert request.idempotency_key == "charge:test_funding:m:1:1"
    assert ledger.escrow_balance("contract:1") == 10_000
    assert audit.run_checks() == []


@pytest.mark.parametrize(
    ("token", "message", "code"),
    [
        ("pm_card_chargeDeclined", "Your card was declined.", "generic_decline"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "Your card has insufficient funds.",
            "insufficient_funds",
        ),
    ],
)
def test_declined_charge(fake_stripe, client_user, token, message, code):
    stripe_card(client_user, token)
    result = charge(client_user)
    assert (result.status, result.failure_message, result.failure_code) == ("failed", message, code)
    assert result.gateway_payment_id in fake_stripe.state.payment_intents
    assert ledger.escrow_balance("contract:1") == 0


@pytest.mark.parametrize("fault", ["lost", "timeout"])
def test_retry_after_a_lost_answer_charges_once(fake_stripe, client_user, fault):
    stripe_card(client_user)
    fake_stripe.fail_next(fault, path="/v1/payment_intents")
    first = charge(client_user)
    assert first.status == "reserved"
    assert "could not reach the payment provider" in first.last_error
    assert len(fake_stripe.state.payment_intents) == 1  # the charge did happen at Stripe
    assert ledger.escrow_balance("contract:1") == 0
    retried = charge(client_user)
    assert (retried.pk, retried.status) == (first.pk, "succeeded")
    assert len(fake_stripe.state.payment_intents) == 1
    assert fake_stripe.count("POST", "/v1/payment_intents", replayed=True) == 1
    assert fake_stripe.state.platform_balance == 10_500
    assert ledger.escrow_balance("contract:1") == 10_000
    assert Charge.objects.get().gateway_calls == 2


def test_a_500_is_retryable_and_had_no_effect(fake_stripe, client_user):
    stripe_card(client_user)
    fake_stripe.fail_next("error_500", path="/v1/payment_intents")
    first = charge(client_user)
    assert first.status == "reserved" and len(fake_stripe.state.payment_intents) == 0
    assert charge(client_user).status == "succeeded"
    assert len(fake_stripe.state.payment_intents) == 1


def test_sdk_level_retries_reuse_our_key(fake_stripe, client_user, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_card(client_user)
    fake_stripe.fail_next("lost", path="/v1/payment_intents")
    assert charge(client_user).status == "succeeded"
    assert len(fake_stripe.state.payment_intents) == 1
    requests = [r for r in fake_stripe.requests if r.path == "/v1/payment_intents"]
    assert [r.idempotency_key for r in requests] == ["charge:test_funding:m:1:1"] * 2
    assert [r.replayed for r in requests] == [False, True]


def test_errors_map_to_readable_retry_flags(fake_stripe, settings):
    gateway = StripeGateway()
    with pytest.raises(GatewayError) as info:
        gateway.refund(payment_id="pi_missing", amount_cents=100, metadata={}, idempotency_key="r1")
    assert (info.value.retryable, info.value.code) == (False, "resource_missing")
    assert "No such payment_intent" in info.value.message
    customer = gateway.customer_create(user_id=1, email="a@example.com", idempotency_key="same")
    with pytest.raises(GatewayError) as info:
        gateway.customer_create(user_id=2, email="b@example.com", idempotency_key="same")
    assert (info.value.retryable, info.value.code) == (False, "idempotency_error")
    assert customer.startswith("cus_")
    with pytest.raises(GatewayError) as info:
        StripeGateway(api_key="sk_test_wrong").customer_create(user_id=1, email="a@b.c", idempotency_key="k")
    assert (info.value.retryable, info.value.code) == (False, "provider_configuration")
    fake_stripe.fail_next("error_500")
    with pytest.raises(GatewayError) as info:
        gateway.customer_create(user_id=3, email="c@example.com", idempotency_key="k3")
    assert info.value.retryable is True


def test_unreachable_provider_is_retryable(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    gateway = StripeGateway(api_base="http://127.0.0.1:9", max_network_retries=0, timeout_seconds=1)
    with pytest.raises(GatewayError) as info:
        gateway.customer_create(user_id=1, email="a@b.c", idempotency_key="k")
    assert info.value.retryable is True and info.value.code == "provider_unreachable"


def test_refund_through_stripe(fake_stripe, client_user):
    stripe_card(client_user)
    paid = charge(client_user)
    refund = services.refund_create(
        actor=None, charge_id=paid.pk, amount_cents=4_000, idempotency_key="m:1:refund"
    )
    assert (refund.status, refund.total_cents) == ("succeeded", 4_200)
    [stored] = fake_stripe.state.refunds.values()
    assert (stored["amount"], stored["payment_intent"]) == (4_200, paid.gateway_payment_id)
    assert [r.idempotency_key for r in fake_stripe.requests if r.path == "/v1/refunds"] == [
        "refund:m:1:refund"
    ]
    assert ledger.escrow_balance("contract:1") == 6_000
    assert audit.run_checks() == []


def test_connect_transfer_reversal_and_payout(fake_stripe):
    gateway = StripeGateway()
    account = gateway.connected_account_create(
        user_id=1, email="f@example.com", country="US", idempotency_key="c1"
    )
    assert not account.payouts_enabled
    link = gateway.connected_account_link(
        account_id=account.account_id,
        refresh_url="http://testserver/r",
        return_url="http://testserver/ok",
        idempotency_key="l1",
    )
    assert link.startswith(fake_stripe.url)
    with pytest.raises(GatewayError, match="capabilities"):
        gateway.transfer(
            destination=account.account_id,
            amount_cents=100,
            currency="USD",
            transfer_group="",
            metadata={},
            idempotency_key="t0",
        )
    fake_stripe.complete_onboarding(account.account_id)
    assert gateway.connected_account_retrieve(account_id=account.account_id).payouts_enabled
    fake_stripe.top_up(5_000)
    transfer = gateway.transfer(
        destination=account.account_id,
        amount_cents=3_000,
        currency="USD",
        transfer_group="g",
        metadata={},
        idempotency_key="t1",
    )
    reversal = gateway.transfer_reverse(
        transfer_id=transfer.transfer_id, amount_cents=1_000, metadata={}, idempotency_key="r1"
    )
    assert reversal.amount_cents == 1_000
    destination = PayoutDestination(kind="stripe_connect", account_id=account.account_id)
    payout = gateway.payout(
        destination=destination, amount_cents=2_000, currency="USD", metadata={}, idempotency_key="p1"
    )
    assert payout.status == "pending"
    assert fake_stripe.state.payouts[payout.payout_id]["_account"] == account.account_id
    fake_stripe.settle_payout(payout.payout_id, "paid")
    assert gateway.payout_retrieve(payout_id=payout.payout_id, destination=destination).status == "paid"
    with pytest.raises(GatewayError, match="connected Stripe account"):
        gateway.payout(
            destination=PayoutDestination(kind="bank_account", last4="1234"),
            amount_cents=1,
            currency="USD",
            metadata={},
            idempotency_key="p2",
        )
    assert all(r.idempotency_key for r in fake_stripe.requests if r.method == "POST")


def test_no_secret_key_is_a_clear_error(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(GatewayError, match="not configured"):
        StripeGateway()
    assert AccountKind.ESCROW  # the ledger is untouched
