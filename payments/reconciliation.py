"""Ledger against gateway records: what the provider did versus what the ledger says.

For each charge, refund and payout the ledger entries its status requires must exist with
the amounts of the record, and every gateway-side entry must belong to a record in the
matching status. Each mismatch is one ``Mismatch``; an empty list means they agree.
Shown to staff on the admin's reconciliation page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum

from .models import AccountKind, Charge, JournalEntry, Payout, Posting, Refund

MAX_PER_CHECK = 500


@dataclass(frozen=True)
class Mismatch:
    record: str  # "charge", "refund", "payout" or "entry"
    record_id: int
    problem: str


@dataclass(frozen=True)
class Summary:
    label: str
    records: int
    gateway_cents: int
    ledger_cents: int

    @property
    def difference_cents(self) -> int:
        return self.gateway_cents - self.ledger_cents


def _clearing_by_key(keys: Iterable[str]) -> dict[str, int]:
    """The gateway-clearing amount of each entry key (its absolute value)."""
    rows = (
        Posting.objects.filter(
            entry__idempotency_key__in=list(keys), account__kind=AccountKind.GATEWAY_CLEARING
        )
        .values("entry__idempotency_key")
        .annotate(total=Sum("amount_cents"))
        .values_list("entry__idempotency_key", "total")
    )
    return {key: abs(int(total)) for key, total in rows}


def _entry_keys(suffix: str, purpose: str | None = None) -> set[str]:
    qs = JournalEntry.objects.filter(idempotency_key__endswith=suffix)
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    return set(qs.values_list("idempotency_key", flat=True))


def _charges(found: list[Mismatch], summaries: list[Summary]) -> None:
    succeeded = list(
        Charge.objects.filter(status=Charge.Status.SUCCEEDED).values_list(
            "pk", "idempotency_key", "amount_cents", "client_fee_cents"
        )
    )
    keys = {f"{key}:settled": (pk, amount + fee) for pk, key, amount, fee in succeeded}
    posted = _clearing_by_key(keys)
    for key, (pk, total) in keys.items():
        if key not in posted:
            found.append(Mismatch("charge", pk, f"succeeded ({total} cents) but no ledger entry {key}"))
        elif posted[key] != total:
            found.append(
                Mismatch("charge", pk, f"charged {total} cents but the ledger took in {posted[key]}")
            )
    others = dict(Charge.objects.exclude(status=Charge.Status.SUCCEEDED).values_list("idempotency_key", "pk"))
    for key in _entry_keys(":settled"):
        if not key.startswith("charge:") or key in keys:
            continue
        charge_key = key.removesuffix(":settled")
        other_pk = others.get(charge_key)
        if other_pk is not None:
            found.append(Mismatch("charge", other_pk, f"not succeeded but the ledger has {key}"))
        else:
            entry_id = JournalEntry.objects.filter(idempotency_key=key).values_list("pk", flat=True).first()
            found.append(Mismatch("entry", entry_id or 0, f"{key} has no charge"))
    summaries.append(
        Summary(
            "Charges succeeded",
            len(keys),
            sum(total for _, total in keys.values()),
            sum(posted.get(k, 0) for k in keys),
        )
    )


def _refunds(found: list[Mismatch], summaries: list[Summary]) -> None:
    rows = list(Refund.objects.values_list("pk", "idempotency_key", "status", "amount_cents", "fee_cents"))
    settled_keys = {f"{key}:settled" for _, key, *_ in rows}
    posted = _clearing_by_key(settled_keys)
    reserved = _entry_keys(":reserved")
    failed = _entry_keys(":failed")
    gateway_total = ledger_total = count = 0
    for pk, key, status, amount, fee in rows:
        total = amount + fee
        if f"{key}:reserved" not in reserved:
            found.append(Mismatch("refund", pk, f"no reservation entry {key}:reserved"))
        if status == Refund.Status.SUCCEEDED:
            count += 1
            gateway_total += total
            ledger_total += posted.get(f"{key}:settled", 0)
            if f"{key}:settled" not in posted:
                found.append(
                    Mismatch("refund", pk, f"succeeded ({total} cents) but no ledger entry {key}:settled")
                )
            elif posted[f"{key}:settled"] != total:
                found.append(
                    Mismatch(
                        "refund",
                        pk,
                        f"refunded {total} cents but the ledger paid out {posted[f'{key}:settled']}",
                    )
                )
        elif f"{key}:settled" in posted:
            found.append(Mismatch("refund", pk, f"{status} but the ledger has {key}:settled"))
        if status == Refund.Status.FAILED and f"{key}:failed" not in failed:
            found.append(Mismatch("refund", pk, "failed but its reservation was not reversed"))
    summaries.append(Summary("Refunds succeeded", count, gateway_total, ledger_total))


def _payouts(found: list[Mismatch], summaries: list[Summary]) -> None:
    rows = list(Payout.objects.values_list("pk", "status", "amount_cents"))
    keys = set(
        JournalEntry.objects.filter(purpose="payout", idempotency_key__startswith="payout:").values_list(
            "idempotency_key", flat=True
        )
    )
    paid_keys = {f"payout:{pk}:paid" for pk, status, _ in rows}
    posted = _clearing_by_key(paid_keys)
    gateway_total = ledger_total = count = 0
    for pk, status, amount in rows:
        ref = f"payout:{pk}"
        if f"{ref}:requested" not in keys:
            found.append(Mismatch("payout", pk, f"no ledger entry {ref}:requested"))
        if status == Payout.Status.PAID:
            count += 1
            gateway_total += amount
            ledger_total += posted.get(f"{ref}:paid", 0)
            if f"{ref}:paid" not in posted:
                found.append(Mismatch("payout", pk, f"paid ({amount} cents) but no ledger entry {ref}:paid"))
            elif posted[f"{ref}:paid"] != amount:
                found.append(
                    Mismatch(
                        "payout", pk, f"paid {amount} cents but the ledger paid out {posted[f'{ref}:paid']}"
                    )
                )
        elif status == Payout.Status.FAILED:
            if f"{ref}:failed" not in keys and f"{ref}:returned" not in keys:
                found.append(Mismatch("payout", pk, "failed but the money was not put back to available"))
        elif f"{ref}:paid" in keys:
            found.append(Mismatch("payout", pk, f"{status} but the ledger has {ref}:paid"))
    summaries.append(Summary("Withdrawals paid", count, gateway_total, ledger_total))


def reconcile() -> tuple[list[Summary], list[Mismatch]]:
    """Totals per record type (gateway vs ledger) and every mismatch found."""
    found: list[Mismatch] = []
    summaries: list[Summary] = []
    _charges(found, summaries)
    _refunds(found, summaries)
    _payouts(found, summaries)
    return summaries, found[: MAX_PER_CHECK * 3]
