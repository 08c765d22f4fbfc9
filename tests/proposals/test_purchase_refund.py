"""A refunded Connects purchase takes the Connects back (as many as are left; the wallet
never goes below zero and the shortfall is written down): a staff refund from the admin,
a refund confirmed by a Stripe webhook, partial refunds, and a refund failing late."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from messaging.models import Notification
from payments import ledger
from payments import services as payment_services
from payments.gateways import local
from payments.gateways.base import CardInput, RefundResult
from payments.models import AccountKind, Charge, Refund
from proposals import services
from proposals.models import ConnectsTransaction
from tests import factories
from tests.fakes.fixtures import fake_stripe, fake_stripe_server  # noqa: F401
from tests.payments.conftest import deliver
from tests.proposals.conftest import balance_of, set_balance

pytestmark = pytest.mark.django_db
KEY = "form-key-0001"


@pytest.fixture
def local_connects(settings):
    settings.PAYMENTS_GATEWAY = "local"
    settings.CONNECTS_PRICE_CENTS = 15
    settings.CONNECTS_PACKS = (10, 20, 40, 80)
    local.reset()
    yield
    local.reset()


def buy(user, quantity: int = 20, *, token: str = "", key: str = KEY) -> Charge:
    card = (
        CardInput(token=token)
        if token
        else CardInput(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 2, cvc="123")
    )
    payment_services.payment_method_add(actor=user, card=card)
    bought = services.connects_purchase(actor=user, quantity=quantity, purchase_key=key)
    assert bought.status == "succeeded"
    return bought.charge


def take_backs(user) -> list[tuple[int, int, str]]:
    return list(
        ConnectsTransaction.objects.filter(wallet__user=user, amount__lt=0, kind="purchase")
        .order_by("pk")
        .values_list("amount", "balance_after", "note")
    )


def audit_ok() -> None:
    call_command("ledger_audit", stdout=io.StringIO(), stderr=io.StringIO())  # raises on a finding


def refund(charge: Charge, key: str = "r1", amount_cents: int | None = None, actor=None) -> Refund:
    return payment_services.refund_create(
        actor=actor, charge_id=charge.pk, idempotency_key=key, amount_cents=amount_cents
    )


def test_full_refund_takes_the_pack_back_from_revenue(
    pro, local_connects, django_capture_on_commit_callbacks
):
    set_balance(pro, 5)
    charge = buy(pro, 20)
    assert balance_of(pro) == 25 and ledger.balance(AccountKind.PLATFORM_FEES) == 300

    with django_capture_on_commit_callbacks(execute=True):
        done = refund(charge)

    assert done.status == "succeeded" and done.handler_error == ""
    assert balance_of(pro) == 5
    [(amount, after, note)] = take_backs(pro)
    assert (amount, after) == (-20, 5) and f"Payment #{charge.pk} refunded" in note
    assert ConnectsTransaction.objects.get(amount=-20).idempotency_key == f"purchase-refund:{done.pk}"
    # the refund came out of platform revenue (the charge had become revenue), not the escrow
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 0
    assert ledger.escrow_balance(f"connects:{pro.pk}") == 0
    assert any(
        "20 Connects were taken back" in t for t in Notification.objects.values_list("text", flat=True)
    )
    audit_ok()


def test_spent_connects_are_the_shortfall_and_the_wallet_stays_at_zero(pro, local_connects):
    set_balance(pro, 0)
    charge = buy(pro, 20)
    set_balance(pro, 8)  # 12 of them spent on proposals meanwhile
    refund(charge)
    assert balance_of(pro) == 0
    [(amount, after, note)] = take_backs(pro)
    assert (amount, after) == (-8, 0)
    assert "8 Connects taken back; 12 of the 20 were already spent" in note
    audit_ok()


def test_nothing_left_takes_nothing_and_says_so(pro, local_connects, django_capture_on_commit_callbacks):
    set_balance(pro, 0)
    charge = buy(pro, 10)
    set_balance(pro, 0)
    with django_capture_on_commit_callbacks(execute=True):
        done = refund(charge)
    assert done.status == "succeeded" and balance_of(pro) == 0
    assert take_backs(pro) == []
    texts = list(Notification.objects.filter(recipient=pro).values_list("text", flat=True))
    assert any("no Connects were left to take back" in t for t in texts)
    audit_ok()


def test_partial_refunds_add_up_to_the_pack(pro, local_connects):
    set_balance(pro, 0)
    charge = buy(pro, 20)  # $3.00
    refund(charge, "r1", amount_cents=100)  # a third: 6 of 20 (rounded down)
    assert balance_of(pro) == 14
    refund(charge, "r2")  # the rest: the other 14
    assert balance_of(pro) == 0
    assert [row[0] for row in take_backs(pro)] == [-6, -14]
    audit_ok()


def test_a_refund_settled_twice_takes_back_once(pro, local_connects):
    set_balance(pro, 0)
    charge = buy(pro, 20)
    done = refund(charge)
    payment_services.refund_settle(refund_id=done.pk, result=RefundResult(status="succeeded"))
    assert balance_of(pro) == 0 and len(take_backs(pro)) == 1


def test_refund_failing_after_success_gives_the_connects_back(pro, local_connects):
    set_balance(pro, 2)
    charge = buy(pro, 20)
    done = refund(charge)
    assert balance_of(pro) == 2
    payment_services.refund_settle(
        refund_id=done.pk, result=RefundResult(status="failed", failure_message="Card closed.")
    )
    assert balance_of(pro) == 22
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 300  # revenue again
    given = ConnectsTransaction.objects.get(idempotency_key=f"purchase-refund-failed:{done.pk}")
    assert given.amount == 20 and "failed" in given.note
    audit_ok()


# --- staff refund from the admin -------------------------------------------------------------------


@pytest.fixture
def admin_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_staff_refund_in_admin_takes_the_connects_back(pro, local_connects, admin_client, staff):
    set_balance(pro, 0)
    charge = buy(pro, 20)
    response = admin_client.post(
        "/admin/payments/charge/", {"action": "refund_in_full", "_selected_action": [charge.pk]}, follow=True
    )
    assert response.status_code == 200
    done = Refund.objects.get(charge=charge)
    assert (done.status, done.requested_by_id, done.amount_cents) == ("succeeded", staff.pk, 300)
    assert "refund of $3.00 succeeded" in response.content.decode()
    assert balance_of(pro) == 0 and take_backs(pro)[0][0] == -20
    # again: nothing more to refund, said clearly
    again = admin_client.post(
        "/admin/payments/charge/", {"action": "refund_in_full", "_selected_action": [charge.pk]}, follow=True
    )
    assert "refunded in full" in again.content.decode()
    assert Refund.objects.filter(charge=charge).count() == 1
    audit_ok()


def test_staff_refund_in_admin_refuses_contract_escrow(local_connects, admin_client):
    client_user = factories.make_client()
    payment_services.payment_method_add(
        actor=client_user,
        card=CardInput(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 2, cvc="123"),
    )
    charge = payment_services.charge_create(
        actor=client_user, amount_cents=5_000, purpose="milestone_funding", reference="milestone:999"
    )
    response = admin_client.post(
        "/admin/payments/charge/", {"action": "refund_in_full", "_selected_action": [charge.pk]}, follow=True
    )
    assert "held for a contract: refund it there" in response.content.decode()
    assert not Refund.objects.exists()


def test_the_refund_action_is_for_staff_only(pro, local_connects):
    set_balance(pro, 0)
    charge = buy(pro, 20)
    client = Client()
    client.force_login(pro)
    response = client.post(
        "/admin/payments/charge/", {"action": "refund_in_full", "_selected_action": [charge.pk]}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Refund.objects.exists() and balance_of(pro) == 20


# --- Stripe: the refund is confirmed by webhook ----------------------------------------------------------


def test_pending_refund_confirmed_by_webhook_takes_the_connects_back(
    pro,
    fake_stripe,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.CONNECTS_PRICE_CENTS = 15
    settings.CONNECTS_PACKS = (10, 20, 40, 80)
    set_balance(pro, 1)
    charge = buy(pro, 20, token="pm_card_pendingRefund")
    done = refund(charge)
    assert done.status == "reserved" and balance_of(pro) == 21  # not until the bank confirms

    client = Client()
    for event in fake_stripe.settle_refund(done.gateway_refund_id, "succeeded"):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, fake_stripe, event).status_code == 200

    done.refresh_from_db()
    assert done.status == "succeeded" and balance_of(pro) == 1
    assert [row[0] for row in take_backs(pro)] == [-20]
    audit_ok()


def test_refund_made_in_the_stripe_dashboard_takes_the_connects_back(
    pro,
    fake_stripe,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.CONNECTS_PRICE_CENTS = 15
    settings.CONNECTS_PACKS = (10, 20, 40, 80)
    set_balance(pro, 3)
    charge = buy(pro, 20, token="pm_card_visa")
    assert balance_of(pro) == 23

    client = Client()
    events = fake_stripe.refund_from_dashboard(charge.gateway_payment_id)
    for event in [*events, events[0]]:  # one delivered twice
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, fake_stripe, event).status_code == 200

    done = Refund.objects.get(charge=charge)
    assert (done.status, done.amount_cents, done.requested_by_id) == ("succeeded", 300, None)
    assert done.idempotency_key == f"provider-refund:{done.gateway_refund_id}"
    assert balance_of(pro) == 3 and [row[0] for row in take_backs(pro)] == [-20]
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 0
    audit_ok()
