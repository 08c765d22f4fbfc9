"""The job search's filters: ONE ``JobFilter`` for the HTML page, the API and saved-search
alerts, so that a link, an API call and an alert mean the same thing.

``JobFilter`` validates the parameters (a bad value is a form error / a 400, never a 500)
and applies the structured filters. The keyword (``q``) and the order (``sort``) are only
validated here: ``jobs.selectors.job_search`` applies them, because ranking needs the
whole filtered set (see its docstring).

Money in the parameters is in whole dollars (as people type it); the database has cents.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any, ClassVar
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language
from django_countries import countries

from accounts.models import Category, ExperienceLevel, Skill, Subcategory

from .models import Job

MAX_QUERY_CHARS = 200
MAX_FILTER_SKILLS = 20
MAX_AMOUNT_DOLLARS = 1_000_000

PROPOSAL_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0-4": (0, 4),
    "5-9": (5, 9),
    "10-14": (10, 14),
    "15-19": (15, 19),
    "20-49": (20, 49),
    "50+": (50, None),
}
PROPOSAL_CHOICES = [
    ("0-4", "Less than 5"),
    ("5-9", "5 to 9"),
    ("10-14", "10 to 14"),
    ("15-19", "15 to 19"),
    ("20-49", "20 to 49"),
    ("50+", "50 or more"),
]
POSTED_WITHIN = {
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
POSTED_WITHIN_CHOICES = [
    ("24h", "Last 24 hours"),
    ("3d", "Last 3 days"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
]
SORT_CHOICES = [("relevance", "Relevance"), ("newest", "Newest")]
RATING_CHOICES = [("4.5", "4.5 and up"), ("4", "4.0 and up"), ("3", "3.0 and up")]

# Parameters that are not filters but may ride along in a search URL.
NON_FILTER_PARAMS = frozenset({"cursor", "page_size"})


def _unchanged(queryset: QuerySet[Job], name: str, value: Any) -> QuerySet[Job]:
    """``q`` and ``sort`` are applied by ``jobs.selectors.job_search``."""
    return queryset


def _cents(dollars: Decimal) -> int:
    return int(dollars * 100)


def _amount_filter(label: str, method: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        label=label,
        method=method,
        min_value=Decimal(0),
        max_value=Decimal(MAX_AMOUNT_DOLLARS),
        max_digits=9,
        decimal_places=2,
    )


class JobFilterForm(forms.Form):
    """Cross-field checks: a range's minimum cannot exceed its maximum; a bounded skill list."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if len(data.get("skills") or []) > MAX_FILTER_SKILLS:
            self.add_error("skills", f"Choose at most {MAX_FILTER_SKILLS} skills.")
        for low, high in (("hourly_min", "hourly_max"), ("fixed_min", "fixed_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, "The maximum must not be below the minimum.")
        return data


class JobFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Keywords", method=_unchanged, max_length=MAX_QUERY_CHARS)
    category = django_filters.ModelChoiceFilter(
        label="Category", queryset=Category.objects.all(), empty_label="Any category"
    )
    subcategory = django_filters.ModelChoiceFilter(
        label="Specialty", queryset=Subcategory.objects.all(), empty_label="Any specialty"
    )
    skills = django_filters.ModelMultipleChoiceFilter(
        label="Skills", queryset=Skill.objects.all(), method="filter_skills"
    )
    budget_type = django_filters.ChoiceFilter(
        label="Job type", choices=Job.BudgetType.choices, empty_label="Any job type"
    )
    hourly_min = _amount_filter("Hourly rate from ($)", "filter_hourly_min")
    hourly_max = _amount_filter("Hourly rate to ($)", "filter_hourly_max")
    fixed_min = _amount_filter("Fixed price from ($)", "filter_fixed_min")
    fixed_max = _amount_filter("Fixed price to ($)", "filter_fixed_max")
    experience_level = django_filters.MultipleChoiceFilter(
        label="Experience level",
        choices=ExperienceLevel.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    duration = django_filters.MultipleChoiceFilter(
        label="Project length",
        choices=Job.Duration.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    payment_verified = django_filters.BooleanFilter(
        label="Payment method verified", method="filter_payment_verified", widget=forms.CheckboxInput
    )
    has_hires = django_filters.BooleanFilter(
        label="Has hired before", method="filter_has_hires", widget=forms.CheckboxInput
    )
    client_rating_min = django_filters.NumberFilter(
        label="Client rating",
        method="filter_client_rating",
        min_value=Decimal(0),
        max_value=Decimal(5),
        max_digits=3,
        decimal_places=2,
    )
    proposals = django_filters.MultipleChoiceFilter(
        label="Number of proposals",
        choices=PROPOSAL_CHOICES,
        method="filter_proposals",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    posted_within = django_filters.ChoiceFilter(
        label="Posted", choices=POSTED_WITHIN_CHOICES, method="filter_posted_within", empty_label="Any time"
    )
    location = django_filters.MultipleChoiceFilter(
        label="Client location", field_name="client_country", choices=lambda: list(countries), distinct=False
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by", choices=SORT_CHOICES, method=_unchanged, empty_label="Best match"
    )

    class Meta:
        model = Job
        fields: ClassVar[list[str]] = []
        form = JobFilterForm

    def filter_skills(self, queryset: QuerySet[Job], name: str, value: Any) -> QuerySet[Job]:
        ids = [skill.pk for skill in value]
        if not ids:
            return queryset
        # any of the skills; EXISTS keeps one row per job (no DISTINCT over the page)
        tagged = Job.skills.through.objects.filter(job_id=OuterRef("pk"), skill_id__in=ids)
        return queryset.filter(Exists(tagged))

    def filter_hourly_min(self, queryset: QuerySet[Job], name: str, value: Decimal) -> QuerySet[Job]:
        # the job's range reaches at least this rate (overlap with [min, max])
        return queryset.alias(hourly_top=Coalesce("hourly_max_cents", "hourly_min_cents")).filter(
            budget_type=Job.BudgetType.HOURLY, hourly_top__gte=_cents(value)
        )

    def filter_hourly_max(self, queryset: QuerySet[Job], name: str, value: Decimal) -> QuerySet[Job]:
        return queryset.filter(budget_type=Job.BudgetType.HOURLY, hourly_min_cents__lte=_cents(value))

    def filter_fixed_min(self, queryset: QuerySet[Job], name: str, value: Decimal) -> QuerySet[Job]:
        return queryset.filter(budget_type=Job.BudgetType.FIXED, fixed_budget_cents__gte=_cents(value))

    def filter_fixed_max(self, queryset: QuerySet[Job], name: str, value: Decimal) -> QuerySet[Job]:
        return queryset.filter(budget_type=Job.BudgetType.FIXED, fixed_budget_cents__lte=_cents(value))

    def filter_payment_verified(self, queryset: QuerySet[Job], name: str, value: bool) -> QuerySet[Job]:
        if not value:
            return queryset
        return queryset.filter(client__client_profile__payment_method_verified=True)

    def filter_has_hires(self, queryset: QuerySet[Job], name: str, value: bool) -> QuerySet[Job]:
        if not value:
            return queryset
        return queryset.filter(client__client_profile__hires_count__gt=0)

    def filter_client_rating(self, queryset: QuerySet[Job], name: str, value: Decimal) -> QuerySet[Job]:
        return queryset.filter(client__client_profile__rating_avg__gte=value)

    def filter_proposals(self, queryset: QuerySet[Job], name: str, value: list[str]) -> QuerySet[Job]:
        ranges = []
        for key in value:
            low, high = PROPOSAL_BUCKETS[key]
            ranges.append(
                Q(proposals_count__gte=low)
                if high is None
                else Q(proposals_count__gte=low, proposals_count__lte=high)
            )
        return queryset.filter(reduce(or_, ranges)) if ranges else queryset

    def filter_posted_within(self, queryset: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        return queryset.filter(published_at__gte=timezone.now() - POSTED_WITHIN[value])


# --- query strings: saved searches and "remove this filter" links ----------------------------------


def _filter_items(data: QueryDict) -> list[tuple[str, str]]:
    """The filter parameters of ``data``, without empties, duplicates or unknown keys, sorted."""
    items: set[tuple[str, str]] = set()
    for key in data:
        if key not in JobFilter.base_filters:
            continue
        for value in data.getlist(key):
            value = " ".join(str(value).split()) if key == "q" else str(value).strip()
            if value:
                items.add((key, value))
    return sorted(items)


def normalize_query_string(raw: str) -> str:
    """A search's parameters in one canonical form (so that the same search is saved once).

    Raises ``forms.ValidationError`` when the parameters do not validate.
    """
    data = QueryDict((raw or "").strip().lstrip("?"))
    normalized = QueryDict(mutable=True)
    for key, value in _filter_items(data):
        normalized.appendlist(key, value)
    filterset = JobFilter(data=normalized, queryset=Job.objects.none())
    if not filterset.is_valid():
        first = next(iter(filterset.errors.values()))
        raise forms.ValidationError(f"This search cannot be saved: {first[0]}", code="invalid_search")
    return urlencode(_filter_items(normalized))


def search_cache_parts(data: QueryDict, *extra: str) -> list[tuple[str, str]]:
    """What makes a search page what it is, for a cache key: the filter parameters (and
    ``extra`` ones such as the cursor) without blanks or unknown keys, sorted, the values
    as they came (the filter form shows them back as typed)."""
    keys = set(JobFilter.base_filters).union(extra)
    return sorted((key, value) for key in data if key in keys for value in data.getlist(key) if value.strip())


def search_query_string(data: QueryDict) -> str:
    """The current search without the page cursor (for "Save this search" and links)."""
    return urlencode(_filter_items(data))


def active_filters(data: dict[str, Any], raw: QueryDict) -> list[dict[str, str]]:
    """The filters in use, each with a label and the query string without it (the chips
    above the results, and the empty state's suggestions). ``data``: the cleaned
    parameters (``JobFilter``'s form, or ``plain_search_data``); ``raw``: as they came."""
    items = _filter_items(raw)
    chips = []
    for key, value in sorted(items, key=lambda item: item[0] != "q"):  # the keyword first
        if key == "sort":
            continue
        remaining = [(k, v) for k, v in items if (k, v) != (key, value)]
        chips.append({"label": _chip_label(key, value, data), "query": urlencode(remaining)})
    return chips


def _chip_label(key: str, value: str, data: dict[str, Any]) -> str:
    filter_ = JobFilter.base_filters[key]
    label = str(filter_.label)
    if key == "q":
        return f"“{value}”"
    if key in ("category", "subcategory") and data.get(key) is not None:
        return f"{label}: {data[key].name}"
    if key == "skills":
        names = {str(skill.pk): skill.name for skill in data.get("skills") or []}
        return f"Skill: {names.get(value, value)}"
    if key in ("payment_verified", "has_hires"):
        return label
    choices = _choice_labels(get_language()).get(key, {})
    if value in choices:
        return f"{label}: {choices[value]}"
    return f"{label}: {value}"


@functools.lru_cache(maxsize=8)
def _choice_labels(language: str | None) -> dict[str, dict[str, str]]:
    """Each choice filter's labels by value, in ``language`` (the active one: the key
    carries it), built once per process (the countries are 250)."""
    out = {}
    for name, filter_ in JobFilter.base_filters.items():
        choices = filter_.extra.get("choices")
        if choices is not None:
            out[name] = {str(k): str(v) for k, v in (choices() if callable(choices) else choices)}
    return out


class SavedSearchForm(forms.Form):
    """ "Save this search" on the search page: the current parameters ride in a hidden field."""

    name = forms.CharField(label="Name this search", max_length=80, required=False)
    notify = forms.BooleanField(label="Email me new jobs that match", required=False, initial=True)
    query_string = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)

    def clean_query_string(self) -> str:
        return normalize_query_string(self.cleaned_data.get("query_string") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("name") or "").strip() and "query_string" in data:
            keyword = QueryDict(data["query_string"]).get("q")
            data["name"] = keyword[:80] if keyword else "All new jobs"
        return data


# --- the plain parameters, read without the form ----------------------------------------------

_PLAIN_AMOUNT = re.compile(r"(?:0|[1-9][0-9]{0,6})(?:\.[0-9]{1,2})?")
_PLAIN_RATING = re.compile(r"[0-5](?:\.[0-9]{1,2})?")
_PLAIN_BOOLEANS = {"true": True, "on": True, "1": True, "false": False}
# what the form would need the database for: those go through it
_MODEL_FILTERS = frozenset({"category", "subcategory", "skills"})


@functools.cache
def _plain_choices() -> dict[str, frozenset[str]]:
    """The allowed values of each choice filter, as the form's fields allow them."""
    out = {}
    for name, filter_ in JobFilter.base_filters.items():
        choices = filter_.extra.get("choices")
        if choices is not None:
            out[name] = frozenset(
                str(value) for value, _label in (choices() if callable(choices) else choices)
            )
    return out


def plain_search_data(params: QueryDict) -> dict[str, Any] | None:
    """The cleaned data ``JobFilter``'s form would give for ``params`` (blank values already
    dropped), read without building the form, when every parameter is a plain, valid value
    that needs no database: the keyword, choices from their lists, amounts written as
    digits within their bounds, the two check boxes. None for anything else (a category,
    specialty or skill, a range the wrong way round, an amount written otherwise, a value
    the form would refuse): the form then decides, with its own errors. Building and
    validating the form was a sixth of an uncached search; a test checks that the two agree
    on every parameter the form knows."""
    base = JobFilter.base_filters
    choices = _plain_choices()
    data: dict[str, Any] = {
        "q": "",
        "category": None,
        "subcategory": None,
        "skills": [],
        "budget_type": "",
        "hourly_min": None,
        "hourly_max": None,
        "fixed_min": None,
        "fixed_max": None,
        "experience_level": [],
        "duration": [],
        "payment_verified": False,
        "has_hires": False,
        "client_rating_min": None,
        "proposals": [],
        "posted_within": "",
        "location": [],
        "sort": "",
    }
    for key in params:
        if key not in base:
            continue  # the form ignores what it does not know
        if key in _MODEL_FILTERS:
            return None
        values = params.getlist(key)
        value = values[-1]  # a single-valued field reads the last one
        if key == "q":
            text = value.strip()
            if len(text) > MAX_QUERY_CHARS or "\x00" in text:
                return None
            data["q"] = text
        elif key in ("experience_level", "duration", "proposals", "location"):
            allowed = choices[key]
            if not all(item in allowed for item in values):
                return None
            data[key] = list(values)
        elif key in ("budget_type", "posted_within", "sort"):
            if value not in choices[key]:
                return None
            data[key] = value
        elif key in ("hourly_min", "hourly_max", "fixed_min", "fixed_max"):
            if not _PLAIN_AMOUNT.fullmatch(value) or Decimal(value) > MAX_AMOUNT_DOLLARS:
                return None
            data[key] = Decimal(value)
        elif key == "client_rating_min":
            if not _PLAIN_RATING.fullmatch(value) or Decimal(value) > 5:
                return None
            data[key] = Decimal(value)
        elif key in ("payment_verified", "has_hires"):
            flag = _PLAIN_BOOLEANS.get(value.lower())
            if flag is None:
                return None
            data[key] = flag
        else:  # a filter added to JobFilter and not taught here: the form reads it
            return None
    for low, high in (("hourly_min", "hourly_max"), ("fixed_min", "fixed_max")):
        if data[low] is not None and data[high] is not None and data[low] > data[high]:
            return None
    return data
