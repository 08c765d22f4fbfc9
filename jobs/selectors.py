"""Reads of jobs: who may see a job, the job search, saved jobs and saved searches.

Every list here is written so that the number of SQL queries per page is constant:
``select_related`` for the category and the client, one prefetch for the skills, the
"saved by me" flag as an ``EXISTS`` annotation.

Search (``job_search`` / ``job_search_page``)
---------------------------------------------
The search lists open public jobs (invite-only jobs are never listed; invited freelancers
reach them through their invitations). Structured filters come from ``jobs.filters.JobFilter``
(shared by the HTML page and the API); the keyword and the order are applied here.

First, on PostgreSQL, the process's in-memory index (``jobs.search_index``) is asked: it
answers every search whose keyword is plain words (or absent) with the structured filters,
ranks every match (its own score, see that module) and keeps each job's card, so such a
page costs no SQL for a visitor. Its cursors say so (``"i": 1``) and are paged by it; a
newest-first index cursor goes on through PostgreSQL when the index is gone (the keys are
the same), a relevance one starts the search again. What it does not serve (phrases,
``or``, ``-word``, a keyword it finds nowhere, no index built yet) goes the way below.

On PostgreSQL the keyword is matched in up to three steps, each tried only when the one
before it matches nothing, so that the common case costs one query:

1. ``exact``: ``websearch_to_tsquery('english', q)`` against ``search_vector`` (title A,
   skills B, description C), through the GIN index.
2. ``similar``: typo tolerance. Each word is OR-ed with the skill name closest to it by
   pg_trgm ``strict_word_similarity`` (the taxonomy is the vocabulary), so "Djnago
   developer" becomes ``(djnago | django) & (developer | ...)``.
3. ``fuzzy``: pg_trgm word similarity of the whole query against job titles
   (``title %> q``, the ``job_title_trgm`` GIN index).

Relevance is ``ts_rank`` with the default weights (A 1.0, B 0.4, C 0.2: a title match
outranks a description match). Ranking every match is too slow at 100,000 jobs (about
370 ms for a word found in half of them), so only a bounded candidate set is ranked: the
newest ``RELEVANCE_CANDIDATES`` (500) matching ids, which PostgreSQL finds by walking the
partial index ``job_open_newest_idx`` newest-first and stopping early (common words) or
through the GIN index and a small sort (rare words), whichever its planner prefers. Those
ids are ranked (``ts_rank`` on at most 500 rows) and paged; the first page's count is a
window over the same candidates, so relevance costs one query per page. The cost is
bounded for ANY query: measured on 100,000 jobs, the candidate walk for a word in 11% of
the jobs ("design") takes ~50 ms at 1,000 candidates and ~6-20 ms at 500, which is why
the bound is 500. The price is that relevance order covers the newest 500 matches (25
pages); every match stays reachable with ``sort=newest``, which pages through all of them.

The structured filters on the job's own columns (job type, experience level, project
length, client location, category, specialty) are matched inside one GIN index together
with the keyword (``job_open_search_filters_gin``, btree_gin, migration 0003), so that a
keyword with filters reads from the table only the jobs that pass them all: "design",
fixed price, expert took ~30 ms warm (~250 ms cold) through the keyword alone and takes
~10 ms. A page lists the description only as far as its excerpt (cut in SQL).

The views cache the pages of this search for every viewer alike, keyed by the parameters
and a jobs generation that the jobs services bump (``jobs.cache``); this module knows
nothing of that. ``saved_job_ids`` gives the viewer's saved flags after the cache.

The search page and the API read a page as plain rows (``job_search_card_page``,
``JobCard``): the same jobs, order, cursors and counts as ``job_search_page`` (``Job``
instances), without building models. On PostgreSQL a relevance page is one statement that
ranks the candidates and reads the page's rows with their category and skill names
(``_fetch_ranked_cards``); a newest-first page reads its skill names in the same query too.

On SQLite (the zero-set-up default) the keyword is a case-insensitive ``contains`` of every
word in the title, skills or description, title matches first; no typo tolerance.

Pagination is keyset: newest by ``(published_at, id)``, relevance by ``(score, published_at,
id)`` where ``score`` is the rank as an integer (floats do not survive a round trip through
a cursor exactly). The cursor also carries the match step and the total, so later pages
neither re-decide the step nor count again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import and_, or_
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Substr
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Category, ExperienceLevel, Skill, Subcategory, User
from accounts.teams import client_side_q as team_client_side_q
from marketplace.errors import ApplicationError
from marketplace.prepared import PreparedQuery

from .models import Invitation, Job, SavedJob, SavedSearch

_T = TypeVar("_T")

if TYPE_CHECKING:
    from marketplace.navigation import NavigationFigures

    from .filters import JobFilter

Viewer = User | AnonymousUser | None

PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
RELEVANCE_CANDIDATES = 500  # how many of the newest matches are ranked (see module docstring)
COUNT_CAP = RELEVANCE_CANDIDATES  # result counts above this are shown as "500+"
MAX_QUERY_WORDS = 6  # typo correction looks at this many words of the query
SIMILAR_SKILL_MIN = 0.25  # pg_trgm strict_word_similarity for a skill name to count as a correction
SCORE_SCALE = 1_000_000  # rank (0..1) as an integer score for exact keyset cursors
DESCRIPTION_EXCERPT_CHARS = 240  # a search result shows this much of the description


class SortOrder:
    RELEVANCE = "relevance"
    NEWEST = "newest"


class MatchStep:
    """How the keyword was matched (shown to the user when it was not ``exact``)."""

    NONE = "none"  # no keyword: newest first
    EXACT = "exact"  # full-text search
    SIMILAR = "similar"  # full-text search with typo corrections from the skill names
    FUZZY = "fuzzy"  # trigram similarity of the whole query to titles
    CONTAINS = "contains"  # SQLite: every word appears somewhere

    ALL = frozenset({NONE, EXACT, SIMILAR, FUZZY, CONTAINS})


class InvalidSearchError(ApplicationError):
    """The search parameters do not validate. Carries the bound filter set for the form."""

    code = "invalid_search"

    def __init__(self, filterset: JobFilter):
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        first = next(iter(fields.items()), ("", ["Check the filters."]))
        label = first[0] if first[0] != "__all__" else ""
        message = f"{label}: {first[1][0]}" if label else first[1][0]
        super().__init__(message, extra={"fields": fields})
        self.filterset = filterset


def _is_user(viewer: Viewer) -> bool:
    return viewer is not None and viewer.is_authenticated


def _user_id(viewer: Viewer) -> int | None:
    """The viewer's user id, None for anonymous visitors."""
    return int(viewer.pk) if viewer is not None and viewer.is_authenticated and viewer.pk else None


