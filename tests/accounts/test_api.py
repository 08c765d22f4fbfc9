"""The accounts API under /api/v1/: tokens, the own user and profiles, public profiles, taxonomy."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import (
    Category,
    ClientProfile,
    Education,
    Employment,
    FreelancerProfile,
    Skill,
    User,
    Visibility,
)
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = factories.PASSWORD
ENVELOPE_KEYS = {"message", "code", "extra"}
OVERVIEW = (
    "I build and maintain Django applications for small companies, from the first sketch to production. " * 2
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters (the token endpoint allows 20/min) live in the cache."""
    cache.clear()
    yield
    cache.clear()


def authed(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


def a_skill() -> Skill:
    return Skill.objects.select_related("subcategory").order_by("pk").first()


def fill_required_parts(user: User) -> None:
    skill = a_skill()
    services.freelancer_profile_update(
        actor=user,
        title="Django developer",
        category_id=skill.subcategory.category_id,
        hourly_rate_cents=5000,
        overview=OVERVIEW,
    )
    services.freelancer_profile_set_skills(actor=user, skill_ids=[skill.pk])
    services.language_set(actor=user, language="en", proficiency="fluent")


def suspend(user: User, reason: str = "fraud") -> None:
    services.user_suspend(actor=factories.make_staff(), user_id=user.pk, reason=reason)


# --- token --------------------------------------------------------------------------------------


def test_token_for_email_and_password(api_client, freelancer):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": freelancer.email.upper(), "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=freelancer).key}


def test_token_is_the_same_on_the_second_request(api_client, freelancer):
    first = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})
    second = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})

    assert first.json() == second.json()
    assert Token.objects.filter(user=freelancer).count() == 1


def test_token_with_a_wrong_password_is_400_invalid_credentials(api_client, freelancer):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": freelancer.email, "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "Email or password is wrong.",
        "code": "invalid_credentials",
        "extra": {},
    }
    assert not Token.objects.exists()


def test_token_for_an_unknown_email_is_400_invalid_credentials(api_client, db):
    response = api_client.post("/api/v1/auth/token/", {"email": "nobody@example.com", "password": PASSWORD})
    assert_envelope(response, 400, "invalid_credentials")


def test_token_for_an_unverified_email_is_403(api_client, db):
    user = factories.make_freelancer(verified=False)

    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )

    body = assert_envelope(response, 403, "email_unverified")
    assert body["message"] == "Verify your email address first."
    assert not Token.objects.exists()


def test_token_for_a_suspended_account_is_403(api_client, freelancer):
    suspend(freelancer)

    response = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})

    body = assert_envelope(response, 403, "account_suspended")
    assert body["message"] == "Your account is suspended."
    assert not Token.objects.exists()


def test_token_without_fields_is_a_validation_error(api_client, db):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")

    body = assert_envelope(response, 400, "validation_error")
    assert body["extra"] == {
        "fields": {"email": ["This field is required."], "password": ["This field is required."]}
    }


def test_token_endpoint_is_throttled_with_the_envelope(api_client, freelancer):
    for _ in range(20):
        assert (
            api_client.post(
                "/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD}
            ).status_code
            == 200
        )

    response = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})

    body = assert_envelope(response, 429, "throttled")
    assert 0 < body["extra"]["retry_after_seconds"] <= 60


def test_token_endpoint_locks_the_account_after_five_wrong_passwords(api_client, freelancer):
    for _ in range(5):
        api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": "wrong-password"})

    response = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})

    assert response.status_code == 429
    assert not Token.objects.exists()
    other = factories.make_freelancer()
    assert (
        api_client.post("/api/v1/auth/token/", {"email": other.email, "password": PASSWORD}).status_code
        == 200
    )


def test_token_endpoint_lock_out_answers_the_envelope(api_client, freelancer):
    for _ in range(5):
        api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": "wrong-password"})

    response = api_client.post("/api/v1/auth/token/", {"email": freelancer.email, "password": PASSWORD})

    assert response["Content-Type"] == "application/json"
    body = assert_envelope(response, 429, "locked_out")
    assert body["extra"] == {"retry_after_minutes": 15}
    assert not Token.objects.exists()


