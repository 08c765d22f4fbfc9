"""HTML views: the job search, saved jobs and saved searches.

Thin: parse (``JobFilter`` / ``SavedSearchForm``), call one selector or service, render or
redirect with a message. The search page answers htmx requests with the part that changed:
``#search-page`` (filters and results) when the filter form changes, ``#search-more`` (the
next cards) for "Load more".

The search page's filters and results are the same for every viewer and are cached (see
``search``); the viewer's parts ("Save this search", the save buttons and their saved
flags) are added on every request, so no viewer ever gets another's CSRF token or flags.

Visitors without a session (no session cookie, hence anonymous and with no pending
messages: search engines, people arriving from a link, the benchmark) all get the same
page but for its CSRF token, so for them the whole response is cached, keyed by the exact
URL and htmx target, with a placeholder where the token goes (``_generic_page``), from the
second request for that URL on (the first keeps the results only: most searches of the long
tail are asked once).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import time
from datetime import datetime
from html import escape as _html_escape
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, get_script_prefix, get_urlconf, path, reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_POST, require_safe
from django_countries import countries

from accounts.models import User
from marketplace.errors import ApplicationError
from marketplace.money import format_cents
from marketplace.redirects import redirect_back
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

if TYPE_CHECKING:
    from marketplace.navigation import NavigationFigures

SEARCH_TEMPLATES = {
    "search-page": "jobs/search/_search_body.html",
    "search-more": "jobs/search/_page.html",
}
PAGE_TEMPLATE = "jobs/search/_search_body.html"  # inside search.html, for a full page

# Where the viewer's parts go in the cached fragments (see ``search``). Job text cannot
# fake them: the templates escape every "<" of it.
SAVE_SEARCH_MARK = "<!--jobs:save-search-->"
SAVE_BUTTON_OPEN, SAVE_BUTTON_CLOSE = "<!--jobs:save:", "-->"  # around a card's public id


@functools.lru_cache(maxsize=1)
def _csrf_placeholder(secret: str) -> str:
    """Stands for the CSRF token in a cached page (``_generic_page``). Derived from the
    secret key: the same in every process, and not something a job's text can contain
    on purpose (which would only show a visitor their own token anyway)."""
    return "csrf" + hashlib.sha256(f"jobs-search-shell:{secret}".encode()).hexdigest()[:40]


def _is_generic(request: HttpRequest) -> bool:
    """The visitor has no session and no messages waiting: anonymous, and served exactly
    what every such visitor is served (but for the CSRF token)."""
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _split_at_csrf(page: str) -> list[bytes]:
    """A generic page as kept in the cache: its UTF-8 bytes cut where the CSRF token goes."""
    return page.encode().split(_csrf_placeholder(settings.SECRET_KEY).encode())


def _fill_csrf(request: HttpRequest, parts: list[bytes]) -> HttpResponse:
    """A cached generic page (``_split_at_csrf``) with the visitor's own CSRF token (a new
    one when they have none, which also sets the cookie, as rendering ``{{ csrf_token }}``
    would)."""
    if len(parts) == 1:
        return HttpResponse(parts[0])
    return HttpResponse(get_token(request).encode().join(parts))


def _page_token(request: HttpRequest) -> str:
    """The CSRF token for every form of this response: one per request (``get_token``
    masks the secret anew on each call, 32 random characters, and a signed-in page asked
    for it twice)."""
    token = getattr(request, "_jobs_csrf_token", None)
    if token is None:
        token = get_token(request)
        setattr(request, "_jobs_csrf_token", token)  # noqa: B010 - not an attribute of HttpRequest
    return token


@functools.lru_cache(maxsize=1)
def _q_placeholder(secret: str) -> str:
    """Stands for the keyword in a cached filter form (``_filters_fragment``)."""
    return "q" + hashlib.sha256(f"jobs-search-q:{secret}".encode()).hexdigest()[:40]


ID_MARK = "JOBPUBLICID"


_posted: dict[tuple[Any, ...], str] = {}
POSTED_ENTRIES = 20_000  # texts kept per process (then forgotten all at once)


def _posted_key(published_at: datetime, now: datetime) -> tuple[Any, ...] | None:
    """What ``naturaltime(published_at)`` at ``now`` depends on, for a past moment at least
    a minute old (else None): the whole minutes of age under an hour ("5 minutes ago"),
    the whole hours under a week ("3 days, 4 hours ago"); from a week on it shows weeks
    and days at the finest ("1 month, 2 weeks ago"), counted by the calendar from the two
    dates and which of the two times of day comes first (with and without microseconds:
    the month steps drop them)."""
    age = now - published_at
    seconds = age.days * 86400 + age.seconds
    if seconds < 60:
        return None
    if seconds < 3600:
        return ("m", seconds // 60)
    if seconds < 7 * 86400:
        return ("h", seconds // 3600)
    day_time, now_time = published_at.time(), now.time()
    return (
        "d",
        published_at.date(),
        now.date(),
        now_time < day_time,
        now_time < day_time.replace(microsecond=0),
    )


def posted_text(published_at: datetime, now: datetime | None = None, language: str | None = None) -> str:
    """``naturaltime(published_at)`` ("3 hours ago", "2 months, 1 week ago"), remembered per
    language and per what the text depends on (``_posted_key``): humanize's translation
    lookups were a fifth of an uncached search page. A test compares the two over
    thousands of ages and moments. ``now`` and ``language``: the clock and the language,
    when the caller has read them already for a page of cards."""
    before = now or timezone.now()
    key = _posted_key(published_at, before)
    if key is None:
        return naturaltime(published_at)
    key = (language or get_language(), *key)
    found = _posted.get(key)
    if found is not None:
        return found
    text = naturaltime(published_at)
    if _posted_key(published_at, timezone.now()) == key[1:]:  # no step between the two clocks
        if len(_posted) >= POSTED_ENTRIES:
            _posted.clear()
        _posted[key] = text
    return text


def card_values(cards: list[selectors.JobCard], posted: str | None = None) -> list[dict[str, Any]]:
    """What ``jobs/search/_cards.html`` shows of each card, prepared in Python (the
    template only places and escapes it): as ``jobs/partials/job_card.html`` shows a job.
    ``posted``: a text standing for every card's age (``cards_html``)."""
    detail = reverse("jobs:detail", args=[ID_MARK])
    out = []
    for card in cards:
        if card.budget_type == Job.BudgetType.HOURLY:
            budget = (
                f"Hourly: {format_cents(card.hourly_min_cents)}\u2013{format_cents(card.hourly_max_cents)}"
            )
        else:
            budget = f"Fixed price: {format_cents(card.fixed_budget_cents)}"
        out.append(
            {
                "public_id": card.public_id,
                "url": detail.replace(ID_MARK, card.public_id),
                "posted": posted if posted is not None else posted_text(card.published_at),
                "category": card.category_name,
                "title": card.title,
                "budget": budget,
                "experience": card.get_experience_level_display(),
                "duration": card.get_duration_display(),
                "excerpt": card.description_excerpt,
                "skills": card.skill_names,
                "proposals": card.proposals_count or 0,
                "country": card.client_country,
            }
        )
    return out


