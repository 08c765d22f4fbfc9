"""Proposals and Connects (application credits).

A proposal is a freelancer's application to a job. Its status follows the transition table
below; ``archived`` is the client's flag, not a status. Connects are kept per freelancer
in a wallet (balance under a row lock, never negative) with one transaction row per grant,
spend and refund.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import PortfolioItem
from jobs.models import Invitation, Job, ScreeningQuestion
from messaging.storage import private_storage


class Proposal(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        SHORTLISTED = "shortlisted", "Shortlisted"
        HIRED = "hired", "Hired"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.SUBMITTED: {Status.SHORTLISTED, Status.HIRED, Status.DECLINED, Status.WITHDRAWN},
        Status.SHORTLISTED: {Status.SUBMITTED, Status.HIRED, Status.DECLINED, Status.WITHDRAWN},
        Status.HIRED: set(),
        Status.DECLINED: set(),
        Status.WITHDRAWN: set(),
    }
    ACTIVE_STATUSES: ClassVar[tuple[str, ...]] = (Status.SUBMITTED, Status.SHORTLISTED)

    class DeclineReason(models.TextChoices):
        BUDGET = "budget", "The bid is outside my budget"
        EXPERIENCE = "experience", "Not enough relevant experience"
        ANOTHER = "another", "I hired someone else"
        NOT_A_FIT = "not_a_fit", "Not the right fit for this job"
        JOB_CLOSED = "job_closed", "The job was closed"
        OTHER = "other", "Other"

    class WithdrawReason(models.TextChoices):
        APPLIED_BY_MISTAKE = "mistake", "Applied by mistake"
        RATE = "rate", "Rate is too low"
        SCHEDULE = "schedule", "No longer available"
        CLIENT = "client", "Client is not responsive"
        OTHER = "other", "Other"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="proposals")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proposals"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Sent on behalf of an agency the freelancer belongs to: the contract pays the agency.
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    archived = models.BooleanField(default=False)  # the client's flag
    cover_letter = models.TextField(max_length=5000)
    # the bid: hourly_rate_cents on hourly jobs, fixed_amount_cents on fixed-price jobs
    hourly_rate_cents = models.PositiveIntegerField(null=True, blank=True)
    fixed_amount_cents = models.PositiveIntegerField(null=True, blank=True)
    duration = models.CharField(max_length=4, choices=Job.Duration.choices)
    portfolio_items = models.ManyToManyField(PortfolioItem, blank=True, related_name="+")
    connects_spent = models.PositiveSmallIntegerField(default=0)
    # the client's ranking aid, computed at submission with jobs.matching
    match_score = models.PositiveIntegerField(null=True, blank=True)
    match_reasons = models.JSONField(default=list, blank=True)
    decline_reason = models.CharField(max_length=12, choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField(max_length=500, blank=True)
    withdraw_reason = models.CharField(max_length=12, choices=WithdrawReason.choices, blank=True)
    withdraw_note = models.CharField(max_length=500, blank=True)
    # the interview: a conversation about this proposal, opened when the client messages
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # set by contracts while an offer made from this proposal is pending
    offer_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    client_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["job", "freelancer"],
                condition=Q(status__in=["submitted", "shortlisted", "hired"]),
                name="proposal_one_active_per_job",
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate_cents__isnull=False) | Q(fixed_amount_cents__isnull=False),
                name="proposal_has_bid",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["job", "status", "-created_at"], name="proposal_job_status_idx"),
            models.Index(fields=["freelancer", "status", "-created_at"], name="proposal_freelancer_idx"),
        ]

    def __str__(self) -> str:
        return f"Proposal {self.pk} by {self.freelancer_id} on job {self.job_id}"

    @property
    def bid_cents(self) -> int:
        return (
            self.hourly_rate_cents if self.hourly_rate_cents is not None else (self.fixed_amount_cents or 0)
        )

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class ProposalEvent(models.Model):
    """Every status move and bid change of a proposal: who, when, from, to."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    kind = models.CharField(max_length=20)  # submitted, bid_changed, shortlisted, declined, ...
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on proposal {self.proposal_id}"


class ProposalAnswer(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(ScreeningQuestion, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=2000)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["proposal", "question"], name="proposal_answer_once")
        ]

    def __str__(self) -> str:
        return f"Answer to question {self.question_id}"


class ProposalMilestone(models.Model):
    """A milestone the freelancer proposes on a fixed-price bid; they sum to the bid."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=200)
    amount_cents = models.PositiveIntegerField()
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="proposal_milestone_positive")
        ]

    def __str__(self) -> str:
        return self.description


class ProposalAttachment(models.Model):
    """A file sent with a proposal. Stored under a random name in private storage (no public
    URL): ``proposals.views.attachment_download`` streams it to the two parties only."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to="proposals/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name


class ConnectsWallet(models.Model):
    """A freelancer's Connects balance. Changed only under its row lock, never below zero."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connects_wallet"
    )
    balance = models.PositiveIntegerField(default=0)
    last_monthly_grant = models.DateField(null=True, blank=True)  # first day of the month granted

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="connects_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance} Connects"


class ConnectsTransaction(models.Model):
    class Kind(models.TextChoices):
        MONTHLY_GRANT = "monthly", "Monthly grant"
        WELCOME = "welcome", "Welcome grant"
        ADMIN_GRANT = "admin", "Granted by staff"
        PURCHASE = "purchase", "Purchased"
        SPEND = "spend", "Proposal"
        REFUND = "refund", "Refund"

    wallet = models.ForeignKey(ConnectsWallet, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField()  # positive for grants and refunds, negative for spends
    balance_after = models.PositiveIntegerField()
    proposal = models.ForeignKey(Proposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # makes grants and refunds safe to repeat (a retried task, a double click)
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["wallet", "-created_at"], name="connects_tx_wallet_idx")]
        constraints: ClassVar = [models.CheckConstraint(condition=~Q(amount=0), name="connects_tx_nonzero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount:+d}"
