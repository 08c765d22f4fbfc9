"""Offers, contracts (hourly or fixed price), milestones, the contract timeline and files.

An offer is the client's proposed terms to one freelancer, made from a proposal or
directly (an invited freelancer, someone the client worked with before). Accepting it
creates the contract, which copies the terms and, for a fixed price, the milestones.

Every status below moves only along its ``TRANSITIONS`` table, through
``contracts.services``, which logs an event row (who, when, from, to): ``OfferEvent`` for
offers, ``ContractEvent`` (the contract's timeline) for contracts and milestones.

Money is integer cents with a currency code. A fixed-price offer's total is the sum of its
milestones (stored on the offer, whose milestones never change); a contract's total is
the sum of its milestones at any moment (they are added, edited and removed while pending).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.storage import private_storage


class ContractType(models.TextChoices):
    FIXED = "fixed", "Fixed price"  # paid per milestone, through escrow
    HOURLY = "hourly", "Hourly"  # paid weekly for the hours logged, up to the weekly limit


class Offer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for the freelancer, until expires_at
        ACCEPTED = "accepted", "Accepted"  # the contract exists
        DECLINED = "declined", "Declined"  # by the freelancer, with a reason
        WITHDRAWN = "withdrawn", "Withdrawn"  # by the client before an answer
        EXPIRED = "expired", "Expired"  # no answer in time, or the job was taken down

    # The only moves an offer can make; services check this table.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING: {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED},
        Status.ACCEPTED: set(),
        Status.DECLINED: set(),
        Status.WITHDRAWN: set(),
        Status.EXPIRED: set(),
    }

    class DeclineReason(models.TextChoices):
        RATE = "rate", "The rate or amount is too low"
        SCOPE = "scope", "The scope or terms do not suit me"
        BUSY = "busy", "I am not available right now"
        NOT_A_FIT = "not_a_fit", "The project is not a fit for my skills"
        CLIENT = "client", "I would rather not work with this client"
        OTHER = "other", "Other"

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_sent")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_received"
    )
    # null for a direct offer to someone the client worked with before, without a job
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    # the proposal the offer answers; at most one pending or accepted offer per proposal
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    # an agency proposal's offer: the contract will pay the agency's balance
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    title = models.CharField(max_length=120)
    contract_type = models.CharField(max_length=6, choices=ContractType.choices)
    currency = models.CharField(max_length=3, default="USD")
    hourly_rate_cents = models.PositiveIntegerField(null=True, blank=True)  # hourly only
    weekly_limit_hours = models.PositiveSmallIntegerField(null=True, blank=True)  # hourly; null: no limit
    manual_time_allowed = models.BooleanField(default=False)  # hourly: may log time by hand
    # fixed only: the sum of the offer's milestones, written once with them
    fixed_amount_cents = models.BigIntegerField(null=True, blank=True)
    description = models.TextField(max_length=5000, blank=True)  # the work and any terms
    start_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    decline_reason = models.CharField(max_length=10, choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField(max_length=500, blank=True)
    withdraw_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    responded_at = models.DateTimeField(null=True, blank=True)  # left pending (any way)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(status__in=["pending", "accepted"]),
                name="offer_one_live_per_proposal",
            ),
            models.UniqueConstraint(
                fields=["client", "freelancer", "job"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_job",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        contract_type="hourly",
                        hourly_rate_cents__isnull=False,
                        fixed_amount_cents__isnull=True,
                    )
                    | Q(
                        contract_type="fixed",
                        hourly_rate_cents__isnull=True,
                        weekly_limit_hours__isnull=True,
                        fixed_amount_cents__gt=0,
                    )
                ),
                name="offer_terms_match_type",
            ),
            models.CheckConstraint(
                condition=Q(weekly_limit_hours__isnull=True)
                | Q(weekly_limit_hours__gte=1, weekly_limit_hours__lte=80),
                name="offer_weekly_limit_range",
            ),
            models.CheckConstraint(condition=~Q(client=models.F("freelancer")), name="offer_not_to_self"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["freelancer", "status", "-created_at"], name="offer_freelancer_idx"),
            models.Index(fields=["client", "status", "-created_at"], name="offer_client_idx"),
            models.Index(fields=["status", "expires_at"], name="offer_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk}: {self.title}"

    @property
    def is_fixed(self) -> bool:
        return self.contract_type == ContractType.FIXED

    @property
    def is_overdue(self) -> bool:
        """Pending past its expiry (the beat task has not marked it expired yet)."""
        return self.status == self.Status.PENDING and self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        """Can still be answered."""
        return self.status == self.Status.PENDING and not self.is_overdue


class OfferMilestone(models.Model):
    """A milestone of a fixed-price offer; copied to the contract on acceptance."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="offer_milestone_positive")
        ]

    def __str__(self) -> str:
        return self.description


