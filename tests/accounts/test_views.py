"""HTML pages of accounts, through Django's test client.

Sign-up and login go through allauth (email verification, re-authentication, suspension,
django-axes lock-out); the onboarding wizard, profiles, settings and skill tests through
our own views.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from accounts import services
from accounts.models import (
    ONBOARDING_ORDER,
    AssessmentAttempt,
    AssessmentChoice,
    ClientProfile,
    Education,
    FreelancerProfile,
    ProfileLanguage,
    Role,
    Skill,
    SkillAssessment,
    User,
    Visibility,
)
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = factories.PASSWORD
OVERVIEW = (
    "I build and maintain Django applications for small companies, from the first sketch to production. " * 2
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache, which outlives a test's transaction."""
    cache.clear()
    yield
    cache.clear()


# --- helpers --------------------------------------------------------------------------------------


def text(response) -> str:
    return response.content.decode()


def logged_in_user_id(client: Client) -> int | None:
    raw = client.session.get("_auth_user_id")
    return int(raw) if raw is not None else None


def two_skills_of_one_category() -> tuple[Skill, Skill]:
    first = Skill.objects.select_related("subcategory__category").order_by("pk").first()
    second = (
        Skill.objects.filter(subcategory__category_id=first.subcategory.category_id)
        .exclude(pk=first.pk)
        .order_by("pk")
        .first()
    )
    assert second is not None
    return first, second


def step_url(step: str) -> str:
    return reverse("accounts:onboarding_step", kwargs={"step": step})


def overview_data(**overrides) -> dict:
    data = {
        "overview": OVERVIEW,
        "country": "PL",
        "timezone": "Europe/Warsaw",
        "availability": "more_than_30",
        "visibility": "public",
    }
    data.update(overrides)
    return data


def suspend(user: User, *, reason: str = "fraud", note: str = "") -> None:
    services.user_suspend(actor=factories.make_staff(), user_id=user.pk, reason=reason, note=note)


# --- sign-up, email verification, login -----------------------------------------------------------