def escape(value: Any) -> str:
    """As the template engine escapes a value (``django.utils.html.escape``, without its
    lazy-string wrapper)."""
    return _html_escape(str(value), quote=True)


def job_card_markup(job: dict[str, Any], *, slot: str = "", reasons: str = "", footer: str = "") -> str:
    """One card of ``card_values`` as jobs/partials/job_card.html lays it out, every value
    escaped as the template escapes it. ``slot``: a line after the title (the save button's
    place on a search page); ``reasons`` and ``footer``: markup after the skills and at the
    end of the body (the feed's "why" line and its "Not interested" form)."""
    e = {key: escape(value) for key, value in job.items() if key not in ("skills", "proposals", "country")}
    skills = "".join(f'<span class="skill-chip">{escape(skill)}</span>' for skill in job["skills"])
    country = f" · Client in {escape(job['country'])}" if job["country"] else ""
    return (
        f'<article class="card mb-3 shadow-sm job-card" data-job="{e["public_id"]}">\n'
        '  <div class="card-body">\n'
        '    <div class="d-flex justify-content-between align-items-start gap-2">\n'
        "      <div>\n"
        f'        <p class="small text-secondary mb-1">Posted {e["posted"]} · {e["category"]}</p>\n'
        f'        <h3 class="h5 mb-1"><a class="text-decoration-none" href="{e["url"]}">{e["title"]}</a></h3>\n'
        "      </div>\n"
        f"{slot}"
        "    </div>\n"
        '    <p class="small mb-2">\n'
        f"      <strong>{e['budget']}</strong>\n"
        f"      · {e['experience']} · {e['duration']}\n"
        "    </p>\n"
        f'    <p class="mb-2 text-body-secondary">{e["excerpt"]}</p>\n'
        f'    <div class="mb-2">{skills}</div>\n'
        f"{reasons}"
        '    <p class="small text-secondary mb-0">\n'
        f"      Proposals: {escape(job['proposals'])}{country}\n"
        "    </p>\n"
        f"{footer}"
        "  </div>\n"
        "</article>\n"
    )


