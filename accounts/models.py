"""Users, roles and profiles, the taxonomy, and skill assessments.

Reputation figures that other apps rank or display by (Job Success Score, rating, badges,
earnings, client spend and hire rate) live on the profiles here and are written only by
the services of the app that owns them (reviews, payments, jobs).
"""

from __future__ import annotations

import secrets
import zoneinfo
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django_countries.fields import CountryField

from marketplace.prepared import PreparedQuery
from messaging.storage import private_storage

from .languages import LANGUAGE_CHOICES

TIMEZONE_CHOICES = [
    (name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"
]


def new_public_id() -> str:
    """A short random id for public URLs, so that profiles cannot be enumerated."""
    return "~" + secrets.token_hex(8)


def _user_by_pk(user_id: int) -> models.QuerySet[User]:
    return User.objects.filter(pk=user_id)


# the signed-in user, loaded on every signed-in request: compiled once per process
_BY_PK = PreparedQuery(_user_by_pk)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get(self, *args, **kwargs) -> User:
        """``get(pk=<int>)`` (or ``id=``) without compiling the query again: it is how the
        auth backends load the session's user on every signed-in request
        (``ModelBackend.get_user``), and the ORM's compiling was a fifth of a signed-in
        page's CPU. The same instance and the same ``DoesNotExist`` as the queryset's;
        every other lookup goes through it."""
        # the model itself, not a migration's historical copy of it (other columns, maybe)
        if not args and self._db is None and len(kwargs) == 1 and self.model is User:
            ((name, value),) = kwargs.items()
            if name in ("pk", "id") and type(value) is int:
                # outside a bigint, as the ORM answers: no such user (not a database error)
                found = _BY_PK.instances(user_id=value) if -(2**63) <= value < 2**63 else []
                if not found:
                    raise self.model.DoesNotExist(
                        f"{self.model._meta.object_name} matching query does not exist."
                    )
                return found[0]
        return super().get(*args, **kwargs)

    def _create(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class Role(models.TextChoices):
    FREELANCER = "freelancer", "Freelancer"  # finds work, sends proposals, gets paid
    CLIENT = "client", "Client"  # posts jobs, hires, pays


class SuspensionReason(models.TextChoices):
    FRAUD = "fraud", "Fraud or scam"
    OFF_PLATFORM = "off_platform", "Taking payments off the platform"
    HARASSMENT = "harassment", "Harassment or abuse"
    SPAM = "spam", "Spam"
    FAKE_IDENTITY = "fake_identity", "Fake or misleading identity"
    CHARGEBACK = "chargeback", "Payment disputes or chargebacks"
    TERMS = "terms", "Other violation of the terms of service"


class User(AbstractBaseUser, PermissionsMixin):
    """An account, keyed by email. One account may act as freelancer, client, or both."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=dj_timezone.now)
    active_role = models.CharField(max_length=12, choices=Role.choices, default=Role.FREELANCER)
    # Suspension is separate from is_active so that the user can be told why at login.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=20, choices=SuspensionReason.choices, blank=True)
    suspension_note = models.TextField(blank=True)
    warnings_count = models.PositiveSmallIntegerField(default=0)  # staff warnings received
    identity_verified_at = models.DateTimeField(null=True, blank=True)  # ID reviewed by staff
    signup_ip = models.GenericIPAddressField(null=True, blank=True)  # for fraud signals
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["date_joined"]),
            models.Index(fields=["suspended_at"]),
            models.Index(fields=["signup_ip"]),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        """First name and last initial, as marketplaces show people to strangers."""
        if self.first_name:
            initial = f" {self.last_name[:1]}." if self.last_name else ""
            return f"{self.first_name}{initial}"
        return self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_freelancer(self) -> bool:
        return hasattr(self, "freelancer_profile")

    @property
    def is_client(self) -> bool:
        return hasattr(self, "client_profile")


class ModerationAction(models.TextChoices):
    SUSPEND = "suspend", "Suspended"
    REINSTATE = "reinstate", "Reinstated"
    WARN = "warn", "Warned"
    ID_APPROVED = "id_approved", "Identity verified"
    ID_REJECTED = "id_rejected", "Identity document rejected"


class UserModerationEvent(models.Model):
    """Every staff action on a user account: who, when, what and why. Never edited."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="moderation_events")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=ModerationAction.choices)
    reason = models.CharField(max_length=20, choices=SuspensionReason.choices, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.user} by {self.actor}"


# --- taxonomy ---------------------------------------------------------------------------


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Subcategory(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="subcategories")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["category__position", "position", "name"]
        verbose_name_plural = "subcategories"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["category", "name"], name="subcategory_unique_name_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.category.name} / {self.name}"


class Skill(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=70, unique=True)
    subcategory = models.ForeignKey(Subcategory, on_delete=models.PROTECT, related_name="skills")

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


# --- profiles ---------------------------------------------------------------------------


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: anyone, including search engines"
    LOGGED_IN = "logged_in", "Only signed-in users"
    PRIVATE = "private", "Private: only me"


class ExperienceLevel(models.TextChoices):
    ENTRY = "entry", "Entry level"
    INTERMEDIATE = "intermediate", "Intermediate"
    EXPERT = "expert", "Expert"


class Availability(models.TextChoices):
    MORE_THAN_30 = "more_than_30", "More than 30 hrs/week"
    LESS_THAN_30 = "less_than_30", "Less than 30 hrs/week"
    AS_NEEDED = "as_needed", "As needed - open to offers"
    NOT_AVAILABLE = "not_available", "Not available"


class OnboardingStep(models.TextChoices):
    ABOUT = "about", "About your work"
    EDUCATION = "education", "Education"
    EXPERIENCE = "experience", "Experience"
    LANGUAGES = "languages", "Languages"
    RATE = "rate", "Hourly rate"
    OVERVIEW = "overview", "Overview and photo"
    REVIEW = "review", "Review and publish"


ONBOARDING_ORDER = list(OnboardingStep.values)


class FreelancerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="freelancer_profile")
    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    title = models.CharField(max_length=100, blank=True)
    overview = models.TextField(blank=True, max_length=5000)
    hourly_rate_cents = models.PositiveIntegerField(null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subcategory = models.ForeignKey(
        Subcategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="freelancers")
    experience_level = models.CharField(
        max_length=12, choices=ExperienceLevel.choices, default=ExperienceLevel.INTERMEDIATE
    )
    photo = models.ImageField(upload_to="photos/", blank=True)
    country = CountryField(blank=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.AS_NEEDED
    )
    open_to_contract_to_hire = models.BooleanField(default=False)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    hidden_at = models.DateTimeField(null=True, blank=True)  # hidden from others by staff moderation
    onboarding_step = models.CharField(
        max_length=12, choices=OnboardingStep.choices, default=OnboardingStep.ABOUT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Reputation, written by the reviews and payments services (see module docstring).
    job_success_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    reviews_count = models.PositiveIntegerField(default=0)
    total_earned_cents = models.BigIntegerField(default=0)
    total_jobs = models.PositiveIntegerField(default=0)
    badges = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            # the public list, newest first, reads this partial index in order and stops early
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(published_at__isnull=False),
                name="freelancer_published_idx",
            ),
            models.Index(fields=["hourly_rate_cents"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(hourly_rate_cents__isnull=True)
                | Q(hourly_rate_cents__gte=300, hourly_rate_cents__lte=99900),
                name="freelancer_rate_in_range",
            ),
            models.CheckConstraint(
                condition=Q(job_success_score__isnull=True) | Q(job_success_score__lte=100),
                name="freelancer_jss_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} - {self.title or 'freelancer'}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class PortfolioItem(models.Model):
    profile = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="portfolio_items")
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, blank=True)
    link = models.URLField(blank=True)
    image = models.ImageField(upload_to="portfolio/", blank=True)
    file = models.FileField(upload_to="portfolio/", blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering: ClassVar = ["position", "-created_at"]

    def __str__(self) -> str:
        return self.title


class Education(models.Model):
    profile = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="education")
    school = models.CharField(max_length=120)
    degree = models.CharField(max_length=120, blank=True)
    field_of_study = models.CharField(max_length=120, blank=True)
    start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(max_length=1000, blank=True)

    class Meta:
        ordering: ClassVar = ["-end_year", "-start_year"]
        verbose_name_plural = "education"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(start_year__isnull=True)
                | Q(end_year__isnull=True)
                | Q(end_year__gte=models.F("start_year")),
                name="education_years_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.school


class Employment(models.Model):
    profile = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="employment")
    company = models.CharField(max_length=120)
    title = models.CharField(max_length=120)
    country = CountryField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)  # null: still working there
    description = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering: ClassVar = ["-start_date"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} at {self.company}"