# --- visibility ----------------------------------------------------------------------------------


def job_visible_q(viewer: Viewer) -> Q:
    """Jobs ``viewer`` may see: open public jobs for everyone; the owner sees all their own;
    staff see all; invited freelancers see the open invite-only jobs they were invited to."""
    public = Q(status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC)
    if not _is_user(viewer):
        return public
    assert viewer is not None
    if viewer.is_staff:
        return Q()
    invited = Q(status=Job.Status.OPEN, visibility=Job.Visibility.INVITE_ONLY) & Q(
        Exists(Invitation.objects.filter(job=OuterRef("pk"), freelancer_id=viewer.pk))
    )
    # teammates of a client team see the team's jobs (accounts.teams)
    return public | team_client_side_q(viewer) | invited


def job_get_for_viewer(*, public_id: str, viewer: Viewer) -> Job:
    """The job page's data, or ``Http404`` when ``viewer`` may not see the job.

    One query for the job with its category, specialty, client and client profile; the
    skills and screening questions are prefetched.
    """
    job = (
        Job.objects.filter(job_visible_q(viewer), public_id=public_id)
        .select_related("category", "subcategory", "client", "client__client_profile")
        .prefetch_related(Prefetch("skills", queryset=Skill.objects.only("id", "name", "slug")), "questions")
        .defer("search_vector")
        .first()
    )
    if job is None:
        raise Http404("No such job.")
    return job


def _saved_flag(viewer: Viewer) -> Exists | Value:
    """``is_saved`` for lists: None for anonymous visitors (no save button), else a bool."""
    user_id = _user_id(viewer)
    if user_id is None:
        return Value(None, output_field=BooleanField(null=True))
    return Exists(SavedJob.objects.filter(user_id=user_id, job_id=OuterRef("pk")))


def _list_queryset(qs: QuerySet[Job], viewer: Viewer) -> QuerySet[Job]:
    """What a job card needs, in a constant number of queries."""
    return (
        qs.select_related("category")
        .prefetch_related(Prefetch("skills", queryset=Skill.objects.only("id", "name", "slug")))
        .defer("search_vector")
        .annotate(is_saved=_saved_flag(viewer))
    )


def saved_job_ids(*, user: Viewer, job_ids: list[int]) -> set[int]:
    """Which of ``job_ids`` the viewer saved (one query; none for anonymous visitors).

    For lists whose jobs are cached for every viewer: the saved flag is applied after the
    cache (``jobs.views.search``)."""
    user_id = _user_id(user)
    if user_id is None or not job_ids:
        return set()
    return {job_id for (job_id,) in _SAVED.rows(user_id=user_id, job_ids=job_ids)}


def _saved_query(user_id: int, job_ids: list[int]) -> QuerySet[Any, Any]:
    return SavedJob.objects.filter(user_id=user_id, job_id__in=job_ids).values_list("job_id")


# on every signed-in search page: compiled once per process and page size (marketplace.prepared)
_SAVED = PreparedQuery(_saved_query)


def _navigation_and_saved_query(user_id: int, job_ids: list[int]) -> QuerySet[Any, Any]:
    from django.contrib.postgres.expressions import ArraySubquery

    from marketplace.navigation import NAVIGATION_COLUMNS, navigation_queryset

    saved = SavedJob.objects.filter(user_id=OuterRef("pk"), job_id__in=job_ids).values("job_id")
    return (
        navigation_queryset(user_id)
        .annotate(saved_job_ids=ArraySubquery(saved))
        .values_list(*NAVIGATION_COLUMNS, "saved_job_ids")
    )


_NAVIGATION_AND_SAVED = PreparedQuery(_navigation_and_saved_query)


def navigation_and_saved(*, user: User, job_ids: list[int]) -> tuple[NavigationFigures, set[int]]:
    """The navigation's figures (``marketplace.navigation``) and which of ``job_ids`` the
    user saved, for a signed-in search page served from the cache: one query on
    PostgreSQL where it was two (each round trip to the database cost the threaded server
    about 0.2 ms of CPU under load, more than the query itself); the two elsewhere."""
    from marketplace.navigation import figures_from_row, navigation_figures

    if connection.vendor != "postgresql" or not job_ids:
        return navigation_figures(user=user), saved_job_ids(user=user, job_ids=job_ids)
    rows = _NAVIGATION_AND_SAVED.rows(user_id=user.pk, job_ids=job_ids)
    if not rows:
        return figures_from_row(None), set()
    *figures, saved = rows[0]
    return figures_from_row(figures), set(saved or ())


def description_excerpt(text: str) -> str:
    """The start of a description as a list shows it: at most ``DESCRIPTION_EXCERPT_CHARS``
    characters, a cut marked with "…" (the ``truncatechars`` rule)."""
    if len(text) <= DESCRIPTION_EXCERPT_CHARS:
        return text
    return text[: DESCRIPTION_EXCERPT_CHARS - 1] + "…"


def _page_queryset(qs: QuerySet[Job], viewer: Viewer) -> QuerySet[Job]:
    """``_list_queryset`` for a search page: the description only as far as the excerpt
    goes (cut in SQL: a description may be 10,000 characters), no skills text."""
    return (
        _list_queryset(qs, viewer)
        .defer("description", "skills_text")
        .annotate(description_head=Substr("description", 1, DESCRIPTION_EXCERPT_CHARS + 1))
    )


# --- search ----------------------------------------------------------------------------------------


@dataclass
class SearchFormOptions:
    """What the search page's filter form offers beyond fixed choices."""

    categories: list[Category]
    subcategories: list[Subcategory]  # of the chosen category (or the chosen specialty alone)
    skills: list[Skill]  # the chosen ones, then those of the chosen specialty or category


