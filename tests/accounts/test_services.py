"""accounts.services: the write use cases, each checked through its public function."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts import services
from accounts.models import (
    AssessmentAttempt,
    Category,
    ClientProfile,
    Education,
    Employment,
    FreelancerProfile,
    ModerationAction,
    PortfolioItem,
    ProfileLanguage,
    Role,
    Skill,
    SkillAssessment,
    Subcategory,
    User,
    UserModerationEvent,
)
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from tests import factories
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
LONG_OVERVIEW = "I design and build reliable web applications for small companies. " * 3


# --- helpers -----------------------------------------------------------------------------------


def _skill() -> Skill:
    return Skill.objects.select_related("subcategory").order_by("pk").first()


def _profile(user: User) -> FreelancerProfile:
    return FreelancerProfile.objects.get(user=user)


def _fill_about(user: User) -> Skill:
    skill = _skill()
    services.freelancer_profile_update(
        actor=user, title="Django developer", subcategory_id=skill.subcategory_id
    )
    services.freelancer_profile_set_skills(actor=user, skill_ids=[skill.pk])
    return skill


def _fill_required(user: User) -> None:
    _fill_about(user)
    services.language_set(actor=user, language="en", proficiency="fluent")
    services.freelancer_profile_update(actor=user, hourly_rate_cents=4500, overview=LONG_OVERVIEW)


def _suspend(user: User) -> User:
    services.user_suspend(actor=factories.make_staff(), user_id=user.pk, reason="spam")
    user.refresh_from_db()
    return user


def _python_test() -> SkillAssessment:
    return SkillAssessment.objects.get(skill__name="Python")


def _answers(
    assessment: SkillAssessment, *, correct: int | None = None, wrong: bool = False
) -> dict[int, int]:
    """Question id -> choice id: every answer right, every answer wrong, or the first ``correct`` right."""
    answers = {}
    for index, question in enumerate(assessment.questions.prefetch_related("choices")):
        right = not wrong and (correct is None or index < correct)
        answers[question.pk] = next(c.pk for c in question.choices.all() if c.is_correct == right)
    return answers


def _png_upload(name: str = "work.png", size: tuple[int, int] = (300, 200)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", size), content_type="image/png")


# --- signup and roles ----------------------------------------------------------------------------


def test_complete_signup_as_freelancer_creates_only_the_freelancer_profile():
    user = factories.UserFactory(first_name="", last_name="")

    services.user_complete_signup(
        user=user, role=Role.FREELANCER, first_name="  Ada ", last_name=" Lovelace "
    )

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.active_role) == ("Ada", "Lovelace", "freelancer")
    assert FreelancerProfile.objects.filter(user=user).count() == 1
    assert not ClientProfile.objects.filter(user=user).exists()


def test_complete_signup_as_client_creates_only_the_client_profile():
    user = factories.UserFactory()

    services.user_complete_signup(user=user, role=Role.CLIENT, first_name="Grace", last_name="Hopper")

    user.refresh_from_db()
    assert user.active_role == "client"
    assert ClientProfile.objects.filter(user=user).count() == 1
    assert not FreelancerProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize(("first_name", "last_name"), [("", "Lovelace"), ("Ada", "   "), (" ", "")])
def test_complete_signup_refuses_blank_names_and_creates_no_profile(first_name, last_name):
    user = factories.UserFactory(first_name="", last_name="")

    with pytest.raises(ApplicationError) as caught:
        services.user_complete_signup(
            user=user, role=Role.FREELANCER, first_name=first_name, last_name=last_name
        )

    assert caught.value.code == "name_required"
    assert not FreelancerProfile.objects.filter(user=user).exists()


def test_complete_signup_refuses_an_unknown_role():
    user = factories.UserFactory()

    with pytest.raises(ApplicationError) as caught:
        services.user_complete_signup(user=user, role="admin", first_name="Ada", last_name="Lovelace")

    assert caught.value.code == "invalid_role"


def test_complete_signup_cuts_names_to_sixty_characters():
    user = factories.UserFactory()

    services.user_complete_signup(user=user, role=Role.CLIENT, first_name="A" * 70, last_name="B" * 61)

    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("A" * 60, "B" * 60)


def test_switch_role_creates_the_other_profile_and_keeps_the_first(freelancer):
    services.user_switch_role(actor=freelancer, role=Role.CLIENT)

    freelancer.refresh_from_db()
    assert freelancer.active_role == "client"
    assert ClientProfile.objects.filter(user=freelancer).count() == 1
    assert FreelancerProfile.objects.filter(user=freelancer).count() == 1


def test_switch_role_twice_is_idempotent(freelancer):
    services.user_switch_role(actor=freelancer, role=Role.CLIENT)
    services.user_switch_role(actor=freelancer, role=Role.CLIENT)
    services.user_switch_role(actor=freelancer, role=Role.FREELANCER)
    services.user_switch_role(actor=freelancer, role=Role.FREELANCER)

    freelancer.refresh_from_db()
    assert freelancer.active_role == "freelancer"
    assert ClientProfile.objects.filter(user=freelancer).count() == 1
    assert FreelancerProfile.objects.filter(user=freelancer).count() == 1


def test_switch_role_is_refused_for_a_suspended_user(freelancer):
    suspended = _suspend(freelancer)

    with pytest.raises(PermissionDeniedError) as caught:
        services.user_switch_role(actor=suspended, role=Role.CLIENT)

    assert caught.value.code == "account_suspended"
    assert caught.value.status_code == 403
    assert not ClientProfile.objects.filter(user=freelancer).exists()
    freelancer.refresh_from_db()
    assert freelancer.active_role == "freelancer"


def test_switch_role_refuses_an_unknown_role(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.user_switch_role(actor=freelancer, role="staff")

    assert caught.value.code == "invalid_role"


# --- names ---------------------------------------------------------------------------------------


def test_update_name_is_refused_for_a_suspended_user(freelancer):
    suspended = _suspend(freelancer)
    before = (freelancer.first_name, freelancer.last_name)

    with pytest.raises(PermissionDeniedError) as caught:
        services.user_update_name(actor=suspended, first_name="New", last_name="Name")

    assert caught.value.code == "account_suspended"
    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == before


def test_update_name_saves_stripped_names(freelancer):
    services.user_update_name(actor=freelancer, first_name=" Marie ", last_name=" Curie ")

    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == ("Marie", "Curie")


@pytest.mark.parametrize(("first_name", "last_name"), [("", "Curie"), ("Marie", ""), ("  ", "  ")])
def test_update_name_refuses_blank_names(freelancer, first_name, last_name):
    before = (freelancer.first_name, freelancer.last_name)

    with pytest.raises(ApplicationError) as caught:
        services.user_update_name(actor=freelancer, first_name=first_name, last_name=last_name)

    assert caught.value.code == "name_required"
    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == before


@pytest.mark.parametrize(("first_name", "last_name"), [("M" * 61, "Curie"), ("Marie", "C" * 61)])
def test_update_name_refuses_names_over_sixty_characters(freelancer, first_name, last_name):
    with pytest.raises(ApplicationError) as caught:
        services.user_update_name(actor=freelancer, first_name=first_name, last_name=last_name)

    assert caught.value.code == "name_too_long"


def test_update_name_accepts_exactly_sixty_characters(freelancer):
    services.user_update_name(actor=freelancer, first_name="M" * 60, last_name="C" * 60)

    freelancer.refresh_from_db()
    assert (freelancer.first_name, freelancer.last_name) == ("M" * 60, "C" * 60)


# --- freelancer profile fields -----------------------------------------------------------------


def test_profile_update_saves_every_allowed_field(freelancer):
    services.freelancer_profile_update(
        actor=freelancer,
        title="  Data engineer ",
        overview="Pipelines.",
        hourly_rate_cents=7550,
        experience_level="expert",
        country="PL",
        timezone="Europe/Warsaw",
        availability="more_than_30",
        open_to_contract_to_hire=True,
        visibility="logged_in",
    )

    profile = _profile(freelancer)
    assert profile.title == "Data engineer"
    assert profile.overview == "Pipelines."
    assert profile.hourly_rate_cents == 7550
    assert profile.experience_level == "expert"
    assert profile.country.code == "PL"
    assert profile.timezone == "Europe/Warsaw"
    assert profile.availability == "more_than_30"
    assert profile.open_to_contract_to_hire is True
    assert profile.visibility == "logged_in"


@pytest.mark.parametrize("rate", [299, 99901, 0])
def test_profile_update_refuses_a_rate_outside_3_to_999_dollars(freelancer, rate):
    services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=4000)

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=rate)

    assert caught.value.code == "rate_out_of_range"
    assert caught.value.extra == {"field": "hourly_rate"}
    assert _profile(freelancer).hourly_rate_cents == 4000


@pytest.mark.parametrize("rate", [300, 99900])
def test_profile_update_accepts_the_rate_bounds(freelancer, rate):
    services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=rate)

    assert _profile(freelancer).hourly_rate_cents == rate


def test_profile_update_clears_the_rate_with_none(freelancer):
    services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=4000)

    services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=None)

    assert _profile(freelancer).hourly_rate_cents is None


def test_profile_update_refuses_an_overview_over_5000_characters(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, overview="x" * 5001)

    assert caught.value.code == "too_long"
    assert caught.value.extra == {"field": "Overview", "max_length": 5000}
    assert _profile(freelancer).overview == ""


def test_profile_update_accepts_an_overview_of_exactly_5000_characters(freelancer):
    services.freelancer_profile_update(actor=freelancer, overview="x" * 5000)

    assert len(_profile(freelancer).overview) == 5000


def test_profile_update_refuses_a_title_over_100_characters(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, title="t" * 101)

    assert caught.value.code == "too_long"
    assert caught.value.extra == {"field": "Title", "max_length": 100}


def test_profile_update_refuses_unknown_fields_and_saves_nothing(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, title="New", published_at=NOW, badges=["top"])

    assert caught.value.code == "unknown_fields"
    assert caught.value.message == "Unknown fields: badges, published_at."
    profile = _profile(freelancer)
    assert (profile.title, profile.published_at, profile.badges) == ("", None, [])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("experience_level", "guru"),
        ("availability", "weekends"),
        ("visibility", "friends"),
        ("timezone", "Mars/Olympus_Mons"),
        ("country", "XX"),
    ],
)
def test_profile_update_refuses_a_value_outside_the_choices(freelancer, field, value):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, **{field: value})

    assert caught.value.code == "invalid_choice"
    assert caught.value.extra == {"field": field}


def test_profile_update_with_a_subcategory_sets_its_category(freelancer):
    subcategory = Subcategory.objects.order_by("pk").last()

    services.freelancer_profile_update(actor=freelancer, subcategory_id=subcategory.pk)

    profile = _profile(freelancer)
    assert profile.subcategory_id == subcategory.pk
    assert profile.category_id == subcategory.category_id


def test_profile_update_refuses_a_subcategory_of_another_category(freelancer):
    subcategory = Subcategory.objects.order_by("pk").first()
    other_category = Category.objects.exclude(pk=subcategory.category_id).order_by("pk").first()

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(
            actor=freelancer, category_id=other_category.pk, subcategory_id=subcategory.pk
        )

    assert caught.value.code == "category_mismatch"
    profile = _profile(freelancer)
    assert (profile.category_id, profile.subcategory_id) == (None, None)


def test_profile_update_refuses_a_category_that_does_not_hold_the_saved_subcategory(freelancer):
    subcategory = Subcategory.objects.order_by("pk").first()
    services.freelancer_profile_update(actor=freelancer, subcategory_id=subcategory.pk)
    other_category = Category.objects.exclude(pk=subcategory.category_id).order_by("pk").first()

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, category_id=other_category.pk)

    assert caught.value.code == "category_mismatch"
    assert _profile(freelancer).category_id == subcategory.category_id


@pytest.mark.parametrize(
    ("field", "code"), [("category_id", "invalid_category"), ("subcategory_id", "invalid_subcategory")]
)
def test_profile_update_refuses_an_unknown_category_or_subcategory(freelancer, field, code):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_update(actor=freelancer, **{field: 987654})

    assert caught.value.code == code


def test_profile_update_by_a_client_only_user_is_refused(client_user):
    with pytest.raises(PermissionDeniedError) as caught:
        services.freelancer_profile_update(actor=client_user, title="Designer")

    assert caught.value.code == "not_freelancer"
    assert not FreelancerProfile.objects.filter(user=client_user).exists()


def test_profile_update_by_a_suspended_freelancer_is_refused(freelancer):
    suspended = _suspend(freelancer)

    with pytest.raises(PermissionDeniedError) as caught:
        services.freelancer_profile_update(actor=suspended, title="Designer")

    assert caught.value.code == "account_suspended"
    assert _profile(freelancer).title == ""


# --- skills --------------------------------------------------------------------------------------


def test_set_skills_accepts_fifteen(freelancer):
    ids = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:15])

    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=ids)

    assert sorted(_profile(freelancer).skills.values_list("pk", flat=True)) == sorted(ids)


def test_set_skills_refuses_sixteen_and_keeps_the_old_set(freelancer):
    ids = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:16])
    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=ids[:2])

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_set_skills(actor=freelancer, skill_ids=ids)

    assert caught.value.code == "too_many_skills"
    assert caught.value.message == "Choose at most 15 skills (you chose 16)."
    assert sorted(_profile(freelancer).skills.values_list("pk", flat=True)) == sorted(ids[:2])


def test_set_skills_refuses_an_unknown_skill_id(freelancer):
    skill = _skill()

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[skill.pk, 987654])

    assert caught.value.code == "invalid_skill"
    assert _profile(freelancer).skills.count() == 0


def test_set_skills_collapses_duplicates(freelancer):
    first, second = Skill.objects.order_by("pk")[:2]

    services.freelancer_profile_set_skills(
        actor=freelancer, skill_ids=[first.pk, first.pk, str(second.pk), second.pk, first.pk]
    )

    assert sorted(_profile(freelancer).skills.values_list("pk", flat=True)) == sorted([first.pk, second.pk])


def test_set_skills_counts_the_limit_after_collapsing_duplicates(freelancer):
    ids = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:15])

    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[*ids, ids[0], ids[1]])

    assert _profile(freelancer).skills.count() == 15


def test_set_skills_replaces_the_previous_set(freelancer):
    first, second, third = Skill.objects.order_by("pk")[:3]
    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[first.pk, second.pk])

    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[third.pk])

    assert list(_profile(freelancer).skills.values_list("pk", flat=True)) == [third.pk]


# --- education -----------------------------------------------------------------------------------


def test_education_save_creates_an_entry(freelancer):
    item = services.education_save(
        actor=freelancer,
        school=" Warsaw University of Technology ",
        degree="MSc",
        field_of_study="Computer Science",
        start_year="2015",
        end_year=2020,
        description="Thesis on databases.",
    )

    item.refresh_from_db()
    assert item.profile == _profile(freelancer)
    assert (item.school, item.degree, item.field_of_study) == (
        "Warsaw University of Technology",
        "MSc",
        "Computer Science",
    )
    assert (item.start_year, item.end_year) == (2015, 2020)


def test_education_save_accepts_blank_years_and_the_same_year_twice(freelancer):
    blank = services.education_save(actor=freelancer, school="School A", start_year="", end_year=None)
    same = services.education_save(actor=freelancer, school="School B", start_year=2019, end_year=2019)

    assert (blank.start_year, blank.end_year) == (None, None)
    assert (same.start_year, same.end_year) == (2019, 2019)


def test_education_save_refuses_reversed_years(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.education_save(actor=freelancer, school="MIT", start_year=2020, end_year=2016)

    assert caught.value.code == "dates_reversed"
    assert Education.objects.count() == 0


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("year", ["two thousand", "20.5", 1949, 2033, -2020])
def test_education_save_refuses_an_invalid_year(freelancer, year):
    with pytest.raises(ApplicationError) as caught:
        services.education_save(actor=freelancer, school="MIT", start_year=year)

    assert caught.value.code == "invalid_year"
    assert Education.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_education_save_accepts_years_from_1950_to_eight_years_ahead(freelancer):
    item = services.education_save(actor=freelancer, school="MIT", start_year=1950, end_year=2032)

    assert (item.start_year, item.end_year) == (1950, 2032)


@pytest.mark.parametrize("school", ["", "   "])
def test_education_save_requires_a_school(freelancer, school):
    with pytest.raises(ApplicationError) as caught:
        services.education_save(actor=freelancer, school=school)

    assert caught.value.code == "required"
    assert caught.value.extra == {"field": "School"}


def test_education_save_with_an_id_updates_the_entry(freelancer):
    item = services.education_save(actor=freelancer, school="MIT")

    services.education_save(actor=freelancer, item_id=item.pk, school="Stanford", degree="PhD")

    assert list(Education.objects.values_list("pk", "school", "degree")) == [(item.pk, "Stanford", "PhD")]


def test_education_save_with_another_users_id_is_not_found(freelancer):
    owner = factories.make_freelancer()
    item = services.education_save(actor=owner, school="MIT")

    with pytest.raises(NotFoundError):
        services.education_save(actor=freelancer, item_id=item.pk, school="Hijacked")

    item.refresh_from_db()
    assert (item.school, item.profile.user_id) == ("MIT", owner.pk)


# --- employment ----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_employment_save_creates_an_entry(freelancer):
    item = services.employment_save(
        actor=freelancer,
        company=" Acme ",
        title="Backend developer",
        start_date=date(2019, 3, 1),
        end_date=date(2023, 1, 31),
        country="DE",
        description="APIs.",
    )

    item.refresh_from_db()
    assert (item.company, item.title, item.country.code) == ("Acme", "Backend developer", "DE")
    assert (item.start_date, item.end_date) == (date(2019, 3, 1), date(2023, 1, 31))


@time_machine.travel(NOW, tick=False)
def test_employment_save_accepts_a_current_job_without_end_date(freelancer):
    item = services.employment_save(actor=freelancer, company="Acme", title="CTO", start_date=TODAY)

    assert (item.start_date, item.end_date) == (TODAY, None)


@time_machine.travel(NOW, tick=False)
def test_employment_save_refuses_reversed_dates(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(
            actor=freelancer,
            company="Acme",
            title="Dev",
            start_date=date(2022, 5, 1),
            end_date=date(2022, 4, 30),
        )

    assert caught.value.code == "dates_reversed"
    assert Employment.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_employment_save_refuses_a_start_date_in_the_future(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(
            actor=freelancer, company="Acme", title="Dev", start_date=TODAY + timedelta(days=1)
        )

    assert caught.value.code == "date_in_future"


@time_machine.travel(NOW, tick=False)
def test_employment_save_refuses_an_end_date_in_the_future(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(
            actor=freelancer,
            company="Acme",
            title="Dev",
            start_date=date(2020, 1, 1),
            end_date=TODAY + timedelta(days=2),
        )

    assert caught.value.code == "date_in_future"


@time_machine.travel(NOW, tick=False)
def test_employment_save_refuses_a_start_date_before_1950(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(actor=freelancer, company="Acme", title="Dev", start_date=date(1949, 12, 31))

    assert caught.value.code == "invalid_date"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("company", "title", "start_date", "field"),
    [
        ("", "Dev", date(2020, 1, 1), "Company"),
        ("Acme", "  ", date(2020, 1, 1), "Title"),
        ("Acme", "Dev", None, "start_date"),
    ],
)
def test_employment_save_requires_company_title_and_start_date(freelancer, company, title, start_date, field):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(actor=freelancer, company=company, title=title, start_date=start_date)

    assert caught.value.code == "required"
    assert caught.value.extra == {"field": field}


@time_machine.travel(NOW, tick=False)
def test_employment_save_refuses_an_unknown_country(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.employment_save(
            actor=freelancer, company="Acme", title="Dev", start_date=date(2020, 1, 1), country="XX"
        )

    assert caught.value.code == "invalid_country"


# --- languages -----------------------------------------------------------------------------------


def test_language_set_adds_then_updates_a_single_row(freelancer):
    services.language_set(actor=freelancer, language="de", proficiency="basic")

    item = services.language_set(actor=freelancer, language="de", proficiency="fluent")

    assert list(
        ProfileLanguage.objects.filter(profile__user=freelancer).values_list("pk", "language", "proficiency")
    ) == [(item.pk, "de", "fluent")]


@pytest.mark.parametrize(
    ("language", "proficiency", "field"),
    [("xx", "fluent", "language"), ("english", "fluent", "language"), ("en", "perfect", "proficiency")],
)
def test_language_set_refuses_unknown_choices(freelancer, language, proficiency, field):
    with pytest.raises(ApplicationError) as caught:
        services.language_set(actor=freelancer, language=language, proficiency=proficiency)

    assert caught.value.code == "invalid_choice"
    assert caught.value.extra == {"field": field}
    assert ProfileLanguage.objects.count() == 0


# --- portfolio -----------------------------------------------------------------------------------


def test_portfolio_item_with_an_image_stores_a_reencoded_copy_under_a_random_name(freelancer):
    payload = b"<script>alert('stored')</script>"
    upload = SimpleUploadedFile(
        "my-holiday-photo.png", image_bytes("PNG", (2000, 1000)) + payload, content_type="image/png"
    )

    item = services.portfolio_item_save(actor=freelancer, title=" Landing page ", image=upload)

    item.refresh_from_db()
    assert item.title == "Landing page"
    assert item.image.name.startswith("portfolio/")
    assert item.image.name.endswith(".png")
    assert "holiday" not in item.image.name
    with item.image.open("rb") as stored:
        data = stored.read()
    assert payload not in data
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (1600, 800))


def test_portfolio_item_saves_text_link_and_known_skills(freelancer):
    first, second = Skill.objects.order_by("pk")[:2]

    item = services.portfolio_item_save(
        actor=freelancer,
        title="Shop",
        description="An online shop.",
        link="https://shop.example.com/",
        skill_ids=[first.pk, second.pk, 987654],
    )

    item.refresh_from_db()
    assert (item.description, item.link, item.position) == ("An online shop.", "https://shop.example.com/", 0)
    assert sorted(item.skills.values_list("pk", flat=True)) == sorted([first.pk, second.pk])


@pytest.mark.parametrize("link", ["shop.example.com", "javascript:alert(1)", "ftp://example.com/file"])
def test_portfolio_item_refuses_an_invalid_link(freelancer, link):
    with pytest.raises(ApplicationError) as caught:
        services.portfolio_item_save(actor=freelancer, title="Shop", link=link)

    assert caught.value.code == "invalid_url"
    assert PortfolioItem.objects.count() == 0


def test_portfolio_item_requires_a_title(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.portfolio_item_save(actor=freelancer, title="  ")

    assert caught.value.code == "required"
    assert caught.value.extra == {"field": "Title"}


def test_portfolio_holds_at_most_thirty_items(freelancer):
    for n in range(30):
        services.portfolio_item_save(actor=freelancer, title=f"Item {n}")

    with pytest.raises(ApplicationError) as caught:
        services.portfolio_item_save(actor=freelancer, title="Item 31")

    assert caught.value.code == "too_many_items"
    assert PortfolioItem.objects.filter(profile__user=freelancer).count() == 30


def test_portfolio_item_at_the_limit_can_still_be_edited(freelancer):
    items = [services.portfolio_item_save(actor=freelancer, title=f"Item {n}") for n in range(30)]

    services.portfolio_item_save(actor=freelancer, item_id=items[0].pk, title="Renamed")

    items[0].refresh_from_db()
    assert items[0].title == "Renamed"


def test_deleting_a_portfolio_item_removes_its_files_after_commit(
    freelancer, django_capture_on_commit_callbacks
):
    item = services.portfolio_item_save(
        actor=freelancer,
        title="Work",
        image=_png_upload("work.png"),
        file=SimpleUploadedFile("notes.txt", b"Project notes.\n", content_type="text/plain"),
    )
    storage = item.image.storage
    names = [item.image.name, item.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        services.portfolio_item_delete(actor=freelancer, item_id=item.pk)

    assert [storage.exists(name) for name in names] == [False, False]


def test_replacing_a_portfolio_image_removes_the_old_file(freelancer, django_capture_on_commit_callbacks):
    item = services.portfolio_item_save(actor=freelancer, title="Work", image=_png_upload("a.png"))
    storage, old_name = item.image.storage, item.image.name

    with django_capture_on_commit_callbacks(execute=True):
        item = services.portfolio_item_save(
            actor=freelancer, item_id=item.pk, title="Work", image=_png_upload("b.png")
        )

    assert item.image.name != old_name
    assert storage.exists(item.image.name)
    assert not storage.exists(old_name)


def test_portfolio_item_edit_of_another_users_item_is_not_found(freelancer):
    owner = factories.make_freelancer()
    item = services.portfolio_item_save(actor=owner, title="Mine")

    with pytest.raises(NotFoundError):
        services.portfolio_item_save(actor=freelancer, item_id=item.pk, title="Stolen")

    item.refresh_from_db()
    assert item.title == "Mine"


# --- deleting other people's rows ----------------------------------------------------------------


def _make_education(user):
    return services.education_save(actor=user, school="MIT")


def _make_employment(user):
    return services.employment_save(actor=user, company="Acme", title="Dev", start_date=date(2020, 1, 1))


def _make_language(user):
    return services.language_set(actor=user, language="fr", proficiency="native")


def _make_portfolio_item(user):
    return services.portfolio_item_save(actor=user, title="Mine", image=_png_upload())


DELETABLE = [
    pytest.param(_make_education, services.education_delete, Education, id="education"),
    pytest.param(_make_employment, services.employment_delete, Employment, id="employment"),
    pytest.param(_make_language, services.language_delete, ProfileLanguage, id="language"),
    pytest.param(_make_portfolio_item, services.portfolio_item_delete, PortfolioItem, id="portfolio"),
]


@pytest.mark.parametrize(("make", "delete", "model"), DELETABLE)
def test_deleting_another_users_row_is_not_found_and_keeps_it(freelancer, make, delete, model):
    owner = factories.make_freelancer()
    item = make(owner)

    with pytest.raises(NotFoundError) as caught:
        delete(actor=freelancer, item_id=item.pk)

    assert caught.value.status_code == 404
    assert model.objects.filter(pk=item.pk, profile__user=owner).exists()


@pytest.mark.parametrize(("make", "delete", "model"), DELETABLE)
def test_deleting_an_own_row_removes_it(freelancer, make, delete, model):
    item = make(freelancer)

    delete(actor=freelancer, item_id=item.pk)

    assert not model.objects.filter(pk=item.pk).exists()


# --- onboarding ----------------------------------------------------------------------------------


def test_onboarding_starts_at_about(freelancer):
    assert _profile(freelancer).onboarding_step == "about"


@pytest.mark.parametrize("missing", ["title", "category", "skill"])
def test_onboarding_about_needs_title_category_and_a_skill(freelancer, missing):
    skill = _skill()
    if missing != "title":
        services.freelancer_profile_update(actor=freelancer, title="Developer")
    if missing != "category":
        services.freelancer_profile_update(actor=freelancer, subcategory_id=skill.subcategory_id)
    if missing != "skill":
        services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[skill.pk])

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_onboarding_advance(actor=freelancer, completed_step="about")

    assert caught.value.code == "step_incomplete"
    assert _profile(freelancer).onboarding_step == "about"


def test_onboarding_about_done_moves_to_education(freelancer):
    _fill_about(freelancer)

    profile = services.freelancer_onboarding_advance(actor=freelancer, completed_step="about")

    assert profile.onboarding_step == "education"
    assert _profile(freelancer).onboarding_step == "education"


def test_onboarding_education_and_experience_are_optional(freelancer):
    _fill_about(freelancer)
    services.freelancer_onboarding_advance(actor=freelancer, completed_step="about")

    after_education = services.freelancer_onboarding_advance(actor=freelancer, completed_step="education")
    step_after_education = after_education.onboarding_step
    after_experience = services.freelancer_onboarding_advance(actor=freelancer, completed_step="experience")

    assert (step_after_education, after_experience.onboarding_step) == ("experience", "languages")


def test_onboarding_languages_needs_a_language(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_onboarding_advance(actor=freelancer, completed_step="languages")
    services.language_set(actor=freelancer, language="en", proficiency="native")
    profile = services.freelancer_onboarding_advance(actor=freelancer, completed_step="languages")

    assert caught.value.code == "step_incomplete"
    assert profile.onboarding_step == "rate"


def test_onboarding_rate_needs_an_hourly_rate(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_onboarding_advance(actor=freelancer, completed_step="rate")
    services.freelancer_profile_update(actor=freelancer, hourly_rate_cents=2500)
    profile = services.freelancer_onboarding_advance(actor=freelancer, completed_step="rate")

    assert caught.value.code == "step_incomplete"
    assert profile.onboarding_step == "overview"


def test_onboarding_overview_needs_100_characters(freelancer):
    services.freelancer_profile_update(actor=freelancer, overview="x" * 99)
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_onboarding_advance(actor=freelancer, completed_step="overview")
    services.freelancer_profile_update(actor=freelancer, overview="x" * 100)
    profile = services.freelancer_onboarding_advance(actor=freelancer, completed_step="overview")

    assert caught.value.code == "step_incomplete"
    assert caught.value.message == "Write an overview of at least 100 characters."
    assert profile.onboarding_step == "review"


def test_onboarding_review_stays_at_review(freelancer):
    profile = services.freelancer_onboarding_advance(actor=freelancer, completed_step="review")

    assert profile.onboarding_step == "review"


def test_onboarding_never_moves_backwards(freelancer):
    services.language_set(actor=freelancer, language="en", proficiency="native")
    services.freelancer_onboarding_advance(actor=freelancer, completed_step="languages")
    _fill_about(freelancer)

    services.freelancer_onboarding_advance(actor=freelancer, completed_step="about")
    services.freelancer_onboarding_advance(actor=freelancer, completed_step="education")

    assert _profile(freelancer).onboarding_step == "rate"


def test_onboarding_refuses_an_unknown_step(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_onboarding_advance(actor=freelancer, completed_step="payments")

    assert caught.value.code == "invalid_step"


def test_onboarding_by_a_client_only_user_is_refused(client_user):
    with pytest.raises(PermissionDeniedError) as caught:
        services.freelancer_onboarding_advance(actor=client_user, completed_step="education")

    assert caught.value.code == "not_freelancer"


# --- publishing ----------------------------------------------------------------------------------


def test_publish_an_empty_profile_is_refused_listing_every_required_part(freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_publish(actor=freelancer)

    assert caught.value.code == "profile_incomplete"
    assert caught.value.extra == {"missing": ["about", "languages", "rate", "overview"]}
    assert caught.value.message == (
        "Before publishing: Add a title, a category and your skills; Add the languages you speak; "
        "Set your hourly rate; Write an overview of at least 100 characters."
    )
    assert _profile(freelancer).published_at is None


def test_publish_lists_only_the_required_parts_still_missing(freelancer):
    _fill_about(freelancer)
    services.freelancer_profile_update(actor=freelancer, overview=LONG_OVERVIEW)

    with pytest.raises(ApplicationError) as caught:
        services.freelancer_profile_publish(actor=freelancer)

    assert caught.value.extra == {"missing": ["languages", "rate"]}


def test_publish_succeeds_with_only_the_required_parts(freelancer):
    _fill_required(freelancer)

    with time_machine.travel(NOW, tick=False):
        returned = services.freelancer_profile_publish(actor=freelancer)

    profile = _profile(freelancer)
    assert returned.pk == profile.pk
    assert profile.published_at == NOW
    assert profile.onboarding_step == "review"
    assert not profile.education.exists()
    assert not profile.employment.exists()
    assert not profile.portfolio_items.exists()
    assert not profile.photo


def test_publish_again_keeps_the_first_publication_time(freelancer):
    _fill_required(freelancer)
    with time_machine.travel(NOW, tick=False):
        services.freelancer_profile_publish(actor=freelancer)

    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        services.freelancer_profile_publish(actor=freelancer)

    assert _profile(freelancer).published_at == NOW


def test_unpublish_clears_the_publication_time(published_freelancer):
    services.freelancer_profile_unpublish(actor=published_freelancer)

    assert _profile(published_freelancer).published_at is None


# --- moderation ----------------------------------------------------------------------------------


def test_staff_suspends_a_user_and_an_event_is_written(staff, freelancer):
    with time_machine.travel(NOW, tick=False):
        services.user_suspend(actor=staff, user_id=freelancer.pk, reason="fraud", note="  Fake invoices. ")

    freelancer.refresh_from_db()
    assert (freelancer.suspended_at, freelancer.suspension_reason, freelancer.suspension_note) == (
        NOW,
        "fraud",
        "Fake invoices.",
    )
    assert freelancer.is_suspended
    assert list(UserModerationEvent.objects.values_list("user", "actor", "action", "reason", "note")) == [
        (freelancer.pk, staff.pk, ModerationAction.SUSPEND, "fraud", "Fake invoices.")
    ]


def test_suspend_by_a_non_staff_user_is_refused(client_user, freelancer):
    with pytest.raises(PermissionDeniedError) as caught:
        services.user_suspend(actor=client_user, user_id=freelancer.pk, reason="spam")

    assert caught.value.code == "permission_denied"
    freelancer.refresh_from_db()
    assert freelancer.suspended_at is None
    assert UserModerationEvent.objects.count() == 0


def test_staff_cannot_suspend_themselves(staff):
    with pytest.raises(ApplicationError) as caught:
        services.user_suspend(actor=staff, user_id=staff.pk, reason="spam")

    assert caught.value.code == "self_suspend"
    staff.refresh_from_db()
    assert staff.suspended_at is None


def test_suspending_an_already_suspended_user_is_refused(staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")

    with pytest.raises(ApplicationError) as caught:
        services.user_suspend(actor=staff, user_id=freelancer.pk, reason="fraud")

    assert caught.value.code == "already_suspended"
    freelancer.refresh_from_db()
    assert freelancer.suspension_reason == "spam"
    assert UserModerationEvent.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "rude", "FRAUD"])
def test_suspend_needs_a_known_reason(staff, freelancer, reason):
    with pytest.raises(ApplicationError) as caught:
        services.user_suspend(actor=staff, user_id=freelancer.pk, reason=reason)

    assert caught.value.code == "reason_required"
    freelancer.refresh_from_db()
    assert freelancer.suspended_at is None


def test_suspend_an_unknown_user_is_not_found(staff):
    with pytest.raises(NotFoundError):
        services.user_suspend(actor=staff, user_id=987654, reason="spam")


def test_staff_reinstates_a_suspended_user_and_an_event_is_written(staff, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="harassment", note="Abuse")

    services.user_reinstate(actor=staff, user_id=freelancer.pk, note=" Appeal accepted ")

    freelancer.refresh_from_db()
    assert (freelancer.suspended_at, freelancer.suspension_reason, freelancer.suspension_note) == (
        None,
        "",
        "",
    )
    latest = UserModerationEvent.objects.filter(action=ModerationAction.REINSTATE).get()
    assert (latest.user_id, latest.actor_id, latest.reason, latest.note) == (
        freelancer.pk,
        staff.pk,
        "",
        "Appeal accepted",
    )
    assert UserModerationEvent.objects.count() == 2


def test_reinstate_by_a_non_staff_user_is_refused(staff, client_user, freelancer):
    services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")

    with pytest.raises(PermissionDeniedError):
        services.user_reinstate(actor=client_user, user_id=freelancer.pk)

    freelancer.refresh_from_db()
    assert freelancer.is_suspended
    assert UserModerationEvent.objects.count() == 1


def test_reinstate_a_user_who_is_not_suspended_is_refused(staff, freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.user_reinstate(actor=staff, user_id=freelancer.pk)

    assert caught.value.code == "not_suspended"
    assert UserModerationEvent.objects.count() == 0


def test_a_suspended_staff_member_cannot_reinstate_themselves(staff):
    services.user_suspend(actor=factories.make_staff(), user_id=staff.pk, reason="terms")
    staff.refresh_from_db()

    with pytest.raises(PermissionDeniedError) as caught:
        services.user_reinstate(actor=staff, user_id=staff.pk)

    assert caught.value.code == "account_suspended"
    staff.refresh_from_db()
    assert staff.is_suspended


def test_reinstate_an_unknown_user_is_not_found(staff):
    with pytest.raises(NotFoundError):
        services.user_reinstate(actor=staff, user_id=987654)


# --- account deletion ----------------------------------------------------------------------------


def test_delete_account_anonymises_and_deactivates_the_user(published_freelancer):
    user = published_freelancer
    services.user_switch_role(actor=user, role=Role.CLIENT)
    services.education_save(actor=user, school="MIT")

    with time_machine.travel(NOW, tick=False):
        services.user_delete_account(actor=user)

    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert (user.first_name, user.last_name) == ("Deleted", "user")
    assert user.is_active is False
    assert user.deleted_at == NOW
    assert user.has_usable_password() is False
    assert not FreelancerProfile.objects.filter(user=user).exists()
    assert not ClientProfile.objects.filter(user=user).exists()
    assert not Education.objects.exists()
    assert not ProfileLanguage.objects.exists()
    assert not EmailAddress.objects.filter(user=user).exists()


def test_delete_account_is_refused_for_staff(staff):
    email = staff.email

    with pytest.raises(PermissionDeniedError) as caught:
        services.user_delete_account(actor=staff)

    assert caught.value.code == "staff_account"
    staff.refresh_from_db()
    assert (staff.email, staff.is_active, staff.deleted_at) == (email, True, None)
    assert ClientProfile.objects.filter(user=staff).exists()


def test_delete_account_removes_portfolio_files_after_commit(freelancer, django_capture_on_commit_callbacks):
    item = services.portfolio_item_save(
        actor=freelancer,
        title="Work",
        image=_png_upload("work.png"),
        file=SimpleUploadedFile("notes.txt", b"Project notes.\n", content_type="text/plain"),
    )
    storage = item.image.storage
    names = [item.image.name, item.file.name]
    assert [storage.exists(name) for name in names] == [True, True]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.user_delete_account(actor=freelancer)
    still_there_before_commit = [storage.exists(name) for name in names]
    for callback in callbacks:
        callback()

    assert still_there_before_commit == [True, True]
    assert [storage.exists(name) for name in names] == [False, False]


def test_delete_account_removes_the_profile_photo_file(freelancer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.freelancer_profile_set_photo(actor=freelancer, upload=_png_upload("me.png"))
    photo = _profile(freelancer).photo
    storage, name = photo.storage, photo.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete_account(actor=freelancer)

    assert not storage.exists(name)


# --- client profile ------------------------------------------------------------------------------


def test_client_profile_update_saves_fields(client_user):
    services.client_profile_update(
        actor=client_user,
        kind="company",
        company_name="  Acme Ltd ",
        company_size="10-99",
        website="https://acme.example.com",
        industry="Retail",
        country="PL",
        timezone="Europe/Warsaw",
    )

    profile = ClientProfile.objects.get(user=client_user)
    assert (profile.kind, profile.company_name, profile.company_size) == ("company", "Acme Ltd", "10-99")
    assert (profile.website, profile.industry, profile.country.code, profile.timezone) == (
        "https://acme.example.com",
        "Retail",
        "PL",
        "Europe/Warsaw",
    )


def test_client_profile_company_kind_needs_a_company_name(client_user):
    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, kind="company")

    assert caught.value.code == "company_name_required"
    assert caught.value.extra == {"field": "company_name"}
    assert ClientProfile.objects.get(user=client_user).kind == "individual"


def test_client_profile_company_name_cannot_be_cleared_while_kind_is_company(client_user):
    services.client_profile_update(actor=client_user, kind="company", company_name="Acme")

    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, company_name="   ")

    assert caught.value.code == "company_name_required"
    assert ClientProfile.objects.get(user=client_user).company_name == "Acme"


@pytest.mark.parametrize(
    "website",
    ["acme.example.com", "javascript:alert(1)", "ftp://acme.example.com", "https://" + "a" * 200 + ".com"],
)
def test_client_profile_refuses_a_bad_website(client_user, website):
    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, website=website)

    assert caught.value.code == "invalid_url"
    assert ClientProfile.objects.get(user=client_user).website == ""


@pytest.mark.parametrize("country", ["XX", "pl", "Poland"])
def test_client_profile_refuses_an_unknown_country(client_user, country):
    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, country=country)

    assert caught.value.code == "invalid_country"


def test_client_profile_refuses_unknown_fields(client_user):
    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, total_spent_cents=10**9)

    assert caught.value.code == "unknown_fields"
    assert ClientProfile.objects.get(user=client_user).total_spent_cents == 0


def test_client_profile_refuses_an_unknown_company_size_but_accepts_blank(client_user):
    with pytest.raises(ApplicationError) as caught:
        services.client_profile_update(actor=client_user, company_size="huge")
    services.client_profile_update(actor=client_user, company_size="")

    assert caught.value.code == "invalid_choice"
    assert ClientProfile.objects.get(user=client_user).company_size == ""


def test_client_profile_update_by_a_freelancer_only_user_is_refused(freelancer):
    with pytest.raises(PermissionDeniedError) as caught:
        services.client_profile_update(actor=freelancer, industry="Retail")

    assert caught.value.code == "not_client"


# --- skill assessments ---------------------------------------------------------------------------


def test_assessment_start_creates_a_timed_attempt(freelancer):
    assessment = _python_test()

    with time_machine.travel(NOW, tick=False):
        attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    attempt.refresh_from_db()
    assert (attempt.user_id, attempt.assessment_id) == (freelancer.pk, assessment.pk)
    assert attempt.started_at == NOW
    assert attempt.deadline_at == NOW + timedelta(minutes=assessment.time_limit_minutes)
    assert (attempt.submitted_at, attempt.score_percent, attempt.passed) == (None, None, False)


def test_assessment_start_returns_the_open_attempt_again(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        first = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        traveller.shift(timedelta(minutes=5))

        again = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    assert again.pk == first.pk
    assert AssessmentAttempt.objects.count() == 1


def test_assessment_all_correct_scores_100_and_passes(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        traveller.shift(timedelta(minutes=3))

        graded = services.assessment_submit(
            actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment)
        )

    graded.refresh_from_db()
    assert (graded.score_percent, graded.passed) == (100, True)
    assert graded.submitted_at == NOW + timedelta(minutes=3)


def test_assessment_all_wrong_scores_0_and_fails(freelancer):
    assessment = _python_test()
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    graded = services.assessment_submit(
        actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment, wrong=True)
    )

    graded.refresh_from_db()
    assert (graded.score_percent, graded.passed) == (0, False)


@pytest.mark.parametrize(("correct", "score", "passed"), [(7, 70, True), (6, 60, False), (0, 0, False)])
def test_assessment_pass_mark_is_70_percent(freelancer, correct, score, passed):
    assessment = _python_test()
    assert (assessment.questions.count(), assessment.pass_percent) == (10, 70)
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    graded = services.assessment_submit(
        actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment, correct=correct)
    )

    assert (graded.score_percent, graded.passed) == (score, passed)


def test_assessment_unanswered_questions_count_as_wrong(freelancer):
    assessment = _python_test()
    answers = dict(list(_answers(assessment).items())[:5])
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    graded = services.assessment_submit(actor=freelancer, attempt_id=attempt.pk, answers=answers)

    assert (graded.score_percent, graded.passed) == (50, False)


def test_assessment_a_correct_choice_of_another_question_does_not_count(freelancer):
    assessment = _python_test()
    correct = list(_answers(assessment).values())
    question_ids = list(assessment.questions.values_list("pk", flat=True))
    shifted = {qid: correct[(index + 1) % len(correct)] for index, qid in enumerate(question_ids)}
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    graded = services.assessment_submit(actor=freelancer, attempt_id=attempt.pk, answers=shifted)

    assert graded.score_percent == 0


def test_assessment_submitting_twice_is_refused(freelancer):
    assessment = _python_test()
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
    services.assessment_submit(
        actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment, wrong=True)
    )

    with pytest.raises(ApplicationError) as caught:
        services.assessment_submit(actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment))

    assert caught.value.code == "already_submitted"
    attempt.refresh_from_db()
    assert (attempt.score_percent, attempt.passed) == (0, False)


def test_assessment_submitted_after_deadline_and_grace_counts_as_no_answers(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        traveller.move_to(attempt.deadline_at + timedelta(seconds=31))

        graded = services.assessment_submit(
            actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment)
        )

    graded.refresh_from_db()
    assert (graded.score_percent, graded.passed) == (0, False)
    assert graded.submitted_at == attempt.deadline_at + timedelta(seconds=31)


def test_assessment_submitted_within_the_grace_period_is_graded(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        traveller.move_to(attempt.deadline_at + timedelta(seconds=30))

        graded = services.assessment_submit(
            actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment)
        )

    assert (graded.score_percent, graded.passed) == (100, True)


def test_assessment_retake_within_30_days_is_refused(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        services.assessment_submit(
            actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment, wrong=True)
        )
        traveller.shift(timedelta(days=29))

        with pytest.raises(ApplicationError) as caught:
            services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    assert caught.value.code == "retake_too_soon"
    assert caught.value.extra == {"retake_after": (NOW + timedelta(days=30)).isoformat()}
    assert caught.value.message == "You can take this test again on Jul 15, 2024."
    assert AssessmentAttempt.objects.count() == 1


def test_assessment_abandoned_attempt_also_blocks_a_retake(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        traveller.shift(timedelta(hours=1))

        with pytest.raises(ApplicationError) as caught:
            services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    assert caught.value.code == "retake_too_soon"


def test_assessment_retake_after_31_days_starts_a_new_attempt(freelancer):
    assessment = _python_test()
    with time_machine.travel(NOW, tick=False) as traveller:
        first = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
        services.assessment_submit(
            actor=freelancer, attempt_id=first.pk, answers=_answers(assessment, wrong=True)
        )
        traveller.shift(timedelta(days=31))

        second = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)

    assert second.pk != first.pk
    assert second.started_at == NOW + timedelta(days=31)
    assert second.submitted_at is None
    assert AssessmentAttempt.objects.filter(user=freelancer).count() == 2


def test_assessment_submit_by_a_suspended_freelancer_is_refused(freelancer):
    assessment = _python_test()
    attempt = services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
    suspended = _suspend(freelancer)

    with pytest.raises(PermissionDeniedError) as caught:
        services.assessment_submit(actor=suspended, attempt_id=attempt.pk, answers=_answers(assessment))

    assert caught.value.code == "account_suspended"
    attempt.refresh_from_db()
    assert (attempt.submitted_at, attempt.passed) == (None, False)


def test_assessment_submit_of_another_users_attempt_is_not_found(freelancer):
    other = factories.make_freelancer()
    assessment = _python_test()
    attempt = services.assessment_start(actor=other, assessment_id=assessment.pk)

    with pytest.raises(NotFoundError):
        services.assessment_submit(actor=freelancer, attempt_id=attempt.pk, answers=_answers(assessment))

    attempt.refresh_from_db()
    assert (attempt.submitted_at, attempt.score_percent) == (None, None)


def test_assessment_start_by_a_client_only_user_is_refused(client_user):
    with pytest.raises(PermissionDeniedError) as caught:
        services.assessment_start(actor=client_user, assessment_id=_python_test().pk)

    assert caught.value.code == "not_freelancer"
    assert AssessmentAttempt.objects.count() == 0


def test_assessment_start_by_a_suspended_freelancer_is_refused(freelancer):
    suspended = _suspend(freelancer)

    with pytest.raises(PermissionDeniedError) as caught:
        services.assessment_start(actor=suspended, assessment_id=_python_test().pk)

    assert caught.value.code == "account_suspended"


def test_assessment_start_of_an_unknown_or_inactive_test_is_not_found(freelancer):
    assessment = _python_test()
    SkillAssessment.objects.filter(pk=assessment.pk).update(is_active=False)

    with pytest.raises(NotFoundError):
        services.assessment_start(actor=freelancer, assessment_id=assessment.pk)
    with pytest.raises(NotFoundError):
        services.assessment_start(actor=freelancer, assessment_id=987654)

    assert AssessmentAttempt.objects.count() == 0