def test_token_works_for_get_me(freelancer):
    response = authed(freelancer).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "active_role",
        "is_freelancer",
        "is_client",
        "email_verified",
        "date_joined",
    }
    assert (body["id"], body["email"], body["active_role"]) == (freelancer.pk, freelancer.email, "freelancer")
    assert (body["is_freelancer"], body["is_client"], body["email_verified"]) == (True, False, True)


def test_token_obtained_from_the_endpoint_authenticates(api_client, client_user):
    key = api_client.post("/api/v1/auth/token/", {"email": client_user.email, "password": PASSWORD}).json()[
        "token"
    ]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api_client.get("/api/v1/me/").json()["email"] == client_user.email


def test_invalid_token_is_refused_with_the_envelope(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    body = assert_envelope(api_client.get("/api/v1/me/"), 403, "authentication_failed")

    assert body["message"] == "Invalid token."


# --- anonymous and suspended ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/"),
        ("patch", "/api/v1/me/"),
        ("get", "/api/v1/me/freelancer-profile/"),
        ("patch", "/api/v1/me/freelancer-profile/"),
        ("post", "/api/v1/me/freelancer-profile/publish/"),
        ("patch", "/api/v1/me/client-profile/"),
    ],
)
def test_anonymous_requests_to_own_resources_get_the_envelope(api_client, method, path):
    response = getattr(api_client, method)(path, {"first_name": "X"}, format="json")

    assert response.status_code == 403  # SessionAuthentication comes first: no WWW-Authenticate, so 403
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "extra": {},
    }


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/me/freelancer-profile/"])
def test_suspended_users_token_reads_but_cannot_write(freelancer, path):
    api = authed(freelancer)
    suspend(freelancer)

    assert api.get(path).status_code == 200
    body = assert_envelope(
        api.patch(path, {"first_name": "x", "title": "x"}, format="json"), 403, "account_suspended"
    )

    assert body["message"] == "Your account is suspended: you can read but not change anything."


def test_suspended_users_token_cannot_change_the_name(freelancer):
    api = authed(freelancer)
    suspend(freelancer)

    response = api.patch("/api/v1/me/", {"first_name": "Changed"}, format="json")

    assert_envelope(response, 403, "account_suspended")
    freelancer.refresh_from_db()
    assert freelancer.first_name != "Changed"


def test_suspended_users_token_cannot_change_the_profile(freelancer):
    api = authed(freelancer)
    suspend(freelancer)

    response = api.patch("/api/v1/me/freelancer-profile/", {"title": "Changed"}, format="json")

    assert_envelope(response, 403, "account_suspended")
    assert FreelancerProfile.objects.get(user=freelancer).title == ""


def test_suspended_users_token_cannot_publish(freelancer):
    fill_required_parts(freelancer)
    api = authed(freelancer)
    suspend(freelancer)

    assert_envelope(api.post("/api/v1/me/freelancer-profile/publish/"), 403, "account_suspended")
    assert FreelancerProfile.objects.get(user=freelancer).published_at is None


def test_suspended_users_session_stays_signed_in_and_gets_the_envelope(api_client, freelancer):
    api_client.force_login(freelancer)
    suspend(freelancer, reason="spam")

    read = api_client.get("/api/v1/me/")
    write = api_client.patch("/api/v1/me/", {"first_name": "Changed"}, format="json")

    assert read.status_code == 200  # read-only, like the pages
    assert write.status_code == 403
    assert write.json() == {
        "message": "Your account is suspended: Spam. You can read but not change anything.",
        "code": "account_suspended",
        "extra": {"reason": "spam"},
    }
    assert "_auth_user_id" in api_client.session  # read-only, not signed out


# --- /me/ ---------------------------------------------------------------------------------------