TAXONOMY_TTL_SECONDS = 300  # how long a process reuses its copy of the categories and skills


@dataclass(frozen=True)
class _Taxonomy:
    """Categories, specialties and skills as the filter form lists them, read in three
    queries and reused by the process for ``TAXONOMY_TTL_SECONDS`` (staff edit the
    taxonomy rarely; a renamed skill reaches the filter form within that time)."""

    database: str
    loaded_at: float
    categories: list[Category]  # by position, name
    subcategories: dict[int, list[Subcategory]]  # by category id; by position, name
    skills: dict[int, list[Skill]]  # by subcategory id; by name (only id, name, subcategory)


_taxonomy_copy: _Taxonomy | None = None


def _taxonomy() -> _Taxonomy:
    global _taxonomy_copy
    database = str(connection.settings_dict.get("NAME", ""))
    found = _taxonomy_copy
    if found is None or found.database != database or found.loaded_at + TAXONOMY_TTL_SECONDS < time.time():
        subcategories: dict[int, list[Subcategory]] = {}
        for sub in Subcategory.objects.order_by("position", "name"):
            subcategories.setdefault(sub.category_id, []).append(sub)
        skills: dict[int, list[Skill]] = {}
        for skill in Skill.objects.only("id", "name", "subcategory_id").order_by("name"):
            skills.setdefault(skill.subcategory_id, []).append(skill)
        found = _Taxonomy(
            database=database,
            loaded_at=time.time(),
            categories=list(Category.objects.order_by("position", "name")),
            subcategories=subcategories,
            skills=skills,
        )
        _taxonomy_copy = found
    return found


def search_form_options(
    *,
    category: Category | None,
    subcategory: Subcategory | None,
    skills: list[Skill],
    skill_limit: int = 100,
) -> SearchFormOptions:
    """Options for the filter form, from the process's copy of the taxonomy (``_taxonomy``:
    no query while it is fresh). Without a category there are no specialties or skills to
    list (beyond those already chosen): the page asks for a category first, which keeps it
    light (677 skills, 101 specialties)."""
    taxonomy = _taxonomy()
    if category is not None:
        subcategories = list(taxonomy.subcategories.get(category.pk, []))
    else:
        subcategories = [subcategory] if subcategory is not None else []
    chosen = sorted(skills, key=lambda skill: skill.name)
    scope: list[Skill] = []
    if subcategory is not None:
        scope = taxonomy.skills.get(subcategory.pk, [])
    elif category is not None:
        in_category = [taxonomy.skills.get(sub.pk, []) for sub in taxonomy.subcategories.get(category.pk, [])]
        scope = sorted((skill for group in in_category for skill in group), key=lambda skill: skill.name)
    chosen_ids = {skill.pk for skill in chosen}
    others = [skill for skill in scope if skill.pk not in chosen_ids][:skill_limit]
    return SearchFormOptions(
        categories=list(taxonomy.categories), subcategories=subcategories, skills=chosen + others
    )


def job_searchable() -> QuerySet[Job]:
    """Every job the search may list: open and public, the same for every viewer."""
    return Job.objects.filter(status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC)


class _Plan:
    """A validated search: its cleaned parameters, keyword and order. The filter set (the
    form, and the queryset of the structured filters) is built on first use: plain
    parameters are validated without it (``plain_search_data``), and the in-process index
    needs neither."""

    def __init__(self, data: QueryDict, cleaned: dict[str, Any], filterset: JobFilter | None = None) -> None:
        self.data = data
        self.cleaned = cleaned
        self._filterset = filterset
        self.query = " ".join((cleaned.get("q") or "").split())
        # the effective order: relevance needs a keyword
        self.sort = (cleaned.get("sort") or SortOrder.RELEVANCE) if self.query else SortOrder.NEWEST

    @property
    def filterset(self) -> JobFilter:
        if self._filterset is None:
            filterset = _search_filter_class()(data=self.data, queryset=job_searchable())
            if not filterset.is_valid():  # plain_search_data accepted what the form refuses
                raise InvalidSearchError(filterset)
            self._filterset = filterset
        return self._filterset

    @property
    def filtered(self) -> QuerySet[Job]:
        """Searchable jobs after the structured filters, before the keyword (built on first
        use: the in-process index does not need it)."""
        return self.filterset.qs


@dataclass
class _Matched:
    step: str
    qs: QuerySet[Job]  # ordered, annotated with the sort keys
    keys: tuple[str, ...]  # the keyset, every key descending
    windowed: bool  # the queryset is a bounded candidate set (count it with a window)
    # relevance: the candidates alone, newest first, as (id, published_at, score) rows
    scored_candidates: QuerySet[Any, Any] | None = None
    indexed: bool = False  # found by the in-process index (jobs.search_index)


def _as_querydict(params: Mapping[str, Any]) -> QueryDict:
    """Search parameters as a ``QueryDict`` without blank values (a form sends "Any" as
    ``location=``); in a plain dict a value may be one or a list."""
    getlist = params.getlist if isinstance(params, QueryDict) else None
    data = QueryDict(mutable=True)
    for key in params:
        value = getlist(key) if getlist else params[key]
        items = [
            str(item)
            for item in (value if isinstance(value, list | tuple) else [value])
            if item is not None and str(item).strip() != ""
        ]
        if items:  # one list per key (appending item by item was a tenth of a search)
            data.setlist(key, items)
    return data


@functools.cache
def _search_filter_class() -> type[JobFilter]:
    from .filters import JobFilter

    class SearchFilter(JobFilter):
        """``JobFilter`` with its form class built once per process. django-filter builds a
        new class (and a field per filter) for every filter set, ~0.5 ms of each search;
        the class is only a template (each form deep-copies its fields), so one will do."""

        form_class: ClassVar[type[forms.Form] | None] = None

        def get_form_class(self) -> type[forms.Form]:
            found = type(self).form_class
            if found is None:
                found = type(self).form_class = super().get_form_class()
            return found

    return SearchFilter


