"""Job Success Score and badges: the pure rules on hand-built facts (hand-computed values),
then histories built through the real services (contracts, escrow, disputes, reviews) and
refreshed by ``reviews.reputation``, with time-machine for time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from contracts import disputes
from contracts import services as contract_services
from contracts.models import Contract
from contracts.services import MilestoneInput
from payments.models import PaymentMethod
from reviews import reputation
from reviews import services as review_services
from reviews.models import JobSuccessSnapshot
from reviews.reputation import (
    RISING_TALENT,
    TOP_RATED,
    TOP_RATED_PLUS,
    BadgeFacts,
    ContractFacts,
    Outcome,
    badges_for,
    classify,
    job_success,
    jss_percent,
    weekly_scores,
)
from reviews.services import ReviewInput
from tests import factories
from tests.contracts.conftest import fixed_input, invite, save_card
from tests.jobs.conftest import make_job

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "PRIVATE-NOTE-91c2 never shown"


# --- pure rules on hand-built facts -------------------------------------------------------------


def facts(
    contract_id: int,
    client_id: int,
    *,
    ended_days_ago: float | None = 10,
    started_days_ago: float = 60,
    as_of: datetime = T0,
    **kwargs,
) -> ContractFacts:
    values = {
        "contract_id": contract_id,
        "client_id": client_id,
        "title": f"Contract {contract_id}",
        "started_at": as_of - timedelta(days=started_days_ago),
        "ended_at": as_of - timedelta(days=ended_days_ago) if ended_days_ago is not None else None,
        "released_cents": 50_000,
        "first_release_at": as_of - timedelta(days=started_days_ago - 1),
        "last_release_at": as_of - timedelta(days=started_days_ago - 1),
        "ever_funded": True,
    }
    values.update(kwargs)
    return ContractFacts(**values)


@pytest.mark.parametrize(
    ("good", "bad", "total", "expected"),
    [
        (0, 0, 0, None),
        (1, 0, 1, 100),
        (1, 1, 4, 0),
        (2, 1, 4, 25),
        (2, 1, 8, 13),  # 12.5 rounds up
        (1, 0, 3, 33),
        (2, 0, 3, 67),
        (0, 2, 3, 0),  # floored at 0
    ],
)
def test_jss_percent_rounds_half_up_and_never_goes_below_zero(good, bad, total, expected):
    assert jss_percent(good, bad, total) == expected


@pytest.mark.parametrize(
    ("overrides", "outcome"),
    [
        ({"client_rating": 5}, Outcome.GOOD),
        ({"client_rating": 4}, Outcome.GOOD),
        ({"client_rating": 3}, Outcome.NEUTRAL),
        ({"client_rating": 2}, Outcome.BAD),
        ({"client_rating": 3, "client_recommend": 8}, Outcome.GOOD),
        ({"client_rating": 5, "client_recommend": 4}, Outcome.BAD),  # bad wins
        ({}, Outcome.NEUTRAL),  # paid, no feedback
        ({"client_rating": 5, "disputes_lost": 1}, Outcome.BAD),
        (  # long-term: paid over 90 days
            {"first_release_at": T0 - timedelta(days=200), "last_release_at": T0 - timedelta(days=100)},
            Outcome.GOOD,
        ),
        (  # the client ended it because the freelancer did not answer, nothing paid
            {
                "released_cents": 0,
                "ended_by_client": True,
                "end_reason": "unresponsive",
                "ever_funded": False,
            },
            Outcome.BAD,
        ),
        (  # the freelancer walked away from funded work
            {"released_cents": 0, "ended_by_client": False, "end_reason": "other", "ever_funded": True},
            Outcome.BAD,
        ),
        (  # the client cancelled before any funding: excluded, whatever the dates
            {
                "released_cents": 0,
                "ended_by_client": True,
                "end_reason": "no_longer_needed",
                "ever_funded": False,
            },
            Outcome.EXCLUDED,
        ),
        (  # funded, refunded, ended by the client within the grace days: excluded
            {
                "released_cents": 0,
                "ended_by_client": True,
                "end_reason": "terms",
                "started_days_ago": 15,
                "ended_days_ago": 10,
            },
            Outcome.EXCLUDED,
        ),
        (  # funded, ended by the client after the grace days without payment: neutral
            {
                "released_cents": 0,
                "ended_by_client": True,
                "end_reason": "terms",
                "started_days_ago": 40,
                "ended_days_ago": 10,
            },
            Outcome.NEUTRAL,
        ),
        (  # time was logged: work started, not excluded
            {"released_cents": 0, "ended_by_client": True, "ever_funded": False, "time_logged": True},
            Outcome.NEUTRAL,
        ),
        ({"ended_days_ago": None}, Outcome.OPEN),  # active, short: not counted yet
        (  # active and long-term: good
            {
                "ended_days_ago": None,
                "first_release_at": T0 - timedelta(days=120),
                "last_release_at": T0 - timedelta(days=3),
            },
            Outcome.GOOD,
        ),
    ],
)
def test_each_rule_gives_its_outcome(overrides, outcome):
    started = overrides.pop("started_days_ago", 60)
    ended = overrides.pop("ended_days_ago", 10)
    assert (
        classify(facts(1, 1, started_days_ago=started, ended_days_ago=ended, **overrides)).outcome == outcome
    )


def test_hand_built_history_with_an_excluded_cancellation():
    history = [
        facts(1, 101, client_rating=5),  # good
        facts(2, 102, client_rating=2),  # bad
        facts(3, 103, released_cents=0, ended_by_client=True, ever_funded=False),  # excluded
        facts(4, 101),  # neutral
        facts(5, 102, client_rating=4, client_recommend=9),  # good
        facts(6, 104, ended_days_ago=None),  # in progress: not counted
    ]

    result = job_success(history, as_of=T0)

    # (2 good - 1 bad) / 4 outcomes = 25%; counting the cancellation as neutral would give 20%
    assert result.score == 25
    assert result.window_months == 24  # equal in every window: the longest
    assert [(w.months, w.good, w.bad, w.neutral, w.clients) for w in result.windows] == [
        (6, 2, 1, 1, 2),
        (12, 2, 1, 1, 2),
        (24, 2, 1, 1, 2),
    ]
    by_id = {c.contract_id: c for c in result.contracts}
    assert by_id[3].outcome == "excluded" and by_id[3].windows == ()
    assert by_id[6].outcome == "open"
    assert by_id[2].reasons == ("The client rated it 2 of 5 stars",)


def test_best_of_windows_takes_the_highest_window_that_counts():
    history = [
        facts(1, 101, client_rating=1, ended_days_ago=300),  # bad, 12 and 24 months
        facts(2, 102, client_rating=1, ended_days_ago=500),  # bad, 24 months only
        facts(3, 101, client_rating=5, ended_days_ago=30),  # good, every window
        facts(4, 102, client_rating=5, ended_days_ago=60),  # good
        facts(5, 103, ended_days_ago=100),  # neutral
        facts(6, 103, client_rating=5, ended_days_ago=800),  # older than 24 months: not counted
    ]

    result = job_success(history, as_of=T0)

    scores = {w.months: w.score for w in result.windows}
    # 6 months: (2-0)/3 = 67; 12 months: (2-1)/4 = 25; 24 months: (2-2)/5 = 0
    assert scores == {6: 67, 12: 25, 24: 0}
    assert (result.score, result.window_months) == (67, 6)
    assert 6 not in {c.contract_id for c in result.contracts}


def test_a_window_needs_outcomes_from_two_clients():
    one_client = [facts(1, 101, client_rating=5), facts(2, 101, client_rating=5, ended_days_ago=20)]
    assert job_success(one_client, as_of=T0).score is None

    # a second client, but only in the 24-month window: the 6-month window (one client) does not count
    two = [*one_client, facts(3, 102, client_rating=2, ended_days_ago=400)]
    result = job_success(two, as_of=T0)
    assert [w.counts for w in result.windows] == [False, False, True]
    assert (result.score, result.window_months) == (33, 24)  # (2-1)/3


def test_an_excluded_cancellation_does_not_make_a_second_client():
    history = [
        facts(1, 101, client_rating=5),
        facts(2, 102, released_cents=0, ended_by_client=True, ever_funded=False),
    ]
    assert job_success(history, as_of=T0).score is None


def test_weekly_scores_take_the_latest_snapshot_of_each_week():
    today = T0.date()
    snapshots = {
        today: 95,
        today - timedelta(days=1): 50,
        today - timedelta(days=8): 91,
        today - timedelta(days=20): 70,
    }

    weekly = weekly_scores(snapshots, today=today)

    assert len(weekly) == 16
    assert weekly[:4] == [95, 91, 70, None]


def badge_facts(**overrides) -> BadgeFacts:
    values = {
        "profile_created_at": T0 - timedelta(days=400),
        "published": True,
        "good_outcomes": 5,
        "bad_outcomes": 0,
        "weekly": [95] * 12 + [None] * 4,
        "earnings_12m_cents": 100_000,
        "largest_project_12m_cents": 50_000,
    }
    values.update(overrides)
    return BadgeFacts(**values)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, [TOP_RATED]),
        ({"weekly": [95] * 11 + [80] * 5}, []),  # only 11 weeks at 90%+
        ({"earnings_12m_cents": 99_999}, []),
        ({"largest_project_12m_cents": 500_000}, [TOP_RATED_PLUS]),
        ({"earnings_12m_cents": 1_000_000}, [TOP_RATED_PLUS]),
        ({"weekly": [], "profile_created_at": T0 - timedelta(days=30)}, [RISING_TALENT]),
        ({"weekly": [], "profile_created_at": T0 - timedelta(days=30), "bad_outcomes": 1}, []),
        ({"weekly": [], "profile_created_at": T0 - timedelta(days=30), "good_outcomes": 0}, []),
        ({"weekly": [], "profile_created_at": T0 - timedelta(days=30), "published": False}, []),
        ({"weekly": [], "profile_created_at": T0 - timedelta(days=91)}, []),
        ({"profile_created_at": T0 - timedelta(days=30)}, [TOP_RATED]),  # not both
    ],
)
def test_badge_rules(overrides, expected):
    assert badges_for(badge_facts(**overrides), as_of=T0) == expected


# --- histories through the real services ------------------------------------------------------------


def review(**overrides) -> ReviewInput:
    values = {
        "rating": 5,
        "categories": dict.fromkeys(
            ("skills", "quality", "availability", "deadlines", "communication", "cooperation"), 5
        ),
        "public_comment": "Good work.",
        "private_note": SECRET,
        "recommend_score": 6,  # neither good (8+) nor bad (4-): the rating decides
    }
    values.update(overrides)
    return ReviewInput(**values)


def about_client(rating: int = 5) -> ReviewInput:
    return ReviewInput(
        rating=rating,
        categories=dict.fromkeys(("clarity", "communication", "payment", "cooperation"), rating),
        public_comment="Clear brief.",
        recommend_score=8,
    )


def hire(freelancer, client, *, title: str = "Booking site", amounts=(50_000,)) -> Contract:
    """A fixed-price contract from a direct offer after an invitation (no Connects spent)."""
    job = make_job(client, title=f"{title} for our company")
    invite(job, freelancer)
    offer = contract_services.offer_create(
        actor=client,
        data=fixed_input(
            freelancer_id=freelancer.pk,
            job_id=job.pk,
            title=title,
            milestones=[
                MilestoneInput(description=f"Part {i + 1}", amount_cents=a) for i, a in enumerate(amounts)
            ],
        ),
    )
    return contract_services.offer_accept(actor=freelancer, offer_id=offer.pk)


def fund(contract: Contract, milestone) -> None:
    if not PaymentMethod.objects.filter(user=contract.client, removed_at__isnull=True).exists():
        save_card(contract.client)
    contract_services.milestone_fund(
        actor=contract.client, contract_id=contract.pk, milestone_ids=[milestone.pk]
    )


def pay_next(contract: Contract) -> None:
    """Fund, deliver and approve the contract's next pending milestone."""
    milestone = contract.milestones.filter(status="pending").order_by("pk").first()
    fund(contract, milestone)
    contract_services.milestone_submit(actor=contract.freelancer, milestone_id=milestone.pk, message="Done.")
    contract_services.milestone_approve(actor=contract.client, milestone_id=milestone.pk)