def signup(client: Client, *, role: str = "freelancer", email: str = "ada@example.com"):
    return client.post(
        "/accounts/signup/",
        {
            "role": role,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def confirmation_path(message) -> str:
    match = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_form_asks_for_role_and_name(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields)[:3] == ["role", "first_name", "last_name"]
    assert [value for value, _ in form.fields["role"].choices] == ["freelancer", "client"]
    body = text(response)
    for field in ('name="role"', 'value="client"', 'name="first_name"', 'name="last_name"'):
        assert field in body


def test_signup_as_freelancer_creates_profile_and_sends_verification_email(client):
    response = signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="ada@example.com")
    assert (user.first_name, user.last_name, user.active_role) == ("Ada", "Lovelace", Role.FREELANCER)
    assert FreelancerProfile.objects.filter(user=user).exists()
    assert not ClientProfile.objects.filter(user=user).exists()
    assert EmailAddress.objects.get(user=user).verified is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert mail.outbox[0].subject == "[Marketplace] Please Confirm Your Email Address"
    assert logged_in_user_id(client) is None


def test_signup_as_client_creates_client_profile(client):
    signup(client, role="client", email="hire@example.com")

    user = User.objects.get(email="hire@example.com")
    assert user.active_role == Role.CLIENT
    assert ClientProfile.objects.filter(user=user).exists()
    assert not FreelancerProfile.objects.filter(user=user).exists()


def test_signup_without_name_is_refused(client):
    response = client.post(
        "/accounts/signup/",
        {"role": "freelancer", "email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["first_name"] == ["This field is required."]
    assert not User.objects.filter(email="x@example.com").exists()


def test_login_is_refused_until_the_email_is_verified(client):
    signup(client)

    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert logged_in_user_id(client) is None
    assert client.get("/dashboard/")["Location"] == "/accounts/login/?next=/dashboard/"


def test_following_the_emailed_link_verifies_and_logs_in(client):
    signup(client)
    path = confirmation_path(mail.outbox[0])
    user = User.objects.get(email="ada@example.com")

    page = client.get(path)
    assert page.status_code == 200
    assert EmailAddress.objects.get(user=user).verified is False  # GET only shows the button

    response = client.post(path)

    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    assert logged_in_user_id(client) == user.pk
    assert client.get("/dashboard/").status_code == 200


def test_new_freelancer_lands_in_the_wizard_after_verifying(client):
    signup(client)

    response = client.post(confirmation_path(mail.outbox[0]), follow=True)

    assert response.redirect_chain[-1] == (step_url("about"), 302)
    assert response.status_code == 200
    assert "accounts/onboarding/about.html" in [t.name for t in response.templates]


def test_new_client_lands_on_the_client_profile_after_verifying(client):
    signup(client, role="client", email="hire@example.com")

    response = client.post(confirmation_path(mail.outbox[0]), follow=True)

    assert response.redirect_chain[-1] == (reverse("accounts:client_profile"), 302)
    assert response.status_code == 200
    assert "accounts/client_profile.html" in [t.name for t in response.templates]
    assert logged_in_user_id(client) == User.objects.get(email="hire@example.com").pk


def test_returning_unpublished_freelancer_logs_in_to_the_wizard(client, freelancer):
    response = client.post("/accounts/login/", {"login": freelancer.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:onboarding")
    assert logged_in_user_id(client) == freelancer.pk


def test_published_freelancer_logs_in_to_the_dashboard(client, published_freelancer):
    response = client.post("/accounts/login/", {"login": published_freelancer.email, "password": PASSWORD})

    assert response["Location"] == "/dashboard/"


def test_login_with_email_after_verification(client):
    user = factories.make_client(email="ben@example.com")

    response = client.post("/accounts/login/", {"login": "BEN@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert logged_in_user_id(client) == user.pk


def test_login_with_a_wrong_password_shows_the_form_again(client):
    user = factories.make_client()

    response = client.post("/accounts/login/", {"login": user.email, "password": "not-the-password"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The email address and/or password you specified are not correct."
    ]
    assert logged_in_user_id(client) is None


# --- suspension -----------------------------------------------------------------------------------


def test_suspended_user_signs_in_read_only_and_is_told_why(client):
    user = factories.make_freelancer()
    suspend(user, reason="off_platform", note="Asked a client to pay by bank transfer.")

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, follow=True)

    assert logged_in_user_id(client) == user.pk  # signed in, to read contracts and hand over work
    assert response.status_code == 200
    body = text(response)
    assert "Your account is suspended: Taking payments off the platform" in body  # the banner
    assert "hand over work on your active contracts" in body
    write = client.post("/me/settings/", {"first_name": "New", "last_name": "Name"})
    assert write.status_code == 403
    assert "Asked a client to pay by bank transfer." in text(write)
    user.refresh_from_db()
    assert user.first_name != "New"


def test_suspended_user_with_a_wrong_password_is_not_told_about_the_suspension(client):
    user = factories.make_freelancer()
    suspend(user)

    response = client.post("/accounts/login/", {"login": user.email, "password": "not-the-password"})

    assert response.status_code == 200
    assert "suspended" not in text(response)


def test_a_user_suspended_later_stays_signed_in_read_only(client):
    user = factories.make_freelancer()
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 200

    suspend(user, reason="spam")
    page = client.get("/dashboard/")
    write = client.post("/me/settings/", {"first_name": "New", "last_name": "Name"})

    assert page.status_code == 200
    assert "Your account is suspended: Spam" in text(page)  # the banner
    assert write.status_code == 403
    assert write.context["suspended_user"] == user
    assert '<dd class="col-sm-8">Spam</dd>' in text(write)
    assert logged_in_user_id(client) == user.pk
    user.refresh_from_db()
    assert user.first_name != "New"


# --- lock-out (django-axes) -----------------------------------------------------------------------


def attempt_login(client: Client, email: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_logins_lock_the_account_on_that_ip_even_for_the_right_password(client):
    user = factories.make_freelancer()
    for _ in range(4):
        assert attempt_login(client, user.email, "wrong-password").status_code == 200
    attempt_login(client, user.email, "wrong-password")

    response = attempt_login(client, user.email, PASSWORD)

    assert response.status_code == 429
    assert "account/lockout.html" in [t.name for t in response.templates]
    assert "Too many failed sign-in attempts" in text(response)
    assert "You can try again in 15 minutes." in text(response)
    assert logged_in_user_id(client) is None
    assert AccessAttempt.objects.filter(ip_address="10.0.0.1").exists()


def test_lock_out_does_not_block_the_same_account_from_another_ip(client):
    user = factories.make_freelancer()
    for _ in range(5):
        attempt_login(client, user.email, "wrong-password", ip="10.0.0.1")

    response = attempt_login(client, user.email, PASSWORD, ip="10.0.0.2")

    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


def test_lock_out_is_per_account_and_does_not_block_other_accounts_on_the_same_ip(client):
    victim = factories.make_freelancer()
    colleague = factories.make_freelancer()
    for _ in range(5):
        attempt_login(client, victim.email, "wrong-password")

    response = attempt_login(client, colleague.email, PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == colleague.pk


def test_axes_cool_off_is_finite():
    assert isinstance(django_settings.AXES_COOLOFF_TIME, timedelta)
    assert timedelta(0) < django_settings.AXES_COOLOFF_TIME
    assert django_settings.AXES_FAILURE_LIMIT == 5


# --- role switch ----------------------------------------------------------------------------------


def test_role_switch_to_client_creates_the_client_profile(client, freelancer):
    client.force_login(freelancer)

    response = client.post("/me/role/", {"role": "client"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:client_profile")
    freelancer.refresh_from_db()
    assert freelancer.active_role == Role.CLIENT
    assert ClientProfile.objects.filter(user=freelancer).exists()
    page = client.get(response["Location"])
    assert "You are now working as a client. Your profile was created." in text(page)


def test_role_switch_back_to_an_existing_profile_goes_to_the_dashboard(client, freelancer):
    client.force_login(freelancer)
    client.post("/me/role/", {"role": "client"}, follow=True)

    response = client.post("/me/role/", {"role": "freelancer"}, follow=True)

    assert response.redirect_chain == [("/dashboard/", 302)]
    assert "You are now working as a freelancer." in text(response)
    assert "Your profile was created" not in text(response)
    assert FreelancerProfile.objects.filter(user=freelancer).count() == 1


def test_role_switch_with_an_unknown_role_shows_a_message(client, freelancer):
    client.force_login(freelancer)

    response = client.post("/me/role/", {"role": "boss"}, follow=True)

    assert response.redirect_chain == [("/dashboard/", 302)]
    assert "Choose freelancer or client." in text(response)
    freelancer.refresh_from_db()
    assert freelancer.active_role == Role.FREELANCER


def test_role_switch_refuses_get(client, freelancer):
    client.force_login(freelancer)
    assert client.get("/me/role/").status_code == 405


def test_client_dashboard_for_client(client, client_user):
    client.force_login(client_user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "accounts/dashboard_client.html" in [t.name for t in response.templates]


# --- onboarding wizard ----------------------------------------------------------------------------


@pytest.mark.parametrize("step", ONBOARDING_ORDER)
def test_each_onboarding_step_renders_for_a_freelancer(client, freelancer, step):
    client.force_login(freelancer)

    response = client.get(step_url(step))

    assert response.status_code == 200
    assert f"accounts/onboarding/{step}.html" in [t.name for t in response.templates]
    assert f"Step {ONBOARDING_ORDER.index(step) + 1} of {len(ONBOARDING_ORDER)}" in text(response)


def test_unknown_onboarding_step_is_404(client, freelancer):
    client.force_login(freelancer)
    assert client.get(step_url("hobbies")).status_code == 404


def test_wizard_redirects_to_the_current_step(client, freelancer):
    client.force_login(freelancer)
    assert client.get("/me/onboarding/")["Location"] == step_url("about")

    FreelancerProfile.objects.filter(user=freelancer).update(onboarding_step="languages")

    assert client.get("/me/onboarding/")["Location"] == step_url("languages")


def test_wizard_for_a_client_only_user_sends_them_to_the_dashboard(client, client_user):
    client.force_login(client_user)

    response = client.get("/me/onboarding/", follow=True)

    assert response.redirect_chain == [("/dashboard/", 302)]
    assert "Create your freelancer profile first." in text(response)


def test_onboarding_needs_login(client):
    response = client.get("/me/onboarding/about/")
    assert response["Location"] == "/accounts/login/?next=/me/onboarding/about/"


def test_about_with_16_skills_shows_the_form_error(client, freelancer):
    client.force_login(freelancer)
    first, _ = two_skills_of_one_category()
    skills = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:16])

    response = client.post(
        step_url("about"),
        {
            "title": "Django developer",
            "category": first.subcategory.category_id,
            "skills": skills,
            "experience_level": "expert",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["skills"] == ["Choose at most 15 skills (you chose 16)."]
    assert "Choose at most 15 skills (you chose 16)." in text(response)
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert profile.skills.count() == 0
    assert profile.title == ""
    assert profile.onboarding_step == "about"


def test_about_valid_saves_and_goes_to_education(client, freelancer):
    client.force_login(freelancer)
    first, second = two_skills_of_one_category()

    response = client.post(
        step_url("about"),
        {
            "title": "Django developer",
            "category": first.subcategory.category_id,
            "subcategory": first.subcategory_id,
            "skills": [first.pk, second.pk],
            "experience_level": "expert",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == step_url("education")
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert profile.title == "Django developer"
    assert profile.category_id == first.subcategory.category_id
    assert profile.subcategory_id == first.subcategory_id
    assert profile.experience_level == "expert"
    assert set(profile.skills.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert profile.onboarding_step == "education"


def about_data(**overrides) -> dict:
    first, _ = two_skills_of_one_category()
    data = {
        "title": "Django developer",
        "category": first.subcategory.category_id,
        "skills": [first.pk],
        "experience_level": "expert",
    }
    data.update(overrides)
    return data


def test_about_with_a_non_numeric_skill_shows_the_form_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("about"), about_data(skills=["abc"]))

    assert response.status_code == 200
    assert response.context["form"].errors["skills"] == ["\u201cabc\u201d is not a valid value."]


def test_about_with_an_unknown_category_shows_the_form_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("about"), about_data(category="999999"))

    assert response.status_code == 200
    assert response.context["form"].errors["category"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_about_with_a_non_numeric_category_shows_the_form_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("about"), about_data(category="abc"))

    assert response.status_code == 200
    assert "category" in response.context["form"].errors


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("abc", "Enter an amount like 45 or 45.50."),
        ("2", "Enter a rate between $3.00 and $999.00."),
        ("1000", "Enter a rate between $3.00 and $999.00."),
        ("45.505", "Use at most two decimals."),
        ("", "This field is required."),
    ],
)
def test_rate_with_a_bad_amount_shows_a_clear_error(client, freelancer, value, error):
    client.force_login(freelancer)

    response = client.post(step_url("rate"), {"hourly_rate": value})

    assert response.status_code == 200
    assert response.context["form"].errors["hourly_rate"] == [error]
    assert escape(error) in text(response)
    assert FreelancerProfile.objects.get(user=freelancer).hourly_rate_cents is None


def test_rate_valid_saves_cents_and_goes_to_overview(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("rate"), {"hourly_rate": "$45.50"})

    assert response["Location"] == step_url("overview")
    assert FreelancerProfile.objects.get(user=freelancer).hourly_rate_cents == 4550


@pytest.mark.parametrize("value", ["Infinity", "sNaN", "1e400"])
def test_rate_with_non_finite_amount_shows_a_form_error(client, freelancer, value):
    client.force_login(freelancer)

    response = client.post(step_url("rate"), {"hourly_rate": value})

    assert response.status_code == 200
    assert response.context["form"].errors["hourly_rate"] == ["Enter an amount like 45 or 45.50."]
    assert FreelancerProfile.objects.get(user=freelancer).hourly_rate_cents is None


def test_next_on_languages_without_a_language_shows_the_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("languages"), {"action": "next"})

    assert response.status_code == 200
    assert "Add at least one language." in text(response)
    assert FreelancerProfile.objects.get(user=freelancer).onboarding_step == "about"


def test_adding_a_language_then_next_goes_to_rate(client, freelancer):
    client.force_login(freelancer)

    added = client.post(step_url("languages"), {"action": "add", "language": "de", "proficiency": "native"})
    assert added["Location"] == step_url("languages")
    assert list(
        ProfileLanguage.objects.filter(profile__user=freelancer).values_list("language", "proficiency")
    ) == [("de", "native")]

    response = client.post(step_url("languages"), {"action": "next"})

    assert response["Location"] == step_url("rate")


def test_education_with_end_before_start_shows_the_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(
        step_url("education"), {"action": "add", "school": "MIT", "start_year": 2015, "end_year": 2012}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The end year cannot be before the start year."]
    assert not Education.objects.filter(profile__user=freelancer).exists()


def test_publish_before_complete_lists_what_is_missing(client, freelancer):
    client.force_login(freelancer)

    response = client.post("/me/profile/publish/", follow=True)

    assert response.redirect_chain == [(step_url("review"), 302)]
    assert (
        "Before publishing: Add a title, a category and your skills; Add the languages you speak; "
        "Set your hourly rate; Write an overview of at least 100 characters."
    ) in text(response)
    assert FreelancerProfile.objects.get(user=freelancer).published_at is None


def test_publish_refuses_get(client, freelancer):
    client.force_login(freelancer)
    assert client.get("/me/profile/publish/").status_code == 405


def test_full_onboarding_happy_path_publishes_the_profile(client):
    user = factories.make_freelancer(first_name="Ada", last_name="Lovelace")
    client.force_login(user)
    first, second = two_skills_of_one_category()

    assert client.get("/me/onboarding/")["Location"] == step_url("about")
    steps = [
        (
            "about",
            {
                "title": "Analytical engine programmer",
                "category": first.subcategory.category_id,
                "skills": [first.pk, second.pk],
                "experience_level": "expert",
            },
            "education",
        ),
        (
            "education",
            {"action": "add", "school": "University of London", "start_year": 1830, "end_year": 1835},
            None,
        ),  # 1830 is refused by the form (1950+); the wizard stays on the step
        ("education", {"action": "add", "school": "University of London", "degree": "BSc"}, "education"),
        ("education", {"action": "next"}, "experience"),
        (
            "experience",
            {
                "action": "add",
                "company": "Babbage & Co",
                "title": "Programmer",
                "country": "GB",
                "start_date": "2019-01-01",
            },
            "experience",
        ),
        ("experience", {"action": "next"}, "languages"),
        ("languages", {"action": "add", "language": "en", "proficiency": "native"}, "languages"),
        ("languages", {"action": "next"}, "rate"),
        ("rate", {"hourly_rate": "85"}, "overview"),
        ("overview", overview_data(open_to_contract_to_hire="on"), "review"),
    ]
    for step, data, following in steps:
        response = client.post(step_url(step), data)
        if following is None:
            assert response.status_code == 200, step
        else:
            assert response.status_code == 302, (step, response.context and response.context["form"].errors)
            assert response["Location"] == step_url(following)

    review = client.get(step_url("review"))
    assert "required to publish" not in text(review)

    published = client.post("/me/profile/publish/")

    profile = FreelancerProfile.objects.get(user=user)
    assert profile.published_at is not None
    assert published["Location"] == f"/freelancers/{profile.public_id}/"
    page = client.get(published["Location"])
    assert "Your profile is published. Clients can now find you." in text(page)

    public = Client().get(f"/freelancers/{profile.public_id}/")
    assert public.status_code == 200
    body = text(public)
    assert "Ada L." in body
    assert "Lovelace" not in body  # strangers see the last initial only
    assert "Analytical engine programmer" in body
    assert escape(first.name) in body and escape(second.name) in body
    assert "Babbage &amp; Co" in body
    assert "$85.00" in body


def test_overview_with_a_png_photo_saves_a_square_photo(client, freelancer, png_bytes):
    client.force_login(freelancer)
    photo = SimpleUploadedFile("holiday-selfie.png", png_bytes, content_type="image/png")

    response = client.post(step_url("overview"), {**overview_data(), "photo": photo})

    assert response.status_code == 302
    assert response["Location"] == step_url("review")
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert profile.photo.name.startswith("photos/")
    assert profile.photo.name.endswith(".png")
    # a random name, not the user's (a two-letter name was found in random ones by chance)
    assert "holiday" not in profile.photo.name and "selfie" not in profile.photo.name
    with profile.photo.open("rb") as stored, Image.open(io.BytesIO(stored.read())) as image:
        assert image.size == (200, 200)  # 300x200 cropped to a square
    assert profile.overview == OVERVIEW.strip()


def test_overview_with_an_exe_shows_the_error_on_the_form(client, freelancer):
    client.force_login(freelancer)
    upload = SimpleUploadedFile(
        "me.exe", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/octet-stream"
    )

    response = client.post(step_url("overview"), {**overview_data(), "photo": upload})

    assert response.status_code == 200
    message = "This file type is not accepted. Allowed: .jpeg, .jpg, .png, .webp."
    assert response.context["form"].non_field_errors() == [message]
    assert message in text(response)
    profile = FreelancerProfile.objects.get(user=freelancer)
    assert not profile.photo
    assert profile.overview == ""


def test_overview_with_a_png_renamed_to_exe_is_refused(client, freelancer, png_bytes):
    client.force_login(freelancer)
    upload = SimpleUploadedFile("me.exe", png_bytes, content_type="image/png")

    response = client.post(step_url("overview"), {**overview_data(), "photo": upload})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The file's name ends in '.exe' but its content is a PNG image. Rename it or export it again."
    ]
    assert not FreelancerProfile.objects.get(user=freelancer).photo


def test_overview_with_an_oversized_photo_shows_the_error_on_the_form(client, freelancer, png_bytes):
    client.force_login(freelancer)
    big = png_bytes + b"\x00" * (6 * 1024 * 1024 - len(png_bytes))
    upload = SimpleUploadedFile("big.png", big, content_type="image/png")

    response = client.post(step_url("overview"), {**overview_data(), "photo": upload})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The file is too large (6 MB); the limit is 5 MB."]
    assert not FreelancerProfile.objects.get(user=freelancer).photo


def test_overview_too_short_shows_the_field_error(client, freelancer):
    client.force_login(freelancer)

    response = client.post(step_url("overview"), overview_data(overview="Too short."))

    assert response.status_code == 200
    assert response.context["form"].errors["overview"] == [
        "Ensure this value has at least 100 characters (it has 10)."
    ]


def test_review_step_adds_a_portfolio_item(client, freelancer):
    client.force_login(freelancer)

    response = client.post(
        step_url("review"),
        {
            "action": "add",
            "title": "Shop rebuild",
            "description": "A Django shop.",
            "link": "https://example.com",
        },
    )

    assert response["Location"] == step_url("review")
    item = FreelancerProfile.objects.get(user=freelancer).portfolio_items.get()
    assert (item.title, item.link) == ("Shop rebuild", "https://example.com")


# --- profile items --------------------------------------------------------------------------------


def test_deleting_own_education_removes_it(client, freelancer):
    item = services.education_save(actor=freelancer, school="MIT")
    client.force_login(freelancer)

    response = client.post(f"/me/profile/education/{item.pk}/delete/", follow=True)

    assert response.redirect_chain == [(step_url("education"), 302)]
    assert "Removed." in text(response)
    assert not Education.objects.filter(pk=item.pk).exists()


def test_deleting_another_users_education_is_404(client, freelancer):
    other = factories.make_freelancer()
    item = services.education_save(actor=other, school="Other school")
    client.force_login(freelancer)

    response = client.post(f"/me/profile/education/{item.pk}/delete/")

    assert response.status_code == 404
    assert Education.objects.filter(pk=item.pk).exists()


def test_deleting_an_unknown_kind_of_item_is_404(client, freelancer):
    client.force_login(freelancer)
    assert client.post("/me/profile/hobby/1/delete/").status_code == 404


def test_deleting_an_item_does_not_redirect_to_another_site(client, freelancer):
    item = services.education_save(actor=freelancer, school="MIT")
    client.force_login(freelancer)

    response = client.post(f"/me/profile/education/{item.pk}/delete/", {"next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == step_url("education")
    assert not Education.objects.filter(pk=item.pk).exists()


def test_deleting_an_item_follows_a_local_next(client, freelancer):
    item = services.education_save(actor=freelancer, school="MIT")
    client.force_login(freelancer)

    response = client.post(f"/me/profile/education/{item.pk}/delete/", {"next": "/dashboard/"})

    assert response["Location"] == "/dashboard/"


# --- public profile and list ----------------------------------------------------------------------


def test_private_profile_is_404_for_anonymous_and_other_users_and_200_for_owner(client, published_freelancer):
    services.freelancer_profile_update(actor=published_freelancer, visibility=Visibility.PRIVATE)
    url = f"/freelancers/{published_freelancer.freelancer_profile.public_id}/"

    assert client.get(url).status_code == 404
    client.force_login(factories.make_client())
    assert client.get(url).status_code == 404
    client.force_login(published_freelancer)
    owner_view = client.get(url)
    assert owner_view.status_code == 200
    assert "This is how clients see your profile" in text(owner_view)


def test_logged_in_only_profile_is_hidden_from_anonymous_visitors(client, published_freelancer):
    services.freelancer_profile_update(actor=published_freelancer, visibility=Visibility.LOGGED_IN)
    url = f"/freelancers/{published_freelancer.freelancer_profile.public_id}/"

    assert client.get(url).status_code == 404
    client.force_login(factories.make_client())
    assert client.get(url).status_code == 200


def test_unpublished_profile_is_only_shown_to_its_owner_and_staff(client, freelancer):
    url = f"/freelancers/{freelancer.freelancer_profile.public_id}/"

    assert client.get(url).status_code == 404
    client.force_login(freelancer)
    assert "Only you can see this page" in text(client.get(url))
    client.force_login(factories.make_staff())
    assert client.get(url).status_code == 200


def test_profile_of_a_suspended_user_is_hidden(client, published_freelancer):
    suspend(published_freelancer)
    assert client.get(f"/freelancers/{published_freelancer.freelancer_profile.public_id}/").status_code == 404


def test_unknown_public_id_is_404(client):
    assert client.get("/freelancers/~0000000000000000/").status_code == 404


def test_freelancer_list_shows_only_published_public_profiles(client):
    shown = factories.make_published_freelancer(first_name="Shown", last_name="Person")
    private = factories.make_published_freelancer(first_name="Private", last_name="Person")
    services.freelancer_profile_update(actor=private, visibility=Visibility.PRIVATE)
    factories.make_freelancer(first_name="Draft", last_name="Person")

    response = client.get("/freelancers/")

    assert response.status_code == 200
    assert [p.pk for p in response.context["page"]] == [shown.freelancer_profile.pk]
    body = text(response)
    assert "Shown P." in body
    assert "Private P." not in body
    assert "Draft P." not in body


def test_freelancer_list_paginates_by_twelve(client):
    for _ in range(13):
        factories.make_published_freelancer()

    first = client.get("/freelancers/")
    second = client.get("/freelancers/?page=2")

    assert len(first.context["page"]) == 12
    assert len(second.context["page"]) == 1
    assert "Page 1 of 2" in text(first)


def test_home_page_shows_categories_and_recent_freelancers(client):
    factories.make_published_freelancer(first_name="Grace", last_name="Hopper")

    response = client.get("/")

    assert response.status_code == 200
    assert "home.html" in [t.name for t in response.templates]
    assert "Grace H." in text(response)
    assert len(response.context["categories"]) > 0


def test_healthz(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "search_index": "off"}


def test_unknown_url_is_404_with_the_site_layout(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["errors/404.html", "base.html"]
    body = text(response)
    assert "We can't find that page" in body
    assert 'class="navbar' in body


def test_unknown_url_for_a_signed_in_user_keeps_the_navigation(client, freelancer):
    client.force_login(freelancer)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Skill tests" in text(response)


# --- client profile and settings ------------------------------------------------------------------


def test_client_profile_page_redirects_a_freelancer_only_user(client, freelancer):
    client.force_login(freelancer)

    response = client.get("/me/client/profile/", follow=True)

    assert response.redirect_chain == [("/dashboard/", 302)]
    assert "Switch to hiring to create your client profile." in text(response)
    assert not ClientProfile.objects.filter(user=freelancer).exists()


def test_client_profile_company_without_name_shows_the_error(client, client_user):
    client.force_login(client_user)

    response = client.post("/me/client/profile/", {"kind": "company", "company_name": "", "timezone": "UTC"})

    assert response.status_code == 200
    assert response.context["form"].errors["company_name"] == ["Enter the company name."]
    assert ClientProfile.objects.get(user=client_user).kind == "individual"


def test_client_profile_saves(client, client_user):
    client.force_login(client_user)

    response = client.post(
        "/me/client/profile/",
        {
            "kind": "company",
            "company_name": "Acme Ltd",
            "company_size": "10-99",
            "website": "acme.example",
            "industry": "Retail",
            "country": "DE",
            "timezone": "Europe/Berlin",
        },
    )

    assert response["Location"] == "/dashboard/"
    profile = ClientProfile.objects.get(user=client_user)
    assert (profile.kind, profile.company_name, profile.company_size) == ("company", "Acme Ltd", "10-99")
    assert profile.website == "https://acme.example"
    assert (profile.country.code, profile.timezone) == ("DE", "Europe/Berlin")


def test_settings_changes_the_name(client, freelancer):
    client.force_login(freelancer)

    response = client.post("/me/settings/", {"first_name": "  Grace ", "last_name": "Hopper"}, follow=True)

    assert response.redirect_chain == [("/me/settings/", 302)]
    assert "Saved your name." in text(response)
    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == ("Grace", "Hopper")


def test_settings_refuses_a_blank_name(client, freelancer):
    client.force_login(freelancer)
    before = freelancer.first_name

    response = client.post("/me/settings/", {"first_name": "", "last_name": "Hopper"})

    assert response.status_code == 200
    assert response.context["form"].errors["first_name"] == ["This field is required."]
    freelancer.refresh_from_db()
    assert freelancer.first_name == before


# --- account deletion -----------------------------------------------------------------------------


def test_account_delete_requires_reauthentication(client, freelancer):
    client.force_login(freelancer)

    response = client.get("/me/settings/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fme%2Fsettings%2Fdelete%2F"
    assert client.post("/me/settings/delete/", {"confirm": "DELETE"}).status_code == 302
    freelancer.refresh_from_db()
    assert freelancer.is_active and freelancer.deleted_at is None


def reauthenticate(client: Client) -> None:
    response = client.post(
        "/accounts/reauthenticate/", {"password": PASSWORD, "next": "/me/settings/delete/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/settings/delete/"


def test_account_delete_after_reauthentication_erases_the_account_and_logs_out(client, freelancer):
    services.education_save(actor=freelancer, school="MIT")
    email = freelancer.email
    client.force_login(freelancer)
    reauthenticate(client)
    assert client.get("/me/settings/delete/").status_code == 200

    response = client.post("/me/settings/delete/", {"confirm": "DELETE"}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "Your account is closed and your personal data erased." in text(response)
    assert logged_in_user_id(client) is None
    user = User.objects.get(pk=freelancer.pk)
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert (user.first_name, user.last_name, user.is_active) == ("Deleted", "user", False)
    assert user.deleted_at is not None
    assert not user.has_usable_password()
    assert not FreelancerProfile.objects.filter(user=user).exists()
    assert not Education.objects.exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    login = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert login.status_code == 200
    assert logged_in_user_id(client) is None


def test_account_delete_needs_the_word_delete(client, freelancer):
    client.force_login(freelancer)
    reauthenticate(client)

    response = client.post("/me/settings/delete/", {"confirm": "delete"})

    assert response.status_code == 200
    assert response.context["delete_form"].errors["confirm"] == ["Type DELETE in capitals to confirm."]
    freelancer.refresh_from_db()
    assert freelancer.is_active


# --- skill tests ----------------------------------------------------------------------------------


def an_assessment() -> SkillAssessment:
    return (
        SkillAssessment.objects.filter(is_active=True)
        .annotate(n=Count("questions"))
        .filter(n__gt=1)
        .select_related("skill")
        .order_by("pk")
        .first()
    )


def correct_answers(assessment: SkillAssessment) -> dict[str, int]:
    return {
        f"q{choice.question_id}": choice.pk
        for choice in AssessmentChoice.objects.filter(question__assessment=assessment, is_correct=True)
    }


def test_assessment_list_shows_the_tests(client, freelancer):
    client.force_login(freelancer)
    assessment = an_assessment()

    response = client.get("/me/assessments/")

    assert response.status_code == 200
    assert escape(assessment.title) in text(response)


def test_passing_a_skill_test_verifies_the_skill_on_the_public_profile(client, published_freelancer):
    client.force_login(published_freelancer)
    assessment = an_assessment()

    started = client.post(f"/me/assessments/{assessment.pk}/start/")

    attempt = AssessmentAttempt.objects.get(user=published_freelancer, assessment=assessment)
    assert started.status_code == 302
    assert started["Location"] == f"/me/assessments/attempts/{attempt.pk}/"
    page = client.get(started["Location"])
    assert page.status_code == 200
    assert len(page.context["questions"]) == assessment.questions.count()

    submitted = client.post(started["Location"], correct_answers(assessment))

    assert submitted["Location"] == f"/me/assessments/attempts/{attempt.pk}/result/"
    result = client.get(submitted["Location"])
    assert result.status_code == 200
    assert "100%" in text(result)
    assert "Passed." in text(result)
    attempt.refresh_from_db()
    assert (attempt.passed, attempt.score_percent) == (True, 100)

    public = Client().get(f"/freelancers/{published_freelancer.freelancer_profile.public_id}/")
    assert f'{escape(assessment.skill.name)} <span class="visually-hidden">(verified)</span>' in text(public)


def test_failing_a_skill_test_does_not_verify_the_skill(client, published_freelancer):
    client.force_login(published_freelancer)
    assessment = an_assessment()
    client.post(f"/me/assessments/{assessment.pk}/start/")
    attempt = AssessmentAttempt.objects.get(user=published_freelancer)

    response = client.post(f"/me/assessments/attempts/{attempt.pk}/", {}, follow=True)

    assert f"You scored 0%; {assessment.pass_percent}% is needed to pass." in text(response)
    attempt.refresh_from_db()
    assert (attempt.passed, attempt.score_percent) == (False, 0)
    public = Client().get(f"/freelancers/{published_freelancer.freelancer_profile.public_id}/")
    assert "(verified)" not in text(public)


def test_answers_after_the_deadline_count_as_not_given(client, freelancer):
    client.force_login(freelancer)
    assessment = an_assessment()
    client.post(f"/me/assessments/{assessment.pk}/start/")
    attempt = AssessmentAttempt.objects.get(user=freelancer)
    AssessmentAttempt.objects.filter(pk=attempt.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))

    client.post(f"/me/assessments/attempts/{attempt.pk}/", correct_answers(assessment))

    attempt.refresh_from_db()
    assert (attempt.passed, attempt.score_percent) == (False, 0)
    assert attempt.submitted_at is not None


def test_starting_a_test_again_within_30_days_is_refused(client, freelancer):
    client.force_login(freelancer)
    assessment = an_assessment()
    client.post(f"/me/assessments/{assessment.pk}/start/")
    attempt = AssessmentAttempt.objects.get(user=freelancer)
    client.post(f"/me/assessments/attempts/{attempt.pk}/", correct_answers(assessment))

    response = client.post(f"/me/assessments/{assessment.pk}/start/", follow=True)

    assert response.redirect_chain == [("/me/assessments/", 302)]
    retake = attempt.started_at + timedelta(days=30)
    assert f"You can take this test again on {retake:%b %d, %Y}." in text(response)
    assert AssessmentAttempt.objects.filter(user=freelancer).count() == 1


def test_starting_an_open_test_again_resumes_it(client, freelancer):
    client.force_login(freelancer)
    assessment = an_assessment()
    first = client.post(f"/me/assessments/{assessment.pk}/start/")

    second = client.post(f"/me/assessments/{assessment.pk}/start/")

    assert second["Location"] == first["Location"]
    assert AssessmentAttempt.objects.filter(user=freelancer).count() == 1


def test_a_submitted_attempt_cannot_be_answered_again(client, freelancer):
    client.force_login(freelancer)
    assessment = an_assessment()
    client.post(f"/me/assessments/{assessment.pk}/start/")
    attempt = AssessmentAttempt.objects.get(user=freelancer)
    client.post(f"/me/assessments/attempts/{attempt.pk}/", {})

    response = client.post(f"/me/assessments/attempts/{attempt.pk}/", correct_answers(assessment))

    assert response["Location"] == f"/me/assessments/attempts/{attempt.pk}/result/"
    attempt.refresh_from_db()
    assert attempt.score_percent == 0


def test_another_users_attempt_is_404(client, freelancer):
    other = factories.make_freelancer()
    attempt = services.assessment_start(actor=other, assessment_id=an_assessment().pk)
    client.force_login(freelancer)

    assert client.get(f"/me/assessments/attempts/{attempt.pk}/").status_code == 404
    assert client.post(f"/me/assessments/attempts/{attempt.pk}/", {}).status_code == 404
    assert client.get(f"/me/assessments/attempts/{attempt.pk}/result/").status_code == 404
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_client_only_user_cannot_start_a_test(client, client_user):
    client.force_login(client_user)

    response = client.post(f"/me/assessments/{an_assessment().pk}/start/", follow=True)

    assert response.redirect_chain == [("/me/assessments/", 302)]
    assert "Skill tests are for freelancers." in text(response)
    assert not AssessmentAttempt.objects.exists()


# --- HTMX skill options ---------------------------------------------------------------------------


def test_skill_options_partial_lists_the_category_skills_as_checkboxes(client, freelancer):
    client.force_login(freelancer)
    first, second = two_skills_of_one_category()
    category_id = first.subcategory.category_id
    expected = set(Skill.objects.filter(subcategory__category_id=category_id).values_list("pk", flat=True))

    response = client.get(
        f"/me/onboarding/skills/?category={category_id}&skills={second.pk}", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["accounts/partials/skill_options.html"]
    body = text(response)
    assert "<html" not in body
    values = {int(v) for v in re.findall(r'type="checkbox" name="skills" value="(\d+)"', body)}
    assert values == expected
    assert f'value="{second.pk}" id="skill-{second.pk}" checked' in body
    assert f'value="{first.pk}" id="skill-{first.pk}" >' in body


@pytest.mark.parametrize("query", ["?category=abc", "?category=", "", "?category=abc&skills=x"])
def test_skill_options_partial_with_a_bad_category_is_empty_not_500(client, freelancer, query):
    client.force_login(freelancer)

    response = client.get(f"/me/onboarding/skills/{query}")

    assert response.status_code == 200
    assert "Choose a category to see its skills." in text(response)


def test_skill_options_partial_needs_login(client):
    assert client.get("/me/onboarding/skills/?category=1")["Location"].startswith("/accounts/login/")
