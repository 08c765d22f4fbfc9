"""Reads of the posting area: the wizard's view of a draft, skill suggestions, the client's
"My jobs" lists, and the parts of the job page around the job itself (client stats,
activity, similar jobs, change history).

Every function runs a fixed number of queries, whatever the size of the data.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from accounts import teams
from accounts.models import Category, ClientProfile, ExperienceLevel, Skill, Subcategory, User
from accounts.moderation import open_flag_reason as moderation_flag_reason
from accounts.teams import client_side_q as team_client_side_q
from marketplace.money import format_cents

from .models import Invitation, Job, JobAttachment, JobEvent, SavedJob
from .services import DESCRIPTION_MIN, MAX_SKILLS, MIN_FIXED_CENTS, JobInput

# The wizard creates the draft at its first step, before the client has written the
# description or chosen a budget; the services require both, so the draft starts with this
# text and the smallest fixed budget. ``job_missing_parts`` keeps the draft from being
# published while the placeholder text is there; the budget step and the preview show the
# placeholder budget until the client sets theirs.
DRAFT_DESCRIPTION = (
    "Draft: the description of this job has not been written yet. "
    "Add it in the Description step before publishing."
)
DRAFT_FIXED_BUDGET_CENTS = MIN_FIXED_CENTS

assert len(DRAFT_DESCRIPTION) >= DESCRIPTION_MIN  # the services would refuse a shorter one


# --- the wizard ------------------------------------------------------------------------------------


def job_input_for(job: Job) -> JobInput:
    """The job's current document, to be changed in part and passed to ``job_update``."""
    return JobInput(
        title=job.title,
        description=job.description,
        category_id=job.category_id,
        subcategory_id=job.subcategory_id,
        skill_ids=[s.pk for s in job.skills.all()],
        size=job.size,
        duration=job.duration,
        experience_level=job.experience_level,
        budget_type=job.budget_type,
        hourly_min_cents=job.hourly_min_cents,
        hourly_max_cents=job.hourly_max_cents,
        fixed_budget_cents=job.fixed_budget_cents,
        visibility=job.visibility,
        freelancers_needed=job.freelancers_needed,
        questions=[q.text for q in job.questions.all()],
    )


@dataclass(frozen=True)
class MissingPart:
    step: str  # the wizard step where it is filled in
    label: str


def job_missing_parts(job: Job) -> list[MissingPart]:
    """What a draft still lacks before freelancers should see it (wizard order)."""
    missing = []
    if not job.skills.all():
        missing.append(MissingPart("skills", "Choose at least one skill"))
    if job.description.strip() == DRAFT_DESCRIPTION:
        missing.append(MissingPart("details", "Write the description"))
    return missing


_JOB_PREFETCHES = (
    Prefetch("skills", queryset=Skill.objects.order_by("name")),
    "questions",
    Prefetch("attachments", queryset=JobAttachment.objects.order_by("created_at", "pk")),
)


def own_job_queryset() -> QuerySet[Job]:
    return Job.objects.select_related("category", "subcategory").prefetch_related(*_JOB_PREFETCHES)


def own_job_get(*, public_id: str, user: User, action: str = "edit_job") -> Job:
    """The user's own job (any status) for editing; someone else's job is not found.

    A teammate of the job's client team gets it too (``accounts.teams``): a 403 when their
    role does not allow ``action``."""
    job = own_job_queryset().filter(team_client_side_q(user), public_id=public_id).first()
    if job is None:
        raise Http404("No such job.")
    teams.require_job_action(user=user, job=job, action=action)
    return job


# --- skill suggestions -----------------------------------------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9#+]+")
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "i",
        "in",
        "into",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "we",
        "with",
        "you",
        "your",
        "need",
        "needed",
        "looking",
        "want",
        "someone",
        "expert",
        "help",
        "build",
        "create",
        "make",
        "new",
        "simple",
        "small",
        "job",
        "project",
    ]
)


def _words(text: str) -> set[str]:
    """Lower-case words without stop words; a plural 's' is dropped (APIs -> api)."""
    words = set()
    for word in _WORD_RE.findall(text.lower()):
        if word in _STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


@dataclass
class SkillOptions:
    suggested: list[Skill] = field(default_factory=list)  # best first
    others: list[Skill] = field(default_factory=list)  # the rest of the category, by name
    selected: set[int] = field(default_factory=set)

    @property
    def suggested_ids(self) -> set[int]:
        return {s.pk for s in self.suggested}

    @property
    def all(self) -> list[Skill]:
        return self.suggested + self.others


