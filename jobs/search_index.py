"""An in-process index of the listed jobs, for the job search on PostgreSQL.

Why: a search that misses the page cache (the long tail of keyword x filters) cost about
20 ms of CPU per request through PostgreSQL, the ORM and the filter set's querysets, which
at 16 concurrent connections on 2 cores is a p95 of 300 ms. Matching, filtering and
ordering 100,000 jobs in NumPy arrays costs well under a millisecond; only the page's
20 rows are then read from PostgreSQL, by primary key.

What it holds, per listed job (open and public): the lexemes of its ``search_vector`` (the
same tsvector PostgreSQL searches: title A, skills B, description C; the weights as points
10 / 4 / 2 / 1, like ``ts_rank``'s 1.0 / 0.4 / 0.2 / 0.1), its skills and the columns the
filters read, its client's figures included. A keyword is turned into lexemes by
PostgreSQL itself (``websearch_to_tsquery('english', q)``, one cheap statement, remembered
per process), so stemming and stop words are PostgreSQL's. Only plain keywords (every word
must match) are served here; quotes, ``or`` and ``-word`` go to PostgreSQL as before.

Relevance is the sum over the query's lexemes of the job's points for it times the
lexeme's rarity (``1 + ln(N / df)``), as an integer: a title match outranks a description
match, a rare word outranks a common one, and every match is ranked (PostgreSQL's path
ranks the newest 500 only).

Freshness: the index is kept with the jobs generation (``jobs.cache``) it was brought up
to. When the generation moves, the jobs changed in the last ``DELTA_SECONDS`` (their
``updated_at``, indexed) are read again and replace their old entries (a small segment
added; idempotent, so a late commit is caught by the next change or by the periodic
rebuild); every ``REBUILD_SECONDS`` a new index is built in a background thread and
swapped in, which also brings in what changes without touching the job (proposal counts,
the client's figures). Until the first build is done, and whenever the index cannot be
used, the search goes through PostgreSQL as before. ``settings.JOBS_SEARCH_INDEX`` turns
it off.
"""

from __future__ import annotations

import gc
import logging
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, connections
from django.dispatch import Signal

from accounts.models import ClientProfile, ExperienceLevel

from .models import Job

log = logging.getLogger(__name__)

POINTS = {"A": 10, "B": 4, "C": 2, "D": 1}
SCORE_SCALE = 1000  # relevance as an integer: points x rarity x this
DELTA_SECONDS = 120  # a generation change re-reads the jobs changed this recently
REBUILD_SECONDS = 900  # a fresh index at least this often (catches a change a delta missed)
MAX_SEGMENTS = 16  # more delta segments than this: rebuild at once
BIG = np.iinfo(np.int64).max
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def enabled() -> bool:
    return bool(getattr(settings, "JOBS_SEARCH_INDEX", True)) and connection.vendor == "postgresql"