class OfferEvent(models.Model):
    """Every status move of an offer: who (null for the system), when, from, to."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20)  # sent, accepted, declined, withdrawn, expired
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on offer {self.offer_id}"


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"  # work goes on
        PAUSED = "paused", "Paused"  # hourly: no time may be logged until resumed
        ENDED = "ended", "Ended"  # closed by either party; read-only from then on

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.ACTIVE: {Status.PAUSED, Status.ENDED},
        Status.PAUSED: {Status.ACTIVE, Status.ENDED},
        Status.ENDED: set(),
    }

    class EndReason(models.TextChoices):
        COMPLETED = "completed", "The work is completed"
        NO_LONGER_NEEDED = "no_longer_needed", "The work is no longer needed"
        UNRESPONSIVE = "unresponsive", "The other party is not responding"
        TERMS = "terms", "We could not agree on the terms or the scope"
        OTHER = "other", "Other"

    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, related_name="contract")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_client"
    )
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_freelancer"
    )
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    # an agency contract: ``freelancer`` does the work, releases pay the agency's balance
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    title = models.CharField(max_length=120)
    contract_type = models.CharField(max_length=6, choices=ContractType.choices)
    currency = models.CharField(max_length=3, default="USD")
    hourly_rate_cents = models.PositiveIntegerField(null=True, blank=True)
    weekly_limit_hours = models.PositiveSmallIntegerField(null=True, blank=True)  # null: no limit
    manual_time_allowed = models.BooleanField(default=False)
    description = models.TextField(max_length=5000, blank=True)
    start_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_note = models.CharField(max_length=500, blank=True)
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(contract_type="hourly", hourly_rate_cents__isnull=False)
                | Q(contract_type="fixed", hourly_rate_cents__isnull=True, weekly_limit_hours__isnull=True),
                name="contract_terms_match_type",
            ),
            models.CheckConstraint(
                condition=Q(weekly_limit_hours__isnull=True)
                | Q(weekly_limit_hours__gte=1, weekly_limit_hours__lte=80),
                name="contract_weekly_limit_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(ended_at__isnull=False), name="contract_ended_has_date"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["client", "status", "-started_at"], name="contract_client_idx"),
            models.Index(fields=["freelancer", "status", "-started_at"], name="contract_freelancer_idx"),
        ]

    def __str__(self) -> str:
        return f"Contract {self.pk}: {self.title}"

    @property
    def is_fixed(self) -> bool:
        return self.contract_type == ContractType.FIXED

    @property
    def is_hourly(self) -> bool:
        return self.contract_type == ContractType.HOURLY

    @property
    def is_ended(self) -> bool:
        return self.status == self.Status.ENDED

    def party_role(self, user) -> str | None:
        """'client', 'freelancer' or None for anyone else."""
        if user is None or not getattr(user, "pk", None):
            return None
        if user.pk == self.client_id:
            return "client"
        if user.pk == self.freelancer_id:
            return "freelancer"
        return None


class Milestone(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Not funded"  # agreed but no money in escrow; may be edited or removed
        FUNDED = "funded", "Funded"  # the client's money is in escrow
        SUBMITTED = "submitted", "Submitted"  # the freelancer delivered; waiting for review
        CHANGES_REQUESTED = "changes_requested", "Changes requested"  # the client asked for more work
        RELEASED = "released", "Paid"  # escrow released to the freelancer
        REFUNDED = "refunded", "Refunded"  # escrow returned to the client
        DISPUTED = "disputed", "In dispute"  # staff decide where the escrow goes
        RESOLVED = "resolved", "Dispute resolved"  # the dispute's decision was carried out

    # Escrowed milestones (funded, submitted, changes requested) may be refunded or disputed;
    # a request for changes still holds the money, so it has the same ways out as a submission.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING: {Status.FUNDED},
        Status.FUNDED: {Status.SUBMITTED, Status.REFUNDED, Status.DISPUTED},
        Status.SUBMITTED: {
            Status.CHANGES_REQUESTED,
            Status.RELEASED,
            Status.REFUNDED,
            Status.DISPUTED,
        },
        Status.CHANGES_REQUESTED: {Status.SUBMITTED, Status.REFUNDED, Status.DISPUTED},
        Status.RELEASED: set(),
        Status.REFUNDED: set(),
        Status.DISPUTED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # who put it on the contract: the client, or the freelancer proposing it (null: from the offer)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # escrow (see contracts.escrow): what this milestone holds in the contract's escrow now
    # (funded minus released minus refunded), a refund reserved but not settled yet, the sum
    # refunded, and the dates the money timeline and the auto-approval task read.
    escrow_cents = models.BigIntegerField(default=0)
    funded_cents = models.BigIntegerField(default=0)  # what the client paid in (without the fee)
    refund_pending_cents = models.BigIntegerField(default=0)
    refunded_cents = models.BigIntegerField(default=0)
    funding_started_at = models.DateTimeField(null=True, blank=True)  # the client's intent to fund
    funded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)  # the latest submission
    released_at = models.DateTimeField(null=True, blank=True)
    # auto-approval reminders sent for the latest submission (0, 1: day 7, 2: day 12)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    refund_requested_at = models.DateTimeField(null=True, blank=True)  # the client asked

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=Q(escrow_cents__gte=0, refund_pending_cents__gte=0, refunded_cents__gte=0)
                & Q(refund_pending_cents__lte=models.F("escrow_cents")),
                name="milestone_escrow_non_negative",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "status_changed_at"], name="milestone_status_idx")
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class ContractEvent(models.Model):
    """The contract's timeline: every status move and change of terms, milestones and files."""

    class Kind(models.TextChoices):
        STARTED = "started", "Contract started"
        PAUSED = "paused", "Contract paused"
        RESUMED = "resumed", "Contract resumed"
        WEEKLY_LIMIT_CHANGED = "weekly_limit_changed", "Weekly limit changed"
        MILESTONE_ADDED = "milestone_added", "Milestone added"
        MILESTONE_UPDATED = "milestone_updated", "Milestone changed"
        MILESTONE_DELETED = "milestone_deleted", "Milestone removed"
        FILE_ADDED = "file_added", "File shared"
        ENDED = "ended", "Contract ended"
        MILESTONE_FUNDED = "milestone_funded", "Milestone funded"
        MILESTONE_FUNDING_FAILED = "milestone_funding_failed", "Payment declined"
        MILESTONE_SUBMITTED = "milestone_submitted", "Work submitted"
        MILESTONE_CHANGES_REQUESTED = "milestone_changes_requested", "Changes requested"
        MILESTONE_RELEASED = "milestone_released", "Payment released"
        MILESTONE_AUTO_RELEASED = "milestone_auto_released", "Payment released automatically"
        MILESTONE_REFUND_REQUESTED = "milestone_refund_requested", "Refund requested"
        MILESTONE_REFUNDED = "milestone_refunded", "Milestone refunded"
        MILESTONE_PARTIALLY_REFUNDED = "milestone_partially_refunded", "Part refunded"
        BONUS_PAID = "bonus_paid", "Bonus paid"
        TIME_LOGGED = "time_logged", "Time logged"
        TIME_EDITED = "time_edited", "Time entry changed"
        TIME_DELETED = "time_deleted", "Time entry removed"
        TIMESHEET_BILLED = "timesheet_billed", "Week billed"
        TIMESHEET_PAYMENT_FAILED = "timesheet_payment_failed", "Weekly payment failed"
        TIMESHEET_RELEASED = "timesheet_released", "Week paid"
        DISPUTE_OPENED = "dispute_opened", "Dispute opened"
        DISPUTE_STATEMENT = "dispute_statement", "Dispute statement"
        DISPUTE_PROPOSAL = "dispute_proposal", "Settlement proposed"
        DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # null: the marketplace (a task)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    milestone = models.ForeignKey(
        Milestone, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]
        indexes: ClassVar = [models.Index(fields=["contract", "created_at", "id"], name="contract_event_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on contract {self.contract_id}"


class ContractFile(models.Model):
    """A file a party shared on the contract. Stored under a random name in private storage
    (no public URL); ``contracts.views.file_download`` streams it to the two parties only."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="files")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(storage=private_storage, upload_to="contracts/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name


class MilestoneSubmission(models.Model):
    """One delivery of a milestone's work (message and files); a request for changes is
    answered by another submission."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="submissions")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(max_length=5000)
    files = models.ManyToManyField(ContractFile, blank=True, related_name="submissions")
    # the client's answer: a note when they asked for changes
    changes_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Submission {self.pk} of milestone {self.milestone_id}"


class ContractBonus(models.Model):
    """A bonus the client pays on a contract: charged, then released to the freelancer at once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Processing"
        PAID = "paid", "Paid"
        FAILED = "failed", "Declined"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="bonuses")
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="bonus_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Bonus {self.pk} on contract {self.contract_id}"


# --- Hourly work: timer, work diary, weekly timesheets (see contracts.timetracking and
# contracts.billing) and disputes (contracts.disputes). ---------------------------------


SEGMENT_MINUTES = 10  # time is recorded in 10-minute segments aligned to the clock (UTC)


class TimeSegment(models.Model):
    """Ten minutes of work on an hourly contract, the work diary's unit.

    ``started_at`` is aligned to a 10-minute boundary in UTC, so two segments of a contract
    overlap exactly when they start at the same instant: a unique constraint makes overlap
    impossible. ``week_start`` is the Monday (UTC) of the ISO week the segment belongs to;
    a segment billed on a timesheet is frozen (``timesheet`` set).
    """

    class Source(models.TextChoices):
        TIMER = "timer", "Web timer"
        TRACKER = "tracker", "Desktop tracker"
        MANUAL = "manual", "Manual entry"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="segments")
    started_at = models.DateTimeField()
    week_start = models.DateField()
    memo = models.CharField(max_length=300, blank=True)
    activity = models.PositiveSmallIntegerField(null=True, blank=True)  # 0-10 from a tracker
    screenshot = models.FileField(
        storage=private_storage, upload_to="diary/%Y/%m/", max_length=200, blank=True
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.TIMER)
    timesheet = models.ForeignKey(
        "Timesheet", on_delete=models.PROTECT, null=True, blank=True, related_name="segments"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["started_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contract", "started_at"], name="segment_no_overlap"),
            models.CheckConstraint(
                condition=Q(activity__isnull=True) | Q(activity__lte=10), name="segment_activity_range"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["contract", "week_start", "started_at"], name="segment_week_idx")
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.memo[:40]}"


class TimerSession(models.Model):
    """A run of the web timer (or a tracker session): at most one running per contract.

    The server is the source of truth: the page shows the elapsed time from
    ``started_at``, so a reload or a closed tab loses nothing. Stopping writes the
    segments the run covered.
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="timer_sessions")
    started_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    source = models.CharField(
        max_length=8, choices=TimeSegment.Source.choices, default=TimeSegment.Source.TIMER
    )

    class Meta:
        ordering: ClassVar = ["-started_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["contract"], condition=Q(stopped_at__isnull=True), name="one_running_timer"
            )
        ]

    def __str__(self) -> str:
        return f"Timer {self.pk} on contract {self.contract_id}"


