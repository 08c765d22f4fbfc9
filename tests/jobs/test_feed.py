"""The freelancer's job feed, "Not interested", suggested talent, and their API."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Skill
from jobs import matching
from jobs.models import Job, JobMatch, MatchDismissal
from tests import factories
from tests.jobs.conftest import make_job
from tests.jobs.test_matching import make_matched_freelancer

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def matched(db):
    """A freelancer with two matched jobs; the Django one fits better."""
    freelancer = make_matched_freelancer(skills=("Python", "Django"))
    python_job = make_job(title="Python script for invoices", skill_ids=[Skill.objects.get(name="Python").pk])
    django_job = make_job(skill_ids=[Skill.objects.get(name=n).pk for n in ("Python", "Django")])
    matching.refresh_for_freelancer(profile_id=freelancer.freelancer_profile.pk)
    return freelancer, django_job, python_job


def make_jobs_with_matches(freelancer, count: int) -> None:
    for i in range(count):
        make_job(title=f"Django booking site number {i}")
    matching.refresh_for_freelancer(profile_id=freelancer.freelancer_profile.pk)


@pytest.fixture(autouse=True)
def _fresh_skill_rarity():
    """Skill rarity is cached between refreshes; each test counts its own jobs."""
    cache.delete(matching.CONTEXT_CACHE_KEY)


# --- feed page ---------------------------------------------------------------------------------


def test_best_matches_show_the_jobs_best_first_with_reasons(client, matched):
    freelancer, django_job, python_job = matched
    client.force_login(freelancer)

    response = client.get(reverse("jobs:feed"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(django_job.title) < html.index(python_job.title)
    assert "2 of 2 skills" in html
    assert "1 of 1 skills" in html
    assert html.count('data-testid="dismiss-form"') == 2
    assert 'aria-current="page">Best matches' in html


def test_most_recent_lists_jobs_newest_first(client, matched):
    freelancer, django_job, python_job = matched
    client.force_login(freelancer)

    response = client.get(reverse("jobs:feed"), {"tab": "recent"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-current="page">Most recent' in html
    assert html.index(django_job.title) < html.index(python_job.title)


def test_most_recent_leaves_out_other_fields_and_dismissed_jobs(db):
    freelancer = make_matched_freelancer()
    python_job = make_job(title="Python script for invoices")
    dismissed = make_job(title="Python job I do not want")
    docker = Skill.objects.get(name="Docker")
    make_job(
        title="Kubernetes cluster upgrade",
        category_id=docker.subcategory.category_id,
        subcategory_id=docker.subcategory_id,
        skill_ids=[docker.pk],
    )
    matching.match_dismiss(actor=freelancer, job_id=dismissed.pk, reason="other")

    page = matching.feed_most_recent(profile=freelancer.freelancer_profile)

    assert [item.job.pk for item in page.items] == [python_job.pk]
    assert page.next_cursor is None


def test_feed_pages_follow_the_keyset_cursor(db, matched):
    freelancer, django_job, python_job = matched
    profile = freelancer.freelancer_profile
    third = make_job(title="Third Django job here")
    matching.refresh_for_freelancer(profile_id=profile.pk)
    expected = list(
        JobMatch.objects.filter(freelancer=profile).order_by("-score", "-id").values_list("job_id", flat=True)
    )

    first = matching.feed_best_matches(profile=profile, limit=2)
    second = matching.feed_best_matches(profile=profile, cursor=first.next_cursor, limit=2)
    recent_first = matching.feed_most_recent(profile=profile, limit=2)
    recent_second = matching.feed_most_recent(profile=profile, cursor=recent_first.next_cursor, limit=2)

    assert [i.job.pk for i in first.items + second.items] == expected
    assert second.next_cursor is None
    assert [i.job.pk for i in recent_first.items + recent_second.items] == [
        third.pk,
        django_job.pk,
        python_job.pk,
    ]
    assert recent_second.next_cursor is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "MQ", "OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ"])
def test_forged_cursors_are_refused(db, matched, cursor):
    profile = matched[0].freelancer_profile

    for select in (matching.feed_best_matches, matching.feed_most_recent):
        with pytest.raises(matching.InvalidCursorError) as caught:
            select(profile=profile, cursor=cursor)
        assert caught.value.code == "invalid_cursor"


def test_show_more_with_htmx_renders_only_the_next_cards(client, matched, monkeypatch):
    freelancer, django_job, python_job = matched
    client.force_login(freelancer)
    from jobs.views import matches as views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    first = client.get(reverse("jobs:feed"))
    cursor = matching.feed_best_matches(profile=freelancer.freelancer_profile, limit=1).next_cursor

    more = client.get(reverse("jobs:feed"), {"cursor": cursor}, **HTMX)

    assert 'data-testid="feed-more"' in first.content.decode()
    assert "<html" not in more.content.decode()
    assert python_job.title in more.content.decode()
    assert django_job.title not in more.content.decode()


def test_a_forged_cursor_goes_back_to_the_first_page_with_a_message(client, matched):
    freelancer, *_ = matched
    client.force_login(freelancer)

    response = client.get(reverse("jobs:feed"), {"cursor": "not-a-cursor"}, follow=True)

    assert response.redirect_chain == [(reverse("jobs:feed"), 302)]
    assert "That page link is not valid; start from the first page." in response.content.decode()


def test_empty_feed_explains_what_is_missing_from_the_profile(client, freelancer):
    client.force_login(freelancer)

    response = client.get(reverse("jobs:feed"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="feed-empty"' in html
    assert "Complete your profile to get matched" in html
    assert "Choose your category and skills" in html
    assert "Set your hourly rate" in html
    assert reverse("accounts:onboarding_step", args=["about"]) in html


def test_empty_feed_of_a_complete_profile_says_matches_will_come(client, db):
    freelancer = make_matched_freelancer()
    client.force_login(freelancer)

    response = client.get(reverse("jobs:feed"))

    html = response.content.decode()
    assert "No matches yet" in html
    assert "Complete your profile" not in html


def test_feed_needs_a_login(client, db):
    response = client.get(reverse("jobs:feed"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_feed_is_refused_to_a_client_without_a_freelancer_profile(client, client_user):
    client.force_login(client_user)

    response = client.get(reverse("jobs:feed"))

    assert response.status_code == 403
    assert "Switch to freelancing to see jobs matched to you." in response.content.decode()


def test_feed_queries_do_not_grow_with_the_number_of_matches(client, db):
    few = make_matched_freelancer()
    many = make_matched_freelancer(skills=("Django",))
    make_jobs_with_matches(few, 5)
    make_jobs_with_matches(many, 15)
    matching.refresh_for_freelancer(profile_id=many.freelancer_profile.pk)
    assert JobMatch.objects.filter(freelancer=few.freelancer_profile).count() == 5
    assert JobMatch.objects.filter(freelancer=many.freelancer_profile).count() == 20

    counts = []
    for user in (few, many):
        client.force_login(user)
        for tab in ("best", "recent"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("jobs:feed"), {"tab": tab})
            assert response.status_code == 200
            counts.append(len(queries))

    assert counts[0] == counts[2]  # best matches, 5 vs 20
    assert counts[1] == counts[3]  # most recent, 5 vs 20


# --- "Not interested" ----------------------------------------------------------------------------


def test_dismiss_without_js_redirects_back_with_a_message(client, matched):
    freelancer, django_job, python_job = matched
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:dismiss", args=[django_job.public_id]),
        {"reason": "not_interested", "tab": "recent"},
        follow=True,
    )

    html = response.content.decode()
    assert response.redirect_chain == [(reverse("jobs:feed") + "?tab=recent", 302)]
    assert f"Hidden “{django_job.title}”. Your feed will show fewer jobs like it." in html
    assert f'data-job="{django_job.public_id}"' not in html
    assert f'data-job="{python_job.public_id}"' in html
    assert MatchDismissal.objects.get().reason == "not_interested"


def test_dismiss_with_htmx_removes_the_card_and_shows_the_message_out_of_band(client, matched):
    freelancer, django_job, _ = matched
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:dismiss", args=[django_job.public_id]), {"reason": "budget_too_low"}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Reswap" not in response
    assert 'hx-swap-oob="true"' in html
    assert f"Hidden “{django_job.title}”." in html
    assert "job-card" not in html
    feed = client.get(reverse("jobs:feed")).content.decode()
    assert f'data-job="{django_job.public_id}"' not in feed


def test_dismiss_without_a_reason_keeps_the_card_and_says_why(client, matched):
    freelancer, django_job, _ = matched
    client.force_login(freelancer)
    url = reverse("jobs:dismiss", args=[django_job.public_id])

    with_htmx = client.post(url, {"reason": ""}, **HTMX)
    without_js = client.post(url, {"reason": "boring"}, follow=True)

    assert with_htmx["HX-Reswap"] == "none"
    assert "Choose why this job is not for you." in with_htmx.content.decode()
    assert "Choose why this job is not for you." in without_js.content.decode()
    assert MatchDismissal.objects.count() == 0


def test_dismiss_of_an_unknown_job_is_404(client, db):
    freelancer = make_matched_freelancer()
    client.force_login(freelancer)

    response = client.post(reverse("jobs:dismiss", args=["~02nothere"]), {"reason": "other"})

    assert response.status_code == 404


def test_dismiss_needs_a_login_and_a_freelancer(client, matched, client_user):
    _, django_job, _ = matched
    url = reverse("jobs:dismiss", args=[django_job.public_id])

    anonymous = client.post(url, {"reason": "other"})
    client.force_login(client_user)
    as_client = client.post(url, {"reason": "other"})

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert as_client.status_code == 403
    assert MatchDismissal.objects.count() == 0


def test_dismiss_refuses_get(client, matched):
    freelancer, django_job, _ = matched
    client.force_login(freelancer)

    assert client.get(reverse("jobs:dismiss", args=[django_job.public_id])).status_code == 405


# --- suggested talent partial ----------------------------------------------------------------------


def test_suggested_talent_partial_shows_each_freelancer_with_links(db, client_user):
    freelancer = make_matched_freelancer(first_name="Ada", last_name="Lovelace")
    job = make_job(client_user)
    matching.refresh_for_job(job_id=job.pk)
    suggestions = matching.suggested_talent_for_job(job=job, viewer=client_user)

    html = render_to_string("jobs/matches/suggested_talent.html", {"job": job, "suggestions": suggestions})

    profile = freelancer.freelancer_profile
    assert "Ada L." in html
    assert "Django developer" in html
    assert "$50.00/hr" in html
    assert "1 of 1 skills" in html
    assert reverse("accounts:freelancer_detail", args=[profile.public_id]) in html
    assert f"/jobs/{job.public_id}/invite/?freelancer={freelancer.pk}" in html


def test_suggested_talent_partial_has_an_empty_state(db, client_user):
    job = make_job(client_user)

    html = render_to_string("jobs/matches/suggested_talent.html", {"job": job, "suggestions": []})

    assert 'data-testid="suggested-talent-empty"' in html


# --- API -----------------------------------------------------------------------------------------


def test_api_lists_best_matches_with_score_and_reasons(api_client, matched):
    freelancer, django_job, python_job = matched
    api_client.force_authenticate(freelancer)

    response = api_client.get(reverse("api_matches"))

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"next", "previous", "results"}
    assert [r["job"]["public_id"] for r in body["results"]] == [django_job.public_id, python_job.public_id]
    assert body["results"][0]["reasons"][0] == "2 of 2 skills"
    assert body["results"][0]["job"]["skills"] == ["Django", "Python"]
    assert body["results"][0]["score"] == JobMatch.objects.get(job=django_job).score


def test_api_matches_refuse_a_client_and_an_anonymous_caller(api_client, client_user):
    anonymous = api_client.get(reverse("api_matches"))
    api_client.force_authenticate(client_user)
    as_client = api_client.get(reverse("api_matches"))

    assert anonymous.status_code in (401, 403)
    assert set(anonymous.json()) == {"message", "code", "extra"}
    assert as_client.status_code == 403
    assert as_client.json() == {
        "message": "You have no freelancer profile; switch role first.",
        "code": "not_freelancer",
        "extra": {},
    }


def test_api_dismiss_hides_the_match(api_client, matched):
    freelancer, django_job, _ = matched
    api_client.force_authenticate(freelancer)

    response = api_client.post(
        reverse("api_match_dismiss", args=[django_job.public_id]), {"reason": "not_my_skills"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["job"] == django_job.public_id
    assert response.json()["reason"] == "not_my_skills"
    listed = api_client.get(reverse("api_matches")).json()["results"]
    assert django_job.public_id not in [r["job"]["public_id"] for r in listed]


def test_api_dismiss_validates_the_reason_and_the_job(api_client, matched):
    freelancer, django_job, _ = matched
    api_client.force_authenticate(freelancer)

    bad_reason = api_client.post(
        reverse("api_match_dismiss", args=[django_job.public_id]), {"reason": "meh"}, format="json"
    )
    unknown_job = api_client.post(
        reverse("api_match_dismiss", args=["~02nothere"]), {"reason": "other"}, format="json"
    )

    assert bad_reason.status_code == 400
    assert bad_reason.json()["code"] == "validation_error"
    assert bad_reason.json()["extra"]["fields"]["reason"] == ['"meh" is not a valid choice.']
    assert unknown_job.status_code == 404
    assert unknown_job.json() == {"message": "No such job.", "code": "not_found", "extra": {}}
    assert MatchDismissal.objects.count() == 0


def test_api_suggested_talent_for_the_owner(api_client, db, client_user):
    freelancer = make_matched_freelancer()
    job = make_job(client_user)
    matching.refresh_for_job(job_id=job.pk)
    api_client.force_authenticate(client_user)

    response = api_client.get(reverse("api_suggested_talent", args=[job.public_id]))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["public_id"] for r in results] == [freelancer.freelancer_profile.public_id]
    assert results[0]["user_id"] == freelancer.pk
    assert results[0]["reasons"][0] == "1 of 1 skills"


def test_api_suggested_talent_is_404_for_anyone_else(api_client, db, client_user):
    make_matched_freelancer()
    job = make_job(client_user)
    matching.refresh_for_job(job_id=job.pk)
    api_client.force_authenticate(factories.make_client())

    response = api_client.get(reverse("api_suggested_talent", args=[job.public_id]))

    assert response.status_code == 404
    assert response.json() == {"message": "No such job.", "code": "not_found", "extra": {}}


def test_api_suggested_talent_validates_the_limit(api_client, db, client_user):
    job = make_job(client_user)
    api_client.force_authenticate(client_user)

    response = api_client.get(reverse("api_suggested_talent", args=[job.public_id]), {"limit": "0"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_closed_jobs_leave_the_feed(client, matched, django_capture_on_commit_callbacks):
    freelancer, django_job, python_job = matched
    from jobs import services

    with django_capture_on_commit_callbacks(execute=True):
        services.job_close(
            actor=django_job.client, job_id=django_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED
        )
    page = matching.feed_best_matches(profile=freelancer.freelancer_profile)

    assert [item.job.pk for item in page.items] == [python_job.pk]
