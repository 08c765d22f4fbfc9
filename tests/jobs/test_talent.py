"""Talent search: the filters, the sort orders, keyset pagination, the /talent/ page with
its htmx partial, and GET /api/v1/talent/.

Profiles are built and published through the accounts services. Reputation (rating, Job
Success Score, earnings) is written by the reviews and payments services, which come with
later issues; here it is set on the profile row as leaf data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import (
    Availability,
    FreelancerProfile,
    Skill,
    SkillAssessment,
    User,
    Visibility,
)
from jobs import talent
from marketplace.errors import ApplicationError
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
PLAIN_OVERVIEW = "Reliable remote professional with years of experience and clear communication. " * 2


def make_talent(
    *,
    title: str = "Generalist",
    overview: str = PLAIN_OVERVIEW,
    rate_cents: int = 5000,
    country: str = "PL",
    availability: str = Availability.AS_NEEDED,
    skills: list[str] | None = None,
    languages: dict[str, str] | None = None,
    rating: str | None = None,
    jss: int | None = None,
    reviews: int = 0,
    earned_cents: int = 0,
    visibility: str = Visibility.PUBLIC,
) -> User:
    """A published freelancer (English: fluent unless ``languages`` says otherwise)."""
    user = factories.make_published_freelancer()
    accounts_services.freelancer_profile_update(
        actor=user,
        title=title,
        overview=overview,
        hourly_rate_cents=rate_cents,
        country=country,
        availability=availability,
        visibility=visibility,
    )
    if skills is not None:
        ids = list(Skill.objects.filter(name__in=skills).values_list("pk", flat=True))
        assert len(ids) == len(skills)
        accounts_services.freelancer_profile_set_skills(actor=user, skill_ids=ids)
    for code, level in (languages or {}).items():
        accounts_services.language_set(actor=user, language=code, proficiency=level)
    FreelancerProfile.objects.filter(user=user).update(
        rating_avg=Decimal(rating) if rating is not None else None,
        job_success_score=jss,
        reviews_count=reviews,
        total_earned_cents=earned_cents,
    )
    return user


def pass_test(user: User, skill_name: str, *, correct: bool = True) -> None:
    assessment = SkillAssessment.objects.get(skill__name=skill_name)
    attempt = accounts_services.assessment_start(actor=user, assessment_id=assessment.pk)
    answers = {
        question.pk: next(c.pk for c in question.choices.all() if c.is_correct == correct)
        for question in assessment.questions.prefetch_related("choices")
    }
    accounts_services.assessment_submit(actor=user, attempt_id=attempt.pk, answers=answers)


def query(params: dict | None = None) -> QueryDict:
    return QueryDict(urlencode(params or {}, doseq=True))


def found(params: dict | None = None, viewer=None) -> list[int]:
    """User ids of the results, in order."""
    search = talent.talent_search(params=query(params), viewer=viewer)
    assert search.is_valid, search.errors
    return [profile.user_id for profile in search.profiles]


def found_set(params: dict | None = None, viewer=None) -> set[int]:
    return set(found(params, viewer))


def skill_id(name: str) -> int:
    return Skill.objects.get(name=name).pk


def authed(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


# --- visibility ----------------------------------------------------------------------------------


def test_search_lists_only_published_visible_profiles_of_active_users(staff):
    public = make_talent()
    logged_in_only = make_talent(visibility=Visibility.LOGGED_IN)
    make_talent(visibility=Visibility.PRIVATE)
    factories.make_freelancer()  # never published
    suspended = make_talent()
    accounts_services.user_suspend(actor=staff, user_id=suspended.pk, reason="spam")
    viewer = factories.make_client()

    assert found_set(viewer=AnonymousUser()) == {public.pk}
    assert found_set(viewer=viewer) == {public.pk, logged_in_only.pk}


# --- keyword ---------------------------------------------------------------------------------------


def test_keyword_matches_the_title_the_overview_or_a_skill_name():
    in_title = make_talent(title="Kubernetes engineer")
    in_overview = make_talent(overview="I run kubernetes clusters for startups. " * 3)
    in_skill = make_talent(skills=["Kubernetes"])
    make_talent(title="Copywriter", skills=["Copywriting"])

    assert found_set({"q": "kubernetes"}) == {in_title.pk, in_overview.pk, in_skill.pk}


def test_every_keyword_must_match_somewhere():
    both = make_talent(title="Python developer", skills=["Django"])
    make_talent(title="Python developer", skills=["Python"])

    assert found({"q": "python django"}) == [both.pk]


def test_keyword_relevance_ranks_title_above_skill_above_overview_before_reputation():
    overview_only = make_talent(overview="Some Figma work now and then. " * 4, rating="5.00", jss=100)
    skill_only = make_talent(skills=["Figma"], rating="4.50", jss=95)
    title_only = make_talent(title="Figma designer", rating="3.00", jss=60)

    assert found({"q": "figma"}) == [title_only.pk, skill_only.pk, overview_only.pk]


def test_a_blank_keyword_filters_nothing():
    first, second = make_talent(), make_talent()

    assert found_set({"q": "   "}) == {first.pk, second.pk}


# --- structured filters ---------------------------------------------------------------------------


def test_skills_filter_matches_freelancers_with_any_of_the_chosen_skills():
    python = make_talent(skills=["Python"])
    excel = make_talent(skills=["Excel"])
    make_talent(skills=["Figma"])

    assert found_set({"skills": [skill_id("Python"), skill_id("Excel")]}) == {python.pk, excel.pk}


def test_category_filter():
    figma = Skill.objects.select_related("subcategory").get(name="Figma")
    designer = make_talent(skills=["Figma"])
    accounts_services.freelancer_profile_update(
        actor=designer, category_id=figma.subcategory.category_id, subcategory_id=figma.subcategory_id
    )
    make_talent()  # the factory's category: Web, Mobile & Software Dev

    assert found({"category": figma.subcategory.category_id}) == [designer.pk]


def test_rate_range_is_typed_in_dollars_and_includes_both_ends():
    at_min = make_talent(rate_cents=4000)
    at_max = make_talent(rate_cents=6050)
    make_talent(rate_cents=3999)
    make_talent(rate_cents=6051)

    assert found_set({"rate_min": "40", "rate_max": "60.50"}) == {at_min.pk, at_max.pk}


def test_rate_min_alone_and_rate_max_alone():
    cheap = make_talent(rate_cents=2000)
    dear = make_talent(rate_cents=9000)

    assert found({"rate_min": "50"}) == [dear.pk]
    assert found({"rate_max": "$50.00"}) == [cheap.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"rate_min": "60", "rate_max": "40"},
            "rate_max",
            "The maximum rate must be at least the minimum rate.",
        ),
        ({"rate_min": "-5"}, "rate_min", "Enter an amount of $0 or more."),
        ({"rate_min": "ten"}, "rate_min", "Enter an amount like 45 or 45.50."),
        ({"rating_min": "6"}, "rating_min", "Ensure this value is less than or equal to 5."),
        ({"jss_min": "abc"}, "jss_min", "Enter a whole number."),
        ({"jss_min": "101"}, "jss_min", "Ensure this value is less than or equal to 100."),
        (
            {"english": "perfect"},
            "english",
            "Select a valid choice. perfect is not one of the available choices.",
        ),
        ({"sort": "random"}, "sort", "Select a valid choice. random is not one of the available choices."),
        ({"country": "XX"}, "country", "Select a valid choice. XX is not one of the available choices."),
    ],
)
def test_invalid_filters_give_field_errors_and_no_results(params, field, message):
    make_talent()

    search = talent.talent_search(params=query(params), viewer=None)

    assert search.is_valid is False
    assert search.errors == {field: [message]}
    assert list(search.profiles) == []


def test_unknown_skill_id_is_a_field_error():
    search = talent.talent_search(params=query({"skills": [999999]}), viewer=None)

    assert search.errors == {"skills": ["Select a valid choice. 999999 is not one of the available choices."]}


def test_min_rating_leaves_out_lower_rated_and_unrated_freelancers():
    top = make_talent(rating="4.80", reviews=10)
    exactly = make_talent(rating="4.50", reviews=3)
    make_talent(rating="4.49", reviews=3)
    make_talent()  # no reviews yet

    assert found_set({"rating_min": "4.5"}) == {top.pk, exactly.pk}


def test_min_job_success_leaves_out_lower_scores_and_profiles_without_one():
    high = make_talent(jss=95)
    exactly = make_talent(jss=90)
    make_talent(jss=89)
    make_talent(jss=None)

    assert found_set({"jss_min": "90"}) == {high.pk, exactly.pk}


def test_without_a_job_success_filter_profiles_without_a_score_are_included():
    scored = make_talent(jss=70)
    new = make_talent(jss=None)

    assert found_set({}) == {scored.pk, new.pk}
    assert found_set({"jss_min": ""}) == {scored.pk, new.pk}
    assert found_set({"jss_min": "0"}) == {scored.pk}


def test_country_filter():
    german = make_talent(country="DE")
    make_talent(country="PL")

    assert found({"country": "DE"}) == [german.pk]


def test_languages_filter_matches_any_of_the_chosen_languages():
    spanish = make_talent(languages={"es": "native"})
    french = make_talent(languages={"fr": "conversational"})
    make_talent(languages={"de": "fluent"})

    assert found_set({"languages": ["es", "fr"]}) == {spanish.pk, french.pk}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("basic", {"basic", "conversational", "fluent", "native"}),
        ("conversational", {"conversational", "fluent", "native"}),
        ("fluent", {"fluent", "native"}),
        ("native", {"native"}),
    ],
)
def test_english_level_means_at_least_that_level(level, expected):
    by_level = {
        proficiency: make_talent(languages={"en": proficiency}).pk
        for proficiency in ("basic", "conversational", "fluent", "native")
    }
    no_english = make_talent()
    accounts_services.language_set(actor=no_english, language="pl", proficiency="native")
    accounts_services.language_delete(
        actor=no_english,
        item_id=no_english.freelancer_profile.languages.get(language="en").pk,
    )

    assert found_set({"english": level}) == {by_level[p] for p in expected}


def test_availability_filter_matches_any_of_the_chosen_values():
    full_time = make_talent(availability=Availability.MORE_THAN_30)
    part_time = make_talent(availability=Availability.LESS_THAN_30)
    make_talent(availability=Availability.NOT_AVAILABLE)

    chosen = [Availability.MORE_THAN_30, Availability.LESS_THAN_30]
    assert found_set({"availability": chosen}) == {full_time.pk, part_time.pk}


def test_verified_only_keeps_freelancers_who_passed_any_skill_test():
    verified = make_talent(skills=["Python"])
    pass_test(verified, "Python")
    failed = make_talent(skills=["Python"])
    pass_test(failed, "Python", correct=False)
    make_talent(skills=["Python"])

    assert found({"verified": "1"}) == [verified.pk]
    assert found({"verified": "on"}) == [verified.pk]
    assert found_set({"verified": "false"}) == found_set({})


def test_verified_with_chosen_skills_needs_a_pass_in_one_of_those_skills():
    python_verified = make_talent(skills=["Python", "Excel"])
    pass_test(python_verified, "Python")
    excel_verified = make_talent(skills=["Python", "Excel"])
    pass_test(excel_verified, "Excel")

    assert found({"skills": [skill_id("Python")], "verified": "true"}) == [python_verified.pk]
    assert found_set({"verified": "true"}) == {python_verified.pk, excel_verified.pk}


def test_filters_combine():
    wanted = make_talent(country="DE", rate_cents=7000, jss=92, skills=["Python"])
    make_talent(country="DE", rate_cents=7000, jss=80, skills=["Python"])
    make_talent(country="FR", rate_cents=7000, jss=92, skills=["Python"])

    params = {"country": "DE", "rate_min": "50", "jss_min": "90", "skills": [skill_id("Python")]}
    assert found(params) == [wanted.pk]


# --- sorting ---------------------------------------------------------------------------------------


def test_sort_by_rate_low_to_high_and_high_to_low():
    mid = make_talent(rate_cents=5000)
    low = make_talent(rate_cents=2000)
    high = make_talent(rate_cents=9000)

    assert found({"sort": "rate_asc"}) == [low.pk, mid.pk, high.pk]
    assert found({"sort": "rate_desc"}) == [high.pk, mid.pk, low.pk]


def test_sort_newest_orders_by_publication():
    with time_machine.travel(NOW, tick=False) as traveller:
        older = make_talent()
        traveller.shift(timedelta(hours=1))
        newer = make_talent()

    assert found({"sort": "newest"}) == [newer.pk, older.pk]


def test_best_match_orders_by_reputation():
    good = make_talent(rating="4.60", jss=90, reviews=5)
    best = make_talent(rating="4.90", jss=98, reviews=20)
    fair = make_talent(rating="4.20", jss=85, reviews=3)

    assert found() == [best.pk, good.pk, fair.pk]
    assert found({"sort": "best"}) == [best.pk, good.pk, fair.pk]


def test_best_match_ranks_a_new_profile_as_4_stars_and_80_percent_not_at_the_bottom():
    # quality = rating in hundredths + 5 x JSS: new = 400 + 400 = 800
    better = make_talent(rating="4.50", jss=85, reviews=4)  # 450 + 425 = 875
    new = make_talent()
    worse = make_talent(rating="3.50", jss=70, reviews=4)  # 350 + 350 = 700

    assert found() == [better.pk, new.pk, worse.pk]


def test_best_match_treats_a_missing_score_or_rating_as_neutral_on_its_own():
    rated_no_jss = make_talent(rating="4.40", reviews=2)  # 440 + 400 = 840
    jss_no_rating = make_talent(jss=90)  # 400 + 450 = 850
    new = make_talent()  # 800

    assert found() == [jss_no_rating.pk, rated_no_jss.pk, new.pk]


def test_best_match_breaks_equal_reputation_by_earnings_then_newest():
    with time_machine.travel(NOW, tick=False) as traveller:
        older_rich = make_talent(rating="4.50", jss=90, earned_cents=500_000)
        traveller.shift(timedelta(hours=1))
        older = make_talent(rating="4.50", jss=90)
        traveller.shift(timedelta(hours=1))
        newer = make_talent(rating="4.50", jss=90)

    assert found() == [older_rich.pk, newer.pk, older.pk]


# --- keyset pagination -----------------------------------------------------------------------------


def _walk(params: dict, size: int) -> list[int]:
    search = talent.talent_search(params=query(params), viewer=None)
    seen: list[int] = []
    cursor = None
    while True:
        page = talent.talent_page(search, cursor=cursor, size=size)
        seen += [card.profile.user_id for card in page.cards]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
        search = talent.talent_search(params=query(params), viewer=None)


@pytest.mark.parametrize("keywords", ["python", ""])
@pytest.mark.parametrize("sort", ["best", "rate_asc", "rate_desc", "newest"])
def test_keyset_pages_walk_every_result_once_in_order(sort, keywords):
    with time_machine.travel(NOW, tick=False) as traveller:
        for rate, rating, jss in [
            (5000, "4.50", 90),
            (5000, "4.50", 90),  # ties on every reputation key
            (3000, None, None),
            (7000, "4.90", 99),
            (5000, None, None),
            (3000, "3.10", 55),
            (9900, "4.50", 90),
        ]:
            make_talent(rate_cents=rate, rating=rating, jss=jss, skills=["Python"])
            traveller.shift(timedelta(minutes=1))

    params = {"sort": sort, "q": keywords}
    assert _walk(params, size=2) == found(params)
    assert len(found(params)) == 7


def test_a_cursor_of_another_sort_or_garbage_is_refused():
    for _ in range(3):
        make_talent()
    best = talent.talent_search(params=query({}), viewer=None)
    cursor = talent.talent_page(best, size=1).next_cursor
    assert cursor is not None
    newest = talent.talent_search(params=query({"sort": "newest"}), viewer=None)

    for bad in (cursor, "not-a-cursor", "eyJzIjoiYmVzdCJ9"):
        with pytest.raises(ApplicationError) as caught:
            talent.talent_page(newest if bad == cursor else best, cursor=bad)
        assert caught.value.code == "invalid_cursor"


# --- cards -----------------------------------------------------------------------------------------


def test_cards_put_verified_skills_first_and_list_them():
    user = make_talent(skills=["Excel", "Python", "Django"])
    pass_test(user, "Python")
    search = talent.talent_search(params=query(), viewer=None)

    [card] = talent.talent_cards(search.profiles)

    assert [s.name for s in card.verified_skills] == ["Python"]
    assert [s.name for s in card.top_skills] == ["Python", "Django", "Excel"]
    assert [(lang.language, lang.proficiency) for lang in card.languages] == [("en", "fluent")]


# --- the page ---------------------------------------------------------------------------------------


def test_talent_page_for_anonymous_visitors_shows_cards_without_invite_buttons(client):
    user = make_talent(title="Kubernetes engineer", jss=93, rating="4.75", reviews=8, rate_cents=8500)
    new = make_talent(title="Junior analyst")
    pass_test(user, "Python")

    response = client.get("/talent/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="talent-card"') == 2
    assert "Kubernetes engineer" in html
    assert "$85.00" in html
    assert "93% Job Success" in html
    assert "4.75" in html
    assert "(8 reviews)" in html
    assert "Verified: Python" in html
    assert f'href="/freelancers/{new.freelancer_profile.public_id}/"' in html
    assert ">New</span>" in html
    assert 'data-testid="invite-button"' not in html
    assert 'hx-push-url="true"' in html
    assert "2 freelancers" in html


def test_talent_page_for_a_client_with_one_open_job_links_invite_to_that_job(client, client_user):
    job = make_job(client_user)
    freelancer = make_talent()
    client.force_login(client_user)

    html = client.get("/talent/").content.decode()

    assert f'href="/jobs/{job.public_id}/invite/?freelancer={freelancer.pk}"' in html


def test_talent_page_for_a_client_with_several_open_jobs_links_invite_to_the_job_picker(client, client_user):
    make_job(client_user)
    second = make_job(client_user, title="Second job for the picker")
    freelancer = make_talent()
    client.force_login(client_user)

    html = client.get("/talent/").content.decode()
    chosen = client.get(f"/talent/?job={second.public_id}").content.decode()

    assert f'href="/talent/invite/{freelancer.pk}/"' in html
    assert f'href="/jobs/{second.public_id}/invite/?freelancer={freelancer.pk}"' in chosen
    assert f'<input type="hidden" name="job" value="{second.public_id}">' in chosen


def test_talent_page_shows_no_invite_button_to_clients_without_open_jobs_or_to_freelancers(client):
    make_talent()
    client_without_jobs = factories.make_client()
    make_job(client_without_jobs, publish=False)
    freelancer = make_talent()

    for viewer in (client_without_jobs, freelancer):
        client.force_login(viewer)
        assert 'data-testid="invite-button"' not in client.get("/talent/").content.decode()


def test_talent_page_filters_from_the_query_string_and_keeps_them_in_the_form(client):
    german = make_talent(country="DE", title="Data engineer")
    make_talent(country="PL")

    response = client.get("/talent/", {"country": "DE", "q": "data"})

    html = response.content.decode()
    assert html.count('data-testid="talent-card"') == 1
    assert german.freelancer_profile.public_id in html
    assert 'value="data"' in html
    assert '<option value="DE" selected>' in html


def test_htmx_request_gets_only_the_results(client):
    make_talent(title="Kubernetes engineer")

    response = client.get("/talent/", {"q": "kubernetes"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="talent-filters"' not in html
    assert html.count('data-testid="talent-card"') == 1
    assert "1 freelancer" in html


def test_htmx_history_restore_gets_the_whole_page_and_responses_vary_on_hx_request(client):
    make_talent()

    restore = client.get("/talent/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    plain = client.get("/talent/")

    assert 'id="talent-filters"' in restore.content.decode()
    assert "HX-Request" in plain["Vary"]


def test_a_job_of_someone_else_in_the_query_is_ignored(client, client_user):
    make_job(client_user)
    make_job(client_user, title="Second job for the picker")
    foreign = make_job(factories.make_client(), title="Somebody else's job")
    freelancer = make_talent()
    client.force_login(client_user)

    html = client.get(f"/talent/?job={foreign.public_id}").content.decode()

    assert foreign.public_id not in html
    assert f'href="/talent/invite/{freelancer.pk}/"' in html


def test_empty_results_show_the_empty_state(client):
    make_talent(country="PL")

    html = client.get("/talent/", {"country": "DE"}).content.decode()

    assert 'data-testid="talent-empty"' in html
    assert "No freelancers match these filters." in html


def test_invalid_filters_are_shown_not_a_500(client):
    make_talent()

    full = client.get("/talent/", {"rate_min": "90", "rate_max": "10"})
    partial = client.get("/talent/", {"jss_min": "lots"}, HTTP_HX_REQUEST="true")

    assert full.status_code == 200
    assert "The maximum rate must be at least the minimum rate." in full.content.decode()
    assert 'data-testid="talent-card"' not in full.content.decode()
    assert "Job Success: Enter a whole number." in partial.content.decode()


def test_talent_page_paginates_with_the_filters_kept(client):
    for _ in range(talent.PAGE_SIZE + 1):
        make_talent(country="DE")

    first = client.get("/talent/", {"country": "DE"}).content.decode()
    second = client.get("/talent/", {"country": "DE", "page": "2"}).content.decode()

    assert first.count('data-testid="talent-card"') == talent.PAGE_SIZE
    assert 'href="/talent/?country=DE&amp;page=2"' in first
    assert second.count('data-testid="talent-card"') == 1


def test_skill_options_partial_lists_the_categorys_skills_and_keeps_ticked_ones(client):
    figma = Skill.objects.select_related("subcategory").get(name="Figma")
    python = Skill.objects.get(name="Python")

    response = client.get(
        "/talent/skills/", {"category": figma.subcategory.category_id, "skills": [python.pk, "x"]}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{figma.pk}"' in html
    assert f'value="{python.pk}" id="talent-skill-{python.pk}" checked' in html


def _count_queries(client, path: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return len(captured)


def test_talent_page_and_api_run_the_same_number_of_queries_for_5_and_20_freelancers(client, client_user):
    make_job(client_user)

    def add(n: int) -> None:
        for i in range(n):
            user = make_talent(skills=["Python", "Excel"], languages={"de": "basic"}, jss=80 + i % 10)
            if i % 2 == 0:
                pass_test(user, "Python")

    add(5)
    client.force_login(client_user)
    api = authed(client_user)
    page_5 = _count_queries(client, "/talent/")
    htmx_5 = _count_queries(client, "/talent/?q=python", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as captured:
        assert len(api.get("/api/v1/talent/").json()["results"]) == 5
    api_5 = len(captured)

    add(15)
    page_20 = _count_queries(client, "/talent/")
    htmx_20 = _count_queries(client, "/talent/?q=python", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as captured:
        assert len(api.get("/api/v1/talent/").json()["results"]) == 20
    api_20 = len(captured)

    assert (page_20, htmx_20, api_20) == (page_5, htmx_5, api_5)


# --- the API ----------------------------------------------------------------------------------------


def test_api_talent_returns_the_documented_fields(api_client):
    user = make_talent(
        title="Data engineer",
        rate_cents=7500,
        country="DE",
        jss=91,
        rating="4.85",
        skills=["Python", "Excel"],
    )
    pass_test(user, "Python")
    profile = user.freelancer_profile

    response = api_client.get("/api/v1/talent/")

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "results": [
            {
                "public_id": profile.public_id,
                "name": user.display_name,
                "title": "Data engineer",
                "hourly_rate_cents": 7500,
                "country": "DE",
                "job_success_score": 91,
                "rating_avg": "4.85",
                "skills": [
                    {"id": skill_id("Excel"), "name": "Excel", "slug": Skill.objects.get(name="Excel").slug},
                    {"id": skill_id("Python"), "name": "Python", "slug": "python"},
                ],
                "verified_skills": [{"id": skill_id("Python"), "name": "Python", "slug": "python"}],
                "availability": "as_needed",
            }
        ],
    }


def test_api_talent_applies_the_filters(api_client):
    for rate in (2000, 3000, 4000, 5000, 6000):
        make_talent(rate_cents=rate, country="DE")
    make_talent(rate_cents=2500, country="PL")

    body = api_client.get("/api/v1/talent/", {"country": "DE", "sort": "rate_asc", "rate_max": "55"}).json()

    assert [r["hourly_rate_cents"] for r in body["results"]] == [2000, 3000, 4000, 5000]
    assert body["next"] is None


def test_api_talent_pages_with_a_cursor(api_client):
    for rate in range(3000, 3000 + 25 * 100, 100):
        make_talent(rate_cents=rate)

    first = api_client.get("/api/v1/talent/", {"sort": "rate_desc"}).json()
    query_of_next = parse_qs(urlparse(first["next"]).query)
    second = api_client.get(first["next"]).json()

    assert len(first["results"]) == 20
    assert query_of_next["sort"] == ["rate_desc"]
    assert len(second["results"]) == 5
    assert second["next"] is None
    rates = [r["hourly_rate_cents"] for r in first["results"] + second["results"]]
    assert rates == sorted(rates, reverse=True)
    assert len(set(rates)) == 25


def test_api_talent_bad_filters_and_bad_cursor_are_400(api_client):
    bad_filter = api_client.get("/api/v1/talent/", {"rating_min": "7"})
    bad_cursor = api_client.get("/api/v1/talent/", {"cursor": "zzz"})

    assert bad_filter.status_code == 400
    assert bad_filter.json() == {
        "message": "rating_min: Ensure this value is less than or equal to 5.",
        "code": "validation_error",
        "extra": {"fields": {"rating_min": ["Ensure this value is less than or equal to 5."]}},
    }
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["code"] == "invalid_cursor"


def test_api_talent_is_read_only_for_a_suspended_caller(staff):
    user = factories.make_client()
    job = make_job(client=user)
    freelancer = factories.make_published_freelancer()
    api = authed(user)
    accounts_services.user_suspend(actor=staff, user_id=user.pk, reason="spam")

    read = api.get("/api/v1/talent/")
    invite = api.post(
        f"/api/v1/jobs/{job.public_id}/invitations/",
        {"freelancer_id": freelancer.pk, "message": "Would you like to work on this with me?"},
        format="json",
    )

    assert read.status_code == 200
    assert invite.status_code == 403
    assert invite.json()["code"] == "account_suspended"
    assert not job.invitations.exists()
