"""Buying Connects with a card: the service, the settlement handler and the ledger, the page
and the API. Through the local gateway (its test card numbers), the real payments services."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import ClientProfile, SuspensionReason
from marketplace.errors import ApplicationError, PermissionDeniedError
from messaging.models import Notification, NotificationKind
from payments import ledger
from payments import services as payment_services
from payments.gateways import local
from payments.gateways.base import CardInput
from payments.models import AccountKind, Charge, JournalEntry, PaymentMethod, Posting
from proposals import services
from proposals.models import ConnectsTransaction, ConnectsWallet
from tests import factories
from tests.conftest import requires_postgres
from tests.proposals.conftest import authed, balance_of, browser, set_balance

VISA = "4242424242424242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"
KEY = "form-key-0001"


@pytest.fixture(autouse=True)
def _local_gateway(settings):
    settings.PAYMENTS_GATEWAY = "local"
    settings.CONNECTS_PRICE_CENTS = 15
    settings.CONNECTS_PACKS = (10, 20, 40, 80)
    local.reset()
    yield
    local.reset()


def card(number: str = VISA) -> CardInput:
    return CardInput(number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123")


def add_card(user, number: str = VISA) -> PaymentMethod:
    return payment_services.payment_method_add(actor=user, card=card(number))


def buy(user, quantity: Any = 20, key: str = KEY, **kwargs: Any) -> services.ConnectsPurchase:
    return services.connects_purchase(actor=user, quantity=quantity, purchase_key=key, **kwargs)


def purchases(user) -> list[ConnectsTransaction]:
    return list(ConnectsTransaction.objects.filter(wallet__user=user, kind=ConnectsTransaction.Kind.PURCHASE))


def audit_ok() -> None:
    call_command("ledger_audit", stdout=io.StringIO(), stderr=io.StringIO())  # raises on a finding


def messages_of(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


# --- the service ------------------------------------------------------------------------------------


def test_buying_a_pack_adds_connects_and_books_revenue(pro, django_capture_on_commit_callbacks):
    set_balance(pro, 5)
    add_card(pro)

    with django_capture_on_commit_callbacks(execute=True):
        bought = buy(pro, 20)

    charge = bought.charge
    assert (bought.status, bought.quantity, bought.price_cents, bought.balance) == ("succeeded", 20, 300, 25)
    assert (charge.purpose, charge.reference, charge.escrow_reference) == (
        "connects_purchase",
        f"connects:20:{KEY}",
        f"connects:{pro.pk}",
    )
    assert (charge.amount_cents, charge.client_fee_cents, charge.total_cents) == (300, 0, 300)
    assert charge.handler_error == ""
    [row] = purchases(pro)
    assert (row.amount, row.balance_after, row.idempotency_key) == (20, 25, f"purchase:{charge.pk}")
    assert f"payment #{charge.pk}" in row.note and "$3.00" in row.note
    assert balance_of(pro) == 25
    # the money went through the buyer's Connects escrow to platform revenue, nothing left held
    assert ledger.escrow_balance(f"connects:{pro.pk}") == 0
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 300
    revenue = JournalEntry.objects.get(idempotency_key=f"connects-revenue:{charge.pk}")
    assert sorted(revenue.postings.values_list("amount_cents", flat=True)) == [-300, 300]
    assert sum(Posting.objects.values_list("amount_cents", flat=True)) == 0
    audit_ok()
    [note] = Notification.objects.filter(recipient=pro, kind=NotificationKind.PAYMENT)
    assert note.text == "You bought 20 Connects for $3.00; your balance is 25."
    assert [op.kind for op in local.operations("charge")] == ["charge"]


def test_a_first_purchase_creates_the_wallet_with_the_monthly_grant(pro):
    add_card(pro)

    bought = buy(pro, 10)

    assert bought.balance == 20  # this month's 10 plus the 10 bought
    assert [r.kind for r in ConnectsTransaction.objects.filter(wallet__user=pro)] == ["purchase", "monthly"]


@pytest.mark.parametrize(
    ("number", "message"),
    [(DECLINED, "Your card was declined."), (NO_FUNDS, "Your card has insufficient funds.")],
)
def test_a_declined_card_grants_nothing(pro, number, message):
    set_balance(pro, 5)
    add_card(pro, number)

    with pytest.raises(ApplicationError) as caught:
        buy(pro, 40)

    assert (caught.value.code, caught.value.message) == ("payment_failed", message)
    assert caught.value.extra["field"] == "payment_method"
    assert Charge.objects.get().status == Charge.Status.FAILED
    assert purchases(pro) == [] and balance_of(pro) == 5
    assert ledger.balance(AccountKind.PLATFORM_FEES) == 0
    audit_ok()


def test_after_a_decline_the_same_form_can_pay_with_another_card(pro):
    set_balance(pro, 0)
    declined = add_card(pro, DECLINED)
    good = add_card(pro, VISA)
    with pytest.raises(ApplicationError):
        buy(pro, 10, payment_method_id=declined.pk)

    bought = buy(pro, 10, payment_method_id=good.pk)

    assert (bought.status, bought.balance, bought.charge.attempt) == ("succeeded", 10, 2)
    assert len(purchases(pro)) == 1


def test_the_same_form_sent_twice_is_one_charge_and_one_grant(pro):
    set_balance(pro, 0)
    add_card(pro)

    first = buy(pro, 40)
    second = buy(pro, 40)

    assert first.charge.pk == second.charge.pk
    assert Charge.objects.count() == 1 and len(purchases(pro)) == 1
    assert second.balance == 40 == balance_of(pro)
    assert len(local.operations("charge")) == 1
    # a settlement handler replayed (a webhook after the call) changes nothing either
    services.connects_purchase_succeeded(first.charge)
    assert balance_of(pro) == 40 and ledger.balance(AccountKind.PLATFORM_FEES) == 600
    audit_ok()


def test_another_form_is_another_purchase(pro):
    set_balance(pro, 0)
    add_card(pro)

    buy(pro, 10, key="form-key-0001")
    buy(pro, 10, key="form-key-0002")

    assert balance_of(pro) == 20 and Charge.objects.count() == 2


@pytest.mark.parametrize("quantity", [15, 0, -10, "abc", None, True, 10.5, 1000])
def test_only_the_packs_can_be_bought(pro, quantity):
    add_card(pro)

    with pytest.raises(ApplicationError) as caught:
        buy(pro, quantity)

    assert caught.value.code == "invalid_pack"
    assert caught.value.message == "Choose one of the packs: 10, 20, 40 or 80 Connects."
    assert caught.value.extra == {"field": "quantity", "packs": [10, 20, 40, 80]}
    assert not Charge.objects.exists()


@pytest.mark.parametrize("key", ["", "short", "has space in it", "x" * 65, "semi;colon-key"])
def test_a_bad_purchase_key_is_refused(pro, key):
    add_card(pro)

    with pytest.raises(ApplicationError) as caught:
        buy(pro, 10, key=key)

    assert caught.value.code == "invalid_purchase_key"
    assert not Charge.objects.exists()


def test_without_a_card_nothing_is_charged(pro):
    with pytest.raises(ApplicationError) as caught:
        buy(pro, 10)

    assert (caught.value.code, caught.value.message) == ("no_payment_method", "Add a card first.")
    assert not Charge.objects.exists()


def test_someone_elses_card_cannot_be_used(pro, other_pro):
    theirs = add_card(other_pro)
    add_card(pro, "5555555555554444")

    with pytest.raises(ApplicationError, match="No such card"):
        buy(pro, 10, payment_method_id=theirs.pk)


def test_clients_cannot_buy_connects(client_owner):
    add_card(client_owner)

    with pytest.raises(PermissionDeniedError) as caught:
        buy(client_owner, 10)

    assert caught.value.code == "not_freelancer"
    assert not Charge.objects.exists()
    assert not ConnectsWallet.objects.filter(user=client_owner).exists()


def test_suspended_freelancers_cannot_buy_connects(pro, staff):
    add_card(pro)
    accounts_services.user_suspend(actor=staff, user_id=pro.pk, reason=SuspensionReason.SPAM)
    pro.refresh_from_db()

    with pytest.raises(PermissionDeniedError) as caught:
        buy(pro, 10)

    assert caught.value.code == "account_suspended"
    assert not Charge.objects.exists()


def test_the_price_follows_the_settings(pro, settings):
    settings.CONNECTS_PRICE_CENTS = 20
    settings.CONNECTS_PACKS = (5, 50)
    add_card(pro)

    assert [(p.quantity, p.price_cents) for p in services.connects_packs()] == [(5, 100), (50, 1000)]
    assert buy(pro, 50).charge.amount_cents == 1000
    with pytest.raises(ApplicationError, match=r"5 or 50 Connects"):
        buy(pro, 10, key="form-key-0002")


# --- cards (payments.services.payment_method_add) -----------------------------------------------------


def test_a_freelancer_can_save_a_card(pro):
    method = add_card(pro)

    assert (method.user_id, method.last4, method.is_default) == (pro.pk, "4242", True)
    assert not ClientProfile.objects.filter(user=pro).exists()  # saving a card makes no client
    second = add_card(pro, "5555555555554444")
    method.refresh_from_db()
    assert (method.is_default, second.is_default) == (False, True)


def test_saving_a_card_still_verifies_a_client(client_owner):
    assert ClientProfile.objects.get(user=client_owner).payment_method_verified is False

    add_card(client_owner)

    assert ClientProfile.objects.get(user=client_owner).payment_method_verified is True


def test_a_client_charge_still_carries_the_marketplace_fee(client_owner, settings):
    settings.CLIENT_MARKETPLACE_FEE_BPS = 500
    add_card(client_owner)

    charge = payment_services.charge_create(
        actor=client_owner, amount_cents=10_000, purpose="test_funding", reference="order:1"
    )

    assert (charge.client_fee_cents, charge.total_cents) == (500, 10_500)


def test_suspended_users_cannot_save_cards(pro, staff):
    accounts_services.user_suspend(actor=staff, user_id=pro.pk, reason=SuspensionReason.SPAM)
    pro.refresh_from_db()

    with pytest.raises(PermissionDeniedError):
        add_card(pro)


# --- the page ----------------------------------------------------------------------------------------


def buy_data(**overrides: Any) -> dict[str, Any]:
    data = {"quantity": "20", "purchase_key": KEY}
    data.update(overrides)
    return data


def test_the_page_without_a_card_offers_to_add_one(pro):
    response = browser(pro).get(reverse("proposals:connects"))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="buy-connects"' in body and 'data-testid="no-cards"' in body
    assert 'data-testid="add-card-form"' in body
    assert "4242 4242 4242 4242 succeeds" in body  # the local gateway's test cards
    assert "10 for $1.50" in body and "80 for $12.00" in body
    assert 'data-testid="buy-button"' not in body
    assert "coming with payments" not in body


def test_the_page_with_a_card_shows_the_packs(pro):
    method = add_card(pro)

    response = browser(pro).get(reverse("proposals:connects"))

    body = response.content.decode()
    assert body.count('data-testid="connects-pack"') == 4
    assert "$1.50" in body and "$3.00" in body and "$6.00" in body and "$12.00" in body
    assert 'data-testid="buy-button"' in body and "Visa" in body
    assert f'value="{method.pk}" selected' in body
    assert 'value="20" data-price="$3.00" data-testid="connects-pack" checked' in body
    key = response.context["buy_form"].initial["purchase_key"]
    assert f'value="{key}"' in body and len(key) >= 16
    assert "js/proposals.js" in body


def test_the_test_card_hint_is_for_the_local_gateway_only(pro):
    from proposals.forms import ConnectsCardForm

    assert ConnectsCardForm(test_cards=False).fields["number"].help_text == ""
    assert "4000 0000 0000 0002" in ConnectsCardForm(test_cards=True).fields["number"].help_text


def test_saving_a_card_on_the_page(pro):
    data = {
        "number": "4242 4242 4242 4242",
        "exp_month": 12,
        "exp_year": timezone.now().year + 2,
        "cvc": "123",
    }

    response = browser(pro).post(reverse("proposals:connects_card_add"), data, follow=True)

    assert response.redirect_chain == [(reverse("proposals:connects"), 302)]
    assert PaymentMethod.objects.filter(user=pro).count() == 1
    assert any("Choose a pack" in m for m in messages_of(response))


def test_a_bad_card_number_shows_next_to_the_form(pro):
    data = {
        "number": "4242 4242 4242 4241",
        "exp_month": 12,
        "exp_year": timezone.now().year + 2,
        "cvc": "123",
    }

    response = browser(pro).post(reverse("proposals:connects_card_add"), data)

    assert response.status_code == 400
    assert response.context["card_form"].errors["number"]
    assert not PaymentMethod.objects.exists()


def test_buying_on_the_page(pro):
    set_balance(pro, 5)
    add_card(pro)
    page = browser(pro)

    response = page.post(reverse("proposals:connects_buy"), buy_data(), follow=True)

    assert response.redirect_chain == [(reverse("proposals:connects"), 302)]
    assert messages_of(response) == ["You bought 20 Connects for $3.00. Your balance is 25 Connects."]
    body = response.content.decode()
    assert 'data-testid="connects-balance">25<' in body
    assert 'data-kind="purchase"' in body and "Purchased" in body
    # the same form sent again (a double click): the same payment, no second grant
    again = page.post(reverse("proposals:connects_buy"), buy_data(), follow=True)
    assert again.status_code == 200 and balance_of(pro) == 25
    assert Charge.objects.count() == 1 and len(purchases(pro)) == 1


def test_a_declined_card_on_the_page(pro):
    set_balance(pro, 5)
    add_card(pro, DECLINED)

    response = browser(pro).post(reverse("proposals:connects_buy"), buy_data())

    assert response.status_code == 400
    assert messages_of(response) == ["No Connects were bought: Your card was declined."]
    assert response.context["buy_form"].errors["payment_method"] == ["Your card was declined."]
    assert f'value="{KEY}"' in response.content.decode()  # the same form: a retry is this purchase
    assert balance_of(pro) == 5 and purchases(pro) == []


def test_an_invalid_pack_on_the_page(pro):
    add_card(pro)

    response = browser(pro).post(reverse("proposals:connects_buy"), buy_data(quantity="15"))

    assert response.status_code == 400
    assert response.context["buy_form"].errors["quantity"] == ["Choose one of the packs."]
    assert not Charge.objects.exists()


def test_a_client_cannot_buy_on_the_page(client_owner):
    add_card(client_owner)

    response = browser(client_owner).post(reverse("proposals:connects_buy"), buy_data(), follow=True)

    assert response.redirect_chain == [(reverse("proposals:connects"), 302)]
    assert messages_of(response) == ["Connects are for freelancers; switch to freelancing to buy them."]
    assert not Charge.objects.exists()


def test_buying_needs_post(pro):
    assert browser(pro).get(reverse("proposals:connects_buy")).status_code == 405


# --- the API ------------------------------------------------------------------------------------------

URL = "/api/v1/connects/purchase/"


def test_buying_through_the_api(pro):
    set_balance(pro, 5)
    add_card(pro)

    response = authed(pro).post(URL, {"quantity": 40}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["quantity"], body["price_cents"], body["status"], body["balance"]) == (
        40,
        600,
        "succeeded",
        45,
    )
    assert len(body["purchase_key"]) >= 16  # generated
    again = authed(pro).post(URL, {"quantity": 40, "purchase_key": body["purchase_key"]}, format="json")
    assert again.json()["charge_id"] == body["charge_id"] and balance_of(pro) == 45


def test_the_api_honours_the_idempotency_key(pro):
    set_balance(pro, 0)
    add_card(pro)
    api = authed(pro)

    first = api.post(URL, {"quantity": 10}, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")
    second = api.post(URL, {"quantity": 10}, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")

    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Charge.objects.count() == 1 and balance_of(pro) == 10


@pytest.mark.parametrize(
    ("who", "data", "number", "status", "code"),
    [
        ("pro", {"quantity": 15}, VISA, 400, "invalid_pack"),
        ("pro", {"quantity": "many"}, VISA, 400, None),
        ("pro", {"quantity": 10}, DECLINED, 400, "payment_failed"),
        ("client", {"quantity": 10}, VISA, 403, "not_freelancer"),
    ],
)
def test_the_api_refuses(pro, client_owner, who, data, number, status, code):
    user = pro if who == "pro" else client_owner
    add_card(user, number)

    response = authed(user).post(URL, data, format="json")

    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert not ConnectsTransaction.objects.filter(kind=ConnectsTransaction.Kind.PURCHASE).exists()


def test_the_balance_lists_the_packs(pro):
    body = authed(pro).get("/api/v1/connects/").json()

    assert body["purchase_available"] is True
    assert body["packs"] == [
        {"quantity": 10, "price_cents": 150},
        {"quantity": 20, "price_cents": 300},
        {"quantity": 40, "price_cents": 600},
        {"quantity": 80, "price_cents": 1200},
    ]


# --- at the same time (PostgreSQL) ----------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_at_once_is_one_grant():
    pro = factories.make_published_freelancer()
    set_balance(pro, 0)
    add_card(pro)
    barrier = threading.Barrier(4)
    results: list[Any] = [None] * 4

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = buy(pro, 20).charge.pk
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    charge_ids = {r for r in results if isinstance(r, int)}
    assert len(charge_ids) == 1, results
    # a loser may be told the payment is still being processed; none is charged twice
    assert all(isinstance(r, int) or getattr(r, "code", "") == "charge_in_progress" for r in results)
    assert Charge.objects.count() == 1 and len(purchases(pro)) == 1 and balance_of(pro) == 20
    audit_ok()
