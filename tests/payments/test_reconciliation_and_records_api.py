"""Staff reconciliation (ledger vs gateway records), the read-only ledger admin, the API
of movements, invoices and statements, and invoice numbering under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from payments import ledger, services
from payments.models import AccountKind, Charge, Invoice, Payout
from payments.reconciliation import reconcile
from tests import factories
from tests.conftest import requires_postgres

from .conftest import add_card, fund, give_available, usable_bank


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


# --- reconciliation ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reconciliation_clean_books(client_user, freelancer, django_capture_on_commit_callbacks):
    fund(client_user, 10_000)
    give_available(freelancer, 10_000, key="r:1")
    method = usable_bank(freelancer)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_request(actor=freelancer, amount_cents=5_000, method_id=method.pk)
    summaries, mismatches = reconcile()
    assert mismatches == []
    by_label = {s.label: s for s in summaries}
    assert by_label["Charges succeeded"].records == 2
    assert by_label["Charges succeeded"].difference_cents == 0
    assert by_label["Withdrawals paid"].gateway_cents == 5_000 == by_label["Withdrawals paid"].ledger_cents


@pytest.mark.django_db
def test_reconciliation_finds_injected_mismatches(
    client_user, freelancer, django_capture_on_commit_callbacks
):
    charge = fund(client_user, 10_000)
    # A charge marked succeeded with no ledger entry (e.g. a bug or a manual DB edit).
    Charge.objects.filter(pk=charge.pk).update(amount_cents=12_000)
    # A paid payout whose ledger entry is missing: status flipped by hand.
    give_available(freelancer, 10_000, key="r:2")
    method = usable_bank(freelancer)
    with django_capture_on_commit_callbacks(execute=False):
        payout = services.payout_request(actor=freelancer, amount_cents=2_000, method_id=method.pk)
    Payout.objects.filter(pk=payout.pk).update(status=Payout.Status.PAID)
    summaries, mismatches = reconcile()
    problems = {(m.record, m.record_id): m.problem for m in mismatches}
    assert "charged 12500 cents but the ledger took in 10500" in problems[("charge", charge.pk)]
    assert "no ledger entry" in problems[("payout", payout.pk)]
    assert {s.label: s.difference_cents for s in summaries}["Charges succeeded"] == 2_000


@pytest.mark.django_db
def test_reconciliation_admin_page(admin_client, client_user):
    charge = fund(client_user, 10_000)
    page = admin_client.get("/admin/payments/ledgeraccount/reconciliation/").content.decode()
    assert 'data-testid="reconciled"' in page
    Charge.objects.filter(pk=charge.pk).update(client_fee_cents=1)
    page = admin_client.get("/admin/payments/ledgeraccount/reconciliation/").content.decode()
    assert 'data-testid="mismatches"' in page and f"/admin/payments/charge/{charge.pk}/" in page
    assert "Reconciliation report" in admin_client.get("/admin/payments/ledgeraccount/").content.decode()


@pytest.mark.django_db
def test_reconciliation_needs_staff(client, freelancer):
    client.force_login(freelancer)
    response = client.get("/admin/payments/ledgeraccount/reconciliation/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_postings_per_account_and_invoices_are_read_only(admin_client, client_user, freelancer):
    fund(client_user, 10_000)
    give_available(freelancer, 10_000, key="r:3")
    account = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
    page = admin_client.get(f"/admin/payments/posting/?account__id__exact={account.pk}").content.decode()
    assert "Security hold ended" in page and "$90.00" in page
    assert (
        f"?account__id__exact={account.pk}"
        in admin_client.get("/admin/payments/ledgeraccount/").content.decode()
    )
    assert admin_client.get("/admin/payments/posting/add/").status_code == 403
    services.invoice_issue(
        actor=client_user, kind="payment", source_id=Charge.objects.filter(payer=client_user).get().pk
    )
    assert admin_client.get("/admin/payments/invoice/").status_code == 200
    assert admin_client.get("/admin/payments/invoice/add/").status_code == 403


@pytest.mark.django_db
def test_adjustment_shows_in_history(staff, freelancer, client):
    give_available(freelancer, 10_000, key="r:4")
    available = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
    adjustments = ledger.platform_account(AccountKind.ADJUSTMENTS)
    services.ledger_adjust(
        actor=staff,
        from_account_id=adjustments.pk,
        to_account_id=available.pk,
        amount_cents=150,
        reason="Goodwill credit for a delayed release",
        idempotency_key="adj-1",
    )
    client.force_login(freelancer)
    page = client.get("/payments/transactions/?type=adjustment").content.decode()
    assert page.count('data-testid="movement"') == 1 and "$1.50" in page


# --- API ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_movements_invoices_statements(api_client, client_user):
    api_client.force_authenticate(client_user)
    assert api_client.get("/api/v1/payments/movements/").json()["results"] == []
    assert api_client.get("/api/v1/payments/invoices/").json()["results"] == []
    charge = fund(client_user, 10_000)
    rows = api_client.get("/api/v1/payments/movements/?type=fee").json()["results"]
    assert [(r["type"], r["amount_cents"], r["amount"]) for r in rows] == [("fee", -500, "-5.00")]
    assert rows[0]["receipt_kind"] == "payment" and rows[0]["receipt_id"] == charge.pk
    assert api_client.get("/api/v1/payments/movements/?type=bad").status_code == 400
    assert api_client.get("/api/v1/payments/movements/?from=garbage").status_code == 400
    issued = api_client.post("/api/v1/payments/invoices/", {"kind": "payment", "source_id": charge.pk})
    assert issued.status_code == 200
    body = issued.json()
    assert body["total_cents"] == 10_500 and [line["amount_cents"] for line in body["lines"]] == [10_000, 500]
    assert body["card"] == "Visa ending 4242"
    again = api_client.post("/api/v1/payments/invoices/", {"kind": "payment", "source_id": charge.pk}).json()
    assert again["number"] == body["number"]
    assert api_client.get(f"/api/v1/payments/invoices/{body['number']}/").json()["number"] == body["number"]
    assert api_client.post("/api/v1/payments/invoices/", {"kind": "x", "source_id": 1}).status_code == 400
    now = timezone.now()
    statement = api_client.get(f"/api/v1/payments/statements/{now:%Y-%m}/").json()
    spend = next(a for a in statement["accounts"] if a["account"] == "spend")
    assert (spend["opening_cents"], spend["closing_cents"], len(spend["movements"])) == (0, 10_500, 2)
    assert api_client.get("/api/v1/payments/statements/2026-13/").status_code == 404
    # Someone else sees nothing of it.
    api_client.force_authenticate(factories.make_client())
    assert api_client.get(f"/api/v1/payments/invoices/{body['number']}/").status_code == 404
    foreign = api_client.post("/api/v1/payments/invoices/", {"kind": "payment", "source_id": charge.pk})
    assert foreign.status_code == 404
    assert api_client.get("/api/v1/payments/movements/").json()["results"] == []


# --- invoice numbers under concurrency (PostgreSQL) -------------------------------------------------


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    results: list = []
    errors: list = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_unique_and_sequential_under_concurrency():
    payer = factories.make_client()
    add_card(payer)
    charges = [
        fund(payer, 1_000 + i, reference=f"order:c{i}", escrow_reference=f"contract:c{i}") for i in range(8)
    ]
    results, errors = _run_threads(
        8, lambda i: services.invoice_issue(actor=payer, kind="payment", source_id=charges[i].pk).number
    )
    assert errors == []
    year = timezone.now().year
    assert sorted(results) == [f"{year}-{n:06d}" for n in range(1, 9)]
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 9))


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_one_invoice_per_record_under_concurrency():
    payer = factories.make_client()
    charge = fund(payer, 5_000, reference="order:same", escrow_reference="contract:same")
    results, errors = _run_threads(
        6, lambda i: services.invoice_issue(actor=payer, kind="payment", source_id=charge.pk).number
    )
    assert errors == [] and len(set(results)) == 1 and len(results) == 6
    assert Invoice.objects.count() == 1
    assert Invoice.objects.get().sequence == 1