class TrackerToken(models.Model):
    """An API token a desktop tracker uses to post segments; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_tokens"
    )
    name = models.CharField(max_length=60)
    key_prefix = models.CharField(max_length=8)  # shown to the user to tell tokens apart
    key_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole key
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}...)"


class Timesheet(models.Model):
    """One hourly contract's ISO week (Monday to Sunday, UTC), billed once when it closes.

    open -> charging (the client's card is being charged) -> in_review (money in escrow,
    the client may dispute until Friday 23:59 UTC of the following week) -> released |
    disputed -> resolved. A charge that fails goes to payment_failed (retried; the contract
    is paused after a grace period) and back to in_review when it succeeds. A week with no
    billable time closes as ``empty``.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Current week"
        CHARGING = "charging", "Charging the client"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        IN_REVIEW = "in_review", "In review"
        DISPUTED = "disputed", "In dispute"
        RELEASED = "released", "Paid"
        RESOLVED = "resolved", "Dispute resolved"
        EMPTY = "empty", "No billable time"

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.CHARGING, Status.EMPTY},
        Status.CHARGING: {Status.IN_REVIEW, Status.PAYMENT_FAILED},
        Status.PAYMENT_FAILED: {Status.CHARGING},
        Status.IN_REVIEW: {Status.RELEASED, Status.DISPUTED},
        Status.DISPUTED: {Status.RESOLVED},
        Status.RELEASED: set(),
        Status.RESOLVED: set(),
        Status.EMPTY: set(),
    }

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="timesheets")
    week_start = models.DateField()  # a Monday
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # the figures frozen when the week closes
    logged_minutes = models.PositiveIntegerField(default=0)
    billed_minutes = models.PositiveIntegerField(default=0)  # min(logged, weekly limit)
    rate_cents = models.PositiveIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)  # billed hours x rate (before fees)
    # escrow bookkeeping, as on milestones: held now, refunded, released
    escrow_cents = models.BigIntegerField(default=0)
    refunded_cents = models.BigIntegerField(default=0)
    released_cents = models.BigIntegerField(default=0)
    charge_attempts = models.PositiveSmallIntegerField(default=0)
    charge_failure_message = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # the week was closed by the task
    charged_at = models.DateTimeField(null=True, blank=True)
    review_ends_at = models.DateTimeField(null=True, blank=True)  # Friday 23:59:59 UTC after the week
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-week_start", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contract", "week_start"], name="timesheet_one_per_week"),
            models.CheckConstraint(
                condition=Q(
                    escrow_cents__gte=0, refunded_cents__gte=0, released_cents__gte=0, amount_cents__gte=0
                ),
                name="timesheet_money_non_negative",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "review_ends_at"], name="timesheet_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Timesheet {self.contract_id} week of {self.week_start}"