def skill_suggestions(
    *,
    title: str,
    category_id: int | None,
    subcategory_id: int | None = None,
    selected: set[int] | None = None,
    limit: int = MAX_SKILLS,
) -> SkillOptions:
    """The category's skills ranked by the words they share with the title.

    A word shared by many skill names of the category ("development", "translation") says
    little, so each shared word counts by its rarity among them (inverse frequency); the
    specialty breaks ties. Skills already selected from elsewhere are kept in the list.
    """
    selected = set(selected or ())
    skills = (
        list(Skill.objects.filter(subcategory__category_id=category_id).order_by("name"))
        if category_id
        else []
    )
    have = {s.pk for s in skills}
    extra = list(Skill.objects.filter(pk__in=selected - have).order_by("name")) if selected - have else []
    title_words = _words(title or "")
    skill_words = {s.pk: _words(s.name) for s in skills}
    frequency = Counter(word for words in skill_words.values() for word in words)
    scored = []
    for skill in skills:
        shared = skill_words[skill.pk] & title_words
        if not shared:
            continue
        score = sum(1 / frequency[word] for word in shared) + len(shared) / len(skill_words[skill.pk])
        scored.append((-score, skill.subcategory_id != subcategory_id, skill.name.lower(), skill))
    scored.sort(key=lambda row: row[:3])
    suggested = [row[3] for row in scored[:limit]]
    suggested_ids = {s.pk for s in suggested}
    others = extra + [s for s in skills if s.pk not in suggested_ids]
    return SkillOptions(suggested=suggested, others=others, selected=selected)


def subcategory_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Specialties grouped by category, for a <select> with <optgroup>s."""
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for sub in Subcategory.objects.select_related("category").order_by(
        "category__position", "category__name", "position", "name"
    ):
        groups.setdefault(sub.category_id, (sub.category.name, []))[1].append((sub.pk, sub.name))
    return list(groups.values())


# --- My jobs ---------------------------------------------------------------------------------------

MINE_TABS: dict[str, tuple[str, list[str]]] = {
    "drafts": ("Drafts", [Job.Status.DRAFT]),
    "open": ("Open", [Job.Status.OPEN]),
    "closed": ("Closed", [Job.Status.CLOSED, Job.Status.FILLED, Job.Status.CANCELLED]),
}


def client_job_tab_counts(*, client: User) -> dict[str, int]:
    """How many of the client's jobs each tab of "My jobs" holds (one query)."""
    totals = Job.objects.filter(team_client_side_q(client)).aggregate(
        **{key: Count("pk", filter=Q(status__in=statuses)) for key, (_, statuses) in MINE_TABS.items()}
    )
    return {key: totals[key] or 0 for key in MINE_TABS}


def client_job_list(*, client: User, tab: str | None = None) -> QuerySet[Job]:
    """The client's jobs, newest first; ``tab`` (drafts, open, closed) narrows the statuses."""
    qs = Job.objects.filter(team_client_side_q(client)).select_related("category", "team")
    if tab is not None:
        qs = qs.filter(status__in=MINE_TABS[tab][1])
    return qs.order_by("-created_at", "-id")


def job_can_reopen(job: Job, *, now: datetime | None = None) -> bool:
    deadline = job.reopen_deadline
    return job.status == Job.Status.CLOSED and deadline is not None and (now or timezone.now()) <= deadline


# --- the job page -----------------------------------------------------------------------------------

_PROPOSAL_RANGES = [(5, "Less than 5"), (10, "5 to 10"), (15, "10 to 15"), (20, "15 to 20"), (50, "20 to 50")]


def proposals_range(count: int) -> str:
    """The number of proposals as freelancers see it: a range, not the exact figure."""
    for below, label in _PROPOSAL_RANGES:
        if count < below:
            return label
    return "50+"


@dataclass(frozen=True)
class ClientStats:
    country: str  # the country's name, or "" when not given
    member_since: datetime
    payment_method_verified: bool
    jobs_posted: int
    hires: int
    hire_rate_percent: int | None  # None until the client has posted a job
    open_jobs: int
    total_spent_cents: int
    rating: str | None  # "4.85", None without reviews
    reviews_count: int
    avg_hourly_rate_paid_cents: int | None = None  # hourly contracts (reviews.reputation)

    @property
    def avg_hourly_rate_text(self) -> str:
        rate = self.avg_hourly_rate_paid_cents
        return f"{format_cents(rate)}/hr" if rate else ""

    @property
    def hire_rate_text(self) -> str:
        if self.hire_rate_percent is None:
            return "No hires yet"
        return f"{self.hire_rate_percent}% hire rate"

    @property
    def total_spent_text(self) -> str:
        return format_cents(self.total_spent_cents) if self.total_spent_cents else "Nothing spent yet"