def test_validation_error_envelope_shape(freelancer):
    response = authed(freelancer).patch("/api/v1/me/", {"active_role": "boss"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body == {
        "message": 'active_role: "boss" is not a valid choice.',
        "code": "validation_error",
        "extra": {"fields": {"active_role": ['"boss" is not a valid choice.']}},
    }


def test_patch_me_first_name(freelancer):
    last_name = freelancer.last_name

    response = authed(freelancer).patch("/api/v1/me/", {"first_name": "  Grace "}, format="json")

    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Grace", last_name)
    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == ("Grace", last_name)


def test_patch_me_blank_name_is_refused(freelancer):
    response = authed(freelancer).patch("/api/v1/me/", {"last_name": "   "}, format="json")

    assert_envelope(response, 400, "validation_error")


def test_patch_me_active_role_creates_the_client_profile(freelancer):
    response = authed(freelancer).patch("/api/v1/me/", {"active_role": "client"}, format="json")

    assert response.status_code == 200
    assert (response.json()["active_role"], response.json()["is_client"]) == ("client", True)
    freelancer.refresh_from_db()
    assert freelancer.active_role == "client"
    assert ClientProfile.objects.filter(user=freelancer).exists()


def test_me_cannot_change_the_email(freelancer):
    response = authed(freelancer).patch("/api/v1/me/", {"email": "new@example.com"}, format="json")

    assert response.status_code == 200
    freelancer.refresh_from_db()
    assert freelancer.email != "new@example.com"


# --- own freelancer profile ---------------------------------------------------------------------


def test_get_own_freelancer_profile(freelancer):
    response = authed(freelancer).get("/api/v1/me/freelancer-profile/")

    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == freelancer.freelancer_profile.public_id
    assert body["onboarding_step"] == "about"
    assert body["visibility"] == "public"
    assert body["completeness"] == {
        "percent": 0,
        "missing": [
            "about",
            "education",
            "experience",
            "languages",
            "rate",
            "overview",
            "photo",
            "portfolio",
        ],
    }
    assert (body["education"], body["employment"], body["languages"], body["portfolio_items"]) == (
        [],
        [],
        [],
        [],
    )


def test_patch_own_profile_scalars_and_skills(freelancer):
    skill = a_skill()
    payload = {
        "title": "Data engineer",
        "hourly_rate_cents": 7500,
        "subcategory_id": skill.subcategory_id,
        "skill_ids": [skill.pk],
        "country": "PL",
        "timezone": "Europe/Warsaw",
        "visibility": "logged_in",
        "open_to_contract_to_hire": True,
    }

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", payload, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["hourly_rate_cents"], body["country"]) == ("Data engineer", 7500, "PL")
    assert (body["category_id"], body["subcategory_id"]) == (
        skill.subcategory.category_id,
        skill.subcategory_id,
    )
    assert [s["id"] for s in body["skills"]] == [skill.pk]
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert (profile.visibility, profile.timezone, profile.open_to_contract_to_hire) == (
        "logged_in",
        "Europe/Warsaw",
        True,
    )


def test_patch_nested_collections_replace_the_old_ones(freelancer):
    old_education = services.education_save(actor=freelancer, school="Old school")
    old_job = services.employment_save(
        actor=freelancer, company="Old Co", title="Clerk", start_date=timezone.now().date().replace(year=2010)
    )
    services.language_set(actor=freelancer, language="de", proficiency="basic")
    services.portfolio_item_save(actor=freelancer, title="Old item")
    skill = a_skill()
    payload = {
        "education": [
            {"school": "MIT", "degree": "BSc", "start_year": 2010, "end_year": 2014},
            {"school": "ETH", "field_of_study": "Physics"},
        ],
        "employment": [
            {"company": "Acme", "title": "Engineer", "country": "DE", "start_date": "2015-03-01"},
        ],
        "languages": [
            {"language": "en", "proficiency": "native"},
            {"language": "pl", "proficiency": "conversational"},
        ],
        "portfolio_items": [
            {"title": "Shop", "link": "https://shop.example.com", "skill_ids": [skill.pk]},
        ],
    }

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", payload, format="json")

    assert response.status_code == 200, response.json()
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert not Education.objects.filter(pk=old_education.pk).exists()
    assert not Employment.objects.filter(pk=old_job.pk).exists()
    assert sorted(profile.education.values_list("school", flat=True)) == ["ETH", "MIT"]
    assert list(profile.employment.values_list("company", "country")) == [("Acme", "DE")]
    assert sorted(profile.languages.values_list("language", "proficiency")) == [
        ("en", "native"),
        ("pl", "conversational"),
    ]
    item = profile.portfolio_items.get()
    assert (item.title, item.link, list(item.skills.values_list("pk", flat=True))) == (
        "Shop",
        "https://shop.example.com",
        [skill.pk],
    )
    body = response.json()
    assert sorted(e["school"] for e in body["education"]) == ["ETH", "MIT"]
    assert [p["title"] for p in body["portfolio_items"]] == ["Shop"]
    assert body["portfolio_items"][0]["skills"][0]["id"] == skill.pk


def test_patch_without_a_collection_keeps_it(freelancer):
    services.education_save(actor=freelancer, school="MIT")

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", {"title": "New"}, format="json")

    assert response.status_code == 200
    assert list(Education.objects.filter(profile__user=freelancer).values_list("school", flat=True)) == [
        "MIT"
    ]


def test_patch_with_an_empty_collection_clears_it(freelancer):
    services.education_save(actor=freelancer, school="MIT")

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", {"education": []}, format="json")

    assert response.status_code == 200
    assert not Education.objects.filter(profile__user=freelancer).exists()


def test_invalid_nested_entry_rolls_back_the_whole_patch(freelancer):
    services.freelancer_profile_update(actor=freelancer, title="Original title", hourly_rate_cents=4000)
    kept = services.education_save(actor=freelancer, school="Kept school", start_year=2001, end_year=2005)
    services.language_set(actor=freelancer, language="fr", proficiency="fluent")
    payload = {
        "title": "Changed title",
        "hourly_rate_cents": 9000,
        "skill_ids": [a_skill().pk],
        "languages": [{"language": "en", "proficiency": "native"}],
        "education": [
            {"school": "Valid", "start_year": 2010, "end_year": 2012},
            {"school": "Reversed", "start_year": 2015, "end_year": 2010},
        ],
    }

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", payload, format="json")

    body = assert_envelope(response, 400, "dates_reversed")
    assert body["message"] == "The end year cannot be before the start year."
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert (profile.title, profile.hourly_rate_cents) == ("Original title", 4000)
    assert profile.skills.count() == 0
    assert list(profile.education.values_list("pk", "school")) == [(kept.pk, "Kept school")]
    assert list(profile.languages.values_list("language", flat=True)) == ["fr"]


def test_invalid_nested_employment_rolls_back_earlier_collections(freelancer):
    services.education_save(actor=freelancer, school="Kept school")
    payload = {
        "education": [{"school": "New school"}],
        "employment": [
            {"company": "Acme", "title": "Engineer", "start_date": "2020-01-01", "end_date": "2019-01-01"}
        ],
    }

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", payload, format="json")

    assert_envelope(response, 400, "dates_reversed")
    assert list(Education.objects.filter(profile__user=freelancer).values_list("school", flat=True)) == [
        "Kept school"
    ]
    assert not Employment.objects.exists()


@pytest.mark.parametrize("rate", [299, 99901, -1])
def test_hourly_rate_out_of_range_is_400(freelancer, rate):
    response = authed(freelancer).patch(
        "/api/v1/me/freelancer-profile/", {"hourly_rate_cents": rate}, format="json"
    )

    body = assert_envelope(response, 400, "validation_error")
    assert list(body["extra"]["fields"]) == ["hourly_rate_cents"]
    assert FreelancerProfile.objects.get(user=freelancer).hourly_rate_cents is None


def test_patch_blank_country_clears_it(freelancer):
    services.freelancer_profile_update(actor=freelancer, country="PL")

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", {"country": ""}, format="json")

    assert response.status_code == 200, response.json()
    assert not FreelancerProfile.objects.get(user=freelancer).country


def test_sixteen_skill_ids_is_400(freelancer):
    skill_ids = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:16])

    response = authed(freelancer).patch(
        "/api/v1/me/freelancer-profile/", {"skill_ids": skill_ids}, format="json"
    )

    body = assert_envelope(response, 400, "validation_error")
    assert body["extra"]["fields"] == {"skill_ids": ["Ensure this field has no more than 15 elements."]}
    assert FreelancerProfile.objects.get(user=freelancer).skills.count() == 0