def render_cards(values: list[dict[str, Any]]) -> str:
    """``jobs/search/_cards.html`` rendered in Python: the same markup, byte for byte (a
    test renders both), at a tenth of the template engine's cost, the largest part of an
    uncached search page."""
    cards = (
        job_card_markup(job, slot=f"      {SAVE_BUTTON_OPEN}{escape(job['public_id'])}{SAVE_BUTTON_CLOSE}\n")
        for job in values
    )
    return mark_safe("".join(cards) + "\n")  # noqa: S308 - every value escaped by job_card_markup


_card_parts: dict[tuple[Any, ...], tuple[str, str, str]] = {}
CARD_ENTRIES = 20_000  # cards kept per process (then forgotten all at once)
_POSTED_MARK = "\ue000posted\ue000"  # private-use characters: escaping leaves them alone
_PROPOSALS_MARK = "\ue000proposals\ue000"


def _cut_card(values: dict[str, Any]) -> tuple[str, str, str] | None:
    """A card's markup (``render_cards``) cut where its age and its proposal count go, from
    its values with the marks in their places; None when the card's own text holds a mark."""
    html = render_cards([{**values, "posted": _POSTED_MARK, "proposals": _PROPOSALS_MARK}])[:-1]
    if html.count(_POSTED_MARK) != 1 or html.count(_PROPOSALS_MARK) != 1:
        return None
    head, _, rest = html.partition(_POSTED_MARK)
    middle, _, tail = rest.partition(_PROPOSALS_MARK)
    return head, middle, tail


def _card_cut(
    card: selectors.JobCard, language: str, prefix: str, *, keep: bool = True
) -> tuple[str, str, str] | None:
    """The card's markup cut where its age and proposal count go (``_cut_card``), also
    remembered per process for its content (``keep``: cards read from PostgreSQL are new
    objects on every search); None when it must be rendered whole."""
    key = (language, prefix, *card.content_key())
    found = _card_parts.get(key)
    if found is None:
        found = _cut_card(card_values([card], posted=_POSTED_MARK)[0])
        if found is None or not keep:
            return found
        if len(_card_parts) >= CARD_ENTRIES:
            _card_parts.clear()
        _card_parts[key] = found
    return found


def cards_html(cards: list[selectors.JobCard]) -> str:
    """``render_cards(card_values(cards))``, the same markup (a test compares), from each
    card's markup remembered for its content and the language, cut where the two figures
    that change go (its age, "Posted 3 hours ago", and its proposal count): the search
    index hands out the same jobs over and over, and only those two are written per
    request. The cut markup is kept with the card (``JobCard.remembered``: the index's
    cards keep it as long as the index holds them) and in a bounded per-process table."""
    now, language, prefix = timezone.now(), get_language(), get_script_prefix()
    # the language (texts) and the script prefix (links) as well as the card's content
    kind = ("html", language, prefix)
    out = []
    for card in cards:
        cut = card.remembered(kind, lambda c: _card_cut(c, language, prefix))
        if cut is None:  # its own text holds a cut mark: rendered whole, every time
            value = card_values([card])[0]
            value["posted"] = posted_text(card.published_at, now, language)
            out.append(render_cards([value])[:-1])
            continue
        head, middle, tail = cut
        posted = escape(posted_text(card.published_at, now, language))
        out.append(f"{head}{posted}{middle}{card.proposals_count or 0}{tail}")
    return mark_safe("".join(out) + "\n")  # noqa: S308 - every part escaped by render_cards


def make_cards(sender: Any, cards: list[selectors.JobCard], **kwargs: Any) -> None:
    """Make every card's cut markup (``cards_html``) for the site's language and the root
    script prefix, as the search index is built (``search_index.index_built``)."""
    with translation.override(settings.LANGUAGE_CODE):
        language, prefix = get_language(), get_script_prefix()
        kind = ("html", language, prefix)
        for card in cards:
            card.remembered(kind, lambda c: _card_cut(c, language, prefix, keep=False))


def render_page_list(ctx: dict[str, Any]) -> str:
    """``jobs/search/_page.html`` rendered in Python, the same markup byte for byte (a test
    renders both for every branch): the cards and the "Load more" link."""
    page = ctx["page"]
    more = ""
    if page.next_cursor:
        link = f"{escape(ctx['search_url'])}?{escape(ctx['next_query'])}"
        more = (
            f'\n    <a class="btn btn-outline-success w-100 mb-3" href="{link}" data-testid="load-more"\n'
            f'       hx-get="{link}" hx-target="#search-more" hx-swap="outerHTML">Load more jobs</a>\n  '
        )
    elif page.jobs:
        more = '\n    <p class="text-center text-secondary small">You have reached the end of the results.</p>\n  '
    return f'\n{ctx["cards_html"]}\n<div id="search-more">\n  {more}\n</div>\n'