def micros(value: datetime) -> int:
    """``value`` in microseconds since the epoch (the index's time unit)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def _codes(values: Iterable[str]) -> dict[str, int]:
    return {value: number for number, value in enumerate(values, start=1)}


BUDGET_CODES = _codes(Job.BudgetType.values)
EXPERIENCE_CODES = _codes(ExperienceLevel.values)
DURATION_CODES = _codes(Job.Duration.values)


# --- one segment: a batch of jobs in arrays -------------------------------------------------------


@dataclass
class Segment:
    ids: np.ndarray  # job ids, ascending
    version: np.ndarray  # updated_at in microseconds (which copy of a job is newer)
    published: np.ndarray  # published_at in microseconds
    category: np.ndarray
    subcategory: np.ndarray  # 0: none
    budget: np.ndarray  # BUDGET_CODES
    hourly_min: np.ndarray  # BIG when missing (a "rate from" bound never passes)
    hourly_top: np.ndarray  # coalesce(hourly_max, hourly_min); -1 when missing
    fixed_low: np.ndarray  # fixed budget; BIG when missing (for "at most")
    fixed_high: np.ndarray  # fixed budget; -1 when missing (for "at least")
    experience: np.ndarray
    duration: np.ndarray
    proposals: np.ndarray
    country: np.ndarray  # ISO code as a 2-character string array
    verified: np.ndarray  # the client's payment method is verified
    hired: np.ndarray  # the client has hired before
    rating: np.ndarray  # the client's average rating; NaN when none
    terms: dict[str, tuple[np.ndarray, np.ndarray]]  # lexeme -> (positions, points)
    skills: dict[int, np.ndarray]  # skill id -> positions
    # what a result shows (``jobs.selectors.JobCard``), by position; None: not read (the job
    # left the listings between the statements; it is then not alive)
    cards: list[Any] = field(default_factory=list)
    alive: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.alive = np.ones(len(self.ids), dtype=bool)
        for position, card in enumerate(self.cards):
            if card is None:
                self.alive[position] = False

    def __len__(self) -> int:
        return len(self.ids)

    def positions_of(self, job_ids: np.ndarray) -> np.ndarray:
        """Positions of those of ``job_ids`` this segment holds."""
        if not len(self.ids) or not len(job_ids):
            return np.empty(0, dtype=np.int64)
        found = np.searchsorted(self.ids, job_ids)
        found = found[found < len(self.ids)]
        return found[np.isin(self.ids[found], job_ids)]


_JOB_COLUMNS_SQL = """
    SELECT j.id, j.updated_at, j.published_at, j.category_id, COALESCE(j.subcategory_id, 0),
           j.budget_type, j.hourly_min_cents, j.hourly_max_cents, j.fixed_budget_cents,
           j.experience_level, j.duration, j.proposals_count, j.client_country,
           COALESCE(cp.payment_method_verified, false), COALESCE(cp.hires_count, 0) > 0,
           cp.rating_avg
    FROM {jobs} j LEFT JOIN {profiles} cp ON cp.user_id = j.client_id
    WHERE {where}
    ORDER BY j.id
"""
# One pass per weight (ts_filter keeps the positions of that weight): PostgreSQL's array
# functions on the weights are ten times slower. A job may appear twice under a lexeme
# (title and description): ``_postings`` adds its points up.
_TERMS_SQL = """
    SELECT lexeme, string_agg(id::text, ','), string_agg(points::text, ',')
    FROM ({parts}) AS weighted
    GROUP BY lexeme
"""
_TERMS_PART = """
    SELECT j.id, t.lexeme, {points} * cardinality(t.positions) AS points
    FROM {jobs} j, unnest(ts_filter(j.search_vector, '{{{{{weight}}}}}')) AS t
    WHERE {where}
"""
_SKILLS_SQL = """
    SELECT js.skill_id, string_agg(j.id::text, ',')
    FROM {jobs} j JOIN {job_skills} js ON js.job_id = j.id
    WHERE {where}
    GROUP BY js.skill_id
"""


def _sql(template: str, where: str) -> str:
    """``template`` with the tables' names and ``where`` (code's own text; values are
    parameters)."""
    return template.format(
        jobs=Job._meta.db_table,
        profiles=ClientProfile._meta.db_table,
        job_skills=Job.skills.through._meta.db_table,
        where=where,
    )


_LISTED = "j.status = %s AND j.visibility = %s AND j.published_at IS NOT NULL"


def _numbers(text: str | None) -> np.ndarray:
    """Comma-separated integers (from ``string_agg``) as an array, parsed in C."""
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, dtype=np.int64)


def _postings(ids: np.ndarray, job_ids: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in ``ids``, points), by position, each job once with its points summed."""
    order = np.argsort(job_ids, kind="stable")
    job_ids, points = job_ids[order], points[order]
    unique, starts = np.unique(job_ids, return_index=True)
    return np.searchsorted(ids, unique).astype(np.int32), np.add.reduceat(points, starts).astype(np.int32)


def _terms_sql(where: str) -> str:
    parts = " UNION ALL ".join(
        _TERMS_PART.format(points=points, weight=weight.lower(), jobs="{jobs}", where="{where}")
        for weight, points in POINTS.items()
    )
    return _sql(_TERMS_SQL.replace("{parts}", parts), where)