def test_unknown_skill_id_is_400(freelancer):
    response = authed(freelancer).patch(
        "/api/v1/me/freelancer-profile/", {"skill_ids": [10**9]}, format="json"
    )

    assert_envelope(response, 400, "invalid_skill")


def test_duplicate_languages_are_400(freelancer):
    payload = {
        "languages": [{"language": "en", "proficiency": "native"}, {"language": "en", "proficiency": "basic"}]
    }

    response = authed(freelancer).patch("/api/v1/me/freelancer-profile/", payload, format="json")

    body = assert_envelope(response, 400, "validation_error")
    assert body["extra"]["fields"] == {"languages": ["Each language may appear once."]}


def test_subcategory_of_another_category_is_400(freelancer):
    categories = list(Category.objects.order_by("pk")[:2])
    subcategory = categories[1].subcategories.first()

    response = authed(freelancer).patch(
        "/api/v1/me/freelancer-profile/",
        {"category_id": categories[0].pk, "subcategory_id": subcategory.pk},
        format="json",
    )

    assert_envelope(response, 400, "category_mismatch")
    assert FreelancerProfile.objects.get(user=freelancer).category_id is None


@pytest.mark.parametrize("method", ["get", "patch"])
def test_client_only_user_has_no_freelancer_profile(client_user, method):
    response = getattr(authed(client_user), method)(
        "/api/v1/me/freelancer-profile/", {"title": "X"}, format="json"
    )

    assert_envelope(response, 403, "not_freelancer")
    assert not FreelancerProfile.objects.filter(user=client_user).exists()


