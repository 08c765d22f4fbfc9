"""Reads of talent search and invitations.

``FreelancerFilter`` is the one definition of the talent filters; the HTML page
(``/talent/``) and the API (``/api/v1/talent/``) both go through ``talent_search``.

Ranking, "best match" (the default sort):

1. keyword relevance: per keyword, 3 points when it is in the title, 2 when it is (part
   of) a skill's name, 1 when it is in the overview;
2. reputation, ``quality`` = rating in hundredths of a star (0..500) + 5 x Job Success
   Score (0..500) + points for the best badge, recent activity and a new profile (the
   weights and the formula: ``jobs.ranking``). A profile without reviews counts as rated
   4.00 and one without a Job Success Score as 80%: new profiles land in the middle, above
   freelancers with a worse record and below those with a better one, instead of at the
   bottom;
3. total earnings, then the most recently published, then the id (a total order, so
   that keyset pagination never skips or repeats a profile).

Every page costs a fixed number of queries: the profiles with their user and category,
then one query each for skills, languages and passed skill tests.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from accounts.forms import MoneyField
from accounts.languages import LANGUAGE_CHOICES
from accounts.models import (
    AssessmentAttempt,
    Availability,
    Category,
    FreelancerProfile,
    Proficiency,
    ProfileLanguage,
    Skill,
    User,
)
from accounts.selectors import freelancer_visible_q
from marketplace.errors import ApplicationError, NotFoundError

from . import ranking
from .models import Invitation, Job

Viewer = User | AnonymousUser | None

MAX_KEYWORDS = 6
MAX_FILTER_SKILLS = 20
PAGE_SIZE = 20
TOP_SKILLS = 6

# Reputation assumed for a profile without reviews or without a Job Success Score yet
# (the ranking weights live in jobs.ranking).
NEUTRAL_RATING_HUNDREDTHS = ranking.NEUTRAL_RATING_HUNDREDTHS  # 4.00 stars
NEUTRAL_JSS = ranking.NEUTRAL_JSS  # percent

# Proficiency levels from the lowest; "at least fluent" means fluent or native.
PROFICIENCY_ORDER = [
    Proficiency.BASIC,
    Proficiency.CONVERSATIONAL,
    Proficiency.FLUENT,
    Proficiency.NATIVE,
]


def proficiency_at_least(level: str) -> list[str]:
    """``"fluent"`` -> ``["fluent", "native"]``."""
    values = [str(p.value) for p in PROFICIENCY_ORDER]
    return values[values.index(level) :]


class Sort:
    BEST = "best"
    RATE_ASC = "rate_asc"
    RATE_DESC = "rate_desc"
    NEWEST = "newest"

    CHOICES = [
        (BEST, "Best match"),
        (RATE_ASC, "Hourly rate: low to high"),
        (RATE_DESC, "Hourly rate: high to low"),
        (NEWEST, "Newest profiles"),
    ]


# The ordering of each sort as (annotation or field, descending). The last key is unique.
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    Sort.BEST: [
        ("relevance", True),
        ("quality", True),
        ("total_earned_cents", True),
        ("published_at", True),
        ("id", True),
    ],
    Sort.RATE_ASC: [("rate_key", False), ("id", False)],
    Sort.RATE_DESC: [("rate_key", True), ("id", True)],
    Sort.NEWEST: [("published_at", True), ("id", True)],
}

RATING_CHOICES = [
    ("", "Any rating"),
    ("4.5", "4.5 stars and up"),
    ("4", "4 stars and up"),
    ("3", "3 stars and up"),
]
JSS_CHOICES = [("", "Any Job Success"), ("95", "95% and up"), ("90", "90% and up"), ("80", "80% and up")]


# --- the filter set ------------------------------------------------------------------------------


class _TickBox(forms.CheckboxInput):
    """A checkbox that also understands API spellings: 1/true/on/yes are ticked, the rest not."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return value is not None and str(value).strip().lower() in {"1", "true", "on", "yes"}


class _MoneyFilter(django_filters.Filter):
    field_class = MoneyField  # dollars typed -> integer cents


class _IntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


class _DecimalFilter(django_filters.Filter):
    field_class = forms.DecimalField


class _TickFilter(django_filters.Filter):
    field_class = forms.BooleanField


