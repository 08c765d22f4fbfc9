"""Reads of accounts: visibility-aware profile lookups, completeness, taxonomy, tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import (
    AssessmentAttempt,
    Category,
    FreelancerProfile,
    OnboardingStep,
    Skill,
    SkillAssessment,
    Subcategory,
    User,
    Visibility,
)


@dataclass(frozen=True)
class MissingItem:
    key: str
    label: str
    step: str  # onboarding step where it is filled in
    weight: int
    required: bool


@dataclass
class Completeness:
    percent: int
    missing: list[MissingItem] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return self.percent >= 100


# (key, label, onboarding step, weight, required to publish)
_COMPLETENESS_RULES: list[tuple[str, str, str, int, bool]] = [
    ("about", "Add a title, a category and your skills", OnboardingStep.ABOUT, 20, True),
    ("education", "Add your education", OnboardingStep.EDUCATION, 10, False),
    ("experience", "Add your work experience", OnboardingStep.EXPERIENCE, 10, False),
    ("languages", "Add the languages you speak", OnboardingStep.LANGUAGES, 10, True),
    ("rate", "Set your hourly rate", OnboardingStep.RATE, 15, True),
    ("overview", "Write an overview of at least 100 characters", OnboardingStep.OVERVIEW, 15, True),
    ("photo", "Upload a profile photo", OnboardingStep.OVERVIEW, 10, False),
    ("portfolio", "Show your work in a portfolio item", OnboardingStep.REVIEW, 10, False),
]


def profile_completeness(profile: FreelancerProfile) -> Completeness:
    """Percent complete (weights sum to 100) and the missing parts, in wizard order."""
    from .services import OVERVIEW_MIN_CHARS

    done = {
        "about": bool(profile.title and profile.category_id and profile.skills.exists()),
        "education": profile.education.exists(),
        "experience": profile.employment.exists(),
        "languages": profile.languages.exists(),
        "rate": bool(profile.hourly_rate_cents),
        "overview": len(profile.overview or "") >= OVERVIEW_MIN_CHARS,
        "photo": bool(profile.photo),
        "portfolio": profile.portfolio_items.exists(),
    }
    percent = 0
    missing = []
    for key, label, step, weight, required in _COMPLETENESS_RULES:
        if done[key]:
            percent += weight
        else:
            missing.append(MissingItem(key, label, step, weight, required))
    return Completeness(percent=percent, missing=missing)


def _profile_queryset() -> QuerySet[FreelancerProfile]:
    return FreelancerProfile.objects.select_related("user", "category", "subcategory").prefetch_related(
        Prefetch("skills", queryset=Skill.objects.only("id", "name", "slug")),
        "languages",
    )


def freelancer_visible_q(viewer: User | AnonymousUser | None) -> Q:
    """Profiles ``viewer`` may see in lists: published, visible, owner not suspended."""
    q = Q(published_at__isnull=False, user__suspended_at__isnull=True, user__is_active=True)
    q &= Q(hidden_at__isnull=True)  # hidden by staff moderation
    if viewer is not None and viewer.is_authenticated:
        return q & Q(visibility__in=[Visibility.PUBLIC, Visibility.LOGGED_IN])
    return q & Q(visibility=Visibility.PUBLIC)


def freelancer_get_for_viewer(*, public_id: str, viewer: User | AnonymousUser | None) -> FreelancerProfile:
    """The profile page's data, or 404 when ``viewer`` may not see it.

    The owner and staff always see it (with a banner when it is not public yet).
    """
    qs = _profile_queryset().prefetch_related("education", "employment", Prefetch("portfolio_items__skills"))
    profile = qs.filter(public_id=public_id).first()
    if profile is None:
        raise Http404("No such profile.")
    is_owner = viewer is not None and viewer.is_authenticated and viewer.pk == profile.user_id
    is_staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    if is_owner or is_staff:
        return profile
    if not qs.filter(freelancer_visible_q(viewer), pk=profile.pk).exists():
        raise Http404("No such profile.")
    return profile


def freelancer_list_visible(*, viewer: User | AnonymousUser | None) -> QuerySet[FreelancerProfile]:
    return _profile_queryset().filter(freelancer_visible_q(viewer)).order_by("-published_at", "-id")


def verified_skills(user: User) -> list[Skill]:
    """Skills whose test ``user`` has passed. A pass is kept: a later failed retake (to
    improve the score) does not take the verification away, as with a certificate."""
    passed = (
        AssessmentAttempt.objects.filter(user=user, passed=True)
        .select_related("assessment__skill")
        .order_by("assessment__skill__name")
    )
    seen: dict[int, Skill] = {}
    for attempt in passed:
        seen.setdefault(attempt.assessment.skill_id, attempt.assessment.skill)
    return list(seen.values())


@dataclass
class AssessmentRow:
    assessment: SkillAssessment
    last_attempt: AssessmentAttempt | None
    retake_at: datetime | None
    question_count: int

    @property
    def can_start(self) -> bool:
        if self.last_attempt is None or self.last_attempt.is_open:
            return True
        return self.retake_at is None or timezone.now() >= self.retake_at


def assessment_rows_for_user(user: User) -> list[AssessmentRow]:
    from django.db.models import Count

    assessments = (
        SkillAssessment.objects.filter(is_active=True)
        .select_related("skill")
        .annotate(question_count=Count("questions"))
        .order_by("skill__name")
    )
    latest: dict[int, AssessmentAttempt] = {}
    for attempt in AssessmentAttempt.objects.filter(user=user).order_by("started_at"):
        latest[attempt.assessment_id] = attempt
    rows = []
    for assessment in assessments:
        last = latest.get(assessment.pk)
        retake = last.started_at + timedelta(days=settings.ASSESSMENT_RETAKE_DAYS) if last else None
        rows.append(AssessmentRow(assessment, last, retake, assessment.question_count))  # type: ignore[attr-defined]
    return rows


def taxonomy_categories() -> QuerySet[Category]:
    return Category.objects.prefetch_related(
        Prefetch("subcategories", queryset=Subcategory.objects.order_by("position", "name"))
    )


def skill_search(*, query: str = "", category_id: int | None = None, limit: int = 20) -> QuerySet[Skill]:
    qs = Skill.objects.select_related("subcategory")
    if category_id:
        qs = qs.filter(subcategory__category_id=category_id)
    if query:
        qs = qs.filter(name__icontains=query.strip()[:60])
    return qs.order_by("name")[:limit]
