"""Whole responses cached for visitors without a session (jobs.views.search._generic_page),
the API's cached JSON bytes, the filter form cached apart from the keyword, the process's
own copies of cache entries (jobs.cache.local) and of the taxonomy: never one visitor's
token or data in another's page, fresh after every job write, constant query counts."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from jobs import cache as jobs_cache
from jobs import selectors, services
from jobs.models import Job
from jobs.views.search import PAGE_TEMPLATE, _csrf_placeholder, _q_placeholder
from tests import factories
from tests.conftest import requires_redis
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

SEARCH = reverse("jobs:search")
API = reverse("api_jobs_search")
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    jobs_cache.local.clear()
    selectors._taxonomy_copy = None
    yield
    cache.clear()
    jobs_cache.local.clear()


def text(response) -> str:
    return response.content.decode()


def tokens(body: str) -> list[str]:
    return [form or header for form, header in TOKEN_RE.findall(body)]


def get(client: Client, url: str, data: dict | None = None, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data, **extra)
    return response, len(queries)


def generic_entry(url: str, *, full: bool = True, template: str = PAGE_TEMPLATE) -> str | None:
    """The cached generic page of ``url``, with the placeholder where the token goes."""
    parts = [("template", template), ("full", "1" if full else ""), ("url", url)]
    entry = jobs_cache.lookup("search-generic", parts).entry
    if entry is None:
        return None
    return _csrf_placeholder(settings.SECRET_KEY).encode().join(entry).decode()


def django_jobs(count: int) -> list[Job]:
    client_user = factories.make_client()
    return [make_job(client_user, title=f"Django booking site number {i}") for i in range(count)]


# --- the generic page --------------------------------------------------------------------------


def test_visitors_without_a_session_share_one_cached_page_each_with_their_own_token():
    django_jobs(3)
    first, second = Client(), Client()

    one, misses = get(first, SEARCH, {"q": "django"})
    two, hits = get(second, SEARCH, {"q": "django"})

    assert misses > 0 and hits == 0
    assert TOKEN_RE.sub("T", text(one)) == TOKEN_RE.sub("T", text(two))
    for browser, response in ((first, one), (second, two)):
        (token,) = tokens(text(response))
        assert _unmask_cipher_token(token) == browser.cookies["csrftoken"].value
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert "Cookie" in two["Vary"]


def test_a_visitor_keeps_their_csrf_cookie_on_a_cached_page():
    django_jobs(1)
    Client().get(SEARCH)  # cached
    browser = Client()
    browser.get("/jobs/search/?sort=newest")  # sets this visitor's cookie
    secret = browser.cookies["csrftoken"].value

    (token,) = tokens(text(browser.get(SEARCH)))

    assert _unmask_cipher_token(token) == secret


def test_a_search_asked_once_keeps_its_results_and_the_second_request_the_whole_page():
    django_jobs(2)

    first, misses = get(Client(), SEARCH, {"q": "django"})
    assert generic_entry("/jobs/search/?q=django") is None  # the long tail: not packed twice
    second, hits = get(Client(), SEARCH, {"q": "django"})  # from the results, kept whole now
    stored = generic_entry("/jobs/search/?q=django")
    third, _ = get(Client(), SEARCH, {"q": "django"})  # the whole page

    assert misses > 0 and hits == 0
    assert stored is not None
    assert TOKEN_RE.sub("T", text(first)) == TOKEN_RE.sub("T", text(second)) == TOKEN_RE.sub("T", text(third))
    assert TOKEN_RE.sub("T", stored) == TOKEN_RE.sub("T", text(third))


def cache_generic(url: str, data: dict) -> None:
    """Ask twice as a visitor without a session: the second request keeps the whole page."""
    for _ in range(2):
        Client().get(url, data)


def test_the_cached_page_holds_the_placeholder_and_no_token():
    django_jobs(1)
    cache_generic(SEARCH, {"q": "django"})

    entry = generic_entry("/jobs/search/?q=django")

    marker = _csrf_placeholder(settings.SECRET_KEY)
    assert entry is not None and "<html" in entry
    assert tokens(entry) == [marker]
    assert jobs_cache.csrf_free(entry, marker) and not jobs_cache.csrf_free(entry)


def test_a_slot_refuses_a_page_with_a_real_token():
    slot = jobs_cache.lookup("test", [("url", "/x")])
    page = '<body hx-headers=\'{"X-CSRFToken": "AbC123realtoken"}\'>'

    slot.set(page, html=page, csrf_placeholder="placeholder")
    slot.set(page + '<input name="csrfmiddlewaretoken" value="placeholder">', html=page, csrf_placeholder="p")

    assert jobs_cache.lookup("test", [("url", "/x")]).entry is None


def test_logged_in_viewers_never_get_the_generic_page(freelancer):
    django_jobs(2)
    cache_generic(SEARCH, {"q": "django"})
    browser = Client()
    browser.force_login(freelancer)

    body = text(browser.get(SEARCH, {"q": "django"}))

    assert freelancer.display_name in body and 'data-testid="save-job"' in body
    assert {_unmask_cipher_token(t) for t in tokens(body)} == {browser.cookies["csrftoken"].value}
    assert freelancer.display_name not in generic_entry("/jobs/search/?q=django")


def test_a_logged_in_page_never_becomes_the_generic_page(freelancer):
    django_jobs(2)
    browser = Client()
    browser.force_login(freelancer)
    browser.get(SEARCH, {"q": "django"})

    anonymous = text(Client().get(SEARCH, {"q": "django"}))

    assert generic_entry("/jobs/search/?q=django") is not None
    assert freelancer.display_name not in anonymous and 'data-testid="save-job"' not in anonymous


def test_a_visitor_with_a_pending_message_gets_it_not_the_cached_page():
    django_jobs(1)
    cache_generic(SEARCH, {"q": "django"})
    browser = Client()

    response = browser.get(SEARCH, {"q": "django", "cursor": "garbage"}, follow=True)

    assert "This page of results is out of date" in text(response)
    assert "This page of results is out of date" not in generic_entry("/jobs/search/?q=django")


def test_a_published_or_closed_job_changes_the_generic_page_at_once(client_user):
    kept = make_job(client_user, title="Django booking site")
    assert kept.public_id in text(Client().get(SEARCH, {"q": "django"}))

    new = make_job(client_user, title="Django booking site, the newest")
    assert new.public_id in text(Client().get(SEARCH, {"q": "django"}))

    services.job_close(actor=client_user, job_id=new.pk, reason=Job.CloseReason.HIRED)
    assert new.public_id not in text(Client().get(SEARCH, {"q": "django"}))


def test_the_generic_page_is_keyed_by_the_exact_url_and_shares_the_results():
    django_jobs(2)
    Client().get(SEARCH, {"q": "django"})

    other, queries = get(Client(), "/jobs/search/?q=django&utm_source=mail")

    assert queries == 0  # the results (filters and cards) came from the cache
    assert "next=/jobs/search/%3Fq%3Ddjango%26utm_source%3Dmail" in text(other)
    assert generic_entry("/jobs/search/?q=django&utm_source=mail") is not None


def test_htmx_parts_for_visitors_are_cached_apart_from_the_page():
    django_jobs(25)
    full = text(Client().get(SEARCH, {"q": "django"}))
    more = re.search(r'data-testid="load-more"\s+hx-get="([^"]+)"', full).group(1).replace("&amp;", "&")

    part, misses = get(Client(), more, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-more")
    again, hits = get(Client(), more, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-more")

    assert "<html" not in text(part) and text(part) == text(again)
    assert len(re.findall(r'data-job="', text(part))) == 5
    assert misses > 0 and hits == 0
    assert "<html" in text(Client().get(SEARCH, {"q": "django"}))


def test_an_invalid_search_is_never_cached_for_visitors():
    Client().get(SEARCH, {"hourly_min": "abc"})

    response = Client().get(SEARCH, {"hourly_min": "abc"})

    assert 'data-testid="search-errors"' in text(response)
    assert response.context["page"] is None
    assert generic_entry("/jobs/search/?hourly_min=abc") is None


# --- the filter form ----------------------------------------------------------------------------


def test_the_filter_form_is_cached_apart_from_the_keyword_which_stays_escaped():
    django_jobs(1)
    Client().get(SEARCH, {"q": "django", "budget_type": "fixed"})

    body = text(Client().get(SEARCH, {"q": '"><script>x</script>', "budget_type": "fixed"}))

    form = jobs_cache.lookup("search-filters", [("budget_type", "fixed")]).entry
    assert form is not None and _q_placeholder(settings.SECRET_KEY) in form
    assert _q_placeholder(settings.SECRET_KEY) not in body
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in body and "<script>x" not in body
    assert 'value="fixed" id="id_budget_type_fixed" checked' in body


def test_filter_options_come_from_the_process_copy_of_the_taxonomy(client_user):
    make_job(client_user)
    category = Job.objects.get().category_id
    Client().get(SEARCH, {"category": category, "q": "one"})

    with CaptureQueriesContext(connection) as queries:
        body = text(Client().get(SEARCH, {"category": category, "q": "two", "sort": "newest"}))

    taxonomy = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_subcategory"' in q["sql"]]
    assert taxonomy == []
    assert 'name="subcategory"' in body and "<option value" in body


# --- the API's cached bytes ------------------------------------------------------------------


def test_the_api_serves_cached_bytes_equal_to_a_fresh_answer(api_client):
    django_jobs(3)
    fresh, misses = get(api_client, API, {"q": "django", "page_size": 2})
    cached, hits = get(api_client, API, {"q": "django", "page_size": 2})

    assert misses > 0 and hits == 0
    assert fresh.content == cached.content
    assert fresh["Content-Type"] == "application/json"
    data = json.loads(cached.content)
    assert list(data) == ["next", "count", "count_capped", "match", "results"]
    assert data["count"] == 3 and len(data["results"]) == 2 and "cursor=" in data["next"]


def test_the_api_answers_other_renderers_with_the_same_data(api_client):
    django_jobs(2)
    plain = api_client.get(API, {"q": "django"}).json()

    indented = api_client.get(API, {"q": "django"}, HTTP_ACCEPT="application/json; indent=2")
    browsable = api_client.get(API, {"q": "django"}, HTTP_ACCEPT="text/html")

    assert indented.content.startswith(b'{\n  "next"') and json.loads(indented.content) == plain
    assert browsable.status_code == 200 and b"<html" in browsable.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"cursor": "x" * 501}, "cursor"),
    ],
)
def test_the_api_rejects_bad_paging_with_the_envelope(api_client, params, field):
    response = api_client.get(API, params)

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_the_api_reads_paging_values_the_serializer_accepts(api_client):
    django_jobs(3)

    assert len(api_client.get(API, {"page_size": " 2 "}).json()["results"]) == 2
    assert len(api_client.get(API, {"page_size": "2.0"}).json()["results"]) == 2
    assert len(api_client.get(API, {"page_size": ""}).json()["results"]) == 3


# --- the process's copies -----------------------------------------------------------------------


def test_local_copies_follow_the_generation_and_expire(monkeypatch):
    slot = jobs_cache.lookup("test", [("q", "a")])
    slot.set({"html": "one"})
    cache.delete(slot.key)  # only the process's copy is left

    assert jobs_cache.lookup("test", [("q", "a")]).entry == {"html": "one"}

    now = jobs_cache.time.time()
    monkeypatch.setattr(jobs_cache.time, "time", lambda: now + jobs_cache.TTL_SECONDS + 1)
    assert jobs_cache.lookup("test", [("q", "a")]).entry is None

    monkeypatch.undo()
    jobs_cache.lookup("test", [("q", "a")]).set({"html": "two"})
    jobs_cache.bump_generation()
    assert jobs_cache.lookup("test", [("q", "a")]).entry is None


# --- kept from the second request -----------------------------------------------------------------


def test_a_slot_kept_from_the_second_time_keeps_only_a_mark_the_first_time():
    slot = jobs_cache.lookup("test", [("q", "a")])
    assert not slot.seen
    slot.set({"html": "one"}, from_second=True)
    generation, packed, _ = cache.get(slot.key)
    assert (generation, packed) == (slot.generation, None)  # a mark, not the entry
    assert jobs_cache.lookup("test", [("q", "a")]).entry == {"html": "one"}  # this process keeps it

    jobs_cache.local.clear()  # as another process sees it
    again = jobs_cache.lookup("test", [("q", "a")])
    assert again.entry is None and again.seen
    again.set({"html": "two"}, from_second=True)

    jobs_cache.local.clear()
    third = jobs_cache.lookup("test", [("q", "a")])
    assert third.entry == {"html": "two"} and third.seen

    jobs_cache.bump_generation()  # marks count only under their generation, as entries do
    assert not jobs_cache.lookup("test", [("q", "a")]).seen


def test_lookup_many_reads_once_and_unpacks_only_what_is_asked_for(monkeypatch):
    jobs_cache.lookup("test", [("q", "a")]).set({"html": "a"})
    jobs_cache.lookup("test", [("q", "b")]).set({"html": "b"})
    jobs_cache.local.clear()
    reads: list[list[str]] = []
    real_get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or real_get_many(keys))

    a, b, c = jobs_cache.lookup_many([("test", [("q", "a")]), ("test", [("q", "b")]), ("test", [("q", "c")])])

    assert len(reads) == 1 and len(reads[0]) == 4  # the generation and three slots
    assert a.entry == {"html": "a"} and c.entry is None and not c.seen
    assert a.key in jobs_cache.local and b.key not in jobs_cache.local  # b not unpacked
    assert b.seen and b.entry == {"html": "b"} and b.key in jobs_cache.local


def test_lookup_many_serves_what_this_process_holds_and_reads_the_rest(monkeypatch):
    jobs_cache.lookup("test", [("q", "a")]).set({"html": "a"})
    held = jobs_cache.lookup("test", [("q", "b")])
    held.set({"html": "b"})
    cache.delete(held.key)  # only this process's copy is left
    jobs_cache.local.forget(jobs_cache.cache_key("test", [("q", "a")]))

    a, b = jobs_cache.lookup_many([("test", [("q", "a")]), ("test", [("q", "b")])])

    assert a.entry == {"html": "a"} and b.entry == {"html": "b"}


def test_a_search_is_stored_from_its_second_request_across_processes():
    django_jobs(3)
    url = "/jobs/search/?q=django"

    first, first_queries = get(Client(), SEARCH, {"q": "django"})
    jobs_cache.local.clear()  # each request in another process
    assert generic_entry(url) is None
    second, second_queries = get(Client(), SEARCH, {"q": "django"})  # searched again, kept now
    jobs_cache.local.clear()
    assert generic_entry(url) is not None
    jobs_cache.local.clear()
    third, third_queries = get(Client(), SEARCH, {"q": "django"})

    assert first_queries > 0 and second_queries > 0 and third_queries == 0
    assert TOKEN_RE.sub("T", text(first)) == TOKEN_RE.sub("T", text(second)) == TOKEN_RE.sub("T", text(third))


def test_the_api_stores_a_page_from_its_second_request_across_processes(api_client):
    django_jobs(3)
    answers = []
    for _ in range(3):
        jobs_cache.local.clear()  # each request in another process
        answers.append(get(api_client, API, {"q": "django"}))

    assert [queries > 0 for _, queries in answers] == [True, True, False]
    assert answers[0][0].content == answers[1][0].content == answers[2][0].content


def test_the_local_copies_are_bounded_per_kind():
    other = jobs_cache.lookup("other", [("i", "0")])
    other.set("kept")
    for i in range(jobs_cache.LOCAL_ENTRIES + 10):
        jobs_cache.lookup("test", [("i", str(i))]).set(i)

    assert len(jobs_cache.local.kinds["test"]) == jobs_cache.LOCAL_ENTRIES
    assert jobs_cache.cache_key("test", [("i", "0")]) not in jobs_cache.local  # the oldest went
    assert jobs_cache.lookup("test", [("i", "0")]).entry == 0  # still in the shared cache
    # a flood of one kind (the long tail's result pages) leaves the other kinds' copies
    assert other.key in jobs_cache.local
    assert jobs_cache.local.get(other.key, other.generation) == (True, "kept")


@pytest.mark.parametrize("params", [{}, {"q": "django"}, {"q": '<b>"django"</b> & co'}, {"sort": "newest"}])
def test_the_generic_page_is_the_page_an_anonymous_visitor_with_a_session_gets(params):
    django_jobs(3)
    generic = text(Client().get(SEARCH, params))
    generic_again = text(Client().get(SEARCH, params))  # from the cache
    with_session = Client()
    session = with_session.session
    session["seen"] = True
    session.save()  # a session cookie: the page is rendered for this visitor

    rendered = text(with_session.get(SEARCH, params))

    assert TOKEN_RE.sub("T", generic) == TOKEN_RE.sub("T", rendered) == TOKEN_RE.sub("T", generic_again)
    if "q" in params:
        assert f"<title>{escape(params['q'])} · Find work" in generic


def test_the_api_answers_a_caller_without_credentials_from_the_cache_as_drf_would(freelancer):
    django_jobs(3)
    drf = Client()
    drf.force_login(freelancer)  # a session: the answer goes through DRF
    _, misses = get(Client(), API, {"q": "django", "page_size": 2})

    quick, hits = get(Client(), API, {"q": "django", "page_size": 2}, secure=True)
    through_drf = drf.get(API, {"q": "django", "page_size": 2}, secure=True)

    assert misses > 0 and hits == 0
    assert quick.content == through_drf.content
    for header in ("Content-Type", "Allow", "Vary"):
        assert quick[header] == through_drf[header], header
    assert json.loads(quick.content)["next"].startswith("https://testserver/api/v1/jobs/?")


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_AUTHORIZATION": "Token nope"},  # DRF refuses a bad token (403 here)
        {"HTTP_ACCEPT": "text/html"},
        {"QUERY_STRING": "q=django&format=json"},
    ],
)
def test_the_api_leaves_credentials_and_other_formats_to_drf(extra):
    django_jobs(1)
    Client().get(API, {"q": "django"})  # cached

    query = extra.pop("QUERY_STRING", "q=django")
    response = Client().get(f"{API}?{query}", **extra)

    if "HTTP_AUTHORIZATION" in extra:
        assert response.status_code == 403 and response.json()["code"]
    elif extra.get("HTTP_ACCEPT") == "text/html":
        assert response.status_code == 200 and b"<html" in response.content
    else:
        assert response.status_code == 200 and response.json()["count"] == 1


@pytest.fixture
def redis_cache(settings):
    """The jobs cache on Redis (the test settings keep a local-memory cache), under a key
    prefix of its own: other test processes share the server."""
    import os
    import uuid

    prefix = f"jobs-cache-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "marketplace.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": prefix,
        }
    }
    jobs_cache.local.clear()
    assert isinstance(caches["default"], jobs_cache.RedisCache)
    yield
    client = caches["default"]._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    jobs_cache.local.clear()


@requires_redis
def test_on_redis_the_lookup_notes_a_first_request_in_its_own_round_trip(monkeypatch, redis_cache):
    writes: list[str] = []
    backend = caches["default"]  # the Redis backend (``cache`` is a proxy to it)
    real_set = backend.set
    monkeypatch.setattr(backend, "set", lambda key, *a, **k: writes.append(key) or real_set(key, *a, **k))
    parts = [("q", "asked-once")]
    jobs_cache.generation()  # set (as it is but right after a flush)

    first = jobs_cache.lookup("test", parts, mark=True)
    assert first.entry is None and not first.seen and first.marked
    first.set({"html": "a"}, from_second=True)
    assert writes == []  # no mark of its own: the lookup wrote it
    assert cache.get(first.key) is None  # and nothing stored for a search asked once

    jobs_cache.local.clear()  # the second request, in another process
    second = jobs_cache.lookup("test", parts, mark=True)
    assert second.entry is None and second.seen
    second.set({"html": "a"}, from_second=True)
    assert writes == [second.key]  # stored now

    jobs_cache.local.clear()
    assert jobs_cache.lookup("test", parts, mark=True).entry == {"html": "a"}

    jobs_cache.bump_generation()  # a mark counts under its own generation only
    jobs_cache.local.clear()
    again = jobs_cache.lookup("test", parts, mark=True)
    assert again.entry is None and not again.seen


@requires_redis
def test_on_redis_a_slot_holding_an_older_entry_is_marked_as_before(redis_cache):
    parts = [("q", "older")]
    jobs_cache.lookup("test", parts).set({"html": "old"})
    jobs_cache.bump_generation()
    jobs_cache.local.clear()

    slot = jobs_cache.lookup("test", parts, mark=True)  # the slot holds the older entry
    assert slot.entry is None and not slot.seen and not slot.marked
    slot.set({"html": "new"}, from_second=True)

    stored = cache.get(slot.key)
    assert stored[:2] == (slot.generation, None)  # its mark, in the slot, as without Redis
    jobs_cache.local.clear()
    assert jobs_cache.lookup("test", parts, mark=True).seen


@requires_redis
def test_on_redis_the_long_tail_page_and_api_write_no_mark_of_their_own(monkeypatch, api_client, redis_cache):
    django_jobs(3)
    writes: list[str] = []
    backend = caches["default"]  # the Redis backend (``cache`` is a proxy to it)
    real_set = backend.set
    monkeypatch.setattr(backend, "set", lambda key, *a, **k: writes.append(key) or real_set(key, *a, **k))

    assert Client().get(SEARCH, {"q": "django"}).status_code == 200
    assert api_client.get(API, {"q": "django"}).status_code == 200

    assert [key for key in writes if "search-page" in key or "search-api-body" in key] == []


def test_the_apis_next_link_keeps_every_parameter_and_replaces_the_cursor(api_client):
    from urllib.parse import parse_qsl, urlsplit

    django_jobs(5)
    levels = [("experience_level", level) for level in ("entry", "intermediate", "expert")]
    params = [("q", "django"), *levels, ("page_size", "1")]
    first = api_client.get(API + "?" + "&".join(f"{k}={v}" for k, v in params)).json()
    assert first["count"] == 5, first
    second_url = first["next"]
    second = api_client.get(second_url).json()
    third_url = second["next"]

    assert urlsplit(second_url).path == API
    query = parse_qsl(urlsplit(second_url).query)
    assert query[:5] == params and query[5][0] == "cursor"  # in order, the cursor added last
    again = parse_qsl(urlsplit(third_url).query)
    assert [key for key, _ in again] == [key for key, _ in query]  # the cursor replaced in place
    assert again[5][1] != query[5][1]


@requires_redis
def test_on_redis_a_refused_lookup_script_falls_back_to_a_mark_of_its_own(monkeypatch, redis_cache, caplog):
    # a server that refuses the script (an older Redis without SET ... GET answers an error
    # as this one does to an unknown command)
    monkeypatch.setattr(jobs_cache, "_READ_AND_MARK", "return redis.call('NOSUCHCOMMAND')")
    monkeypatch.setattr(jobs_cache, "_script_refused", False)
    jobs_cache._read_and_mark_script.cache_clear()
    jobs_cache.generation()
    parts = [("q", "refused")]
    try:
        first = jobs_cache.lookup("test", parts, mark=True)
        assert first.entry is None and not first.seen and not first.marked
        first.set({"html": "a"}, from_second=True)
        assert cache.get(first.key)[:2] == (first.generation, None)  # its own mark, in the slot
        assert jobs_cache._script_refused and "refused the lookup script" in caplog.text

        jobs_cache.local.clear()
        second = jobs_cache.lookup("test", parts, mark=True)  # no script tried again
        assert second.seen and not second.marked
    finally:
        jobs_cache._read_and_mark_script.cache_clear()