def render_results(ctx: dict[str, Any]) -> str:
    """``jobs/search/_results.html`` for a valid search (``page`` set), rendered in Python:
    the same markup byte for byte (a test renders both over every branch), at a fraction of
    the template engine's cost on every uncached search page. Every value is escaped as the
    template escapes it."""
    page = ctx["page"]
    url = escape(ctx["search_url"])
    chips = ctx["chips"]
    query = escape(page.query) if page.query else ""
    found = f" for \u201c{query}\u201d" if page.query else ""
    if page.sort == selectors.SortOrder.RELEVANCE:
        order = '<span class="text-secondary small">\u00b7 best matches first</span>'
    elif page.query:
        order = '<span class="text-secondary small">\u00b7 newest first</span>'
    else:
        order = ""
    out = [
        "\n\n",
        '\n  <div class="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-2">\n'
        '    <p class="mb-0" data-testid="result-count" aria-live="polite">\n'
        f"      <strong>{escape(intcomma(page.count))}{'+' if page.count_capped else ''}</strong> "
        f"job{'' if page.count == 1 else 's'} found{found}\n"
        f"      {order}\n"
        "    </p>\n"
        f"    {SAVE_SEARCH_MARK}\n"
        "  </div>\n\n  ",
    ]
    if page.is_similar and page.jobs:
        out.append(
            '\n    <div class="alert alert-info py-2" role="status" data-testid="similar-note">No exact matches'
            f" for \u201c{query}\u201d. Showing jobs with similar words.</div>\n  "
        )
    out.append("\n\n  ")
    if chips:
        out.append('\n    <ul class="list-inline mb-3" aria-label="Filters in use">\n      ')
        for chip in chips:
            link, label = f"{url}?{escape(chip['query'])}", escape(chip["label"])
            out.append(
                '\n        <li class="list-inline-item mb-1">\n'
                '          <a class="badge rounded-pill text-bg-light border text-decoration-none fw-normal"'
                f' href="{link}"\n'
                f'             hx-get="{link}" hx-target="#search-page" hx-swap="outerHTML" hx-push-url="true"\n'
                f'             aria-label="Remove filter {label}">{label} <i class="bi bi-x-lg" aria-hidden="true"></i></a>\n'
                "        </li>\n      "
            )
        out.append("\n    </ul>\n  ")
    out.append("\n\n  ")
    if ctx["is_later_page"]:
        back = f"{url}?{escape(ctx['query_string'])}" if ctx["query_string"] else url
        out.append(f'\n    <p class="small"><a href="{back}">Back to the first results</a></p>\n  ')
    out.append("\n\n  ")
    if page.jobs:
        out.append(f'\n    <div id="search-list">{render_page_list(ctx)}</div>\n  ')
    else:
        out.append(
            '\n    <div class="card text-center" data-testid="empty-results"><div class="card-body p-5">\n'
            '      <i class="bi bi-search display-6 text-success" aria-hidden="true"></i>\n      '
        )
        if chips:
            out.append(
                '\n        <h2 class="h5 mt-2">No jobs match your search</h2>\n'
                '        <p class="text-secondary mb-2">Try fewer keywords or remove a filter:</p>\n'
                '        <ul class="list-inline mb-3">\n          '
            )
            for chip in chips:
                out.append(
                    '\n            <li class="list-inline-item mb-1"><a class="btn btn-sm btn-outline-secondary"'
                    f' href="{url}?{escape(chip["query"])}">Remove {escape(chip["label"])}</a></li>\n          '
                )
            out.append(
                f'\n        </ul>\n        <a class="btn btn-success" href="{url}">Clear all filters</a>\n      '
            )
        else:
            out.append(
                '\n        <h2 class="h5 mt-2">No open jobs right now</h2>\n'
                '        <p class="text-secondary mb-0">New jobs are posted every day. Check back soon.</p>\n      '
            )
        out.append("\n    </div></div>\n  ")
    out.append("\n\n")
    return "".join(out)


