"""Write use cases of accounts. Every function is keyword-only and takes the acting user.

A user only ever writes their own profile: services find rows through the actor, so an id
of somebody else's row is simply not found (404), never edited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.uploads import process_file, process_image, random_name

from . import signals as account_signals
from .models import (
    ONBOARDING_ORDER,
    AssessmentAttempt,
    ClientProfile,
    Education,
    Employment,
    FreelancerProfile,
    IdentityVerification,
    ModerationAction,
    OnboardingStep,
    PortfolioItem,
    ProfileLanguage,
    Role,
    Skill,
    SkillAssessment,
    Subcategory,
    SuspensionReason,
    User,
    UserModerationEvent,
)

security_log = logging.getLogger("marketplace.security")

MIN_RATE_CENTS = 300
MAX_RATE_CENTS = 99900
OVERVIEW_MIN_CHARS = 100
PORTFOLIO_FILE_KINDS = ("pdf", "jpeg", "png", "webp", "zip", "docx", "xlsx", "txt")


def _queue_match_refresh(profile_id: int) -> None:
    """After commit, ask the matching (jobs app) to rescore this freelancer.

    By task name, so that accounts does not import jobs (jobs stands on accounts).
    """
    from celery import current_app

    def send() -> None:
        task = current_app.tasks.get("jobs.refresh_matches_for_freelancer")
        if task is not None:
            task.delay(profile_id)

    transaction.on_commit(send)


# --- roles ----------------------------------------------------------------------------------


def _ensure_role_profile(user: User, role: str) -> None:
    if role == Role.FREELANCER:
        FreelancerProfile.objects.get_or_create(user=user)
    elif role == Role.CLIENT:
        ClientProfile.objects.get_or_create(user=user)
    else:
        raise ApplicationError("Choose freelancer or client.", code="invalid_role")


@transaction.atomic
def user_complete_signup(*, user: User, role: str, first_name: str, last_name: str) -> User:
    """Finish a new account: name, the role it starts in and that role's profile."""
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise ApplicationError("Enter your first and last name.", code="name_required")
    _ensure_role_profile(user, role)
    user.first_name, user.last_name, user.active_role = first_name[:60], last_name[:60], role
    user.save(update_fields=["first_name", "last_name", "active_role"])
    return user


@transaction.atomic
def user_switch_role(*, actor: User, role: str) -> User:
    """Act as ``role`` from now on, creating that role's profile the first time."""
    _require_can_act(actor)
    _ensure_role_profile(actor, role)
    if actor.active_role != role:
        actor.active_role = role
        actor.save(update_fields=["active_role"])
    return actor


@transaction.atomic
def user_update_name(*, actor: User, first_name: str, last_name: str) -> User:
    _require_can_act(actor)
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise ApplicationError("Enter your first and last name.", code="name_required")
    if len(first_name) > 60 or len(last_name) > 60:
        raise ApplicationError("Names are limited to 60 characters.", code="name_too_long")
    actor.first_name, actor.last_name = first_name, last_name
    actor.save(update_fields=["first_name", "last_name"])
    return actor


@transaction.atomic
def user_delete_account(*, actor: User) -> None:
    """Close the account: personal data is erased, the row stays for the records it anchors.

    Contracts, payments and reviews (later issues) keep pointing at the row, so it is
    anonymised and deactivated rather than deleted.
    """
    _require_can_act(actor)  # a suspended account's data is kept for the investigation
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.is_staff:
        raise PermissionDeniedError("Staff accounts are closed by an administrator.", code="staff_account")
    # Uploaded files go too; deleted from storage only once the transaction has committed.
    stored: list[tuple[Any, Any]] = []
    for profile in FreelancerProfile.objects.filter(user=user):
        if profile.photo:
            stored.append((profile.photo.storage, profile.photo.name))
        for item in profile.portfolio_items.all():
            stored += [(f.storage, f.name) for f in (item.image, item.file) if f]
    identity = IdentityVerification.objects.filter(user=user)
    stored += [(v.document.storage, v.document.name) for v in identity if v.document]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])
    identity.delete()  # the ID document and the legal name are personal data
    FreelancerProfile.objects.filter(user=user).delete()
    ClientProfile.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.first_name, user.last_name = "Deleted", "user"
    user.is_active = False
    user.deleted_at = timezone.now()
    user.signup_ip, user.identity_verified_at = None, None
    user.set_unusable_password()
    user.save()
    security_log.info("account_deleted user_id=%s", user.pk)