def end(contract: Contract, *, by=None, reason: str = "completed") -> Contract:
    return contract_services.contract_end(actor=by or contract.client, contract_id=contract.pk, reason=reason)


def both_review(contract: Contract, rating: int | None, **client_review) -> None:
    """The client reviews the freelancer (``rating``; None: no review) and the freelancer
    the client, which reveals both."""
    if rating is not None:
        review_services.review_submit(
            actor=contract.client, contract_id=contract.pk, data=review(rating=rating, **client_review)
        )
    review_services.review_submit(actor=contract.freelancer, contract_id=contract.pk, data=about_client())


def profile_of(user):
    user.freelancer_profile.refresh_from_db()
    return user.freelancer_profile


@pytest.fixture
def people(db, local_gateway):
    """A freelancer who joined the day before T0, and three clients."""
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        return {
            "freelancer": factories.make_published_freelancer(),
            "a": factories.make_client(),
            "b": factories.make_client(),
            "c": factories.make_client(),
        }


@pytest.mark.django_db
def test_refresh_computes_the_hand_computed_score_from_a_real_history(people):
    f, a, b, c = people["freelancer"], people["a"], people["b"], people["c"]
    with time_machine.travel(T0, tick=False) as clock:
        good = hire(f, a, title="Booking site")
        bad = hire(f, b, title="Landing page")
        pay_next(good)
        pay_next(bad)
        clock.shift(timedelta(days=10))
        end(good)
        end(bad)
        both_review(good, 5)
        both_review(bad, 2)
        clock.shift(timedelta(days=10))
        cancelled = hire(f, c, title="Cancelled before work")
        neutral = hire(f, a, title="Second site")
        good_recommend = hire(f, b, title="Newsletter")
        pay_next(neutral)
        pay_next(good_recommend)
        clock.shift(timedelta(days=1))
        end(cancelled, reason="no_longer_needed")
        clock.shift(timedelta(days=9))
        end(neutral)
        end(good_recommend)
        both_review(neutral, None)
        both_review(good_recommend, 4, recommend_score=9)
        clock.shift(timedelta(days=5))

        reputation.refresh_for_user(user_id=f.pk)

    profile = profile_of(f)
    # good: Booking site (5 stars), Newsletter (4 stars, would recommend 9); bad: Landing page
    # (2 stars); neutral: Second site (paid, no review); the cancellation is not counted:
    # (2 - 1) / 4 = 25%
    assert profile.job_success_score == 25
    assert profile.total_jobs == 4
    assert profile.total_earned_cents == 4 * 50_000  # gross, released from escrow
    assert (profile.rating_avg, profile.reviews_count) == (Decimal("3.67"), 3)
    assert profile.badges == []  # a bad outcome: no Rising Talent

    snapshot = JobSuccessSnapshot.objects.get(freelancer=f)
    assert (snapshot.computed_on, snapshot.score, snapshot.window_months) == (
        (T0 + timedelta(days=35)).date(),
        25,
        24,
    )
    outcomes = {row["title"]: row["outcome"] for row in snapshot.components["contracts"]}
    assert outcomes == {
        "Booking site": "good",
        "Landing page": "bad",
        "Cancelled before work": "excluded",
        "Second site": "neutral",
        "Newsletter": "good",
    }
    assert SECRET not in str(snapshot.components)