def render_search_body(ctx: dict[str, Any]) -> str:
    """``jobs/search/_search_body.html`` for a valid search whose filter form is rendered
    already (``filters_html``), in Python: the same markup byte for byte (tested)."""
    return (
        '\n<div id="search-page" class="row g-4">\n'
        f'  <aside class="col-lg-3" aria-label="Filters">{ctx["filters_html"]}</aside>\n'
        f'  <section class="col-lg-9" aria-label="Results" id="search-results">{render_results(ctx)}</section>\n'
        "</div>\n"
    )


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


def _render_results(
    request: HttpRequest, template: str, generation: int | None = None
) -> tuple[_Results, set[int] | None]:
    """Search and render ``template`` as every viewer sees it; and the ids of the jobs the
    viewer saved (known from the search itself), or None when the search is invalid (not
    to be cached). Rendered without the request, so that no user data and no CSRF token
    can enter it. Raises ``ApplicationError`` for a damaged cursor."""
    page: selectors.JobSearchPage | None = None
    invalid: JobFilter | None = None
    try:
        page = selectors.job_search_card_page(
            params=request.GET,
            viewer=request.user,
            cursor=request.GET.get("cursor") or None,
            generation=generation,  # as the cache slot was read (the index need not read it)
        )
    except selectors.InvalidSearchError as error:
        invalid = error.filterset

    query_string = search_query_string(request.GET)
    context: dict[str, Any] = {
        "search_url": reverse("jobs:search"),  # once: the templates link to it up to 8 times
        "page": page,
        "cards_html": cards_html(page.jobs) if page is not None else "",
        "query_string": query_string,
        "next_query": (
            f"{query_string}&cursor={page.next_cursor}" if query_string else f"cursor={page.next_cursor}"
        )
        if page is not None and page.next_cursor
        else "",
        "is_later_page": bool(request.GET.get("cursor")),
        "chips": active_filters(page.cleaned, page.plan.data) if page is not None else [],
    }
    if invalid is not None:  # the errors, above the results and next to the fields
        context.update(filterset=invalid, form=invalid.form)
    if template == PAGE_TEMPLATE:  # the filters are part of it
        if page is not None:
            context["filters_html"] = _filters_fragment(request, page, generation)
        else:
            assert invalid is not None
            context.update(_filters_context(request, invalid, invalid.form["q"].value()))
    if page is not None:  # rendered in Python, as the templates would (tested byte for byte)
        html = render_search_body(context) if template == PAGE_TEMPLATE else render_page_list(context)
    else:
        html = render_to_string(template, context)
    if page is None:
        return _Results(html=html, jobs=[], query=""), None
    jobs = [(job.pk, job.public_id) for job in page.jobs]
    saved = {job.pk for job in page.jobs if job.is_saved}
    return _Results(html=html, jobs=jobs, query=page.query), saved


def _filters_context(request: HttpRequest, filterset: JobFilter, q_value: Any) -> dict[str, Any]:
    """What ``jobs/search/_filters.html`` needs beyond the filter set."""
    cleaned = filterset.form.cleaned_data if filterset.is_valid() else {}
    return {
        "form": filterset.form,
        "q_value": q_value,
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


def _filters_fragment(
    request: HttpRequest, page: selectors.JobSearchPage, generation: int | None = None
) -> str:
    """The filter form of a valid search. It shows the parameters back and the taxonomy,
    nothing of the results, so it is cached for the parameters but the keyword (which
    alone varies over a long tail of searches) with a placeholder for the keyword (the
    form is only built to render it)."""
    marker = _q_placeholder(settings.SECRET_KEY)
    slot = jobs_cache.lookup(
        "search-filters", [item for item in search_cache_parts(request.GET) if item[0] != "q"], generation
    )
    html = slot.entry
    if not isinstance(html, str):
        html = render_to_string(
            "jobs/search/_filters.html", _filters_context(request, page.filterset, marker)
        )
        slot.set(html, html=html)
    q_value = page.plan.data.get("q")  # as the form shows it back: the last one given, as typed
    return mark_safe(html.replace(marker, conditional_escape("" if q_value is None else q_value)))  # noqa: S308 - escaped


_NEXT_MARK = "JOBSSEARCHNEXTPATH"  # letters only: the urlencode filter and escaping keep it as it is


class _PathStandIn:
    def get_full_path(self) -> str:
        return _NEXT_MARK


@functools.lru_cache(maxsize=64)
def _login_invitation_frame(url_key: tuple[Any, ...]) -> tuple[str, str]:
    html = render_to_string(
        "jobs/search/_save_search.html", {"user": AnonymousUser(), "request": _PathStandIn()}
    )
    head, mark, tail = html.partition(_NEXT_MARK)
    assert mark, "jobs/search/_save_search.html no longer shows the page's path"
    return head, tail


_TOKEN_MARK = "JOBSSEARCHCSRFTOKEN"  # letters only, as the tokens: escaping keeps both as they are
_QUERY_STRING_MARK = "JOBSSEARCHQUERYSTRING"
_NAME_MARK = "JOBSSEARCHNAME"
_SAVE_SEARCH_MARKS = re.compile(f"{_TOKEN_MARK}|{_QUERY_STRING_MARK}|{_NAME_MARK}")


def _url_key() -> tuple[Any, ...]:
    """What a rendering with ``{% url %}`` depends on besides its context."""
    return (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), get_language())