class _ChoiceFilter(django_filters.Filter):
    field_class = forms.ChoiceField


class TalentFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("rate_min"), data.get("rate_max")
        for name in ("rate_min", "rate_max"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "Enter an amount of $0 or more.")
        if low is not None and high is not None and low > high:
            self.add_error("rate_max", "The maximum rate must be at least the minimum rate.")
        skills = data.get("skills")
        if skills is not None and len(skills) > MAX_FILTER_SKILLS:
            self.add_error("skills", f"Choose at most {MAX_FILTER_SKILLS} skills.")
        return data


class FreelancerFilter(django_filters.FilterSet):
    """Talent filters shared by the HTML page and the API. Amounts are typed in dollars."""

    q = django_filters.CharFilter(
        label="Keywords",
        method="filter_keywords",
        max_length=100,
        help_text="In the title, overview or skills.",
    )
    category = django_filters.ModelChoiceFilter(
        label="Category", queryset=Category.objects.all(), empty_label="Any category"
    )
    skills = django_filters.ModelMultipleChoiceFilter(
        label="Skills",
        queryset=Skill.objects.all(),
        method="filter_skills",
    )
    rate_min = _MoneyFilter(label="Hourly rate from ($)", method="filter_rate_min", required=False)
    rate_max = _MoneyFilter(label="Hourly rate to ($)", method="filter_rate_max", required=False)
    rating_min = _DecimalFilter(
        label="Client rating",
        field_name="rating_avg",
        lookup_expr="gte",
        min_value=0,
        max_value=5,
        decimal_places=2,
        widget=forms.Select(choices=RATING_CHOICES),
    )
    jss_min = _IntegerFilter(
        label="Job Success",
        field_name="job_success_score",
        lookup_expr="gte",
        min_value=0,
        max_value=100,
        widget=forms.Select(choices=JSS_CHOICES),
        help_text="Freelancers without a score yet are left out.",
    )
    country = django_filters.ChoiceFilter(label="Country", choices=list(countries), empty_label="Any country")
    languages = django_filters.MultipleChoiceFilter(
        label="Languages",
        choices=LANGUAGE_CHOICES,
        method="filter_languages",
        help_text="Speaks any of the chosen languages.",
    )
    english = _ChoiceFilter(
        label="English level",
        choices=[("", "Any level"), *[(p.value, f"{p.label} or better") for p in PROFICIENCY_ORDER]],
        method="filter_english",
        required=False,
    )
    availability = django_filters.MultipleChoiceFilter(
        label="Availability",
        choices=Availability.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,  # a column of the profile: no joins, no duplicates
    )
    verified = _TickFilter(
        label="Verified skills only",
        method="filter_verified",
        required=False,
        widget=_TickBox,
        help_text="Passed a skill test (in one of the chosen skills, if any).",
    )
    sort = _ChoiceFilter(label="Sort by", choices=Sort.CHOICES, method="filter_noop", required=False)

    class Meta:
        model = FreelancerProfile
        fields: list[str] = []
        form = TalentFilterForm

    def filter_noop(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset  # applied by talent_search, after the filters

    def filter_keywords(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        terms = _keywords(value)
        if not terms:
            return queryset
        relevance: Combinable = Value(0)
        for term in terms:
            in_title = Q(title__icontains=term)
            in_overview = Q(overview__icontains=term)
            in_skills = Exists(
                FreelancerProfile.skills.through.objects.filter(
                    freelancerprofile_id=OuterRef("pk"), skill__name__icontains=term
                )
            )
            queryset = queryset.filter(in_title | in_overview | in_skills)
            relevance = (
                relevance
                + Case(When(in_title, then=Value(3)), default=Value(0))
                + Case(When(in_skills, then=Value(2)), default=Value(0))
                + Case(When(in_overview, then=Value(1)), default=Value(0))
            )
        return queryset.annotate(relevance=Cast(relevance, IntegerField()))

    def filter_skills(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        ids = [skill.pk for skill in value]
        if not ids:
            return queryset
        return queryset.filter(
            Exists(
                FreelancerProfile.skills.through.objects.filter(
                    freelancerprofile_id=OuterRef("pk"), skill_id__in=ids
                )
            )
        )

    def filter_rate_min(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(hourly_rate_cents__gte=value)

    def filter_rate_max(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(hourly_rate_cents__lte=value)

    def filter_languages(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(
            Exists(ProfileLanguage.objects.filter(profile_id=OuterRef("pk"), language__in=value))
        )

    def filter_english(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(
                ProfileLanguage.objects.filter(
                    profile_id=OuterRef("pk"), language="en", proficiency__in=proficiency_at_least(value)
                )
            )
        )

    def filter_verified(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        passed = AssessmentAttempt.objects.filter(user_id=OuterRef("user_id"), passed=True)
        chosen = self.form.cleaned_data.get("skills")
        if chosen:
            passed = passed.filter(assessment__skill_id__in=[skill.pk for skill in chosen])
        return queryset.filter(Exists(passed))


def _keywords(value: str) -> list[str]:
    seen: list[str] = []
    for word in (value or "").split():
        word = word.strip()[:60]
        if word and word.lower() not in (w.lower() for w in seen):
            seen.append(word)
    return seen[:MAX_KEYWORDS]


# --- search ---------------------------------------------------------------------------------------


@dataclass
class TalentSearch:
    """A talent search: the bound filter form and the ordered, prefetched profiles."""

    filterset: FreelancerFilter
    profiles: QuerySet[FreelancerProfile]
    sort: str

    @property
    def form(self) -> forms.Form:
        return self.filterset.form

    @property
    def is_valid(self) -> bool:
        return not self.filterset.form.errors

    @property
    def errors(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.filterset.form.errors.items()}


def _visible_profiles(viewer: Viewer) -> QuerySet[FreelancerProfile]:
    return FreelancerProfile.objects.filter(freelancer_visible_q(viewer))


def _with_card_data(qs: QuerySet[FreelancerProfile]) -> QuerySet[FreelancerProfile]:
    return qs.select_related("user", "category").prefetch_related(
        Prefetch("skills", queryset=Skill.objects.only("id", "name", "slug").order_by("name")),
        Prefetch("languages", queryset=ProfileLanguage.objects.order_by("id")),
        Prefetch(
            "user__assessment_attempts",
            queryset=AssessmentAttempt.objects.filter(passed=True)
            .select_related("assessment__skill")
            .order_by("assessment__skill__name", "id"),
            to_attr="passed_attempts",
        ),
    )


def _ordered(qs: QuerySet[FreelancerProfile], sort: str) -> QuerySet[FreelancerProfile]:
    if "relevance" not in qs.query.annotations:
        qs = qs.annotate(relevance=Value(0, output_field=IntegerField()))
    qs = qs.annotate(
        quality=ranking.quality_expression(timezone.now()),  # the weights: jobs.ranking
        # profiles without a rate (not publishable today) go last either way
        rate_key=Coalesce(
            F("hourly_rate_cents"),
            Value(-1 if sort == Sort.RATE_DESC else 10**9),
            output_field=IntegerField(),
        ),
    )
    return qs.order_by(*[F(name).desc() if desc else F(name).asc() for name, desc in SORT_KEYS[sort]])


def talent_search(*, params: Any, viewer: Viewer) -> TalentSearch:
    """Visible published freelancers matching ``params`` (a QueryDict or dict), in the
    chosen order. Invalid parameters give no results and the form's errors."""
    filterset = FreelancerFilter(params, queryset=_visible_profiles(viewer))
    if not filterset.is_valid():
        return TalentSearch(filterset, FreelancerProfile.objects.none(), Sort.BEST)
    sort = filterset.form.cleaned_data.get("sort") or Sort.BEST
    profiles = _with_card_data(_ordered(filterset.qs, sort))
    return TalentSearch(filterset, profiles, sort)


def talent_skill_options(*, category_id: int | None, selected_ids: list[int]) -> tuple[list[Skill], set[int]]:
    """The filter form's skill checkboxes: the category's skills, after any ticked ones
    from elsewhere, and the ids of the ticked ones. Two queries at most."""
    selected_ids = selected_ids[:MAX_FILTER_SKILLS]
    selected = (
        list(Skill.objects.filter(pk__in=selected_ids).only("id", "name").order_by("name"))
        if selected_ids
        else []
    )
    options = (
        list(Skill.objects.filter(subcategory__category_id=category_id).only("id", "name").order_by("name"))
        if category_id
        else []
    )
    have = {skill.pk for skill in options}
    return [s for s in selected if s.pk not in have] + options, {s.pk for s in selected}


def job_pk_by_public_id(public_id: str) -> int:
    """Any job's primary key (the services decide who may act on it)."""
    pk = Job.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFoundError("No such job.")
    return pk


# --- cards ----------------------------------------------------------------------------------------


def verified_skills_of(profile: FreelancerProfile) -> list[Skill]:
    """Skills whose test the freelancer passed, from the prefetch of ``talent_search``."""
    attempts = getattr(profile.user, "passed_attempts", None)
    if attempts is None:  # not prefetched (a single profile): one query
        attempts = list(
            AssessmentAttempt.objects.filter(user_id=profile.user_id, passed=True).select_related(
                "assessment__skill"
            )
        )
    seen: dict[int, Skill] = {}
    for attempt in attempts:
        seen.setdefault(attempt.assessment.skill_id, attempt.assessment.skill)
    return sorted(seen.values(), key=lambda skill: skill.name)


@dataclass
class TalentCard:
    profile: FreelancerProfile
    verified_skills: list[Skill]
    top_skills: list[Skill]
    languages: list[ProfileLanguage]

    @property
    def verified_ids(self) -> set[int]:
        return {skill.pk for skill in self.verified_skills}


def talent_cards(profiles: Any) -> list[TalentCard]:
    """What a result card shows, from already prefetched profiles (no queries)."""
    cards = []
    for profile in profiles:
        verified = verified_skills_of(profile)
        verified_ids = {skill.pk for skill in verified}
        skills = list(profile.skills.all())
        top = [s for s in skills if s.pk in verified_ids] + [s for s in skills if s.pk not in verified_ids]
        cards.append(TalentCard(profile, verified, top[:TOP_SKILLS], list(profile.languages.all())))
    return cards


# --- keyset pagination (API) ---------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("t"), str):
        parsed = datetime.fromisoformat(value["t"])
        if not timezone.is_aware(parsed):
            raise ValueError("naive datetime in cursor")
        return parsed
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("bad cursor value")


def _encode_cursor(sort: str, row: FreelancerProfile) -> str:
    values = [_encode_value(getattr(row, name)) for name, _ in SORT_KEYS[sort]]
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> list[Any]:
    invalid = ApplicationError(
        "This page link is no longer valid; start the search again.", code="invalid_cursor"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("s") != sort:
            raise invalid
        values = [_decode_value(v) for v in data["v"]]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid
    if len(values) != len(SORT_KEYS[sort]):
        raise invalid
    return values


def _after(keys: list[tuple[str, bool]], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the order of ``keys`` (the keyset condition)."""
    condition = Q(pk__in=[])
    for i, (name, desc) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            step &= Q(**{earlier[0]: value})
        condition |= step
    return condition


@dataclass
class TalentPage:
    cards: list[TalentCard]
    next_cursor: str | None


def talent_page(search: TalentSearch, *, cursor: str | None = None, size: int = PAGE_SIZE) -> TalentPage:
    """One page of results after ``cursor`` (keyset pagination: stable and cheap at any depth)."""
    qs = search.profiles
    if cursor:
        qs = qs.filter(_after(SORT_KEYS[search.sort], _decode_cursor(search.sort, cursor)))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return TalentPage(talent_cards(rows), _encode_cursor(search.sort, rows[-1]) if more else None)


# --- hiring side: the client's jobs and invitations ---------------------------------------------


def client_open_jobs(*, viewer: Viewer) -> list[Job]:
    """The viewer's open jobs, newest first ([] for anyone who is not a signed-in client)."""
    if viewer is None or not viewer.is_authenticated:
        return []
    return list(
        Job.objects.filter(client_id=viewer.pk, status=Job.Status.OPEN)
        .only("id", "public_id", "title", "status", "published_at", "client_id")
        .order_by("-published_at", "-id")
    )


def invitable_freelancer(*, user_id: int, viewer: Viewer) -> FreelancerProfile:
    """A freelancer the viewer may see and invite, by user id; 404 otherwise."""
    profile = _with_card_data(_visible_profiles(viewer)).filter(user_id=user_id).first()
    if profile is None or profile.user_id == getattr(viewer, "pk", None):
        raise Http404("No such freelancer.")
    return profile


def invitable_freelancer_by_public_id(*, public_id: str, viewer: Viewer) -> FreelancerProfile:
    profile = _visible_profiles(viewer).select_related("user").filter(public_id=public_id).first()
    if profile is None:
        raise Http404("No such freelancer.")
    return profile


def job_for_owner(*, public_id: str, viewer: Viewer) -> Job:
    """The viewer's own job (any status); someone else's job is simply not found."""
    if viewer is None or not viewer.is_authenticated:
        raise Http404("No such job.")
    job = Job.objects.select_related("category").filter(public_id=public_id, client_id=viewer.pk).first()
    if job is None:
        raise Http404("No such job.")
    return job


def invited_job_ids(*, freelancer_id: int, jobs: list[Job]) -> set[int]:
    """Which of ``jobs`` already have an invitation for the freelancer."""
    if not jobs:
        return set()
    return set(
        Invitation.objects.filter(freelancer_id=freelancer_id, job__in=jobs).values_list("job_id", flat=True)
    )


def _invitation_qs() -> QuerySet[Invitation]:
    return Invitation.objects.select_related(
        "job__category", "client__client_profile", "freelancer__freelancer_profile"
    )


def invitations_for_job(*, job: Job, viewer: Viewer) -> list[Invitation]:
    """The job's invitations with their freelancers, for its owner; [] for anyone else."""
    if viewer is None or not viewer.is_authenticated or job.client_id != viewer.pk:
        return []
    return list(_invitation_qs().filter(job=job).order_by("-created_at", "-id"))


def invitation_is_open(invitation: Invitation, *, now: datetime | None = None) -> bool:
    """Pending and still answerable (the expiry task may not have run yet)."""
    now = now or timezone.now()
    return (
        invitation.status == Invitation.Status.PENDING
        and invitation.expires_at > now
        and invitation.job.status == Job.Status.OPEN
    )


@dataclass
class PendingInvitation:
    invitation: Invitation
    days_left: int  # whole days until it expires, rounded up (at least 1)


@dataclass
class InvitationInbox:
    pending: list[PendingInvitation]
    accepted: list[Invitation]
    closed: list[Invitation]  # declined or expired

    @property
    def is_empty(self) -> bool:
        return not (self.pending or self.accepted or self.closed)


INBOX_HISTORY = 100  # accepted, declined and expired invitations shown, newest first
_DAY_SECONDS = 24 * 60 * 60


def invitation_inbox(*, user: User) -> InvitationInbox:
    """The freelancer's invitations in three groups. Two queries.

    A pending invitation past its date (the expiry task runs hourly) or whose job is no
    longer open is shown with the expired ones.
    """
    now = timezone.now()
    open_q = Q(status=Invitation.Status.PENDING, expires_at__gt=now, job__status=Job.Status.OPEN)
    mine = _invitation_qs().filter(freelancer=user)
    pending = [
        PendingInvitation(i, max(1, -(-int((i.expires_at - now).total_seconds()) // _DAY_SECONDS)))
        for i in mine.filter(open_q).order_by("expires_at", "id")
    ]
    history = list(mine.exclude(open_q).order_by("-created_at", "-id")[:INBOX_HISTORY])
    return InvitationInbox(
        pending=pending,
        accepted=[i for i in history if i.status == Invitation.Status.ACCEPTED],
        closed=[i for i in history if i.status != Invitation.Status.ACCEPTED],
    )


def invitation_for_party(*, invitation_id: int, viewer: User) -> Invitation:
    """An invitation the viewer received or sent; 404 for anyone else."""
    invitation = (
        _invitation_qs()
        .prefetch_related("job__skills")
        .filter(Q(freelancer=viewer) | Q(client=viewer), pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def invitation_list(*, user: User, sent: bool = False, status: str = "") -> QuerySet[Invitation]:
    """Invitations the user received (or, with ``sent``, sent as a client), newest first."""
    qs = _invitation_qs().filter(client=user) if sent else _invitation_qs().filter(freelancer=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")