class Dispute(models.Model):
    """A disagreement about money in escrow: one funded milestone or one billed timesheet.

    open (the other side has ``response_due_at`` to answer) -> responded -> resolved. The
    escrow it covers is frozen while it is open. It ends by a settlement both accepted, by
    silence (the side that answered wins), by staff, or by the opener withdrawing it;
    ``refund_cents`` + ``release_cents`` always equal ``amount_cents``.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a response"
        RESPONDED = "responded", "Under discussion"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        AGREEMENT = "agreement", "Settled by agreement"
        SILENCE = "silence", "No response in time"
        STAFF = "staff", "Decided by staff"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.RESPONDED, Status.RESOLVED},
        Status.RESPONDED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="disputes")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    timesheet = models.ForeignKey(
        Timesheet, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    segments = models.ManyToManyField(
        TimeSegment, blank=True, related_name="disputes"
    )  # hourly: disputed part
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    amount_cents = models.BigIntegerField()  # the escrow it covers
    disputed_cents = models.BigIntegerField(default=0)  # hourly: the part of it the client contests
    response_due_at = models.DateTimeField()
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)
    refund_cents = models.BigIntegerField(default=0)
    release_cents = models.BigIntegerField(default=0)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(milestone__isnull=False, timesheet__isnull=True)
                | Q(milestone__isnull=True, timesheet__isnull=False),
                name="dispute_one_subject",
            ),
            models.UniqueConstraint(
                fields=["milestone"], condition=~Q(status="resolved"), name="one_open_dispute_per_milestone"
            ),
            models.UniqueConstraint(
                fields=["timesheet"], condition=~Q(status="resolved"), name="one_open_dispute_per_timesheet"
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved")
                | Q(refund_cents__gte=0, release_cents__gte=0, refund_cents__lte=models.F("amount_cents")),
                name="dispute_split_in_range",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["status", "response_due_at"], name="dispute_status_idx")]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on contract {self.contract_id}"


class DisputeStatement(models.Model):
    """One side's case (or staff's note) in a dispute, with files."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="statements")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    files = models.ManyToManyField(ContractFile, blank=True, related_name="dispute_statements")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Statement {self.pk} in dispute {self.dispute_id}"


class SettlementProposal(models.Model):
    """A proposed split of the disputed escrow that the other side accepts in one click."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a newer proposal"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="proposals")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    refund_cents = models.BigIntegerField()
    release_cents = models.BigIntegerField()
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(refund_cents__gte=0, release_cents__gte=0), name="settlement_non_negative"
            ),
            models.UniqueConstraint(
                fields=["dispute"], condition=Q(status="pending"), name="one_pending_settlement"
            ),
        ]

    def __str__(self) -> str:
        return f"Settlement {self.pk}: refund {self.refund_cents}, release {self.release_cents}"
