"""The double-entry ledger: the only code that writes journal entries and postings.

Every money movement is one ``JournalEntry`` whose postings sum to zero, posted in the
same transaction as the state change it belongs to. A posting's amount is signed:
positive adds to the account's balance, negative takes from it.

- ``post_entry`` locks the accounts it touches in primary-key order, checks the entry
  balances, refuses to take an escrow, pending, available or in-transit balance below zero,
  updates the cached balances and is idempotent on its key: the same key with the same
  lines returns the entry already posted; with other lines it raises ``ConflictError``.
- Entries are immutable; ``reverse_entry`` posts the opposite entry.
- ``account_for`` gets or creates an account; safe under concurrency (unique constraints).

Freelancer earnings go to ``freelancer_pending`` with an ``available_at`` (the security
hold); ``release_matured`` moves each matured amount to ``freelancer_available`` once.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from marketplace.errors import ApplicationError, ConflictError
from marketplace.money import format_cents
from marketplace.security import log_ledger_entry_on_commit

from .models import (
    NON_NEGATIVE_KINDS,
    OWNED_KINDS,
    REFERENCED_KINDS,
    AccountKind,
    JournalEntry,
    LedgerAccount,
    Posting,
)

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

# Kinds whose positive postings are held until ``available_at`` (a freelancer's or an
# agency's earnings); each matures to the matching available account.
HELD_KINDS = frozenset({AccountKind.FREELANCER_PENDING, AccountKind.AGENCY_PENDING})


class UnbalancedEntryError(ApplicationError):
    code = "unbalanced_entry"


class InsufficientFundsError(ApplicationError):
    code = "insufficient_funds"


class EntryConflictError(ConflictError):
    code = "idempotency_conflict"


@dataclass(frozen=True)
class Line:
    """One posting to make: ``amount_cents`` signed (positive adds to the balance).

    ``available_at`` is required on positive ``freelancer_pending`` lines (end of the
    hold). ``clears`` is set by this module only (a pending amount moved on)."""

    account: LedgerAccount
    amount_cents: int
    available_at: datetime | None = None
    clears: Posting | None = None


# --- accounts -----------------------------------------------------------------------------


def account_for(
    kind: str, owner: User | None = None, reference: str = "", currency: str | None = None
) -> LedgerAccount:
    """The account of ``kind`` for ``owner`` / ``reference``, created on first use."""
    if kind not in AccountKind.values:
        raise ValueError(f"unknown ledger account kind {kind!r}")
    if (kind in OWNED_KINDS) != (owner is not None):
        raise ValueError(f"{kind} accounts {'need' if kind in OWNED_KINDS else 'take no'} owner")
    if (kind in REFERENCED_KINDS) != bool(reference):
        raise ValueError(f"{kind} accounts {'need' if kind in REFERENCED_KINDS else 'take no'} reference")
    account, _ = LedgerAccount.objects.get_or_create(
        kind=kind,
        owner=owner,
        reference=reference,
        defaults={"currency": currency or settings.CURRENCY},
    )
    return account


def platform_account(kind: str) -> LedgerAccount:
    return account_for(kind)


def escrow_account(reference: str) -> LedgerAccount:
    return account_for(AccountKind.ESCROW, reference=reference)


def balance(kind: str, owner: User | None = None, reference: str = "") -> int:
    """The cached balance in cents (0 when the account was never used). No lock."""
    found = (
        LedgerAccount.objects.filter(kind=kind, owner=owner, reference=reference)
        .values_list("balance_cents", flat=True)
        .first()
    )
    return int(found or 0)


def escrow_balance(reference: str) -> int:
    return balance(AccountKind.ESCROW, reference=reference)


# --- posting ------------------------------------------------------------------------------


def _clean_lines(lines: Sequence[Line | tuple[LedgerAccount, int]]) -> list[Line]:
    cleaned: list[Line] = []
    for raw in lines:
        line = raw if isinstance(raw, Line) else Line(account=raw[0], amount_cents=raw[1])
        amount = line.amount_cents
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise UnbalancedEntryError("Posting amounts are whole cents (integers).")
        if amount == 0:
            raise UnbalancedEntryError("A posting cannot be zero.")
        if line.account.pk is None:
            raise UnbalancedEntryError("Post to saved accounts only.")
        is_pending = line.account.kind in HELD_KINDS
        if line.available_at is not None and not (is_pending and amount > 0):
            raise UnbalancedEntryError("Only money put on hold (pending) has an available date.")
        if is_pending and amount > 0 and line.available_at is None:
            raise UnbalancedEntryError("Money put on hold needs the date it becomes available.")
        if line.clears is not None and not (
            is_pending
            and amount < 0
            and line.clears.account_id == line.account.pk
            and line.clears.amount_cents == -amount
        ):
            raise UnbalancedEntryError("Only the same amount leaving the hold clears a held amount.")
        cleaned.append(line)
    if len(cleaned) < 2:
        raise UnbalancedEntryError("An entry needs at least two postings.")
    total = sum(line.amount_cents for line in cleaned)
    if total != 0:
        raise UnbalancedEntryError(
            f"The postings of an entry must sum to zero (they sum to {total} cents).",
            extra={"sum_cents": total},
        )
    if len({line.account.currency for line in cleaned}) != 1:
        raise UnbalancedEntryError("All postings of an entry are in one currency.")
    return cleaned


def _signature(pairs: Iterable[tuple[int, int]]) -> Counter[tuple[int, int]]:
    return Counter(pairs)


def _existing(key: str) -> JournalEntry | None:
    return JournalEntry.objects.filter(idempotency_key=key).first()


def _same_or_conflict(entry: JournalEntry, lines: list[Line]) -> JournalEntry:
    """The entry posted before under this key, if it has the same lines.

    ``available_at`` is left out of the comparison: a retried release computes its hold
    from a later "now" and is still the same movement."""
    posted = _signature(entry.postings.values_list("account_id", "amount_cents"))
    asked = _signature((line.account.pk, line.amount_cents) for line in lines)
    if posted != asked:
        raise EntryConflictError(
            "This idempotency key was used for a different ledger entry.",
            extra={"key": entry.idempotency_key, "entry_id": entry.pk},
        )
    return entry


def _describe(account: LedgerAccount) -> str:
    names = {
        AccountKind.ESCROW: "escrow",
        AccountKind.FREELANCER_AVAILABLE: "available balance",
        AccountKind.FREELANCER_PENDING: "pending balance",
        AccountKind.CLIENT_CREDIT: "credit",
        AccountKind.PAYOUTS_IN_TRANSIT: "payouts in transit",
        AccountKind.REFUNDS_IN_TRANSIT: "refunds in transit",
    }
    return names.get(AccountKind(account.kind), account.get_kind_display().lower())


def post_entry(
    *,
    key: str,
    memo: str,
    lines: Sequence[Line | tuple[LedgerAccount, int]],
    purpose: str = "",
    reference: str = "",
    actor: User | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the one posted before under ``key``.

    Atomic on its own; joins the caller's transaction when there is one (the entry then
    commits with the caller's state change). Raises ``UnbalancedEntryError``,
    ``InsufficientFundsError`` (nothing posted) or ``EntryConflictError``.
    """
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ApplicationError("A ledger entry needs an idempotency key of 1 to 200 characters.")
    cleaned = _clean_lines(lines)
    found = _existing(key)
    if found is not None:
        return _same_or_conflict(found, cleaned)

    with transaction.atomic():
        ids = sorted({line.account.pk for line in cleaned})
        locked = {
            a.pk: a for a in LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        # A concurrent call with the same key may have committed while we waited.
        found = _existing(key)
        if found is not None:
            return _same_or_conflict(found, cleaned)

        deltas: dict[int, int] = defaultdict(int)
        for line in cleaned:
            deltas[line.account.pk] += line.amount_cents
        for account_id, delta in deltas.items():
            account = locked[account_id]
            new_balance = account.balance_cents + delta
            if new_balance < 0 and account.kind in NON_NEGATIVE_KINDS:
                raise InsufficientFundsError(
                    f"Not enough money in the {_describe(account)}: "
                    f"{format_cents(account.balance_cents, account.currency)} there, "
                    f"{format_cents(-delta, account.currency)} needed.",
                    extra={
                        "account_id": account.pk,
                        "kind": account.kind,
                        "balance_cents": account.balance_cents,
                        "needed_cents": -delta,
                    },
                )

        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    idempotency_key=key,
                    memo=memo[:300],
                    purpose=purpose,
                    reference=reference,
                    created_by=actor,
                    reverses=reverses,
                )
        except IntegrityError:
            # The same key committed by a call that touched other accounts (no shared lock).
            found = _existing(key)
            if found is None:
                raise
            return _same_or_conflict(found, cleaned)

        Posting.objects.bulk_create(
            [
                Posting(
                    entry=entry,
                    account_id=line.account.pk,
                    amount_cents=line.amount_cents,
                    available_at=line.available_at,
                    clears=line.clears,
                    created_at=entry.created_at,
                )
                for line in cleaned
            ]
        )
        for account_id, delta in deltas.items():
            account = locked[account_id]
            account.balance_cents += delta
            LedgerAccount.objects.filter(pk=account_id).update(balance_cents=account.balance_cents)
        # The caller's Line objects hold stale copies; refresh the ones they passed.
        for line in cleaned:
            line.account.balance_cents = locked[line.account.pk].balance_cents
        # security log: one record per committed money movement (marketplace/security.py)
        log_ledger_entry_on_commit(
            entry_id=entry.pk,
            purpose=purpose,
            reference=reference,
            amount_cents=sum(line.amount_cents for line in cleaned if line.amount_cents > 0),
            actor_id=actor.pk if actor is not None else None,
        )
    return entry