# --- moderation -------------------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can do this.")


# Set by ``suspended_handover`` to the id of the user whose suspension is waived inside it.
_handover_user_id: ContextVar[int | None] = ContextVar("suspended_handover", default=None)


@contextmanager
def suspended_handover(actor: User) -> Iterator[None]:
    """Inside this block ``require_can_act`` lets ``actor`` through even when suspended.

    The one exception to a suspension's read-only rule: a suspended freelancer still hands
    over the work they owe on their contracts (submitting a funded milestone, sharing a
    contract file), so that the client is not left without it. Only those services open it.
    """
    token = _handover_user_id.set(actor.pk)
    try:
        yield
    finally:
        _handover_user_id.reset(token)


def require_can_act(actor: User) -> None:
    """Refuse every write of a suspended account (other apps call this too)."""
    if actor.is_suspended and _handover_user_id.get() != actor.pk:
        raise PermissionDeniedError(
            "Your account is suspended; you can read but not change anything.", code="account_suspended"
        )


_require_can_act = require_can_act


@transaction.atomic
def user_suspend(*, actor: User, user_id: int, reason: str, note: str = "") -> User:
    """Suspend an account: it cannot log in or act, and is told why."""
    _require_staff(actor)
    _require_can_act(actor)
    if reason not in SuspensionReason.values:
        raise ApplicationError("Choose a reason for the suspension.", code="reason_required")
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such user.")
    if user.pk == actor.pk:
        raise ApplicationError("You cannot suspend yourself.", code="self_suspend")
    if user.is_suspended:
        raise ApplicationError(f"{user.email} is already suspended.", code="already_suspended")
    user.suspended_at = timezone.now()
    user.suspension_reason = reason
    user.suspension_note = note.strip()
    user.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
    UserModerationEvent.objects.create(
        user=user, actor=actor, action=ModerationAction.SUSPEND, reason=reason, note=note.strip()
    )
    profile_id = FreelancerProfile.objects.filter(user=user).values_list("pk", flat=True).first()
    if profile_id:
        _queue_match_refresh(profile_id)  # drop the suspended freelancer from feeds and suggestions
    # contracts pause the suspended freelancer's contracts and offer their clients the escrow
    account_signals.user_suspended.send(sender=User, user=user, actor=actor)
    security_log.info("user_suspended user_id=%s by=%s reason=%s", user.pk, actor.pk, reason)
    return user


@transaction.atomic
def user_reinstate(*, actor: User, user_id: int, note: str = "") -> User:
    _require_staff(actor)
    _require_can_act(actor)  # a suspended staff member cannot lift their own suspension
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such user.")
    if not user.is_suspended:
        raise ApplicationError(f"{user.email} is not suspended.", code="not_suspended")
    user.suspended_at = None
    user.suspension_reason = ""
    user.suspension_note = ""
    user.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
    UserModerationEvent.objects.create(
        user=user, actor=actor, action=ModerationAction.REINSTATE, note=note.strip()
    )
    profile_id = FreelancerProfile.objects.filter(user=user).values_list("pk", flat=True).first()
    if profile_id:
        _queue_match_refresh(profile_id)
    security_log.info("user_reinstated user_id=%s by=%s", user.pk, actor.pk)
    return user


# --- freelancer profile -------------------------------------------------------------------------


def _own_freelancer_profile(actor: User, *, lock: bool = False) -> FreelancerProfile:
    _require_can_act(actor)
    qs = FreelancerProfile.objects.all()
    if lock:
        qs = qs.select_for_update()
    profile = qs.filter(user=actor).first()
    if profile is None:
        raise PermissionDeniedError("Switch to your freelancer profile first.", code="not_freelancer")
    return profile


