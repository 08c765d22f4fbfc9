"""Reputation in ranking: the one place for its weights.

Two rankings use a freelancer's reputation, and both read it only from the figures kept on
``FreelancerProfile`` (Job Success Score, rating, badges, written by ``reviews.reputation``)
and the user's last sign-in, so ranking costs no query per profile:

* talent search, "best match" (``jobs.talent``): after keyword relevance, profiles are
  ordered by ``quality`` points, an integer computed in SQL by ``quality_expression``:

      rating in hundredths of a star (0..500; none yet: NEUTRAL_RATING_HUNDREDTHS)
    + JSS_POINTS_PER_PERCENT x Job Success Score (0..500; none yet: NEUTRAL_JSS)
    + the best badge's BADGE_POINTS
    + RECENT_ACTIVITY_POINTS when the freelancer signed in within RECENT_ACTIVITY_DAYS
    + NEW_PROFILE_POINTS for a profile without history published within NEW_PROFILE_DAYS

* the matching score (``jobs.matching``): its "reputation" component is a fit of 0..1
  (``reputation_fit``): the mean of JSS/100 and rating/5 (NEUTRAL_FIT when neither is
  known), plus the best badge's BADGE_FIT_BONUS or, for a new profile, NEW_PROFILE_FIT_BONUS.

New profiles are not buried: without a score they count as a fair 4.00 stars and 80%
(above freelancers with a worse record, below better ones), and for their first
NEW_PROFILE_DAYS they get a small boost, a fair share of exposure to earn a first review.
The reasons on match cards name the badge ("Top Rated") or the score ("98% Job Success").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Round

# --- talent search: quality points ---------------------------------------------------------

NEUTRAL_RATING_HUNDREDTHS: Final = 400  # no reviews yet: counts as 4.00 stars
NEUTRAL_JSS: Final = 80  # no Job Success Score yet: counts as 80%
JSS_POINTS_PER_PERCENT: Final = 5  # so that 100% weighs as much as 5 stars (500 points each)
# the best badge counts (names as stored in FreelancerProfile.badges, most valuable first)
BADGE_POINTS: Final[dict[str, int]] = {"Top Rated Plus": 60, "Top Rated": 40, "Rising Talent": 20}
RECENT_ACTIVITY_POINTS: Final = 15
RECENT_ACTIVITY_DAYS: Final = 30
NEW_PROFILE_POINTS: Final = 30
NEW_PROFILE_DAYS: Final = 90

# --- matching: the reputation fit (0..1, times matching.WEIGHTS["reputation"]) -------------

NEUTRAL_FIT: Final = 0.5  # nothing known yet
# badge (lower case, spaces) -> (bonus on the fit, shown on match cards as)
BADGE_FIT_BONUS: Final[dict[str, tuple[float, str]]] = {
    "top rated plus": (0.2, "Top Rated Plus"),
    "top rated": (0.12, "Top Rated"),
    "rising talent": (0.06, "Rising Talent"),
}
NEW_PROFILE_FIT_BONUS: Final = 0.1
JSS_REASON_MIN: Final = 90  # "98% Job Success" is a reason from this score up


def is_new_profile(
    *,
    job_success_score: int | None,
    reviews_count: int,
    total_jobs: int,
    published_at: datetime | None,
    now: datetime,
) -> bool:
    """A profile without any history, published within NEW_PROFILE_DAYS."""
    return (
        job_success_score is None
        and not reviews_count
        and not total_jobs
        and published_at is not None
        and published_at >= now - timedelta(days=NEW_PROFILE_DAYS)
    )


def new_profile_q(now: datetime, prefix: str = "") -> Q:
    """``is_new_profile`` as a filter on FreelancerProfile (``prefix`` for a relation)."""
    return Q(
        **{
            f"{prefix}job_success_score__isnull": True,
            f"{prefix}reviews_count": 0,
            f"{prefix}total_jobs": 0,
            f"{prefix}published_at__gte": now - timedelta(days=NEW_PROFILE_DAYS),
        }
    )


def quality_expression(now: datetime) -> Combinable:
    """Talent search's ``quality`` points of a FreelancerProfile row (see the module docstring)."""
    rating = Coalesce(
        Cast(Round(F("rating_avg") * 100), IntegerField()),
        Value(NEUTRAL_RATING_HUNDREDTHS),
        output_field=IntegerField(),
    )
    jss = (
        Coalesce("job_success_score", Value(NEUTRAL_JSS), output_field=IntegerField())
        * JSS_POINTS_PER_PERCENT
    )
    badge = Case(
        *[When(badges__icontains=name, then=Value(points)) for name, points in BADGE_POINTS.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    active = Case(
        When(
            user__last_login__gte=now - timedelta(days=RECENT_ACTIVITY_DAYS),
            then=Value(RECENT_ACTIVITY_POINTS),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    new = Case(
        When(new_profile_q(now), then=Value(NEW_PROFILE_POINTS)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return rating + jss + badge + active + new


def reputation_fit(
    *, job_success_score: int | None, rating_avg: float | None, badges: tuple[str, ...], is_new: bool
) -> tuple[float, str | None]:
    """The matching score's reputation fit (0..1) and the reason to show for it, if any."""
    parts = []
    if job_success_score is not None:
        parts.append(job_success_score / 100)
    if rating_avg is not None:
        parts.append(rating_avg / 5)
    fit = sum(parts) / len(parts) if parts else NEUTRAL_FIT
    badge_label = None
    best_bonus = 0.0
    for badge in badges:
        known = BADGE_FIT_BONUS.get(str(badge).lower().replace("_", " ").replace("-", " ").strip())
        if known and known[0] > best_bonus:
            best_bonus, badge_label = known
    if not badge_label and is_new:
        best_bonus = NEW_PROFILE_FIT_BONUS
    fit = min(1.0, fit + best_bonus)
    if badge_label:
        return fit, badge_label
    if job_success_score is not None and job_success_score >= JSS_REASON_MIN:
        return fit, f"{job_success_score}% Job Success"
    return fit, None