@pytest.mark.django_db
def test_a_lost_dispute_and_an_unresponsive_end_count_as_bad(people):
    f, a, b = people["freelancer"], people["a"], people["b"]
    with time_machine.travel(T0, tick=False) as clock:
        disputed = hire(f, a, title="Disputed logo")
        milestone = disputed.milestones.get()
        fund(disputed, milestone)
        dispute = disputes.dispute_open(
            actor=a, milestone_id=milestone.pk, reason="quality", statement="The logo is not what we agreed."
        )
        proposal = disputes.dispute_propose(
            actor=a, dispute_id=dispute.pk, refund_cents=40_000, release_cents=10_000
        )
        disputes.dispute_proposal_accept(actor=f, proposal_id=proposal.pk)
        vanished = hire(f, b, title="Vanished freelancer")
        fine = hire(f, b, title="Fine work")
        pay_next(fine)
        clock.shift(timedelta(days=20))
        end(disputed)
        end(vanished, reason="unresponsive")
        end(fine)
        both_review(fine, 5)

        reputation.refresh_for_user(user_id=f.pk)

    # bad: the lost dispute, the unresponsive end; good: Fine work -> (1 - 2) / 3 -> 0
    assert profile_of(f).job_success_score == 0
    contracts = {
        row["title"]: row for row in JobSuccessSnapshot.objects.get(freelancer=f).components["contracts"]
    }
    assert contracts["Disputed logo"]["outcome"] == "bad"
    assert contracts["Disputed logo"]["reasons"] == ["A payment dispute was decided mostly for the client"]
    assert contracts["Vanished freelancer"]["reasons"] == [
        "Ended by the client without payment: the freelancer was not responding"
    ]
    assert profile_of(f).total_earned_cents == 10_000 + 50_000


