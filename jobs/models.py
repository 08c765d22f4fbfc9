"""Job posts, their events, screening questions and attachments, flags, saved jobs and
searches, invitations, and the materialised matches between freelancers and jobs.

Search: ``search_vector`` (PostgreSQL tsvector, weighted A title, B skills, C description)
is recomputed by ``jobs.services`` on every write; its GIN index and the trigram index on
the title are created by a PostgreSQL-only migration. On SQLite the column exists but is
unused (see ``jobs.selectors.job_search``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Category, ExperienceLevel, FlagReason, FreelancerProfile, Skill, Subcategory


def new_job_public_id() -> str:
    return "~02" + secrets.token_hex(8)


class Job(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # being written; only the client sees it
        OPEN = "open", "Open"  # published, accepting proposals
        CLOSED = "closed", "Closed"  # closed by the client without (enough) hires; reopenable for 30 days
        FILLED = "filled", "Filled"  # every position hired
        CANCELLED = "cancelled", "Cancelled"  # removed by staff or withdrawn before any activity

    # The only moves a job can make; services check this table.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.OPEN, Status.CANCELLED},
        Status.OPEN: {Status.CLOSED, Status.FILLED, Status.CANCELLED},
        Status.CLOSED: {Status.OPEN},
        Status.FILLED: set(),
        Status.CANCELLED: set(),
    }

    class BudgetType(models.TextChoices):
        HOURLY = "hourly", "Hourly rate"
        FIXED = "fixed", "Fixed price"

    class Size(models.TextChoices):
        SMALL = "small", "Small: quick and straightforward"
        MEDIUM = "medium", "Medium: well-defined project"
        LARGE = "large", "Large: larger or more complex"

    class Duration(models.TextChoices):
        LESS_THAN_1_MONTH = "lt1", "Less than 1 month"
        ONE_TO_THREE = "1to3", "1 to 3 months"
        THREE_TO_SIX = "3to6", "3 to 6 months"
        MORE_THAN_6 = "gt6", "More than 6 months"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Anyone can find and apply"
        INVITE_ONLY = "invite_only", "Only freelancers I invite"

    class CloseReason(models.TextChoices):
        HIRED = "hired", "I hired someone"
        NO_LONGER_NEEDED = "no_longer_needed", "The work is no longer needed"
        HIRED_ELSEWHERE = "hired_elsewhere", "I hired outside the marketplace"
        NO_GOOD_PROPOSALS = "no_good_proposals", "I did not get good proposals"
        POSTED_BY_MISTAKE = "posted_by_mistake", "Posted by mistake"
        REMOVED_BY_STAFF = "removed_by_staff", "Removed by staff"
        OTHER = "other", "Other"

    public_id = models.CharField(max_length=24, unique=True, default=new_job_public_id, editable=False)
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=10000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="jobs")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="jobs")
    size = models.CharField(max_length=8, choices=Size.choices, default=Size.MEDIUM)
    duration = models.CharField(max_length=4, choices=Duration.choices, default=Duration.ONE_TO_THREE)
    experience_level = models.CharField(
        max_length=12, choices=ExperienceLevel.choices, default=ExperienceLevel.INTERMEDIATE
    )
    budget_type = models.CharField(max_length=8, choices=BudgetType.choices, default=BudgetType.FIXED)
    hourly_min_cents = models.PositiveIntegerField(null=True, blank=True)
    hourly_max_cents = models.PositiveIntegerField(null=True, blank=True)
    fixed_budget_cents = models.PositiveIntegerField(null=True, blank=True)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    freelancers_needed = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    # Posted for a client team: teammates see and manage it as their role allows.
    team = models.ForeignKey(
        "accounts.ClientTeam", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    # Denormalised for search and the client's dashboard; written by the owning services.
    skills_text = models.CharField(max_length=800, blank=True)
    client_country = models.CharField(max_length=2, blank=True)
    proposals_count = models.PositiveIntegerField(default=0)
    shortlisted_count = models.PositiveIntegerField(default=0)
    messaged_count = models.PositiveIntegerField(default=0)
    hires_count = models.PositiveIntegerField(default=0)
    invites_count = models.PositiveIntegerField(default=0)
    interviewing_count = models.PositiveIntegerField(default=0)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_viewed_by_client_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            # the search feed: open jobs, newest first, keyset-paginated on (published_at, id)
            models.Index(
                fields=["-published_at", "-id"], condition=Q(status="open"), name="job_open_newest_idx"
            ),
            models.Index(fields=["client", "status", "-created_at"], name="job_client_status_idx"),
            models.Index(fields=["category", "status"], name="job_category_status_idx"),
            # the search index re-reads the jobs changed lately (jobs.search_index.refresh)
            models.Index(fields=["updated_at"], name="job_updated_idx"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(hourly_min_cents__isnull=True)
                | Q(hourly_max_cents__isnull=True)
                | Q(hourly_max_cents__gte=models.F("hourly_min_cents")),
                name="job_hourly_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(freelancers_needed__gte=1, freelancers_needed__lte=50),
                name="job_freelancers_needed_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(published_at__isnull=False), name="job_open_has_published_at"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def reopen_deadline(self):
        return self.closed_at + timedelta(days=30) if self.closed_at else None


class JobEvent(models.Model):
    """Every change of a job: who, when, what (status moves and edited fields)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        PUBLISHED = "published", "Published"
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Reopened"
        FILLED = "filled", "Filled"
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # field -> [old, new]
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.kind}"


