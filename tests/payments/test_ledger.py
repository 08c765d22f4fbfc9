"""The ledger: balanced entries, idempotent keys, no negative balances, immutability."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from marketplace.errors import ApplicationError, ConflictError
from payments import ledger
from payments.ledger import InsufficientFundsError, Line, UnbalancedEntryError
from payments.models import AccountKind, ImmutableRecordError, JournalEntry, LedgerAccount, Posting
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


def clearing():
    return ledger.account_for(AccountKind.GATEWAY_CLEARING)


def escrow(ref="contract:1"):
    return ledger.escrow_account(ref)


def fund_escrow(amount=1000, ref="contract:1", key="fund:1"):
    return ledger.post_entry(
        key=key, memo="fund", lines=[Line(clearing(), -amount), Line(escrow(ref), amount)]
    )


def test_post_entry_updates_cached_balances():
    entry = fund_escrow(1000)
    assert entry.postings.count() == 2
    assert ledger.escrow_balance("contract:1") == 1000
    assert ledger.balance(AccountKind.GATEWAY_CLEARING) == -1000


def test_entry_must_sum_to_zero_and_have_two_nonzero_postings():
    with pytest.raises(UnbalancedEntryError, match="sum to zero"):
        ledger.post_entry(key="k", memo="m", lines=[Line(clearing(), -1000), Line(escrow(), 999)])
    with pytest.raises(UnbalancedEntryError, match="at least two"):
        ledger.post_entry(key="k", memo="m", lines=[Line(escrow(), 1)])
    with pytest.raises(UnbalancedEntryError, match="cannot be zero"):
        ledger.post_entry(key="k", memo="m", lines=[Line(clearing(), 0), Line(escrow(), 0)])
    with pytest.raises(UnbalancedEntryError, match="whole cents"):
        ledger.post_entry(key="k", memo="m", lines=[Line(clearing(), -1.5), Line(escrow(), 1.5)])  # type: ignore[arg-type]
    assert JournalEntry.objects.count() == 0


def test_same_key_same_lines_returns_the_first_entry():
    first = fund_escrow(1000)
    again = fund_escrow(1000)
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert ledger.escrow_balance("contract:1") == 1000


def test_same_key_other_lines_is_a_conflict():
    fund_escrow(1000)
    with pytest.raises(ConflictError):
        fund_escrow(2000)
    assert ledger.escrow_balance("contract:1") == 1000


def test_refuses_to_take_escrow_below_zero():
    fund_escrow(1000)
    with pytest.raises(InsufficientFundsError) as info:
        ledger.post_entry(key="refund", memo="m", lines=[Line(escrow(), -1500), Line(clearing(), 1500)])
    message = info.value.message
    assert message == "Not enough money in the escrow: $10.00 there, $15.00 needed."
    assert ledger.escrow_balance("contract:1") == 1000
    assert not JournalEntry.objects.filter(idempotency_key="refund").exists()


@pytest.mark.parametrize(
    "kind", [AccountKind.FREELANCER_AVAILABLE, AccountKind.FREELANCER_PENDING, AccountKind.PAYOUTS_IN_TRANSIT]
)
def test_refuses_negative_freelancer_balances(freelancer, kind):
    account = ledger.account_for(kind, owner=freelancer)
    with pytest.raises(InsufficientFundsError):
        ledger.post_entry(key="k", memo="m", lines=[Line(account, -1), Line(clearing(), 1)])


def test_platform_accounts_may_go_negative():
    fees = ledger.account_for(AccountKind.PLATFORM_FEES)
    ledger.post_entry(key="k", memo="m", lines=[Line(fees, -5), Line(clearing(), 5)])
    assert ledger.balance(AccountKind.PLATFORM_FEES) == -5


def test_account_for_is_unique_per_kind_owner_reference(freelancer):
    a = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
    b = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=freelancer)
    assert a.pk == b.pk
    assert (
        ledger.account_for(AccountKind.PLATFORM_FEES).pk == ledger.account_for(AccountKind.PLATFORM_FEES).pk
    )
    assert escrow("contract:1").pk != escrow("contract:2").pk
    with pytest.raises(ValueError):
        ledger.account_for(AccountKind.ESCROW)
    with pytest.raises(ValueError):
        ledger.account_for(AccountKind.FREELANCER_AVAILABLE)


def test_database_refuses_second_unowned_account_of_a_kind():
    ledger.account_for(AccountKind.PLATFORM_FEES)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(kind=AccountKind.PLATFORM_FEES)


def test_orm_refuses_changing_or_deleting_entries_and_postings():
    entry = fund_escrow(1000)
    posting = entry.postings.first()
    assert posting is not None
    entry.memo = "changed"
    with pytest.raises(ImmutableRecordError):
        entry.save()
    with pytest.raises(ImmutableRecordError):
        entry.delete()
    posting.amount_cents = 5
    with pytest.raises(ImmutableRecordError):
        posting.save()
    with pytest.raises(ImmutableRecordError):
        posting.delete()
    with pytest.raises(ImmutableRecordError):
        Posting.objects.filter(pk=posting.pk).update(amount_cents=5)
    with pytest.raises(ImmutableRecordError):
        JournalEntry.objects.all().delete()
    assert Posting.objects.get(pk=posting.pk).amount_cents != 5


@requires_postgres
def test_postgres_triggers_refuse_update_and_delete():
    entry = fund_escrow(1000)
    with connection.cursor() as cursor:
        for sql in (
            "UPDATE payments_posting SET amount_cents = 1 WHERE entry_id = %s",
            "DELETE FROM payments_posting WHERE entry_id = %s",
            "UPDATE payments_journalentry SET memo = 'x' WHERE id = %s",
            "DELETE FROM payments_journalentry WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
                cursor.execute(sql, [entry.pk])
    assert entry.postings.count() == 2


def test_reverse_entry_restores_balances_once():
    entry = fund_escrow(1000)
    reversal = ledger.reverse_entry(entry=entry, key="fund:1:reverse", memo="mistake")
    assert reversal.reverses_id == entry.pk
    assert ledger.escrow_balance("contract:1") == 0
    assert ledger.balance(AccountKind.GATEWAY_CLEARING) == 0
    assert ledger.reverse_entry(entry=entry, key="fund:1:reverse", memo="mistake").pk == reversal.pk
    with pytest.raises(ApplicationError, match="already been reversed"):
        ledger.reverse_entry(entry=entry, key="another", memo="again")


def test_held_amounts_mature_once(freelancer):
    fund_escrow(1000)
    pending = ledger.account_for(AccountKind.FREELANCER_PENDING, owner=freelancer)
    later = timezone.now() + timedelta(days=5)
    ledger.post_entry(
        key="release", memo="m", lines=[Line(escrow(), -1000), Line(pending, 1000, available_at=later)]
    )
    assert ledger.release_matured() == 0
    assert list(ledger.held_postings(freelancer).values_list("amount_cents", flat=True)) == [1000]
    assert ledger.release_matured(now=later) == 1
    assert ledger.release_matured(now=later) == 0
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=freelancer) == 0
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 1000
    assert not ledger.held_postings(freelancer).exists()


def test_pending_lines_need_a_release_date(freelancer):
    fund_escrow(1000)
    pending = ledger.account_for(AccountKind.FREELANCER_PENDING, owner=freelancer)
    with pytest.raises(UnbalancedEntryError, match="date"):
        ledger.post_entry(key="k", memo="m", lines=[Line(escrow(), -1000), Line(pending, 1000)])


def test_reversing_a_release_clears_the_hold(freelancer):
    fund_escrow(1000)
    pending = ledger.account_for(AccountKind.FREELANCER_PENDING, owner=freelancer)
    later = timezone.now() + timedelta(days=5)
    release = ledger.post_entry(
        key="release", memo="m", lines=[Line(escrow(), -1000), Line(pending, 1000, available_at=later)]
    )
    ledger.reverse_entry(entry=release, key="release:undo", memo="dispute")
    assert ledger.escrow_balance("contract:1") == 1000
    assert ledger.release_matured(now=later) == 0
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 0


def test_a_matured_hold_cannot_be_reversed_directly(freelancer):
    fund_escrow(1000)
    pending = ledger.account_for(AccountKind.FREELANCER_PENDING, owner=freelancer)
    now = timezone.now()
    release = ledger.post_entry(
        key="release", memo="m", lines=[Line(escrow(), -1000), Line(pending, 1000, available_at=now)]
    )
    ledger.release_matured(now=now)
    with pytest.raises(ApplicationError, match="already been released"):
        ledger.reverse_entry(entry=release, key="release:undo", memo="too late")
