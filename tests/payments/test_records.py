"""The user-facing money records: transaction history and CSV, monthly statements,
receipts with invoice numbers, the dashboard chart and the API over them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from payments import history, ledger, services
from payments.models import AccountKind, Charge, Invoice, InvoiceCounter, JournalEntry
from payments.templatetags.payments_ui import chart_bars
from tests import factories

from .conftest import fund, give_available, usable_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_freelancer(client, freelancer):
    client.force_login(freelancer)
    return client


@pytest.fixture
def as_client(client, client_user):
    client.force_login(client_user)
    return client


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def cents(text: str) -> int:
    """``"-12.34"`` -> ``-1234`` without floats."""
    sign = -1 if text.startswith("-") else 1
    whole, part = text.lstrip("-").split(".")
    assert len(part) == 2
    return sign * (int(whole) * 100 + int(part))


def paid_payout(freelancer, django_capture_on_commit_callbacks, amount_cents=5_000):
    method = usable_bank(freelancer)
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_request(actor=freelancer, amount_cents=amount_cents, method_id=method.pk)
    payout.refresh_from_db()
    assert payout.status == "paid"
    return payout


# --- transaction history ----------------------------------------------------------------------


def test_history_pages_empty(as_freelancer, client, client_user):
    for url in ("/payments/transactions/", "/payments/invoices/", "/payments/statements/"):
        assert as_freelancer.get(url).status_code == 200
    page = as_freelancer.get("/payments/transactions/").content.decode()
    assert 'data-testid="no-transactions"' in page
    assert 'data-testid="no-invoices"' in as_freelancer.get("/payments/invoices/").content.decode()
    client.force_login(client_user)
    assert 'data-testid="no-transactions"' in client.get("/payments/transactions/").content.decode()


def test_freelancer_history_has_every_movement_type(
    as_freelancer, freelancer, django_capture_on_commit_callbacks
):
    give_available(freelancer, 10_000)  # release 100.00 - 10.00 fee, hold ends
    paid_payout(freelancer, django_capture_on_commit_callbacks, 5_000)
    page = as_freelancer.get("/payments/transactions/").content.decode()
    for label in ("Release", "Fee", "Security hold ended", "Withdrawal"):
        assert f"<td>{label}</td>" in page
    only_fees = as_freelancer.get("/payments/transactions/?type=fee").content.decode()
    assert only_fees.count('data-testid="movement"') == 1 and "Service fee" in only_fees
    bad = as_freelancer.get("/payments/transactions/?type=nonsense")
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_csv_rows_add_up_to_the_ledger(as_freelancer, freelancer, django_capture_on_commit_callbacks):
    give_available(freelancer, 10_000)
    give_available(freelancer, 3_333, key="release:2")
    paid_payout(freelancer, django_capture_on_commit_callbacks, 5_000)
    rows = csv_rows(as_freelancer.get("/payments/transactions/?format=csv"))
    assert rows[0] == ["date", "balance", "description", "reference", "amount", "available_at", "type"]
    totals: dict[str, int] = {}
    for row in rows[1:]:
        assert "." in row[4] and len(row[4].split(".")[1]) == 2
        totals[row[1]] = totals.get(row[1], 0) + cents(row[4])
    assert totals["Pending"] == ledger.balance(AccountKind.FREELANCER_PENDING, owner=freelancer) == 0
    assert totals["Available"] == ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
    assert totals["Available"] == 9_000 + 3_000 - 5_000  # 3,333 - 333 fee = 3,000
    assert totals["Withdrawal in transit"] == 0
    # The same filters as the page.
    fees = csv_rows(as_freelancer.get("/payments/transactions/?format=csv&type=fee"))
    assert sorted(cents(r[4]) for r in fees[1:]) == [-1_000, -333]


def test_client_history_csv_and_spend(as_client, client_user):
    charge = fund(client_user, 10_000)
    rows = csv_rows(as_client.get("/payments/transactions/?format=csv"))
    assert sorted((r[6], r[4]) for r in rows[1:]) == [("fee", "-5.00"), ("payment", "-100.00")]
    assert -sum(cents(r[4]) for r in rows[1:]) == charge.total_cents
    # The ledger took in the same amount from the gateway for this charge.
    entry = JournalEntry.objects.get(idempotency_key=f"{charge.idempotency_key}:settled")
    clearing = entry.postings.get(account__kind=AccountKind.GATEWAY_CLEARING)
    assert -clearing.amount_cents == charge.total_cents
    page = as_client.get("/payments/transactions/?account=spend").content.decode()
    assert page.count('data-testid="movement"') == 2


def test_refund_shows_in_client_history(as_client, client_user):
    charge = fund(client_user, 10_000, reference="order:r1")
    refund = services.refund_create(
        actor=client_user, purpose=charge.purpose, reference=charge.reference, idempotency_key="r1"
    )
    assert refund.status == "succeeded"
    rows = csv_rows(as_client.get("/payments/transactions/?format=csv&type=refund"))
    assert [(r[6], r[4]) for r in rows[1:]] == [("refund", "100.00")]


def test_pagination_and_date_filters(as_freelancer, freelancer):
    for index in range(14):  # 14 releases x (release + fee) + 14 hold releases x 2 postings
        give_available(freelancer, 1_000, key=f"p{index}")
    first = as_freelancer.get("/payments/transactions/").content.decode()
    assert "Page 1 of 2" in first
    second = as_freelancer.get("/payments/transactions/?page=2").content.decode()
    assert 'data-testid="movement"' in second
    none = as_freelancer.get("/payments/transactions/?date_from=2000-01-01&date_to=2000-01-31").content
    assert b'data-testid="no-transactions"' in none


def test_history_shows_only_the_users_own(as_client, client_user):
    fund(factories.make_client(), 7_777, reference="order:other")
    rows = csv_rows(as_client.get("/payments/transactions/?format=csv"))
    assert rows[1:] == []


# --- receipts and invoices ----------------------------------------------------------------------


def test_payment_receipt_numbered_once(as_client, client_user):
    charge = fund(client_user, 10_000)
    response = as_client.get(f"/payments/receipts/payment/{charge.pk}/")
    assert response.status_code == 302
    invoice = Invoice.objects.get(charge=charge)
    year = timezone.now().year
    assert invoice.number == f"{year}-000001" and invoice.sequence == 1
    page = as_client.get(response["Location"]).content.decode()
    assert "Payment receipt" in page and "Marketplace fee" in page and "$5.00" in page
    assert "$105.00" in page and "Visa ending 4242" in page and charge.reference in page
    assert "css/payments.css" in page and " style=" not in page and "data-print" in page
    # Opening it again gives the same number.
    as_client.get(f"/payments/receipts/payment/{charge.pk}/")
    assert Invoice.objects.count() == 1
    second = fund(client_user, 2_000, reference="order:2", escrow_reference="contract:2")
    as_client.get(f"/payments/receipts/payment/{second.pk}/")
    assert Invoice.objects.get(charge=second).number == f"{year}-000002"
    assert InvoiceCounter.objects.get(year=year).last_sequence == 2
    listing = as_client.get("/payments/invoices/").content.decode()
    assert f"{year}-000001" in listing and f"{year}-000002" in listing


def test_earnings_and_payout_receipts(as_freelancer, freelancer, django_capture_on_commit_callbacks):
    give_available(freelancer, 10_000)
    release = JournalEntry.objects.get(idempotency_key="release:1")
    page = as_freelancer.get(f"/payments/receipts/earnings/{release.pk}/", follow=True).content.decode()
    assert "Earnings receipt" in page and "Service fee" in page
    assert "$100.00" in page and "-$10.00" in page and "$90.00" in page
    payout = paid_payout(freelancer, django_capture_on_commit_callbacks)
    page = as_freelancer.get(f"/payments/receipts/payout/{payout.pk}/", follow=True).content.decode()
    assert "Withdrawal receipt" in page and "$50.00" in page and "ending 6789" in page


def test_foreign_users_get_404(client, client_user, freelancer):
    charge = fund(client_user, 10_000)
    give_available(freelancer, 10_000, key="k9")
    release = JournalEntry.objects.get(idempotency_key="k9")
    services.invoice_issue(actor=client_user, kind="payment", source_id=charge.pk)
    invoice = Invoice.objects.get()
    client.force_login(factories.make_client())
    assert client.get(f"/payments/receipts/payment/{charge.pk}/").status_code == 404
    assert client.get(f"/payments/invoices/{invoice.number}/").status_code == 404
    assert client.get(f"/payments/receipts/earnings/{release.pk}/").status_code == 404
    assert client.get("/payments/receipts/nonsense/1/").status_code == 404
    assert client.get("/payments/receipts/payment/999999/").status_code == 404
    client.force_login(freelancer)  # the payee is not a party to the client's charge receipt
    assert client.get(f"/payments/invoices/{invoice.number}/").status_code == 404
    assert Invoice.objects.count() == 1


def test_failed_charge_has_no_receipt(client, client_user):
    from .conftest import DECLINED, add_card

    add_card(client_user, DECLINED)
    charge = services.charge_create(
        actor=client_user,
        amount_cents=1_000,
        purpose="test_funding",
        reference="d:1",
        escrow_reference="contract:d",
    )
    assert charge.status == Charge.Status.FAILED
    client.force_login(client_user)
    assert client.get(f"/payments/receipts/payment/{charge.pk}/").status_code == 404


# --- statements ------------------------------------------------------------------------------------


def test_statement_empty_month(as_freelancer):
    page = as_freelancer.get("/payments/statements/2001-02/").content.decode()
    assert 'data-testid="no-movements"' in page and "February 2001" in page
    assert as_freelancer.get("/payments/statements/2001-13/").status_code == 404
    assert as_freelancer.get("/payments/statements/2001-1/").status_code == 404


def test_statement_balances(freelancer, client_user):
    give_available(freelancer, 10_000)
    now = timezone.now()
    statement = history.statement_for(freelancer, now.year, now.month)
    accounts = {a.account: a for a in statement.accounts}
    pending, available = accounts["freelancer_pending"], accounts["freelancer_available"]
    assert (pending.opening_cents, pending.closing_cents) == (0, 0)
    assert (available.opening_cents, available.closing_cents) == (0, 9_000)
    assert [r.type for r in pending.rows] == ["release", "fee", "hold_release"]
    # The next month opens with this month's closing balance.
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    following = {a.account: a for a in history.statement_for(freelancer, year, month).accounts}
    assert following["freelancer_available"].opening_cents == 9_000
    assert following["freelancer_available"].rows == []
    # A client's spend counts up.
    fund(client_user, 10_000, reference="order:s", escrow_reference="contract:s")
    spend = {a.account: a for a in history.statement_for(client_user, now.year, now.month).accounts}["spend"]
    assert (spend.opening_cents, spend.closing_cents) == (0, 10_500)


def test_statement_page(as_client, client_user):
    fund(client_user, 10_000)
    now = timezone.now()
    page = as_client.get(f"/payments/statements/{now:%Y-%m}/").content.decode()
    assert 'data-testid="statement-spend"' in page and "$105.00" in page and "Marketplace fee" in page
    assert "css/payments.css" in page and " style=" not in page


# --- the dashboard chart ---------------------------------------------------------------------------


def test_chart_geometry_for_zero_and_twelve_months(freelancer):
    zero = history.monthly_totals(freelancer, role="freelancer")
    assert len(zero) == 12 and all(t.cents == 0 for t in zero)
    assert all(b.height == 0 for b in chart_bars(zero))
    full = [history.MonthTotal(month=t.month, cents=(i + 1) * 1_000) for i, t in enumerate(zero)]
    bars = chart_bars(full)
    assert [b.height for b in bars] == sorted(b.height for b in bars) and bars[-1].height == 170
    assert all(b.y + b.height == 190 for b in bars)


def test_chart_counts_twelve_months(freelancer, client_user):
    give_available(freelancer, 10_000)
    totals = history.monthly_totals(freelancer, role="freelancer")
    assert totals[-1].cents == 9_000 and sum(t.cents for t in totals) == 9_000
    fund(client_user, 10_000)
    assert history.monthly_totals(client_user, role="client")[-1].cents == 10_500
    old = history.monthly_totals(freelancer, role="freelancer", now=datetime(2001, 1, 1, tzinfo=UTC))
    assert sum(t.cents for t in old) == 0


def test_dashboard_chart_empty_and_with_data(as_freelancer, freelancer, client, client_user):
    page = as_freelancer.get("/dashboard/").content.decode()
    assert 'data-testid="money-chart-empty"' in page and "No earnings" in page
    give_available(freelancer, 10_000)
    page = as_freelancer.get("/dashboard/").content.decode()
    assert page.count('data-testid="money-chart-bar"') == 12 and "<svg" in page and " style=" not in page
    assert "<table" in page and "$90.00" in page
    client.force_login(client_user)
    page = client.get("/dashboard/").content.decode()
    assert 'data-testid="money-chart-empty"' in page and "No payments" in page


def test_bonus_and_receipt_links(as_client, client_user, freelancer, client):
    fund(client_user, 1_000)
    charge = services.charge_create(
        actor=client_user,
        amount_cents=2_000,
        purpose="contract_bonus",
        reference="bonus:1",
        escrow_reference="contract:b",
    )
    services.escrow_release(
        escrow_reference="contract:b",
        payee=freelancer,
        amount_cents=2_000,
        idempotency_key="bonus:1:release",
        purpose="bonus_release",
    )
    bonus = csv_rows(as_client.get("/payments/transactions/?format=csv&type=bonus"))
    assert [(r[6], r[4]) for r in bonus[1:]] == [("bonus", "-20.00")]
    payments = csv_rows(as_client.get("/payments/transactions/?format=csv&type=payment"))
    assert [r[4] for r in payments[1:]] == ["-10.00"]
    assert f"/payments/receipts/payment/{charge.pk}/" in as_client.get("/payments/billing/").content.decode()
    client.force_login(freelancer)
    rows = csv_rows(client.get("/payments/transactions/?format=csv&type=bonus"))
    assert [(r[1], r[4]) for r in rows[1:]] == [("Pending", "20.00")]


def test_history_query_count_is_constant(as_freelancer, freelancer, django_assert_max_num_queries):
    give_available(freelancer, 1_000, key="q0")
    with django_assert_max_num_queries(12) as few:
        as_freelancer.get("/payments/transactions/")
    for index in range(1, 8):
        give_available(freelancer, 1_000, key=f"q{index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_freelancer.get("/payments/transactions/")
