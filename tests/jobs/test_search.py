"""Job search: visibility, keyword relevance, typo tolerance, every filter, keyset paging,
constant query counts, bad input, and the HTML page (full, htmx partials, empty state)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.http import Http404, QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ClientProfile, Skill
from jobs import selectors, services
from jobs.filters import JobFilter, active_filters, normalize_query_string
from jobs.models import Job
from marketplace.errors import ApplicationError
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import make_job, plain_job

pytestmark = pytest.mark.django_db


def search_ids(**params) -> list[int]:
    page = selectors.job_search_page(params=params, viewer=None, page_size=50)
    return [job.pk for job in page.jobs]


# --- visibility ------------------------------------------------------------------------------------


def test_open_public_job_is_visible_to_everyone(open_job, freelancer):
    assert selectors.job_get_for_viewer(public_id=open_job.public_id, viewer=None).pk == open_job.pk
    assert selectors.job_get_for_viewer(public_id=open_job.public_id, viewer=freelancer).pk == open_job.pk


def test_draft_job_is_visible_only_to_its_owner_and_staff(draft_job, client_user, freelancer, staff):
    assert selectors.job_get_for_viewer(public_id=draft_job.public_id, viewer=client_user).pk == draft_job.pk
    assert selectors.job_get_for_viewer(public_id=draft_job.public_id, viewer=staff).pk == draft_job.pk
    for viewer in (None, freelancer, factories.make_client()):
        with pytest.raises(Http404):
            selectors.job_get_for_viewer(public_id=draft_job.public_id, viewer=viewer)


def test_invite_only_job_is_visible_to_invited_freelancers_only(client_user, published_freelancer):
    job = make_job(client_user, visibility=Job.Visibility.INVITE_ONLY)
    stranger = factories.make_published_freelancer()
    with pytest.raises(Http404):
        selectors.job_get_for_viewer(public_id=job.public_id, viewer=published_freelancer)

    services.invitation_send(
        actor=client_user, job_id=job.pk, freelancer_id=published_freelancer.pk, message="Please apply."
    )

    assert selectors.job_get_for_viewer(public_id=job.public_id, viewer=published_freelancer).pk == job.pk
    with pytest.raises(Http404):
        selectors.job_get_for_viewer(public_id=job.public_id, viewer=stranger)
    with pytest.raises(Http404):
        selectors.job_get_for_viewer(public_id=job.public_id, viewer=None)


def test_closed_job_is_hidden_from_others(open_job, client_user, freelancer):
    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    assert selectors.job_get_for_viewer(public_id=open_job.public_id, viewer=client_user).pk == open_job.pk
    with pytest.raises(Http404):
        selectors.job_get_for_viewer(public_id=open_job.public_id, viewer=freelancer)


def test_unknown_job_is_404():
    with pytest.raises(Http404):
        selectors.job_get_for_viewer(public_id="~02nope", viewer=None)


def test_search_lists_only_open_public_jobs(client_user, published_freelancer):
    open_job = make_job(client_user)
    make_job(client_user, publish=False)
    invite_only = make_job(client_user, visibility=Job.Visibility.INVITE_ONLY)
    services.invitation_send(
        actor=client_user, job_id=invite_only.pk, freelancer_id=published_freelancer.pk, message="Hi"
    )
    closed = make_job(client_user)
    services.job_close(actor=client_user, job_id=closed.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    assert search_ids() == [open_job.pk]
    page = selectors.job_search_page(params={}, viewer=published_freelancer)
    assert [job.pk for job in page.jobs] == [open_job.pk]
    page = selectors.job_search_page(params={}, viewer=client_user)
    assert [job.pk for job in page.jobs] == [open_job.pk]


# --- keyword -----------------------------------------------------------------------------------------


def test_title_match_outranks_description_only_match(client_user):
    in_description = plain_job(
        client_user,
        title="Backend work for our booking platform",
        description="The stack is Django on PostgreSQL; we need Django skills for the backend. " * 2,
    )
    in_title = plain_job(client_user, title="Django expert for a booking platform")
    plain_job(client_user)

    assert search_ids(q="django") == [in_title.pk, in_description.pk]
    # newest first on request, the same matches
    assert search_ids(q="django", sort="newest") == [in_title.pk, in_description.pk]


def test_keyword_matches_skills(client_user):
    tagged = plain_job(client_user, skill_ids=[Skill.objects.get(name="Python").pk])
    plain_job(client_user)

    assert search_ids(q="python") == [tagged.pk]


def test_every_word_must_match(client_user):
    both = plain_job(client_user, title="Django and React developer for a dashboard")
    plain_job(client_user, title="React developer for a mobile shop")

    assert search_ids(q="django react") == [both.pk]


def test_keyword_without_matches_is_empty(client_user):
    plain_job(client_user)

    page = selectors.job_search_page(params={"q": "blockchain"}, viewer=None)

    assert page.jobs == []
    assert page.count == 0


@requires_postgres
def test_misspelt_keyword_finds_similar_jobs(client_user):
    django_job = plain_job(client_user, title="Django developer for a booking site")
    plain_job(client_user, title="Logo design for a bakery")

    page = selectors.job_search_page(params={"q": "Djnago developer"}, viewer=None)

    assert [job.pk for job in page.jobs] == [django_job.pk]
    assert page.is_similar is True
    assert selectors.job_search(params={"q": "Djnago developer"}, viewer=None).count() == 1


@requires_postgres
def test_misspelt_single_word_finds_jobs_with_the_skill(client_user):
    python_job = plain_job(client_user, skill_ids=[Skill.objects.get(name="Python").pk])
    plain_job(client_user)

    assert search_ids(q="pyhton") == [python_job.pk]


@requires_postgres
def test_title_trigram_is_the_last_resort(client_user):
    job = plain_job(client_user, title="Shopify storefront redesign for a tea brand")

    page = selectors.job_search_page(params={"q": "storefrnt redesing"}, viewer=None)

    assert [j.pk for j in page.jobs] == [job.pk]
    assert page.step == selectors.MatchStep.FUZZY


@requires_postgres
def test_exact_matches_win_over_typo_tolerance(client_user):
    exact = plain_job(client_user, title="Django developer for a booking site")

    page = selectors.job_search_page(params={"q": "django"}, viewer=None)

    assert [job.pk for job in page.jobs] == [exact.pk]
    assert page.step == selectors.MatchStep.EXACT
    assert page.is_similar is False


# --- filters -------------------------------------------------------------------------------------------


def test_filter_category_subcategory_and_skills(client_user):
    python = Skill.objects.get(name="Python")
    copy_job = plain_job(client_user)
    python_job = plain_job(
        client_user,
        skill_ids=[python.pk],
        category_id=python.subcategory.category_id,
        subcategory_id=python.subcategory_id,
    )

    assert search_ids(category=str(python.subcategory.category_id)) == [python_job.pk]
    assert search_ids(subcategory=str(copy_job.subcategory_id)) == [copy_job.pk]
    assert search_ids(skills=[str(python.pk)]) == [python_job.pk]
    both = [str(python.pk), str(Skill.objects.get(name="Copywriting").pk)]
    assert search_ids(skills=both) == [python_job.pk, copy_job.pk]


def test_filter_job_type_and_hourly_range_overlap(client_user):
    fixed = plain_job(client_user, fixed_budget_cents=50_000)
    hourly = plain_job(
        client_user,
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=3000,
        hourly_max_cents=6000,
        fixed_budget_cents=None,
    )

    assert search_ids(budget_type="hourly") == [hourly.pk]
    assert search_ids(budget_type="fixed") == [fixed.pk]
    # the job's $30-$60 overlaps $50-$80 and $10-$30, not $61+ or up to $29
    assert search_ids(hourly_min="50", hourly_max="80") == [hourly.pk]
    assert search_ids(hourly_min="10", hourly_max="30") == [hourly.pk]
    assert search_ids(hourly_min="61") == []
    assert search_ids(hourly_max="29.99") == []


def test_filter_fixed_budget_range(client_user):
    small = plain_job(client_user, fixed_budget_cents=20_000)
    large = plain_job(client_user, fixed_budget_cents=500_000)

    assert search_ids(fixed_min="1000") == [large.pk]
    assert search_ids(fixed_max="200") == [small.pk]
    assert search_ids(fixed_min="100", fixed_max="10000") == [large.pk, small.pk]


def test_filter_experience_level_and_duration_take_several_values(client_user):
    entry = plain_job(client_user, experience_level="entry", duration=Job.Duration.LESS_THAN_1_MONTH)
    expert = plain_job(client_user, experience_level="expert", duration=Job.Duration.MORE_THAN_6)
    plain_job(client_user, experience_level="intermediate", duration=Job.Duration.ONE_TO_THREE)

    assert search_ids(experience_level=["entry", "expert"]) == [expert.pk, entry.pk]
    assert search_ids(duration=["gt6"]) == [expert.pk]
    assert search_ids(duration=["lt1", "gt6"], experience_level=["entry"]) == [entry.pk]


def test_filter_client_history():
    verified_client = factories.make_client()
    rated_client = factories.make_client()
    verified = plain_job(verified_client)
    rated = plain_job(rated_client)
    plain_job()
    ClientProfile.objects.filter(user=verified_client).update(payment_method_verified=True)
    ClientProfile.objects.filter(user=rated_client).update(hires_count=3, rating_avg=Decimal("4.60"))

    assert search_ids(payment_verified="true") == [verified.pk]
    assert len(search_ids(payment_verified="false")) == 3
    assert search_ids(has_hires="true") == [rated.pk]
    assert search_ids(client_rating_min="4.5") == [rated.pk]
    assert search_ids(client_rating_min="4.7") == []


def test_filter_number_of_proposals_buckets(client_user):
    jobs = {count: plain_job(client_user) for count in (0, 7, 16, 60)}
    for count, job in jobs.items():
        Job.objects.filter(pk=job.pk).update(proposals_count=count)

    assert search_ids(proposals=["0-4"]) == [jobs[0].pk]
    assert search_ids(proposals=["5-9", "15-19"]) == [jobs[16].pk, jobs[7].pk]
    assert search_ids(proposals=["50+"]) == [jobs[60].pk]
    assert search_ids(proposals=["10-14", "20-49"]) == []


def test_filter_posted_within(client_user):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=5)):
        old = plain_job(client_user)
    with time_machine.travel(now - timedelta(hours=30)):
        yesterday = plain_job(client_user)
    fresh = plain_job(client_user)

    assert search_ids(posted_within="24h") == [fresh.pk]
    assert search_ids(posted_within="3d") == [fresh.pk, yesterday.pk]
    assert search_ids(posted_within="7d") == [fresh.pk, yesterday.pk, old.pk]


def test_filter_location_is_the_clients_country():
    polish = factories.make_client()
    account_services.client_profile_update(actor=polish, country="PL")
    in_poland = plain_job(polish)
    plain_job()

    assert search_ids(location=["PL"]) == [in_poland.pk]
    assert search_ids(location=["PL", "DE"]) == [in_poland.pk]
    assert search_ids(location=["DE"]) == []


def test_filters_combine_with_keyword(client_user):
    hourly = plain_job(
        client_user,
        title="Django developer, hourly",
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=4000,
        hourly_max_cents=5000,
        fixed_budget_cents=None,
    )
    plain_job(client_user, title="Django developer, fixed price")

    assert search_ids(q="django", budget_type="hourly") == [hourly.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "abc"}, "category"),
        ({"category": "999999"}, "category"),
        ({"skills": ["x"]}, "skills"),
        ({"skills": [str(pk) for pk in range(1, 30)]}, "skills"),
        ({"hourly_min": "-5"}, "hourly_min"),
        ({"hourly_min": "ten"}, "hourly_min"),
        ({"hourly_min": "50", "hourly_max": "20"}, "hourly_max"),
        ({"fixed_max": "99999999999"}, "fixed_max"),
        ({"experience_level": ["guru"]}, "experience_level"),
        ({"proposals": ["3-7"]}, "proposals"),
        ({"posted_within": "1y"}, "posted_within"),
        ({"location": ["XX"]}, "location"),
        ({"client_rating_min": "9"}, "client_rating_min"),
        ({"sort": "cheapest"}, "sort"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filter_input_is_a_clear_error(params, field):
    with pytest.raises(selectors.InvalidSearchError) as caught:
        selectors.job_search_page(params=params, viewer=None)

    assert caught.value.code == "invalid_search"
    assert caught.value.status_code == 400
    assert list(caught.value.extra["fields"]) == [field]


def test_damaged_cursor_is_a_clear_error(open_job):
    for cursor in ("garbage", "eyJzIjoibm9uZSJ9", "e30"):
        with pytest.raises(ApplicationError) as caught:
            selectors.job_search_page(params={}, viewer=None, cursor=cursor)
        assert caught.value.code == "invalid_cursor"


# --- paging and query counts -------------------------------------------------------------------------


def _walk(params: dict, page_size: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        page = selectors.job_search_page(params=params, viewer=None, cursor=cursor, page_size=page_size)
        seen += [job.pk for job in page.jobs]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def test_paging_has_no_duplicates_or_gaps_even_with_equal_publish_times(client_user):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        same_time = [plain_job(client_user, title=f"Django job number {i:02}").pk for i in range(12)]
    newer = [plain_job(client_user, title=f"Django task {i}").pk for i in range(3)]

    newest = _walk({}, page_size=5)
    assert newest == sorted(newer, reverse=True) + sorted(same_time, reverse=True)

    by_relevance = _walk({"q": "django"}, page_size=4)
    assert sorted(by_relevance) == sorted(same_time + newer)
    assert len(by_relevance) == len(set(by_relevance))
    assert by_relevance == [job.pk for job in selectors.job_search(params={"q": "django"}, viewer=None)]


def test_first_page_counts_results(client_user):
    for i in range(7):
        plain_job(client_user, title=f"Django job number {i}")

    page = selectors.job_search_page(params={"q": "django"}, viewer=None, page_size=5)
    second = selectors.job_search_page(
        params={"q": "django"}, viewer=None, page_size=5, cursor=page.next_cursor
    )

    assert (page.count, page.count_capped, len(page.jobs), page.has_next) == (7, False, 5, True)
    assert (second.count, len(second.jobs), second.has_next) == (7, 2, False)


def test_cursor_of_another_order_is_refused(client_user):
    for i in range(3):
        plain_job(client_user, title=f"Django job number {i}")
    page = selectors.job_search_page(params={"q": "django"}, viewer=None, page_size=1)

    with pytest.raises(ApplicationError) as caught:
        selectors.job_search_page(
            params={"q": "django", "sort": "newest"}, viewer=None, cursor=page.next_cursor
        )

    assert caught.value.code == "invalid_cursor"


@pytest.mark.parametrize("params", [{}, {"q": "django"}, {"q": "django", "sort": "newest"}])
def test_queries_per_page_do_not_grow_with_page_size(client_user, freelancer, params):
    python = Skill.objects.get(name="Python")
    for i in range(22):
        plain_job(client_user, title=f"Django job number {i}", skill_ids=[python.pk])

    counts = []
    for size in (5, 20):
        with CaptureQueriesContext(connection) as queries:
            page = selectors.job_search_page(params=params, viewer=freelancer, page_size=size)
            for job in page.jobs:
                [skill.name for skill in job.skills.all()]
                _ = (job.category.name, job.is_saved)  # type: ignore[attr-defined]
        counts.append(len(queries))
        assert len(page.jobs) == size

    assert counts[0] == counts[1]
    assert counts[1] <= 4


def test_saved_flag_is_per_viewer(client_user, freelancer):
    saved = plain_job(client_user)
    other = plain_job(client_user)
    services.job_save(actor=freelancer, job_id=saved.pk)

    flags = {job.pk: job.is_saved for job in selectors.job_search_page(params={}, viewer=freelancer).jobs}
    anonymous = {job.pk: job.is_saved for job in selectors.job_search_page(params={}, viewer=None).jobs}

    assert flags == {saved.pk: True, other.pk: False}
    assert anonymous == {saved.pk: None, other.pk: None}


# --- filter helpers ------------------------------------------------------------------------------------


def test_query_string_is_normalised_for_saving():
    python = Skill.objects.get(name="Python")

    assert normalize_query_string(f"?sort=&q=  django   dev &skills={python.pk}&cursor=abc&x=1") == (
        f"q=django+dev&skills={python.pk}"
    )
    assert normalize_query_string("") == ""
    with pytest.raises(Exception, match="cannot be saved"):
        normalize_query_string("hourly_min=-5")


def test_active_filters_offer_removal_links():
    python = Skill.objects.get(name="Python")
    filterset = JobFilter(
        data=QueryDict(f"q=django&skills={python.pk}&budget_type=hourly&sort=newest"),
        queryset=Job.objects.none(),
    )

    assert filterset.is_valid()

    chips = active_filters(filterset.form.cleaned_data, filterset.data)

    assert chips == [
        {"label": "“django”", "query": f"budget_type=hourly&skills={python.pk}&sort=newest"},
        {"label": "Job type: Hourly rate", "query": f"q=django&skills={python.pk}&sort=newest"},
        {"label": "Skill: Python", "query": "budget_type=hourly&q=django&sort=newest"},
    ]


# --- the HTML page -----------------------------------------------------------------------------------


def test_search_page_lists_jobs_with_count_and_save_buttons(client, client_user, freelancer):
    saved = plain_job(client_user, title="Django developer for a booking site")
    plain_job(client_user, title="Django work on an API")
    services.job_save(actor=freelancer, job_id=saved.pk)
    client.force_login(freelancer)

    response = client.get(reverse("jobs:search"), {"q": "django"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>2</strong> jobs found for “django”" in html
    assert html.count('data-testid="save-job"') == 2
    assert html.count('aria-pressed="true"') == 1
    assert reverse("jobs:unsave", args=[saved.public_id]) in html
    assert 'data-testid="save-search"' in html
    assert 'name="query_string" value="q=django"' in html
    assert "style=" not in html
    assert "<script>" not in html


def test_search_page_for_anonymous_visitors_has_no_save_buttons(client, open_job):
    response = client.get(reverse("jobs:search"))

    html = response.content.decode()
    assert response.status_code == 200
    assert open_job.title in html
    assert 'data-testid="save-job"' not in html
    assert "to save jobs and searches" in html


def test_search_page_bad_filters_show_form_errors_not_500(client, open_job):
    response = client.get(reverse("jobs:search"), {"category": "abc", "hourly_min": "-5"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="search-errors"' in html
    assert "Ensure this value is greater than or equal to 0." in html
    assert "Select a valid choice." in html


def test_search_page_empty_state_suggests_removing_filters(client, open_job):
    response = client.get(reverse("jobs:search"), {"q": "blockchain", "budget_type": "hourly"})

    html = response.content.decode()
    assert 'data-testid="empty-results"' in html
    assert "No jobs match your search" in html
    assert f'href="{reverse("jobs:search")}?q=blockchain"' in html  # remove the job type
    assert "Remove Job type: Hourly rate" in html


def test_search_page_load_more_and_htmx_partials(client, client_user):
    for i in range(23):
        plain_job(client_user, title=f"Django job number {i:02}")
    url = reverse("jobs:search")

    first = client.get(url, {"q": "django"}).content.decode()
    found = re.search(r'data-testid="load-more"\s+hx-get="[^"]*cursor=([^"&]+)"', first)
    assert found is not None and first.count("job-card") == 20
    cursor = found.group(1)
    assert f"{url}?q=django&amp;cursor={cursor}" in first

    partial = client.get(url, {"q": "django"}, headers={"HX-Request": "true", "HX-Target": "search-page"})
    assert 'id="search-page"' in partial.content.decode()
    assert "<html" not in partial.content.decode()

    more = client.get(
        url, {"q": "django", "cursor": cursor}, headers={"HX-Request": "true", "HX-Target": "search-more"}
    )
    html = more.content.decode()
    assert html.count("job-card") == 3
    assert 'id="search-page"' not in html
    assert "You have reached the end of the results." in html

    second_page = client.get(url, {"q": "django", "cursor": cursor})
    assert "Back to the first results" in second_page.content.decode()


def test_search_page_with_outdated_cursor_starts_again(client, open_job):
    response = client.get(reverse("jobs:search"), {"q": "django", "cursor": "garbage"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('jobs:search')}?q=django"


def test_search_page_queries_are_constant(client, client_user, freelancer):
    python = Skill.objects.get(name="Python")
    for i in range(25):
        plain_job(
            client_user,
            title=f"Django job number {i}",
            skill_ids=[python.pk],
            category_id=python.subcategory.category_id,
            subcategory_id=python.subcategory_id,
        )
    client.force_login(freelancer)
    params = {"q": "django", "category": str(python.subcategory.category_id), "skills": [str(python.pk)]}

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("jobs:search"), params)

    assert response.status_code == 200
    assert response.content.decode().count('class="card mb-3 shadow-sm job-card"') == 20
    assert len(queries) <= 13  # 12 + the nav's Connects balance for freelancers
