"""The score page ("what lowered my score" for the freelancer, how the score works for
everyone), the badges with their rules on the profile, and the scores API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import FreelancerProfile
from reviews import reputation
from reviews.reputation import TOP_RATED
from tests import factories

from .test_reputation import SECRET, T0, both_review, end, hire, pay_next

pytestmark = pytest.mark.django_db


def authed(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


@pytest.fixture
def history(local_gateway):
    """A freelancer with a good contract (client A, 5 stars) and a bad one (client B, 2
    stars), refreshed: 0% over two clients."""
    with time_machine.travel(T0, tick=False) as clock:
        freelancer = factories.make_published_freelancer()
        a, b = factories.make_client(), factories.make_client()
        good = hire(freelancer, a, title="Booking site")
        bad = hire(freelancer, b, title="Broken landing page")
        pay_next(good)
        pay_next(bad)
        clock.shift(timedelta(days=5))
        end(good)
        end(bad)
        both_review(good, 5)
        both_review(bad, 2)
        reputation.refresh_for_user(user_id=freelancer.pk)
    freelancer.freelancer_profile.refresh_from_db()
    return freelancer


def test_the_freelancer_sees_what_lowered_the_score_and_others_only_the_figures(client, history):
    profile = history.freelancer_profile
    url = reverse("reviews:score", args=[profile.public_id])

    client.force_login(history)
    page = client.get(url).content.decode()
    assert "What lowered it" in page
    assert "Broken landing page" in page and "The client rated it 2 of 5 stars" in page
    assert "How the Job Success Score works" in page
    assert SECRET not in page

    client.logout()
    public = client.get(url).content.decode()
    assert 'data-testid="jss">0%' in public
    assert "How the Job Success Score works" in public
    assert "What lowered it" not in public and "Broken landing page" not in public

    stranger = factories.make_client()
    client.force_login(stranger)
    assert "Broken landing page" not in client.get(url).content.decode()


def test_staff_see_the_components_as_staff_with_links_they_can_open(client, history):
    """Staff read the breakdown (moderation, disputes) but it is not "your" score, and its
    contracts link to their admin pages: the contract pages themselves are the parties'
    (a staff member following the freelancer's links got "No such contract")."""
    profile = history.freelancer_profile
    contract_ids = [
        c["contract_id"] for c in reputation.freelancer_scores(profile=profile, viewer=history).contracts
    ]
    assert len(contract_ids) == 2
    client.force_login(factories.make_staff())
    page = client.get(reverse("reviews:score", args=[profile.public_id])).content.decode()
    assert "Broken landing page" in page and "What lowered it" in page
    assert "Your Job Success Score" not in page and "Only you see this part" not in page
    assert 'data-testid="staff-view"' in page
    for contract_id in contract_ids:
        admin_url = reverse("admin:contracts_contract_change", args=[contract_id])
        assert f'href="{admin_url}"' in page
        assert f'href="{reverse("contracts:detail", args=[contract_id])}"' not in page
        assert client.get(admin_url).status_code == 200

    client.force_login(history)  # the freelancer's own page links to the contracts
    own = client.get(reverse("reviews:score", args=[profile.public_id])).content.decode()
    assert "Your Job Success Score" in own and 'data-testid="staff-view"' not in own
    for contract_id in contract_ids:
        assert f'href="{reverse("contracts:detail", args=[contract_id])}"' in own
        assert client.get(reverse("contracts:detail", args=[contract_id])).status_code == 200


def test_staff_who_may_not_view_contracts_in_the_admin_get_titles_without_links(client, history):
    profile = history.freelancer_profile
    moderator = factories.UserFactory(is_staff=True)  # staff, no admin permission on contracts
    client.force_login(moderator)
    page = client.get(reverse("reviews:score", args=[profile.public_id])).content.decode()
    assert "Broken landing page" in page and 'data-testid="staff-view"' in page
    assert "/admin/contracts/" not in page and "/contracts/" not in page.split('data-testid="components"')[1]
    assert "The contracts link to their admin pages" not in page


def test_scores_api_gives_components_only_to_the_freelancer(history):
    profile = history.freelancer_profile
    url = f"/api/v1/freelancers/{profile.public_id}/scores/"

    public = APIClient().get(url)
    assert public.status_code == 200
    assert public.data["job_success_score"] == 0
    assert public.data["total_jobs"] == 2 and public.data["total_earned_cents"] == 100_000
    assert public.data["components"] is None

    own = authed(history).get(url)
    components = own.data["components"]
    assert [w["months"] for w in components["windows"]] == [6, 12, 24]
    assert components["windows"][0] == {
        "months": 6,
        "good": 1,
        "bad": 1,
        "neutral": 0,
        "total": 2,
        "clients": 2,
        "score": 0,
        "counts": True,
    }
    outcomes = {c["title"]: c["outcome"] for c in components["contracts"]}
    assert outcomes == {"Booking site": "good", "Broken landing page": "bad"}
    assert SECRET not in str(own.data)

    other = authed(factories.make_freelancer()).get(url)
    assert other.status_code == 200 and other.data["components"] is None

    staff = authed(factories.make_staff()).get(url)
    assert {c["title"] for c in staff.data["components"]["contracts"]} == {
        "Booking site",
        "Broken landing page",
    }


def test_scores_of_an_unknown_or_unpublished_profile_are_404(client):
    unpublished = factories.make_freelancer()
    public_id = unpublished.freelancer_profile.public_id

    assert APIClient().get(f"/api/v1/freelancers/{public_id}/scores/").status_code == 404
    assert APIClient().get("/api/v1/freelancers/nope/scores/").status_code == 404
    assert client.get(reverse("reviews:score", args=[public_id])).status_code == 404
    assert APIClient().get("/api/v1/clients/nope/scores/").status_code == 404
    # the owner sees their own page, with an empty state
    client.force_login(unpublished)
    page = client.get(reverse("reviews:score", args=[public_id])).content.decode()
    assert "No score yet" in page and "Nothing: every counted contract was a good outcome." in page


def test_client_scores_api(db):
    a = factories.make_client()
    a.client_profile.__class__.objects.filter(pk=a.client_profile.pk).update(
        jobs_posted_count=4, hires_count=3, total_spent_cents=123_400, avg_hourly_rate_paid_cents=4500
    )

    data = APIClient().get(f"/api/v1/clients/{a.client_profile.public_id}/scores/").data

    assert (data["jobs_posted"], data["hires"], data["hire_rate_percent"]) == (4, 3, 75)
    assert (data["total_spent_cents"], data["avg_hourly_rate_paid_cents"]) == (123_400, 4500)
    assert data["rating_avg"] is None and data["reviews_count"] == 0


def test_profile_shows_badges_with_their_rule(client):
    freelancer = factories.make_published_freelancer()
    FreelancerProfile.objects.filter(user=freelancer).update(badges=[TOP_RATED], job_success_score=96)
    public_id = freelancer.freelancer_profile.public_id

    page = client.get(reverse("accounts:freelancer_detail", args=[public_id])).content.decode()

    assert "Top Rated" in page
    assert reputation.BADGE_RULES[TOP_RATED] in page
    assert reverse("reviews:score", args=[public_id]) in page


def test_my_score_takes_a_freelancer_to_their_page_and_turns_a_client_away(client):
    freelancer = factories.make_published_freelancer()
    client.force_login(freelancer)
    response = client.get(reverse("reviews:my_score"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:score", args=[freelancer.freelancer_profile.public_id])

    client.force_login(factories.make_client())
    response = client.get(reverse("reviews:my_score"), follow=True)
    assert "Only freelancers have a Job Success Score." in response.content.decode()

    client.logout()
    assert client.get(reverse("reviews:my_score")).status_code == 302  # to the sign-in page


def test_the_schema_documents_the_score_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/v1/freelancers/{public_id}/scores/" in schema["paths"]
    assert "/api/v1/clients/{public_id}/scores/" in schema["paths"]


def test_the_job_page_shows_the_clients_average_hourly_rate_paid(client):
    from tests.jobs.conftest import make_job

    a = factories.make_client()
    job = make_job(a)
    a.client_profile.__class__.objects.filter(pk=a.client_profile.pk).update(avg_hourly_rate_paid_cents=4550)

    body = client.get(reverse("jobs:detail", args=[job.public_id])).content.decode()

    assert "Avg hourly rate paid" in body and "$45.50/hr" in body