def _clean_text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ApplicationError(f"{field} is required.", code="required", extra={"field": field})
    if len(text) > max_length:
        raise ApplicationError(
            f"{field} is limited to {max_length:,} characters (you have {len(text):,}).",
            code="too_long",
            extra={"field": field, "max_length": max_length},
        )
    return text


PROFILE_TEXT_LIMITS = {"title": 100, "overview": 5000}


@transaction.atomic
def freelancer_profile_update(*, actor: User, **fields: Any) -> FreelancerProfile:
    """Update scalar profile fields. Unknown fields are refused; each field is validated."""
    profile = _own_freelancer_profile(actor, lock=True)
    allowed = {
        "title",
        "overview",
        "hourly_rate_cents",
        "experience_level",
        "country",
        "timezone",
        "availability",
        "open_to_contract_to_hire",
        "visibility",
        "category_id",
        "subcategory_id",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_fields")
    changed: list[str] = []
    for name, value in fields.items():
        if name in PROFILE_TEXT_LIMITS:
            value = _clean_text(value, field=name.capitalize(), max_length=PROFILE_TEXT_LIMITS[name])
        elif name == "hourly_rate_cents":
            if value is not None:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ApplicationError(
                        "Enter the hourly rate in cents, a whole number.",
                        code="invalid_rate",
                        extra={"field": "hourly_rate"},
                    )
                if not MIN_RATE_CENTS <= value <= MAX_RATE_CENTS:
                    raise ApplicationError(
                        "Hourly rate must be between $3.00 and $999.00.",
                        code="rate_out_of_range",
                        extra={"field": "hourly_rate"},
                    )
        elif name == "subcategory_id" and value is not None:
            sub = Subcategory.objects.filter(pk=value).first()
            if sub is None:
                raise ApplicationError("Unknown specialty.", code="invalid_subcategory")
            if "category_id" not in fields:
                profile.category_id = sub.category_id
                changed.append("category")
        elif name == "category_id" and value is not None:
            from .models import Category

            if not Category.objects.filter(pk=value).exists():
                raise ApplicationError("Unknown category.", code="invalid_category")
        else:
            _validate_choice(profile, name, value)
        setattr(profile, name, value)
        changed.append(name.removesuffix("_id"))
    if (
        profile.subcategory_id
        and profile.category_id
        and Subcategory.objects.filter(pk=profile.subcategory_id)
        .values_list("category_id", flat=True)
        .first()
        != profile.category_id
    ):
        raise ApplicationError(
            "The specialty does not belong to the chosen category.", code="category_mismatch"
        )
    if changed:
        profile.save(update_fields=[*set(changed), "updated_at"])
        if profile.published_at:
            _queue_match_refresh(profile.pk)
    return profile


def _validate_choice(instance: Any, name: str, value: Any) -> None:
    field = instance._meta.get_field(name)
    if value == "" and field.blank:
        return
    if field.choices and value not in {c[0] for c in field.flatchoices}:
        raise ApplicationError(
            f"'{value}' is not a valid {field.verbose_name}.", code="invalid_choice", extra={"field": name}
        )


@transaction.atomic
def freelancer_profile_set_skills(*, actor: User, skill_ids: list[int]) -> FreelancerProfile:
    profile = _own_freelancer_profile(actor, lock=True)
    try:
        unique_ids = list(dict.fromkeys(int(i) for i in skill_ids))
    except (TypeError, ValueError):
        raise ApplicationError("Skills are given by their numeric ids.", code="invalid_skill")
    limit = settings.FREELANCER_MAX_SKILLS
    if len(unique_ids) > limit:
        raise ApplicationError(
            f"Choose at most {limit} skills (you chose {len(unique_ids)}).", code="too_many_skills"
        )
    skills = list(Skill.objects.filter(pk__in=unique_ids))
    if len(skills) != len(unique_ids):
        raise ApplicationError("One of the skills does not exist.", code="invalid_skill")
    profile.skills.set(skills)
    if profile.published_at:
        _queue_match_refresh(profile.pk)
    return profile


@transaction.atomic
def freelancer_profile_set_photo(*, actor: User, upload) -> FreelancerProfile:
    profile = _own_freelancer_profile(actor, lock=True)
    content = process_image(upload, max_bytes=settings.PROFILE_PHOTO_MAX_BYTES, max_side=400, square=True)
    old = profile.photo.name if profile.photo else ""
    profile.photo.save(content.name or random_name(".jpg"), content, save=False)
    profile.save(update_fields=["photo", "updated_at"])
    if old:
        storage = profile.photo.storage
        transaction.on_commit(lambda: storage.delete(old))
    return profile


def _step_index(step: str) -> int:
    return ONBOARDING_ORDER.index(step)


@transaction.atomic
def freelancer_onboarding_advance(*, actor: User, completed_step: str) -> FreelancerProfile:
    """Record that ``completed_step`` is done; the wizard resumes at the next one."""
    profile = _own_freelancer_profile(actor, lock=True)
    if completed_step not in ONBOARDING_ORDER:
        raise ApplicationError("Unknown onboarding step.", code="invalid_step")
    if completed_step == OnboardingStep.ABOUT and not (
        profile.title and profile.category_id and profile.skills.exists()
    ):
        raise ApplicationError("Add a title, a category and at least one skill.", code="step_incomplete")
    if completed_step == OnboardingStep.LANGUAGES and not profile.languages.exists():
        raise ApplicationError("Add at least one language.", code="step_incomplete")
    if completed_step == OnboardingStep.RATE and not profile.hourly_rate_cents:
        raise ApplicationError("Set your hourly rate.", code="step_incomplete")
    if completed_step == OnboardingStep.OVERVIEW and len(profile.overview) < OVERVIEW_MIN_CHARS:
        raise ApplicationError(
            f"Write an overview of at least {OVERVIEW_MIN_CHARS} characters.", code="step_incomplete"
        )
    following = ONBOARDING_ORDER[min(_step_index(completed_step) + 1, len(ONBOARDING_ORDER) - 1)]
    if _step_index(following) > _step_index(profile.onboarding_step):
        profile.onboarding_step = following
        profile.save(update_fields=["onboarding_step", "updated_at"])
    return profile


@transaction.atomic
def freelancer_profile_publish(*, actor: User) -> FreelancerProfile:
    """Publish the profile once the required parts are there (see selectors.profile_completeness)."""
    from .selectors import profile_completeness

    profile = _own_freelancer_profile(actor, lock=True)
    completeness = profile_completeness(profile)
    missing_required = [item for item in completeness.missing if item.required]
    if missing_required:
        raise ApplicationError(
            "Before publishing: " + "; ".join(item.label for item in missing_required) + ".",
            code="profile_incomplete",
            extra={"missing": [item.key for item in missing_required]},
        )
    if profile.published_at is None:
        profile.published_at = timezone.now()
    profile.onboarding_step = OnboardingStep.REVIEW
    profile.save(update_fields=["published_at", "onboarding_step", "updated_at"])
    _queue_match_refresh(profile.pk)
    return profile


@transaction.atomic
def freelancer_profile_unpublish(*, actor: User) -> FreelancerProfile:
    profile = _own_freelancer_profile(actor, lock=True)
    profile.published_at = None
    profile.save(update_fields=["published_at", "updated_at"])
    _queue_match_refresh(profile.pk)
    return profile


# --- portfolio, education, employment, languages ----------------------------------------------


def _own_item(model, *, actor: User, item_id: int, profile: FreelancerProfile | None = None):
    profile = profile or _own_freelancer_profile(actor)
    item = model.objects.select_for_update().filter(pk=item_id, profile=profile).first()
    if item is None:
        raise NotFoundError(f"No such {model._meta.verbose_name} on your profile.")
    return item


MAX_PORTFOLIO_ITEMS = 30


@transaction.atomic
def portfolio_item_save(
    *,
    actor: User,
    item_id: int | None = None,
    title: str,
    description: str = "",
    link: str = "",
    skill_ids: list[int] | None = None,
    image=None,
    file=None,
) -> PortfolioItem:
    """Create (``item_id`` None) or update a portfolio item on the actor's own profile."""
    profile = _own_freelancer_profile(actor, lock=True)
    if item_id is None:
        if profile.portfolio_items.count() >= MAX_PORTFOLIO_ITEMS:
            raise ApplicationError(
                f"A portfolio holds at most {MAX_PORTFOLIO_ITEMS} items.", code="too_many_items"
            )
        item = PortfolioItem(profile=profile, position=profile.portfolio_items.count())
    else:
        item = _own_item(PortfolioItem, actor=actor, item_id=item_id, profile=profile)
    item.title = _clean_text(title, field="Title", max_length=100, required=True)
    item.description = _clean_text(description, field="Description", max_length=2000)
    item.link = _clean_url(link)
    if image:
        content = process_image(image, max_bytes=settings.PROFILE_PHOTO_MAX_BYTES, max_side=1600)
        _delete_files_on_commit(item.image)
        item.image.save(content.name or random_name(".jpg"), content, save=False)
    if file:
        content = process_file(
            file, allowed=PORTFOLIO_FILE_KINDS, max_bytes=settings.PORTFOLIO_FILE_MAX_BYTES
        )
        _delete_files_on_commit(item.file)
        item.file.save(content.name or random_name(".bin"), content, save=False)
    item.save()
    if skill_ids is not None:
        skills = list(Skill.objects.filter(pk__in=skill_ids)[:15])
        item.skills.set(skills)
    return item


def _clean_url(value: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 200:
        raise ApplicationError("Links are limited to 200 characters.", code="invalid_url")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ApplicationError("Enter a full link starting with https://", code="invalid_url")
    return value


@transaction.atomic
def portfolio_item_delete(*, actor: User, item_id: int) -> None:
    item = _own_item(PortfolioItem, actor=actor, item_id=item_id)
    _delete_files_on_commit(item.image, item.file)
    item.delete()


def _delete_files_on_commit(*files: Any) -> None:
    """Remove stored files once the transaction that dropped their rows has committed."""
    stored = [(f.storage, f.name) for f in files if f]
    if stored:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])