def _plan(params: Mapping[str, Any], viewer: Viewer) -> _Plan:
    from .filters import plain_search_data

    data = _as_querydict(params)
    cleaned = plain_search_data(data)
    if cleaned is not None:
        return _Plan(data, cleaned)
    filterset = _search_filter_class()(data=data, queryset=job_searchable())
    if not filterset.is_valid():
        raise InvalidSearchError(filterset)
    return _Plan(data, filterset.form.cleaned_data, filterset)


def _newest(qs: QuerySet[Job], step: str) -> _Matched:
    return _Matched(step, qs.order_by("-published_at", "-id"), ("published_at", "id"), windowed=False)


def _ranked(plan: _Plan, step: str, matching: QuerySet[Job], score: Any) -> _Matched:
    """Order ``matching`` by ``score``: the newest candidates only, or newest first."""
    if plan.sort == SortOrder.NEWEST:
        return _newest(matching, step)
    newest_first = matching.order_by("-published_at", "-id")
    candidates = newest_first.values("pk")[:RELEVANCE_CANDIDATES]
    qs = (
        Job.objects.filter(pk__in=candidates).annotate(score=score).order_by("-score", "-published_at", "-id")
    )
    # PostgreSQL computes an expensive score after the LIMIT, for the candidates only
    scored = newest_first.annotate(score=score).values_list("id", "published_at", "score")[
        :RELEVANCE_CANDIDATES
    ]
    return _Matched(step, qs, ("score", "published_at", "id"), windowed=True, scored_candidates=scored)


def _pg_rank(query: Any) -> Cast:
    from django.contrib.postgres.search import SearchRank

    return Cast(SearchRank(F("search_vector"), query) * Value(SCORE_SCALE), IntegerField())


def _pg_exact(plan: _Plan) -> _Matched:
    from django.contrib.postgres.search import SearchQuery

    query = SearchQuery(plan.query, search_type="websearch", config="english")
    return _ranked(plan, MatchStep.EXACT, plan.filtered.filter(search_vector=query), _pg_rank(query))


def _query_words(query: str) -> list[str]:
    words = ["".join(ch for ch in word if ch.isalnum() or ch in "+#.-") for word in query.split()]
    return [w for w in words if len(w) >= 2][:MAX_QUERY_WORDS]


def _pg_similar(plan: _Plan) -> _Matched | None:
    """Each word OR its closest skill name (pg_trgm); None when nothing could be corrected."""
    from django.contrib.postgres.search import SearchQuery, TrigramStrictWordSimilarity

    words = _query_words(plan.query)
    parts: list[Any] = []
    corrected = False
    for word in words:
        part = SearchQuery(word, config="english")
        closest = (
            Skill.objects.annotate(similarity=TrigramStrictWordSimilarity(word, "name"))
            .filter(similarity__gte=SIMILAR_SKILL_MIN)
            .order_by("-similarity", "name")
            .values_list("name", flat=True)
            .first()
        )
        if closest and closest.lower() != word.lower():
            part = part | SearchQuery(closest, config="english")
            corrected = True
        parts.append(part)
    if not corrected:
        return None
    query = reduce(and_, parts)
    return _ranked(plan, MatchStep.SIMILAR, plan.filtered.filter(search_vector=query), _pg_rank(query))


def _pg_fuzzy(plan: _Plan) -> _Matched:
    from django.contrib.postgres.search import TrigramWordSimilarity

    score = Cast(TrigramWordSimilarity(plan.query, "title") * Value(SCORE_SCALE), IntegerField())
    matching = plan.filtered.filter(title__trigram_word_similar=plan.query)
    return _ranked(plan, MatchStep.FUZZY, matching, score)


def _sqlite_contains(plan: _Plan) -> _Matched:
    words = plan.query.split()[:MAX_QUERY_WORDS]
    every_word = reduce(
        and_,
        (Q(title__icontains=w) | Q(skills_text__icontains=w) | Q(description__icontains=w) for w in words),
    )
    matching = plan.filtered.filter(every_word)
    if plan.sort == SortOrder.NEWEST:
        return _newest(matching, MatchStep.CONTAINS)
    in_title_all = reduce(and_, (Q(title__icontains=w) for w in words))
    in_title_any = reduce(or_, (Q(title__icontains=w) for w in words))
    score = Case(
        When(in_title_all, then=2), When(in_title_any, then=1), default=0, output_field=IntegerField()
    )
    qs = matching.annotate(score=score).order_by("-score", "-published_at", "-id")
    return _Matched(MatchStep.CONTAINS, qs, ("score", "published_at", "id"), windowed=False)


def _strategies(plan: _Plan) -> list[tuple[str, Callable[[], _Matched | None]]]:
    """The keyword's match steps in order (see module docstring), each built on demand."""
    if not plan.query:
        return [(MatchStep.NONE, lambda: _newest(plan.filtered, MatchStep.NONE))]
    if connection.vendor != "postgresql":
        return [(MatchStep.CONTAINS, lambda: _sqlite_contains(plan))]
    return [
        (MatchStep.EXACT, lambda: _pg_exact(plan)),
        (MatchStep.SIMILAR, lambda: _pg_similar(plan)),
        (MatchStep.FUZZY, lambda: _pg_fuzzy(plan)),
    ]


def _tried(plan: _Plan):
    """The match steps that apply to this search, in order."""
    for _step, build in _strategies(plan):
        matched = build()
        if matched is not None:
            yield matched


def _strategy(plan: _Plan, step: str) -> _Matched | None:
    for name, build in _strategies(plan):
        if name == step:
            return build()
    return None


def job_search(*, params: Mapping[str, Any], viewer: Viewer) -> QuerySet[Job]:
    """Open public jobs matching ``params`` (the ``JobFilter`` parameters), in search order.

    Raises ``InvalidSearchError`` (400) when a parameter does not validate. The first match
    step that finds anything is used (one ``EXISTS`` query per step tried); the result is
    an ordered queryset ready for slicing, with ``is_saved`` for ``viewer``.
    """
    plan = _plan(params, viewer)
    matched = None
    for matched in _tried(plan):
        if matched.step in (MatchStep.NONE, MatchStep.CONTAINS) or matched.qs.exists():
            break
    assert matched is not None
    return _list_queryset(matched.qs, viewer)


