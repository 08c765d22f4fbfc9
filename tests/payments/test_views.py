"""The Balance, Billing and history pages."""

from __future__ import annotations

import csv
import io

import pytest

from payments import ledger, services
from payments.models import AccountKind, PaymentMethod, Payout, PayoutMethod
from tests import factories
from tests.factories import PASSWORD

from .conftest import VISA, card, fund, give_available, usable_bank

pytestmark = pytest.mark.django_db


def reauthenticate(client, next_url: str = "/payments/balance/") -> None:
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD, "next": next_url})
    assert response.status_code == 302


@pytest.fixture
def freelancer_client(client, freelancer):
    client.force_login(freelancer)
    return client


@pytest.fixture
def buyer(client, client_user):
    client.force_login(client_user)
    return client


def test_balance_page_empty_states(freelancer_client):
    response = freelancer_client.get("/payments/balance/")
    assert response.status_code == 200
    body = response.content.decode()
    for marker in (
        'data-testid="no-holds"',
        'data-testid="no-payouts"',
        'data-testid="no-methods"',
        'data-testid="no-usable-method"',
    ):
        assert marker in body
    assert "<script>" not in body and "style=" not in body


def test_balance_page_shows_holds_and_available(freelancer_client, freelancer, client_user):
    give_available(freelancer, 10_000)
    fund(client_user, 2_000, reference="order:p", escrow_reference="contract:p")
    services.escrow_release(
        escrow_reference="contract:p", payee=freelancer, amount_cents=2_000, idempotency_key="p"
    )
    body = freelancer_client.get("/payments/balance/").content.decode()
    assert "$90.00" in body and "$18.00" in body and "Available on" in body


def test_clients_are_sent_to_billing(buyer):
    response = buyer.get("/payments/balance/")
    assert response.status_code == 302 and response["Location"] == "/payments/billing/"


