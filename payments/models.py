"""Money records: the double-entry ledger and what moved money through the gateway.

The ledger (``LedgerAccount``, ``JournalEntry``, ``Posting``) is the source of truth for
every balance. Amounts are integer cents in ``BigIntegerField`` columns; a posting is
signed: positive adds to the account's balance, negative takes from it, and the postings
of one entry sum to zero. Entries and postings are never changed or deleted (the ORM
refuses, and on PostgreSQL triggers refuse too): a mistake is corrected by a reversing
entry. Write them only through ``payments.ledger``.

The gateway records (``Charge``, ``Refund``, ``Transfer``, ``Payout``) carry an opaque
``purpose`` ("milestone_funding") and ``reference`` ("milestone:42"): this app knows
nothing of what was paid for; the app that asked registers handlers per purpose
(``payments.registry``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

CURRENCY_MAX = 3
KEY_MAX = 200
REF_MAX = 100
PURPOSE_MAX = 50


class ImmutableRecordError(RuntimeError):
    """A ledger row was about to be changed or deleted: a programming error."""


class AccountKind(models.TextChoices):
    # The provider's side: money in from cards, out to banks. One platform account; it
    # goes negative as money comes in (it mirrors what the provider holds for us).
    GATEWAY_CLEARING = "gateway_clearing", "Gateway clearing"
    # Funded and not yet released or refunded; one per reference ("contract:17").
    ESCROW = "escrow", "Escrow"
    # A freelancer's released earnings inside the security hold (postings carry available_at).
    FREELANCER_PENDING = "freelancer_pending", "Freelancer pending"
    # A freelancer's earnings they may withdraw.
    FREELANCER_AVAILABLE = "freelancer_available", "Freelancer available"
    # Money owed back to a client, usable for later payments.
    CLIENT_CREDIT = "client_credit", "Client credit"
    # The platform's revenue: service and marketplace fees.
    PLATFORM_FEES = "platform_fees", "Platform fees"
    # A freelancer's withdrawals on their way to the bank.
    PAYOUTS_IN_TRANSIT = "payouts_in_transit", "Payouts in transit"
    # Refunds asked of the provider and not yet confirmed (platform account).
    REFUNDS_IN_TRANSIT = "refunds_in_transit", "Refunds in transit"
    # The counterpart of staff corrections (platform account; may go negative).
    ADJUSTMENTS = "adjustments", "Manual adjustments"
    # An agency's released earnings inside the security hold, then available for the owner to
    # distribute to members; one each per agency (reference "agency:<id>").
    AGENCY_PENDING = "agency_pending", "Agency pending"
    AGENCY_AVAILABLE = "agency_available", "Agency available"


# Balances that can never go below zero: post_entry refuses, the audit reports, and a
# CHECK constraint on the cached balance refuses too.
NON_NEGATIVE_KINDS = frozenset(
    {
        AccountKind.ESCROW,
        AccountKind.FREELANCER_PENDING,
        AccountKind.FREELANCER_AVAILABLE,
        AccountKind.CLIENT_CREDIT,
        AccountKind.PAYOUTS_IN_TRANSIT,
        AccountKind.REFUNDS_IN_TRANSIT,
        AccountKind.AGENCY_PENDING,
        AccountKind.AGENCY_AVAILABLE,
    }
)
# Kinds that belong to a user, kinds keyed by a reference, and platform-wide ones.
OWNED_KINDS = frozenset(
    {
        AccountKind.FREELANCER_PENDING,
        AccountKind.FREELANCER_AVAILABLE,
        AccountKind.CLIENT_CREDIT,
        AccountKind.PAYOUTS_IN_TRANSIT,
    }
)
REFERENCED_KINDS = frozenset({AccountKind.ESCROW, AccountKind.AGENCY_PENDING, AccountKind.AGENCY_AVAILABLE})


class LedgerAccount(models.Model):
    """A balance. The cached ``balance_cents`` changes only in ``ledger.post_entry`` under
    the row's lock; the audit checks it against the sum of the postings."""

    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    reference = models.CharField(max_length=REF_MAX, blank=True)
    currency = models.CharField(max_length=CURRENCY_MAX, default="USD")
    balance_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["kind", "pk"]
        constraints: ClassVar = [
            # NULL owners are distinct in a plain unique index, hence two partial ones.
            models.UniqueConstraint(
                fields=["kind", "owner", "reference"],
                condition=Q(owner__isnull=False),
                name="ledger_account_unique_owned",
            ),
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=Q(owner__isnull=True),
                name="ledger_account_unique_unowned",
            ),
            models.CheckConstraint(
                condition=Q(balance_cents__gte=0) | ~Q(kind__in=sorted(NON_NEGATIVE_KINDS)),
                name="ledger_account_balance_not_negative",
            ),
        ]

    def __str__(self) -> str:
        parts = [self.get_kind_display()]
        if self.owner_id:
            parts.append(f"user {self.owner_id}")
        if self.reference:
            parts.append(self.reference)
        return " / ".join(parts)


class ImmutableQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused like ``save()`` of an existing row."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecordError(f"{self.model.__name__} rows are immutable; post a reversing entry.")

    def delete(self) -> Any:
        raise ImmutableRecordError(f"{self.model.__name__} rows are immutable; post a reversing entry.")

    delete.queryset_only = True  # type: ignore[attr-defined]


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(f"{type(self).__name__} rows are immutable; post a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRecordError(f"{type(self).__name__} rows are immutable; post a reversing entry.")


class JournalEntry(ImmutableModel):
    """One money movement: its postings sum to zero. Unique by ``idempotency_key``."""

    idempotency_key = models.CharField(max_length=KEY_MAX, unique=True)
    memo = models.CharField(max_length=300)
    purpose = models.CharField(max_length=PURPOSE_MAX, blank=True, db_index=True)
    reference = models.CharField(max_length=REF_MAX, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set on a reversing entry: the entry it cancels (each entry is reversed at most once).
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.memo}"


class Posting(ImmutableModel):
    """One line of an entry: a signed amount on one account."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount_cents = models.BigIntegerField()
    # Positive freelancer_pending postings: when the security hold ends.
    available_at = models.DateTimeField(null=True, blank=True)
    # A negative pending posting that moves a positive one on (to available, or back in a
    # reversal) points at it: each held amount is cleared once (unique).
    clears = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="cleared_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="posting_amount_not_zero"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["account", "created_at"], name="posting_account_created"),
            models.Index(fields=["available_at"], name="posting_available_at"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_cents:+d}"


# --- what happened, for every status change ------------------------------------------------


class StatusEvent(models.Model):
    """Every status change of a charge, refund, transfer, payout or payout method: who,
    when, from, to. Never edited."""

    class Record(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        TRANSFER = "transfer", "Transfer"
        PAYOUT = "payout", "Payout"
        PAYOUT_METHOD = "payout_method", "Payout method"
        PAYMENT_METHOD = "payment_method", "Card"

    record = models.CharField(max_length=16, choices=Record.choices)
    record_id = models.BigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["record", "record_id"], name="status_event_record")]

    def __str__(self) -> str:
        return f"{self.record} {self.record_id}: {self.from_status or '-'} -> {self.to_status}"


# --- cards and customers --------------------------------------------------------------------


class GatewayCustomer(models.Model):
    """The customer object a user has at a gateway (cards hang off it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(max_length=12)
    customer_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "gateway"], name="gateway_customer_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.customer_id}"


class PaymentMethod(models.Model):
    """A client's saved card. Only brand, last4 and expiry are kept here; the number stays
    with the gateway."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_methods"
    )
    gateway = models.CharField(max_length=12)
    gateway_customer_id = models.CharField(max_length=100)
    gateway_payment_method_id = models.CharField(max_length=100)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-is_default", "-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_payment_method_id"], name="payment_method_unique_gateway_id"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_default=True, removed_at__isnull=True),
                name="payment_method_one_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand.title()} ending {self.last4}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


# --- charges and refunds --------------------------------------------------------------------


class Charge(models.Model):
    """A client's card charged through the gateway for ``amount_cents`` (to escrow) plus the
    client marketplace fee. Reserved in one transaction, sent to the gateway with no lock
    held, settled in another."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Processing"  # row written, gateway asked (or about to be)
        SUCCEEDED = "succeeded", "Succeeded"  # money in; ledger entry posted
        FAILED = "failed", "Failed"  # declined or refused; nothing moved

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.RESERVED: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }

    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charges")
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    amount_cents = models.BigIntegerField()
    client_fee_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=CURRENCY_MAX, default="USD")
    purpose = models.CharField(max_length=PURPOSE_MAX)
    reference = models.CharField(max_length=REF_MAX)
    escrow_reference = models.CharField(max_length=REF_MAX)
    transfer_group = models.CharField(max_length=REF_MAX, blank=True)
    description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RESERVED)
    attempt = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=KEY_MAX, unique=True)
    gateway = models.CharField(max_length=12)
    gateway_payment_id = models.CharField(max_length=100, blank=True, db_index=True)
    gateway_charge_id = models.CharField(max_length=100, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    # The last retryable gateway error while reserved (the sweeper tries again).
    last_error = models.CharField(max_length=300, blank=True)
    gateway_calls = models.PositiveIntegerField(default=0)
    # A settlement handler that raised: the money is recorded, the app must follow up.
    handler_error = models.TextField(blank=True)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="charge"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(condition=Q(client_fee_cents__gte=0), name="charge_fee_not_negative"),
            # At most one live (processing or paid) charge per purpose and reference: a
            # retried request finds it instead of charging twice.
            models.UniqueConstraint(
                fields=["purpose", "reference"],
                condition=Q(status__in=["reserved", "succeeded"]),
                name="charge_one_live_per_reference",
            ),
            models.UniqueConstraint(fields=["purpose", "reference", "attempt"], name="charge_unique_attempt"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["payer", "-created_at"], name="charge_payer_created"),
            models.Index(fields=["status", "updated_at"], name="charge_status_updated"),
        ]

    def __str__(self) -> str:
        return f"Charge {self.pk} {self.purpose} {self.reference} {self.status}"

    @property
    def total_cents(self) -> int:
        """What the card is charged: the amount plus the client marketplace fee."""
        return self.amount_cents + self.client_fee_cents