def _read_segment(cursor: Any, where: str, params: Sequence[Any]) -> Segment:
    cursor.execute(_sql(_JOB_COLUMNS_SQL, where), params)
    rows = cursor.fetchall()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 16
    ids = np.array(cols[0], dtype=np.int64)

    def ints(values: Iterable[Any], missing: int) -> np.ndarray:
        return np.array([missing if v is None else v for v in values], dtype=np.int64)

    hourly_min = ints(cols[6], BIG)
    hourly_top = ints(
        (top if top is not None else low for low, top in zip(cols[6], cols[7], strict=True)), -1
    )
    fixed = list(cols[8])
    segment = Segment(
        ids=ids,
        version=np.array([micros(v) for v in cols[1]], dtype=np.int64),
        published=np.array([micros(v) for v in cols[2]], dtype=np.int64),
        category=np.array(cols[3], dtype=np.int64),
        subcategory=np.array(cols[4], dtype=np.int64),
        budget=np.array([BUDGET_CODES.get(v, 0) for v in cols[5]], dtype=np.int8),
        hourly_min=hourly_min,
        hourly_top=hourly_top,
        fixed_low=ints(fixed, BIG),
        fixed_high=ints(fixed, -1),
        experience=np.array([EXPERIENCE_CODES.get(v, 0) for v in cols[9]], dtype=np.int8),
        duration=np.array([DURATION_CODES.get(v, 0) for v in cols[10]], dtype=np.int8),
        proposals=np.array(cols[11], dtype=np.int64),
        country=np.array(cols[12], dtype="<U2") if n else np.empty(0, dtype="<U2"),
        verified=np.array(cols[13], dtype=bool),
        hired=np.array(cols[14], dtype=bool),
        rating=np.array([math.nan if v is None else float(v) for v in cols[15]], dtype=np.float64),
        terms={},
        skills={},
    )
    if not n:
        return segment
    from .selectors import listed_cards

    by_id = {card.id: _shared_strings(card) for card in listed_cards(job_ids=ids.tolist())}
    segment.cards = [by_id.get(job_id) for job_id in ids.tolist()]
    segment.__post_init__()
    cursor.execute(_terms_sql(where), list(params) * len(POINTS))
    for lexeme, job_ids, points in cursor.fetchall():
        segment.terms[lexeme] = _postings(ids, _numbers(job_ids), _numbers(points))
    cursor.execute(_sql(_SKILLS_SQL, where), params)
    for skill_id, job_ids in cursor.fetchall():
        segment.skills[skill_id] = np.searchsorted(ids, np.sort(_numbers(job_ids))).astype(np.int32)
    return segment


_SHARED: dict[str, str] = {}


def _shared_strings(card: Any) -> Any:
    """``card`` with its repeated strings (category, skills, choices, country) as one object
    per value: a third less memory for 100,000 cards."""

    def same(text: str) -> str:
        return _SHARED.setdefault(text, text)

    for name in ("category_name", "budget_type", "experience_level", "duration", "size", "visibility"):
        setattr(card, name, same(getattr(card, name)))
    card.client_country = same(card.client_country or "")
    card.skill_names = [same(skill) for skill in card.skill_names]
    return card


# --- the index: segments, kept fresh -----------------------------------------------------------


@dataclass
class Hit:
    """A page of the index's answer: job ids in order, with their keys, and the total."""

    ids: list[int]
    scores: list[int]
    published: list[datetime]
    total: int
    cards: list[Any] = field(default_factory=list)  # each job's JobCard, as the index read it
    proposals: list[int] = field(default_factory=list)  # each job's proposal count (kept fresher)


@dataclass
class Filters:
    """The structured filters, from ``JobFilter``'s cleaned data."""

    category: int | None = None
    subcategory: int | None = None
    skills: list[int] = field(default_factory=list)
    budget: int | None = None
    hourly_min: int | None = None  # cents
    hourly_max: int | None = None
    fixed_min: int | None = None
    fixed_max: int | None = None
    experience: list[int] = field(default_factory=list)
    duration: list[int] = field(default_factory=list)
    payment_verified: bool = False
    has_hires: bool = False
    rating_min: float | None = None
    proposals: list[tuple[int, int | None]] = field(default_factory=list)
    published_since: int | None = None  # microseconds
    countries: list[str] = field(default_factory=list)


