"""The user's money history as they read it: movements, monthly statements and the
12-month chart. Reads only, scoped to the user.

Sources of a user's movements:

- postings on their own ledger accounts (pending, available, withdrawals in transit,
  credit): releases, bonuses, hold releases, withdrawals, adjustments, reversals. A
  release is shown as two rows, the gross amount and the service fee, which add up to the
  posting, so the rows of an account always add up to its ledger balance;
- their succeeded charges as a client (the payment and the marketplace fee as two rows)
  and succeeded refunds (the amount and the refunded fee): the "spend" of a client is not
  a ledger account of theirs (the money goes to escrow), so it is read from the gateway
  records the ledger entries belong to.

Amounts are signed from the user's point of view: positive in, negative out. One
paginated, date-ordered ``UNION`` of the three sources keeps pages cheap; each page is
then filled with one query per source.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from marketplace.ids import as_id

from .models import AccountKind, Charge, Invoice, Posting, Refund

if TYPE_CHECKING:
    from accounts.models import User

SPEND = "spend"  # a client's payments: not a ledger account of theirs


class MovementType(models.TextChoices):
    PAYMENT = "payment", "Payment"  # a client's card charged (into escrow)
    FEE = "fee", "Fee"  # a marketplace or service fee (or its refund)
    REFUND = "refund", "Refund"  # money back to a client's card
    RELEASE = "release", "Release"  # escrow released into the pending balance (gross)
    BONUS = "bonus", "Bonus"  # a release made as a bonus
    HOLD_RELEASE = "hold_release", "Security hold ended"  # pending -> available
    PAYOUT = "payout", "Withdrawal"  # available -> bank, and back when it fails
    ADJUSTMENT = "adjustment", "Adjustment"  # a staff correction
    REVERSAL = "reversal", "Reversal"  # an entry cancelled by its opposite
    OTHER = "other", "Other"  # anything else on the user's accounts


ACCOUNT_LABELS: dict[str, str] = {
    AccountKind.FREELANCER_PENDING: "Pending",
    AccountKind.FREELANCER_AVAILABLE: "Available",
    AccountKind.PAYOUTS_IN_TRANSIT: "Withdrawal in transit",
    AccountKind.CLIENT_CREDIT: "Credit",
    SPEND: "Spend",
}
OWNED = [
    AccountKind.FREELANCER_PENDING,
    AccountKind.FREELANCER_AVAILABLE,
    AccountKind.PAYOUTS_IN_TRANSIT,
    AccountKind.CLIENT_CREDIT,
]
_SPECIAL_PURPOSES = ("hold_release", "payout", "manual_adjustment")


@dataclass(frozen=True)
class Movement:
    at: datetime
    type: str
    account: str  # an AccountKind value or SPEND
    description: str
    reference: str
    amount_cents: int  # signed: positive in, negative out
    available_at: datetime | None = None
    # What the receipt is for: ("payment", charge id), ("earnings", entry id), ("payout", id).
    receipt: tuple[str, int] | None = None

    @property
    def type_label(self) -> str:
        return MovementType(self.type).label

    @property
    def account_label(self) -> str:
        return ACCOUNT_LABELS.get(self.account, self.account)


@dataclass(frozen=True)
class Filters:
    type: str = ""
    account: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # Half-open datetime bounds (statements use these instead of days).
    start: datetime | None = None
    end: datetime | None = None


# --- sources -----------------------------------------------------------------------------------


def _fee_subquery() -> Subquery:
    return Subquery(
        Posting.objects.filter(entry=OuterRef("entry"), account__kind=AccountKind.PLATFORM_FEES)
        .values("entry")
        .annotate(total=Sum("amount_cents"))
        .values("total")[:1],
        output_field=models.BigIntegerField(),
    )


_EARNING = Q(
    account__kind=AccountKind.FREELANCER_PENDING,
    amount_cents__gt=0,
    entry__reverses__isnull=True,
) & ~Q(entry__purpose__in=_SPECIAL_PURPOSES)


def _posting_type_q(kind: str) -> Q | None:
    """The postings that give rows of ``kind`` (None: no posting does)."""
    special = Q(entry__purpose__in=_SPECIAL_PURPOSES)
    if kind == MovementType.HOLD_RELEASE:
        return Q(entry__purpose="hold_release")
    if kind == MovementType.PAYOUT:
        return Q(entry__purpose="payout")
    if kind == MovementType.ADJUSTMENT:
        return Q(entry__purpose="manual_adjustment")
    if kind == MovementType.REVERSAL:
        return Q(entry__reverses__isnull=False) & ~special
    if kind == MovementType.RELEASE:
        return _EARNING & ~Q(entry__purpose__icontains="bonus")
    if kind == MovementType.BONUS:
        return _EARNING & Q(entry__purpose__icontains="bonus")
    if kind == MovementType.FEE:
        return _EARNING & Q(fee_cents__gt=0)
    if kind == MovementType.OTHER:
        return ~special & Q(entry__reverses__isnull=True) & ~_EARNING
    return None


def _bounds(filters: Filters) -> tuple[datetime | None, datetime | None, bool]:
    """(start, end, end_inclusive) in UTC."""
    if filters.start or filters.end:
        return filters.start, filters.end, False
    start = datetime.combine(filters.date_from, time.min, tzinfo=UTC) if filters.date_from else None
    end = datetime.combine(filters.date_to, time.max, tzinfo=UTC) if filters.date_to else None
    return start, end, True


def _dated(qs: QuerySet, column: str, filters: Filters) -> QuerySet:
    start, end, inclusive = _bounds(filters)
    if start:
        qs = qs.filter(**{f"{column}__gte": start})
    if end:
        qs = qs.filter(**{f"{column}__{'lte' if inclusive else 'lt'}": end})
    return qs


def postings_source(user: User, filters: Filters) -> QuerySet[Posting]:
    qs = Posting.objects.filter(account__owner=user, account__kind__in=OWNED).annotate(
        fee_cents=Coalesce(_fee_subquery(), 0)
    )
    if filters.account:
        if filters.account not in OWNED:
            return qs.none()
        qs = qs.filter(account__kind=filters.account)
    if filters.type:
        condition = _posting_type_q(filters.type)
        if condition is None:
            return qs.none()
        qs = qs.filter(condition)
    return _dated(qs, "created_at", filters)


_CLIENT_TYPES = {MovementType.PAYMENT, MovementType.FEE, MovementType.BONUS}
_REFUND_TYPES = {MovementType.REFUND, MovementType.FEE}


def charges_source(user: User, filters: Filters) -> QuerySet[Charge]:
    qs = Charge.objects.filter(payer=user, status=Charge.Status.SUCCEEDED, settled_at__isnull=False)
    if (filters.account and filters.account != SPEND) or (filters.type and filters.type not in _CLIENT_TYPES):
        return qs.none()
    if filters.type == MovementType.FEE:
        qs = qs.filter(client_fee_cents__gt=0)
    elif filters.type == MovementType.BONUS:
        qs = qs.filter(purpose__icontains="bonus")
    elif filters.type == MovementType.PAYMENT:
        qs = qs.exclude(purpose__icontains="bonus")
    return _dated(qs, "settled_at", filters)


def refunds_source(user: User, filters: Filters) -> QuerySet[Refund]:
    qs = Refund.objects.filter(charge__payer=user, status=Refund.Status.SUCCEEDED, settled_at__isnull=False)
    if (filters.account and filters.account != SPEND) or (filters.type and filters.type not in _REFUND_TYPES):
        return qs.none()
    if filters.type == MovementType.FEE:
        qs = qs.filter(fee_cents__gt=0)
    return _dated(qs, "settled_at", filters)


def _keys(qs: QuerySet, column: str, source: str) -> QuerySet:
    # Default orderings are cleared: a compound statement orders only as a whole.
    return (
        qs.order_by()
        .annotate(ts=F(column), src=Value(source, output_field=models.CharField(max_length=1)), rid=F("pk"))
        .values_list("ts", "src", "rid")
    )


def movement_keys(user: User, filters: Filters, *, oldest_first: bool = False) -> QuerySet:
    """(timestamp, source, id) of every record with rows for the user, newest first."""
    order = ("ts", "src", "rid") if oldest_first else ("-ts", "-src", "-rid")
    return (
        _keys(postings_source(user, filters), "created_at", "p")
        .union(
            _keys(charges_source(user, filters), "settled_at", "c"),
            _keys(refunds_source(user, filters), "settled_at", "r"),
            all=True,
        )
        .order_by(*order)
    )


# --- rows -----------------------------------------------------------------------------------------


def _wants(filters: Filters, kind: str) -> bool:
    return not filters.type or filters.type == kind


def _posting_rows(posting: Any, filters: Filters) -> list[Movement]:
    entry = posting.entry
    kind = posting.account.kind
    common: dict[str, Any] = {
        "at": posting.created_at,
        "account": kind,
        "reference": entry.reference,
        "description": entry.memo,
    }
    purpose = entry.purpose
    if purpose == "hold_release":
        return [Movement(type=MovementType.HOLD_RELEASE, amount_cents=posting.amount_cents, **common)]
    if purpose == "payout":
        payout_id = _payout_id(entry.reference)
        receipt = ("payout", payout_id) if payout_id and entry.idempotency_key.endswith(":paid") else None
        return [
            Movement(type=MovementType.PAYOUT, amount_cents=posting.amount_cents, receipt=receipt, **common)
        ]
    if purpose == "manual_adjustment":
        return [Movement(type=MovementType.ADJUSTMENT, amount_cents=posting.amount_cents, **common)]
    if entry.reverses_id is not None:
        return [Movement(type=MovementType.REVERSAL, amount_cents=posting.amount_cents, **common)]
    if kind == AccountKind.FREELANCER_PENDING and posting.amount_cents > 0:
        fee = int(posting.fee_cents or 0)
        kind_of = MovementType.BONUS if "bonus" in purpose else MovementType.RELEASE
        receipt = ("earnings", entry.pk)
        rows = []
        if _wants(filters, kind_of):
            rows.append(
                Movement(
                    type=kind_of,
                    amount_cents=posting.amount_cents + fee,
                    available_at=posting.available_at,
                    receipt=receipt,
                    **common,
                )
            )
        if fee and _wants(filters, MovementType.FEE):
            rows.append(
                Movement(
                    type=MovementType.FEE,
                    amount_cents=-fee,
                    receipt=receipt,
                    **{**common, "description": "Service fee"},
                )
            )
        return rows
    return [Movement(type=MovementType.OTHER, amount_cents=posting.amount_cents, **common)]


def _payout_id(reference: str) -> int | None:
    prefix, _, number = reference.partition(":")
    return as_id(number) if prefix == "payout" else None


def _charge_rows(charge: Charge, filters: Filters) -> list[Movement]:
    common: dict[str, Any] = {
        "at": charge.settled_at,
        "account": SPEND,
        "reference": charge.reference,
        "receipt": ("payment", charge.pk),
    }
    kind = MovementType.BONUS if "bonus" in charge.purpose else MovementType.PAYMENT
    rows = []
    if _wants(filters, kind):
        rows.append(
            Movement(
                type=kind,
                amount_cents=-charge.amount_cents,
                description=charge.description or f"Payment for {charge.reference}",
                **common,
            )
        )
    if charge.client_fee_cents and _wants(filters, MovementType.FEE):
        rows.append(
            Movement(
                type=MovementType.FEE,
                amount_cents=-charge.client_fee_cents,
                description="Marketplace fee",
                **common,
            )
        )
    return rows


def _refund_rows(refund: Refund, filters: Filters) -> list[Movement]:
    common: dict[str, Any] = {
        "at": refund.settled_at,
        "account": SPEND,
        "reference": refund.charge.reference,
        "receipt": ("payment", refund.charge_id),
    }
    rows = []
    if _wants(filters, MovementType.REFUND):
        rows.append(
            Movement(
                type=MovementType.REFUND,
                amount_cents=refund.amount_cents,
                description=refund.reason or f"Refund for {refund.charge.reference}",
                **common,
            )
        )
    if refund.fee_cents and _wants(filters, MovementType.FEE):
        rows.append(
            Movement(
                type=MovementType.FEE,
                amount_cents=refund.fee_cents,
                description="Marketplace fee refunded",
                **common,
            )
        )
    return rows


def hydrate(user: User, keys: Iterable[tuple[Any, str, int]], filters: Filters) -> list[Movement]:
    """The rows of one batch of keys, in the keys' order (three queries)."""
    keys = list(keys)
    ids: dict[str, list[int]] = {"p": [], "c": [], "r": []}
    for _, src, rid in keys:
        ids[src].append(rid)
    postings = (
        {
            p.pk: p
            for p in postings_source(user, Filters())
            .filter(pk__in=ids["p"])
            .select_related("entry", "account")
        }
        if ids["p"]
        else {}
    )
    charges = {c.pk: c for c in Charge.objects.filter(pk__in=ids["c"], payer=user)} if ids["c"] else {}
    refunds = (
        {r.pk: r for r in Refund.objects.filter(pk__in=ids["r"], charge__payer=user).select_related("charge")}
        if ids["r"]
        else {}
    )
    rows: list[Movement] = []
    for _, src, rid in keys:
        if src == "p" and rid in postings:
            rows.extend(_posting_rows(postings[rid], filters))
        elif src == "c" and rid in charges:
            rows.extend(_charge_rows(charges[rid], filters))
        elif src == "r" and rid in refunds:
            rows.extend(_refund_rows(refunds[rid], filters))
    return rows