def client_stats(*, client: User) -> ClientStats:
    """About the client, from the figures kept on their profile (at most two queries)."""
    try:
        profile: ClientProfile | None = client.client_profile  # often select_related with the job
    except ClientProfile.DoesNotExist:
        profile = None
    open_jobs = Job.objects.filter(client=client, status=Job.Status.OPEN).count()
    if profile is None:  # the client left the hiring role; show what we know
        return ClientStats("", client.date_joined, False, 0, 0, None, open_jobs, 0, None, 0)
    posted = profile.jobs_posted_count
    rate = min(100, round(100 * profile.hires_count / posted)) if posted else None
    has_reviews = profile.reviews_count > 0 and profile.rating_avg is not None
    return ClientStats(
        country=str(countries.name(profile.country)) if profile.country else "",
        member_since=profile.created_at,
        payment_method_verified=profile.payment_method_verified,
        jobs_posted=posted,
        hires=profile.hires_count,
        hire_rate_percent=rate,
        open_jobs=open_jobs,
        total_spent_cents=profile.total_spent_cents,
        rating=f"{profile.rating_avg:.2f}" if has_reviews else None,
        reviews_count=profile.reviews_count if has_reviews else 0,
        avg_hourly_rate_paid_cents=profile.avg_hourly_rate_paid_cents,
    )


SIMILAR_JOB_FIELDS = (
    "id",
    "public_id",
    "title",
    "budget_type",
    "hourly_min_cents",
    "hourly_max_cents",
    "fixed_budget_cents",
    "published_at",
)


def similar_jobs(*, job: Job, limit: int = 5) -> list[Job]:
    """Other open public jobs of the same specialty first, then of the same category; the
    newest first in each. The fields the job page shows, and not the category.

    One query: the newest ``limit`` of the specialty UNION ALL the newest ``limit`` of the
    rest of the category, each read in order from a partial index of open jobs (migration
    0003) and stopped early, then the first ``limit`` of those: ~0.3 ms at 100,000 jobs,
    where sorting the whole category (specialty first) took ~40 ms. SQLite cannot limit
    the parts of a UNION, and sorts (its data sets are small).
    """
    listed = (
        Job.objects.filter(
            status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC, client__suspended_at__isnull=True
        )
        .exclude(pk=job.pk)
        .only(*SIMILAR_JOB_FIELDS)
    )
    same_category = listed.filter(category_id=job.category_id)
    if not job.subcategory_id:
        return list(same_category.order_by("-published_at", "-id")[:limit])
    newest = ("-published_at", "-id")
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite: one small sort
        same_sub_first = Case(When(subcategory_id=job.subcategory_id, then=Value(1)), default=Value(0))
        return list(same_category.order_by(same_sub_first.desc(), *newest)[:limit])
    same_sub = listed.filter(subcategory_id=job.subcategory_id).annotate(same_sub=Value(1))
    rest = same_category.exclude(subcategory_id=job.subcategory_id).annotate(same_sub=Value(0))  # keeps NULLs
    combined = same_sub.order_by(*newest)[:limit].union(rest.order_by(*newest)[:limit], all=True)
    return list(combined.order_by("-same_sub", *newest)[:limit])


# Labels of the fields that ``job_update`` logs, for the change history.
_FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "category": "Category",
    "subcategory": "Specialty",
    "skills": "Skills",
    "size": "Project size",
    "duration": "Duration",
    "experience_level": "Experience level",
    "budget_type": "Budget type",
    "hourly_min_cents": "Hourly rate from",
    "hourly_max_cents": "Hourly rate to",
    "fixed_budget_cents": "Fixed price",
    "visibility": "Visibility",
    "freelancers_needed": "Freelancers to hire",
    "questions": "Screening questions",
    "reason": "Reason",
    "note": "Note",
}
_CHOICE_FIELDS: dict[str, Any] = {
    "size": Job.Size,
    "duration": Job.Duration,
    "experience_level": ExperienceLevel,
    "budget_type": Job.BudgetType,
    "visibility": Job.Visibility,
    "reason": Job.CloseReason,
}


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    event: JobEvent
    changes: list[Change]
    # The wizard saves a draft at every step; those edits are folded into one row that
    # lists them (``event`` is then the last of them).
    draft_edits: list[HistoryRow] = field(default_factory=list)


