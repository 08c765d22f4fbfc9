"""``jobs.filters.plain_search_data``: plain search parameters read without building
``JobFilter``'s form. Wherever it answers, it must answer exactly what the form's cleaned
data would be; whatever it is unsure of (a model choice, an odd spelling, a value the form
refuses) it leaves to the form, which keeps its errors."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.http import QueryDict

from accounts.models import Category, Skill
from jobs import selectors
from jobs.filters import JobFilter, active_filters, plain_search_data
from jobs.models import Job

pytestmark = pytest.mark.django_db

# values per parameter, the good with the bad and the odd
CANDIDATES: dict[str, list[str]] = {
    "q": ["django", "  react   native ", "x" * 200, "x" * 201, "a\x00b", "“quoted” & <b>", "C++"],
    "budget_type": ["hourly", "fixed", "Hourly", " fixed", "both"],
    "hourly_min": [
        "0",
        "10",
        "10.5",
        "10.25",
        "10.255",
        "1000000",
        "1000001",
        "-5",
        "1e3",
        " 7",
        "07",
        "abc",
    ],
    "hourly_max": ["5", "50", "99.99", "1000000.00", "1,000"],
    "fixed_min": ["100", "0.01", "9999999", ".5"],
    "fixed_max": ["50", "5000", "NaN", "Infinity"],
    "experience_level": ["entry", "intermediate", "expert", "guru", "ENTRY"],
    "duration": ["lt1", "1to3", "3to6", "gt6", "forever"],
    "payment_verified": ["true", "on", "1", "false", "False", "0", "yes", "no"],
    "has_hires": ["true", "false", "TRUE", "off"],
    "client_rating_min": ["4.5", "4", "3", "5", "5.01", "6", "4.555", "-1"],
    "proposals": ["0-4", "5-9", "50+", "100+"],
    "posted_within": ["24h", "3d", "7d", "30d", "1y"],
    "location": ["US", "DE", "FR", "XX", "us"],
    "sort": ["relevance", "newest", "oldest"],
    "cursor": ["abc"],
    "page_size": ["5"],
    "utm_source": ["mail"],
}


def _form(data: QueryDict) -> JobFilter:
    return JobFilter(data=data, queryset=Job.objects.none())


def _compare(data: QueryDict) -> bool:
    """Checks ``plain_search_data`` against the form for ``data``; True when it answered."""
    plain = plain_search_data(data)
    if plain is None:
        return False
    form = _form(data)
    assert form.is_valid(), (data, form.errors)
    cleaned = dict(form.form.cleaned_data)
    cleaned["skills"] = list(cleaned["skills"])
    assert plain == cleaned, data
    # and the chips above the results read the same from either
    assert active_filters(plain, data) == active_filters(form.form.cleaned_data, data)
    return True


def _querydict(pairs: list[tuple[str, str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in pairs:
        data.appendlist(key, value)
    return selectors._as_querydict(data)


def test_each_value_alone_matches_the_form():
    answered = 0
    for key, values in CANDIDATES.items():
        for value in values:
            answered += _compare(_querydict([(key, value)]))
    assert _compare(_querydict([]))
    # the plain values were read without the form (the test would pass with None everywhere)
    assert answered >= 50


def test_random_combinations_match_the_form():
    rng = random.Random(20261129)
    keys = list(CANDIDATES)
    answered = 0
    for _ in range(600):
        pairs = []
        for key in rng.sample(keys, rng.randint(1, 6)):
            for _ in range(rng.choice([1, 1, 1, 2])):  # sometimes a parameter twice
                pairs.append((key, rng.choice(CANDIDATES[key])))
        answered += _compare(_querydict(pairs))
    assert answered >= 100


def test_what_the_form_decides():
    cases = {
        "hourly_min=50&hourly_max=10": "hourly_max",  # a range the wrong way round
        "fixed_min=5000&fixed_max=50": "fixed_max",
        "budget_type=weekly": "budget_type",
        "hourly_min=-5": "hourly_min",
        "q=" + "x" * 201: "q",
    }
    for query, field in cases.items():
        data = QueryDict(query)
        assert plain_search_data(data) is None
        form = _form(data)
        assert not form.is_valid() and field in form.errors


def test_model_choices_go_through_the_form():
    category = Category.objects.first()
    python = Skill.objects.get(name="Python")
    for query in (f"category={category.pk}", f"skills={python.pk}", "subcategory=999999"):
        assert plain_search_data(QueryDict(query)) is None
    # the search still reads them (with the form) and keeps its errors
    page = selectors.job_search_card_page(params=QueryDict(f"skills={python.pk}&q=django"), viewer=None)
    assert page.cleaned["skills"] and page.plan._filterset is not None
    with pytest.raises(selectors.InvalidSearchError) as error:
        selectors.job_search_card_page(params=QueryDict("subcategory=999999"), viewer=None)
    assert "subcategory" in error.value.extra["fields"]


def test_a_plain_search_builds_no_form_until_asked():
    plan = selectors._plan(QueryDict("q=django&budget_type=hourly&hourly_min=20"), None)
    assert plan._filterset is None
    assert plan.cleaned["hourly_min"] == Decimal("20")
    assert (plan.query, plan.sort) == ("django", "relevance")
    # the filter form, when something needs it (the database's search, rendering the
    # filters), is the same search's
    assert plan.filterset.is_valid()
    assert plan.filterset.form.cleaned_data["budget_type"] == "hourly"
    assert selectors._plan(QueryDict("sort=relevance"), None).sort == "newest"  # no keyword