class Index:
    def __init__(self, segments: list[Segment], generation: int | None, synced_at: datetime) -> None:
        self.segments = segments
        self.generation = generation
        self.synced_at = synced_at  # the database's clock when the newest segment was read
        self.built_at = self.figures_at = time.monotonic()
        self._df: dict[str, int] = {}
        self._size: int | None = None  # listed jobs, counted when first asked (``size``)
        for segment in segments:
            self._count_terms(segment)

    def _count_terms(self, segment: Segment) -> None:
        for lexeme, (positions, _points) in segment.terms.items():
            self._df[lexeme] = self._df.get(lexeme, 0) + len(positions)

    @property
    def size(self) -> int:
        """How many listed jobs the index holds (every search's rarity weights need it)."""
        if self._size is None:
            self._size = sum(int(s.alive.sum()) for s in self.segments)
        return self._size

    def apply(self, segment: Segment, synced_at: datetime, generation: int | None) -> None:
        """Jobs read again (changed, listed or not): each replaces its older copies. The
        segment holds the listed ones; ``segment.ids`` plus the unlisted ids in ``gone``
        are what was read."""
        self.synced_at = synced_at
        self.generation = generation
        self._size = None  # jobs read again were unlisted from their older segments
        if len(segment):
            self.segments.append(segment)
            self._count_terms(segment)

    def search(
        self,
        terms: list[str] | None,
        filters: Filters,
        newest: bool,
        after: tuple[int, int, int] | None,
        limit: int,
    ) -> Hit:
        """Jobs with every lexeme of ``terms`` (None: all) passing ``filters``, best first
        (or newest first), after the keyset ``after`` (score, published, id), at most
        ``limit``; the total ignores ``after``."""
        total_jobs = max(self.size, 1)
        weights = {t: 1.0 + math.log(total_jobs / max(self._df.get(t, 0), 1)) for t in terms or []}
        parts = []
        for number, segment in enumerate(self.segments):
            found = self._match(segment, terms, weights, filters)
            if found is not None:
                parts.append((number, *found))
        if not parts:
            return Hit([], [], [], 0)
        # where each match is: (segment << 32) + position, the position alone in the first
        where: np.ndarray
        if len(parts) == 1:
            number, where, scores = parts[0]
            if number:
                where = where.astype(np.int64) + (number << 32)
        else:
            where = np.concatenate(
                [positions.astype(np.int64) + (number << 32) for number, positions, _ in parts]
            )
            scores = np.concatenate([part_scores for _, _, part_scores in parts])
        total = len(where)
        if newest:
            scores = np.zeros(total, dtype=np.int64)
        # the other keys are read for every match only where they decide which ones are
        # kept (newest first, a later page); else for the best ones alone
        published = self._column(where, "published") if newest or after is not None else None
        ids = self._column(where, "ids") if after is not None else None
        if after is not None:
            assert published is not None and ids is not None
            s, p, i = after
            keep = (scores < s) | ((scores == s) & ((published < p) | ((published == p) & (ids < i))))
            scores, published, ids, where = scores[keep], published[keep], ids[keep], where[keep]
        if len(where) > limit:  # the best ``limit`` by the first key, ties at the edge kept
            first = scores if not newest else published
            assert first is not None
            edge = np.partition(first, len(first) - limit)[len(first) - limit]
            keep = first >= edge
            scores, where = scores[keep], where[keep]
            published = published[keep] if published is not None else None
            ids = ids[keep] if ids is not None else None
        if published is None:
            published = self._column(where, "published")
        if ids is None:
            ids = self._column(where, "ids")
        order = np.lexsort((-ids, -published, -scores))[:limit]
        where = where[order]
        if len(self.segments) == 1:  # as built (deltas add segments): one lookup per column
            only = self.segments[0]
            at = where.tolist()  # positions alone (``search``)
            cards = [only.cards[position] for position in at]
            proposals = only.proposals[at].tolist()
        else:
            located = [(self.segments[w >> 32], w & 0xFFFFFFFF) for w in where.tolist()]
            cards = [segment.cards[position] for segment, position in located]
            proposals = [int(segment.proposals[position]) for segment, position in located]
        return Hit(
            ids=ids[order].tolist(),
            scores=scores[order].tolist(),
            published=[_EPOCH + timedelta(microseconds=v) for v in published[order].tolist()],
            total=total,
            cards=cards,
            proposals=proposals,
        )

    def _column(self, where: np.ndarray, name: str) -> np.ndarray:
        """A column (``Segment.published``, ``ids``...) at ``where`` (see ``search``)."""
        if len(self.segments) == 1:
            column: np.ndarray = getattr(self.segments[0], name)
            return column[where]
        numbers, positions = where >> 32, where & 0xFFFFFFFF
        out = np.empty(len(where), dtype=getattr(self.segments[0], name).dtype)
        for number in np.unique(numbers).tolist():
            chosen = numbers == number
            out[chosen] = getattr(self.segments[number], name)[positions[chosen]]
        return out

    @staticmethod
    def _match(
        segment: Segment, terms: list[str] | None, weights: dict[str, float], f: Filters
    ) -> tuple[np.ndarray, np.ndarray] | None:
        if terms is None:
            positions = np.flatnonzero(segment.alive)
            scores = np.zeros(len(positions), dtype=np.int64)
        else:
            if any(t not in segment.terms for t in terms):
                return None
            if len(terms) == 1:  # most searches: the word's own postings, no lookups
                term_positions, points = segment.terms[terms[0]]
                listed = segment.alive[term_positions]
                positions = term_positions[listed]
                total = points[listed] * weights[terms[0]]
            else:
                postings = sorted((segment.terms[t][0] for t in terms), key=len)  # the rarest first
                positions = postings[0]
                for other in postings[1:]:
                    positions = np.intersect1d(positions, other, assume_unique=True)
                    if not len(positions):
                        return None
                positions = positions[segment.alive[positions]]
                total = np.zeros(len(positions), dtype=np.float64)
                for term in terms:
                    term_positions, points = segment.terms[term]
                    at = np.searchsorted(term_positions, positions)
                    total += points[at] * weights[term]
            scores = np.rint(total * SCORE_SCALE).astype(np.int64)
        keep = _filter_mask(segment, positions, f)
        if keep is not None:
            positions, scores = positions[keep], scores[keep]
        if not len(positions):
            return None
        return positions, scores