class Proficiency(models.TextChoices):
    BASIC = "basic", "Basic"
    CONVERSATIONAL = "conversational", "Conversational"
    FLUENT = "fluent", "Fluent"
    NATIVE = "native", "Native or bilingual"


class ProfileLanguage(models.Model):
    profile = models.ForeignKey(FreelancerProfile, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(max_length=5, choices=LANGUAGE_CHOICES)
    proficiency = models.CharField(max_length=16, choices=Proficiency.choices)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["profile", "language"], name="profile_language_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_language_display()} ({self.get_proficiency_display()})"


class ClientKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COMPANY = "company", "Company"


class CompanySize(models.TextChoices):
    JUST_ME = "1", "Just me"
    SMALL = "2-9", "2-9 employees"
    MEDIUM = "10-99", "10-99 employees"
    LARGE = "100-999", "100-999 employees"
    ENTERPRISE = "1000+", "1,000+ employees"


class ClientProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="client_profile")
    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=12, choices=ClientKind.choices, default=ClientKind.INDIVIDUAL)
    company_name = models.CharField(max_length=120, blank=True)
    company_size = models.CharField(max_length=8, choices=CompanySize.choices, blank=True)
    website = models.URLField(blank=True)
    industry = models.CharField(max_length=80, blank=True)
    country = CountryField(blank=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    # Set by payments once a card is saved with the gateway.
    payment_method_verified = models.BooleanField(default=False)
    # Client stats, written by the owning apps' services.
    jobs_posted_count = models.PositiveIntegerField(default=0)
    hires_count = models.PositiveIntegerField(default=0)
    total_spent_cents = models.BigIntegerField(default=0)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    reviews_count = models.PositiveIntegerField(default=0)
    # hourly contracts: what the client paid per hour, weighted by hours billed (reviews.reputation)
    avg_hourly_rate_paid_cents = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.company_name or self.user.display_name


# --- skill assessments --------------------------------------------------------------------


class SkillAssessment(models.Model):
    skill = models.OneToOneField(Skill, on_delete=models.PROTECT, related_name="assessment")
    title = models.CharField(max_length=120)
    time_limit_minutes = models.PositiveSmallIntegerField(default=10)
    pass_percent = models.PositiveSmallIntegerField(default=70)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["skill__name"]

    def __str__(self) -> str:
        return self.title


class AssessmentQuestion(models.Model):
    assessment = models.ForeignKey(SkillAssessment, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class AssessmentChoice(models.Model):
    question = models.ForeignKey(AssessmentQuestion, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=300)
    is_correct = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class AssessmentAttempt(models.Model):
    """One sitting of a test. Graded on the server; late answers count as not given."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assessment_attempts")
    assessment = models.ForeignKey(SkillAssessment, on_delete=models.PROTECT, related_name="attempts")
    started_at = models.DateTimeField(default=dj_timezone.now)
    deadline_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["-started_at"]
        indexes: ClassVar = [models.Index(fields=["user", "assessment", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.user} - {self.assessment}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None and dj_timezone.now() < self.deadline_at


# --- agencies and client teams ----------------------------------------------------------


class AgencyRole(models.TextChoices):
    OWNER = "owner", "Owner"  # one per agency; distributes the agency's earnings
    ADMIN = "admin", "Admin"  # manages members and the profile
    MEMBER = "member", "Member"  # sends proposals and works on the agency's contracts


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Agency(models.Model):
    """Freelancers working as one business: members send proposals on its behalf and its
    contracts pay the agency's balance, which the owner distributes."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=110, unique=True)
    tagline = models.CharField(max_length=150, blank=True)
    description = models.TextField(max_length=5000, blank=True)
    logo = models.ImageField(upload_to="agencies/", blank=True)
    website = models.URLField(blank=True)
    country = CountryField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)  # hidden by staff moderation

    class Meta:
        verbose_name_plural = "agencies"
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class AgencyMembership(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agency_memberships")
    role = models.CharField(max_length=10, choices=AgencyRole.choices, default=AgencyRole.MEMBER)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["agency", "user"], name="agency_member_once"),
            models.UniqueConstraint(fields=["agency"], condition=Q(role="owner"), name="agency_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.agency}"


class EmailInvitation(models.Model):
    """An invitation by email (to an agency or a client team); the link carries a random
    token of which only the SHA-256 is kept."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True


class AgencyInvitation(EmailInvitation):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=AgencyRole.choices, default=AgencyRole.MEMBER)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["agency", "email"], condition=Q(status="pending"), name="agency_invite_pending_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.agency}"


class TeamRole(models.TextChoices):
    OWNER = "owner", "Owner"  # everything, including members and payment methods
    HIRING_MANAGER = "hiring_manager", "Hiring manager"  # posts jobs, reviews proposals, hires, pays
    VIEWER = "viewer", "Viewer"  # reads jobs, proposals and contracts; changes nothing


class ClientTeam(models.Model):
    """A client organisation: teammates work on its jobs and contracts as their role allows.
    Money is the owner's (their payment methods pay for the team's contracts)."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_teams")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(ClientTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.VIEWER)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["team", "user"], name="team_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.team}"


