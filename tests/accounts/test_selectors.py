"""accounts.selectors: completeness, who may see which profile, verified skills, test rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from accounts import selectors, services
from accounts.models import FreelancerProfile, SkillAssessment, User
from tests import factories
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
LONG_OVERVIEW = "I design and build reliable web applications for small companies. " * 3


def _profile(user: User) -> FreelancerProfile:
    return FreelancerProfile.objects.get(user=user)


def _publish(*, visibility: str = "public") -> User:
    user = factories.make_published_freelancer()
    services.freelancer_profile_update(actor=user, visibility=visibility)
    return user


def _python_test() -> SkillAssessment:
    return SkillAssessment.objects.get(skill__name="Python")


def _answers(assessment: SkillAssessment, *, correct: bool) -> dict[int, int]:
    return {
        question.pk: next(c.pk for c in question.choices.all() if c.is_correct == correct)
        for question in assessment.questions.prefetch_related("choices")
    }


def _take_test(user: User, *, correct: bool, assessment: SkillAssessment | None = None):
    assessment = assessment or _python_test()
    attempt = services.assessment_start(actor=user, assessment_id=assessment.pk)
    return services.assessment_submit(
        actor=user, attempt_id=attempt.pk, answers=_answers(assessment, correct=correct)
    )


# --- completeness --------------------------------------------------------------------------------


def test_completeness_of_an_empty_profile_is_0_with_8_missing_parts(freelancer):
    completeness = selectors.profile_completeness(_profile(freelancer))

    assert completeness.percent == 0
    assert completeness.is_complete is False
    assert [(m.key, m.step, m.weight, m.required) for m in completeness.missing] == [
        ("about", "about", 20, True),
        ("education", "education", 10, False),
        ("experience", "experience", 10, False),
        ("languages", "languages", 10, True),
        ("rate", "rate", 15, True),
        ("overview", "overview", 15, True),
        ("photo", "overview", 10, False),
        ("portfolio", "review", 10, False),
    ]
    assert sum(m.weight for m in completeness.missing) == 100


def test_completeness_of_a_fully_filled_profile_is_100(published_freelancer):
    user = published_freelancer
    services.education_save(actor=user, school="MIT")
    services.employment_save(actor=user, company="Acme", title="Dev", start_date=date(2020, 1, 1))
    services.freelancer_profile_set_photo(
        actor=user, upload=SimpleUploadedFile("me.jpg", image_bytes("JPEG"), content_type="image/jpeg")
    )
    services.portfolio_item_save(actor=user, title="Shop")

    completeness = selectors.profile_completeness(_profile(user))

    assert (completeness.percent, completeness.missing, completeness.is_complete) == (100, [], True)


def test_completeness_of_a_published_profile_misses_only_optional_parts(published_freelancer):
    completeness = selectors.profile_completeness(_profile(published_freelancer))

    assert completeness.percent == 60
    assert [m.key for m in completeness.missing] == ["education", "experience", "photo", "portfolio"]
    assert not any(m.required for m in completeness.missing)


@pytest.mark.parametrize(
    ("fill", "percent"),
    [
        (lambda u: services.education_save(actor=u, school="MIT"), 10),
        (
            lambda u: services.employment_save(
                actor=u, company="Acme", title="Dev", start_date=date(2020, 1, 1)
            ),
            10,
        ),
        (lambda u: services.language_set(actor=u, language="en", proficiency="fluent"), 10),
        (lambda u: services.freelancer_profile_update(actor=u, hourly_rate_cents=3000), 15),
        (lambda u: services.freelancer_profile_update(actor=u, overview="x" * 100), 15),
        (lambda u: services.portfolio_item_save(actor=u, title="Shop"), 10),
    ],
    ids=["education", "experience", "languages", "rate", "overview", "portfolio"],
)
def test_completeness_weight_of_each_part(freelancer, fill, percent):
    fill(freelancer)

    assert selectors.profile_completeness(_profile(freelancer)).percent == percent


def test_completeness_overview_needs_100_characters(freelancer):
    services.freelancer_profile_update(actor=freelancer, overview="x" * 99)

    completeness = selectors.profile_completeness(_profile(freelancer))

    assert completeness.percent == 0
    assert "overview" in [m.key for m in completeness.missing]


def test_completeness_about_needs_title_category_and_skill_together(freelancer):
    skill = factories.SkillFactory()
    services.freelancer_profile_update(actor=freelancer, title="Developer")
    services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[skill.pk])
    without_category = selectors.profile_completeness(_profile(freelancer)).percent

    services.freelancer_profile_update(actor=freelancer, subcategory_id=skill.subcategory_id)
    with_category = selectors.profile_completeness(_profile(freelancer)).percent

    assert (without_category, with_category) == (0, 20)


# --- visibility ----------------------------------------------------------------------------------

ANONYMOUS, OTHER, OWNER, STAFF = "anonymous", "other user", "owner", "staff"


def _viewer(kind: str, owner: User):
    if kind == ANONYMOUS:
        return AnonymousUser()
    if kind == OTHER:
        return factories.make_client()
    if kind == OWNER:
        return owner
    return factories.make_staff()


VISIBILITY_MATRIX = [
    ("public", ANONYMOUS, True),
    ("public", OTHER, True),
    ("public", OWNER, True),
    ("public", STAFF, True),
    ("logged_in", ANONYMOUS, False),
    ("logged_in", OTHER, True),
    ("logged_in", OWNER, True),
    ("logged_in", STAFF, True),
    ("private", ANONYMOUS, False),
    ("private", OTHER, False),
    ("private", OWNER, True),
    ("private", STAFF, True),
]


@pytest.mark.parametrize(("visibility", "viewer_kind", "visible"), VISIBILITY_MATRIX)
def test_profile_visibility_matrix(visibility, viewer_kind, visible):
    owner = _publish(visibility=visibility)
    public_id = _profile(owner).public_id
    viewer = _viewer(viewer_kind, owner)

    if visible:
        profile = selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer)
        assert profile.user_id == owner.pk
    else:
        with pytest.raises(Http404):
            selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer)


def test_profile_lookup_without_a_viewer_is_anonymous():
    owner = _publish(visibility="logged_in")

    with pytest.raises(Http404):
        selectors.freelancer_get_for_viewer(public_id=_profile(owner).public_id, viewer=None)


@pytest.mark.parametrize(
    ("viewer_kind", "visible"), [(ANONYMOUS, False), (OTHER, False), (OWNER, True), (STAFF, True)]
)
def test_unpublished_profile_is_seen_only_by_its_owner_and_staff(freelancer, viewer_kind, visible):
    public_id = _profile(freelancer).public_id
    viewer = _viewer(viewer_kind, freelancer)

    if visible:
        assert (
            selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer).user_id == freelancer.pk
        )
    else:
        with pytest.raises(Http404):
            selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer)


@pytest.mark.parametrize(
    ("viewer_kind", "visible"), [(ANONYMOUS, False), (OTHER, False), (OWNER, True), (STAFF, True)]
)
def test_suspended_owners_profile_is_hidden_from_others(staff, viewer_kind, visible):
    owner = _publish()
    services.user_suspend(actor=staff, user_id=owner.pk, reason="fraud")
    owner.refresh_from_db()
    public_id = _profile(owner).public_id
    viewer = staff if viewer_kind == STAFF else _viewer(viewer_kind, owner)

    if visible:
        assert selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer).user_id == owner.pk
    else:
        with pytest.raises(Http404):
            selectors.freelancer_get_for_viewer(public_id=public_id, viewer=viewer)


def test_unknown_public_id_is_404_even_for_staff(staff):
    with pytest.raises(Http404):
        selectors.freelancer_get_for_viewer(public_id="~0000000000000000", viewer=staff)


def test_list_visible_shows_only_published_visible_profiles_of_active_users(staff):
    with time_machine.travel(NOW, tick=False) as traveller:
        public_old = _publish(visibility="public")
        traveller.shift(timedelta(hours=1))
        public_new = _publish(visibility="public")
        traveller.shift(timedelta(hours=1))
        logged_in = _publish(visibility="logged_in")
        _publish(visibility="private")
        factories.make_freelancer()  # never published
        unpublished = _publish()
        services.freelancer_profile_unpublish(actor=unpublished)
        suspended = _publish()
        services.user_suspend(actor=staff, user_id=suspended.pk, reason="spam")
        deleted = _publish()
        services.user_delete_account(actor=deleted)
    viewer = factories.make_client()

    anonymous_ids = [p.user_id for p in selectors.freelancer_list_visible(viewer=AnonymousUser())]
    none_ids = [p.user_id for p in selectors.freelancer_list_visible(viewer=None)]
    signed_in_ids = [p.user_id for p in selectors.freelancer_list_visible(viewer=viewer)]

    assert anonymous_ids == [public_new.pk, public_old.pk]
    assert none_ids == [public_new.pk, public_old.pk]
    assert signed_in_ids == [logged_in.pk, public_new.pk, public_old.pk]


def test_list_visible_hides_a_profile_once_its_owner_is_suspended_and_shows_it_after_reinstatement(staff):
    owner = _publish()
    services.user_suspend(actor=staff, user_id=owner.pk, reason="spam")
    while_suspended = list(selectors.freelancer_list_visible(viewer=None))

    services.user_reinstate(actor=staff, user_id=owner.pk)
    after = [p.user_id for p in selectors.freelancer_list_visible(viewer=None)]

    assert (while_suspended, after) == ([], [owner.pk])


# --- verified skills -----------------------------------------------------------------------------


def test_verified_skills_after_a_passed_test(freelancer):
    _take_test(freelancer, correct=True)

    assert [s.name for s in selectors.verified_skills(freelancer)] == ["Python"]


def test_verified_skills_ignore_failed_and_open_attempts(freelancer):
    _take_test(freelancer, correct=False)
    services.assessment_start(
        actor=freelancer, assessment_id=SkillAssessment.objects.get(skill__name="SQL").pk
    )

    assert selectors.verified_skills(freelancer) == []


def test_verified_skills_are_per_user_and_sorted_by_name(freelancer):
    other = factories.make_freelancer()
    _take_test(freelancer, correct=True, assessment=SkillAssessment.objects.get(skill__name="SQL"))
    _take_test(freelancer, correct=True, assessment=SkillAssessment.objects.get(skill__name="Django"))
    _take_test(other, correct=True)

    assert [s.name for s in selectors.verified_skills(freelancer)] == ["Django", "SQL"]
    assert [s.name for s in selectors.verified_skills(other)] == ["Python"]


def test_a_passed_test_stays_verified_after_a_failed_retake(freelancer):
    with time_machine.travel(NOW, tick=False) as traveller:
        _take_test(freelancer, correct=True)
        traveller.shift(timedelta(days=31))
        _take_test(freelancer, correct=False)

    assert [s.name for s in selectors.verified_skills(freelancer)] == ["Python"]


# --- assessment rows -----------------------------------------------------------------------------


def _python_row(user: User) -> selectors.AssessmentRow:
    return next(r for r in selectors.assessment_rows_for_user(user) if r.assessment.skill.name == "Python")


def test_assessment_rows_list_every_active_test_by_skill_name(freelancer):
    SkillAssessment.objects.filter(skill__name="Figma").update(is_active=False)

    rows = selectors.assessment_rows_for_user(freelancer)

    names = [r.assessment.skill.name for r in rows]
    assert len(names) == 13
    assert "Figma" not in names
    assert names == sorted(names)
    assert {r.question_count for r in rows} == {9, 10}
    assert _python_row(freelancer).question_count == 10


def test_assessment_row_without_attempts_can_start(freelancer):
    row = _python_row(freelancer)

    assert (row.last_attempt, row.retake_at, row.can_start) == (None, None, True)


def test_assessment_row_with_an_open_attempt_can_start_to_resume(freelancer):
    with time_machine.travel(NOW, tick=False):
        attempt = services.assessment_start(actor=freelancer, assessment_id=_python_test().pk)

        row = _python_row(freelancer)

        assert row.last_attempt == attempt
        assert row.can_start is True


def test_assessment_row_after_submitting_waits_30_days(freelancer):
    with time_machine.travel(NOW, tick=False) as traveller:
        attempt = _take_test(freelancer, correct=False)
        traveller.shift(timedelta(days=29, hours=23))
        row_before = _python_row(freelancer)
        can_start_before = row_before.can_start
        traveller.move_to(NOW + timedelta(days=30))
        row_after = _python_row(freelancer)
        can_start_after = row_after.can_start

    assert row_before.last_attempt == attempt
    assert row_before.retake_at == NOW + timedelta(days=30)
    assert (can_start_before, can_start_after) == (False, True)


def test_assessment_row_shows_the_latest_attempt(freelancer):
    with time_machine.travel(NOW, tick=False) as traveller:
        _take_test(freelancer, correct=False)
        traveller.shift(timedelta(days=31))
        latest = _take_test(freelancer, correct=True)

        row = _python_row(freelancer)

    assert row.last_attempt == latest
    assert row.retake_at == NOW + timedelta(days=61)
