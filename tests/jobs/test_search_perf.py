"""The caching of the search page, the search API and the anonymous job page (jobs.cache):
invalidation by the jobs generation, per-viewer parts applied after the cache (saved flags,
CSRF tokens), constant query counts; and the cheap reads behind them (similar jobs, the
description excerpt, the PostgreSQL indexes)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import Truncator

from accounts.models import Skill, Subcategory
from jobs import cache as jobs_cache
from jobs import selectors, services
from jobs.models import Job
from jobs.selectors_posting import similar_jobs
from jobs.views.search import PAGE_TEMPLATE
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import job_input, make_job

pytestmark = pytest.mark.django_db

SEARCH = reverse("jobs:search")
API = reverse("api_jobs_search")
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with nothing cached (the locmem cache outlives a test's database),
    in the shared cache or in the process's copies."""
    cache.clear()
    jobs_cache.local.clear()
    yield
    cache.clear()
    jobs_cache.local.clear()


def text(response) -> str:
    return response.content.decode()


def card_ids(response) -> list[str]:
    return re.findall(r'data-job="([^"]+)"', text(response))


def count_queries(client: Client, url: str, data: dict | None = None, **extra) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data, **extra)
    assert response.status_code == 200
    return response, len(queries)


def search_queries(client: Client, url: str, data: dict | None = None) -> tuple[int, int, int]:
    """(all queries, queries reading jobs or the taxonomy, queries reading saved jobs) of one
    request: the page's own work apart from the session, the user and the navigation's
    badges (which other parts of the site add to)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    searching = [q for q in sql if re.search(r'FROM "(jobs_job|accounts_category|accounts_skill)', q)]
    saved = [q for q in sql if 'FROM "jobs_savedjob"' in q]
    return len(sql), len(searching), len(saved)


def csrf_secrets(body: str) -> set[str]:
    """The CSRF secrets behind every token rendered in ``body`` (tokens are masked anew
    on each rendering; the secret is what identifies the visitor)."""
    tokens = {form or header for form, header in TOKEN_RE.findall(body)}
    return {_unmask_cipher_token(token) for token in tokens}


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


NEUTRAL = "A well-defined piece of work, described in detail on a call with us. " * 2


def django_jobs(count: int, client_user=None) -> list[Job]:
    """Open jobs with "Django" in the title only."""
    client_user = client_user or factories.make_client()
    return [
        make_job(client_user, title=f"Django booking site number {i}", description=NEUTRAL)
        for i in range(count)
    ]


# --- the generation ----------------------------------------------------------------------------


def test_the_generation_starts_from_the_clock_and_each_bump_moves_it():
    first = jobs_cache.generation()
    jobs_cache.bump_generation()

    assert first is not None and first > 10**15  # microseconds since 1970
    assert jobs_cache.generation() == first + 1


def test_a_lost_generation_restarts_above_the_old_one():
    old = jobs_cache.generation()
    cache.delete(jobs_cache.GENERATION_KEY)  # evicted

    jobs_cache.bump_generation()

    assert jobs_cache.generation() > old


def test_services_bump_the_generation_now_and_again_after_commit(
    client_user, django_capture_on_commit_callbacks
):
    job = make_job(client_user, publish=False)
    before = jobs_cache.generation()

    with django_capture_on_commit_callbacks(execute=True):
        services.job_publish(actor=client_user, job_id=job.pk)

    assert jobs_cache.generation() == before + 2


def test_editing_a_draft_leaves_the_cache_alone(client_user):
    draft = make_job(client_user, publish=False)
    before = jobs_cache.generation()

    services.job_update(
        actor=client_user, job_id=draft.pk, data=job_input(title="A better title for the draft")
    )

    assert jobs_cache.generation() == before


def test_entries_of_an_earlier_generation_are_not_served():
    slot = jobs_cache.lookup("test", [("q", "django")])
    slot.set({"html": "old"})
    assert jobs_cache.lookup("test", [("q", "django")]).entry == {"html": "old"}

    jobs_cache.bump_generation()

    assert jobs_cache.lookup("test", [("q", "django")]).entry is None


def test_a_lookup_given_the_requests_generation_reads_nothing_for_an_entry_held_here(monkeypatch):
    slot = jobs_cache.lookup("test", [("q", "django")])
    slot.set({"html": "kept"})
    reads: list[str] = []
    real_read, real_get_many = jobs_cache._read_generation, cache.get_many
    monkeypatch.setattr(jobs_cache, "_read_generation", lambda: reads.append("generation") or real_read())
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append("entry") or real_get_many(keys))

    found = jobs_cache.lookup("test", [("q", "django")], slot.generation)

    assert found.entry == {"html": "kept"} and reads == []  # held in this process, same generation
    # a generation other than the entry's: the shared cache decides (here: still current)
    jobs_cache.local.clear()
    assert jobs_cache.lookup("test", [("q", "django")], slot.generation).entry == {"html": "kept"}
    assert reads == ["entry"]
    jobs_cache.bump_generation()
    assert jobs_cache.lookup("test", [("q", "django")]).entry is None


def test_a_crafted_parameter_cannot_share_another_searchs_key():
    plain = jobs_cache.lookup("test", [("q", "a"), ("sort", "newest")])
    crafted = jobs_cache.lookup("test", [("q", "a\x00sort\x01newest")])
    crafted_amp = jobs_cache.lookup("test", [("q", "a&sort=newest")])
    # the key's own syntax (JSON) written into a value
    crafted_json = jobs_cache.lookup("test", [("q", 'a"], ["sort", "newest')])
    crafted_escape = jobs_cache.lookup("test", [("q", 'a\\"], [\\"sort\\", \\"newest')])
    odd = jobs_cache.lookup("test", [("q", "caf\u00e9 \ud800")])  # not ASCII, a lone surrogate

    keys = {plain.key, crafted.key, crafted_amp.key, crafted_json.key, crafted_escape.key, odd.key}
    assert len(keys) == 6


def test_a_fragment_with_a_csrf_token_is_never_kept():
    slot = jobs_cache.lookup("test", [("q", "x")])

    slot.set({"html": "..."}, html='<input type="hidden" name="csrfmiddlewaretoken" value="abc">')

    assert jobs_cache.lookup("test", [("q", "x")]).entry is None


def test_pages_still_work_when_the_cache_is_down(client, open_job, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unavailable")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)

    assert open_job.public_id in card_ids(client.get(SEARCH))
    assert client.get(API).json()["count"] == 1
    assert client.get(reverse("jobs:detail", args=[open_job.public_id])).status_code == 200


# --- the search page -------------------------------------------------------------------------------


def test_a_repeated_search_is_served_from_the_cache_without_a_query(client):
    django_jobs(3)
    first, misses = count_queries(client, SEARCH, {"q": "django"})

    second, hits = count_queries(client, SEARCH, {"q": "django"})

    assert misses >= 1  # one on PostgreSQL (the rows with their skills), more on SQLite
    assert hits == 0  # an anonymous visitor: no session, no search, no saved flags
    assert card_ids(second) == card_ids(first)
    assert "3</strong> jobs found" in text(second)


def test_the_same_search_in_another_order_shares_the_entry_blanks_and_unknown_keys_ignored(client):
    django_jobs(2)
    client.get(SEARCH, {"q": "django", "budget_type": "fixed"})

    _, hits = count_queries(client, f"{SEARCH}?budget_type=fixed&location=&utm=x&q=django")

    assert hits == 0


def test_a_newly_published_job_appears_at_once(client, client_user):
    django_jobs(2, client_user)
    assert len(card_ids(client.get(SEARCH, {"q": "django"}))) == 2

    new = make_job(client_user, title="Django booking site, the newest")

    assert card_ids(client.get(SEARCH, {"q": "django", "sort": "newest"}))[0] == new.public_id
    assert new.public_id in card_ids(client.get(SEARCH, {"q": "django"}))


def test_a_closed_or_edited_job_changes_the_results_at_once(client, client_user):
    kept, closed = django_jobs(2, client_user)
    assert set(card_ids(client.get(SEARCH, {"q": "django"}))) == {kept.public_id, closed.public_id}

    services.job_close(actor=client_user, job_id=closed.pk, reason=Job.CloseReason.HIRED)
    assert card_ids(client.get(SEARCH, {"q": "django"})) == [kept.public_id]

    services.job_update(
        actor=client_user,
        job_id=kept.pk,
        data=job_input(title="Flask booking site instead", description=NEUTRAL),
    )
    assert card_ids(client.get(SEARCH, {"q": "django"})) == []
    assert "Flask booking site instead" in text(client.get(SEARCH))


def test_the_saved_flag_is_per_viewer_with_a_cached_list(client, freelancer):
    saved, other = django_jobs(2)
    services.job_save(actor=freelancer, job_id=saved.pk)
    someone_else = factories.make_freelancer()
    mine = logged_in(freelancer)
    theirs = logged_in(someone_else)

    first = text(mine.get(SEARCH, {"q": "django"}))  # renders and caches the list
    _, searching, saved_flags = search_queries(theirs, SEARCH, {"q": "django"})
    second = theirs.get(SEARCH, {"q": "django"})
    anonymous = text(client.get(SEARCH, {"q": "django"}))

    def button(body: str, job: Job) -> str:
        card = body[body.index(f'data-job="{job.public_id}"') :]
        return card[: card.index("</article>")]

    assert 'aria-pressed="true"' in button(first, saved)
    assert 'aria-pressed="false"' in button(first, other)
    assert 'aria-pressed="false"' in button(text(second), saved)  # not the first viewer's flag
    assert 'data-testid="save-job"' not in anonymous
    assert "Log in</a> to save jobs and searches." in anonymous
    assert (searching, saved_flags) == (0, 1)  # served from the cache, but the viewer's flags


def test_saving_a_job_shows_on_the_cached_page_at_once(freelancer):
    job = django_jobs(1)[0]
    browser = logged_in(freelancer)
    assert 'aria-pressed="false"' in text(browser.get(SEARCH, {"q": "django"}))

    services.job_save(actor=freelancer, job_id=job.pk)

    assert 'aria-pressed="true"' in text(browser.get(SEARCH, {"q": "django"}))


def test_a_cached_page_never_carries_another_viewers_csrf_token_or_data(freelancer):
    django_jobs(2)
    first_user = factories.make_freelancer(first_name="Zebediah")
    first, second = logged_in(first_user), logged_in(freelancer)
    first_body = text(first.get(SEARCH, {"q": "django"}))
    first_secrets = csrf_secrets(first_body)

    second_body = text(second.get(SEARCH, {"q": "django"}))
    anonymous_body = text(Client().get(SEARCH, {"q": "django"}))

    assert first_secrets and first_secrets.isdisjoint(csrf_secrets(second_body))
    assert first_secrets.isdisjoint(csrf_secrets(anonymous_body))
    assert csrf_secrets(second_body) == {second.cookies["csrftoken"].value}
    assert "Zebediah" in first_body and "Zebediah" not in second_body
    assert 'data-testid="save-search"' in second_body  # its own form, with its own token


def test_the_cached_fragment_itself_holds_no_token_and_no_user(freelancer):
    saved = django_jobs(2)[0]
    services.job_save(actor=freelancer, job_id=saved.pk)
    logged_in(freelancer).get(SEARCH, {"q": "django"})

    entry = jobs_cache.lookup("search-page", [("template", PAGE_TEMPLATE), ("q", "django")]).entry

    assert entry is not None and saved.public_id in entry["html"]
    assert "csrfmiddlewaretoken" not in entry["html"] and "X-CSRFToken" not in entry["html"]
    assert freelancer.display_name not in entry["html"]
    assert 'aria-pressed="true"' not in entry["html"] and "save-job" not in entry["html"]


def test_htmx_parts_are_cached_apart_from_the_full_page(client):
    django_jobs(25)
    full = text(client.get(SEARCH, {"q": "django"}))
    more_url = re.search(r'data-testid="load-more"\s+hx-get="([^"]+)"', full).group(1).replace("&amp;", "&")

    part = client.get(more_url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-more")
    body = text(client.get(SEARCH, {"q": "django"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-page"))

    assert "<html" not in text(part) and len(re.findall(r'data-job="', text(part))) == 5
    assert "<html" not in body and 'id="search-page"' in body
    assert "<html" in text(client.get(SEARCH, {"q": "django"}))


def test_a_bad_search_is_not_cached_and_still_shows_its_errors(client):
    client.get(SEARCH, {"hourly_min": "abc"})

    response = client.get(SEARCH, {"hourly_min": "abc"})

    assert 'data-testid="search-errors"' in text(response)
    assert response.context["page"] is None  # rendered again, not served from the cache


def test_query_counts_do_not_grow_with_the_results(freelancer):
    browser = logged_in(freelancer)
    browser.get(SEARCH, {"q": "warm"})  # the process reads the taxonomy once (see search_form_options)
    counts = []
    for batch in (22, 30):  # a full page and more, then many more
        django_jobs(batch)
        misses = search_queries(browser, SEARCH, {"q": "django"})
        hits = search_queries(browser, SEARCH, {"q": "django"})
        counts.append((misses, hits))

    assert counts[0] == counts[1]
    (miss_all, miss_searching, miss_saved), (hit_all, hit_searching, hit_saved) = counts[1]
    # a miss: the rows (with the viewer's saved flags), their skills (in the same query on
    # PostgreSQL), the count; no filter options (the process keeps the taxonomy); a hit:
    # nothing but the viewer's saved flags
    assert miss_searching <= 3 and miss_saved == 1
    assert (hit_searching, hit_saved) == (0, 1) and hit_all <= miss_all


# --- the API -------------------------------------------------------------------------------------


def test_the_api_caches_the_payload_and_builds_the_next_link_per_request(api_client):
    django_jobs(3)
    first, misses = count_queries(api_client, API, {"q": "django", "page_size": 2})

    second, hits = count_queries(api_client, API, {"q": "django", "page_size": 2}, secure=True)

    assert hits == 0 and misses >= 1
    assert second.json()["results"] == first.json()["results"]
    assert first.json()["next"].startswith("http://testserver/api/v1/jobs/?")
    assert second.json()["next"].startswith("https://testserver/api/v1/jobs/?")
    assert "cursor=" in second.json()["next"]


def test_the_api_shows_a_new_job_at_once_and_keys_the_page_size(api_client, client_user):
    django_jobs(3, client_user)
    assert len(api_client.get(API, {"q": "django", "page_size": 2}).json()["results"]) == 2
    assert len(api_client.get(API, {"q": "django", "page_size": 3}).json()["results"]) == 3

    new = make_job(client_user, title="Django booking site, the newest")

    newest = api_client.get(API, {"q": "django", "sort": "newest", "page_size": 2}).json()
    assert newest["results"][0]["public_id"] == new.public_id
    assert api_client.get(API, {"q": "django"}).json()["count"] == 4


def test_the_api_excerpt_is_cut_like_truncatechars(api_client, client_user):
    long_text = "Booking site work. " * 40
    make_job(client_user, description=long_text)

    item = api_client.get(API).json()["results"][0]

    assert item["description_excerpt"] == Truncator(long_text).chars(240)
    assert len(item["description_excerpt"]) == 240


# --- the job page -------------------------------------------------------------------------------


def without_tokens(body: str) -> str:
    """``body`` with its CSRF tokens blanked (each rendering masks them anew)."""
    return TOKEN_RE.sub("TOKEN", body)


def test_the_anonymous_job_page_is_cached_and_costs_no_query(client, open_job):
    url = reverse("jobs:detail", args=[open_job.public_id])
    first, misses = count_queries(client, url)

    second, hits = count_queries(client, url)

    assert hits == 0 and misses >= 5
    assert without_tokens(text(second)) == without_tokens(text(first))
    assert f'?next=/jobs/{open_job.public_id}/">Log in</a> to save or flag this job.' in text(second)


def test_a_closed_job_page_is_gone_at_once_for_visitors(client, client_user, open_job):
    url = reverse("jobs:detail", args=[open_job.public_id])
    assert client.get(url).status_code == 200

    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.HIRED)

    assert client.get(url).status_code == 404


def test_an_edit_shows_on_the_visitors_job_page_at_once(client, client_user, open_job):
    url = reverse("jobs:detail", args=[open_job.public_id])
    client.get(url)

    services.job_update(
        actor=client_user, job_id=open_job.pk, data=job_input(title="Build a Django booking website")
    )

    assert "Build a Django booking website</h1>" in text(client.get(url))


def test_logged_in_viewers_never_get_the_visitors_page(client, freelancer, open_job):
    url = reverse("jobs:detail", args=[open_job.public_id])
    client.get(url)  # cached for visitors
    browser = logged_in(freelancer)

    body = text(browser.get(url))

    assert 'data-testid="save-job"' in body and "Flag as inappropriate" in body
    assert csrf_secrets(body) == {browser.cookies["csrftoken"].value}
    assert "Log in</a> to save or flag this job." not in body


def test_the_cached_job_page_holds_no_csrf_token(client, open_job):
    client.get(reverse("jobs:detail", args=[open_job.public_id]))

    entry = jobs_cache.lookup("job-page", [("job", open_job.public_id)]).entry

    assert entry is not None and open_job.title in entry["main_html"]
    assert "csrfmiddlewaretoken" not in entry["main_html"] and "X-CSRFToken" not in entry["main_html"]


# --- cheap reads ---------------------------------------------------------------------------------


def test_similar_jobs_specialty_first_then_category_in_one_query(client_user):
    skill = Skill.objects.get(name="Python")
    job = make_job(client_user)
    other_sub = Subcategory.objects.filter(category_id=job.category_id).exclude(pk=job.subcategory_id).first()
    same_cat_new = make_job(
        factories.make_client(), title="Mobile app for our studio", subcategory_id=other_sub.pk, skill_ids=[]
    )
    same_sub = [
        make_job(factories.make_client(), title=f"Another Django site {i}", skill_ids=[skill.pk])
        for i in range(2)
    ]

    with CaptureQueriesContext(connection) as queries:
        similar = similar_jobs(job=job, limit=5)

    assert len(queries) == 1
    assert similar == [same_sub[1], same_sub[0], same_cat_new]


def test_similar_jobs_cut_at_the_limit_from_the_specialty(client_user):
    job = make_job(client_user)
    others = [make_job(factories.make_client(), title=f"Another Django site {i}") for i in range(4)]

    assert similar_jobs(job=job, limit=3) == others[::-1][:3]


@pytest.mark.parametrize(
    "text_", ["short", "x" * 240, "y" * 241, "Booking site work. " * 40, "Grüße aus Köln, " * 30]
)
def test_description_excerpt_is_truncatechars(text_):
    assert selectors.description_excerpt(text_) == Truncator(text_).chars(240)


def test_a_search_page_does_not_load_whole_descriptions(client_user):
    make_job(client_user, description="Booking site work. " * 400)

    page = selectors.job_search_page(params={}, viewer=None)

    job = page.jobs[0]
    assert "description" in job.get_deferred_fields()
    assert job.description_excerpt.endswith("…") and len(job.description_excerpt) == 240  # type: ignore[attr-defined]


@requires_postgres
def test_the_search_and_similar_jobs_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'jobs_job'")
        names = {row[0] for row in cursor.fetchall()}

    assert {
        "job_open_search_filters_gin",
        "job_open_subcategory_newest_idx",
        "job_open_category_newest_idx",
    } <= names