@functools.lru_cache(maxsize=64)
def _button_frames(url_key: tuple[Any, ...]) -> dict[bool, str]:
    return {
        state: render_to_string(
            "jobs/partials/save_button.html",
            {"csrf_token": _TOKEN_MARK, "job": {"public_id": ID_MARK}, "saved": state},
        )
        for state in (False, True)
    }


def save_buttons(csrf_token: str) -> dict[bool, str]:
    """jobs/partials/save_button.html unsaved and saved, for a job whose public id is
    ``ID_MARK``, with this token: rendered once per process around a stand-in token."""
    return {
        state: html.replace(_TOKEN_MARK, csrf_token) for state, html in _button_frames(_url_key()).items()
    }


@functools.lru_cache(maxsize=64)
def _save_search_frame(url_key: tuple[Any, ...]) -> str:
    return render_to_string(
        "jobs/search/_save_search.html",
        {
            "user": SimpleNamespace(is_authenticated=True),
            "csrf_token": _TOKEN_MARK,
            "query_string": _QUERY_STRING_MARK,
            "query": _NAME_MARK,
        },
    )


def save_search_form(csrf_token: str, query_string: str, query: str) -> str:
    """jobs/search/_save_search.html for a signed-in viewer: rendered once per process
    around stand-ins for the token, the search's parameters and its name, which are put in
    escaped as the template escapes them."""
    values = {
        _TOKEN_MARK: csrf_token,
        _QUERY_STRING_MARK: conditional_escape(query_string),
        _NAME_MARK: conditional_escape(query),
    }
    # in one pass: a stand-in inside the search's own text stays as it is
    return _SAVE_SEARCH_MARKS.sub(lambda mark: values[mark.group()], _save_search_frame(_url_key()))


def login_invitation(full_path: str) -> str:
    """jobs/search/_save_search.html for a visitor (the log-in link back to ``full_path``),
    as the template renders it: rendered once per process around a stand-in for the path,
    which is then put in as the template's ``urlencode`` filter writes it (a tenth of an
    uncached search for a visitor was this template)."""
    head, tail = _login_invitation_frame(_url_key())
    return head + conditional_escape(quote(full_path, safe="/")) + tail


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
        personal["csrf_token"] = _page_token(request)
    html = results.html
    if SAVE_SEARCH_MARK in html:
        block: str
        if user.is_authenticated:
            block = save_search_form(personal["csrf_token"], search_query_string(request.GET), results.query)
        else:
            block = login_invitation(request.get_full_path())
        html = html.replace(SAVE_SEARCH_MARK, block, 1)
    buttons: dict[str, str] = {}
    if user.is_authenticated and results.jobs:
        if saved is None:
            saved = selectors.saved_job_ids(user=user, job_ids=[pk for pk, _ in results.jobs])
        # the button in its two states, rendered once per process for a stand-in job and
        # token, then made each card's by putting its public id in (20 renderings with 4 URL
        # lookups each were half the time of a cached page for a logged-in viewer)
        button = save_buttons(personal["csrf_token"])
        buttons = {
            public_id: button[pk in saved].replace(ID_MARK, public_id) for pk, public_id in results.jobs
        }
    return _fill_save_buttons(html, buttons)