def iter_movements(
    user: User, filters: Filters, *, oldest_first: bool = False, batch: int = 500
) -> Iterator[Movement]:
    """Every row, newest first, in batches (for CSV export and statements)."""
    keys = movement_keys(user, filters, oldest_first=oldest_first)
    offset = 0
    while True:
        chunk = list(keys[offset : offset + batch])
        if not chunk:
            return
        yield from hydrate(user, chunk, filters)
        offset += batch


# --- statements -------------------------------------------------------------------------------------


@dataclass
class StatementAccount:
    account: str
    opening_cents: int
    closing_cents: int
    rows: list[Movement] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ACCOUNT_LABELS.get(self.account, self.account)

    @property
    def change_cents(self) -> int:
        return self.closing_cents - self.opening_cents


@dataclass
class Statement:
    year: int
    month: int
    start: datetime
    end: datetime
    accounts: list[StatementAccount]

    @property
    def has_movements(self) -> bool:
        return any(a.rows for a in self.accounts)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _spend_before(user: User, moment: datetime) -> int:
    """A client's spend before ``moment``: charges with fees minus refunds with fees."""
    charged = Charge.objects.filter(
        payer=user, status=Charge.Status.SUCCEEDED, settled_at__lt=moment
    ).aggregate(total=Coalesce(Sum(F("amount_cents") + F("client_fee_cents")), 0))["total"]
    refunded = Refund.objects.filter(
        charge__payer=user, status=Refund.Status.SUCCEEDED, settled_at__lt=moment
    ).aggregate(total=Coalesce(Sum(F("amount_cents") + F("fee_cents")), 0))["total"]
    return int(charged) - int(refunded)


