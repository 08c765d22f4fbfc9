"""HTML views: the job search, saved jobs and saved searches.

Thin: parse (``JobFilter`` / ``SavedSearchForm``), call one selector or service, render or
redirect with a message. The search page answers htmx requests with the part that changed:
``#search-page`` (filters and results) when the filter form changes, ``#search-more`` (the
next cards) for "Load more".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe
from django_countries import countries

from marketplace.errors import ApplicationError
from marketplace.types import AuthedRequest

from .. import selectors, services
from ..filters import (
    POSTED_WITHIN_CHOICES,
    PROPOSAL_CHOICES,
    RATING_CHOICES,
    SORT_CHOICES,
    JobFilter,
    SavedSearchForm,
    active_filters,
    search_query_string,
)
from ..models import Job

SEARCH_TEMPLATES = {
    "search-page": "jobs/search/_search_body.html",
    "search-more": "jobs/search/_page.html",
}


def _country_options(selected: set[str]) -> str:
    """The 250 <option>s of the location filter, built in Python: as template loop they
    were the slowest part of the page."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((code, mark_safe(" selected") if code in selected else "", name) for code, name in countries),
    )


def _search_url(query_string: str) -> str:
    url = reverse("jobs:search")
    return f"{url}?{query_string}" if query_string else url


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    page: selectors.JobSearchPage | None = None
    filterset: JobFilter
    try:
        page = selectors.job_search_page(
            params=request.GET, viewer=request.user, cursor=request.GET.get("cursor") or None
        )
        filterset = page.filterset
    except selectors.InvalidSearchError as error:
        filterset = error.filterset
    except ApplicationError as error:  # a damaged or outdated cursor: start again
        messages.error(request, error.message)
        return redirect(_search_url(search_query_string(request.GET)))

    query_string = search_query_string(request.GET)
    cleaned = filterset.form.cleaned_data if page is not None else {}
    context = {
        "page": page,
        "filterset": filterset,
        "form": filterset.form,
        "query_string": query_string,
        "next_query": (
            f"{query_string}&cursor={page.next_cursor}" if query_string else f"cursor={page.next_cursor}"
        )
        if page is not None and page.next_cursor
        else "",
        "is_later_page": bool(request.GET.get("cursor")),
        "chips": active_filters(filterset) if page is not None else [],
        "options": selectors.search_form_options(
            category=cleaned.get("category"),
            subcategory=cleaned.get("subcategory"),
            skills=list(cleaned.get("skills") or []),
        ),
        "selected_skill_ids": {str(pk) for pk in request.GET.getlist("skills")},
        "location_options": _country_options(set(request.GET.getlist("location"))),
        "budget_type_choices": Job.BudgetType.choices,
        "sort_choices": SORT_CHOICES,
        "posted_within_choices": POSTED_WITHIN_CHOICES,
        "proposal_choices": PROPOSAL_CHOICES,
        "rating_choices": RATING_CHOICES,
    }
    template = "jobs/search/search.html"
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and htmx.target in SEARCH_TEMPLATES:
        template = SEARCH_TEMPLATES[htmx.target]
    return render(request, template, context)


# --- saved jobs ----------------------------------------------------------------------------------


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Where the form was (``next`` or the referrer, same site only), else ``default``."""
    for candidate in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(candidate)
    return redirect(default)


def _save_toggle_response(request: AuthedRequest, job: Job, saved: bool) -> HttpResponse:
    if getattr(request, "htmx", None):
        return render(request, "jobs/search/_save_toggle.html", {"job": job, "saved": saved})
    return _back(request, reverse("jobs:saved"))


@login_required
@require_POST
def job_save(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = selectors.job_for_save(public_id=public_id, viewer=request.user)
    try:
        services.job_save(actor=request.user, job_id=job.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _save_toggle_response(request, job, saved=False)
    messages.success(request, f"Saved “{job.title}”. Find it under Saved jobs.")
    return _save_toggle_response(request, job, saved=True)


@login_required
@require_POST
def job_unsave(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = selectors.job_for_save(public_id=public_id, viewer=request.user)
    services.job_unsave(actor=request.user, job_id=job.pk)
    messages.success(request, f"Removed “{job.title}” from your saved jobs.")
    return _save_toggle_response(request, job, saved=False)


@login_required
@require_safe
def saved_jobs(request: AuthedRequest) -> HttpResponse:
    paginator = Paginator(selectors.saved_jobs_for_user(user=request.user), 20)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "jobs/search/saved_jobs.html", {"page": page})


# --- saved searches --------------------------------------------------------------------------------


@login_required
@require_POST
def saved_search_create(request: AuthedRequest) -> HttpResponse:
    form = SavedSearchForm(request.POST)
    back = _search_url(search_query_string(QueryDict(request.POST.get("query_string", "")[:1000])))
    if not form.is_valid():
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, errors[0] if errors else "Check the search and try again.")
        return redirect(back)
    data = form.cleaned_data
    try:
        search_ = services.saved_search_create(
            actor=request.user, name=data["name"], query_string=data["query_string"], notify=data["notify"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    note = " We will email you new jobs that match." if search_.notify else ""
    messages.success(request, f"Saved the search “{search_.name}”.{note}")
    return redirect(_search_url(search_.query_string))


@login_required
@require_safe
def saved_searches(request: AuthedRequest) -> HttpResponse:
    rows = [
        {"search": item, "url": _search_url(item.query_string)}
        for item in selectors.saved_searches_for_user(user=request.user)
    ]
    return render(request, "jobs/search/saved_searches.html", {"rows": rows})


@login_required
@require_POST
def saved_search_delete(request: AuthedRequest, search_id: int) -> HttpResponse:
    services.saved_search_delete(actor=request.user, search_id=search_id)
    messages.success(request, "Deleted the saved search.")
    return redirect("jobs:saved_searches")


urlpatterns: list[URLPattern] = [
    path("jobs/search/", search, name="search"),
    path("jobs/saved/", saved_jobs, name="saved"),
    path("jobs/searches/", saved_search_create, name="saved_search_create"),
    path("jobs/searches/list/", saved_searches, name="saved_searches"),
    path("jobs/searches/<int:search_id>/delete/", saved_search_delete, name="saved_search_delete"),
    path("jobs/<str:public_id>/save/", job_save, name="save"),
    path("jobs/<str:public_id>/unsave/", job_unsave, name="unsave"),
]