def _one_of(codes: np.ndarray, wanted: list[int]) -> np.ndarray:
    """``np.isin(codes, wanted)`` for the small codes of a choice (``_codes``), through a
    table: ``np.isin`` sorts both sides on every call, a tenth of a search's time."""
    if len(wanted) == 1:
        return codes == wanted[0]
    table = np.zeros(128, dtype=bool)  # the codes are int8 (``_read_segment``), from 0
    table[[code for code in wanted if 0 <= code < 128]] = True
    return table[codes]


def _filter_mask(s: Segment, at: np.ndarray, f: Filters) -> np.ndarray | None:
    mask: np.ndarray | None = None

    def both(condition: np.ndarray) -> None:
        nonlocal mask
        mask = condition if mask is None else mask & condition

    if f.category is not None:
        both(s.category[at] == f.category)
    if f.subcategory is not None:
        both(s.subcategory[at] == f.subcategory)
    if f.skills:
        tagged = np.zeros(len(s), dtype=bool)
        for skill in f.skills:
            positions = s.skills.get(skill)
            if positions is not None:
                tagged[positions] = True
        both(tagged[at])
    if f.budget is not None:
        both(s.budget[at] == f.budget)
    hourly = BUDGET_CODES["hourly"]
    fixed = BUDGET_CODES["fixed"]
    if f.hourly_min is not None:
        both((s.budget[at] == hourly) & (s.hourly_top[at] >= f.hourly_min))
    if f.hourly_max is not None:
        both((s.budget[at] == hourly) & (s.hourly_min[at] <= f.hourly_max))
    if f.fixed_min is not None:
        both((s.budget[at] == fixed) & (s.fixed_high[at] >= f.fixed_min))
    if f.fixed_max is not None:
        both((s.budget[at] == fixed) & (s.fixed_low[at] <= f.fixed_max))
    if f.experience:
        both(_one_of(s.experience[at], f.experience))
    if f.duration:
        both(_one_of(s.duration[at], f.duration))
    if f.payment_verified:
        both(s.verified[at])
    if f.has_hires:
        both(s.hired[at])
    if f.rating_min is not None:
        both(s.rating[at] >= f.rating_min)  # NaN (no rating) never passes
    if f.proposals:
        counts = s.proposals[at]
        any_bucket = np.zeros(len(at), dtype=bool)
        for low, high in f.proposals:
            any_bucket |= (counts >= low) & (counts <= high) if high is not None else counts >= low
        both(any_bucket)
    if f.published_since is not None:
        both(s.published[at] >= f.published_since)
    if f.countries:
        both(np.isin(s.country[at], f.countries))
    return mask