@dataclass
class JobSearchPage:
    # ``Job`` instances (``job_search_page``) or ``JobCard`` rows (``job_search_card_page``),
    # each with ``description_excerpt``; the full description is not loaded
    jobs: list[Any]
    next_cursor: str | None
    count: int  # number of results, at most COUNT_CAP
    count_capped: bool  # there are more than ``count``
    step: str  # MatchStep
    sort: str  # the effective SortOrder
    query: str
    plan: _Plan  # the validated parameters
    indexed: bool = False  # answered by the in-process index (jobs.search_index)

    @property
    def filterset(self) -> JobFilter:
        """Bound and valid: renders the filter form (built on first use)."""
        return self.plan.filterset

    @property
    def cleaned(self) -> dict[str, Any]:
        """The parameters as the filter form cleans them."""
        return self.plan.cleaned

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def is_similar(self) -> bool:
        """The results are typo-tolerant matches: the page says so."""
        return self.step in (MatchStep.SIMILAR, MatchStep.FUZZY)


def _invalid_cursor() -> ApplicationError:
    return ApplicationError(
        "This page of results is out of date; start the search again.", code="invalid_cursor"
    )


def _encode_cursor(
    step: str, sort: str, values: list[Any], count: int, capped: bool, indexed: bool = False
) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    payload: dict[str, Any] = {"s": step, "o": sort, "k": raw, "n": count, "c": capped}
    if indexed:
        payload["i"] = 1
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str, list[Any], int, bool, bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        step, sort, raw = payload["s"], payload["o"], payload["k"]
        count, capped, indexed = int(payload["n"]), bool(payload["c"]), payload.get("i") == 1
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError, AttributeError):
        raise _invalid_cursor()
    if step not in MatchStep.ALL or not isinstance(raw, list):
        raise _invalid_cursor()
    return step, sort, raw, count, capped, indexed


def _cursor_values(raw: list[Any], keys: tuple[str, ...]) -> list[Any]:
    if len(raw) != len(keys):
        raise _invalid_cursor()
    values: list[Any] = []
    for key, value in zip(keys, raw, strict=True):
        if key == "published_at":
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None:
                raise _invalid_cursor()
            values.append(parsed)
        elif isinstance(value, int) and not isinstance(value, bool):
            values.append(value)
        else:
            raise _invalid_cursor()
    return values


