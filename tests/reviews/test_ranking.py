"""Reputation in ranking (weights in ``jobs.ranking``): talent search's "best match" order and
the matching score's reputation component. Reputation figures are the profile columns that
``reviews.reputation`` writes; here they are set on the rows, as search reads them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from django.http import QueryDict
from django.utils import timezone

from accounts.models import FreelancerProfile, User
from jobs import matching, ranking, talent
from jobs.matching import WEIGHTS, FreelancerFeatures, JobFeatures, MatchContext, score_pair
from reviews.reputation import RISING_TALENT, TOP_RATED, TOP_RATED_PLUS
from tests import factories

pytestmark = pytest.mark.django_db


def talent_with(
    *,
    jss: int | None = None,
    rating: str | None = None,
    reviews: int = 0,
    jobs: int = 0,
    badges: list[str] | None = None,
    earned_cents: int = 0,
    logged_in_days_ago: float | None = None,
) -> User:
    user = factories.make_published_freelancer()
    FreelancerProfile.objects.filter(user=user).update(
        job_success_score=jss,
        rating_avg=Decimal(rating) if rating else None,
        reviews_count=reviews,
        total_jobs=jobs,
        badges=badges or [],
        total_earned_cents=earned_cents,
    )
    if logged_in_days_ago is not None:
        User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(days=logged_in_days_ago))
    return user


def found(params: dict | None = None) -> list[int]:
    search = talent.talent_search(params=QueryDict(urlencode(params or {})), viewer=None)
    assert search.is_valid, search.errors
    return [profile.user_id for profile in search.profiles]


# --- talent search ------------------------------------------------------------------------------------


def test_with_equal_relevance_the_better_reputation_ranks_first():
    fair = talent_with(jss=85, rating="4.50", reviews=6, jobs=6)
    best = talent_with(jss=98, rating="4.90", reviews=12, jobs=12)
    good = talent_with(jss=92, rating="4.80", reviews=9, jobs=9)

    # the same title for all three: the keyword gives each the same relevance
    assert found({"q": "django"}) == [best.pk, good.pk, fair.pk]
    assert found() == [best.pk, good.pk, fair.pk]


def test_with_equal_score_and_rating_the_better_badge_ranks_first():
    plain = talent_with(jss=95, rating="4.80", reviews=5, jobs=5)
    plus = talent_with(jss=95, rating="4.80", reviews=5, jobs=5, badges=[TOP_RATED_PLUS])
    top = talent_with(jss=95, rating="4.80", reviews=5, jobs=5, badges=[TOP_RATED])

    assert found() == [plus.pk, top.pk, plain.pk]


def test_recent_activity_breaks_an_equal_reputation():
    away = talent_with(jss=90, rating="4.50", reviews=3, jobs=3, logged_in_days_ago=45)
    active = talent_with(jss=90, rating="4.50", reviews=3, jobs=3, logged_in_days_ago=2)

    assert found() == [active.pk, away.pk]


def test_a_new_profile_is_not_ranked_last_behind_every_low_reputation_one():
    strong = talent_with(jss=97, rating="4.90", reviews=20, jobs=20, badges=[TOP_RATED])
    weak = [
        talent_with(jss=jss, rating=rating, reviews=4, jobs=4, earned_cents=900_000)
        for jss, rating in ((70, "4.20"), (60, "3.80"), (75, "3.90"))
    ]
    new = talent_with()

    order = found()
    assert order[0] == strong.pk
    assert order[1] == new.pk  # neutral prior (4.00, 80%) and the new-profile boost
    assert set(order[2:]) == {u.pk for u in weak}


def test_the_new_profile_boost_beats_an_equal_record_and_ends_after_its_days():
    veteran = talent_with(jss=80, rating="4.00", reviews=3, jobs=3, earned_cents=50_000)
    new = talent_with()

    assert found() == [new.pk, veteran.pk]  # 800 + 30 points against 800

    with time_machine.travel(timezone.now() + timedelta(days=ranking.NEW_PROFILE_DAYS + 1)):
        # no boost any more: equal quality, the earnings decide
        assert found() == [veteran.pk, new.pk]


def test_quality_points_follow_the_documented_formula():
    user = talent_with(jss=90, rating="4.50", reviews=2, jobs=2, badges=[RISING_TALENT], logged_in_days_ago=1)
    new = talent_with()

    quality = dict(
        FreelancerProfile.objects.filter(user__in=[user, new])
        .annotate(q=ranking.quality_expression(timezone.now()))
        .values_list("user_id", "q")
    )

    assert (
        quality[user.pk]
        == 450 + 5 * 90 + ranking.BADGE_POINTS[RISING_TALENT] + ranking.RECENT_ACTIVITY_POINTS
    )
    assert (
        quality[new.pk]
        == ranking.NEUTRAL_RATING_HUNDREDTHS + 5 * ranking.NEUTRAL_JSS + ranking.NEW_PROFILE_POINTS
    )


# --- matching ---------------------------------------------------------------------------------------------

JOB = JobFeatures(
    id=1,
    client_id=99,
    skill_ids=frozenset({1}),
    budget_type="hourly",
    hourly_min_cents=3000,
    hourly_max_cents=6000,
)
BASE = FreelancerFeatures(id=1, user_id=5, skill_ids=frozenset({1}), hourly_rate_cents=5000)
EVEN = MatchContext()


def with_(features: FreelancerFeatures, **changes) -> FreelancerFeatures:
    from dataclasses import replace

    return replace(features, **changes)


def test_matching_ranks_the_better_reputation_higher_with_equal_relevance():
    better = score_pair(with_(BASE, job_success_score=98, rating_avg=4.9), JOB, EVEN)
    worse = score_pair(with_(BASE, job_success_score=70, rating_avg=4.0), JOB, EVEN)

    assert better.components["skills"] == worse.components["skills"]
    assert better.score > worse.score


def test_match_reasons_name_the_badge_or_the_job_success():
    top = score_pair(with_(BASE, job_success_score=98, rating_avg=4.9, badges=(TOP_RATED,)), JOB, EVEN)
    scored = score_pair(with_(BASE, job_success_score=98, rating_avg=4.9), JOB, EVEN)

    assert "Top Rated" in top.talent_reasons
    assert "98% Job Success" in scored.talent_reasons


def test_a_new_profile_gets_a_fair_share_in_matching_not_the_bottom():
    newcomer = score_pair(with_(BASE, is_new=True), JOB, EVEN)
    unknown = score_pair(BASE, JOB, EVEN)
    struggling = score_pair(with_(BASE, job_success_score=30, rating_avg=2.0), JOB, EVEN)

    expected = WEIGHTS["reputation"] * (ranking.NEUTRAL_FIT + ranking.NEW_PROFILE_FIT_BONUS)
    assert newcomer.components["reputation"] == pytest.approx(expected)
    assert newcomer.score > unknown.score > struggling.score


def test_match_features_know_a_new_profile_from_its_columns():
    new = talent_with()
    veteran = talent_with(jss=90, rating="4.50", reviews=2, jobs=2)

    features = {
        f.user_id: f
        for f in matching.load_freelancer_features(
            FreelancerProfile.objects.filter(user__in=[new, veteran]), now=timezone.now()
        )
    }

    assert features[new.pk].is_new is True
    assert features[veteran.pk].is_new is False
    assert features[veteran.pk].job_success_score == 90