@pytest.mark.django_db
def test_best_window_and_the_two_client_minimum_over_time(people):
    f, a, b = people["freelancer"], people["a"], people["b"]
    with time_machine.travel(T0, tick=False) as clock:
        old = hire(f, b, title="Old job")
        pay_next(old)
        end(old)
        both_review(old, 1)
        clock.shift(timedelta(days=300))
        first = hire(f, a, title="First recent")
        pay_next(first)
        end(first)
        both_review(first, 5)
        reputation.refresh_for_user(user_id=f.pk)
        # 12 and 24 months: (1 - 1) / 2 = 0 with two clients; 6 months: one client, does not count
        assert profile_of(f).job_success_score == 0

        second = hire(f, b, title="Second recent")
        pay_next(second)
        end(second)
        both_review(second, 5)
        reputation.refresh_for_user(user_id=f.pk)

    # 6 months: (2 - 0) / 2 = 100 with two clients, better than 12 months' (2 - 1) / 3 = 33
    profile = profile_of(f)
    assert profile.job_success_score == 100
    assert (
        JobSuccessSnapshot.objects.get(
            freelancer=f, computed_on=(T0 + timedelta(days=300)).date()
        ).window_months
        == 6
    )


@pytest.mark.django_db
def test_no_score_with_a_single_client(people):
    f, a = people["freelancer"], people["a"]
    with time_machine.travel(T0, tick=False):
        for title in ("First job", "Second job"):
            contract = hire(f, a, title=title)
            pay_next(contract)
            end(contract)
            both_review(contract, 5)
        reputation.refresh_for_user(user_id=f.pk)

    profile = profile_of(f)
    assert profile.job_success_score is None
    assert profile.total_jobs == 2 and profile.reviews_count == 2
    assert profile.badges == [RISING_TALENT]  # new, published, good outcomes and no bad one


