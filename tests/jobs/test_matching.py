"""Matching: the pure score, the materialised top matches, and "Not interested"."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.models import Skill, User
from jobs import matching, services
from jobs.matching import (
    WEIGHTS,
    FreelancerFeatures,
    JobFeatures,
    MatchContext,
    budget_level,
    score_pair,
    text_tokens,
)
from jobs.models import Job, JobMatch, MatchDismissal
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from tests import factories
from tests.jobs.conftest import make_job

OVERVIEW = (
    "I build Django and PostgreSQL web applications for small companies, from booking sites to APIs. " * 2
)


@pytest.fixture(autouse=True)
def _fresh_skill_rarity():
    """Skill rarity is cached between refreshes; each test counts its own jobs."""
    cache.delete(matching.CONTEXT_CACHE_KEY)


# --- helpers --------------------------------------------------------------------------------


def make_matched_freelancer(
    *,
    skills: tuple[str, ...] = ("Python",),
    rate: int | None = 5000,
    title: str = "Django developer",
    overview: str = OVERVIEW,
    level: str = "intermediate",
    visibility: str = "public",
    **user_kwargs,
) -> User:
    """A published freelancer in the specialty of their first skill, built through the services."""
    user = factories.make_freelancer(**user_kwargs)
    skill_rows = [Skill.objects.get(name=name) for name in skills]
    first = skill_rows[0]
    account_services.freelancer_profile_update(
        actor=user,
        title=title,
        category_id=first.subcategory.category_id,
        subcategory_id=first.subcategory_id,
        hourly_rate_cents=rate or 5000,
        overview=overview,
        country="PL",
        experience_level=level,
        visibility=visibility,
    )
    account_services.freelancer_profile_set_skills(actor=user, skill_ids=[s.pk for s in skill_rows])
    account_services.language_set(actor=user, language="en", proficiency="fluent")
    account_services.freelancer_profile_publish(actor=user)
    user.refresh_from_db()
    return user


def skill_ids(*names: str) -> list[int]:
    return [Skill.objects.get(name=name).pk for name in names]


def rows(job_id: int | None = None, profile_id: int | None = None) -> list[tuple]:
    qs = JobMatch.objects.all()
    if job_id is not None:
        qs = qs.filter(job_id=job_id)
    if profile_id is not None:
        qs = qs.filter(freelancer_id=profile_id)
    return list(
        qs.order_by("freelancer_id", "job_id").values_list("freelancer_id", "job_id", "score", "reasons")
    )


FREELANCER = FreelancerFeatures(
    id=1,
    user_id=10,
    category_id=1,
    subcategory_id=11,
    skill_ids=frozenset({1, 2, 3, 4, 9}),
    tokens=text_tokens("Django developer", "I build Django booking websites with PostgreSQL"),
    hourly_rate_cents=5000,
    experience_level="intermediate",
    availability="as_needed",
    days_since_active=0.0,
)
JOB = JobFeatures(
    id=100,
    client_id=20,
    category_id=1,
    subcategory_id=11,
    skill_ids=frozenset({1, 2, 3, 4, 5}),
    tokens=text_tokens(
        "Build a Django booking website", "Django and PostgreSQL booking site for a small hotel"
    ),
    budget_type="hourly",
    hourly_min_cents=3000,
    hourly_max_cents=6000,
    experience_level="intermediate",
    days_since_posted=3.0,
)
EVEN = MatchContext()  # every skill equally rare


def with_(base, **changes):
    from dataclasses import replace

    return replace(base, **changes)


# --- the pure score ---------------------------------------------------------------------------


def test_positive_weights_add_up_to_1000():
    positive = sum(value for key, value in WEIGHTS.items() if not key.startswith("dismissed_"))

    assert positive == 1000


def test_score_pair_reports_the_exact_skill_overlap_first():
    result = score_pair(FREELANCER, JOB, EVEN)

    assert result.reasons[0] == "4 of 5 skills"
    assert result.components["skills"] == 240.0
    assert result.talent_reasons[0] == "4 of 5 skills"


def test_score_pair_gives_at_most_four_reasons_and_a_score_in_range():
    job = with_(JOB, days_since_posted=0.1, client_hires=3, client_payment_verified=True)

    result = score_pair(FREELANCER, job, EVEN)

    assert result.reasons == [
        "4 of 5 skills",
        "Rate within budget",
        "Same specialty",
        "Description fits your profile",
    ]
    assert 0 <= result.score <= 1000
    assert result.score == round(sum(result.components.values()))


def test_client_signals_and_freshness_become_reasons_for_the_freelancer_only():
    skills_only = with_(
        FREELANCER, tokens=frozenset(), hourly_rate_cents=None, subcategory_id=None, category_id=None
    )
    job = with_(JOB, days_since_posted=0.2, client_hires=1, client_payment_verified=True)

    result = score_pair(skills_only, job, EVEN)

    assert result.reasons == ["4 of 5 skills", "Experience level fits", "Posted today", "Client hired before"]
    assert result.talent_reasons == ["4 of 5 skills", "Experience level fits"]


def test_an_off_topic_pair_gets_little_for_rate_reputation_and_the_rest():
    off_topic = with_(
        FREELANCER, skill_ids=frozenset({42}), tokens=frozenset(), category_id=7, subcategory_id=70
    )
    proven = with_(off_topic, job_success_score=100, rating_avg=5.0, availability="more_than_30")

    assert score_pair(off_topic, JOB, EVEN).score == 0
    assert score_pair(proven, JOB, EVEN).score == 0
    assert score_pair(proven, JOB, EVEN).talent_reasons == []


def test_rate_within_an_hourly_budget_scores_full_rate_points():
    result = score_pair(FREELANCER, JOB, EVEN)

    assert "Rate within budget" in result.reasons
    assert result.components["rate"] == 150.0


def test_rate_ten_percent_over_the_budget_loses_a_quarter_of_the_rate_points():
    result = score_pair(with_(FREELANCER, hourly_rate_cents=6600), JOB, EVEN)

    assert "Rate within budget" not in result.reasons
    assert result.components["rate"] == 112.5


def test_rate_far_outside_the_budget_scores_no_rate_points():
    within = score_pair(FREELANCER, JOB, EVEN)
    outside = score_pair(with_(FREELANCER, hourly_rate_cents=9000), JOB, EVEN)

    assert outside.components["rate"] == 0.0
    assert within.score - outside.score == 150


def test_a_rate_far_under_the_budget_fits_less_but_says_the_job_pays_more():
    just_under = score_pair(with_(FREELANCER, hourly_rate_cents=2500), JOB, EVEN)  # 17% under $30
    far_under = score_pair(with_(FREELANCER, hourly_rate_cents=1000), JOB, EVEN)  # a third of $30

    assert just_under.components["rate"] == 150.0
    assert far_under.components["rate"] == 75.0  # 1 - (1 - 1/3 - 0.25) * 1.2 = 0.5
    assert "Pays above your rate" in far_under.reasons
    assert "Rate below budget" in far_under.talent_reasons


def test_fixed_budget_is_compared_over_the_hours_of_the_job_size():
    fixed = with_(
        JOB, budget_type="fixed", hourly_min_cents=None, hourly_max_cents=None, fixed_budget_cents=200_000
    )

    fits = score_pair(FREELANCER, fixed, EVEN)  # medium: 40 hours, $50/h
    too_small = score_pair(FREELANCER, with_(fixed, fixed_budget_cents=100_000), EVEN)  # $25/h

    assert "Budget fits your rate" in fits.reasons
    assert fits.components["rate"] == 150.0
    assert too_small.components["rate"] == 37.5  # 1 - (1 - 0.5) * 1.5 = 0.25


def test_rarer_skills_weigh_more():
    context = MatchContext.from_counts({1: 900, 2: 5}, documents=1000)
    job = with_(JOB, skill_ids=frozenset({1, 2}))
    common = with_(FREELANCER, skill_ids=frozenset({1}))
    rare = with_(FREELANCER, skill_ids=frozenset({2}))

    common_result = score_pair(common, job, context)
    rare_result = score_pair(rare, job, context)

    assert common_result.reasons[0] == rare_result.reasons[0] == "1 of 2 skills"
    assert rare_result.components["skills"] > 2 * common_result.components["skills"]
    assert rare_result.score > common_result.score


def test_a_job_without_skills_leans_on_the_text():
    job = with_(JOB, skill_ids=frozenset())

    result = score_pair(FREELANCER, job, EVEN)

    assert result.components["skills"] == result.components["text"] / WEIGHTS["text"] * WEIGHTS["skills"]


def test_dismissed_category_lowers_the_score_by_half_the_penalty_per_dismissal():
    plain = score_pair(FREELANCER, JOB, EVEN)
    once = score_pair(with_(FREELANCER, dismissed_categories={1: 1}), JOB, EVEN)
    twice = score_pair(with_(FREELANCER, dismissed_categories={1: 2}), JOB, EVEN)
    other_category = score_pair(with_(FREELANCER, dismissed_categories={7: 3}), JOB, EVEN)

    assert once.components["dismissed_category"] == -80.0
    assert plain.score - once.score == 80
    assert plain.score - twice.score == 160
    assert other_category.score == plain.score


def test_dismissed_budget_level_lowers_jobs_paying_that_little_or_less():
    cheap = with_(JOB, hourly_min_cents=1500, hourly_max_cents=2500)  # level 1
    better = with_(JOB, hourly_min_cents=5000, hourly_max_cents=8000)  # level 3
    learnt = with_(FREELANCER, dismissed_budget_levels=(budget_level(cheap),))

    assert budget_level(cheap) == 1
    assert score_pair(learnt, cheap, EVEN).components["dismissed_budget"] == -70.0
    assert "dismissed_budget" not in score_pair(learnt, better, EVEN).components


def test_dismissed_client_history_weighs_that_clients_jobs_down():
    learnt = with_(FREELANCER, dismissed_client_ids=frozenset({JOB.client_id}))

    assert score_pair(learnt, JOB, EVEN).components["dismissed_client"] == -300.0


def test_a_freelancer_without_history_gets_a_neutral_reputation():
    newcomer = score_pair(FREELANCER, JOB, EVEN)
    proven = score_pair(with_(FREELANCER, job_success_score=100, rating_avg=5.0), JOB, EVEN)
    struggling = score_pair(with_(FREELANCER, job_success_score=30, rating_avg=2.0), JOB, EVEN)

    assert newcomer.components["reputation"] == WEIGHTS["reputation"] * matching.NEUTRAL == 45.0
    assert proven.components["reputation"] == 90.0
    assert struggling.components["reputation"] == 31.5
    assert struggling.score < newcomer.score < proven.score


def test_badges_lift_the_reputation_and_are_a_reason_for_the_client():
    freelancer = with_(
        FREELANCER, tokens=frozenset(), hourly_rate_cents=None, job_success_score=80, badges=("Top Rated",)
    )

    result = score_pair(freelancer, JOB, EVEN)

    assert result.components["reputation"] == 82.8  # (0.8 + 0.12) * 90
    assert result.talent_reasons == ["4 of 5 skills", "Same specialty", "Top Rated", "Experience level fits"]
    assert "Top Rated" not in result.reasons


def test_explain_false_gives_the_same_score_without_reasons():
    explained = score_pair(FREELANCER, JOB, EVEN)
    fast = score_pair(FREELANCER, JOB, EVEN, explain=False)

    assert fast.score == explained.score
    assert fast.reasons == []


def test_text_tokens_trim_suffixes_and_drop_stopwords():
    assert text_tokens("Designing the designs for designers") == frozenset({"design"})
    assert text_tokens("C++ and Node.js APIs") == frozenset({"c++", "node.js", "api"})


skill_sets = st.frozensets(st.integers(1, 12), max_size=6)
freelancers = st.builds(
    FreelancerFeatures,
    id=st.just(1),
    category_id=st.one_of(st.none(), st.integers(1, 3)),
    subcategory_id=st.one_of(st.none(), st.integers(10, 14)),
    skill_ids=skill_sets,
    tokens=st.frozensets(st.sampled_from(["django", "design", "logo", "api", "book"]), max_size=5),
    hourly_rate_cents=st.one_of(st.none(), st.integers(300, 99900)),
    experience_level=st.sampled_from(["entry", "intermediate", "expert"]),
    job_success_score=st.one_of(st.none(), st.integers(0, 100)),
    rating_avg=st.one_of(st.none(), st.floats(0, 5)),
    badges=st.lists(st.sampled_from(["Top Rated", "top_rated_plus", "Rising Talent", "odd"]), max_size=2).map(
        tuple
    ),
    availability=st.sampled_from(["more_than_30", "less_than_30", "as_needed", "not_available"]),
    days_since_active=st.floats(0, 1000),
    dismissed_categories=st.dictionaries(st.integers(1, 3), st.integers(1, 5), max_size=2),
    dismissed_budget_levels=st.lists(st.integers(-1, 4), max_size=3).map(tuple),
    dismissed_client_ids=st.frozensets(st.integers(1, 3), max_size=2),
)
jobs = st.builds(
    JobFeatures,
    id=st.just(100),
    client_id=st.integers(1, 3),
    category_id=st.integers(1, 3),
    subcategory_id=st.one_of(st.none(), st.integers(10, 14)),
    skill_ids=skill_sets,
    tokens=st.frozensets(st.sampled_from(["django", "design", "logo", "api", "shop"]), max_size=5),
    budget_type=st.sampled_from(["hourly", "fixed"]),
    hourly_min_cents=st.integers(300, 5000),
    hourly_max_cents=st.integers(5000, 99900),
    fixed_budget_cents=st.integers(500, 100_000_000),
    size=st.sampled_from(["small", "medium", "large"]),
    experience_level=st.sampled_from(["entry", "intermediate", "expert"]),
    days_since_posted=st.floats(0, 400),
    client_hires=st.integers(0, 3),
    client_payment_verified=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(freelancer=freelancers, job=jobs)
def test_score_pair_is_bounded_and_explained_by_its_components(freelancer, job):
    context = MatchContext.from_counts({1: 50, 2: 3}, documents=100)

    result = score_pair(freelancer, job, context)
    fast = score_pair(freelancer, job, context, explain=False)

    assert 0 <= result.score <= 1000
    assert fast.score == result.score
    assert result.score == max(0, min(1000, round(sum(fast.components.values()))))
    assert len(result.reasons) <= 4
    assert len(result.talent_reasons) <= 4


def test_candidate_index_finds_items_in_the_category_or_sharing_a_skill():
    jobs = [
        with_(JOB, id=1, category_id=1, skill_ids=frozenset({5})),
        with_(JOB, id=2, category_id=2, skill_ids=frozenset({1})),
        with_(JOB, id=3, category_id=3, skill_ids=frozenset({8})),
    ]
    index = matching.CandidateIndex(jobs)

    found = index.candidates(category_id=1, skill_ids={1, 2})

    assert sorted(j.id for j in found) == [1, 2]


# --- materialised matches -----------------------------------------------------------------------


def test_publishing_a_job_creates_matches_with_reasons(db, django_capture_on_commit_callbacks):
    fit = make_matched_freelancer(skills=("Python", "Django"))
    make_matched_freelancer(
        skills=("Swift",), title="iOS developer", overview="I build iPhone apps in Swift. " * 5
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(skill_ids=skill_ids("Python", "Django"))

    matches = list(JobMatch.objects.filter(job=job))
    assert [m.freelancer_id for m in matches] == [fit.freelancer_profile.pk]
    assert matches[0].reasons[0] == "2 of 2 skills"
    assert "Same specialty" in matches[0].reasons
    assert 0 < matches[0].score <= 1000


def test_closing_a_job_removes_its_matches(db, client_user, django_capture_on_commit_callbacks):
    make_matched_freelancer()
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(client_user)
    assert JobMatch.objects.filter(job=job).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    assert JobMatch.objects.filter(job=job).count() == 0


def test_a_draft_job_has_no_matches(db):
    make_matched_freelancer()
    job = make_job(publish=False)

    assert matching.refresh_for_job(job_id=job.pk) == 0
    assert matching.refresh_for_job(job_id=999_999) == 0
    assert JobMatch.objects.count() == 0


def test_refresh_for_job_twice_gives_the_same_rows(db):
    make_matched_freelancer()
    make_matched_freelancer(skills=("Django",), rate=9000)
    job = make_job()

    first_count = matching.refresh_for_job(job_id=job.pk)
    first = rows(job_id=job.pk)
    second_count = matching.refresh_for_job(job_id=job.pk)

    assert first_count == second_count == 2
    assert rows(job_id=job.pk) == first


def test_refresh_for_job_skips_unpublished_suspended_and_the_clients_own_profile(db, staff):
    make_matched_freelancer()
    hidden = make_matched_freelancer()
    account_services.freelancer_profile_unpublish(actor=hidden)
    suspended = make_matched_freelancer()
    account_services.user_suspend(actor=staff, user_id=suspended.pk, reason="spam")
    both_roles = make_matched_freelancer()
    account_services.user_switch_role(actor=both_roles, role="client")
    job = make_job(both_roles)

    assert matching.refresh_for_job(job_id=job.pk) == 1


def test_a_job_keeps_its_best_freelancers_and_those_it_ranks_high_for(db, monkeypatch):
    cheap = make_matched_freelancer(rate=4000)
    mid = make_matched_freelancer(rate=5500)
    pricey = make_matched_freelancer(rate=9000)
    strong = make_job(
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=3000,
        hourly_max_cents=10000,
        fixed_budget_cents=None,
    )
    weaker = make_job(
        title="Small Django fix needed",
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=3000,
        hourly_max_cents=6000,
        fixed_budget_cents=None,
    )
    matching.refresh_for_job(job_id=strong.pk)
    monkeypatch.setattr(matching, "TOP_PER_JOB", 2)
    monkeypatch.setattr(matching, "TOP_PER_FREELANCER", 1)

    kept = matching.refresh_for_job(job_id=weaker.pk)

    # each freelancer already has a better job, so only the weaker job's best two stay
    assert kept == 2
    assert {r[0] for r in rows(job_id=weaker.pk)} == {cheap.freelancer_profile.pk, mid.freelancer_profile.pk}
    assert pricey.freelancer_profile.pk not in {r[0] for r in rows(job_id=weaker.pk)}


def test_refresh_for_freelancer_materialises_and_is_idempotent(db):
    python_job = make_job(skill_ids=skill_ids("Python"))
    django_job = make_job(skill_ids=skill_ids("Django"))
    docker = Skill.objects.get(name="Docker")
    make_job(
        title="Kubernetes cluster upgrade",
        description="Upgrade our Kubernetes cluster and move the Docker images to a private registry. " * 2,
        category_id=docker.subcategory.category_id,
        subcategory_id=docker.subcategory_id,
        skill_ids=[docker.pk],
    )
    freelancer = make_matched_freelancer(skills=("Python", "Django"))
    profile_id = freelancer.freelancer_profile.pk

    assert matching.refresh_for_freelancer(profile_id=profile_id) == 2
    first = rows(profile_id=profile_id)
    assert matching.refresh_for_freelancer(profile_id=profile_id) == 2
    assert rows(profile_id=profile_id) == first
    assert {r[1] for r in first} == {python_job.pk, django_job.pk}


def test_an_unpublished_freelancer_loses_their_matches(db):
    make_job()
    freelancer = make_matched_freelancer()
    profile_id = freelancer.freelancer_profile.pk
    matching.refresh_for_freelancer(profile_id=profile_id)

    account_services.freelancer_profile_unpublish(actor=freelancer)

    assert matching.refresh_for_freelancer(profile_id=profile_id) == 0
    assert rows(profile_id=profile_id) == []


def test_refresh_all_rebuilds_the_same_rows_as_the_incremental_refreshes(db):
    first_job = make_job()
    second_job = make_job(skill_ids=skill_ids("Python", "Django"))
    one = make_matched_freelancer()
    two = make_matched_freelancer(skills=("Django",))
    for job in (first_job, second_job):
        matching.refresh_for_job(job_id=job.pk)
    incremental = [r[:3] for r in rows()]

    kept = matching.refresh_all()

    assert kept == 4
    assert [r[:3] for r in rows()] == incremental
    assert {r[0] for r in rows()} == {one.freelancer_profile.pk, two.freelancer_profile.pk}


def test_refresh_all_drops_rows_of_closed_jobs_and_unpublished_profiles(db, client_user):
    stays = make_matched_freelancer()
    leaves = make_matched_freelancer()
    open_job = make_job()
    closing = make_job(client_user)
    for job in (open_job, closing):
        matching.refresh_for_job(job_id=job.pk)
    # the after-commit refreshes do not run here, so their rows linger until the nightly run
    services.job_close(actor=client_user, job_id=closing.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    account_services.freelancer_profile_unpublish(actor=leaves)
    assert JobMatch.objects.count() == 4

    kept = matching.refresh_all(batch_size=1)

    assert kept == 1
    assert [r[:2] for r in rows()] == [(stays.freelancer_profile.pk, open_job.pk)]


def test_an_invite_only_job_gets_suggestions_but_stays_out_of_feeds(db):
    freelancer = make_matched_freelancer()
    job = make_job(visibility=Job.Visibility.INVITE_ONLY)

    assert matching.refresh_for_job(job_id=job.pk) == 1
    page = matching.feed_best_matches(profile=freelancer.freelancer_profile)
    assert page.items == []


# --- "Not interested" ----------------------------------------------------------------------------


def test_match_dismiss_hides_the_job_and_rescores_the_freelancer(db, django_capture_on_commit_callbacks):
    freelancer = make_matched_freelancer()
    dismissed = make_job()
    same_category = make_job(title="Another Django booking site")
    profile = freelancer.freelancer_profile
    matching.refresh_for_freelancer(profile_id=profile.pk)
    before = JobMatch.objects.get(freelancer=profile, job=same_category).score

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dismissal = matching.match_dismiss(
            actor=freelancer, job_id=dismissed.pk, reason=MatchDismissal.Reason.NOT_INTERESTED
        )

    assert len(callbacks) == 1
    assert (dismissal.freelancer_id, dismissal.job_id, dismissal.reason) == (
        profile.pk,
        dismissed.pk,
        "not_interested",
    )
    assert not JobMatch.objects.filter(freelancer=profile, job=dismissed).exists()
    # the feed learns: the other job of that category now weighs half the penalty less
    assert JobMatch.objects.get(freelancer=profile, job=same_category).score == before - 80


def test_dismissing_twice_keeps_one_dismissal_with_the_latest_reason(db):
    freelancer = make_matched_freelancer()
    job = make_job()

    matching.match_dismiss(actor=freelancer, job_id=job.pk, reason="other")
    matching.match_dismiss(actor=freelancer, job_id=job.pk, reason="budget_too_low")

    assert list(MatchDismissal.objects.values_list("job_id", "reason")) == [(job.pk, "budget_too_low")]


def test_match_dismiss_refuses_an_unknown_or_closed_job(db, client_user):
    freelancer = make_matched_freelancer()
    job = make_job(client_user)
    services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    for job_id in (999_999, job.pk):
        with pytest.raises(NotFoundError) as caught:
            matching.match_dismiss(actor=freelancer, job_id=job_id, reason="other")
        assert caught.value.code == "not_found"
    assert MatchDismissal.objects.count() == 0


def test_match_dismiss_refuses_an_invalid_reason(db):
    freelancer = make_matched_freelancer()
    job = make_job()

    with pytest.raises(ApplicationError) as caught:
        matching.match_dismiss(actor=freelancer, job_id=job.pk, reason="boring")

    assert (caught.value.code, caught.value.message) == (
        "invalid_reason",
        "Choose why this job is not for you.",
    )
    assert MatchDismissal.objects.count() == 0


def test_match_dismiss_is_for_freelancers_only(db, client_user, staff):
    job = make_job()
    suspended = make_matched_freelancer()
    account_services.user_suspend(actor=staff, user_id=suspended.pk, reason="spam")

    with pytest.raises(PermissionDeniedError) as not_freelancer:
        matching.match_dismiss(actor=client_user, job_id=job.pk, reason="other")
    with pytest.raises(PermissionDeniedError) as is_suspended:
        matching.match_dismiss(actor=User.objects.get(pk=suspended.pk), job_id=job.pk, reason="other")

    assert not_freelancer.value.code == "not_freelancer"
    assert is_suspended.value.code == "account_suspended"
    assert MatchDismissal.objects.count() == 0


# --- suggested talent ---------------------------------------------------------------------------


def test_suggested_talent_is_for_the_owner_and_staff_only(db, client_user, staff):
    freelancer = make_matched_freelancer()
    job = make_job(client_user)
    matching.refresh_for_job(job_id=job.pk)
    stranger = factories.make_client()

    for_owner = matching.suggested_talent_for_job(job=job, viewer=client_user)
    for_staff = matching.suggested_talent_for_job(job=job, viewer=staff)

    assert [(s.profile.pk, s.reasons[0]) for s in for_owner] == [
        (freelancer.freelancer_profile.pk, "1 of 1 skills")
    ]
    assert [s.profile.pk for s in for_staff] == [freelancer.freelancer_profile.pk]
    assert matching.suggested_talent_for_job(job=job, viewer=stranger) == []
    assert matching.suggested_talent_for_job(job=job, viewer=freelancer) == []
    assert matching.suggested_talent_for_job(job=job, viewer=None) == []


def test_suggested_talent_leaves_out_private_profiles_and_is_worded_for_the_client(db, client_user):
    make_matched_freelancer(visibility="private")
    shown = make_matched_freelancer(rate=4000)
    job = make_job(
        client_user,
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=3000,
        hourly_max_cents=6000,
        fixed_budget_cents=None,
    )
    matching.refresh_for_job(job_id=job.pk)

    suggestions = matching.suggested_talent_for_job(job=job, viewer=client_user)

    assert [s.profile.pk for s in suggestions] == [shown.freelancer_profile.pk]
    assert suggestions[0].reasons == [
        "1 of 1 skills",
        "Rate within budget",
        "Same specialty",
        "Profile fits the description",
    ]
    assert suggestions[0].score == JobMatch.objects.get(job=job, freelancer=shown.freelancer_profile).score
