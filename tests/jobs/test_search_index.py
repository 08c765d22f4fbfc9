"""The in-process search index (jobs.search_index): the same answers as PostgreSQL for
every filter and plain keyword, relevance that puts title matches first, stable keyset
paging, freshness after the jobs services write, and the fall-back to PostgreSQL for what
it does not serve (phrases, ``or``, ``-word``, typos, no index yet)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ClientProfile, ExperienceLevel, Skill
from jobs import cache as jobs_cache
from jobs import search_index, selectors, services
from jobs.models import Job
from marketplace.errors import ApplicationError
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import DESCRIPTION, job_input, make_job, plain_job

pytestmark = [pytest.mark.django_db, requires_postgres]

WORDS = ["django", "react", "design", "python", "mobile", "data", "shopify", "video"]


@pytest.fixture
def index(settings, monkeypatch):
    """The index switched on, with no background work (the test's data is uncommitted, so a
    background thread would not see it): ``build()`` builds it now from the test's data."""
    settings.JOBS_SEARCH_INDEX = True
    monkeypatch.setattr(search_index, "REBUILD_SECONDS", 10**9)
    monkeypatch.setattr(search_index, "FIGURES_SECONDS", 10**9)
    search_index.reset()
    search_index.lexemes.cache_clear()

    def build() -> search_index.Index:
        return search_index.build_now(jobs_cache.generation())

    yield build
    search_index.reset()


def page(settings, params: dict, *, indexed: bool, cursor: str | None = None, size: int = 50):
    settings.JOBS_SEARCH_INDEX = indexed
    found = selectors.job_search_card_page(params=params, viewer=None, cursor=cursor, page_size=size)
    settings.JOBS_SEARCH_INDEX = True
    assert found.indexed is indexed, params
    return found