def test_publish_incomplete_is_400_with_what_is_missing(freelancer):
    response = authed(freelancer).post("/api/v1/me/freelancer-profile/publish/")

    body = assert_envelope(response, 400, "profile_incomplete")
    assert body["extra"] == {"missing": ["about", "languages", "rate", "overview"]}
    assert body["message"].startswith("Before publishing: Add a title, a category and your skills;")
    assert FreelancerProfile.objects.get(user=freelancer).published_at is None


def test_publish_complete_is_200(freelancer):
    fill_required_parts(freelancer)

    response = authed(freelancer).post("/api/v1/me/freelancer-profile/publish/")

    assert response.status_code == 200
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert profile.published_at is not None
    assert response.json()["published_at"] is not None
    assert response.json()["onboarding_step"] == "review"


def test_publish_for_a_client_only_user_is_403(client_user):
    assert_envelope(authed(client_user).post("/api/v1/me/freelancer-profile/publish/"), 403, "not_freelancer")


# --- own client profile -------------------------------------------------------------------------


def test_get_own_client_profile(client_user):
    response = authed(client_user).get("/api/v1/me/client-profile/")

    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == client_user.client_profile.public_id
    assert (body["kind"], body["company_name"], body["payment_method_verified"]) == ("individual", "", False)


def test_patch_own_client_profile(client_user):
    payload = {"kind": "company", "company_name": "Acme Ltd", "company_size": "2-9", "country": "DE"}

    response = authed(client_user).patch("/api/v1/me/client-profile/", payload, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["company_name"], response.json()["country"]) == ("Acme Ltd", "DE")
    profile = ClientProfile.objects.get(user=client_user)
    assert (profile.kind, profile.company_name, profile.company_size) == ("company", "Acme Ltd", "2-9")


