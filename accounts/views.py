"""Thin HTML views: parse a form, call one service, render or redirect with a message."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.ids import as_id, as_ids
from marketplace.redirects import redirect_back
from marketplace.types import AuthedRequest
from payments.fees import freelancer_earnings

from . import selectors, services
from .forms import (
    AboutForm,
    ClientProfileForm,
    DeleteAccountForm,
    EducationForm,
    EmploymentForm,
    LanguageForm,
    NameForm,
    OverviewForm,
    PortfolioItemForm,
    RateForm,
    RoleSwitchForm,
)
from .models import (
    ONBOARDING_ORDER,
    AssessmentAttempt,
    ClientProfile,
    FreelancerProfile,
    OnboardingStep,
    Role,
    Skill,
    SkillAssessment,
)


def _freelancer_profile_or_redirect(request: AuthedRequest) -> FreelancerProfile | None:
    return FreelancerProfile.objects.filter(user=request.user).first()


# --- dashboard and roles ---------------------------------------------------------------------


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.active_role == Role.CLIENT and user.is_client:
        client_profile = ClientProfile.objects.get(user=user)
        return render(request, "accounts/dashboard_client.html", {"profile": client_profile})
    profile = FreelancerProfile.objects.filter(user=user).first()
    if profile is None:
        profile = services.user_switch_role(actor=user, role=Role.FREELANCER).freelancer_profile
    context = {
        "profile": profile,
        "completeness": selectors.profile_completeness(profile),
        "verified_skills": selectors.verified_skills(user),
        "earnings_example": freelancer_earnings(profile.hourly_rate_cents or 0),
    }
    return render(request, "accounts/dashboard_freelancer.html", context)


@login_required
def start(request: AuthedRequest) -> HttpResponse:
    """After sign-up: freelancers into the wizard, clients to their company profile."""
    user = request.user
    if user.active_role == Role.CLIENT and user.is_client:
        return redirect("accounts:client_profile")
    profile = FreelancerProfile.objects.filter(user=user).first()
    if profile is not None and profile.published_at is None:
        return redirect("accounts:onboarding")
    return redirect("dashboard")


@login_required
@require_POST
def role_switch(request: AuthedRequest) -> HttpResponse:
    form = RoleSwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose freelancer or client.")
        return redirect("dashboard")
    role = form.cleaned_data["role"]
    is_new = not (request.user.is_client if role == Role.CLIENT else request.user.is_freelancer)
    services.user_switch_role(actor=request.user, role=role)
    label = str(Role(role).label).lower()
    messages.success(
        request, f"You are now working as a {label}." + (" Your profile was created." if is_new else "")
    )
    if role == Role.CLIENT and is_new:
        return redirect("accounts:client_profile")
    if role == Role.FREELANCER and is_new:
        return redirect("accounts:onboarding")
    return redirect("dashboard")


# --- onboarding wizard -------------------------------------------------------------------------


STEP_TEMPLATES = {step: f"accounts/onboarding/{step}.html" for step in ONBOARDING_ORDER}


def _next_step(step: str) -> str:
    index = ONBOARDING_ORDER.index(step)
    return ONBOARDING_ORDER[min(index + 1, len(ONBOARDING_ORDER) - 1)]


def _prev_step(step: str) -> str | None:
    index = ONBOARDING_ORDER.index(step)
    return ONBOARDING_ORDER[index - 1] if index > 0 else None


@login_required
def onboarding(request: AuthedRequest, step: str | None = None) -> HttpResponse:
    profile = _freelancer_profile_or_redirect(request)
    if profile is None:
        messages.info(request, "Create your freelancer profile first.")
        return redirect("dashboard")
    if step is None:
        return redirect("accounts:onboarding_step", step=profile.onboarding_step)
    if step not in ONBOARDING_ORDER:
        raise Http404("No such step.")
    handler = _STEP_HANDLERS[step]
    form, extra = handler(request, profile)
    if isinstance(form, HttpResponse):
        return form
    steps = [
        {
            "key": key,
            "label": OnboardingStep(key).label,
            "index": i + 1,
            "reachable": ONBOARDING_ORDER.index(key) <= ONBOARDING_ORDER.index(profile.onboarding_step),
        }
        for i, key in enumerate(ONBOARDING_ORDER)
    ]
    context = {
        "profile": profile,
        "form": form,
        "step": step,
        "step_label": OnboardingStep(step).label,
        "step_number": ONBOARDING_ORDER.index(step) + 1,
        "step_count": len(ONBOARDING_ORDER),
        "steps": steps,
        "prev_step": _prev_step(step),
        "next_step": _next_step(step),
        "completeness": selectors.profile_completeness(profile),
        **extra,
    }
    return render(request, STEP_TEMPLATES[step], context)


def _advance(request: AuthedRequest, step: str) -> HttpResponse:
    services.freelancer_onboarding_advance(actor=request.user, completed_step=step)
    return redirect("accounts:onboarding_step", step=_next_step(step))


def _step_about(request: AuthedRequest, profile: FreelancerProfile):
    initial = {
        "title": profile.title,
        "category": profile.category_id,
        "subcategory": profile.subcategory_id,
        "skills": list(profile.skills.values_list("pk", flat=True)),
        "experience_level": profile.experience_level,
    }
    form = AboutForm(request.POST or None, initial=initial)
    posted_category = request.POST.get("category", "")
    category_id = as_id(posted_category) or profile.category_id
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.freelancer_profile_update(
                actor=request.user,
                title=data["title"],
                category_id=data["category"].pk,
                subcategory_id=data["subcategory"].pk if data["subcategory"] else None,
                experience_level=data["experience_level"],
            )
            services.freelancer_profile_set_skills(
                actor=request.user, skill_ids=[s.pk for s in data["skills"]]
            )
            messages.success(request, "Saved your title, category and skills.")
            return _advance(request, OnboardingStep.ABOUT), {}
        except ApplicationError as error:
            add_application_error(form, error)
    raw_selected: list = (
        request.POST.getlist("skills")
        if request.method == "POST"
        else list(profile.skills.values_list("pk", flat=True))
    )
    selected = set(as_ids(raw_selected))
    return form, {"skill_options": _skill_options(category_id, selected), "selected_skills": selected}


def _skill_options(category_id, selected: set[int]) -> list[Skill]:
    options = (
        list(Skill.objects.filter(subcategory__category_id=category_id).order_by("name"))
        if category_id
        else []
    )
    have = {s.pk for s in options}
    extra = list(Skill.objects.filter(pk__in=selected - have))
    return extra + options


@login_required
def skill_options(request: AuthedRequest) -> HttpResponse:
    """HTMX partial: the skill checkboxes of a category."""
    category_id = as_id(request.GET.get("category")) or 0
    selected = set(as_ids(request.GET.getlist("skills")))
    return render(
        request,
        "accounts/partials/skill_options.html",
        {"skill_options": _skill_options(category_id, selected), "selected_skills": selected},
    )


def _collection_step(request, profile, *, step, form_class, save, label):
    form = form_class(request.POST or None) if request.POST.get("action") == "add" else form_class()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add" and form.is_valid():
            try:
                save(form.cleaned_data)
                messages.success(request, f"Added {label}.")
                return redirect("accounts:onboarding_step", step=step), {}
            except ApplicationError as error:
                add_application_error(form, error)
        elif action == "next":
            try:
                return _advance(request, step), {}
            except ApplicationError as error:
                messages.error(request, error.message)
    return form, {}


def _step_education(request, profile):
    return _collection_step(
        request,
        profile,
        step=OnboardingStep.EDUCATION,
        form_class=EducationForm,
        label="your education",
        save=lambda data: services.education_save(actor=request.user, **data),
    )


def _step_experience(request, profile):
    return _collection_step(
        request,
        profile,
        step=OnboardingStep.EXPERIENCE,
        form_class=EmploymentForm,
        label="the position",
        save=lambda data: services.employment_save(actor=request.user, **data),
    )


def _step_languages(request, profile):
    return _collection_step(
        request,
        profile,
        step=OnboardingStep.LANGUAGES,
        form_class=LanguageForm,
        label="the language",
        save=lambda data: services.language_set(actor=request.user, **data),
    )


def _step_rate(request, profile):
    initial = {"hourly_rate": f"{profile.hourly_rate_cents / 100:.2f}" if profile.hourly_rate_cents else ""}
    form = RateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.freelancer_profile_update(
                actor=request.user, hourly_rate_cents=form.cleaned_data["hourly_rate"]
            )
            messages.success(request, "Saved your hourly rate.")
            return _advance(request, OnboardingStep.RATE), {}
        except ApplicationError as error:
            add_application_error(form, error)
    rate = profile.hourly_rate_cents or 0
    return form, {"earnings": freelancer_earnings(rate)}


def _step_overview(request, profile):
    initial = {
        "overview": profile.overview,
        "country": str(profile.country) if profile.country else "",
        "timezone": profile.timezone,
        "availability": profile.availability,
        "open_to_contract_to_hire": profile.open_to_contract_to_hire,
        "visibility": profile.visibility,
    }
    form = OverviewForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        photo = data.pop("photo")
        try:
            if photo:
                services.freelancer_profile_set_photo(actor=request.user, upload=photo)
            services.freelancer_profile_update(actor=request.user, **data)
            messages.success(request, "Saved your overview.")
            return _advance(request, OnboardingStep.OVERVIEW), {}
        except ApplicationError as error:
            add_application_error(form, error)
    return form, {}


def _step_review(request, profile):
    form = (
        PortfolioItemForm(request.POST or None, request.FILES or None)
        if request.method == "POST"
        else PortfolioItemForm()
    )
    if request.method == "POST" and request.POST.get("action") == "add" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.portfolio_item_save(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                link=data["link"],
                skill_ids=[s.pk for s in data["skills"]],
                image=data["image"],
                file=data["file"],
            )
            messages.success(request, "Added the portfolio item.")
            return redirect("accounts:onboarding_step", step=OnboardingStep.REVIEW), {}
        except ApplicationError as error:
            add_application_error(form, error)
    return form, {"portfolio": profile.portfolio_items.prefetch_related("skills")}


_STEP_HANDLERS: dict[str, Any] = {
    OnboardingStep.ABOUT: _step_about,
    OnboardingStep.EDUCATION: _step_education,
    OnboardingStep.EXPERIENCE: _step_experience,
    OnboardingStep.LANGUAGES: _step_languages,
    OnboardingStep.RATE: _step_rate,
    OnboardingStep.OVERVIEW: _step_overview,
    OnboardingStep.REVIEW: _step_review,
}

_DELETERS = {
    "education": (services.education_delete, OnboardingStep.EDUCATION),
    "employment": (services.employment_delete, OnboardingStep.EXPERIENCE),
    "language": (services.language_delete, OnboardingStep.LANGUAGES),
    "portfolio": (services.portfolio_item_delete, OnboardingStep.REVIEW),
}


@login_required
@require_POST
def profile_item_delete(request: AuthedRequest, kind: str, item_id: int) -> HttpResponse:
    if kind not in _DELETERS:
        raise Http404("Unknown item.")
    delete, step = _DELETERS[kind]
    delete(actor=request.user, item_id=item_id)
    messages.success(request, "Removed.")
    default = reverse("accounts:onboarding_step", kwargs={"step": step})
    return redirect_back(request, request.POST.get("next"), default=default)


@login_required
@require_POST
def profile_publish(request: AuthedRequest) -> HttpResponse:
    try:
        profile = services.freelancer_profile_publish(actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("accounts:onboarding_step", step=OnboardingStep.REVIEW)
    messages.success(request, "Your profile is published. Clients can now find you.")
    return redirect("accounts:freelancer_detail", public_id=profile.public_id)


@login_required
@require_POST
def profile_unpublish(request: AuthedRequest) -> HttpResponse:
    services.freelancer_profile_unpublish(actor=request.user)
    messages.success(request, "Your profile is hidden until you publish it again.")
    return redirect("dashboard")


# --- public pages ---------------------------------------------------------------------------------


def freelancer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    profile = selectors.freelancer_get_for_viewer(public_id=public_id, viewer=request.user)
    context = {
        "profile": profile,
        "is_owner": request.user.is_authenticated and request.user.pk == profile.user_id,
        "verified_skills": selectors.verified_skills(profile.user),
    }
    return render(request, "accounts/freelancer_detail.html", context)


def freelancer_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.freelancer_list_visible(viewer=request.user)
    page = Paginator(qs, 12).get_page(request.GET.get("page"))
    return render(request, "accounts/freelancer_list.html", {"page": page})


# --- client profile and account settings ---------------------------------------------------------


@login_required
def client_profile(request: AuthedRequest) -> HttpResponse:
    profile = ClientProfile.objects.filter(user=request.user).first()
    if profile is None:
        messages.info(request, "Switch to hiring to create your client profile.")
        return redirect("dashboard")
    initial = {
        "kind": profile.kind,
        "company_name": profile.company_name,
        "company_size": profile.company_size,
        "website": profile.website,
        "industry": profile.industry,
        "country": str(profile.country) if profile.country else "",
        "timezone": profile.timezone,
    }
    form = ClientProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_profile_update(actor=request.user, **form.cleaned_data)
            messages.success(request, "Saved your client profile.")
            return redirect("dashboard")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(request, "accounts/client_profile.html", {"form": form, "profile": profile})


@login_required
def account_settings(request: AuthedRequest) -> HttpResponse:
    form = NameForm(
        request.POST or None,
        initial={"first_name": request.user.first_name, "last_name": request.user.last_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_name(actor=request.user, **form.cleaned_data)
            messages.success(request, "Saved your name.")
            return redirect("accounts:settings")
        except ApplicationError as error:
            add_application_error(form, error)
    from .views_trust import identity_context

    return render(
        request,
        "accounts/settings.html",
        {"form": form, "delete_form": DeleteAccountForm(), **identity_context(request.user)},
    )


@login_required
@reauthentication_required
def account_delete(request: AuthedRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_delete_account(actor=request.user)
        logout(request)
        messages.success(request, "Your account is closed and your personal data erased.")
        return redirect("home")
    return render(request, "accounts/delete.html", {"delete_form": form})


# --- skill assessments ---------------------------------------------------------------------------


@login_required
def assessment_list(request: AuthedRequest) -> HttpResponse:
    rows = selectors.assessment_rows_for_user(request.user)
    return render(request, "accounts/assessments/list.html", {"rows": rows})


@login_required
@require_POST
def assessment_start(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    try:
        attempt = services.assessment_start(actor=request.user, assessment_id=assessment_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("accounts:assessments")
    return redirect("accounts:assessment_attempt", attempt_id=attempt.pk)


@login_required
def assessment_attempt(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    attempt = get_object_or_404(
        AssessmentAttempt.objects.select_related("assessment__skill"), pk=attempt_id, user=request.user
    )
    if attempt.submitted_at:
        return redirect("accounts:assessment_result", attempt_id=attempt.pk)
    questions = attempt.assessment.questions.prefetch_related("choices")
    if request.method == "POST":
        answers: dict[int, int] = {}
        for question in questions:
            choice = as_id(request.POST.get(f"q{question.pk}"))
            if choice is not None:
                answers[question.pk] = choice
        attempt = services.assessment_submit(actor=request.user, attempt_id=attempt.pk, answers=answers)
        if attempt.passed:
            messages.success(
                request,
                f"You passed with {attempt.score_percent}%. "
                f"{attempt.assessment.skill.name} now shows as verified on your profile.",
            )
        else:
            messages.warning(
                request,
                f"You scored {attempt.score_percent}%; {attempt.assessment.pass_percent}% is needed to pass.",
            )
        return redirect("accounts:assessment_result", attempt_id=attempt.pk)
    return render(request, "accounts/assessments/attempt.html", {"attempt": attempt, "questions": questions})


@login_required
def assessment_result(request: AuthedRequest, attempt_id: int) -> HttpResponse:
    attempt = get_object_or_404(
        AssessmentAttempt.objects.select_related("assessment__skill"), pk=attempt_id, user=request.user
    )
    if attempt.submitted_at is None:
        return redirect("accounts:assessment_attempt", attempt_id=attempt.pk)
    return render(request, "accounts/assessments/result.html", {"attempt": attempt})


__all__ = ["SkillAssessment"]