class ScreeningQuestion(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class JobAttachment(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="jobs/")
    original_name = models.CharField(max_length=200)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name


# What a job can be reported for (the job page's form and API). The reports themselves are
# ``accounts.ContentFlag`` rows: the moderation queue (``accounts.moderation``).
JOB_FLAG_REASONS: tuple[str, ...] = (
    FlagReason.SPAM,
    FlagReason.SCAM,
    FlagReason.INAPPROPRIATE,
    FlagReason.UNPAID_TEST,
    FlagReason.OTHER,
)


class SavedJob(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_jobs")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["user", "job"], name="saved_job_once")]
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.job_id}"


class SavedSearch(models.Model):
    """A search a freelancer keeps; a periodic task tells them about new matching jobs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=80)
    query_string = models.CharField(max_length=1000)  # the search page's GET parameters
    notify = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # jobs published after this moment are "new" for the next alert
    last_checked_at = models.DateTimeField(default=timezone.now)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "query_string"], name="saved_search_unique_query")
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for the freelancer
        ACCEPTED = "accepted", "Accepted"  # the freelancer will send a proposal
        DECLINED = "declined", "Declined"  # with a reason
        EXPIRED = "expired", "Expired"  # no answer within 14 days, or the job closed

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING: {Status.ACCEPTED, Status.DECLINED, Status.EXPIRED},
        Status.ACCEPTED: set(),
        Status.DECLINED: set(),
        Status.EXPIRED: set(),
    }

    class DeclineReason(models.TextChoices):
        NOT_INTERESTED = "not_interested", "Not interested in this work"
        BUDGET_TOO_LOW = "budget_too_low", "Budget too low"
        TOO_BUSY = "too_busy", "Too busy right now"
        NOT_MY_SKILLS = "not_my_skills", "Does not match my skills"
        OTHER = "other", "Other"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="invitations")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decline_reason = models.CharField(max_length=16, choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "freelancer"], name="invitation_once_per_job")
        ]
        indexes: ClassVar = [models.Index(fields=["status", "expires_at"], name="invitation_expiry_idx")]

    def __str__(self) -> str:
        return f"Invitation {self.pk} to {self.freelancer_id} for {self.job_id}"


class JobMatch(models.Model):
    """A materialised (freelancer, job) match with its score and the reasons shown."""

    freelancer = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="job_matches")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="matches")
    score = models.PositiveIntegerField()  # 0..1000, see jobs.matching
    reasons = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["freelancer", "job"], name="job_match_unique")
        ]
        indexes: ClassVar = [
            models.Index(fields=["freelancer", "-score", "-id"], name="job_match_feed_idx"),
            models.Index(fields=["job", "-score", "-id"], name="job_match_talent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.freelancer_id}~{self.job_id}: {self.score}"


class MatchDismissal(models.Model):
    """A freelancer hid a suggestion, saying why; the matching learns from these."""

    class Reason(models.TextChoices):
        NOT_MY_SKILLS = "not_my_skills", "Not my skills"
        BUDGET_TOO_LOW = "budget_too_low", "Budget too low"
        NOT_INTERESTED = "not_interested", "Not interested in this kind of work"
        CLIENT_HISTORY = "client_history", "Client history"
        OTHER = "other", "Other"

    freelancer = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="dismissals")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["freelancer", "job"], name="dismissal_once")]

    def __str__(self) -> str:
        return f"{self.freelancer_id} dismissed {self.job_id}"


# --- service catalog ("projects": packaged services bought in one click) -------------------------
# Workflows live in jobs.catalog; money moves only through contracts.escrow (a service order
# owns one fixed-price contract with one milestone).


def new_service_public_id() -> str:
    return "~05" + secrets.token_hex(8)


class ServiceListing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # being written; only the freelancer sees it
        PENDING = "pending", "Pending review"  # submitted; staff review it before it is public
        APPROVED = "approved", "Approved"  # public and buyable
        REJECTED = "rejected", "Rejected"  # staff refused it (with a reason); editable, resubmittable
        PAUSED = "paused", "Paused"  # hidden by the freelancer; resumable

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.PENDING},
        Status.PENDING: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.PAUSED, Status.PENDING},
        Status.REJECTED: {Status.PENDING},
        Status.PAUSED: {Status.APPROVED, Status.PENDING},
    }

    public_id = models.CharField(max_length=24, unique=True, default=new_service_public_id, editable=False)
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_listings"
    )
    title = models.CharField(max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="service_listings")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.PROTECT, null=True, blank=True, related_name="service_listings"
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="service_listings")
    description = models.TextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    hidden_at = models.DateTimeField(null=True, blank=True)  # hidden by staff moderation
    rejection_reason = models.CharField(max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Denormalised for browsing (written by jobs.catalog): the cheapest tier and its delivery.
    min_price_cents = models.PositiveIntegerField(default=0)
    min_delivery_days = models.PositiveSmallIntegerField(default=0)
    orders_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["status", "category", "min_price_cents"], name="service_browse_idx"),
            models.Index(fields=["freelancer", "status"], name="service_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ServiceTier(models.Model):
    class Name(models.TextChoices):
        STARTER = "starter", "Starter"
        STANDARD = "standard", "Standard"
        ADVANCED = "advanced", "Advanced"

    listing = models.ForeignKey(ServiceListing, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=10, choices=Name.choices)
    price_cents = models.PositiveIntegerField()
    delivery_days = models.PositiveSmallIntegerField()
    revisions = models.PositiveSmallIntegerField(default=1)
    included = models.TextField(max_length=1000)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["listing", "name"], name="service_tier_once"),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="service_tier_price_positive"),
            models.CheckConstraint(condition=Q(delivery_days__gt=0), name="service_tier_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.name}"


class ServiceAddOn(models.Model):
    class Kind(models.TextChoices):
        FAST_DELIVERY = "fast_delivery", "Extra fast delivery"  # delivery in days_less fewer days
        EXTRA_REVISION = "extra_revision", "Extra revision"  # one more revision

    listing = models.ForeignKey(ServiceListing, on_delete=models.CASCADE, related_name="addons")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    price_cents = models.PositiveIntegerField()
    days_less = models.PositiveSmallIntegerField(default=0)  # fast delivery only

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["listing", "kind"], name="service_addon_once"),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="service_addon_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.kind}"


class ServiceRequirement(models.Model):
    """A question the buyer answers after paying; the delivery clock starts then."""

    listing = models.ForeignKey(ServiceListing, on_delete=models.CASCADE, related_name="requirements")
    question = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.question


class ServiceImage(models.Model):
    """A public gallery image (re-encoded by marketplace.uploads.process_image)."""

    listing = models.ForeignKey(ServiceListing, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="services/")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name or ""


class ServiceOrder(models.Model):
    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"  # contract made, milestone not funded yet
        AWAITING_REQUIREMENTS = "awaiting_requirements", "Awaiting requirements"  # paid; buyer answers
        IN_PROGRESS = "in_progress", "In progress"  # requirements in; the delivery clock runs
        DELIVERED = "delivered", "Delivered"  # the freelancer submitted the milestone
        REVISION_REQUESTED = "revision_requested", "Revision requested"  # the buyer asked for changes
        COMPLETED = "completed", "Completed"  # milestone released (approved or auto-approved)
        CANCELLED = "cancelled", "Cancelled"  # contract ended; any escrow refunded

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.AWAITING_PAYMENT: {Status.AWAITING_REQUIREMENTS, Status.CANCELLED},
        Status.AWAITING_REQUIREMENTS: {Status.IN_PROGRESS, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.DELIVERED, Status.CANCELLED},
        Status.DELIVERED: {Status.REVISION_REQUESTED, Status.COMPLETED},
        Status.REVISION_REQUESTED: {Status.DELIVERED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    public_id = models.CharField(max_length=24, unique=True, default=new_service_public_id, editable=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_orders"
    )
    listing = models.ForeignKey(ServiceListing, on_delete=models.PROTECT, related_name="orders")
    tier = models.ForeignKey(ServiceTier, on_delete=models.PROTECT, related_name="+")
    addons = models.ManyToManyField(ServiceAddOn, blank=True, related_name="+")
    amount_cents = models.PositiveIntegerField()  # tier + add-ons (the client fee comes on top)
    delivery_days = models.PositiveSmallIntegerField()  # tier minus fast delivery
    revisions_allowed = models.PositiveSmallIntegerField()  # tier plus extra revisions
    revisions_used = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    requirements_answers = models.JSONField(default=list, blank=True)  # [{"question", "answer"}]
    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.PROTECT, related_name="service_order"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    requirements_due_at = models.DateTimeField(null=True, blank=True)  # paid_at + 48 h
    requirements_submitted_at = models.DateTimeField(null=True, blank=True)
    delivery_due_at = models.DateTimeField(null=True, blank=True)  # from the requirements
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["buyer", "-created_at"], name="service_order_buyer_idx"),
            models.Index(fields=["status", "requirements_due_at"], name="service_order_due_idx"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ServiceOrderEvent(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"


class ServiceListingEvent(models.Model):
    listing = models.ForeignKey(ServiceListing, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.from_status} -> {self.to_status}"