@pytest.mark.django_db
def test_badges_are_gained_and_lost_over_time_by_the_daily_task(people):
    from reviews.tasks import refresh_reputation

    f, a, b = people["freelancer"], people["a"], people["b"]
    with time_machine.travel(T0, tick=False) as clock:
        big = hire(f, a, title="Big project", amounts=(300_000, 300_000))
        small = hire(f, b, title="Small project", amounts=(50_000,))
        pay_next(big)
        pay_next(small)
        end(small)
        both_review(small, 5)
        clock.shift(timedelta(days=1))
        refresh_reputation()  # Celery task body, run in process
        # JSS: Small project good, Big project still active and short -> 1 outcome, 1 client
        assert profile_of(f).job_success_score is None
        assert profile_of(f).badges == [RISING_TALENT]

        pay_next(big)
        end(big)
        both_review(big, 5)
        history = []
        for _week in range(12):
            clock.shift(timedelta(days=7))
            refresh_reputation()
            history.append(tuple(profile_of(f).badges))
        # 100% from the first weekly run on; the 12th week at 90%+ makes it Top Rated, and
        # the $6,000 project makes it Plus; the profile is still new for Rising Talent before
        assert history[0] == (RISING_TALENT,)
        assert history[10] == (RISING_TALENT,)
        assert history[11] == (TOP_RATED_PLUS,)
        assert profile_of(f).job_success_score == 100

        # a year without any payment: the 12-month earnings are gone, and so is the badge
        clock.shift(timedelta(days=370))
        refresh_reputation()
        assert profile_of(f).badges == []
        assert profile_of(f).job_success_score == 100  # still within the 24-month window

        # two more years: nothing left in any window
        clock.shift(timedelta(days=800))
        refresh_reputation()
        assert profile_of(f).job_success_score is None


