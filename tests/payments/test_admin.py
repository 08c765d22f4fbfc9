"""Staff views: read-only ledger and records; adjustments only as balanced entries."""

from __future__ import annotations

import pytest

from payments import audit, ledger
from payments.models import AccountKind, JournalEntry, LedgerAccount, Payout, WebhookEvent

from .conftest import fund, give_available, usable_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def books(client_user, freelancer):
    fund(client_user, 10_000)
    give_available(freelancer, 5_000, key="r2")
    return freelancer


@pytest.mark.parametrize(
    "model",
    [
        "ledgeraccount",
        "journalentry",
        "charge",
        "refund",
        "transfer",
        "payout",
        "payoutmethod",
        "paymentmethod",
        "webhookevent",
    ],
)
def test_changelists_render(admin_client, books, model):
    response = admin_client.get(f"/admin/payments/{model}/")
    assert response.status_code == 200


def test_ledger_is_read_only(admin_client, books):
    entry = JournalEntry.objects.first()
    assert entry is not None
    page = admin_client.get(f"/admin/payments/journalentry/{entry.pk}/change/")
    assert page.status_code == 200 and "Postings" in page.content.decode()
    assert (
        admin_client.post(f"/admin/payments/journalentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert admin_client.get("/admin/payments/ledgeraccount/add/").status_code == 403
    account = LedgerAccount.objects.first()
    assert account is not None
    before = account.balance_cents
    admin_client.post(f"/admin/payments/ledgeraccount/{account.pk}/change/", {"balance_cents": before + 100})
    account.refresh_from_db()
    assert account.balance_cents == before


def test_adjustment_is_a_balanced_reasoned_entry(admin_client, books, staff):
    fees = ledger.account_for(AccountKind.PLATFORM_FEES)
    available = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=books)
    response = admin_client.post(
        "/admin/payments/ledgeraccount/", {"action": "post_adjustment", "_selected_action": [fees.pk]}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"adjust/?from={fees.pk}")
    form_page = admin_client.get(response["Location"])
    assert form_page.status_code == 200
    data = {
        "from_account": fees.pk,
        "to_account": available.pk,
        "amount": "12.34",
        "reason": "Goodwill credit for ticket 4411",
        "request_token": "tok-1",
    }
    done = admin_client.post("/admin/payments/ledgeraccount/adjust/", data)
    assert done.status_code == 302
    again = admin_client.post("/admin/payments/ledgeraccount/adjust/", data)  # double submit
    assert again.status_code == 302
    entry = JournalEntry.objects.get(purpose="manual_adjustment")
    assert entry.created_by == staff and "Goodwill credit for ticket 4411" in entry.memo
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=books) == 4_500 + 1_234
    assert audit.run_checks() == []


def test_adjustment_refusals(admin_client, books):
    fees = ledger.account_for(AccountKind.PLATFORM_FEES)
    available = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=books)
    short = admin_client.post(
        "/admin/payments/ledgeraccount/adjust/",
        {
            "from_account": fees.pk,
            "to_account": available.pk,
            "amount": "1",
            "reason": "short",
            "request_token": "t",
        },
    )
    assert "at least 10 characters" in short.content.decode()
    negative = admin_client.post(
        "/admin/payments/ledgeraccount/adjust/",
        {
            "from_account": available.pk,
            "to_account": fees.pk,
            "amount": "1000",
            "reason": "take it all back",
            "request_token": "u",
        },
    )
    assert "Not enough money in the available balance" in negative.content.decode()
    assert not JournalEntry.objects.filter(purpose="manual_adjustment").exists()


def test_non_staff_cannot_adjust(client, freelancer):
    from marketplace.errors import PermissionDeniedError
    from payments import services

    with pytest.raises(PermissionDeniedError):
        services.ledger_adjust(
            actor=freelancer,
            from_account_id=1,
            to_account_id=2,
            amount_cents=1,
            reason="x" * 20,
            idempotency_key="k",
        )
    client.force_login(freelancer)
    assert client.get("/admin/payments/ledgeraccount/adjust/").status_code == 302


def test_payout_admin_action(admin_client, books):
    method = usable_bank(books)
    from payments import services

    payout = services.payout_request(actor=books, amount_cents=2_000, method_id=method.pk)
    admin_client.post("/admin/payments/payout/", {"action": "process_now", "_selected_action": [payout.pk]})
    assert Payout.objects.get(pk=payout.pk).status == "paid"
    assert admin_client.get(f"/admin/payments/payout/{payout.pk}/change/").status_code == 200


def test_webhook_admin_action(admin_client):
    event = WebhookEvent.objects.create(
        event_id="evt_1", type="customer.created", payload={"data": {"object": {}}}
    )
    admin_client.post(
        "/admin/payments/webhookevent/", {"action": "process_again", "_selected_action": [event.pk]}
    )
    event.refresh_from_db()
    assert event.processed_at is not None and event.outcome.startswith("ignored")