class Refund(models.Model):
    """Money sent back to the client's card from escrow (and the share of the client fee)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Processing"  # escrow moved to refunds in transit; gateway asked
        SUCCEEDED = "succeeded", "Succeeded"  # the provider confirmed
        FAILED = "failed", "Failed"  # refused: the money went back to escrow

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.RESERVED: {Status.SUCCEEDED, Status.FAILED},
        # A card's bank can fail a refund after the provider reported it succeeded.
        Status.SUCCEEDED: {Status.FAILED},
        Status.FAILED: set(),
    }

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.BigIntegerField()
    fee_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RESERVED)
    reason = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=KEY_MAX, unique=True)
    gateway_refund_id = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    handler_error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(fee_cents__gte=0), name="refund_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of charge {self.charge_id} {self.status}"

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents


# --- payouts --------------------------------------------------------------------------------


class PayoutMethod(models.Model):
    """Where a freelancer's withdrawals go: a Stripe Connect Express account or (local
    gateway) a bank account of which only the last four digits are kept. Usable
    ``NEW_PAYOUT_METHOD_DELAY_DAYS`` after it was added, so a stolen session cannot add an
    account and withdraw at once."""

    class Kind(models.TextChoices):
        STRIPE_CONNECT = "stripe_connect", "Stripe account"
        BANK_ACCOUNT = "bank_account", "Bank account"

    class Status(models.TextChoices):
        ONBOARDING = "onboarding", "Waiting for onboarding"  # connected account not ready yet
        ACTIVE = "active", "Active"  # can receive payouts (after the delay)
        RESTRICTED = "restricted", "Restricted"  # the provider disabled payouts
        REMOVED = "removed", "Removed"  # removed by the freelancer; kept for history

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.ONBOARDING: {Status.ACTIVE, Status.RESTRICTED, Status.REMOVED},
        Status.ACTIVE: {Status.RESTRICTED, Status.REMOVED},
        Status.RESTRICTED: {Status.ACTIVE, Status.REMOVED},
        Status.REMOVED: set(),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_methods"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ONBOARDING)
    gateway = models.CharField(max_length=12)
    label = models.CharField(max_length=80, blank=True)  # the bank's name or "Stripe"
    holder_name = models.CharField(max_length=120, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    country = models.CharField(max_length=2, default="US")
    currency = models.CharField(max_length=CURRENCY_MAX, default="USD")
    gateway_account_id = models.CharField(max_length=100, blank=True, db_index=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    # The provider's timestamp of the last account.updated applied (older ones are ignored).
    provider_updated_at = models.DateTimeField(null=True, blank=True)
    link_count = models.PositiveIntegerField(default=0)
    usable_after = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        if self.kind == self.Kind.BANK_ACCOUNT:
            return f"{self.label or 'Bank account'} ending {self.last4}"
        return f"Stripe account {self.gateway_account_id}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.ACTIVE and self.usable_after <= now

    @staticmethod
    def default_usable_after(now=None):
        return (now or timezone.now()) + timedelta(days=settings.NEW_PAYOUT_METHOD_DELAY_DAYS)


class Payout(models.Model):
    """A withdrawal of available earnings to a payout method."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"  # money moved from available to in transit
        PROCESSING = "processing", "Processing"  # the gateway was asked
        PAID = "paid", "Paid"  # the provider paid it out
        FAILED = "failed", "Failed"  # refused or returned: the money is available again

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.REQUESTED: {Status.PROCESSING, Status.FAILED},
        Status.PROCESSING: {Status.PAID, Status.FAILED},
        # A bank can return a payout after the provider reported it paid.
        Status.PAID: {Status.FAILED},
        Status.FAILED: set(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    method = models.ForeignKey(PayoutMethod, on_delete=models.PROTECT, related_name="payouts")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=CURRENCY_MAX, default="USD")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    automatic = models.BooleanField(default=False)  # made by the withdrawal schedule
    idempotency_key = models.CharField(max_length=KEY_MAX, unique=True)
    gateway = models.CharField(max_length=12)
    gateway_payout_id = models.CharField(max_length=100, blank=True, db_index=True)
    gateway_transfer_id = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # A worker processing the payout owns it until then; the sweeper takes over after.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    processing_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-requested_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payout_amount_positive"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "-requested_at"], name="payout_user_requested"),
            models.Index(fields=["status", "lease_expires_at"], name="payout_status_lease"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk} {self.amount_cents}c {self.status}"


