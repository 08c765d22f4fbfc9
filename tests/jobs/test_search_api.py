"""The jobs search API: GET /api/v1/jobs/ (filters, cursor paging, 400 envelope), saved jobs
and saved searches endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Skill
from jobs import services
from jobs.models import Job, SavedJob, SavedSearch
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

SEARCH_URL = "/api/v1/jobs/"


def titled(client, title: str, **overrides) -> Job:
    return make_job(client, title=title, **overrides)


def test_search_api_paths_are_named():
    assert reverse("api_jobs_search") == SEARCH_URL
    assert reverse("api_jobs_saved") == "/api/v1/jobs/saved/"
    assert reverse("api_jobs_saved_delete", args=["~02ab"]) == "/api/v1/jobs/saved/~02ab/"
    assert reverse("api_jobs_saved_searches") == "/api/v1/jobs/searches/"
    assert reverse("api_jobs_saved_search_delete", args=[7]) == "/api/v1/jobs/searches/7/"


def test_anonymous_search_lists_open_public_jobs(api_client, client_user):
    job = titled(client_user, "Django developer for a booking site")
    titled(client_user, "Draft Django job, not yet published", publish=False)
    titled(client_user, "Private Django job for invited people", visibility=Job.Visibility.INVITE_ONLY)

    response = api_client.get(SEARCH_URL, {"q": "django"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["count_capped"] is False
    assert body["next"] is None
    assert body["match"] == ("exact" if connection.vendor == "postgresql" else "contains")
    assert [item["public_id"] for item in body["results"]] == [job.public_id]
    item = body["results"][0]
    assert item["title"] == "Django developer for a booking site"
    assert item["category"] == job.category.name
    assert item["skills"] == ["Python"]
    assert item["budget_type"] == "fixed"
    assert item["fixed_budget_cents"] == 150_000
    assert item["hourly_min_cents"] is None
    assert item["description_excerpt"].startswith("We need a small booking website")
    assert len(item["description_excerpt"]) <= 240
    assert set(item) == {
        "public_id",
        "title",
        "description_excerpt",
        "category",
        "skills",
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
    }


def test_search_api_filters_with_the_same_filterset(api_client):
    polish = factories.make_client()
    account_services.client_profile_update(actor=polish, country="PL")
    hourly = titled(
        polish,
        "Hourly Django work",
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=2500,
        hourly_max_cents=4000,
        fixed_budget_cents=None,
        experience_level="expert",
    )
    titled(factories.make_client(), "Fixed Django work")

    response = api_client.get(
        SEARCH_URL,
        {
            "budget_type": "hourly",
            "hourly_min": "30",
            "experience_level": ["expert", "entry"],
            "location": "PL",
        },
    )

    assert [item["public_id"] for item in response.json()["results"]] == [hourly.public_id]
    assert response.json()["results"][0]["client_country"] == "PL"


def test_search_api_pages_with_a_cursor(api_client, client_user):
    jobs = [titled(client_user, f"Django job number {i:02}") for i in range(5)]

    first = api_client.get(SEARCH_URL, {"sort": "newest", "page_size": 2}).json()
    seen = [item["public_id"] for item in first["results"]]
    next_url = first["next"]
    while next_url:
        assert parse_qs(urlparse(next_url).query)["sort"] == ["newest"]
        page = api_client.get(next_url).json()
        seen += [item["public_id"] for item in page["results"]]
        assert page["count"] == 5
        next_url = page["next"]

    assert seen == [job.public_id for job in reversed(jobs)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "abc"}, "category"),
        ({"hourly_min": "-5"}, "hourly_min"),
        ({"skills": "x"}, "skills"),
        ({"posted_within": "forever"}, "posted_within"),
        ({"proposals": "lots"}, "proposals"),
    ],
)
def test_search_api_bad_filter_is_a_400_envelope(api_client, params, field):
    response = api_client.get(SEARCH_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_search"
    assert body["message"].startswith(f"{field}: ")
    assert list(body["extra"]["fields"]) == [field]


@pytest.mark.parametrize(
    ("params", "code"), [({"cursor": "garbage"}, "invalid_cursor"), ({"page_size": "0"}, "validation_error")]
)
def test_search_api_bad_paging_is_a_400_envelope(api_client, open_job, params, code):
    response = api_client.get(SEARCH_URL, params)

    assert response.status_code == 400
    assert response.json()["code"] == code


@requires_postgres
def test_search_api_tolerates_typos(api_client, client_user):
    job = titled(client_user, "Django developer for a booking site")

    body = api_client.get(SEARCH_URL, {"q": "Djnago developer"}).json()

    assert [item["public_id"] for item in body["results"]] == [job.public_id]
    assert body["match"] == "similar"


def test_search_api_is_read_only_for_suspended_accounts(api_client, freelancer, staff, open_job):
    account_services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")
    freelancer.refresh_from_db()
    api_client.force_authenticate(freelancer)

    read = api_client.get(SEARCH_URL)
    save = api_client.post("/api/v1/jobs/saved/", {"job": open_job.public_id}, format="json")

    assert read.status_code == 200
    assert save.status_code == 403
    assert save.json()["code"] == "account_suspended"
    assert not freelancer.saved_jobs.exists()


# --- saved jobs --------------------------------------------------------------------------------------


def test_saved_jobs_need_an_account(api_client, open_job):
    assert api_client.get("/api/v1/jobs/saved/").status_code in (401, 403)
    assert api_client.post("/api/v1/jobs/saved/", {"job": open_job.public_id}).status_code in (401, 403)


def test_save_list_and_unsave_a_job(api_client, freelancer, open_job):
    api_client.force_authenticate(freelancer)

    created = api_client.post("/api/v1/jobs/saved/", {"job": open_job.public_id}, format="json")
    again = api_client.post("/api/v1/jobs/saved/", {"job": open_job.public_id}, format="json")
    listed = api_client.get("/api/v1/jobs/saved/")

    assert created.status_code == 201
    assert created.json()["job"]["public_id"] == open_job.public_id
    assert created.json()["is_available"] is True
    assert again.status_code == 201
    assert SavedJob.objects.filter(user=freelancer).count() == 1
    assert [row["job"]["public_id"] for row in listed.json()["results"]] == [open_job.public_id]

    deleted = api_client.delete(f"/api/v1/jobs/saved/{open_job.public_id}/")

    assert deleted.status_code == 204
    assert SavedJob.objects.filter(user=freelancer).count() == 0


def test_saved_closed_job_is_listed_as_unavailable_and_can_be_removed(
    api_client, freelancer, client_user, open_job
):
    services.job_save(actor=freelancer, job_id=open_job.pk)
    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    api_client.force_authenticate(freelancer)

    listed = api_client.get("/api/v1/jobs/saved/").json()["results"]
    deleted = api_client.delete(f"/api/v1/jobs/saved/{open_job.public_id}/")

    assert [(row["job"]["public_id"], row["is_available"]) for row in listed] == [(open_job.public_id, False)]
    assert deleted.status_code == 204


def test_cannot_save_a_draft_or_unknown_job(api_client, freelancer, draft_job):
    api_client.force_authenticate(freelancer)

    for public_id in (draft_job.public_id, "~02doesnotexist"):
        response = api_client.post("/api/v1/jobs/saved/", {"job": public_id}, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert SavedJob.objects.count() == 0


def test_unsave_a_job_never_saved_and_not_visible_is_404(api_client, freelancer, draft_job):
    api_client.force_authenticate(freelancer)

    assert api_client.delete(f"/api/v1/jobs/saved/{draft_job.public_id}/").status_code == 404


# --- saved searches ----------------------------------------------------------------------------------


def test_create_list_and_delete_saved_searches(api_client, freelancer):
    python = Skill.objects.get(name="Python")
    api_client.force_authenticate(freelancer)

    created = api_client.post(
        "/api/v1/jobs/searches/",
        {"name": "Python gigs", "query_string": f"?skills={python.pk}&q=api&cursor=x", "notify": True},
        format="json",
    )
    listed = api_client.get("/api/v1/jobs/searches/")

    assert created.status_code == 201
    assert created.json()["query_string"] == f"q=api&skills={python.pk}"
    assert created.json()["name"] == "Python gigs"
    assert [row["id"] for row in listed.json()["results"]] == [created.json()["id"]]

    deleted = api_client.delete(f"/api/v1/jobs/searches/{created.json()['id']}/")

    assert deleted.status_code == 204
    assert SavedSearch.objects.filter(user=freelancer).count() == 0


def test_saved_search_with_invalid_parameters_is_a_400(api_client, freelancer):
    api_client.force_authenticate(freelancer)

    response = api_client.post(
        "/api/v1/jobs/searches/", {"name": "Bad", "query_string": "hourly_min=-5"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "query_string" in response.json()["extra"]["fields"]
    assert SavedSearch.objects.count() == 0


def test_foreign_user_cannot_delete_a_saved_search(api_client, freelancer):
    search = services.saved_search_create(actor=freelancer, name="Mine", query_string="q=django")
    api_client.force_authenticate(factories.make_freelancer())

    response = api_client.delete(f"/api/v1/jobs/searches/{search.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert SavedSearch.objects.filter(pk=search.pk).exists()


def test_schema_documents_the_search_parameters(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/jobs/"]["get"]
    names = {param["name"] for param in operation["parameters"]}
    assert {
        "q",
        "category",
        "skills",
        "hourly_min",
        "proposals",
        "posted_within",
        "location",
        "sort",
        "cursor",
    } <= names


def test_an_uncached_anonymous_search_reads_its_cache_entry_once(api_client, client_user, monkeypatch):
    """``dispatch`` looks the page up for its fast path; on a miss ``get`` fills that same
    slot instead of reading the cache a second time."""
    from django.core.cache import cache

    titled(client_user, "Django developer for a booking site")
    reads: list[list[str]] = []
    real_get_many = cache.get_many

    def counting(keys, *args, **kwargs):
        reads.append([key for key in keys if "search-api-body" in key])
        return real_get_many(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counting)

    first = api_client.get(SEARCH_URL, {"q": "django"})
    body_reads = [keys for keys in reads if keys]
    again = api_client.get(SEARCH_URL, {"q": "django"})

    assert first.status_code == again.status_code == 200
    assert first.json()["count"] == 1
    assert len(body_reads) == 1
    assert again.json() == first.json()


def test_an_anonymous_miss_is_answered_as_drf_answers_a_signed_in_caller(api_client, client_user, freelancer):
    """A caller without credentials is searched for outside DRF (``JobSearchApi.dispatch``),
    cache miss included; a signed-in caller goes through DRF. Both get the same answer."""
    from jobs import cache as jobs_cache

    for number in range(3):
        titled(client_user, f"Django developer number {number}")
    params = {"q": "django", "page_size": "2"}

    anonymous = api_client.get(SEARCH_URL, params)  # a miss, answered outside DRF
    jobs_cache.bump_generation()  # so that the signed-in caller misses too
    api_client.force_login(freelancer)
    signed_in = api_client.get(SEARCH_URL, params)

    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.content == signed_in.content
    for header in ("Content-Type", "Allow", "Vary"):
        assert anonymous[header] == signed_in[header], header
    assert anonymous.json()["count"] == 3 and len(anonymous.json()["results"]) == 2
    # bad parameters from a caller without credentials still get DRF's envelope
    api_client.logout()
    bad = api_client.get(SEARCH_URL, {"q": "django", "hourly_min": "-5"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_search"
