"""Ledger audit checks, run by ``manage.py ledger_audit``.

Each check is a function returning finding messages (an empty list when all is well).
Other apps add their own with ``register_check`` in ``AppConfig.ready``, e.g. contracts:
"escrow per contract equals funded minus released minus refunded milestones".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from marketplace.progress import Progress

from .models import NON_NEGATIVE_KINDS, AccountKind, JournalEntry, LedgerAccount, Posting

Check = Callable[[], Iterable[str]]

MAX_FINDINGS_PER_CHECK = 200


@dataclass(frozen=True)
class Finding:
    check: str
    message: str


def _entries_balanced() -> Iterable[str]:
    rows = (
        JournalEntry.objects.annotate(
            total=Coalesce(Sum("postings__amount_cents"), 0), lines=Count("postings")
        )
        .filter(~Q(total=0) | Q(lines__lt=2))
        .values_list("pk", "idempotency_key", "total", "lines")
        .order_by("pk")[:MAX_FINDINGS_PER_CHECK]
    )
    for pk, key, total, lines in rows:
        if lines < 2:
            yield f"entry #{pk} ({key}) has {lines} posting(s)"
        else:
            yield f"entry #{pk} ({key}) sums to {total} cents, not zero"


def _cached_balances() -> Iterable[str]:
    rows = (
        LedgerAccount.objects.annotate(posted=Coalesce(Sum("postings__amount_cents"), 0))
        .exclude(balance_cents=F("posted"))
        .values_list("pk", "kind", "reference", "owner_id", "balance_cents", "posted")
        .order_by("pk")[:MAX_FINDINGS_PER_CHECK]
    )
    for pk, kind, reference, owner_id, cached, posted in rows:
        yield (
            f"account #{pk} ({kind} {reference or owner_id or ''}) caches {cached} cents "
            f"but its postings sum to {posted}"
        )


def _no_negative_balances() -> Iterable[str]:
    rows = (
        LedgerAccount.objects.filter(kind__in=sorted(NON_NEGATIVE_KINDS))
        .annotate(posted=Coalesce(Sum("postings__amount_cents"), 0))
        .filter(Q(posted__lt=0) | Q(balance_cents__lt=0))
        .values_list("pk", "kind", "reference", "owner_id", "posted")
        .order_by("pk")[:MAX_FINDINGS_PER_CHECK]
    )
    for pk, kind, reference, owner_id, posted in rows:
        yield f"account #{pk} ({kind} {reference or owner_id or ''}) is negative: {posted} cents"


def _holds_cleared_once() -> Iterable[str]:
    rows = (
        Posting.objects.filter(clears__isnull=False)
        .exclude(amount_cents=-F("clears__amount_cents"), account_id=F("clears__account_id"))
        .values_list("pk", "clears_id")
        .order_by("pk")[:MAX_FINDINGS_PER_CHECK]
    )
    for pk, cleared in rows:
        yield f"posting #{pk} clears held posting #{cleared} with another amount or account"
    held_without_date = Posting.objects.filter(
        account__kind__in=[AccountKind.FREELANCER_PENDING, AccountKind.AGENCY_PENDING],
        amount_cents__gt=0,
        available_at__isnull=True,
    ).values_list("pk", flat=True)[:MAX_FINDINGS_PER_CHECK]
    for pk in held_without_date:
        yield f"held posting #{pk} has no release date"


_checks: dict[str, Check] = {
    "entries sum to zero": _entries_balanced,
    "cached balances equal postings": _cached_balances,
    "no negative escrow/pending/available": _no_negative_balances,
    "held amounts cleared once": _holds_cleared_once,
}


def register_check(name: str, func: Check) -> None:
    """Add (or replace) an audit check: ``func()`` returns finding messages."""
    _checks[name] = func


def unregister_check(name: str) -> None:
    _checks.pop(name, None)


def check_names() -> list[str]:
    return list(_checks)


def run_checks(stream: TextIO | None = None) -> list[Finding]:
    """Run every check, drawing a progress bar on ``stream`` when given."""
    findings: list[Finding] = []
    bar = Progress(len(_checks), "ledger audit", stream) if stream is not None else None
    for name, func in list(_checks.items()):
        try:
            findings.extend(Finding(name, message) for message in func())
        except Exception as error:  # a broken check is a finding, not a crash
            findings.append(Finding(name, f"the check failed: {type(error).__name__}: {error}"))
        if bar is not None:
            bar.advance()
    if bar is not None:
        bar.finish()
    return findings