def _readable(name: str, value: Any, names: dict[tuple[str, int], str]) -> str:
    if value in (None, "", []):
        return "none"
    if name in ("category", "subcategory"):
        return names.get((name, int(value)), f"#{value}")
    if name.endswith("_cents"):
        try:
            return format_cents(int(value))
        except (TypeError, ValueError):
            return str(value)
    if name in _CHOICE_FIELDS and value in _CHOICE_FIELDS[name].values:
        return str(_CHOICE_FIELDS[name](value).label)
    if name == "description":
        text = str(value)
        return text if len(text) <= 80 else text[:79] + "…"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def job_history(*, job: Job) -> list[HistoryRow]:
    """The job's events, oldest first, with the edited fields in words (at most three queries)."""
    events = list(job.events.select_related("actor").order_by("created_at", "id"))
    wanted: dict[str, set[int]] = {"category": set(), "subcategory": set()}
    for event in events:
        for name in wanted:
            for value in (event.changes or {}).get(name, []) or []:
                if value is not None:
                    wanted[name].add(int(value))
    names: dict[tuple[str, int], str] = {}
    if wanted["category"]:
        names.update({("category", c.pk): c.name for c in Category.objects.filter(pk__in=wanted["category"])})
    if wanted["subcategory"]:
        names.update(
            {("subcategory", s.pk): s.name for s in Subcategory.objects.filter(pk__in=wanted["subcategory"])}
        )
    rows: list[HistoryRow] = []
    for event in events:
        changes = []
        for name, value in (event.changes or {}).items():
            label = _FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
            if isinstance(value, list) and len(value) == 2 and event.kind == JobEvent.Kind.EDITED:
                changes.append(
                    Change(label, _readable(name, value[0], names), _readable(name, value[1], names))
                )
            else:
                changes.append(Change(label, "", _readable(name, value, names)))
        row = HistoryRow(event=event, changes=changes)
        if event.kind == JobEvent.Kind.EDITED and event.from_status == Job.Status.DRAFT:
            if rows and rows[-1].draft_edits:
                rows[-1] = HistoryRow(event=event, changes=[], draft_edits=[*rows[-1].draft_edits, row])
            else:
                rows.append(HistoryRow(event=event, changes=[], draft_edits=[row]))
            continue
        rows.append(row)
    return rows


@dataclass
class JobPage:
    """Everything the job page shows around the job itself."""

    job: Job
    is_owner: bool
    client: ClientStats
    proposals_range: str
    similar: list[Job]
    saved: bool = False
    flagged_reason: str = ""  # the viewer's earlier report, if any
    can_flag: bool = False
    history: list[HistoryRow] = field(default_factory=list)
    missing: list[MissingPart] = field(default_factory=list)
    can_reopen: bool = False
    invitation: Invitation | None = None  # the viewer's invitation to this job
    team_role: str | None = None  # the viewer's role when the job is their client team's

    @property
    def last_viewed_by_client_at(self) -> datetime | None:
        return self.job.last_viewed_by_client_at


def job_page(*, job: Job, viewer: User | AnonymousUser | None) -> JobPage:
    """The data around ``job`` (already checked visible to ``viewer``)."""
    prefetch_related_objects([job], *_JOB_PREFETCHES)
    authed = viewer is not None and viewer.is_authenticated
    user = viewer if isinstance(viewer, User) and authed else None
    is_owner = user is not None and (job.client_id == user.pk or teams.can(user, job, teams.EDIT_JOB))
    page = JobPage(
        job=job,
        is_owner=is_owner,
        client=client_stats(client=job.client),
        proposals_range=proposals_range(job.proposals_count),
        similar=similar_jobs(job=job),
    )
    if user is not None and job.team_id:
        page.team_role = teams.team_role(user, job)
    if is_owner:
        page.history = job_history(job=job)
        page.missing = job_missing_parts(job) if job.status == Job.Status.DRAFT else []
        page.can_reopen = job_can_reopen(job)
    elif user is not None and page.team_role is None:
        page.saved = SavedJob.objects.filter(user=user, job=job).exists()
        page.flagged_reason = moderation_flag_reason(reporter=user, obj=job)
        page.can_flag = job.status == Job.Status.OPEN
        page.invitation = Invitation.objects.filter(job=job, freelancer=user).first()
    return page


def _fallback_job_get_for_viewer(*, public_id: str, viewer: User | AnonymousUser | None) -> Job:
    """Used until ``jobs.selectors.job_get_for_viewer`` exists: the same visibility rules.

    The owner and staff see every job; others see open jobs, and an invite-only one only
    when invited to it.
    """
    job = Job.objects.select_related("client", "category", "subcategory").filter(public_id=public_id).first()
    if job is None:
        raise Http404("No such job.")
    authed = viewer is not None and viewer.is_authenticated
    if authed and (viewer.pk == job.client_id or viewer.is_staff):  # type: ignore[union-attr]
        return job
    if job.status != Job.Status.OPEN:
        raise Http404("No such job.")
    if job.visibility == Job.Visibility.INVITE_ONLY and not (
        authed and Invitation.objects.filter(job=job, freelancer_id=viewer.pk).exists()  # type: ignore[union-attr]
    ):
        raise Http404("No such job.")
    return job


def job_get_for_viewer(*, public_id: str, viewer: User | AnonymousUser | None) -> Job:
    """The search engineer's selector when present (it owns the visibility rules)."""
    try:
        from .selectors import job_get_for_viewer as shared
    except ImportError:
        return _fallback_job_get_for_viewer(public_id=public_id, viewer=viewer)
    return shared(public_id=public_id, viewer=viewer)