def _after(keys: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in an order descending on every key.

    ``k1 <= v1`` is repeated outside the OR so that PostgreSQL can start an index scan there.
    """
    clauses = []
    equal: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=True):
        clauses.append(Q(**equal, **{f"{key}__lt": value}))
        equal[key] = value
    return Q(**{f"{keys[0]}__lte": values[0]}) & reduce(or_, clauses)


def job_search_page(
    *, params: Mapping[str, Any], viewer: Viewer, cursor: str | None = None, page_size: int = PAGE_SIZE
) -> JobSearchPage:
    """One page of the search, keyset-paginated, as ``Job`` instances (category selected,
    skills prefetched, ``description_excerpt`` and ``is_saved`` set). Raises
    ``InvalidSearchError`` for bad parameters and ``ApplicationError(code="invalid_cursor")``
    for a damaged cursor.

    Queries: the filter validation (one per model-choice filter given), then on the first
    page the count (newest order) or nothing extra (relevance: a window over the
    candidates), one for the rows, one for their skills. A match step that finds nothing
    costs one more query before the next is tried.

    The search page and the API list ``job_search_card_page`` instead: the same page as
    plain rows, without the cost of model instances.
    """
    return _search_page(params, viewer, cursor, page_size, _fetch_jobs)


def job_search_card_page(
    *,
    params: Mapping[str, Any],
    viewer: Viewer,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
    generation: int | None = None,
) -> JobSearchPage:
    """``job_search_page`` with ``JobCard`` rows instead of ``Job`` instances: the same jobs,
    order, cursor and count, in the same number of queries, read with ``.values()``.

    ``generation``: the jobs generation (``jobs.cache``) the caller has just read with its
    cache slot, so that the in-process index need not read it again; None reads it."""
    return _search_page(params, viewer, cursor, page_size, _fetch_cards, generation)


def _search_page(
    params: Mapping[str, Any],
    viewer: Viewer,
    cursor: str | None,
    page_size: int,
    fetch: Callable[[_Matched, Viewer, int, list[Any] | None], list[Any]],
    generation: int | None = None,
) -> JobSearchPage:
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    plan = _plan(params, viewer)
    if cursor:
        step, sort, raw, count, capped, indexed = _decode_cursor(cursor)
        if indexed:  # a later page of the index's order: the index pages it (or start again)
            if sort != plan.sort:
                raise _invalid_cursor()
            found = _index_page(plan, viewer, page_size, fetch, (raw, count), generation)
            if found is not None:
                return found
            if sort != SortOrder.NEWEST:  # the index's relevance order cannot go on elsewhere
                raise _invalid_cursor()
            # newest first has the same keys everywhere: PostgreSQL goes on from here
        matched = _strategy(plan, step)
        if matched is None or sort != plan.sort:
            raise _invalid_cursor()
        values = _cursor_values(raw, matched.keys)
        jobs = fetch(matched, viewer, page_size + 1, values)
        return _page(plan, matched, jobs, page_size, count, capped)

    found = _index_page(plan, viewer, page_size, fetch, None, generation)
    if found is not None:
        return found
    last: JobSearchPage | None = None
    for matched in _tried(plan):
        jobs = fetch(matched, viewer, page_size + 1, None)
        if matched.windowed:
            count = jobs[0].total if jobs else 0
            capped = count >= RELEVANCE_CANDIDATES
        else:
            # a short first page is its own count; else count up to the cap (one query),
            # in no particular order: PostgreSQL may then stop at the cheapest 501 rows
            count = (
                len(jobs)
                if len(jobs) <= page_size
                else matched.qs.order_by().values("pk")[: COUNT_CAP + 1].count()
            )
            capped = count > COUNT_CAP
            count = min(count, COUNT_CAP)
        last = _page(plan, matched, jobs, page_size, count, capped)
        if jobs:
            break
    assert last is not None
    return last


def _index_page(
    plan: _Plan,
    viewer: Viewer,
    page_size: int,
    fetch: Callable[[_Matched, Viewer, int, list[Any] | None], list[Any]],
    later: tuple[list[Any], int] | None,
    generation: int | None = None,
) -> JobSearchPage | None:
    """A page found by the in-process index (``jobs.search_index``), or None when the index
    cannot answer: not on PostgreSQL or turned off, not built yet, a keyword that is more
    than plain words, or a keyword it does not find (PostgreSQL then tries the typo steps).
    ``later``: a later page's cursor keys and count. Cards come from the index as it read
    them, with the fresher proposal counts and the viewer's saved flags (one query for a
    signed-in viewer); model instances (``job_search_page``) are read by id among the
    listed jobs, in one query."""
    from . import cache as jobs_cache
    from . import search_index
    from .filters import POSTED_WITHIN

    if not search_index.enabled():
        return None
    terms: list[str] | None = None
    if plan.query:
        lexemes = search_index.lexemes(plan.query)
        if not lexemes:  # more than plain words, or nothing searchable
            return None
        terms = list(lexemes)
    index = search_index.current(generation if generation is not None else jobs_cache.generation())
    if index is None:
        return None
    newest = plan.sort == SortOrder.NEWEST
    keys: tuple[str, ...] = ("published_at", "id") if newest else ("score", "published_at", "id")
    after = None
    if later is not None:
        values = _cursor_values(later[0], keys)
        published, job_id = values[-2], values[-1]
        after = (0 if newest else values[0], search_index.micros(published), job_id)
    filters = search_index.filters_from(plan.cleaned, timezone.now(), POSTED_WITHIN)
    hit = index.search(terms, filters, newest=newest, after=after, limit=page_size + 1)
    if later is None and not hit.ids and terms is not None:
        return None
    step = MatchStep.EXACT if terms is not None else MatchStep.NONE
    shown = hit.ids[:page_size]
    saved = saved_job_ids(user=viewer, job_ids=shown)
    jobs: list[Any]
    if fetch is _fetch_cards:  # the index keeps the cards: only the fresher figures change
        signed_in = _is_user(viewer)
        jobs = [
            card.with_figures(
                proposals_count=proposals,
                is_saved=(card.id in saved) if signed_in else None,
                score=None if newest else score,
            )
            for card, proposals, score in zip(
                hit.cards[:page_size], hit.proposals[:page_size], hit.scores[:page_size], strict=False
            )
        ]
    else:  # model instances, read among the listed jobs
        listed = _Matched(step, job_searchable().filter(pk__in=shown), keys, windowed=False)
        rows = {row.pk: row for row in fetch(listed, viewer, len(shown), None)}
        jobs = []
        for job_id, score in zip(shown, hit.scores, strict=False):
            row = rows.get(job_id)
            if row is not None:
                if not newest:
                    row.score = score
                jobs.append(row)
    count = hit.total if later is None else later[1]
    next_cursor = None
    if len(hit.ids) > page_size:  # the keys of the page's last job, as the index ordered it
        last = page_size - 1
        tail = (
            [hit.published[last], hit.ids[last]]
            if newest
            else [hit.scores[last], hit.published[last], hit.ids[last]]
        )
        next_cursor = _encode_cursor(step, plan.sort, tail, count, False, indexed=True)
    return JobSearchPage(
        jobs=jobs,
        next_cursor=next_cursor,
        count=count,
        count_capped=False,
        step=step,
        sort=plan.sort,
        query=plan.query,
        plan=plan,
        indexed=True,
    )


def listed_cards(*, job_ids: list[int]) -> list[JobCard]:
    """The cards of those of ``job_ids`` that are listed (open and public), for the search
    index (``jobs.search_index``) to keep: read in one statement per 10,000, without the
    viewer's saved flag."""
    cards: list[JobCard] = []
    for start in range(0, len(job_ids), 10_000):
        chunk = job_ids[start : start + 10_000]
        listed = _Matched(MatchStep.EXACT, job_searchable().filter(pk__in=chunk), ("id",), windowed=False)
        cards += _fetch_cards(listed, None, len(chunk), None)
    return cards


def _fetch_jobs(matched: _Matched, viewer: Viewer, limit: int, after: list[Any] | None) -> list[Job]:
    """The first ``limit`` jobs of ``matched`` (after the keyset ``after``) as model
    instances; on a first page of a bounded candidate set each has the window ``total``."""
    qs = matched.qs if after is None else matched.qs.filter(_after(matched.keys, after))
    page_qs = _page_queryset(qs, viewer)
    if matched.windowed and after is None:
        page_qs = page_qs.annotate(total=Window(Count("id")))
    jobs = list(page_qs[:limit])
    for job in jobs:
        job.description_excerpt = description_excerpt(job.description_head)  # type: ignore[attr-defined]
    return jobs


# --- cards: a page of the search as plain rows ----------------------------------------------------

# The job's own columns a card (HTML) or a list item (API) shows.
CARD_COLUMNS = (
    "id",
    "public_id",
    "title",
    "budget_type",
    "hourly_min_cents",
    "hourly_max_cents",
    "fixed_budget_cents",
    "experience_level",
    "duration",
    "size",
    "visibility",
    "published_at",
    "proposals_count",
    "client_country",
)
_EXPERIENCE_LABELS = dict(ExperienceLevel.choices)
_DURATION_LABELS = dict(Job.Duration.choices)
_SIZE_LABELS = dict(Job.Size.choices)