def test_anonymous_is_sent_to_login(client):
    response = client.get("/payments/balance/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_withdraw_form(freelancer_client, freelancer, django_capture_on_commit_callbacks):
    give_available(freelancer, 10_000)
    method = usable_bank(freelancer)
    page = freelancer_client.get("/payments/balance/").content.decode()
    assert "Withdraw all" in page
    data = {"amount": "50", "method": method.pk, "request_token": "tok-1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = freelancer_client.post("/payments/balance/withdraw/", data, follow=True)
    assert "Withdrawal of $50.00 requested" in response.content.decode()
    again = freelancer_client.post("/payments/balance/withdraw/", data)
    assert again.status_code == 302  # the double submit found the first withdrawal
    assert Payout.objects.count() == 1
    assert Payout.objects.get().status == "paid"
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 4_000


def test_withdraw_errors_show_next_to_the_form(freelancer_client, freelancer):
    give_available(freelancer, 10_000)
    method = usable_bank(freelancer)
    response = freelancer_client.post(
        "/payments/balance/withdraw/", {"amount": "500", "method": method.pk, "request_token": "t"}
    )
    assert response.status_code == 400
    assert "You can withdraw up to $90.00." in response.content.decode()
    response = freelancer_client.post(
        "/payments/balance/withdraw/", {"amount": "abc", "method": method.pk, "request_token": "t"}
    )
    assert response.status_code == 400 and "Enter an amount like 25 or 25.50." in response.content.decode()


def test_adding_a_bank_account_requires_reauthentication(freelancer_client, freelancer):
    response = freelancer_client.get("/payments/payout-methods/bank/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    reauthenticate(freelancer_client, "/payments/payout-methods/bank/")
    assert freelancer_client.get("/payments/payout-methods/bank/").status_code == 200
    response = freelancer_client.post(
        "/payments/payout-methods/bank/",
        {
            "holder_name": "Free Lancer",
            "bank_name": "Test Bank",
            "routing_number": "110000000",
            "account_number": "000123456789",
        },
        follow=True,
    )
    assert "Added Test Bank ending 6789" in response.content.decode()
    method = PayoutMethod.objects.get(user=freelancer)
    bad = freelancer_client.post(
        "/payments/payout-methods/bank/",
        {"holder_name": "F L", "routing_number": "12", "account_number": "1234"},
    )
    assert "A routing number has 9 digits." in bad.content.decode()
    removed = freelancer_client.post(f"/payments/payout-methods/{method.pk}/remove/", follow=True)
    assert "Removed Test Bank ending 6789" in removed.content.decode()


def test_removing_a_method_requires_reauthentication(freelancer_client, freelancer):
    method = usable_bank(freelancer)
    response = freelancer_client.post(f"/payments/payout-methods/{method.pk}/remove/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    method.refresh_from_db()
    assert method.status == "active"


def test_someone_elses_method_is_404(freelancer_client):
    other = usable_bank(factories.make_freelancer())
    reauthenticate(freelancer_client)
    assert freelancer_client.post(f"/payments/payout-methods/{other.pk}/remove/").status_code == 404


def test_connect_stripe_redirects_to_onboarding(freelancer_client, freelancer, fake_stripe):
    reauthenticate(freelancer_client)
    response = freelancer_client.post("/payments/payout-methods/stripe/")
    assert response.status_code == 302 and response["Location"].startswith(fake_stripe.url)
    method = PayoutMethod.objects.get(user=freelancer)
    fake_stripe.complete_onboarding(method.gateway_account_id)
    back = freelancer_client.get("/payments/payout-methods/stripe/return/", follow=True)
    assert "ready to receive withdrawals" in back.content.decode()


def test_schedule_form(freelancer_client, freelancer):
    method = usable_bank(freelancer)
    response = freelancer_client.post(
        "/payments/balance/schedule/", {"frequency": "monthly", "method": method.pk}, follow=True
    )
    assert "Automatic withdrawals: Monthly, on the 1st." in response.content.decode()
    response = freelancer_client.post("/payments/balance/schedule/", {"frequency": "weekly", "method": ""})
    assert (
        response.status_code == 400 and "Choose where automatic withdrawals go." in response.content.decode()
    )


def test_billing_add_and_remove_cards(buyer, client_user):
    page = buyer.get("/payments/billing/").content.decode()
    assert 'data-testid="no-cards"' in page and 'data-testid="no-charges"' in page
    response = buyer.post(
        "/payments/billing/cards/",
        {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099, "cvc": "123"},
        follow=True,
    )
    assert "Saved your Visa ending 4242" in response.content.decode()
    bad = buyer.post(
        "/payments/billing/cards/",
        {"number": "4242 4242 4242 4241", "exp_month": 12, "exp_year": 2099, "cvc": "123"},
    )
    assert bad.status_code == 400 and "Your card number is incorrect." in bad.content.decode()
    saved = PaymentMethod.objects.get(user=client_user)
    fund(client_user, 5_000)
    assert "$50.00" in buyer.get("/payments/billing/").content.decode()
    response = buyer.post(f"/payments/billing/cards/{saved.pk}/remove/", follow=True)
    assert "Removed your Visa ending 4242" in response.content.decode()
    other = services.payment_method_add(actor=factories.make_client(), card=card(VISA))
    assert buyer.post(f"/payments/billing/cards/{other.pk}/remove/").status_code == 404


def test_transactions_filters_and_csv(freelancer_client, freelancer):
    give_available(freelancer, 10_000)
    page = freelancer_client.get("/payments/transactions/").content.decode()
    assert "Security hold ended" in page
    filtered = freelancer_client.get("/payments/transactions/?account=freelancer_available").content.decode()
    assert "Security hold ended" in filtered
    empty = freelancer_client.get(
        "/payments/transactions/?date_from=2000-01-01&date_to=2000-01-02"
    ).content.decode()
    assert 'data-testid="no-transactions"' in empty
    bad = freelancer_client.get("/payments/transactions/?date_from=2001-01-02&date_to=2000-01-01")
    assert bad.status_code == 200 and "The end date is before the start date." in bad.content.decode()
    response = freelancer_client.get("/payments/transactions/?format=csv&account=freelancer_available")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "balance", "description", "reference", "amount", "available_at", "type"]
    assert [(r[1], r[4]) for r in rows[1:]] == [("Available", "90.00")]


def test_nav_links(client, freelancer, client_user):
    client.force_login(freelancer)
    assert 'href="/payments/balance/"' in client.get("/payments/transactions/").content.decode()
    client.force_login(client_user)
    assert 'href="/payments/billing/"' in client.get("/payments/transactions/").content.decode()