# --- building and refreshing ---------------------------------------------------------------------


def _db_now(cursor: Any) -> datetime:
    cursor.execute("SELECT now()")
    return cursor.fetchone()[0]


def build(generation: int | None = None) -> Index:
    """A new index of every listed job (about 2-4 s at 100,000 jobs)."""
    with connection.cursor() as cursor:
        synced_at = _db_now(cursor)
        segment = _read_segment(cursor, _LISTED, [Job.Status.OPEN, Job.Visibility.PUBLIC])
    return Index([segment], generation, synced_at)


def refresh(index: Index, generation: int | None) -> None:
    """Bring ``index`` up to date with the jobs changed in the last ``DELTA_SECONDS``."""
    with connection.cursor() as cursor:
        synced_at = _db_now(cursor)
        since = min(index.synced_at, synced_at) - timedelta(seconds=DELTA_SECONDS)
        cursor.execute(_sql("SELECT id, updated_at FROM {jobs} WHERE updated_at >= %s", ""), [since])
        changed = cursor.fetchall()
        if not changed:
            index.apply(_empty_segment(), synced_at, generation)
            return
        newest = {job_id: micros(updated) for job_id, updated in changed}
        # what the index already holds at the same version needs nothing
        stale = []
        for job_id, version in newest.items():
            held = _held_version(index, job_id)
            if held != version:
                stale.append(job_id)
        if not stale:
            index.apply(_empty_segment(), synced_at, generation)
            return
        stale_ids = np.array(sorted(stale), dtype=np.int64)
        for segment in index.segments:
            segment.alive[segment.positions_of(stale_ids)] = False
        segment = _read_segment(
            cursor, f"{_LISTED} AND j.id = ANY(%s)", [Job.Status.OPEN, Job.Visibility.PUBLIC, stale]
        )
    index.apply(segment, synced_at, generation)


def _held_version(index: Index, job_id: int) -> int | None:
    for segment in reversed(index.segments):
        if not len(segment):
            continue
        at = int(np.searchsorted(segment.ids, job_id))
        if at < len(segment.ids) and segment.ids[at] == job_id and segment.alive[at]:
            return int(segment.version[at])
    return None


def _empty_segment() -> Segment:
    def empty() -> np.ndarray:
        return np.empty(0, dtype=np.int64)

    return Segment(
        ids=empty(),
        version=empty(),
        published=empty(),
        category=empty(),
        subcategory=empty(),
        budget=empty(),
        hourly_min=empty(),
        hourly_top=empty(),
        fixed_low=empty(),
        fixed_high=empty(),
        experience=empty(),
        duration=empty(),
        proposals=empty(),
        country=np.empty(0, dtype="<U2"),
        verified=np.empty(0, dtype=bool),
        hired=np.empty(0, dtype=bool),
        rating=np.empty(0, dtype=np.float64),
        terms={},
        skills={},
    )


_FIGURES_SQL = """
    SELECT string_agg(j.id::text, ',' ORDER BY j.id),
           string_agg(j.proposals_count::text, ',' ORDER BY j.id),
           string_agg(CASE WHEN COALESCE(cp.payment_method_verified, false) THEN '1' ELSE '0' END, ','
                      ORDER BY j.id),
           string_agg(CASE WHEN COALESCE(cp.hires_count, 0) > 0 THEN '1' ELSE '0' END, ',' ORDER BY j.id),
           string_agg(COALESCE(ROUND(cp.rating_avg * 100), -1)::text, ',' ORDER BY j.id)
    FROM {jobs} j LEFT JOIN {profiles} cp ON cp.user_id = j.client_id
    WHERE {where}
"""