@pytest.mark.django_db
def test_refresh_twice_a_day_keeps_one_snapshot(people):
    f, a = people["freelancer"], people["a"]
    with time_machine.travel(T0, tick=False):
        contract = hire(f, a)
        pay_next(contract)
        reputation.refresh_for_user(user_id=f.pk)
        reputation.refresh_for_user(user_id=f.pk)
    assert JobSuccessSnapshot.objects.filter(freelancer=f).count() == 1


@pytest.mark.django_db
def test_a_revealed_review_refreshes_the_figures_on_commit(people, django_capture_on_commit_callbacks):
    f, a = people["freelancer"], people["a"]
    contract = hire(f, a)
    pay_next(contract)
    end(contract)
    with django_capture_on_commit_callbacks(execute=True):
        both_review(contract, 4)

    profile = profile_of(f)
    assert (profile.rating_avg, profile.reviews_count) == (Decimal("4.00"), 1)
    assert profile.total_earned_cents == 50_000
    client = a.client_profile
    client.refresh_from_db()
    assert (client.rating_avg, client.reviews_count) == (Decimal("5.00"), 1)


@pytest.mark.django_db
def test_client_stats(people):
    from jobs.selectors_posting import client_stats

    f, a = people["freelancer"], people["a"]
    other = factories.make_published_freelancer()
    with time_machine.travel(T0, tick=False):
        first = hire(f, a, title="Website build", amounts=(50_000, 25_000))
        pay_next(first)
        pay_next(first)
        second = hire(other, a, title="Logo design", amounts=(20_000,))
        pay_next(second)
        end(first)
        end(second)
        review_services.review_submit(actor=a, contract_id=first.pk, data=review(rating=5))
        review_services.review_submit(actor=f, contract_id=first.pk, data=about_client(rating=4))
        review_services.review_submit(actor=other, contract_id=second.pk, data=about_client(rating=5))
        review_services.reviews_reveal_due(now=T0 + timedelta(days=30))  # the window closed for the logo
        reputation.refresh_for_user(user_id=a.pk)

    profile = a.client_profile
    profile.refresh_from_db()
    assert profile.hires_count == 2
    assert profile.total_spent_cents == 95_000
    assert (profile.rating_avg, profile.reviews_count) == (Decimal("4.50"), 2)
    assert profile.avg_hourly_rate_paid_cents is None  # no hourly contract
    stats = client_stats(client=a)
    # two jobs posted (one per hire), two hires
    assert (stats.jobs_posted, stats.hires, stats.hire_rate_percent, stats.rating) == (2, 2, 100, "4.50")
    scores = reputation.client_scores(profile)
    assert scores.hire_rate_percent == 100 and scores.total_spent_cents == 95_000


@pytest.mark.django_db
def test_average_hourly_rate_paid_is_the_mean_of_the_rates_before_any_billed_week(people):
    from tests.contracts.conftest import hourly_input, make_hourly_job

    f, a = people["freelancer"], people["a"]
    for rate in (4000, 6000):
        job = make_hourly_job(a)
        worker = f if rate == 4000 else factories.make_published_freelancer()
        invite(job, worker)
        offer = contract_services.offer_create(
            actor=a, data=hourly_input(freelancer_id=worker.pk, job_id=job.pk, hourly_rate_cents=rate)
        )
        contract_services.offer_accept(actor=worker, offer_id=offer.pk)

    reputation.refresh_for_user(user_id=a.pk)

    a.client_profile.refresh_from_db()
    assert a.client_profile.avg_hourly_rate_paid_cents == 5000