def statement_for(user: User, year: int, month: int) -> Statement:
    """Opening balance, every movement (oldest first) and closing balance of each of the
    user's accounts for one calendar month (UTC). Spend counts up: payments and fees add,
    refunds subtract."""
    start, end = month_bounds(year, month)
    kinds: list[str] = []
    if user.is_freelancer:
        kinds += [AccountKind.FREELANCER_PENDING, AccountKind.FREELANCER_AVAILABLE]
    used = set(
        Posting.objects.filter(account__owner=user, account__kind__in=OWNED, created_at__lt=end)
        .values_list("account__kind", flat=True)
        .distinct()
    )
    kinds += [k for k in OWNED if k in used and k not in kinds]
    has_spend = user.is_client or Charge.objects.filter(payer=user, status=Charge.Status.SUCCEEDED).exists()
    openings = dict(
        Posting.objects.filter(account__owner=user, account__kind__in=kinds, created_at__lt=start)
        .values("account__kind")
        .annotate(total=Sum("amount_cents"))
        .values_list("account__kind", "total")
    )
    accounts = {
        k: StatementAccount(account=k, opening_cents=int(openings.get(k) or 0), closing_cents=0)
        for k in kinds
    }
    if has_spend:
        accounts[SPEND] = StatementAccount(
            account=SPEND, opening_cents=_spend_before(user, start), closing_cents=0
        )
    for row in iter_movements(user, Filters(start=start, end=end), oldest_first=True):
        if row.account in accounts:
            accounts[row.account].rows.append(row)
    for item in accounts.values():
        sign = -1 if item.account == SPEND else 1
        item.closing_cents = item.opening_cents + sign * sum(r.amount_cents for r in item.rows)
    return Statement(year=year, month=month, start=start, end=end, accounts=list(accounts.values()))