def refresh_figures(index: Index) -> None:
    """What changes without touching the job, read again for every listed job (one
    statement, ~0.4 s of PostgreSQL at 100,000 jobs): proposal counts and the clients'
    payment verification, hires and rating."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(_FIGURES_SQL, _LISTED), [Job.Status.OPEN, Job.Visibility.PUBLIC])
        ids, proposals, verified, hired, rating = (_numbers(text) for text in cursor.fetchone())
    for segment in index.segments:
        if not len(segment) or not len(ids):
            continue
        at = np.minimum(np.searchsorted(ids, segment.ids), len(ids) - 1)
        held = ids[at] == segment.ids
        mine, theirs = np.flatnonzero(held), at[held]
        segment.proposals[mine] = proposals[theirs]
        segment.verified[mine] = verified[theirs] == 1
        segment.hired[mine] = hired[theirs] == 1
        segment.rating[mine] = np.where(rating[theirs] < 0, np.nan, rating[theirs] / 100)
    index.figures_at = time.monotonic()


# --- the process's index ---------------------------------------------------------------------------

FIGURES_SECONDS = 60  # proposal counts and client figures at most this old (as cached pages)

_lock = threading.Lock()
_state: dict[str, Any] = {"index": None, "busy": False}


def current(generation: int | None) -> Index | None:
    """The process's index brought up to ``generation``, or None while there is none yet
    (the first call starts building it in the background) or when it cannot be used."""
    index: Index | None = _state["index"]
    now = time.monotonic()
    if index is None or now - index.built_at > REBUILD_SECONDS:
        _in_background(_rebuild, generation)
    elif now - index.figures_at > FIGURES_SECONDS:
        _in_background(refresh_figures, index)
    if index is None:
        return None
    if index.generation != generation or generation is None:
        if not _lock.acquire(timeout=2):
            return None
        try:
            if index.generation != generation or generation is None:
                refresh(index, generation)
                if len(index.segments) > MAX_SEGMENTS:
                    index = _carry_renderings(build(generation), index)
                    _install(index)
        except Exception:
            log.exception("search index: refresh failed; searching through PostgreSQL")
            _state["index"] = None
            return None
        finally:
            _lock.release()
    return index


def _install(index: Index) -> None:
    _state["index"] = index


# Sent with ``cards``, every card of a new index, before it serves: the modules that render
# cards (the search page's markup, the API's JSON) make each card's rendering then
# (``JobCard.remembered``), so that searches find them made instead of making them as they
# go (the long tail of searches meets most jobs once in a while: a third of an uncached
# search page was rendering cards it had not shown before).
index_built = Signal()


def _cards(index: Index) -> list[Any]:
    return [card for segment in index.segments for card in segment.cards if card is not None]


def _carry_renderings(index: Index, previous: Index | None) -> Index:
    """``index`` with the renderings its cards' jobs had in ``previous``: a job's rendering
    is still used only while the content it was made from is the same (``remembered``)."""
    if previous is not None:
        held = {card.id: card.renderings for card in _cards(previous)}
        for card in _cards(index):
            renderings = held.get(card.id)
            if renderings:
                card.renderings = renderings
    return index


def _built(generation: int | None) -> Index:
    index = _carry_renderings(build(generation), _state["index"])
    # a rendering that fails leaves its cards to be made as searches show them (where the
    # error shows), not the index unbuilt
    for receiver, error in index_built.send_robust(sender=Index, cards=_cards(index)):
        if isinstance(error, Exception):
            log.error("search index: %r failed on the new cards", receiver, exc_info=error)
    return index


def _rebuild(generation: int | None) -> None:
    _install(_built(generation))  # changes since ``generation``: the next search's refresh
    settle_heap()


def settle_heap() -> None:
    """Take what the process holds for good (the index, Django's own objects) out of the
    garbage collector's way: a collection of the oldest generation walked all of it, about
    0.2 s with the index of 100,000 jobs, during which the worker answered nothing (the
    p99 of every benchmark row). Everything alive is moved to the permanent generation
    (``gc.freeze``), which collections skip; it is still freed when no longer referenced.
    The objects frozen the time before (the previous index's among them) are put back
    first and the whole heap collected once, so that nothing is frozen as garbage: one
    such pause per rebuild (every ``REBUILD_SECONDS``), in the background thread, instead of
    one at every full collection."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _in_background(work: Any, argument: Any) -> None:
    """Run ``work(argument)`` in a thread of its own, one such at a time per process."""
    with _lock:
        if _state["busy"]:
            return
        _state["busy"] = True

    def run() -> None:
        try:
            work(argument)
        except Exception:
            log.exception("search index: background %s failed", getattr(work, "__name__", "work"))
        finally:
            _state["busy"] = False
            connections.close_all()

    threading.Thread(target=run, daemon=True, name="search-index").start()


def warm_up() -> None:
    """Start building the process's index in the background (gunicorn calls this when a
    worker starts, so that the first searches need not wait for it)."""
    if not enabled():
        return
    from . import cache as jobs_cache

    _in_background(_rebuild, jobs_cache.generation())


def status() -> str:
    """``off``, ``building`` (searches go through PostgreSQL meanwhile) or ``ready``."""
    if not enabled():
        return "off"
    return "building" if _state["index"] is None else "ready"


def build_now(generation: int | None = None) -> Index:
    """Build and install the index in this thread (tests, warm-up)."""
    index = _built(generation)
    _install(index)
    return index


def reset() -> None:
    """Forget the process's index (tests)."""
    _state["index"] = None


# --- keywords ------------------------------------------------------------------------------------

_PLAIN_QUERY = re.compile(r"^'((?:[^']|'')+)'(?: & '((?:[^']|'')+)')*$")
_LEXEME = re.compile(r"'((?:[^']|'')+)'")


@lru_cache(maxsize=4096)
def lexemes(query: str) -> tuple[str, ...] | None:
    """The lexemes every match must have, as PostgreSQL reads ``query`` (websearch syntax),
    or None when the query is more than plain words (phrases, or, not): those go through
    PostgreSQL. An empty tuple: nothing searchable (only stop words)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT websearch_to_tsquery('english', %s)::text", [query])
        text = cursor.fetchone()[0] or ""
    if not text:
        return ()
    if not _PLAIN_QUERY.match(text):
        return None
    return tuple(dict.fromkeys(m.replace("''", "'") for m in _LEXEME.findall(text)))


def filters_from(data: dict[str, Any], now: datetime, posted_within: dict[str, timedelta]) -> Filters:
    """``Filters`` from ``JobFilter``'s cleaned data (dollars to cents, choices to codes)."""

    def cents(value: Decimal | None) -> int | None:
        return None if value is None else int(value * 100)

    from .filters import PROPOSAL_BUCKETS

    return Filters(
        category=data["category"].pk if data.get("category") else None,
        subcategory=data["subcategory"].pk if data.get("subcategory") else None,
        skills=[skill.pk for skill in data.get("skills") or []],
        budget=BUDGET_CODES.get(data["budget_type"]) if data.get("budget_type") else None,
        hourly_min=cents(data.get("hourly_min")),
        hourly_max=cents(data.get("hourly_max")),
        fixed_min=cents(data.get("fixed_min")),
        fixed_max=cents(data.get("fixed_max")),
        experience=[EXPERIENCE_CODES.get(v, -1) for v in data.get("experience_level") or []],
        duration=[DURATION_CODES.get(v, -1) for v in data.get("duration") or []],
        payment_verified=bool(data.get("payment_verified")),
        has_hires=bool(data.get("has_hires")),
        rating_min=float(data["client_rating_min"]) if data.get("client_rating_min") is not None else None,
        proposals=[PROPOSAL_BUCKETS[key] for key in data.get("proposals") or []],
        published_since=(
            micros(now - posted_within[data["posted_within"]]) if data.get("posted_within") else None
        ),
        countries=list(data.get("location") or []),
    )
