"""Search pages read as plain rows (``job_search_card_page``, ``JobCard``) and rendered from
prepared values (jobs/search/_cards.html, jobs/matches/_cards.html, the API's plain dicts):
the same jobs, order, cursors and counts as the model-instance page, and the same HTML and
JSON as the reference card (jobs/partials/job_card.html) and serializer."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import set_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from accounts.models import ClientProfile, Skill
from jobs import matching, selectors, services
from jobs.api import search as search_api
from jobs.api.serializers import JobListSerializer, job_card_item
from jobs.models import Job
from jobs.views import search as search_view
from jobs.views.matches import _feed_cards, render_feed_cards
from jobs.views.search import card_values, cards_html, posted_text, render_cards
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import make_job
from tests.jobs.test_matching import make_matched_freelancer

pytestmark = pytest.mark.django_db

LONG = "Booking site work with <b>markup</b> & “quotes”. " * 12


def squeeze(html: str) -> str:
    """``html`` with runs of white space made one space (the templates indent differently)."""
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.fixture
def varied_jobs(client_user) -> list[Job]:
    """Hourly and fixed jobs, with and without skills, country, long and short texts."""
    python, django = Skill.objects.get(name="Python"), Skill.objects.get(name="Django")
    return [
        make_job(client_user, title="Django booking site <fast>", description=LONG),
        make_job(
            factories.make_client(),
            title="Django & Python API, hourly",
            budget_type=Job.BudgetType.HOURLY,
            fixed_budget_cents=None,
            hourly_min_cents=2500,
            hourly_max_cents=6000,
            skill_ids=[django.pk, python.pk],
            experience_level="expert",
            duration="gt6",
        ),
        make_job(client_user, title="Django job with no skills", skill_ids=[]),
    ]


PARAMS = [
    {},
    {"q": "django"},
    {"q": "django", "sort": "newest"},
    {"q": "django", "budget_type": "hourly"},
    {"q": "nothing-matches-this"},
]


@pytest.mark.parametrize("params", PARAMS)
def test_the_card_page_is_the_model_page_as_rows(varied_jobs, freelancer, params):
    services.job_save(actor=freelancer, job_id=varied_jobs[1].pk)
    for viewer in (None, freelancer):
        cursors: list[str | None] = [None, None]
        for _ in range(4):  # page by page, 1 job each
            models = selectors.job_search_page(params=params, viewer=viewer, cursor=cursors[0], page_size=1)
            cards = selectors.job_search_card_page(
                params=params, viewer=viewer, cursor=cursors[1], page_size=1
            )

            assert [c.pk for c in cards.jobs] == [j.pk for j in models.jobs]
            assert (cards.count, cards.count_capped, cards.step, cards.sort, cards.next_cursor) == (
                models.count,
                models.count_capped,
                models.step,
                models.sort,
                models.next_cursor,
            )
            for card, job in zip(cards.jobs, models.jobs, strict=True):
                assert card.skill_names == [s.name for s in job.skills.all()]
                assert card.is_saved == job.is_saved  # type: ignore[attr-defined]
                assert card.description_excerpt == job.description_excerpt  # type: ignore[attr-defined]
            cursors = [models.next_cursor, cards.next_cursor]
            if not cursors[0]:
                break


def test_search_cards_render_as_the_job_card_does(varied_jobs):
    page = selectors.job_search_card_page(params={}, viewer=None)
    models = selectors.job_search_page(params={}, viewer=None).jobs

    lean = render_to_string("jobs/search/_cards.html", {"cards": card_values(page.jobs)})
    reference = "".join(
        render_to_string("jobs/partials/job_card.html", {"job": job, "save_slot": True}) for job in models
    )

    assert len(models) == 3
    assert squeeze(lean) == squeeze(reference)
    assert "&lt;fast&gt;" in lean and "<fast>" not in lean  # escaped


def test_cards_rendered_in_python_are_the_templates_markup_byte_for_byte(varied_jobs):
    Job.objects.filter(pk=varied_jobs[2].pk).update(title="Quotes \" and ' and <script>&amp;")
    ClientProfile.objects.filter(user=varied_jobs[1].client).update(country="PL")
    Job.objects.filter(pk=varied_jobs[1].pk).update(client_country="PL", proposals_count=12)
    values = card_values(selectors.job_search_card_page(params={}, viewer=None).jobs)

    fast = render_cards(values)

    assert len(values) == 3
    assert fast == render_to_string("jobs/search/_cards.html", {"cards": values})
    assert "&lt;script&gt;&amp;amp;" in fast and "&quot;" in fast and "&#x27;" in fast
    assert "Client in PL" in fast and "Proposals: 12" in fast


def test_cards_from_remembered_parts_are_the_rendered_cards_byte_for_byte(varied_jobs):
    search_view._card_parts.clear()
    Job.objects.filter(pk=varied_jobs[1].pk).update(client_country="PL", proposals_count=3)
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs

    first = cards_html(cards)  # every card cut and remembered
    assert len(search_view._card_parts) == 3
    assert first == render_cards(card_values(cards))

    # the figures that change are written per request over the remembered parts
    fresher = [
        card.with_figures(proposals_count=40 + i, is_saved=None, score=None) for i, card in enumerate(cards)
    ]
    again = cards_html(fresher)
    assert again == render_cards(card_values(fresher))
    with time_machine.travel(timezone.now() + timedelta(days=9), tick=False):  # older now
        again = cards_html(fresher)
        assert again == render_cards(card_values(fresher))
    assert "Proposals: 41" in again and "Client in PL" in again
    assert re.search(r"Posted 1\sweek, 2\sdays ago", again)
    assert len(search_view._card_parts) == 3  # the same parts served them


def test_a_card_whose_text_holds_a_cut_mark_is_rendered_whole(varied_jobs):
    search_view._card_parts.clear()
    Job.objects.filter(pk=varied_jobs[0].pk).update(title=f"Odd {search_view._PROPOSALS_MARK} title")
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs

    html = cards_html(cards)

    assert html == render_cards(card_values(cards))
    assert len(search_view._card_parts) == 2  # the other two only


def test_remembered_cards_follow_the_script_prefix(varied_jobs):
    search_view._card_parts.clear()
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs
    plain = cards_html(cards)
    set_script_prefix("/market/")
    try:
        prefixed = cards_html(cards)
        assert prefixed == render_cards(card_values(cards))
    finally:
        set_script_prefix("/")

    assert f'href="/jobs/{varied_jobs[0].public_id}/"' in plain
    assert f'href="/market/jobs/{varied_jobs[0].public_id}/"' in prefixed
    assert cards_html(cards) == plain


def test_a_changed_card_is_cut_again(varied_jobs):
    search_view._card_parts.clear()
    cards_html(selectors.job_search_card_page(params={}, viewer=None).jobs)
    Job.objects.filter(pk=varied_jobs[2].pk).update(title="Renamed: Django job")
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs

    html = cards_html(cards)

    assert "Renamed: Django job" in html and html == render_cards(card_values(cards))


@pytest.mark.parametrize(
    "age",
    [
        timedelta(seconds=5),
        timedelta(seconds=59),
        timedelta(minutes=1, seconds=1),
        timedelta(minutes=59, seconds=59),
        timedelta(hours=1),
        timedelta(hours=23, minutes=59, seconds=30),
        timedelta(days=1, hours=2, minutes=3),
        timedelta(days=13, hours=23),
        timedelta(days=27, hours=23, minutes=59),
        timedelta(days=45, hours=1),
    ],
)
def test_posted_text_matches_humanizes_naturaltime(age):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert posted_text(now - age) == naturaltime(now - age)
        assert posted_text(now - age) == naturaltime(now - age)  # and again, remembered
    with translation.override("de"), time_machine.travel(now, tick=False):
        assert posted_text(now - age) == naturaltime(now - age)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 29, 6, 45, 12, 345678, tzinfo=UTC),
        datetime(2028, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),  # a leap day, at its last moment
        datetime(2027, 3, 31, 0, 0, 0, 0, tzinfo=UTC),  # a month end after a short month
        datetime(2027, 1, 1, 12, 0, 0, 500000, tzinfo=UTC),
    ],
)
def test_posted_text_is_naturaltime_for_thousands_of_ages(now, monkeypatch):
    monkeypatch.setattr("jobs.views.search._posted", {})
    rng = random.Random(now.toordinal())
    ages = [timedelta(seconds=rng.uniform(0, 900 * 86400)) for _ in range(1500)]
    # the same time of day as now, give or take a microsecond, and whole-unit edges
    ages += [timedelta(days=days, microseconds=micro) for days in range(0, 800, 3) for micro in (-1, 0, 1)]
    ages += [timedelta(seconds=edge + delta) for edge in (60, 3600, 86400, 7 * 86400) for delta in (-1, 0, 1)]
    calls = 0
    with time_machine.travel(now, tick=False):
        for age in ages:
            for _ in range(2):  # the second time from memory
                calls += 1
                assert posted_text(now - age) == naturaltime(now - age), age
    from jobs.views import search as search_views

    assert len(search_views._posted) < calls / 2  # texts were shared between jobs


def test_feed_cards_render_as_the_job_card_does_with_reasons(client_user):
    freelancer = make_matched_freelancer(skills=("Python", "Django"))
    make_job(client_user, description=LONG)
    make_job(client_user, title="Python script for invoices", skill_ids=[Skill.objects.get(name="Python").pk])
    matching.refresh_for_freelancer(profile_id=freelancer.freelancer_profile.pk)
    page = matching.feed_best_matches(profile=freelancer.freelancer_profile)
    context = {"cards": _feed_cards(page), "tab": "best", "reason_options": mark_safe("<option>x</option>")}

    lean = render_to_string("jobs/matches/_cards.html", context)
    forms = re.findall(r'<div class="mt-2"><form .*?</form></div>', lean, flags=re.S)
    reference = "".join(
        render_to_string(
            "jobs/partials/job_card.html",
            {"job": Job.objects.select_related("category").get(pk=item.job.pk), "reasons": item.reasons},
        )
        for item in page.items
    )

    assert len(page.items) == 2 and all(item.reasons for item in page.items)
    assert len(forms) == 2
    assert squeeze(re.sub(r'<div class="mt-2"><form .*?</form></div>', "", lean, flags=re.S)) == squeeze(
        reference
    )
    job = page.items[0].job
    assert f'action="/jobs/feed/{job.public_id}/dismiss/"' in forms[0]
    assert f'id="dismiss-{job.public_id}"' in forms[0] and "<option>x</option>" in forms[0]


def _odd_feed_card(n: int, rng: random.Random) -> dict:
    odd = ["<b>", "&amp;", '"', "'", "·", "\u00e9", "JOBPUBLICID", "{{ x }}", ""]
    pick = lambda: rng.choice(odd)  # noqa: E731
    return {
        "public_id": f"~0{n}{pick()}",
        "posted": f"{n} hours ago{pick()}",
        "category": f"Dev{pick()}",
        "url": f"/jobs/~0{n}/?a=1&b={pick()}",
        "title": f"Title {pick()} {pick()}",
        "budget": "Hourly: $20.00\u2013$40.00",
        "experience": "Entry level",
        "duration": f"1 to 3 months{pick()}",
        "excerpt": f"Text {pick()}" * rng.randint(0, 3),
        "skills": [f"Skill{pick()}" for _ in range(rng.randint(0, 4))],
        "proposals": rng.randint(0, 60),
        "country": rng.choice(["", "DE", "K<E"]),
        "reasons": [f"reason {pick()}" for _ in range(rng.randint(0, 3))],
        "dismiss_url": f"/jobs/feed/~0{n}{pick()}/dismiss/",
    }


@pytest.mark.parametrize("seed", range(5))
def test_feed_cards_in_python_are_the_template_byte_for_byte(seed):
    """jobs.views.matches.render_feed_cards against jobs/matches/_cards.html, with markup,
    entities, quotes and stand-in-like text in every value, cards with and without reasons,
    skills and a country, and none at all."""
    rng = random.Random(seed)
    cards = [_odd_feed_card(n, rng) for n in range(rng.choice([0, 1, 7, 20]))]
    options = mark_safe('<option value="a">A &amp; b</option>')
    tab = rng.choice(["best", "recent", '"><script>'])
    expected = render_to_string(
        "jobs/matches/_cards.html",
        {"cards": cards, "tab": tab, "reason_options": options, "csrf_token": "tok3n"},
    )
    assert render_feed_cards(cards, tab=tab, reason_options=options, csrf_token="tok3n") == expected


def test_the_feed_page_writes_its_cards_in_python(client):
    """The feed page over HTTP: its cards are render_feed_cards' (no _cards.html rendered),
    with reasons, a working dismiss token and the tab."""
    freelancer = make_matched_freelancer(skills=("Python", "Django"))
    make_job(title="Python script for invoices", skill_ids=[Skill.objects.get(name="Python").pk])
    matching.refresh_for_freelancer(profile_id=freelancer.freelancer_profile.pk)
    client.force_login(freelancer)
    response = client.get("/jobs/feed/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "jobs/matches/_cards.html" not in [t.name for t in response.templates]
    assert 'data-testid="match-reasons"' in page and "Python script for invoices" in page
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # the card's form and the navigation's
    assert '<input type="hidden" name="tab" value="best">' in page


def test_api_items_are_the_serializers_representation(varied_jobs):
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs
    models = selectors.job_search_page(params={}, viewer=None).jobs

    items = [job_card_item(card) for card in cards]
    expected = [dict(item) for item in JobListSerializer(models, many=True).data]

    assert items == expected
    assert [list(item) for item in items] == [list(item) for item in expected]  # the key order too
    assert items[0]["published_at"].endswith("Z")


def test_api_results_json_is_the_items_json_byte_for_byte(varied_jobs, monkeypatch):
    monkeypatch.setattr("jobs.api.search._items", {})
    cards = selectors.job_search_card_page(params={}, viewer=None).jobs
    cards[0].client_country = "Côte d\u2019Ivoire \u2028"  # non-ASCII and a line separator
    expected = search_api._json([job_card_item(card) for card in cards])

    assert search_api.results_json(cards) == expected
    assert search_api.results_json(cards) == expected  # again, from the remembered heads
    # fresher figures on the same jobs: the same heads, the new counts
    fresher = [
        card.with_figures(proposals_count=card.proposals_count + 7, is_saved=None, score=None)
        for card in cards
    ]
    assert search_api.results_json(fresher) == search_api._json([job_card_item(card) for card in fresher])
    assert len(search_api._items) == len(cards)
    # an edited title is another head
    cards[1].title = "Renamed"
    assert b"Renamed" in search_api.results_json(cards)


def test_a_job_card_from_a_model_cuts_the_description_like_the_search():
    job = make_job(description=LONG)

    card = selectors.JobCard.from_job(Job.objects.select_related("category").get(pk=job.pk))

    assert card.description_excerpt == selectors.description_excerpt(LONG)
    assert card.category_name == job.category.name and card.is_saved is None


def test_a_cards_content_key_changes_with_every_field_but_its_fresher_figures():
    job = make_job(description=LONG)
    card = selectors.JobCard.from_job(Job.objects.select_related("category").get(pk=job.pk))
    fresher = {"proposals_count", "is_saved", "score", "total"}

    for field in dataclasses.fields(selectors.JobCard):
        if field.name == "renderings":  # what was made of the content, not content
            continue
        value = getattr(card, field.name)
        if isinstance(value, datetime):
            other = value - timedelta(days=1)
        elif isinstance(value, list):
            other = [*value, "another"]
        elif isinstance(value, bool) or value is None:
            other = 5 if value is None else not value
        elif isinstance(value, int):
            other = value + 1
        else:
            other = f"{value}-changed"
        changed = dataclasses.replace(card, **{field.name: other})
        if field.name in fresher:
            assert changed.content_key() == card.content_key(), field.name
        else:
            assert changed.content_key() != card.content_key(), field.name


def test_a_card_with_fresher_figures_keeps_every_other_field():
    job = make_job(description=LONG)
    card = selectors.JobCard.from_job(Job.objects.select_related("category").get(pk=job.pk))
    card.total = 7

    fresher = card.with_figures(proposals_count=12, is_saved=True, score=345)

    # field by field, so that a field added to JobCard and not to with_figures fails here
    expected = dataclasses.replace(card, proposals_count=12, is_saved=True, score=345)
    for field in dataclasses.fields(selectors.JobCard):
        assert getattr(fresher, field.name) == getattr(expected, field.name), field.name
    assert (fresher.proposals_count, fresher.is_saved, fresher.score, fresher.total) == (12, True, 345, 7)
    assert fresher.renderings is card.renderings  # what was made of the card, shared


def test_a_cards_renderings_are_made_once_per_content_and_shared_with_its_copies():
    job = make_job(description=LONG)
    card = selectors.JobCard.from_job(Job.objects.select_related("category").get(pk=job.pk))
    made: list[str] = []

    def make(c: selectors.JobCard) -> str:
        made.append(c.title)
        return f"<{c.title}>"

    assert card.remembered("k", make) == card.remembered("k", make) == f"<{job.title}>"
    copy = card.with_figures(proposals_count=9, is_saved=True, score=1)
    assert copy.remembered("k", make) == f"<{job.title}>"  # fresher figures: the same rendering
    assert made == [job.title]
    assert card.remembered("other", make) == f"<{job.title}>" and len(made) == 2  # another kind

    copy.title = "Renamed"  # a changed card is made again, never served its old rendering
    assert copy.remembered("k", make) == "<Renamed>"
    assert card.remembered("k", make) == f"<{job.title}>"
    assert made == [job.title, job.title, "Renamed", job.title]


def test_card_values_show_hourly_ranges_and_fixed_prices(varied_jobs):
    cards = {c.public_id: c for c in selectors.job_search_card_page(params={}, viewer=None).jobs}

    values = {v["public_id"]: v for v in card_values(list(cards.values()))}

    assert values[varied_jobs[0].public_id]["budget"] == "Fixed price: $1,500.00"
    assert values[varied_jobs[1].public_id]["budget"] == "Hourly: $25.00\u2013$60.00"
    assert values[varied_jobs[1].public_id]["experience"] == "Expert"
    assert values[varied_jobs[1].public_id]["duration"] == "More than 6 months"
    assert values[varied_jobs[1].public_id]["url"] == f"/jobs/{varied_jobs[1].public_id}/"


@requires_postgres
def test_ranked_cards_on_postgresql_page_like_the_orm(client_user, freelancer):
    """The relevance page's single statement (``_fetch_ranked_cards``) against the ORM's."""
    jobs = [
        make_job(
            client_user,
            title=f"Django booking site {i}",
            description=f"A booking site to build. {'Django ' * (i % 4)}and PostgreSQL, with tests.",
        )
        for i in range(9)
    ]
    services.job_save(actor=freelancer, job_id=jobs[4].pk)
    params = QueryDict("q=django")
    for viewer in (None, freelancer):
        cursors: list[str | None] = [None, None]
        seen = []
        for _ in range(5):
            models = selectors.job_search_page(params=params, viewer=viewer, cursor=cursors[0], page_size=2)
            cards = selectors.job_search_card_page(
                params=params, viewer=viewer, cursor=cursors[1], page_size=2
            )
            assert cards.step == models.step == "exact"
            assert [(c.pk, c.score, c.is_saved) for c in cards.jobs] == [
                (j.pk, j.score, j.is_saved)  # type: ignore[attr-defined]
                for j in models.jobs
            ]
            assert (cards.count, cards.next_cursor) == (models.count, models.next_cursor)
            seen += [c.pk for c in cards.jobs]
            cursors = [models.next_cursor, cards.next_cursor]
            if not cursors[0]:
                break
        assert sorted(seen) == sorted(j.pk for j in jobs)


def test_the_search_page_html_uses_the_lean_cards(client, varied_jobs):
    body = client.get("/jobs/search/", {"q": "django"}).content.decode()

    assert body.count('class="card mb-3 shadow-sm job-card"') == 3
    assert "Hourly: $25.00\u2013$60.00" in body


def test_the_save_buttons_of_a_page_are_the_save_button_partial(client, freelancer, varied_jobs):
    services.job_save(actor=freelancer, job_id=varied_jobs[1].pk)
    client.force_login(freelancer)

    body = client.get("/jobs/search/", {"q": "django"}).content.decode()

    for job in varied_jobs:
        card = body[body.index(f'data-job="{job.public_id}"') :]
        card = card[: card.index("</article>")]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card).group(1)
        button = render_to_string(
            "jobs/partials/save_button.html",
            {"job": job, "saved": job.pk == varied_jobs[1].pk, "csrf_token": token},
        )
        assert button.strip() in card