def _fill_save_buttons(html: str, buttons: dict[str, str]) -> str:
    """``html`` with each card's save-button mark replaced by ``buttons[public_id]`` (or
    nothing): cut with ``str.split``, which a regular expression over the 60 kB page
    took several times as long as."""
    pieces = html.split(SAVE_BUTTON_OPEN)
    out = [pieces[0]]
    for piece in pieces[1:]:
        public_id, close, rest = piece.partition(SAVE_BUTTON_CLOSE)
        if close:
            out += (buttons.get(public_id, ""), rest)
        else:  # not a mark of ours (cannot happen: card text is escaped)
            out += (SAVE_BUTTON_OPEN, piece)
    return "".join(out)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The search page, or the part of it that htmx asked for.

    What every viewer sees alike (filters, counts, cards) is cached for the search's
    parameters and the jobs generation (``jobs.cache``); the viewer's parts are added to
    it on every request (``_personalise``). A hit costs no search query at all. Visitors
    without a session get the whole response from the cache (``_generic_page``).
    """
    htmx = getattr(request, "htmx", None)
    fragment = SEARCH_TEMPLATES.get(htmx.target or "") if htmx and not htmx.history_restore_request else None
    template = fragment or PAGE_TEMPLATE
    generic: jobs_cache.Slot | None = None
    results_slot = ("search-page", [("template", template), *search_cache_parts(request.GET, "cursor")])
    if _is_generic(request):
        # the exact URL: whatever the page shows of it (the log-in link's "next") is the same;
        # read with the results' slot (one round trip; that one is unpacked only if needed)
        generic, slot = jobs_cache.lookup_many(
            [
                (
                    "search-generic",
                    [
                        ("template", template),
                        ("full", "" if fragment else "1"),
                        ("url", request.get_full_path()),
                    ],
                ),
                results_slot,
            ],
            mark=True,  # the results are kept from their second computation
        )
        if isinstance(generic.entry, list):
            return _fill_csrf(request, generic.entry)
    else:
        slot = jobs_cache.lookup(*results_slot, mark=True)
    saved: set[int] | None = None
    hit = isinstance(slot.entry, dict)
    # the whole page is kept for a visitor without a session from the second request for
    # its URL on, as the results are (``from_second`` below)
    keep_page = slot.seen
    if hit:
        results = _Results(**slot.entry)
        valid = True
    else:
        try:
            results, saved = _render_results(request, template, slot.generation)
        except ApplicationError as error:  # a damaged or outdated cursor: start again
            messages.error(request, error.message)
            return redirect(_search_url(search_query_string(request.GET)))
        valid = saved is not None
        if valid:
            # plain data in the cache, not this class: entries outlive a deploy. Kept from
            # the second request on (the first keeps a mark): a search asked once (most of
            # a long tail) is not packed and stored for nobody
            slot.set(
                {"html": results.html, "jobs": list(results.jobs), "query": results.query},
                html=results.html,
                from_second=True,
            )
    figures = None
    member = _framed_member(request) if saved is None and generic is None and not fragment else None
    if member is not None and results.jobs:
        # results from the cache for a signed-in viewer: the saved flags are read with the
        # navigation's figures, in one query (``selectors.navigation_and_saved``)
        figures, saved = selectors.navigation_and_saved(user=member, job_ids=[pk for pk, _ in results.jobs])
    html = _personalise(request, results, saved)
    if generic is not None and valid:
        return _generic_page(request, generic if keep_page else None, html, results.query, full=not fragment)
    if fragment:
        return HttpResponse(html)
    return member_page(request, html, results.query, figures) or render(
        request,
        "jobs/search/search.html",
        {"body": mark_safe(html), "query": results.query},  # noqa: S308 - rendered by templates
    )


def _generic_page(
    request: HttpRequest, slot: jobs_cache.Slot | None, html: str, query: str, *, full: bool
) -> HttpResponse:
    """The response for a visitor without a session, kept whole in ``slot`` (when given)
    with a placeholder for the CSRF token (``html``: the personalised body, for such a
    visitor)."""
    page = html
    if full:
        head, tail = _generic_frame(request, bool(query))
        page = head.replace(QUERY_MARK, conditional_escape(query)) + html + tail
    placeholder = _csrf_placeholder(settings.SECRET_KEY)
    if slot is None:  # not kept (asked once so far): the token put in, without cutting
        return HttpResponse(page.replace(placeholder, get_token(request)) if placeholder in page else page)
    parts = _split_at_csrf(page)
    slot.set(parts, html=page, csrf_placeholder=placeholder)
    return _fill_csrf(request, parts)


BODY_MARK = "<!--jobs:search-body-->"
QUERY_MARK = "JOBSSEARCHQUERY"
FRAME_SECONDS = 60  # how long a process reuses its frame (templates change with a deploy)
_frames: dict[bool, tuple[float, str, str]] = {}


def _generic_frame(request: HttpRequest, with_query: bool) -> tuple[str, str]:
    """jobs/search/search.html for a visitor without a session, around its body: the same
    for every such visitor and search (but the query in the title, a placeholder here, and
    the CSRF token, the generic placeholder), so each process renders it once a minute."""
    found = _frames.get(with_query)
    if found is None or found[0] < time.monotonic():
        context = {
            "body": mark_safe(BODY_MARK),  # noqa: S308 - a constant
            "query": QUERY_MARK if with_query else "",
            "csrf_token": _csrf_placeholder(settings.SECRET_KEY),
        }
        head, _, tail = render_to_string("jobs/search/search.html", context, request=request).partition(
            BODY_MARK
        )
        found = _frames[with_query] = (time.monotonic() + FRAME_SECONDS, head, tail)
    return found[1], found[2]


# A signed-in viewer's page around its body: the navigation differs by role, staff or not,
# which badges show and whether there is a Connects balance, and within those only by a few
# values (the token, the name, three figures). Rendering base.html for every request was
# most of a signed-in search's time, so each process renders it once per such kind of
# viewer around stand-ins, as ``_generic_frame`` does for visitors.
_MESSAGES_MARK = "JOBSNAVMESSAGES"  # letters only, so escaping keeps every stand-in as it is
_NOTES_MARK = "JOBSNAVNOTES"
_CONNECTS_MARK = "JOBSNAVCONNECTS"
_MEMBER_MARKS = re.compile(
    f"({_TOKEN_MARK}|{_NAME_MARK}|{_MESSAGES_MARK}|{_NOTES_MARK}|{_CONNECTS_MARK}|{QUERY_MARK})"
)


@functools.lru_cache(maxsize=256)
def _member_frame(key: tuple[Any, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """search.html around ``BODY_MARK`` for one kind of signed-in viewer, cut at its
    stand-ins: odd items are stand-ins, even ones text (the head and the tail)."""
    (_url, with_query, role, is_staff, messages_shown, notes_shown, has_connects, site, _static) = key
    context = {
        **dict(site),
        "body": mark_safe(BODY_MARK),  # noqa: S308 - a constant
        "query": QUERY_MARK if with_query else "",
        "csrf_token": _TOKEN_MARK,
        "user": SimpleNamespace(
            is_authenticated=True, is_staff=is_staff, suspended_at=None, display_name=_NAME_MARK
        ),
        "active_role": role,
        "messages": (),
        "messaging_unread": _MESSAGES_MARK if messages_shown else 0,
        "notifications_unread": _NOTES_MARK if notes_shown else 0,
        "nav_connects": _CONNECTS_MARK if has_connects else None,
    }
    head, mark, tail = render_to_string("jobs/search/search.html", context).partition(BODY_MARK)
    assert mark, "jobs/search/search.html no longer shows its body"
    return tuple(_MEMBER_MARKS.split(head)), tuple(_MEMBER_MARKS.split(tail))


def _framed_member(request: HttpRequest) -> User | None:
    """The viewer when ``member_page`` makes their page: signed in, not suspended (the
    banner), no messages waiting to be shown; else None."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated or user.suspended_at:
        return None
    return None if len(messages.get_messages(request)) else user


