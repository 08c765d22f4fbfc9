"""HTML views: the job search, saved jobs and saved searches.

Thin: parse (``JobFilter`` / ``SavedSearchForm``), call one selector or service, render or
redirect with a message. The search page answers htmx requests with the part that changed:
``#search-page`` (filters and results) when the filter form changes, ``#search-more`` (the
next cards) for "Load more".

The search page's filters and results are the same for every viewer and are cached (see
``search``); the viewer's parts ("Save this search", the save buttons and their saved
flags) are added on every request, so no viewer ever gets another's CSRF token or flags.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_POST, require_safe
from django_countries import countries

from marketplace.errors import ApplicationError
from marketplace.types import AuthedRequest

from .. import cache as jobs_cache
from .. import selectors, services
from ..filters import (
    POSTED_WITHIN_CHOICES,
    PROPOSAL_CHOICES,
    RATING_CHOICES,
    SORT_CHOICES,
    JobFilter,
    SavedSearchForm,
    active_filters,
    search_cache_parts,
    search_query_string,
)
from ..models import Job

SEARCH_TEMPLATES = {
    "search-page": "jobs/search/_search_body.html",
    "search-more": "jobs/search/_page.html",
}
PAGE_TEMPLATE = "jobs/search/_search_body.html"  # inside search.html, for a full page

# Where the viewer's parts go in the cached fragments (see ``search``). Job text cannot
# fake them: the templates escape every "<" of it.
SAVE_SEARCH_MARK = "<!--jobs:save-search-->"
SAVE_BUTTON_MARK = re.compile(r"<!--jobs:save:([\w~-]+)-->")
BUTTON_END = "<!--jobs:end-->"  # ends each button of jobs/search/_save_buttons.html


@functools.lru_cache(maxsize=8)
def _country_option_tags(language: str | None) -> tuple[tuple[str, str, str], ...]:
    """Each country's <option> as (code, opening up to where " selected" goes, rest),
    escaped once per process and language: as a template loop, and then as format_html
    per request, the 250 options were the slowest part of the page."""
    return tuple(
        (code, format_html('<option value="{}"', code), format_html(">{}</option>", name))
        for code, name in countries
    )


def _country_options(selected: set[str]) -> str:
    """The <option>s of the location filter, ``selected`` marked."""
    return mark_safe(  # noqa: S308 - every part escaped by _country_option_tags
        "".join(
            f"{head}{' selected' if code in selected else ''}{tail}"
            for code, head, tail in _country_option_tags(get_language())
        )
    )


def _search_url(query_string: str) -> str:
    url = reverse("jobs:search")
    return f"{url}?{query_string}" if query_string else url


@dataclasses.dataclass(frozen=True)
class _Results:
    """The part of a search page that is the same for every viewer: what the cache keeps."""

    html: str  # the rendered fragment, with marks where the viewer's parts go
    jobs: list[tuple[int, str]]  # the cards' jobs in order, as (pk, public_id)
    query: str  # the keyword as searched: the page title, "Name this search"


@dataclasses.dataclass(frozen=True)
class _SaveButton:
    public_id: str
    is_saved: bool


def _render_results(request: HttpRequest, template: str) -> tuple[_Results, set[int] | None]:
    """Search and render ``template`` as every viewer sees it; and the ids of the jobs the
    viewer saved (known from the search itself), or None when the search is invalid (not
    to be cached). Rendered without the request, so that no user data and no CSRF token
    can enter it. Raises ``ApplicationError`` for a damaged cursor."""
    page: selectors.JobSearchPage | None = None
    filterset: JobFilter
    try:
        page = selectors.job_search_page(
            params=request.GET, viewer=request.user, cursor=request.GET.get("cursor") or None
        )
        filterset = page.filterset
    except selectors.InvalidSearchError as error:
        filterset = error.filterset

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
    html = render_to_string(template, context)
    if page is None:
        return _Results(html=html, jobs=[], query=""), None
    jobs = [(job.pk, job.public_id) for job in page.jobs]
    saved = {job.pk for job in page.jobs if job.is_saved}  # type: ignore[attr-defined]
    return _Results(html=html, jobs=jobs, query=page.query), saved


def _personalise(request: HttpRequest, results: _Results, saved: set[int] | None = None) -> str:
    """``results`` with the viewer's parts filled in: "Save this search" (or the log-in
    link) and the save buttons with the viewer's saved flags (``saved``: the ids of the
    saved jobs when known, else one query when logged in).

    Rendered without the context processors (they would query the unread badges again):
    the CSRF token and the user are passed in.
    """
    user = request.user
    personal: dict[str, Any] = {"user": user, "request": request}
    if user.is_authenticated:
        personal["csrf_token"] = get_token(request)
    html = results.html
    if SAVE_SEARCH_MARK in html:
        block = render_to_string(
            "jobs/search/_save_search.html",
            {**personal, "query_string": search_query_string(request.GET), "query": results.query},
        )
        html = html.replace(SAVE_SEARCH_MARK, block, 1)
    buttons: dict[str, str] = {}
    if user.is_authenticated and results.jobs:
        if saved is None:
            saved = selectors.saved_job_ids(user=user, job_ids=[pk for pk, _ in results.jobs])
        states = [_SaveButton(public_id, pk in saved) for pk, public_id in results.jobs]
        rendered = render_to_string("jobs/search/_save_buttons.html", {**personal, "jobs": states})
        buttons = dict(zip([state.public_id for state in states], rendered.split(BUTTON_END), strict=False))
    return SAVE_BUTTON_MARK.sub(lambda mark: buttons.get(mark.group(1), ""), html)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The search page, or the part of it that htmx asked for.

    What every viewer sees alike (filters, counts, cards) is cached for the search's
    parameters and the jobs generation (``jobs.cache``); the viewer's parts are added to
    it on every request (``_personalise``). A hit costs no search query at all.
    """
    htmx = getattr(request, "htmx", None)
    fragment = SEARCH_TEMPLATES.get(htmx.target or "") if htmx and not htmx.history_restore_request else None
    template = fragment or PAGE_TEMPLATE
    slot = jobs_cache.lookup(
        "search-page", [("template", template), *search_cache_parts(request.GET, "cursor")]
    )
    saved: set[int] | None = None
    if isinstance(slot.entry, dict):
        results = _Results(**slot.entry)
    else:
        try:
            results, saved = _render_results(request, template)
        except ApplicationError as error:  # a damaged or outdated cursor: start again
            messages.error(request, error.message)
            return redirect(_search_url(search_query_string(request.GET)))
        if saved is not None:  # a valid search
            # plain data in the cache, not this class: entries outlive a deploy
            slot.set(dataclasses.asdict(results), html=results.html)
    html = _personalise(request, results, saved)
    if fragment:
        return HttpResponse(html)
    return render(request, "jobs/search/search.html", {"body": mark_safe(html), "query": results.query})  # noqa: S308 - rendered by templates


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
