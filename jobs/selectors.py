"""Reads of jobs: who may see a job, the job search, saved jobs and saved searches.

Every list here is written so that the number of SQL queries per page is constant:
``select_related`` for the category and the client, one prefetch for the skills, the
"saved by me" flag as an ``EXISTS`` annotation.

Search (``job_search`` / ``job_search_page``)
---------------------------------------------
The search lists open public jobs (invite-only jobs are never listed; invited freelancers
reach them through their invitations). Structured filters come from ``jobs.filters.JobFilter``
(shared by the HTML page and the API); the keyword and the order are applied here.

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
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import and_, or_
from typing import TYPE_CHECKING, Any

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
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Substr
from django.http import Http404, QueryDict
from django.utils.dateparse import parse_datetime

from accounts.models import Category, Skill, Subcategory, User
from marketplace.errors import ApplicationError

from .models import Invitation, Job, SavedJob, SavedSearch

if TYPE_CHECKING:
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
    return public | Q(client_id=viewer.pk) | invited


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
    return set(SavedJob.objects.filter(user_id=user_id, job_id__in=job_ids).values_list("job_id", flat=True))


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


def search_form_options(
    *,
    category: Category | None,
    subcategory: Subcategory | None,
    skills: list[Skill],
    skill_limit: int = 100,
) -> SearchFormOptions:
    """Options for the filter form, in at most three small queries. Without a category
    there are no specialties or skills to list (beyond those already chosen): the page
    asks for a category first, which keeps it light (677 skills, 101 specialties)."""
    categories = list(Category.objects.order_by("position", "name"))
    if category is not None:
        subcategories = list(Subcategory.objects.filter(category=category).order_by("position", "name"))
    else:
        subcategories = [subcategory] if subcategory is not None else []
    chosen = sorted(skills, key=lambda skill: skill.name)
    scope = Skill.objects.none()
    if subcategory is not None:
        scope = Skill.objects.filter(subcategory=subcategory)
    elif category is not None:
        scope = Skill.objects.filter(subcategory__category=category)
    others: list[Skill] = []
    if category is not None or subcategory is not None:
        others = list(
            scope.exclude(pk__in=[skill.pk for skill in chosen])
            .only("id", "name")
            .order_by("name")[:skill_limit]
        )
    return SearchFormOptions(categories=categories, subcategories=subcategories, skills=chosen + others)


def job_searchable() -> QuerySet[Job]:
    """Every job the search may list: open and public, the same for every viewer."""
    return Job.objects.filter(status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC)


@dataclass
class _Plan:
    filterset: JobFilter
    filtered: QuerySet[Job]  # searchable jobs after the structured filters, before the keyword
    query: str
    sort: str  # the effective order: relevance needs a keyword


@dataclass
class _Matched:
    step: str
    qs: QuerySet[Job]  # ordered, annotated with the sort keys
    keys: tuple[str, ...]  # the keyset, every key descending
    windowed: bool  # the queryset is a bounded candidate set (count it with a window)


def _as_querydict(params: Mapping[str, Any]) -> QueryDict:
    """Search parameters as a ``QueryDict`` without blank values (a form sends "Any" as
    ``location=``); in a plain dict a value may be one or a list."""
    getlist = params.getlist if isinstance(params, QueryDict) else None
    data = QueryDict(mutable=True)
    for key in params:
        value = getlist(key) if getlist else params[key]
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None and str(item).strip() != "":
                data.appendlist(key, str(item))
    return data


def _plan(params: Mapping[str, Any], viewer: Viewer) -> _Plan:
    from .filters import JobFilter

    filterset = JobFilter(data=_as_querydict(params), queryset=job_searchable())
    if not filterset.is_valid():
        raise InvalidSearchError(filterset)
    data = filterset.form.cleaned_data
    query = " ".join((data.get("q") or "").split())
    sort = data.get("sort") or (SortOrder.RELEVANCE if query else SortOrder.NEWEST)
    if not query:
        sort = SortOrder.NEWEST
    return _Plan(filterset=filterset, filtered=filterset.qs, query=query, sort=sort)


def _newest(qs: QuerySet[Job], step: str) -> _Matched:
    return _Matched(step, qs.order_by("-published_at", "-id"), ("published_at", "id"), windowed=False)


def _ranked(plan: _Plan, step: str, matching: QuerySet[Job], score: Any) -> _Matched:
    """Order ``matching`` by ``score``: the newest candidates only, or newest first."""
    if plan.sort == SortOrder.NEWEST:
        return _newest(matching, step)
    candidates = matching.order_by("-published_at", "-id").values("pk")[:RELEVANCE_CANDIDATES]
    qs = (
        Job.objects.filter(pk__in=candidates).annotate(score=score).order_by("-score", "-published_at", "-id")
    )
    return _Matched(step, qs, ("score", "published_at", "id"), windowed=True)


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
    jobs: list[Job]  # each with ``description_excerpt``; the full description is not loaded
    next_cursor: str | None
    count: int  # number of results, at most COUNT_CAP
    count_capped: bool  # there are more than ``count``
    step: str  # MatchStep
    sort: str  # the effective SortOrder
    query: str
    filterset: JobFilter  # bound and valid: renders the filter form

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


def _encode_cursor(step: str, sort: str, values: list[Any], count: int, capped: bool) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    payload = {"s": step, "o": sort, "k": raw, "n": count, "c": capped}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str, list[Any], int, bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        step, sort, raw = payload["s"], payload["o"], payload["k"]
        count, capped = int(payload["n"]), bool(payload["c"])
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise _invalid_cursor()
    if step not in MatchStep.ALL or not isinstance(raw, list):
        raise _invalid_cursor()
    return step, sort, raw, count, capped


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
    """One page of the search, keyset-paginated. Raises ``InvalidSearchError`` for bad
    parameters and ``ApplicationError(code="invalid_cursor")`` for a damaged cursor.

    Queries: the filter validation (one per model-choice filter given), then on the first
    page the count (newest order) or nothing extra (relevance: a window over the
    candidates), one for the rows, one for their skills. A match step that finds nothing
    costs one more query before the next is tried.
    """
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    plan = _plan(params, viewer)
    if cursor:
        step, sort, raw, count, capped = _decode_cursor(cursor)
        matched = _strategy(plan, step)
        if matched is None or sort != plan.sort:
            raise _invalid_cursor()
        values = _cursor_values(raw, matched.keys)
        jobs = list(_page_queryset(matched.qs.filter(_after(matched.keys, values)), viewer)[: page_size + 1])
        return _page(plan, matched, jobs, page_size, count, capped)

    last: JobSearchPage | None = None
    for matched in _tried(plan):
        qs = _page_queryset(matched.qs, viewer)
        if matched.windowed:
            jobs = list(qs.annotate(total=Window(Count("id")))[: page_size + 1])
            count = jobs[0].total if jobs else 0  # type: ignore[attr-defined]
            capped = count >= RELEVANCE_CANDIDATES
        else:
            jobs = list(qs[: page_size + 1])
            # a short first page is its own count; else count up to the cap (one query)
            count = len(jobs) if len(jobs) <= page_size else matched.qs.values("pk")[: COUNT_CAP + 1].count()
            capped = count > COUNT_CAP
            count = min(count, COUNT_CAP)
        last = _page(plan, matched, jobs, page_size, count, capped)
        if jobs:
            break
    assert last is not None
    return last


def _page(
    plan: _Plan, matched: _Matched, jobs: list[Job], page_size: int, count: int, capped: bool
) -> JobSearchPage:
    for job in jobs:
        job.description_excerpt = description_excerpt(job.description_head)  # type: ignore[attr-defined]
    next_cursor = None
    if len(jobs) > page_size:
        jobs = jobs[:page_size]
        tail = jobs[-1]
        next_cursor = _encode_cursor(
            matched.step, plan.sort, [getattr(tail, key) for key in matched.keys], count, capped
        )
    return JobSearchPage(
        jobs=jobs,
        next_cursor=next_cursor,
        count=count,
        count_capped=capped,
        step=matched.step,
        sort=plan.sort,
        query=plan.query,
        filterset=plan.filterset,
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
