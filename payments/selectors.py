"""Reads of payments, scoped to the viewer (someone else's record is simply not there)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet, Sum
from django.utils import timezone

from .models import (
    AccountKind,
    Charge,
    Invoice,
    LedgerAccount,
    PaymentMethod,
    Payout,
    PayoutMethod,
    PayoutSchedule,
    Posting,
    Refund,
)

if TYPE_CHECKING:
    from accounts.models import User

# The accounts a user sees in their history, as they are called on the pages.
USER_ACCOUNT_LABELS = {
    AccountKind.FREELANCER_PENDING: "Pending",
    AccountKind.FREELANCER_AVAILABLE: "Available",
    AccountKind.PAYOUTS_IN_TRANSIT: "Withdrawal in transit",
    AccountKind.CLIENT_CREDIT: "Credit",
}


@dataclass(frozen=True)
class Hold:
    amount_cents: int
    available_at: datetime
    memo: str


@dataclass(frozen=True)
class BalanceSummary:
    currency: str
    available_cents: int
    pending_cents: int
    in_transit_cents: int
    holds: list[Hold]
    payout_min_cents: int


def balance_summary(user: User) -> BalanceSummary:
    """The freelancer's balances (cached, no lock) and each held amount's release date."""
    balances = dict(LedgerAccount.objects.filter(owner=user).values_list("kind", "balance_cents"))
    holds = [
        Hold(amount_cents=p.amount_cents, available_at=p.available_at, memo=p.entry.memo)
        for p in Posting.objects.filter(
            account__kind=AccountKind.FREELANCER_PENDING,
            account__owner=user,
            amount_cents__gt=0,
            cleared_by__isnull=True,
        )
        .select_related("entry")
        .order_by("available_at", "pk")
        if p.available_at is not None
    ]
    return BalanceSummary(
        currency=settings.CURRENCY,
        available_cents=int(balances.get(AccountKind.FREELANCER_AVAILABLE, 0)),
        pending_cents=int(balances.get(AccountKind.FREELANCER_PENDING, 0)),
        in_transit_cents=int(balances.get(AccountKind.PAYOUTS_IN_TRANSIT, 0)),
        holds=holds,
        payout_min_cents=settings.PAYOUT_MIN_CENTS,
    )


def payout_methods_for(user: User) -> QuerySet[PayoutMethod]:
    return (
        PayoutMethod.objects.filter(user=user)
        .exclude(status=PayoutMethod.Status.REMOVED)
        .order_by("-created_at")
    )


def usable_payout_methods(user: User) -> list[PayoutMethod]:
    now = timezone.now()
    return [m for m in payout_methods_for(user) if m.is_usable(now)]


def payouts_for(user: User) -> QuerySet[Payout]:
    return Payout.objects.filter(user=user).select_related("method").order_by("-requested_at", "-pk")


def payout_get_for_user(user: User, payout_id: int) -> Payout | None:
    return payouts_for(user).filter(pk=payout_id).first()


def payout_schedule_for(user: User) -> PayoutSchedule:
    return PayoutSchedule.objects.filter(user=user).select_related("method").first() or PayoutSchedule(
        user=user
    )


def cards_for(user: User) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user=user, removed_at__isnull=True).order_by(
        "-is_default", "-created_at"
    )


def charges_for(user: User) -> QuerySet[Charge]:
    return (
        Charge.objects.filter(payer=user)
        .select_related("payment_method")
        .annotate(refunded_cents=Sum("refunds__amount_cents"))
        .order_by("-created_at", "-pk")
    )


def transactions_for(
    user: User,
    *,
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Posting]:
    """Every posting on the user's own accounts, newest first, filtered by account kind
    and by date (inclusive, UTC days)."""
    qs = (
        Posting.objects.filter(account__owner=user, account__kind__in=list(USER_ACCOUNT_LABELS))
        .select_related("entry", "account")
        .order_by("-created_at", "-pk")
    )
    if kind:
        qs = qs.filter(account__kind=kind)
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        qs = qs.filter(created_at__lte=datetime.combine(date_to, time.max, tzinfo=UTC))
    return qs


def charge_for_reference(purpose: str, reference: str) -> Charge | None:
    """The live (processing or succeeded) charge for a purpose and reference, if any; for
    the app that asked for it (e.g. contracts finding a milestone's funding charge)."""
    return (
        Charge.objects.filter(
            purpose=purpose, reference=reference, status__in=[Charge.Status.RESERVED, Charge.Status.SUCCEEDED]
        )
        .select_related("payment_method")
        .first()
    )


def escrow_releases(references: Iterable[str]) -> list[tuple[str, int, datetime]]:
    """Money released from escrow to a payee, for the app that owns the escrow references
    ("contract:17"): one ``(reference, gross cents, when)`` per journal entry, e.g. for
    earnings and spend figures. A release is an entry that takes money out of the escrow
    account into a freelancer's pending balance; a reversed release counts negative;
    refunds to the payer touch no freelancer balance and are left out. One query."""
    refs = sorted(set(references))
    if not refs:
        return []
    to_payee = Posting.objects.filter(
        entry_id=OuterRef("entry_id"),
        account__kind__in=[AccountKind.FREELANCER_PENDING, AccountKind.AGENCY_PENDING],  # or the agency's
    )
    rows = (
        Posting.objects.filter(account__kind=AccountKind.ESCROW, account__reference__in=refs)
        .filter(Exists(to_payee))
        .order_by("created_at", "pk")
        .values_list("account__reference", "amount_cents", "created_at")
    )
    return [(reference, -int(amount), at) for reference, amount, at in rows]


# --- invoices ----------------------------------------------------------------------------------


def invoice_get_for_user(user: User, number: str) -> Invoice | None:
    """The user's own invoice by number (someone else's is simply not there)."""
    return (
        Invoice.objects.filter(recipient=user, number=number)
        .select_related("recipient", "charge__payment_method", "payout__method", "entry")
        .first()
    )


@dataclass(frozen=True)
class InvoiceLine:
    label: str
    amount_cents: int


@dataclass(frozen=True)
class InvoiceDocument:
    title: str
    paid_at: datetime | None
    description: str
    reference: str
    lines: list[InvoiceLine]
    total_label: str
    total_cents: int
    card: str = ""  # "Visa ending 4242"
    paid_to: str = ""  # a withdrawal's payout method
    refunded_cents: int = 0


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    """What an invoice shows: its lines add up to the total (integer cents)."""
    if invoice.kind == Invoice.Kind.PAYMENT and invoice.charge is not None:
        charge = invoice.charge
        method = charge.payment_method
        refunded = (
            Refund.objects.filter(charge=charge, status=Refund.Status.SUCCEEDED).aggregate(
                total=Sum(F("amount_cents") + F("fee_cents"))
            )["total"]
            or 0
        )
        return InvoiceDocument(
            title="Payment receipt",
            paid_at=charge.settled_at,
            description=charge.description or f"Payment ({charge.purpose.replace('_', ' ')})",
            reference=charge.reference,
            lines=[
                InvoiceLine("Amount", charge.amount_cents),
                InvoiceLine("Marketplace fee", charge.client_fee_cents),
            ],
            total_label="Total charged",
            total_cents=charge.total_cents,
            card=f"{method.brand.title()} ending {method.last4}" if method else "",
            refunded_cents=int(refunded),
        )
    if invoice.kind == Invoice.Kind.EARNINGS and invoice.entry is not None:
        entry = invoice.entry
        postings = list(entry.postings.select_related("account"))
        net = sum(
            p.amount_cents
            for p in postings
            if p.account.kind == AccountKind.FREELANCER_PENDING and p.amount_cents > 0
        )
        fee = sum(p.amount_cents for p in postings if p.account.kind == AccountKind.PLATFORM_FEES)
        return InvoiceDocument(
            title="Earnings receipt",
            paid_at=entry.created_at,
            description=entry.memo,
            reference=entry.reference,
            lines=[InvoiceLine("Gross amount", net + fee), InvoiceLine("Service fee", -fee)],
            total_label="Net earnings",
            total_cents=net,
        )
    payout = invoice.payout
    assert payout is not None
    return InvoiceDocument(
        title="Withdrawal receipt",
        paid_at=payout.paid_at,
        description="Withdrawal of available earnings",
        reference=f"payout:{payout.pk}",
        lines=[InvoiceLine("Withdrawal", payout.amount_cents), InvoiceLine("Service fee", 0)],
        total_label="Net paid out",
        total_cents=payout.amount_cents,
        paid_to=str(payout.method),
    )