def statement_months(user: User, now: datetime | None = None, count: int = 12) -> list[tuple[int, int]]:
    """The last ``count`` calendar months, newest first."""
    now = now or timezone.now()
    year, month = now.year, now.month
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


# --- the dashboard chart ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthTotal:
    month: date
    cents: int


def monthly_totals(user: User, *, role: str, now: datetime | None = None) -> list[MonthTotal]:
    """The last 12 months (oldest first) of a freelancer's earnings (net amounts released
    to them) or a client's spend (payments with fees, less refunds)."""
    months = [date(y, m, 1) for y, m in reversed(statement_months(user, now))]
    start = datetime.combine(months[0], time.min, tzinfo=UTC)
    totals: dict[date, int] = dict.fromkeys(months, 0)

    def add(rows: Iterable[tuple[Any, Any]], sign: int = 1) -> None:
        for moment, cents in rows:
            if moment is None:
                continue
            key = date(moment.year, moment.month, 1)
            if key in totals:
                totals[key] += sign * int(cents or 0)

    if role == "freelancer":
        add(
            Posting.objects.filter(account__owner=user, created_at__gte=start)
            .filter(_EARNING)
            .annotate(m=TruncMonth("created_at", tzinfo=UTC))
            .values("m")
            .annotate(total=Sum("amount_cents"))
            .values_list("m", "total")
        )
    else:
        add(
            Charge.objects.filter(payer=user, status=Charge.Status.SUCCEEDED, settled_at__gte=start)
            .annotate(m=TruncMonth("settled_at", tzinfo=UTC))
            .values("m")
            .annotate(total=Sum(F("amount_cents") + F("client_fee_cents")))
            .values_list("m", "total")
        )
        add(
            Refund.objects.filter(charge__payer=user, status=Refund.Status.SUCCEEDED, settled_at__gte=start)
            .annotate(m=TruncMonth("settled_at", tzinfo=UTC))
            .values("m")
            .annotate(total=Sum(F("amount_cents") + F("fee_cents")))
            .values_list("m", "total"),
            sign=-1,
        )
    return [MonthTotal(month=m, cents=totals[m]) for m in months]


def invoices_for(user: User) -> QuerySet[Invoice]:
    return Invoice.objects.filter(recipient=user).order_by("-issued_at", "-pk")
