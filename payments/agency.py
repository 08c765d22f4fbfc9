"""An agency's money: its balances in the ledger and the owner's distributions to members.

An agency contract's releases credit ``agency_pending`` (reference ``agency:<id>``) under
the usual security hold (``services.escrow_release(agency_id=...)``); the hold task moves
matured amounts to ``agency_available`` (``ledger.release_matured``). The owner then
distributes: one balanced entry ``agency_available -> member's freelancer_available``,
keyed by the owner's idempotency key. Members withdraw through the ordinary payouts.

Payments does not know contracts; it reads the agency's membership from ``accounts``
(below it), which owns agencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Min, Sum
from django.urls import reverse

from accounts.models import Agency, AgencyMembership, AgencyRole
from accounts.services import require_can_act
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.money import format_cents

from . import ledger
from .ledger import Line
from .models import AccountKind, JournalEntry, Posting
from .services import clean_amount, clean_reference

if TYPE_CHECKING:
    from accounts.models import User

DISTRIBUTION_PURPOSE = "agency_distribution"


def agency_reference(agency_id: int) -> str:
    """The reference of an agency's ledger accounts."""
    return f"agency:{int(agency_id)}"


# --- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyBalance:
    pending_cents: int  # in the security hold
    available_cents: int  # the owner may distribute it
    next_available_at: datetime | None  # when the earliest held amount matures


def agency_balance(*, agency_id: int) -> AgencyBalance:
    reference = agency_reference(agency_id)
    held = Posting.objects.filter(
        account__kind=AccountKind.AGENCY_PENDING,
        account__reference=reference,
        amount_cents__gt=0,
        cleared_by__isnull=True,
    ).aggregate(first=Min("available_at"))
    return AgencyBalance(
        pending_cents=ledger.balance(AccountKind.AGENCY_PENDING, reference=reference),
        available_cents=ledger.balance(AccountKind.AGENCY_AVAILABLE, reference=reference),
        next_available_at=held["first"],
    )


def agency_total_earned_cents(*, agency_id: int) -> int:
    """Net earnings credited to the agency (after the service fee, less reversals): every
    posting into its pending account except the hold's own maturing moves."""
    total = (
        Posting.objects.filter(
            account__kind=AccountKind.AGENCY_PENDING, account__reference=agency_reference(agency_id)
        )
        .exclude(entry__purpose="hold_release")
        .aggregate(total=Sum("amount_cents"))["total"]
    )
    return int(total or 0)


@dataclass(frozen=True)
class Distribution:
    entry_id: int
    member_id: int
    member_name: str
    amount_cents: int
    created_at: datetime
    by_name: str


def agency_distributions(
    *, agency_id: int, limit: int = 100, entry_id: int | None = None
) -> list[Distribution]:
    """The agency's distributions (or the one of ``entry_id``), newest first (two queries)."""
    qs = JournalEntry.objects.filter(purpose=DISTRIBUTION_PURPOSE, reference=agency_reference(agency_id))
    if entry_id is not None:
        qs = qs.filter(pk=entry_id)
    entries = list(qs.select_related("created_by").order_by("-created_at", "-pk")[:limit])
    to_member = {
        p.entry_id: p
        for p in Posting.objects.filter(
            entry__in=entries, account__kind=AccountKind.FREELANCER_AVAILABLE
        ).select_related("account__owner")
    }
    rows = []
    for entry in entries:
        posting = to_member.get(entry.pk)
        if posting is None or posting.account.owner is None:
            continue
        rows.append(
            Distribution(
                entry_id=entry.pk,
                member_id=posting.account.owner_id or 0,
                member_name=posting.account.owner.display_name,
                amount_cents=posting.amount_cents,
                created_at=entry.created_at,
                by_name=entry.created_by.display_name if entry.created_by else "",
            )
        )
    return rows


# --- writes ---------------------------------------------------------------------------------------


@transaction.atomic
def agency_distribute(
    *, actor: User, agency_id: int, member_id: int, amount_cents: int, idempotency_key: str
) -> JournalEntry:
    """The owner pays ``amount_cents`` of the agency's available balance to a member's
    available balance (withdrawable through the usual payouts). Locks the agency row, then
    (in ``post_entry``) the two ledger accounts. Idempotent by key: the same key again
    returns the entry posted first; with another member or amount, ``ConflictError``."""
    require_can_act(actor)
    try:
        agency_pk = int(agency_id)
    except (TypeError, ValueError):
        raise NotFoundError("No such agency.", code="agency_not_found")
    agency = Agency.objects.select_for_update().filter(pk=agency_pk).first()
    if agency is None:
        raise NotFoundError("No such agency.", code="agency_not_found")
    if not AgencyMembership.objects.filter(agency=agency, user=actor, role=AgencyRole.OWNER).exists():
        raise PermissionDeniedError(
            "Only the agency's owner can distribute its earnings.", code="agency_forbidden"
        )
    amount = clean_amount(amount_cents)
    key = f"agency-distribution:{agency.pk}:{clean_reference(idempotency_key, field='idempotency_key')}"
    try:
        member_pk = int(member_id)
    except (TypeError, ValueError):
        member_pk = 0
    member = (
        AgencyMembership.objects.filter(agency=agency, user_id=member_pk).select_related("user").first()
        if not isinstance(member_id, bool)
        else None
    )
    reference = agency_reference(agency.pk)
    available = ledger.account_for(AccountKind.AGENCY_AVAILABLE, reference=reference)
    existing = JournalEntry.objects.filter(idempotency_key=key).first()
    if existing is None:
        if member is None:
            raise ApplicationError(
                "Choose a current member of the agency.",
                code="not_agency_member",
                extra={"field": "member_id"},
            )
        if amount > available.balance_cents:
            raise ApplicationError(
                f"The agency has {format_cents(available.balance_cents, available.currency)} available; "
                f"you asked to distribute {format_cents(amount, available.currency)}.",
                code="insufficient_funds",
                extra={"field": "amount_cents", "available_cents": available.balance_cents},
            )
    # a replay of a distribution to a member who left since: the ledger compares the lines
    payee = member.user if member is not None else _user(member_pk)
    member_account = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=payee)
    entry = ledger.post_entry(
        key=key,
        memo=f"Distribution from {agency.name}",
        lines=[Line(available, -amount), Line(member_account, amount)],
        purpose=DISTRIBUTION_PURPOSE,
        reference=reference,
        actor=actor,
    )
    if existing is None:
        from messaging.models import NotificationKind
        from messaging.services import notify_on_commit

        assert member is not None
        notify_on_commit(
            recipient_id=member.user_id,
            kind=NotificationKind.PAYMENT,
            text=f"{agency.name} paid you {format_cents(amount)}: it is in your available balance.",
            url=reverse("payments:balance"),
        )
    return entry


def _user(user_id: int) -> User:
    from accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such member.", code="member_not_found")
    return user