def test_patch_client_profile_company_without_name_is_400(client_user):
    response = authed(client_user).patch("/api/v1/me/client-profile/", {"kind": "company"}, format="json")

    body = assert_envelope(response, 400, "company_name_required")
    assert body["extra"] == {"field": "company_name"}
    assert ClientProfile.objects.get(user=client_user).kind == "individual"


def test_client_profile_of_a_freelancer_only_user_is_403(freelancer):
    assert_envelope(authed(freelancer).get("/api/v1/me/client-profile/"), 403, "not_client")


# --- public freelancer list and detail -----------------------------------------------------------


def test_public_list_shows_only_visible_published_profiles(api_client, db):
    public = factories.make_published_freelancer()
    logged_in_only = factories.make_published_freelancer()
    services.freelancer_profile_update(actor=logged_in_only, visibility=Visibility.LOGGED_IN)
    private = factories.make_published_freelancer()
    services.freelancer_profile_update(actor=private, visibility=Visibility.PRIVATE)
    suspended = factories.make_published_freelancer()
    suspend(suspended)
    factories.make_freelancer()  # not published

    anonymous = api_client.get("/api/v1/freelancers/").json()
    signed_in = authed(factories.make_client()).get("/api/v1/freelancers/").json()

    assert [p["public_id"] for p in anonymous["results"]] == [public.freelancer_profile.public_id]
    assert {p["public_id"] for p in signed_in["results"]} == {
        public.freelancer_profile.public_id,
        logged_in_only.freelancer_profile.public_id,
    }


def test_public_list_item_shape(api_client, published_freelancer):
    item = api_client.get("/api/v1/freelancers/").json()["results"][0]

    assert item["name"] == published_freelancer.display_name
    assert (item["title"], item["hourly_rate_cents"], item["country"]) == ("Django developer", 5000, "PL")
    assert item["languages"] == [
        {
            "id": published_freelancer.freelancer_profile.languages.get().pk,
            "language": "en",
            "proficiency": "fluent",
        }
    ]
    assert "email" not in item and "visibility" not in item and "user" not in item


def walk_pages(api: APIClient, url: str) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        seen.extend(p["public_id"] for p in body["results"])
        url = body["next"]
        pages += 1
    return seen, pages


def test_cursor_pagination_walks_all_profiles_without_duplicates(api_client, db):
    users = [factories.make_published_freelancer() for _ in range(23)]
    expected = {u.freelancer_profile.public_id for u in users}

    first = api_client.get("/api/v1/freelancers/").json()
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/v1/freelancers/?cursor=")

    seen, pages = walk_pages(api_client, "/api/v1/freelancers/")

    assert pages == 2
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == expected


def test_cursor_pagination_with_equal_publish_times_has_no_duplicates(api_client, db):
    users = [factories.make_published_freelancer() for _ in range(45)]
    FreelancerProfile.objects.update(published_at=timezone.now())

    seen, pages = walk_pages(api_client, "/api/v1/freelancers/")

    assert pages == 3
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == {u.freelancer_profile.public_id for u in users}


def test_public_detail_of_a_public_profile(api_client, published_freelancer):
    services.education_save(actor=published_freelancer, school="MIT")
    public_id = published_freelancer.freelancer_profile.public_id

    response = api_client.get(f"/api/v1/freelancers/{public_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == public_id
    assert [e["school"] for e in body["education"]] == ["MIT"]
    assert "visibility" not in body and "completeness" not in body


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.LOGGED_IN])
def test_public_detail_hidden_from_anonymous_is_404(api_client, published_freelancer, visibility):
    services.freelancer_profile_update(actor=published_freelancer, visibility=visibility)

    response = api_client.get(f"/api/v1/freelancers/{published_freelancer.freelancer_profile.public_id}/")

    assert_envelope(response, 404, "not_found")