class Transfer(models.Model):
    """Money sent from the platform's provider balance to a connected account."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Processing"  # row written, gateway asked
        SUCCEEDED = "succeeded", "Sent"  # the provider made the transfer
        FAILED = "failed", "Failed"  # refused
        REVERSED = "reversed", "Reversed"  # pulled back (in full)

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.RESERVED: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: {Status.REVERSED},
        Status.FAILED: set(),
        Status.REVERSED: set(),
    }

    payee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers")
    payout = models.ForeignKey(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )
    amount_cents = models.BigIntegerField()
    amount_reversed_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=CURRENCY_MAX, default="USD")
    destination = models.CharField(max_length=100)
    purpose = models.CharField(max_length=PURPOSE_MAX)
    reference = models.CharField(max_length=REF_MAX)
    transfer_group = models.CharField(max_length=REF_MAX, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RESERVED)
    idempotency_key = models.CharField(max_length=KEY_MAX, unique=True)
    gateway = models.CharField(max_length=12)
    gateway_transfer_id = models.CharField(max_length=100, blank=True, db_index=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="transfer_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.pk} {self.amount_cents}c to {self.destination} {self.status}"


class PayoutSchedule(models.Model):
    """A freelancer's automatic withdrawal: the whole available balance, weekly (Mondays)
    or monthly (the 1st), to the chosen method."""

    class Frequency(models.TextChoices):
        MANUAL = "manual", "Manual: I withdraw myself"
        WEEKLY = "weekly", "Weekly, on Mondays"
        MONTHLY = "monthly", "Monthly, on the 1st"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_schedule"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MANUAL)
    method = models.ForeignKey(
        PayoutMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.frequency}"


# --- webhooks and API idempotency -------------------------------------------------------------


class WebhookEvent(models.Model):
    """A provider event, stored once by its id before it is processed (by a task)."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    account = models.CharField(max_length=100, blank=True)  # the connected account, if any
    payload = models.JSONField()
    event_created_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-received_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["processed_at", "received_at"], name="webhook_unprocessed")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class IdempotencyRecord(models.Model):
    """The stored answer of a mutating API call made with an ``Idempotency-Key`` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_record_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


# --- invoices and receipts --------------------------------------------------------------------


class InvoiceCounter(models.Model):
    """The last invoice number given in a year; locked while the next one is taken, so
    numbers are sequential per year with no gaps or repeats."""

    year = models.PositiveIntegerField(primary_key=True)
    last_sequence = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_sequence}"


class Invoice(models.Model):
    """A numbered receipt, issued once per money record for the party it concerns: a
    client's payment (charge), a freelancer's released earnings (a release journal entry)
    or a paid withdrawal (payout). Never changed after it is issued."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment receipt"  # a client's succeeded charge
        EARNINGS = "earnings", "Earnings receipt"  # escrow released to a freelancer
        PAYOUT = "payout", "Withdrawal receipt"  # a freelancer's paid withdrawal

    number = models.CharField(max_length=20, unique=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_invoices"
    )
    charge = models.OneToOneField(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice"
    )
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice"
    )
    payout = models.OneToOneField(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-issued_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_unique_year_sequence"),
            # Exactly one record per invoice, matching its kind.
            models.CheckConstraint(
                condition=(
                    Q(kind="payment", charge__isnull=False, entry__isnull=True, payout__isnull=True)
                    | Q(kind="earnings", charge__isnull=True, entry__isnull=False, payout__isnull=True)
                    | Q(kind="payout", charge__isnull=True, entry__isnull=True, payout__isnull=False)
                ),
                name="invoice_one_record",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["recipient", "-issued_at"], name="invoice_recipient_issued")
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"