def reverse_entry(*, entry: JournalEntry, key: str, memo: str, actor: User | None = None) -> JournalEntry:
    """Post the opposite of ``entry`` (each entry is reversed at most once).

    A held (pending) amount that is reversed is cleared by the reversal, so it never
    matures; one that already matured cannot be reversed here (reverse its release first).
    """
    existing = _existing(key)
    if existing is not None:
        if existing.reverses_id != entry.pk:
            raise EntryConflictError("This idempotency key was used for a different ledger entry.")
        return existing
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise ApplicationError("This entry has already been reversed.", code="already_reversed")
    lines: list[Line] = []
    for posting in entry.postings.select_related("account", "clears"):
        account = posting.account
        if account.kind in HELD_KINDS and posting.amount_cents > 0:
            if Posting.objects.filter(clears=posting).exists():
                raise ApplicationError(
                    "This held amount has already been released to the available balance.",
                    code="already_matured",
                )
            lines.append(Line(account=account, amount_cents=-posting.amount_cents, clears=posting))
        elif account.kind in HELD_KINDS and posting.clears is not None:
            # Undoing a maturity puts the amount back on hold until its original date.
            lines.append(
                Line(
                    account=account,
                    amount_cents=-posting.amount_cents,
                    available_at=posting.clears.available_at,
                )
            )
        else:
            lines.append(Line(account=account, amount_cents=-posting.amount_cents))
    return post_entry(
        key=key,
        memo=memo,
        lines=lines,
        purpose=entry.purpose,
        reference=entry.reference,
        actor=actor,
        reverses=entry,
    )