@dataclass(slots=True, eq=False)
class JobCard:
    """A job of a search page as a plain row (``job_search_card_page``): the columns a card
    or an API item shows, the category's name, the skill names in name order, the
    description's excerpt. Has the ``Job`` attribute names for what it carries."""

    id: int
    public_id: str
    title: str
    budget_type: str
    hourly_min_cents: int | None
    hourly_max_cents: int | None
    fixed_budget_cents: int | None
    experience_level: str
    duration: str
    size: str
    visibility: str
    published_at: datetime
    proposals_count: int
    client_country: str
    category_name: str
    description_excerpt: str
    is_saved: bool | None  # None for anonymous viewers
    skill_names: list[str]
    score: int | None = None  # the relevance score (a keyset key), None in newest order
    total: int = 0  # the window count over the relevance candidates (first page only)
    # renderings of this card's content (``remembered``), shared with its copies that carry
    # fresher figures (``with_figures``): the search index's cards keep theirs as long as the
    # index holds them
    renderings: dict[Hashable, tuple[tuple[Any, ...], Any]] = field(default_factory=dict, repr=False)

    @property
    def pk(self) -> int:
        return self.id

    def remembered(self, kind: Hashable, make: Callable[[JobCard], _T]) -> _T:
        """``make(self)``, made once for this card's content (``content_key``) and ``kind``
        (what is made and for which language, time zone...): the search index hands out
        the same jobs over and over, and their markup and JSON were a fifth of an uncached
        search. A card changed since (a different content) is made again."""
        key = self.content_key()
        found = self.renderings.get(kind)
        if found is not None and found[0] == key:
            return cast(_T, found[1])
        value = make(self)
        self.renderings[kind] = (key, value)
        return value

    def content_key(self) -> tuple[Any, ...]:
        """What a rendering of this card (HTML or JSON) depends on but its fresher figures
        (proposal count, saved flag, score, total): a key for remembering the rendering."""
        return (
            self.id,
            self.public_id,
            self.title,
            self.description_excerpt,
            self.category_name,
            tuple(self.skill_names),
            self.budget_type,
            self.hourly_min_cents,
            self.hourly_max_cents,
            self.fixed_budget_cents,
            self.experience_level,
            self.duration,
            self.size,
            self.visibility,
            self.published_at,
            self.client_country,
        )

    def with_figures(self, *, proposals_count: int, is_saved: bool | None, score: int | None) -> JobCard:
        """This card with fresher figures (``dataclasses.replace`` without its checks: it
        was a tenth of an uncached search's CPU)."""
        return JobCard(
            self.id,
            self.public_id,
            self.title,
            self.budget_type,
            self.hourly_min_cents,
            self.hourly_max_cents,
            self.fixed_budget_cents,
            self.experience_level,
            self.duration,
            self.size,
            self.visibility,
            self.published_at,
            proposals_count,
            self.client_country,
            self.category_name,
            self.description_excerpt,
            is_saved,
            self.skill_names,
            score,
            self.total,
            self.renderings,
        )

    @classmethod
    def from_job(cls, job: Job) -> JobCard:
        """The card of a ``Job`` instance (category selected, skills prefetched), for lists
        of jobs read as models (the matches feed) that render as search cards do."""
        excerpt = getattr(job, "description_excerpt", None)
        return cls(
            **{name: getattr(job, name) for name in CARD_COLUMNS},
            category_name=job.category.name,
            description_excerpt=excerpt if excerpt is not None else description_excerpt(job.description),
            is_saved=getattr(job, "is_saved", None),
            skill_names=[skill.name for skill in job.skills.all()],
        )

    def get_experience_level_display(self) -> str:
        return str(_EXPERIENCE_LABELS.get(self.experience_level, self.experience_level))

    def get_duration_display(self) -> str:
        return str(_DURATION_LABELS.get(self.duration, self.duration))

    def get_size_display(self) -> str:
        return str(_SIZE_LABELS.get(self.size, self.size))


def skill_names_by_job(job_ids: list[int]) -> dict[int, list[str]]:
    """The skill names of each of ``job_ids``, in name order (one query)."""
    names: dict[int, list[str]] = {job_id: [] for job_id in job_ids}
    if job_ids:
        rows = (
            Job.skills.through.objects.filter(job_id__in=job_ids)
            .order_by("skill__name")
            .values_list("job_id", "skill__name")
        )
        for job_id, name in rows:
            names[job_id].append(name)
    return names


def _fetch_cards(matched: _Matched, viewer: Viewer, limit: int, after: list[Any] | None) -> list[JobCard]:
    """The first ``limit`` jobs of ``matched`` (after the keyset ``after``) as ``JobCard``
    rows, in one query (the description cut in SQL; on SQLite a second one for the skills)."""
    if matched.scored_candidates is not None and connection.vendor == "postgresql":
        return _fetch_ranked_cards(matched.scored_candidates, viewer, limit, after)
    qs = matched.qs if after is None else matched.qs.filter(_after(matched.keys, after))
    extra: dict[str, Any] = {
        "category_name": F("category__name"),
        "description_head": Substr("description", 1, DESCRIPTION_EXCERPT_CHARS + 1),
        "is_saved": _saved_flag(viewer),
    }
    if matched.windowed and after is None:
        extra["total"] = Window(Count("id"))
    if connection.vendor == "postgresql":  # the skills in the same query
        from django.contrib.postgres.expressions import ArraySubquery

        # each skill's name looked up by its key: with a join PostgreSQL hashes the whole
        # skills table once per job (1.7 against 0.3 ms for 21 jobs at 677 skills)
        skill_name = Subquery(Skill.objects.filter(pk=OuterRef("skill_id")).values("name")[:1])
        names_of_skills = (
            Job.skills.through.objects.filter(job_id=OuterRef("pk"))
            .annotate(skill_name=skill_name)
            .order_by("skill_name")  # type: ignore[misc]
        )
        extra["skill_names"] = ArraySubquery(names_of_skills.values("skill_name"))  # type: ignore[misc]
    names = [*CARD_COLUMNS, *extra]
    if "score" in qs.query.annotations:
        names.append("score")
    rows = list(qs.annotate(**extra).values(*names)[:limit])
    return _cards(rows)


def _cards(rows: list[dict[str, Any]]) -> list[JobCard]:
    """``JobCard``s from rows of ``CARD_COLUMNS``, ``category_name``, ``description_head``,
    ``is_saved`` (and ``score``, ``total``, ``skill_names`` when the query had them; the
    skills are read here, in one query, when it had not)."""
    skills = None if not rows or "skill_names" in rows[0] else skill_names_by_job([row["id"] for row in rows])
    cards = []
    for row in rows:
        head = row.pop("description_head")
        if skills is not None:
            row["skill_names"] = skills[row["id"]]
        cards.append(JobCard(**row, description_excerpt=description_excerpt(head or "")))
    return cards