def test_public_detail_of_a_private_profile_is_404_for_others_and_200_for_the_owner(published_freelancer):
    services.freelancer_profile_update(actor=published_freelancer, visibility=Visibility.PRIVATE)
    url = f"/api/v1/freelancers/{published_freelancer.freelancer_profile.public_id}/"

    assert_envelope(authed(factories.make_client()).get(url), 404, "not_found")
    assert authed(published_freelancer).get(url).status_code == 200


def test_public_detail_of_an_unpublished_profile_is_404(api_client, freelancer):
    response = api_client.get(f"/api/v1/freelancers/{freelancer.freelancer_profile.public_id}/")
    assert_envelope(response, 404, "not_found")


def test_public_detail_of_an_unknown_id_is_404(api_client, db):
    assert_envelope(api_client.get("/api/v1/freelancers/~nope/"), 404, "not_found")


def test_freelancer_list_queries_do_not_grow_with_the_number_of_profiles(api_client, db):
    def make(count: int) -> None:
        for _ in range(count):
            user = factories.make_published_freelancer()
            skills = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:3])
            services.freelancer_profile_set_skills(actor=user, skill_ids=skills)
            services.language_set(actor=user, language="de", proficiency="basic")

    make(5)
    with CaptureQueriesContext(connection) as five:
        assert len(api_client.get("/api/v1/freelancers/").json()["results"]) == 5
    make(20)
    with CaptureQueriesContext(connection) as twenty_five:
        assert len(api_client.get("/api/v1/freelancers/").json()["results"]) == 20

    assert len(twenty_five) == len(five)
    assert len(five) == 3  # profiles joined with user and category; skills; languages


def test_freelancer_list_query_budget(api_client, db, django_assert_max_num_queries):
    for _ in range(25):
        factories.make_published_freelancer()

    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/freelancers/")

    assert len(response.json()["results"]) == 20


# --- taxonomy -----------------------------------------------------------------------------------


def test_categories_with_subcategories(api_client, db):
    response = api_client.get("/api/v1/taxonomy/categories/")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == Category.objects.count()
    first = body[0]
    assert set(first) == {"id", "name", "slug", "subcategories"}
    assert {s["id"] for s in first["subcategories"]} == set(
        Category.objects.get(pk=first["id"]).subcategories.values_list("pk", flat=True)
    )


def test_skill_search_by_name(api_client, db):
    response = api_client.get("/api/v1/taxonomy/skills/?q=pyth")

    assert response.status_code == 200
    names = [s["name"] for s in response.json()]
    assert "Python" in names
    assert all("pyth" in name.lower() for name in names)


def test_skill_search_by_category(api_client, db):
    category = a_skill().subcategory.category

    response = api_client.get(f"/api/v1/taxonomy/skills/?category={category.pk}")

    ids = {s["id"] for s in response.json()}
    assert ids
    assert ids <= set(Skill.objects.filter(subcategory__category=category).values_list("pk", flat=True))


def test_skill_search_is_limited_to_50(api_client, db):
    assert len(api_client.get("/api/v1/taxonomy/skills/").json()) == min(50, Skill.objects.count())


@pytest.mark.parametrize("category", ["abc", "-1", "1.5"])
def test_skill_search_with_a_non_numeric_category_is_404(api_client, db, category):
    response = api_client.get(f"/api/v1/taxonomy/skills/?category={category}")

    body = assert_envelope(response, 404, "not_found")
    assert body["message"] == "No such category."


# --- schema -------------------------------------------------------------------------------------


def test_schema_lists_the_accounts_endpoints(api_client, db):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    schema = response.content.decode()
    for path in (
        "/api/v1/me/freelancer-profile/",
        "/api/v1/me/freelancer-profile/publish/",
        "/api/v1/auth/token/",
        "/api/v1/freelancers/{public_id}/",
        "/api/v1/taxonomy/skills/",
    ):
        assert f"{path}:" in schema