# --- the security hold ----------------------------------------------------------------------


def held_postings(owner: User) -> QuerySet[Posting]:
    """The owner's amounts still on hold, oldest release date first."""
    return Posting.objects.filter(
        account__kind=AccountKind.FREELANCER_PENDING,
        account__owner=owner,
        amount_cents__gt=0,
        cleared_by__isnull=True,
    ).order_by("available_at", "pk")


def matured_postings(now: datetime | None = None) -> QuerySet[Posting]:
    now = now or timezone.now()
    return Posting.objects.filter(
        Q(account__kind__in=HELD_KINDS),
        amount_cents__gt=0,
        available_at__lte=now,
        cleared_by__isnull=True,
    ).order_by("available_at", "pk")


def release_held(posting: Posting) -> JournalEntry:
    """Move one matured held amount from pending to available (once: keyed by posting)."""
    pending = posting.account
    if pending.kind == AccountKind.AGENCY_PENDING:  # an agency's hold matures to the same agency
        available = account_for(
            AccountKind.AGENCY_AVAILABLE, reference=pending.reference, currency=pending.currency
        )
    else:
        available = account_for(
            AccountKind.FREELANCER_AVAILABLE, owner=pending.owner, currency=pending.currency
        )
    return post_entry(
        key=f"hold-release:{posting.pk}",
        memo="Security hold ended",
        lines=[
            Line(account=pending, amount_cents=-posting.amount_cents, clears=posting),
            Line(account=available, amount_cents=posting.amount_cents),
        ],
        purpose="hold_release",
        reference=posting.entry.reference,
    )


def release_matured(now: datetime | None = None, limit: int = 500) -> int:
    """Release every matured held amount; returns how many. Safe to run concurrently:
    each release is keyed by the posting and the clearing link is unique."""
    released = 0
    for posting in list(matured_postings(now).select_related("account__owner", "entry")[:limit]):
        try:
            with transaction.atomic():
                release_held(posting)
            released += 1
        except (IntegrityError, ApplicationError):
            # Released by a concurrent run, or the hold was reversed meanwhile.
            log.info("hold release skipped posting_id=%s", posting.pk)
    return released