def _fetch_ranked_cards(
    scored: QuerySet[Job], viewer: Viewer, limit: int, after: list[Any] | None
) -> list[JobCard]:
    """``_fetch_cards`` of a relevance page on PostgreSQL, in one statement that ranks the
    candidates (``scored``: the ORM's SQL for them, filters and all) and reads the jobs'
    columns for the page's rows only. The ORM's form of it (``_Matched.qs``: the jobs whose
    id is among the candidates, ranked) reads every candidate's row a second time to rank
    it: measured on 100,000 jobs, 4.8 against 2.6 ms for "python", 7.3 against 4.1 for
    "notes", 14 against 10 for "design"."""
    quote = connection.ops.quote_name
    candidates_sql, candidates_params = scored.query.sql_with_params()
    user_id = _user_id(viewer)
    saved, params = "NULL", []  # the parameters in the order of the statement's text
    if user_id is not None:
        saved = f"EXISTS (SELECT 1 FROM {quote(SavedJob._meta.db_table)} s WHERE s.user_id = %s AND s.job_id = j.id)"  # noqa: S608 - identifiers only
        params.append(user_id)
    params += candidates_params
    where = ""
    if after is not None:  # the keyset, (score, published_at, id) descending
        score, published_at, job_id = after
        where = (
            "WHERE c.score <= %s AND (c.score < %s OR (c.score = %s AND c.published_at < %s)"
            " OR (c.score = %s AND c.published_at = %s AND c.id < %s))"
        )
        params += [score, score, score, published_at, score, published_at, job_id]
    params.append(limit)
    columns = ", ".join(
        f"j.{quote(name)}" for name in CARD_COLUMNS
    )  # the job's own fields: columns of that name
    # identifiers from the models and the ORM's own SQL; every value is a parameter
    sql = (
        f"SELECT {columns}, cat.{quote('name')},"  # noqa: S608
        f" SUBSTRING(j.{quote('description')}, 1, {DESCRIPTION_EXCERPT_CHARS + 1}), {saved}, r.score, r.total,"
        # each skill's name looked up by its key (see _fetch_cards on why not a join)
        f" ARRAY(SELECT (SELECT s.{quote('name')} FROM {quote(Skill._meta.db_table)} s"
        f" WHERE s.id = js.{quote('skill_id')}) FROM {quote(Job.skills.through._meta.db_table)} js"
        f" WHERE js.{quote('job_id')} = j.id ORDER BY 1)"
        " FROM (SELECT c.id, c.published_at, c.score, COUNT(*) OVER () AS total"
        f" FROM ({candidates_sql}) AS c (id, published_at, score) {where}"
        " ORDER BY c.score DESC, c.published_at DESC, c.id DESC LIMIT %s) AS r"
        f" JOIN {quote(Job._meta.db_table)} j ON j.id = r.id"
        f" JOIN {quote(Category._meta.db_table)} cat ON cat.id = j.{quote('category_id')}"
        " ORDER BY r.score DESC, r.published_at DESC, r.id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    names = [*CARD_COLUMNS, "category_name", "description_head", "is_saved", "score", "total", "skill_names"]
    return _cards([dict(zip(names, row, strict=True)) for row in fetched])


def _page(
    plan: _Plan, matched: _Matched, jobs: list[Any], page_size: int, count: int, capped: bool
) -> JobSearchPage:
    next_cursor = None
    if len(jobs) > page_size:
        jobs = jobs[:page_size]
        tail = jobs[-1]
        next_cursor = _encode_cursor(
            matched.step,
            plan.sort,
            [getattr(tail, key) for key in matched.keys],
            count,
            capped,
            matched.indexed,
        )
    return JobSearchPage(
        jobs=jobs,
        next_cursor=next_cursor,
        count=count,
        count_capped=capped,
        step=matched.step,
        sort=plan.sort,
        query=plan.query,
        plan=plan,
    )


def job_search_new_since(
    *, query_string: str, viewer: User, since: datetime, until: datetime, limit: int
) -> tuple[list[Job], int]:
    """Jobs matching a saved search's ``query_string`` published in ``(since, until]``,
    newest first, not the viewer's own: at most ``limit`` of them and how many there are.
    For alerts; raises ``InvalidSearchError`` when the saved parameters no longer validate."""
    params = QueryDict(query_string, mutable=True)
    params.pop("cursor", None)
    params["sort"] = SortOrder.NEWEST
    qs = job_search(params=params, viewer=viewer)
    qs = qs.filter(published_at__gt=since, published_at__lte=until).exclude(client_id=viewer.pk)
    jobs = list(qs[: limit + 1])
    if len(jobs) <= limit:
        return jobs, len(jobs)
    return jobs[:limit], qs.count()


# --- saved jobs and searches -----------------------------------------------------------------


def saved_jobs_for_user(*, user: User) -> QuerySet[SavedJob]:
    """The user's saved jobs, newest saved first, each with ``is_available`` (still open
    and visible to the user); jobs' category and skills loaded in constant queries."""
    visible = Job.objects.filter(job_visible_q(user), pk=OuterRef("job_id"), status=Job.Status.OPEN)
    return (
        SavedJob.objects.filter(user=user)
        .select_related("job__category", "job__client")
        .prefetch_related(Prefetch("job__skills", queryset=Skill.objects.only("id", "name", "slug")))
        .defer("job__search_vector")
        .annotate(is_available=Exists(visible))
        .order_by("-created_at", "-id")
    )


def saved_searches_for_user(*, user: User) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.filter(user=user).order_by("-created_at", "-id")


def job_for_save(*, public_id: str, viewer: User) -> Job:
    """The job a save/unsave names: one the viewer may see or has already saved; else 404."""
    already_saved = Exists(SavedJob.objects.filter(user_id=viewer.pk, job_id=OuterRef("pk")))
    job = Job.objects.filter(job_visible_q(viewer) | Q(already_saved), public_id=public_id).defer(
        "search_vector"
    )
    found = job.annotate(is_saved=already_saved).first()
    if found is None:
        raise Http404("No such job.")
    return found