def walk(settings, params: dict, size: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        found = page(settings, params, indexed=True, cursor=cursor, size=size)
        seen += [job.pk for job in found.jobs]
        cursor = found.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


@pytest.fixture
def population():
    """Forty jobs with every filtered attribute varied (seeded, so the same each run)."""
    rng = random.Random(7)
    skills = list(Skill.objects.select_related("subcategory").order_by("pk")[:400:40])
    clients = []
    for country, verified, hires, rating in (
        ("PL", True, 3, "4.60"),
        ("DE", False, 0, None),
        ("US", True, 0, "3.20"),
        ("BR", False, 5, "4.95"),
    ):
        client = factories.make_client()
        account_services.client_profile_update(actor=client, country=country)
        ClientProfile.objects.filter(user=client).update(
            payment_method_verified=verified,
            hires_count=hires,
            rating_avg=Decimal(rating) if rating else None,
        )
        clients.append(client)
    now = timezone.now()
    jobs = []
    for number in range(40):
        skill = rng.choice(skills)
        extra = rng.sample(skills, 2)
        hourly = rng.random() < 0.5
        low = rng.randrange(10, 80) * 100
        words = rng.sample(WORDS, 2)
        data = {
            "title": f"{words[0].title()} work number {number}",
            "description": f"{DESCRIPTION} Also some {words[1]} and {rng.choice(WORDS)}.",
            "category_id": skill.subcategory.category_id,
            "subcategory_id": skill.subcategory_id,
            "skill_ids": sorted({skill.pk, *(s.pk for s in extra)}),
            "experience_level": rng.choice(ExperienceLevel.values),
            "duration": rng.choice(Job.Duration.values),
            "budget_type": Job.BudgetType.HOURLY if hourly else Job.BudgetType.FIXED,
        }
        if hourly:
            data["hourly_min_cents"] = low
            data["hourly_max_cents"] = low + rng.randrange(0, 40) * 100
        else:
            data["fixed_budget_cents"] = rng.randrange(50, 5000) * 100
        job = make_job(clients[number % len(clients)], **data)
        Job.objects.filter(pk=job.pk).update(
            proposals_count=rng.choice([0, 3, 7, 12, 18, 30, 60]),
            published_at=now - timedelta(hours=rng.randrange(1, 24 * 40)),
        )
        jobs.append(job)
    make_job(clients[0], title="Django draft nobody sees", publish=False)
    make_job(clients[0], title="Django invite-only work", visibility=Job.Visibility.INVITE_ONLY)
    closed = make_job(clients[1], title="Django closed work")
    services.job_close(actor=clients[1], job_id=closed.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    return {"jobs": jobs, "skills": skills}


def cases(skills: list[Skill]) -> list[dict]:
    first, second = skills[0], skills[1]
    return [
        {},
        {"category": str(first.subcategory.category_id)},
        {"subcategory": str(second.subcategory_id)},
        {"skills": [str(first.pk), str(second.pk)]},
        {"budget_type": "hourly"},
        {"budget_type": "fixed"},
        {"hourly_min": "40"},
        {"hourly_max": "30"},
        {"hourly_min": "25", "hourly_max": "50"},
        {"fixed_min": "1000"},
        {"fixed_max": "2500"},
        {"fixed_min": "500", "fixed_max": "3000"},
        {"experience_level": ["entry", "expert"]},
        {"duration": ["lt1"]},
        {"duration": ["3to6", "gt6"], "experience_level": ["intermediate"]},
        {"payment_verified": "true"},
        {"has_hires": "true"},
        {"client_rating_min": "4.5"},
        {"client_rating_min": "3"},
        {"proposals": ["0-4", "50+"]},
        {"proposals": ["5-9", "10-14", "15-19", "20-49"]},
        {"posted_within": "24h"},
        {"posted_within": "7d"},
        {"location": ["PL", "BR"]},
        {"location": ["US"], "budget_type": "fixed", "posted_within": "30d"},
        {"q": "django"},
        {"q": "Django work"},
        {"q": "python", "budget_type": "hourly"},
        {"q": "design", "payment_verified": "true", "experience_level": ["expert", "entry"]},
        {"q": "data", "location": ["DE"]},
        {"q": "the"},  # stop words only: PostgreSQL answers
    ]


def test_index_answers_every_filter_as_postgresql_does(settings, index, population):
    index()
    for params in cases(population["skills"]):
        for sort in ("newest", "relevance"):
            query = {**params, "sort": sort}
            served = bool(search_index.lexemes(params["q"])) if "q" in params else True
            by_index = page(settings, query, indexed=served)
            by_postgres = page(settings, query, indexed=False)
            ids = [job.pk for job in by_index.jobs]
            expected = [job.pk for job in by_postgres.jobs]
            if sort == "newest" or "q" not in params:
                assert ids == expected, query
            else:  # relevance: the same jobs, ranked by the index's own score
                assert sorted(ids) == sorted(expected), query
            assert by_index.count == by_postgres.count == len(expected), query
    # and the cases are not trivial: most find some jobs, some find none
    sizes = [page(settings, params, indexed=False).count for params in cases(population["skills"])]
    assert sum(1 for size in sizes if 0 < size < 40) >= 20


def test_title_match_outranks_skills_and_description(settings, index):
    in_description = plain_job(description=f"{DESCRIPTION} The shop runs on Shopify.")
    in_title = plain_job(title="Shopify store tune-up")
    twice_in_description = plain_job(description=f"{DESCRIPTION} Shopify, Shopify and more Shopify.")
    index()

    found = page(settings, {"q": "shopify"}, indexed=True)

    assert [job.pk for job in found.jobs] == [in_title.pk, twice_in_description.pk, in_description.pk]
    assert found.jobs[0].score > found.jobs[1].score > found.jobs[2].score > 0
    assert found.step == selectors.MatchStep.EXACT


def test_the_index_answers_plain_parameters_without_the_filter_form(settings, index):
    job = plain_job(title="Shopify store tune-up")
    index()

    found = page(settings, {"q": "shopify", "budget_type": "fixed", "sort": "newest"}, indexed=True)

    assert [card.pk for card in found.jobs] == [job.pk]
    assert found.plan._filterset is None  # validated by plain_search_data, searched by the index
    # a skill needs the database to validate: the form is built, and the index still answers
    skill = job.skills.first()
    found = page(settings, {"q": "shopify", "skills": str(skill.pk)}, indexed=True)
    assert [card.pk for card in found.jobs] == [job.pk]
    assert found.plan._filterset is not None


def test_rare_word_weighs_more_than_a_common_one(settings, index):
    for number in range(6):
        plain_job(title=f"Landing page number {number}")
    rare = plain_job(title="Landing page", description=f"{DESCRIPTION} Webflow.")
    common_twice = plain_job(title="Landing page landing page", description=DESCRIPTION)
    index()

    found = page(settings, {"q": "landing webflow"}, indexed=True)
    assert [job.pk for job in found.jobs] == [rare.pk]
    ranked = page(settings, {"q": "landing"}, indexed=True)
    assert ranked.jobs[0].pk == common_twice.pk
    assert ranked.count == 8


@pytest.mark.parametrize("params", [{}, {"q": "django"}, {"q": "django", "sort": "newest"}])
def test_paging_through_the_index_has_no_duplicates_or_gaps(settings, index, population, params):
    index()
    everything = page(settings, params, indexed=True, size=100)
    assert everything.next_cursor is None

    for size in (1, 3, 7):
        walked = walk(settings, params, size)
        assert walked == [job.pk for job in everything.jobs]
    assert len(everything.jobs) == everything.count > 3


@pytest.mark.parametrize("params", [{}, {"q": "django"}, {"q": "django", "sort": "newest"}])
def test_paging_through_an_index_of_several_segments(settings, index, population, params):
    """Jobs published after the build live in delta segments: ranking, keys and cards are
    read across segments, page after page, as from one."""
    index()
    client = factories.make_client()
    for number in range(4):  # each its own delta (a search between them)
        make_job(client, title=f"Django delta job {number}", description=DESCRIPTION + " django")
        page(settings, {"q": "django"}, indexed=True)
    built = search_index.current(jobs_cache.generation())
    assert built is not None and len([s for s in built.segments if len(s)]) >= 3

    everything = page(settings, params, indexed=True, size=100)
    by_postgresql = page(settings, params, indexed=False, size=100)
    assert {job.pk for job in everything.jobs} == {job.pk for job in by_postgresql.jobs}
    assert everything.count == by_postgresql.count > 4
    for size in (1, 3, 7):
        assert walk(settings, params, size) == [job.pk for job in everything.jobs]
    found = {job.pk: job for job in everything.jobs}
    for job in Job.objects.filter(pk__in=found):  # each card is its own job's
        assert (found[job.pk].title, found[job.pk].proposals_count) == (job.title, job.proposals_count)


def test_a_later_page_keeps_the_first_pages_count_and_says_when_it_ends(settings, index):
    for number in range(7):
        plain_job(title=f"Django job number {number}")
    index()

    first = page(settings, {"q": "django"}, indexed=True, size=5)
    second = page(settings, {"q": "django"}, indexed=True, size=5, cursor=first.next_cursor)

    assert (first.count, first.count_capped, len(first.jobs), first.has_next) == (7, False, 5, True)
    assert (second.count, len(second.jobs), second.has_next) == (7, 2, False)
    assert not {job.pk for job in first.jobs} & {job.pk for job in second.jobs}


def test_published_job_is_found_by_the_next_search_and_a_closed_one_is_gone(settings, index):
    client = factories.make_client()
    kept = make_job(client, title="Kubernetes cluster upgrade")
    index()
    assert [job.pk for job in page(settings, {"q": "kubernetes"}, indexed=True).jobs] == [kept.pk]

    new = make_job(client, title="Kubernetes monitoring with Grafana")
    found = page(settings, {"q": "kubernetes", "sort": "newest"}, indexed=True)
    assert [job.pk for job in found.jobs] == [new.pk, kept.pk]

    services.job_close(actor=client, job_id=kept.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    assert [job.pk for job in page(settings, {"q": "kubernetes"}, indexed=True).jobs] == [new.pk]
    assert page(settings, {}, indexed=True).count == 1

    services.job_reopen(actor=client, job_id=kept.pk)
    assert page(settings, {"q": "kubernetes"}, indexed=True).count == 2


def test_an_edited_job_is_searched_by_its_new_words_and_filters(settings, index):
    client = factories.make_client()
    job = make_job(client, title="Kubernetes cluster upgrade")
    index()

    services.job_update(
        actor=client,
        job_id=job.pk,
        data=job_input(
            title="Terraform modules for AWS",
            budget_type="hourly",
            hourly_min_cents=5000,
            hourly_max_cents=8000,
            fixed_budget_cents=None,
        ),
    )

    assert page(settings, {"q": "kubernetes"}, indexed=False).count == 0
    assert [j.pk for j in page(settings, {"q": "terraform", "budget_type": "hourly"}, indexed=True).jobs] == [
        job.pk
    ]
    assert page(settings, {"budget_type": "fixed"}, indexed=True).count == 0
    # the job's old copy is gone from the counts too
    assert page(settings, {}, indexed=True).count == 1


def test_job_instances_are_read_among_the_listed_jobs(settings, index):
    """``job_search_page`` (model instances) reads the rows by id among the listed jobs: a
    job closed behind the index's back (a write without the generation bump, which the
    services never make) is left out, and the paging goes on from the index's keys."""
    client = factories.make_client()
    jobs = [make_job(client, title=f"Kubernetes task {n}") for n in range(3)]
    index()
    Job.objects.filter(pk=jobs[1].pk).update(status=Job.Status.CLOSED)
    params = {"q": "kubernetes", "sort": "newest"}

    found = selectors.job_search_page(params=params, viewer=None, page_size=2)
    assert found.indexed
    assert [job.pk for job in found.jobs] == [jobs[2].pk]
    assert found.has_next
    rest = selectors.job_search_page(params=params, viewer=None, page_size=2, cursor=found.next_cursor)
    assert [job.pk for job in rest.jobs] == [jobs[0].pk]


def test_cards_carry_the_viewers_saved_flags(settings, index, freelancer):
    client = factories.make_client()
    saved, other = make_job(client, title="Kubernetes task"), make_job(client, title="Kubernetes job")
    index()
    services.job_save(actor=freelancer, job_id=saved.pk)

    mine = selectors.job_search_card_page(params={"q": "kubernetes"}, viewer=freelancer)
    anonymous = page(settings, {"q": "kubernetes"}, indexed=True)

    assert mine.indexed
    assert {card.id: card.is_saved for card in mine.jobs} == {saved.pk: True, other.pk: False}
    assert {card.is_saved for card in anonymous.jobs} == {None}


def test_figures_that_change_without_the_job_are_read_again(settings, index):
    client = factories.make_client()
    job = make_job(client, title="Kubernetes cluster upgrade")
    built = index()
    Job.objects.filter(pk=job.pk).update(proposals_count=12)
    ClientProfile.objects.filter(user=client).update(payment_method_verified=True)
    assert page(settings, {"payment_verified": "true"}, indexed=True).count == 0  # not yet

    search_index.refresh_figures(built)

    assert page(settings, {"payment_verified": "true", "proposals": ["10-14"]}, indexed=True).count == 1
    assert page(settings, {"proposals": ["0-4"]}, indexed=True).count == 0


@pytest.mark.parametrize(
    "query", ['"cluster upgrade"', "kubernetes or terraform", "kubernetes -upgrade", "kubernetis"]
)
def test_phrases_or_not_and_typos_are_answered_by_postgresql(settings, index, query):
    client = factories.make_client()
    make_job(client, title="Kubernetes cluster upgrade")
    make_job(client, title="Terraform modules")
    index()

    found = page(settings, {"q": query}, indexed=False)
    settings.JOBS_SEARCH_INDEX = True
    same = selectors.job_search_card_page(params={"q": query}, viewer=None)

    assert not same.indexed
    assert [job.pk for job in same.jobs] == [job.pk for job in found.jobs]
    assert found.count >= 1


def test_without_a_built_index_postgresql_answers(settings, index):
    make_job(title="Kubernetes cluster upgrade")
    settings.JOBS_SEARCH_INDEX = True
    # the first search starts a build in the background; this one is PostgreSQL's
    search_index._state["busy"] = True  # as if building: no thread in a test transaction
    try:
        found = selectors.job_search_card_page(params={"q": "kubernetes"}, viewer=None)
    finally:
        search_index._state["busy"] = False
    assert not found.indexed
    assert found.count == 1


def test_an_index_cursor_goes_on_in_postgresql_when_the_index_is_gone(settings, index):
    client = factories.make_client()
    jobs = [make_job(client, title=f"Kubernetes task {n}") for n in range(3)]
    index()
    newest = page(settings, {"q": "kubernetes", "sort": "newest"}, indexed=True, size=2)
    ranked = page(settings, {"q": "kubernetes"}, indexed=True, size=2)

    rest = page(settings, {"q": "kubernetes", "sort": "newest"}, indexed=False, cursor=newest.next_cursor)
    assert [job.pk for job in rest.jobs] == [jobs[0].pk]
    with pytest.raises(ApplicationError) as caught:
        page(settings, {"q": "kubernetes"}, indexed=False, cursor=ranked.next_cursor)
    assert caught.value.code == "invalid_cursor"


@pytest.mark.parametrize(
    "raw",
    [
        '{"s":"exact","o":"relevance","k":["x",1,2],"n":3,"c":false,"i":1}',
        '{"s":"exact","o":"relevance","k":[1,"2026-01-01T00:00:00+00:00"],"n":3,"c":false,"i":1}',
        '{"s":"exact","o":"newest","k":[1,"2026-01-01T00:00:00+00:00",3],"n":3,"c":false,"i":1}',
        '{"s":"exact","o":"relevance","k":[true,"2026-01-01T00:00:00+00:00",3],"n":3,"c":false,"i":1}',
    ],
)
def test_a_damaged_index_cursor_is_a_clear_error(settings, index, raw):
    import base64

    make_job(title="Kubernetes cluster upgrade")
    index()
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    with pytest.raises(ApplicationError) as caught:
        page(settings, {"q": "kubernetes"}, indexed=True, cursor=cursor)
    assert caught.value.code == "invalid_cursor"


def test_the_api_and_the_page_use_the_index(settings, index, client):
    job = make_job(title="Kubernetes cluster upgrade")
    index()

    api = client.get("/api/v1/jobs/", {"q": "kubernetes"})
    html = client.get("/jobs/search/", {"q": "kubernetes"})

    assert api.status_code == 200
    assert [item["public_id"] for item in api.json()["results"]] == [job.public_id]
    assert html.status_code == 200
    assert "Kubernetes cluster upgrade" in html.content.decode()


def test_many_deltas_are_folded_into_a_new_build(settings, index, monkeypatch):
    client = factories.make_client()
    monkeypatch.setattr(search_index, "MAX_SEGMENTS", 3)
    built = index()
    for number in range(5):
        make_job(client, title=f"Kubernetes task {number}")
        page(settings, {"q": "kubernetes"}, indexed=True)
    current = search_index.current(jobs_cache.generation())
    assert current is not None
    assert len(current.segments) <= 3
    assert current is not built
    assert page(settings, {"q": "kubernetes"}, indexed=True).count == 5


def test_healthz_tells_whether_the_index_is_ready(settings, index, client):
    assert client.get("/healthz/").json()["search_index"] == "building"
    index()
    assert client.get("/healthz/").json() == {"status": "ok", "search_index": "ready"}
    settings.JOBS_SEARCH_INDEX = False
    assert client.get("/healthz/").json()["search_index"] == "off"


def test_an_index_cursor_with_numbers_out_of_range_is_no_500(settings, index):
    import base64

    make_job(title="Kubernetes cluster upgrade")
    index()
    raw = '{"s":"exact","o":"relevance","k":[%d,"2026-01-01T00:00:00+00:00",%d],"n":1,"c":false,"i":1}'
    for score, job_id in ((10**30, 10**30), (-(10**30), 1)):
        cursor = base64.urlsafe_b64encode((raw % (score, job_id)).encode()).decode().rstrip("=")
        found = page(settings, {"q": "kubernetes"}, indexed=True, cursor=cursor)
        assert found.count == 1 and found.next_cursor is None


def _index_cards(built: search_index.Index) -> list[selectors.JobCard]:
    return [card for segment in built.segments for card in segment.cards if card is not None]


def test_a_new_index_makes_every_cards_markup_and_api_item(settings, index, client, monkeypatch):
    from jobs.api import search as search_api
    from jobs.views import search as search_view

    jobs = [make_job(title=f"Kubernetes <b>cluster</b> {n} & co") for n in range(3)]
    built = index()
    cards = _index_cards(built)

    assert sorted(card.id for card in cards) == sorted(job.pk for job in jobs)
    for card in cards:  # made as the index was built: the markup and the API's item head
        assert {kind[0] for kind in card.renderings} == {"html", "json"}

    # a search then renders no card: the page and the API are made of those renderings
    search_view._card_parts.clear()
    monkeypatch.setattr(search_api, "_items", {})
    with monkeypatch.context() as patch:
        patch.setattr(search_view, "card_values", lambda *a, **k: pytest.fail("a card rendered again"))
        patch.setattr(search_api.s, "job_card_item", lambda *a, **k: pytest.fail("an item encoded again"))
        html = client.get("/jobs/search/", {"q": "kubernetes"}).content.decode()
        api = client.get("/api/v1/jobs/", {"q": "kubernetes"}).json()

    assert html.count('class="card mb-3 shadow-sm job-card"') == 3
    assert "Kubernetes &lt;b&gt;cluster&lt;/b&gt; 0 &amp; co" in html
    assert sorted(item["public_id"] for item in api["results"]) == sorted(job.public_id for job in jobs)
    # the same markup and JSON as rendering the cards anew
    found = selectors.job_search_card_page(params={"q": "kubernetes"}, viewer=None)
    fresh = [
        card.with_figures(proposals_count=card.proposals_count, is_saved=None, score=None)
        for card in found.jobs
    ]
    for card in fresh:
        card.renderings = {}
    assert search_view.cards_html(found.jobs) == search_view.render_cards(search_view.card_values(fresh))
    assert search_api.results_json(found.jobs) == search_api._json(
        [search_api.s.job_card_item(card) for card in fresh]
    )


def test_a_rebuild_keeps_the_renderings_of_unchanged_jobs_and_remakes_edited_ones(settings, index):
    from jobs.views import search as search_view

    client = factories.make_client()
    kept, edited = make_job(client, title="Kubernetes cluster"), make_job(client, title="Kubernetes nodes")
    before = {card.id: card for card in _index_cards(index())}
    Job.objects.filter(pk=edited.pk).update(title="Kubernetes pods")  # behind the services' back

    after = {card.id: card for card in _index_cards(index())}

    assert after[kept.pk] is not before[kept.pk]  # a new card, with the renderings it had
    assert after[kept.pk].renderings is before[kept.pk].renderings
    found = selectors.job_search_card_page(params={"q": "kubernetes"}, viewer=None)
    html = search_view.cards_html(found.jobs)
    assert "Kubernetes pods" in html and "Kubernetes nodes" not in html
    kind = next(kind for kind in after[edited.pk].renderings if kind[0] == "html")
    assert "Kubernetes pods" in "".join(after[edited.pk].renderings[kind][1])


def test_a_failing_rendering_leaves_the_index_serving(settings, index, monkeypatch, caplog):
    from jobs.views import search as search_view

    job = make_job(title="Kubernetes cluster")

    def broken(card: selectors.JobCard, *args: object, **kwargs: object) -> None:
        raise RuntimeError("broken rendering")

    with monkeypatch.context() as patch:
        patch.setattr(search_view, "_card_cut", broken)
        built = index()

    assert search_index.current(jobs_cache.generation()) is built
    assert "failed on the new cards" in caplog.text
    found = page(settings, {"q": "kubernetes"}, indexed=True)
    assert [card.pk for card in found.jobs] == [job.pk]
    assert "Kubernetes cluster" in search_view.cards_html(found.jobs)  # made as it is shown


def test_the_listed_count_follows_publishing_and_closing(settings, index):
    """The count every search's rarity weights use is kept between searches: a delta (a job
    published, closed) counts it again."""
    client = factories.make_client()
    first = make_job(client, title="Kubernetes cluster upgrade")
    index()

    def size() -> int:
        page(settings, {"q": "kubernetes"}, indexed=True)  # brings the index up to date
        current = search_index.current(jobs_cache.generation())
        assert current is not None
        return current.size

    assert size() == 1
    make_job(client, title="Kubernetes monitoring")
    assert size() == 2
    services.job_close(actor=client, job_id=first.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    assert size() == 1
