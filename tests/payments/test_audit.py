"""``manage.py ledger_audit`` finds corruption made behind the ORM's back."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from payments import audit, ledger, services
from payments.ledger import Line
from payments.models import AccountKind, LedgerAccount

from .conftest import fund

pytestmark = pytest.mark.django_db


def run_audit() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger_audit", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_audit() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match="finding"):
        call_command("ledger_audit", "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def raw(sql: str, params: list) -> None:
    """Write behind the ORM (the test's way to corrupt data). On PostgreSQL the triggers
    refuse UPDATE/DELETE, so the corruption is an INSERT or a cached-balance change."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def books(client_user, freelancer):
    fund(client_user, 10_000, escrow_reference="contract:1")
    services.escrow_release(
        escrow_reference="contract:1", payee=freelancer, amount_cents=4_000, idempotency_key="release:1"
    )


def test_clean_ledger_passes_with_a_progress_bar(books):
    out, err = run_audit()
    assert "no findings" in out
    assert "ledger audit" in err and f"{len(audit.check_names())}/{len(audit.check_names())}" in err


def test_unbalanced_entry_is_found(books):
    escrow = LedgerAccount.objects.get(kind=AccountKind.ESCROW, reference="contract:1")
    entry_id = escrow.postings.values_list("entry_id", flat=True).first()
    raw(
        "INSERT INTO payments_posting (entry_id, account_id, amount_cents, created_at) VALUES (%s, %s, %s, %s)",
        [entry_id, escrow.pk, 1, timezone.now()],
    )
    out = failing_audit()
    assert f"entry #{entry_id}" in out and "sums to 1 cents" in out
    assert f"account #{escrow.pk}" in out and "caches 6000 cents but its postings sum to 6001" in out


def test_cached_balance_drift_is_found(books):
    fees = LedgerAccount.objects.get(kind=AccountKind.PLATFORM_FEES)
    raw("UPDATE payments_ledgeraccount SET balance_cents = balance_cents + 7 WHERE id = %s", [fees.pk])
    out = failing_audit()
    assert f"account #{fees.pk} (platform_fees" in out and "caches" in out


def test_negative_escrow_is_found(books):
    escrow = LedgerAccount.objects.get(kind=AccountKind.ESCROW, reference="contract:1")
    clearing = ledger.account_for(AccountKind.GATEWAY_CLEARING)
    # A balanced entry taking escrow below zero, posted behind post_entry's check.
    raw(
        "INSERT INTO payments_journalentry (idempotency_key, memo, purpose, reference, created_at) "
        "VALUES ('evil', 'behind the ORM', '', '', %s)",
        [timezone.now()],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM payments_journalentry WHERE idempotency_key = 'evil'")
        (entry_id,) = cursor.fetchone()
    for account, amount in ((escrow, -9_000), (clearing, 9_000)):
        raw(
            "INSERT INTO payments_posting (entry_id, account_id, amount_cents, created_at) VALUES (%s, %s, %s, %s)",
            [entry_id, account.pk, amount, timezone.now()],
        )
    out = failing_audit()
    assert f"account #{escrow.pk} (escrow contract:1) is negative: -3000 cents" in out


def test_checks_registered_by_other_apps_run(books):
    audit.register_check("contracts: escrow per contract", lambda: ["contract 17 escrow is 5 cents short"])
    audit.register_check("broken", lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    try:
        out = failing_audit()
    finally:
        audit.unregister_check("contracts: escrow per contract")
        audit.unregister_check("broken")
    assert "[contracts: escrow per contract] contract 17 escrow is 5 cents short" in out
    assert "[broken] the check failed: ZeroDivisionError" in out


def test_ledger_is_balanced_after_every_flow(books, freelancer):
    ledger.release_matured(now=timezone.now() + timedelta(days=6))
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 3_600
    assert "no findings" in run_audit()[0]


def test_post_entry_is_the_only_writer_of_balances(books):
    fees = LedgerAccount.objects.get(kind=AccountKind.PLATFORM_FEES)
    ledger.post_entry(
        key="fee-correction",
        memo="m",
        lines=[Line(fees, -100), Line(ledger.account_for(AccountKind.ADJUSTMENTS), 100)],
    )
    assert "no findings" in run_audit()[0]