def _year(value: Any, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(f"{label} must be a year like 2019.", code="invalid_year")
    if not 1950 <= year <= timezone.now().year + 8:
        raise ApplicationError(
            f"{label} must be between 1950 and {timezone.now().year + 8}.", code="invalid_year"
        )
    return year


@transaction.atomic
def education_save(
    *,
    actor: User,
    item_id: int | None = None,
    school: str,
    degree: str = "",
    field_of_study: str = "",
    start_year: Any = None,
    end_year: Any = None,
    description: str = "",
) -> Education:
    profile = _own_freelancer_profile(actor, lock=True)
    item = (
        Education(profile=profile)
        if item_id is None
        else _own_item(Education, actor=actor, item_id=item_id, profile=profile)
    )
    item.school = _clean_text(school, field="School", max_length=120, required=True)
    item.degree = _clean_text(degree, field="Degree", max_length=120)
    item.field_of_study = _clean_text(field_of_study, field="Field of study", max_length=120)
    item.description = _clean_text(description, field="Description", max_length=1000)
    item.start_year = _year(start_year, "Start year")
    item.end_year = _year(end_year, "End year")
    if item.start_year and item.end_year and item.end_year < item.start_year:
        raise ApplicationError("The end year cannot be before the start year.", code="dates_reversed")
    item.save()
    return item


@transaction.atomic
def education_delete(*, actor: User, item_id: int) -> None:
    _own_item(Education, actor=actor, item_id=item_id).delete()


@transaction.atomic
def employment_save(
    *,
    actor: User,
    item_id: int | None = None,
    company: str,
    title: str,
    start_date: date | None,
    end_date: date | None = None,
    country: str = "",
    description: str = "",
) -> Employment:
    profile = _own_freelancer_profile(actor, lock=True)
    item = (
        Employment(profile=profile)
        if item_id is None
        else _own_item(Employment, actor=actor, item_id=item_id, profile=profile)
    )
    item.company = _clean_text(company, field="Company", max_length=120, required=True)
    item.title = _clean_text(title, field="Title", max_length=120, required=True)
    item.description = _clean_text(description, field="Description", max_length=2000)
    if start_date is None:
        raise ApplicationError("Enter the start date.", code="required", extra={"field": "start_date"})
    today = timezone.now().date()
    if start_date > today:
        raise ApplicationError("The start date cannot be in the future.", code="date_in_future")
    if start_date.year < 1950:
        raise ApplicationError("The start date is too far in the past.", code="invalid_date")
    if end_date is not None and end_date < start_date:
        raise ApplicationError("The end date cannot be before the start date.", code="dates_reversed")
    if end_date is not None and end_date > today:
        raise ApplicationError(
            "The end date cannot be in the future; leave it empty if you still work there.",
            code="date_in_future",
        )
    from django_countries import countries

    if country and country not in dict(countries):
        raise ApplicationError("Unknown country.", code="invalid_country")
    item.start_date, item.end_date, item.country = start_date, end_date, country
    item.save()
    return item


@transaction.atomic
def employment_delete(*, actor: User, item_id: int) -> None:
    _own_item(Employment, actor=actor, item_id=item_id).delete()


@transaction.atomic
def language_set(*, actor: User, language: str, proficiency: str) -> ProfileLanguage:
    """Add a language or change its proficiency."""
    profile = _own_freelancer_profile(actor, lock=True)
    probe = ProfileLanguage(profile=profile, language=language, proficiency=proficiency)
    _validate_choice(probe, "language", language)
    _validate_choice(probe, "proficiency", proficiency)
    item, _ = ProfileLanguage.objects.update_or_create(
        profile=profile, language=language, defaults={"proficiency": proficiency}
    )
    return item


@transaction.atomic
def language_delete(*, actor: User, item_id: int) -> None:
    _own_item(ProfileLanguage, actor=actor, item_id=item_id).delete()


# --- client profile ------------------------------------------------------------------------------


@transaction.atomic
def client_profile_update(*, actor: User, **fields: Any) -> ClientProfile:
    _require_can_act(actor)
    profile = ClientProfile.objects.select_for_update().filter(user=actor).first()
    if profile is None:
        raise PermissionDeniedError("Switch to your client account first.", code="not_client")
    allowed = {"kind", "company_name", "company_size", "website", "industry", "country", "timezone"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_fields")
    for name, value in fields.items():
        if name == "company_name":
            value = _clean_text(value, field="Company name", max_length=120)
        elif name == "industry":
            value = _clean_text(value, field="Industry", max_length=80)
        elif name == "website":
            value = _clean_url(value)
        elif name == "company_size" and value == "":
            pass
        elif name == "country":
            from django_countries import countries

            if value and value not in dict(countries):
                raise ApplicationError("Unknown country.", code="invalid_country")
        else:
            _validate_choice(profile, name, value)
        setattr(profile, name, value)
    kind = fields.get("kind", profile.kind)
    if kind == "company" and not profile.company_name:
        raise ApplicationError(
            "Enter the company name.", code="company_name_required", extra={"field": "company_name"}
        )
    if fields:
        profile.save(update_fields=[*fields.keys(), "updated_at"])
    return profile


# --- skill assessments -------------------------------------------------------------------------


def _retake_after(attempt: AssessmentAttempt):
    return attempt.started_at + timedelta(days=settings.ASSESSMENT_RETAKE_DAYS)


@transaction.atomic
def assessment_start(*, actor: User, assessment_id: int) -> AssessmentAttempt:
    """Start a timed attempt. One attempt per skill per ASSESSMENT_RETAKE_DAYS days.

    The user row is locked so that two tabs starting at once create one attempt.
    """
    _require_can_act(actor)
    User.objects.select_for_update().filter(pk=actor.pk).first()
    assessment = SkillAssessment.objects.filter(pk=assessment_id, is_active=True).first()
    if assessment is None:
        raise NotFoundError("No such assessment.")
    if not hasattr(actor, "freelancer_profile"):
        raise PermissionDeniedError("Skill tests are for freelancers.", code="not_freelancer")
    last = AssessmentAttempt.objects.filter(user=actor, assessment=assessment).order_by("-started_at").first()
    now = timezone.now()
    if last is not None:
        if last.is_open:
            return last
        if now < _retake_after(last):
            raise ApplicationError(
                f"You can take this test again on {_retake_after(last):%b %d, %Y}.",
                code="retake_too_soon",
                extra={"retake_after": _retake_after(last).isoformat()},
            )
    return AssessmentAttempt.objects.create(
        user=actor,
        assessment=assessment,
        started_at=now,
        deadline_at=now + timedelta(minutes=assessment.time_limit_minutes),
    )


# Answers arriving this long after the deadline still count (network and clock slack).
SUBMIT_GRACE = timedelta(seconds=30)


@transaction.atomic
def assessment_submit(*, actor: User, attempt_id: int, answers: dict[int, int]) -> AssessmentAttempt:
    """Grade an attempt on the server. ``answers`` maps question id -> choice id.

    Submitted after the deadline (plus a small grace), the attempt is graded as if no
    answers were given. Submitting twice is refused.
    """
    _require_can_act(actor)
    attempt = (
        AssessmentAttempt.objects.select_for_update()
        .select_related("assessment")
        .filter(pk=attempt_id, user=actor)
        .first()
    )
    if attempt is None:
        raise NotFoundError("No such attempt.")
    if attempt.submitted_at is not None:
        raise ApplicationError("This attempt has already been graded.", code="already_submitted")
    now = timezone.now()
    late = now > attempt.deadline_at + SUBMIT_GRACE
    questions = list(attempt.assessment.questions.prefetch_related("choices"))
    correct = 0
    if not late:
        for question in questions:
            chosen = answers.get(question.pk)
            if chosen is None:
                continue
            if any(c.pk == chosen and c.is_correct for c in question.choices.all()):
                correct += 1
    total = len(questions) or 1
    attempt.score_percent = round(100 * correct / total)
    attempt.passed = attempt.score_percent >= attempt.assessment.pass_percent
    attempt.submitted_at = now
    attempt.save(update_fields=["score_percent", "passed", "submitted_at"])
    return attempt


@transaction.atomic
def freelancer_profile_apply(
    *,
    actor: User,
    fields: dict[str, Any],
    skill_ids: list[int] | None = None,
    education: list[dict[str, Any]] | None = None,
    employment: list[dict[str, Any]] | None = None,
    languages: list[dict[str, Any]] | None = None,
    portfolio_items: list[dict[str, Any]] | None = None,
) -> FreelancerProfile:
    """Apply a whole profile document (the API's PATCH) in one transaction.

    Scalar ``fields`` are updated; each nested list that is given replaces that collection.
    Any invalid part rolls back the whole change.
    """
    profile = _own_freelancer_profile(actor, lock=True)
    if fields:
        freelancer_profile_update(actor=actor, **fields)
    if skill_ids is not None:
        freelancer_profile_set_skills(actor=actor, skill_ids=skill_ids)
    if education is not None:
        profile.education.all().delete()
        for item in education:
            education_save(actor=actor, **item)
    if employment is not None:
        profile.employment.all().delete()
        for item in employment:
            employment_save(actor=actor, **item)
    if languages is not None:
        profile.languages.all().delete()
        for item in languages:
            language_set(actor=actor, **item)
    if portfolio_items is not None:
        profile.portfolio_items.all().delete()
        for item in portfolio_items:
            portfolio_item_save(actor=actor, **item)
    profile.refresh_from_db()
    return profile
