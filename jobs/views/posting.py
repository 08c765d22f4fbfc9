"""HTML views: the job-post wizard, My jobs, the job page, closing, reopening and flags.

Thin: parse a form, call one service of ``jobs.services``, redirect with a message; the
reads come from ``jobs.selectors_posting``. The wizard keeps its state in the draft job
itself: the first step creates it with ``job_create`` and every later step changes part
of its document with ``job_update``.

These patterns are included last in ``jobs.urls``, so ``jobs/<public_id>/`` comes after
the fixed paths of the other areas.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import ClientProfile, User
from accounts.teams import teams_where_can_post
from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.ids import as_id, as_ids
from marketplace.redirects import next_url
from marketplace.types import AuthedRequest

from .. import cache as jobs_cache
from .. import services
from ..forms import (
    JobBudgetForm,
    JobCloseForm,
    JobDetailsForm,
    JobFlagForm,
    JobScopeForm,
    JobSkillsForm,
    JobTitleForm,
)
from ..models import Job
from ..selectors_posting import (
    DRAFT_DESCRIPTION,
    DRAFT_FIXED_BUDGET_CENTS,
    MINE_TABS,
    SkillOptions,
    client_job_list,
    client_job_tab_counts,
    job_can_reopen,
    job_get_for_viewer,
    job_input_for,
    job_missing_parts,
    job_page,
    own_job_get,
    skill_suggestions,
)
from ..services import JobInput

# The wizard's steps, in order; the preview (jobs:preview) follows the last one.
STEPS: list[tuple[str, str]] = [
    ("title", "Title"),
    ("skills", "Skills"),
    ("scope", "Scope"),
    ("budget", "Budget"),
    ("details", "Description and details"),
]
STEP_KEYS = [key for key, _ in STEPS]
STEP_LABELS = dict(STEPS)
SUGGESTED_TALENT_TEMPLATE = "jobs/matches/suggested_talent.html"
DETAIL_MAIN_TEMPLATE = "jobs/posting/_detail_main.html"


def _is_client(user: Any) -> bool:
    return ClientProfile.objects.filter(user=user).exists()


def _need_client(request: HttpRequest) -> HttpResponse:
    """Someone without a client profile tried to post: tell them how to start hiring."""
    return render(request, "jobs/posting/need_client.html")


def _post(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one, so that it is validated), else None."""
    return request.POST if request.method == "POST" else None


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


# --- the wizard ----------------------------------------------------------------------------------


def _steps_context(job: Job | None, current: str) -> dict[str, Any]:
    is_draft = job is not None and job.status == Job.Status.DRAFT
    missing_steps = {part.step for part in job_missing_parts(job)} if job is not None and is_draft else set()
    steps = [
        {
            "key": key,
            "label": label,
            "index": i + 1,
            "current": key == current,
            "reachable": job is not None,
            "missing": key in missing_steps,
        }
        for i, (key, label) in enumerate(STEPS)
    ]
    index = STEP_KEYS.index(current) if current in STEP_KEYS else len(STEPS)
    return {
        "steps": steps,
        "step": current,
        "step_label": STEP_LABELS.get(current, "Review"),
        "step_number": index + 1,
        "step_count": len(STEPS) + 1,
        "prev_step": STEP_KEYS[index - 1] if 0 < index <= len(STEPS) else None,
    }


def _after_save(request: AuthedRequest, job: Job, step: str) -> HttpResponse:
    """Where the wizard goes after a step is saved: on, or out when saved as a draft."""
    if request.POST.get("action") == "draft":
        if job.status == Job.Status.DRAFT:
            messages.success(request, f"Draft saved: “{job.title}”. Continue any time from My jobs.")
            return redirect("jobs:mine")
        messages.success(request, "Changes saved. Freelancers see them now.")
        return redirect("jobs:detail", public_id=job.public_id)
    messages.success(request, f"Saved: {STEP_LABELS[step].lower()}.")
    index = STEP_KEYS.index(step)
    if index + 1 < len(STEP_KEYS):
        return redirect("jobs:edit_step", public_id=job.public_id, step=STEP_KEYS[index + 1])
    return redirect("jobs:preview", public_id=job.public_id)