class TeamInvitation(EmailInvitation):
    team = models.ForeignKey(ClientTeam, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.VIEWER)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["team", "email"], condition=Q(status="pending"), name="team_invite_pending_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.team}"


# --- trust and safety -------------------------------------------------------------------


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam or advertising"
    SCAM = "scam", "Scam or fraud"
    OFF_PLATFORM = "off_platform", "Asks to pay or talk outside the marketplace"
    INAPPROPRIATE = "inappropriate", "Inappropriate or offensive"
    HARASSMENT = "harassment", "Harassment or abuse"
    FAKE = "fake", "Fake or misleading"
    UNPAID_TEST = "unpaid_test", "Asks for free work or an unpaid test"
    OTHER = "other", "Something else"


class ContentFlag(models.Model):
    """One report of one piece of content (job, service, profile, message, review, forum
    post, ...) by one user: the moderation queue. ``snapshot`` keeps the text as reported,
    so an edit afterwards cannot hide what was reported."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        ACTIONED = "actioned", "Actioned"

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    content = GenericForeignKey("content_type", "object_id")  # (the admin's reports inline)
    reporter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    content_owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="flags_received"
    )
    reason = models.CharField(max_length=20, choices=FlagReason.choices)
    note = models.TextField(max_length=1000, blank=True)
    snapshot = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=dj_timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "reporter"], name="content_flag_once_per_reporter"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "-created_at"], name="content_flag_queue"),
            models.Index(fields=["content_type", "object_id"], name="content_flag_target"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on {self.content_type_id}:{self.object_id}"


class ModerationDecision(models.Model):
    """What a staff member did about content or a person, and why. Never edited."""

    class Action(models.TextChoices):
        DISMISS = "dismiss", "Dismissed the reports"
        HIDE = "hide", "Hid the content"
        UNHIDE = "unhide", "Showed the content again"
        WARN = "warn", "Warned the author"
        SUSPEND = "suspend", "Suspended the author"
        REINSTATE = "reinstate", "Reinstated the author"
        PIN = "pin", "Pinned"
        UNPIN = "unpin", "Unpinned"
        LOCK = "lock", "Locked"
        UNLOCK = "unlock", "Unlocked"
        MOVE = "move", "Moved"
        RESTRICT_POSTING = "restrict_posting", "Suspended posting rights"
        RESTORE_POSTING = "restore_posting", "Restored posting rights"
        APPROVE = "approve", "Approved"

    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    target_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation_decisions"
    )
    reason = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(fields=["content_type", "object_id"], name="moderation_decision_target")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor}"


class IdentityVerification(models.Model):
    """An ID document a user uploads for staff to review. The file is private (served only
    to its owner and to staff) and deleted once reviewed; the decision stays."""

    class DocumentType(models.TextChoices):
        PASSPORT = "passport", "Passport"
        ID_CARD = "id_card", "National ID card"
        DRIVING_LICENCE = "driving_licence", "Driving licence"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identity_verifications")
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    # Private storage: never under MEDIA_URL; streamed by accounts.views_trust to owner and staff.
    document = models.FileField(
        storage=private_storage, upload_to="identity/%Y/%m/", blank=True, max_length=200
    )
    legal_name = models.CharField(max_length=150)
    country = CountryField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(default=dj_timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar = ["-submitted_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="identity_one_pending_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} of {self.user} ({self.get_status_display()})"
