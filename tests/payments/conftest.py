from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from payments import ledger, services
from payments.gateways import local
from payments.gateways.base import CardInput
from payments.models import AccountKind, PayoutMethod
from tests import factories
from tests.fakes.fixtures import fake_stripe, fake_stripe_server  # noqa: F401

VISA = "4242424242424242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"


@pytest.fixture(autouse=True)
def _local_gateway(settings):
    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def card(number: str = VISA) -> CardInput:
    return CardInput(number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123")


def add_card(user, number: str = VISA):
    return services.payment_method_add(actor=user, card=card(number))


def fund(
    client, amount_cents: int = 10_000, reference: str = "order:1", escrow_reference: str = "contract:1"
):
    """A succeeded charge of ``amount_cents`` into escrow ``escrow_reference``."""
    if not client.payment_methods.filter(removed_at__isnull=True).exists():
        add_card(client)
    return services.charge_create(
        actor=client,
        amount_cents=amount_cents,
        purpose="test_funding",
        reference=reference,
        escrow_reference=escrow_reference,
    )


def give_available(freelancer, amount_cents: int, *, client=None, key: str = "release:1"):
    """Put ``amount_cents`` gross through escrow and the security hold: returns the net."""
    client = client or factories.make_client()
    fund(client, amount_cents, reference=f"order:{key}", escrow_reference=f"contract:{key}")
    services.escrow_release(
        escrow_reference=f"contract:{key}", payee=freelancer, amount_cents=amount_cents, idempotency_key=key
    )
    ledger.release_matured(now=timezone.now() + timedelta(days=30))
    return ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)


def usable_bank(freelancer, account_number: str = "000123456789") -> PayoutMethod:
    method = services.payout_method_add_bank_account(
        actor=freelancer, holder_name="Free Lancer", routing_number="110000000", account_number=account_number
    )
    PayoutMethod.objects.filter(pk=method.pk).update(usable_after=timezone.now() - timedelta(minutes=1))
    method.refresh_from_db()
    return method


@pytest.fixture
def client_with_card(client_user):
    add_card(client_user)
    return client_user


WEBHOOK_URL = "/payments/stripe/webhook/"


def deliver(client, fake, event=None, *, payload=None, secret=None, timestamp=None, header=None):
    """POST a (signed) event to the webhook endpoint with Django's test client."""
    import json

    body = payload if payload is not None else json.dumps(event)
    extra = {}
    if header is not None:
        extra["HTTP_STRIPE_SIGNATURE"] = header
    elif header is None and secret != "":
        extra["HTTP_STRIPE_SIGNATURE"] = fake.sign(body, secret or fake.webhook_secret, timestamp)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **extra)


def stripe_ready_freelancer(fake, freelancer, client, *, amount_cents: int = 10_000, key: str = "s1"):
    """Through Stripe: a client pays ``amount_cents`` into escrow, it is released to the
    freelancer and matures; the freelancer has an active, usable connected account.
    Returns (payout method, available cents)."""
    from payments.webhooks import webhook_process, webhook_receive

    if not client.payment_methods.filter(removed_at__isnull=True).exists():
        services.payment_method_add(actor=client, card=CardInput(token="pm_card_visa"))
    charge = services.charge_create(
        actor=client,
        amount_cents=amount_cents,
        purpose="test_funding",
        reference=f"m:{key}",
        escrow_reference=f"contract:{key}",
    )
    assert charge.status == "succeeded"
    services.escrow_release(
        escrow_reference=f"contract:{key}",
        payee=freelancer,
        amount_cents=amount_cents,
        idempotency_key=f"{key}:release",
    )
    ledger.release_matured(now=timezone.now() + timedelta(days=30))
    method, url = services.payout_method_connect_stripe(
        actor=freelancer, return_url="http://testserver/ok", refresh_url="http://testserver/again"
    )
    assert url.startswith(fake.url)
    event = fake.complete_onboarding(method.gateway_account_id)
    import json

    payload = json.dumps(fake.make_event("account.updated", event))
    record, _ = webhook_receive(payload=payload.encode(), signature=fake.sign(payload))
    webhook_process(event_pk=record.pk)
    PayoutMethod.objects.filter(pk=method.pk).update(usable_after=timezone.now() - timedelta(minutes=1))
    method.refresh_from_db()
    assert method.status == "active"
    return method, ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