def _update(request: AuthedRequest, job: Job, form: Any, **changes: Any) -> Job | None:
    """Change part of the job's document through ``job_update``; errors go on the form."""
    data = dataclasses.replace(job_input_for(job), **changes)
    try:
        return services.job_update(actor=request.user, job_id=job.pk, data=data)
    except ApplicationError as error:
        add_application_error(form, error)
        return None


def _render_step(request: AuthedRequest, job: Job | None, step: str, form: Any, **extra: Any) -> HttpResponse:
    context = {"job": job, "form": form, **_steps_context(job, step), **extra}
    return render(request, f"jobs/posting/step_{step}.html", context)


@login_required
def job_create(request: AuthedRequest) -> HttpResponse:
    """Step 1 for a new job: the title and category create the draft."""
    if not _is_client(request.user):
        return _need_client(request)
    form = JobTitleForm(_post(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = JobInput(
            title=data["title"],
            category_id=data["category"].pk,
            subcategory_id=data["subcategory"],
            description=DRAFT_DESCRIPTION,
            fixed_budget_cents=DRAFT_FIXED_BUDGET_CENTS,
        )
        team = str(request.POST.get("team", "")).strip()  # optional: post for a client team
        try:
            if team and as_id(team) is None:
                raise ApplicationError("Choose one of your teams.", code="invalid_team")
            job = services.job_create(actor=request.user, data=draft, team_id=as_id(team))
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            return _after_save(request, job, "title")
    return _render_step(
        request,
        None,
        "title",
        form,
        skill_preview=_preview_options(request, None),
        team_choices=list(teams_where_can_post(user=request.user)),
        team_selected=str(request.POST.get("team", "")) if request.method == "POST" else "",
    )


@login_required
def job_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    return redirect("jobs:edit_step", public_id=job.public_id, step=STEP_KEYS[0])


def _preview_options(request: HttpRequest, job: Job | None) -> SkillOptions:
    data = request.POST if request.method == "POST" else {}
    title = data.get("title", job.title if job else "")
    category = data.get("category", str(job.category_id) if job else "")
    subcategory = data.get("subcategory", str(job.subcategory_id or "") if job else "")
    return skill_suggestions(
        title=title,
        category_id=as_id(category),
        subcategory_id=as_id(subcategory),
    )


def _step_title(request: AuthedRequest, job: Job) -> HttpResponse:
    initial = {"title": job.title, "category": job.category_id, "subcategory": job.subcategory_id}
    form = JobTitleForm(_post(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = _update(
            request,
            job,
            form,
            title=data["title"],
            category_id=data["category"].pk,
            subcategory_id=data["subcategory"],
        )
        if saved is not None:
            return _after_save(request, saved, "title")
    return _render_step(request, job, "title", form, skill_preview=_preview_options(request, job))


def _step_skills(request: AuthedRequest, job: Job) -> HttpResponse:
    current = [s.pk for s in job.skills.all()]
    form = JobSkillsForm(_post(request), initial={"skills": current})
    if request.method == "POST" and form.is_valid():
        saved = _update(request, job, form, skill_ids=[s.pk for s in form.cleaned_data["skills"]])
        if saved is not None:
            return _after_save(request, saved, "skills")
    raw = request.POST.getlist("skills") if request.method == "POST" else current
    selected = set(as_ids(raw))
    options = skill_suggestions(
        title=job.title, category_id=job.category_id, subcategory_id=job.subcategory_id, selected=selected
    )
    return _render_step(request, job, "skills", form, options=options)


def _step_scope(request: AuthedRequest, job: Job) -> HttpResponse:
    initial = {"size": job.size, "duration": job.duration, "experience_level": job.experience_level}
    form = JobScopeForm(_post(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _update(request, job, form, **form.cleaned_data)
        if saved is not None:
            return _after_save(request, saved, "scope")
    return _render_step(request, job, "scope", form)


def _dollars(cents: int | None) -> str:
    return f"{cents / 100:.2f}" if cents else ""


def _step_budget(request: AuthedRequest, job: Job) -> HttpResponse:
    initial = {
        "budget_type": job.budget_type,
        "hourly_min": _dollars(job.hourly_min_cents),
        "hourly_max": _dollars(job.hourly_max_cents),
        "fixed_budget": _dollars(job.fixed_budget_cents),
    }
    if job.description == DRAFT_DESCRIPTION and job.fixed_budget_cents == DRAFT_FIXED_BUDGET_CENTS:
        initial["fixed_budget"] = ""  # the wizard's placeholder, not the client's choice
    form = JobBudgetForm(_post(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _update(request, job, form, **form.amounts())
        if saved is not None:
            return _after_save(request, saved, "budget")
    return _render_step(request, job, "budget", form)


def _step_details(request: AuthedRequest, job: Job) -> HttpResponse:
    questions = [q.text for q in job.questions.all()]
    initial: dict[str, Any] = {
        "description": "" if job.description == DRAFT_DESCRIPTION else job.description,
        "visibility": job.visibility,
        "freelancers_needed": job.freelancers_needed,
    }
    initial.update({f"question_{i + 1}": text for i, text in enumerate(questions)})
    attachments = list(job.attachments.all())
    form = JobDetailsForm(
        _post(request),
        request.FILES or None,
        initial=initial,
        existing_attachments=len(attachments),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = _update(
            request,
            job,
            form,
            description=data["description"],
            questions=form.questions(),
            visibility=data["visibility"],
            freelancers_needed=data["freelancers_needed"],
        )
        attached = 0
        for upload in data["attachments"] if saved is not None else []:
            try:
                services.job_add_attachment(actor=request.user, job_id=job.pk, upload=upload)
                attached += 1
            except ApplicationError as error:
                form.add_error("attachments", f"{upload.name}: {error.message}")
        if saved is not None and attached:
            messages.success(request, f"Attached {attached} file{'s' if attached != 1 else ''}.")
        if saved is not None and not form.errors:
            return _after_save(request, saved, "details")
        if saved is not None:  # the text is saved, a file was refused: stay here and say which
            messages.warning(request, "The description is saved, but not every file could be attached.")
            attachments = list(job.attachments.order_by("created_at", "pk"))
    return _render_step(request, job, "details", form, attachments=attachments)


_STEP_HANDLERS: dict[str, Callable[[AuthedRequest, Job], HttpResponse]] = {
    "title": _step_title,
    "skills": _step_skills,
    "scope": _step_scope,
    "budget": _step_budget,
    "details": _step_details,
}


@login_required
def job_edit_step(request: AuthedRequest, public_id: str, step: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    if step not in _STEP_HANDLERS:
        raise Http404("No such step.")
    if job.status not in (Job.Status.DRAFT, Job.Status.OPEN):
        messages.error(request, f"A {job.get_status_display().lower()} job cannot be edited.")
        return redirect("jobs:detail", public_id=job.public_id)
    return _STEP_HANDLERS[step](request, job)


@login_required
@require_GET
def skill_suggestions_partial(request: AuthedRequest) -> HttpResponse:
    """HTMX: the skills suggested for a title and category, as a preview or checkboxes."""
    params = request.GET
    category, subcategory = params.get("category", ""), params.get("subcategory", "")
    selected = set(as_ids(params.getlist("skills")))
    options = skill_suggestions(
        title=params.get("title", "")[:200],
        category_id=as_id(category),
        subcategory_id=as_id(subcategory),
        selected=selected,
    )
    template = (
        "jobs/posting/_skill_preview.html"
        if params.get("mode") == "preview"
        else "jobs/posting/_skill_options.html"
    )
    return render(request, template, {"options": options, "skill_preview": options})


# --- preview and the lifecycle -------------------------------------------------------------------


@login_required
def job_preview(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    page = job_page(job=job, viewer=request.user)
    context = {
        "job": job,
        "page": page,
        "missing": job_missing_parts(job) if job.status == Job.Status.DRAFT else [],
        **_steps_context(job, "preview"),
    }
    return render(request, "jobs/posting/preview.html", context)


@login_required
@require_POST
def job_publish(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    if job.status != Job.Status.DRAFT:
        # Only drafts are published (a closed job is reopened); the service's table alone
        # would let a closed job through.
        messages.error(
            request, f"This job is {job.get_status_display().lower()}; only a draft can be published."
        )
        return redirect("jobs:detail", public_id=job.public_id)
    missing = job_missing_parts(job)
    if missing:
        messages.error(request, "Before publishing: " + "; ".join(p.label.lower() for p in missing) + ".")
        return redirect("jobs:edit_step", public_id=job.public_id, step=missing[0].step)
    try:
        services.job_publish(actor=request.user, job_id=job.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("jobs:preview", public_id=job.public_id)
    messages.success(request, "Your job is published. Freelancers can find it and apply.")
    return redirect("jobs:detail", public_id=job.public_id)


@login_required
@require_POST
def job_close(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    back = next_url(request, reverse("jobs:detail", kwargs={"public_id": job.public_id}))
    form = JobCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose why you are closing the job.")
        return redirect(back)
    try:
        job = services.job_close(actor=request.user, job_id=job.pk, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    deadline = job.reopen_deadline
    until = f" You can reopen it until {date_format(deadline, 'DATE_FORMAT')}." if deadline else ""
    messages.success(request, f"Closed “{job.title}”.{until}")
    return redirect(back)


@login_required
@require_POST
def job_reopen(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    back = next_url(request, reverse("jobs:detail", kwargs={"public_id": job.public_id}))
    if job.status != Job.Status.CLOSED:
        # The service's table alone would let a draft through (draft -> open).
        messages.error(request, "Only a closed job can be reopened.")
        return redirect(back)
    try:
        services.job_reopen(actor=request.user, job_id=job.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, f"Reopened “{job.title}”. Freelancers can apply again.")
    return redirect(back)


@login_required
@require_POST
def job_attachment_delete(request: AuthedRequest, public_id: str, attachment_id: int) -> HttpResponse:
    job = own_job_get(public_id=public_id, user=request.user)
    name = next((a.original_name for a in job.attachments.all() if a.pk == attachment_id), None)
    if name is None:
        raise Http404("No such attachment.")
    try:
        services.job_remove_attachment(actor=request.user, job_id=job.pk, attachment_id=attachment_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed {name}.")
    return redirect("jobs:edit_step", public_id=job.public_id, step="details")


@login_required
@require_POST
def job_flag(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = job_get_for_viewer(public_id=public_id, viewer=request.user)
    form = JobFlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose why you are flagging this job.")
        return redirect("jobs:detail", public_id=job.public_id)
    try:
        services.job_flag(actor=request.user, job_id=job.pk, **form.cleaned_data)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Thank you. Staff will review this job; the client is not told who flagged it."
        )
    return redirect("jobs:detail", public_id=job.public_id)


# --- My jobs and the job page --------------------------------------------------------------------


@login_required
def my_jobs(request: AuthedRequest) -> HttpResponse:
    if not _is_client(request.user):
        return _need_client(request)
    counts = client_job_tab_counts(client=request.user)
    tab = request.GET.get("tab", "")
    if tab not in MINE_TABS:
        tab = next((key for key in ("open", "drafts", "closed") if counts[key]), "open")
    page = Paginator(client_job_list(client=request.user, tab=tab), 20).get_page(request.GET.get("page"))
    tabs = [{"key": key, "label": label, "count": counts[key]} for key, (label, _) in MINE_TABS.items()]
    context = {
        "tab": tab,
        "tabs": tabs,
        "page": page,
        "total": sum(counts.values()),
        "close_form": JobCloseForm(),
        "reopenable": {job.pk for job in page.object_list if job_can_reopen(job)},
    }
    return render(request, "jobs/mine.html", context)


def _suggested_talent(job: Job, viewer: Any) -> list | None:
    """The matching engineer's suggestions, when their module and partial exist."""
    if not _template_exists(SUGGESTED_TALENT_TEMPLATE):
        return None
    try:
        from ..matching import suggested_talent_for_job
    except ImportError:
        return None
    return list(suggested_talent_for_job(job=job, viewer=viewer, limit=5))


def _job_detail_for_visitors(request: HttpRequest, public_id: str) -> HttpResponse:
    """The job page for anonymous visitors: its content is the same for all of them and is
    cached for the job and the jobs generation (``jobs.cache``), so a hit costs no query.
    The content is rendered without the request, so it holds no CSRF token and no user
    data; the page around it (navigation, the token of htmx requests) is rendered for
    each request."""
    slot = jobs_cache.lookup("job-page", [("job", public_id)])
    cached = slot.entry
    if not isinstance(cached, dict):
        job = job_get_for_viewer(public_id=public_id, viewer=request.user)
        main = render_to_string(DETAIL_MAIN_TEMPLATE, {"job": job, "page": job_page(job=job, viewer=None)})
        cached = {"title": job.title, "main_html": main}
        slot.set(cached, html=main)
    context = {"title": cached["title"], "main_html": mark_safe(cached["main_html"])}  # noqa: S308 - rendered by templates
    return render(request, "jobs/detail.html", context)


def job_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return _job_detail_for_visitors(request, public_id)
    job = job_get_for_viewer(public_id=public_id, viewer=request.user)
    if job.client_id == request.user.pk:
        services.job_mark_viewed_by_client(actor=cast(User, request.user), job=job)
        job.refresh_from_db(fields=["last_viewed_by_client_at"])
    page = job_page(job=job, viewer=request.user)
    context: dict[str, Any] = {"job": job, "page": page, "title": job.title, "main_html": None}
    if page.is_owner:
        context["close_form"] = JobCloseForm()
        context["suggestions"] = _suggested_talent(job, request.user) if job.is_open else None
        context["suggested_talent_template"] = SUGGESTED_TALENT_TEMPLATE
    else:
        context["flag_form"] = JobFlagForm(initial={"reason": page.flagged_reason})
    return render(request, "jobs/detail.html", context)


urlpatterns: list[URLPattern] = [
    path("jobs/new/", job_create, name="create"),
    path("jobs/mine/", my_jobs, name="mine"),
    path("jobs/new/skill-suggestions/", skill_suggestions_partial, name="skill_suggestions"),
    path("jobs/<str:public_id>/", job_detail, name="detail"),
    path("jobs/<str:public_id>/edit/", job_edit, name="edit"),
    path("jobs/<str:public_id>/edit/<slug:step>/", job_edit_step, name="edit_step"),
    path("jobs/<str:public_id>/preview/", job_preview, name="preview"),
    path("jobs/<str:public_id>/publish/", job_publish, name="publish"),
    path("jobs/<str:public_id>/close/", job_close, name="close"),
    path("jobs/<str:public_id>/reopen/", job_reopen, name="reopen"),
    path(
        "jobs/<str:public_id>/attachments/<int:attachment_id>/delete/",
        job_attachment_delete,
        name="attachment_delete",
    ),
    path("jobs/<str:public_id>/flag/", job_flag, name="flag"),
]