def member_page(
    request: HttpRequest, html: str, query: str, figures: NavigationFigures | None = None
) -> HttpResponse | None:
    """The search page for a signed-in viewer with ``html`` as its body, as rendering
    jobs/search/search.html would make it (one query, for the navigation's figures); None
    when that rendering is needed: no one signed in, a suspended account (its banner) or
    messages waiting to be shown (``_framed_member``). ``figures``: the navigation's figures
    when the caller has read them already."""
    from marketplace.context_processors import site
    from marketplace.navigation import navigation_figures

    user = _framed_member(request)
    if user is None:
        return None
    if figures is None:
        figures = navigation_figures(user=user)
    site_values = site(request)
    role = site_values.pop("active_role")
    key = (
        _url_key(),
        bool(query),
        role,
        bool(user.is_staff),
        bool(figures.messages),
        bool(figures.notifications),
        figures.connects is not None,
        tuple(sorted(site_values.items())),
        settings.STATIC_URL,  # the stylesheets' and scripts' links
    )
    head, tail = _member_frame(key)
    values = {
        _TOKEN_MARK: _page_token(request),
        _NAME_MARK: conditional_escape(user.display_name),
        _MESSAGES_MARK: str(figures.messages),
        _NOTES_MARK: str(figures.notifications),
        _CONNECTS_MARK: str(figures.connects),
        QUERY_MARK: conditional_escape(query),
    }
    page = [values[part] if i % 2 else part for i, part in enumerate(head)]
    page.append(html)
    page.extend(values[part] if i % 2 else part for i, part in enumerate(tail))
    return HttpResponse("".join(page))


# --- saved jobs ----------------------------------------------------------------------------------


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Where the form was (``next`` or the referrer, same site only), else ``default``."""
    return redirect_back(request, request.POST.get("next"), request.headers.get("Referer"), default=default)


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
