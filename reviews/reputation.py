"""Reputation figures: the Job Success Score, badges, and the rating and stats of both sides.

Everything here is recomputed from the facts (contracts, released money, public reviews,
disputes) and written onto the profiles in ``accounts`` (``FreelancerProfile``,
``ClientProfile``), where search, matching and the cards read them without extra queries.
``refresh_for_user`` runs after a review is revealed or hidden (``reviews.services``), and
the daily task ``reviews.refresh_reputation`` runs it for everyone with contracts, writing
one ``JobSuccessSnapshot`` per freelancer and day. Computing twice gives the same result.

Job Success Score (JSS)
=======================

Each contract of the freelancer has one outcome:

* EXCLUDED (does not count at all): the client ended it before work started: nothing was
  released to the freelancer, no time was logged, no dispute was lost, the client did not
  say the freelancer was unresponsive, and it ended within ``CANCEL_GRACE_DAYS`` (7) days
  of its start or before any money was put in escrow.
* BAD, if any of:
  - the client's public review rates it ``BAD_RATING`` (2) stars or less, or the client's
    private "would you recommend" answer is ``BAD_RECOMMEND`` (4) of 10 or less;
  - a dispute on it was lost: resolved with more refunded to the client than released;
  - it ended without any payment by the freelancer's fault: the client ended it because
    the freelancer was not responding, or the freelancer ended it after the client had
    funded work.
* GOOD (when not bad), if any of:
  - the client's public review rates it ``GOOD_RATING`` (4) stars or more, or the private
    recommend answer is ``GOOD_RECOMMEND`` (8) or more;
  - a long-term relationship: payments spread over at least ``LONG_TERM_DAYS`` (90) days
    (the first and the latest release that far apart). This also counts a contract that
    is still active.
* NEUTRAL: any other ended contract (e.g. ended with money paid and no feedback).
* Active contracts count only as a long-term relationship (good) or with a lost dispute
  (bad); otherwise they are in progress and not counted yet.

For each window of the last 6, 12 and 24 months (183, 365 and 730 days; an ended contract
belongs to the windows its end date falls in, an active one to all of them):

    JSS = round(100 x (good - bad) / (good + bad + neutral)), at least 0 (half rounds up)

A window counts only when its outcomes come from at least ``MIN_CLIENTS`` (2) different
clients. The score shown is the best of the windows that count (on a tie the longer
window); without any such window there is no score yet ("New"). The freelancer sees every
counted contract with its outcome and the reasons (``JssResult.contracts``), never the
private notes nor the recommend number.

Badges (each with the rule shown on the profile; lost as soon as the daily task finds the
rule no longer met)
======

* Rising Talent: profile created within ``RISING_TALENT_DAYS`` (90) days, published
  (complete), at least one good outcome and no bad one; not shown with Top Rated.
* Top Rated: JSS at least ``TOP_RATED_JSS`` (90) in at least 12 of the last 16 weeks
  (the latest daily snapshot of each week), and at least $1,000 earned in the last 12
  months.
* Top Rated Plus: Top Rated, and a large project (a contract with at least $5,000 paid, a
  payment of it in the last 12 months) or at least $10,000 earned in the last 12 months.

Earnings and spend are the gross amounts released from escrow (``payments.selectors.
escrow_releases``): what the client paid for the work, before the service fee.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import ClientProfile, FreelancerProfile
from contracts.models import Contract, Dispute, Milestone, TimeSegment, Timesheet
from payments.selectors import escrow_releases

from .models import JobSuccessSnapshot, Review

log = logging.getLogger(__name__)

# --- the rules' numbers ----------------------------------------------------------------------

WINDOWS: Final[dict[int, int]] = {6: 183, 12: 365, 24: 730}  # months -> days
MIN_CLIENTS: Final = 2
LONG_TERM_DAYS: Final = 90
CANCEL_GRACE_DAYS: Final = 7
GOOD_RATING: Final = 4
BAD_RATING: Final = 2
GOOD_RECOMMEND: Final = 8
BAD_RECOMMEND: Final = 4

RISING_TALENT_DAYS: Final = 90
TOP_RATED_JSS: Final = 90
TOP_RATED_WEEKS: Final = 16
TOP_RATED_MIN_WEEKS: Final = 12
TOP_RATED_EARNINGS_CENTS: Final = 100_000  # $1,000 in 12 months
PLUS_LARGE_PROJECT_CENTS: Final = 500_000  # $5,000 on one contract
PLUS_EARNINGS_CENTS: Final = 1_000_000  # $10,000 in 12 months
EARNINGS_DAYS: Final = 365

RISING_TALENT: Final = "Rising Talent"
TOP_RATED: Final = "Top Rated"
TOP_RATED_PLUS: Final = "Top Rated Plus"

# What each badge asks for, as the profile and the score page show it.
BADGE_RULES: Final[dict[str, str]] = {
    RISING_TALENT: (
        f"New on the marketplace (profile created within {RISING_TALENT_DAYS} days), a complete "
        "published profile, at least one good outcome and none bad."
    ),
    TOP_RATED: (
        f"Job Success Score of {TOP_RATED_JSS}% or more in at least {TOP_RATED_MIN_WEEKS} of the "
        f"last {TOP_RATED_WEEKS} weeks, and at least ${TOP_RATED_EARNINGS_CENTS // 100:,} earned "
        "in the last 12 months."
    ),
    TOP_RATED_PLUS: (
        f"Top Rated, and a large project (${PLUS_LARGE_PROJECT_CENTS // 100:,} or more paid on one "
        f"contract) or ${PLUS_EARNINGS_CENTS // 100:,} or more earned in the last 12 months."
    ),
}


class Outcome(StrEnum):
    GOOD = "good"  # counts for the freelancer
    BAD = "bad"  # counts against
    NEUTRAL = "neutral"  # counts, neither way (lowers the share of good ones)
    EXCLUDED = "excluded"  # the client cancelled before work started: not counted
    OPEN = "open"  # active, not long-term yet: not counted yet


# --- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFacts:
    """What the JSS needs to know about one contract. Amounts in cents."""

    contract_id: int
    client_id: int
    title: str
    started_at: datetime
    ended_at: datetime | None = None  # None: active or paused
    ended_by_client: bool = False
    end_reason: str = ""
    released_cents: int = 0
    first_release_at: datetime | None = None
    last_release_at: datetime | None = None
    time_logged: bool = False
    ever_funded: bool = False
    client_rating: int | None = None  # the client's public review, if revealed and not hidden
    client_recommend: int | None = None  # private, 0..10
    disputes_lost: int = 0


@dataclass(frozen=True)
class Classified:
    outcome: Outcome
    reasons: tuple[str, ...]


def classify(facts: ContractFacts) -> Classified:
    """The outcome of one contract and why (see the module docstring). Pure."""
    ended = facts.ended_at is not None
    paid = facts.released_cents > 0
    unresponsive = facts.end_reason == Contract.EndReason.UNRESPONSIVE
    if (
        ended
        and facts.ended_by_client
        and not paid
        and not facts.time_logged
        and not facts.disputes_lost
        and not unresponsive
        and (
            not facts.ever_funded or facts.ended_at - facts.started_at <= timedelta(days=CANCEL_GRACE_DAYS)  # type: ignore[operator]
        )
    ):
        return Classified(Outcome.EXCLUDED, ("Cancelled by the client before work started: not counted",))

    bad: list[str] = []
    if facts.client_rating is not None and facts.client_rating <= BAD_RATING:
        bad.append(f"The client rated it {facts.client_rating} of 5 stars")
    if facts.client_recommend is not None and facts.client_recommend <= BAD_RECOMMEND:
        bad.append("The client's private feedback to the platform was negative")
    if facts.disputes_lost:
        bad.append(
            "A payment dispute was decided mostly for the client"
            if facts.disputes_lost == 1
            else (f"{facts.disputes_lost} payment disputes were decided mostly for the client")
        )
    if ended and not paid:
        if facts.ended_by_client and unresponsive:
            bad.append("Ended by the client without payment: the freelancer was not responding")
        elif not facts.ended_by_client and facts.ever_funded and not unresponsive:
            bad.append("Ended by the freelancer without payment after the client had funded the work")

    good: list[str] = []
    if facts.client_rating is not None and facts.client_rating >= GOOD_RATING:
        good.append(f"The client rated it {facts.client_rating} of 5 stars")
    if facts.client_recommend is not None and facts.client_recommend >= GOOD_RECOMMEND:
        good.append("The client's private feedback to the platform was positive")
    if (
        facts.first_release_at is not None
        and facts.last_release_at is not None
        and facts.last_release_at - facts.first_release_at >= timedelta(days=LONG_TERM_DAYS)
    ):
        good.append(f"Long-term relationship: paid over {LONG_TERM_DAYS} days or more")

    if bad:
        return Classified(Outcome.BAD, tuple(bad))
    if good:
        return Classified(Outcome.GOOD, tuple(good))
    if not ended:
        return Classified(Outcome.OPEN, ("In progress: not counted yet",))
    if facts.client_rating is not None:
        return Classified(Outcome.NEUTRAL, (f"The client rated it {facts.client_rating} of 5 stars",))
    return Classified(Outcome.NEUTRAL, ("Ended without good feedback or a long-term relationship",))


# --- the score --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowScore:
    months: int
    good: int
    bad: int
    neutral: int
    clients: int
    score: int | None  # None: no outcome in it
    counts: bool  # outcomes from at least MIN_CLIENTS clients

    @property
    def total(self) -> int:
        return self.good + self.bad + self.neutral


@dataclass(frozen=True)
class ContractOutcome:
    contract_id: int
    title: str
    outcome: str
    reasons: tuple[str, ...]
    ended_on: date | None
    windows: tuple[int, ...]  # the windows (months) it counts in


@dataclass(frozen=True)
class JssResult:
    score: int | None
    window_months: int | None
    windows: tuple[WindowScore, ...]
    contracts: tuple[ContractOutcome, ...]
    good_total: int = 0  # over the longest window, for the badges
    bad_total: int = 0

    def components(self) -> dict[str, Any]:
        """JSON for the snapshot: the freelancer's own view of what moved the score."""
        return {
            "windows": [{**asdict(w), "total": w.total} for w in self.windows],
            "contracts": [
                {
                    "contract_id": c.contract_id,
                    "title": c.title,
                    "outcome": c.outcome,
                    "reasons": list(c.reasons),
                    "ended_on": c.ended_on.isoformat() if c.ended_on else None,
                    "windows": list(c.windows),
                }
                for c in self.contracts
            ],
        }


def jss_percent(good: int, bad: int, total: int) -> int | None:
    """round(100 x (good - bad) / total), at least 0, half rounds up; None without outcomes."""
    if total <= 0:
        return None
    diff = good - bad
    if diff <= 0:
        return 0
    return (200 * diff + total) // (2 * total)


def job_success(facts: list[ContractFacts], *, as_of: datetime) -> JssResult:
    """The JSS of a freelancer's contracts as of a moment (see the module docstring). Pure."""
    counted: list[tuple[ContractFacts, Classified, tuple[int, ...]]] = []
    for item in facts:
        classified = classify(item)
        if item.ended_at is not None and item.ended_at > as_of:
            continue
        in_windows = tuple(
            months
            for months, days in WINDOWS.items()
            if item.ended_at is None or item.ended_at > as_of - timedelta(days=days)
        )
        if not in_windows:
            continue
        counted.append((item, classified, in_windows))

    windows = []
    for months in WINDOWS:
        members = [
            (f, c)
            for f, c, w in counted
            if months in w and c.outcome in (Outcome.GOOD, Outcome.BAD, Outcome.NEUTRAL)
        ]
        good = sum(1 for _, c in members if c.outcome == Outcome.GOOD)
        bad = sum(1 for _, c in members if c.outcome == Outcome.BAD)
        neutral = len(members) - good - bad
        clients = len({f.client_id for f, _ in members})
        windows.append(
            WindowScore(
                months=months,
                good=good,
                bad=bad,
                neutral=neutral,
                clients=clients,
                score=jss_percent(good, bad, len(members)),
                counts=clients >= MIN_CLIENTS,
            )
        )
    best: WindowScore | None = None
    for window in windows:  # shortest first: a later (longer) window wins a tie
        if window.counts and window.score is not None and (best is None or window.score >= best.score):  # type: ignore[operator]
            best = window
    longest = windows[-1]
    outcomes = tuple(
        ContractOutcome(
            contract_id=f.contract_id,
            title=f.title,
            outcome=str(c.outcome),
            reasons=c.reasons,
            ended_on=f.ended_at.date() if f.ended_at else None,
            windows=w if c.outcome in (Outcome.GOOD, Outcome.BAD, Outcome.NEUTRAL) else (),
        )
        for f, c, w in sorted(counted, key=lambda x: (x[0].ended_at or as_of, x[0].contract_id), reverse=True)
    )
    return JssResult(
        score=best.score if best else None,
        window_months=best.months if best else None,
        windows=tuple(windows),
        contracts=outcomes,
        good_total=longest.good,
        bad_total=longest.bad,
    )


# --- reading the facts ------------------------------------------------------------------------


def contract_reference(contract_id: int) -> str:
    """The escrow reference of a contract (contracts.escrow.escrow_reference)."""
    return f"contract:{contract_id}"


def _releases_by_contract(contract_ids: list[int]) -> dict[int, list[tuple[int, datetime]]]:
    by_ref: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for reference, amount, at in escrow_releases(contract_reference(pk) for pk in contract_ids):
        by_ref[int(reference.split(":", 1)[1])].append((amount, at))
    return by_ref


def freelancer_contract_facts(freelancer_id: int) -> tuple[list[ContractFacts], dict[int, list]]:
    """Facts of every contract of the freelancer, and their releases by contract id.
    Six queries whatever the number of contracts."""
    contracts = list(
        Contract.objects.filter(freelancer_id=freelancer_id)
        .values("id", "client_id", "title", "started_at", "ended_at", "ended_by_id", "end_reason", "status")
        .order_by("id")
    )
    ids = [c["id"] for c in contracts]
    if not ids:
        return [], {}
    releases = _releases_by_contract(ids)
    logged = set(
        TimeSegment.objects.filter(contract_id__in=ids).values_list("contract_id", flat=True).distinct()
    )
    funded = set(
        Milestone.objects.filter(contract_id__in=ids, funded_at__isnull=False)
        .values_list("contract_id", flat=True)
        .distinct()
    ) | set(
        Timesheet.objects.filter(contract_id__in=ids, charged_at__isnull=False)
        .values_list("contract_id", flat=True)
        .distinct()
    )
    lost: dict[int, int] = defaultdict(int)
    for contract_id in Dispute.objects.filter(
        contract_id__in=ids, status=Dispute.Status.RESOLVED, refund_cents__gt=F("release_cents")
    ).values_list("contract_id", flat=True):
        lost[contract_id] += 1
    reviews = {
        row["contract_id"]: row
        for row in Review.objects.filter(
            contract_id__in=ids,
            direction=Review.Direction.CLIENT_TO_FREELANCER,
            revealed_at__isnull=False,
            hidden_at__isnull=True,
        ).values("contract_id", "rating", "recommend_score")
    }
    facts = []
    for c in contracts:
        paid = releases.get(c["id"], [])
        paid_dates = [at for amount, at in paid if amount > 0]
        review = reviews.get(c["id"])
        ended = c["status"] == Contract.Status.ENDED
        facts.append(
            ContractFacts(
                contract_id=c["id"],
                client_id=c["client_id"],
                title=c["title"],
                started_at=c["started_at"],
                ended_at=c["ended_at"] if ended else None,
                ended_by_client=ended and c["ended_by_id"] == c["client_id"],
                end_reason=c["end_reason"] or "",
                released_cents=sum(amount for amount, _ in paid),
                first_release_at=min(paid_dates) if paid_dates else None,
                last_release_at=max(paid_dates) if paid_dates else None,
                time_logged=c["id"] in logged,
                ever_funded=c["id"] in funded or bool(paid),
                client_rating=review["rating"] if review else None,
                client_recommend=review["recommend_score"] if review else None,
                disputes_lost=lost.get(c["id"], 0),
            )
        )
    return facts, releases


# --- badges -----------------------------------------------------------------------------------


def weekly_scores(snapshots: dict[date, int | None], *, today: date) -> list[int | None]:
    """The latest score of each of the last TOP_RATED_WEEKS weeks (newest first; a week is
    the 7 days ending on ``today`` minus a multiple of 7), None for a week without one."""
    out: list[int | None] = []
    for week in range(TOP_RATED_WEEKS):
        end = today - timedelta(days=7 * week)
        days = [end - timedelta(days=d) for d in range(7)]
        found = next((d for d in days if d in snapshots), None)
        out.append(snapshots[found] if found is not None else None)
    return out


@dataclass(frozen=True)
class BadgeFacts:
    profile_created_at: datetime
    published: bool
    good_outcomes: int
    bad_outcomes: int
    weekly: list[int | None] = field(default_factory=list)
    earnings_12m_cents: int = 0
    largest_project_12m_cents: int = 0


def badges_for(facts: BadgeFacts, *, as_of: datetime) -> list[str]:
    """The badges the rules grant (see the module docstring). Pure."""
    top_weeks = sum(1 for score in facts.weekly if score is not None and score >= TOP_RATED_JSS)
    top_rated = top_weeks >= TOP_RATED_MIN_WEEKS and facts.earnings_12m_cents >= TOP_RATED_EARNINGS_CENTS
    if top_rated and (
        facts.largest_project_12m_cents >= PLUS_LARGE_PROJECT_CENTS
        or facts.earnings_12m_cents >= PLUS_EARNINGS_CENTS
    ):
        return [TOP_RATED_PLUS]
    if top_rated:
        return [TOP_RATED]
    if (
        facts.profile_created_at >= as_of - timedelta(days=RISING_TALENT_DAYS)
        and facts.published
        and facts.good_outcomes >= 1
        and facts.bad_outcomes == 0
    ):
        return [RISING_TALENT]
    return []


# --- refresh (writes) -------------------------------------------------------------------------


def _rating(direction: str, user_id: int) -> tuple[Decimal | None, int]:
    from .selectors import rating_summary

    return rating_summary(user_id=user_id, direction=direction)


@transaction.atomic
def freelancer_refresh(*, user_id: int, now: datetime | None = None) -> FreelancerProfile | None:
    """Recompute the freelancer's JSS (today's snapshot), rating, earnings, jobs and badges.
    Locks the profile row, so that two refreshes of one freelancer run one after the other.
    None when the user has no freelancer profile."""
    now = now or timezone.now()
    profile = FreelancerProfile.objects.select_for_update(no_key=True).filter(user_id=user_id).first()
    if profile is None:
        return None
    facts, releases = freelancer_contract_facts(user_id)
    result = job_success(facts, as_of=now)
    today = timezone.localdate(now)
    JobSuccessSnapshot.objects.update_or_create(
        freelancer_id=user_id,
        computed_on=today,
        defaults={
            "score": result.score,
            "window_months": result.window_months,
            "components": result.components(),
        },
    )
    since = today - timedelta(days=7 * TOP_RATED_WEEKS)
    snapshots = dict(
        JobSuccessSnapshot.objects.filter(freelancer_id=user_id, computed_on__gt=since).values_list(
            "computed_on", "score"
        )
    )
    year_ago = now - timedelta(days=EARNINGS_DAYS)
    total_earned = sum(amount for rows in releases.values() for amount, _ in rows)
    earned_12m = sum(amount for rows in releases.values() for amount, at in rows if at > year_ago)
    largest = max(
        (
            sum(amount for amount, _ in rows)
            for rows in releases.values()
            if any(at > year_ago and amount > 0 for amount, at in rows)
        ),
        default=0,
    )
    badges = badges_for(
        BadgeFacts(
            profile_created_at=profile.created_at,
            published=profile.published_at is not None,
            good_outcomes=result.good_total,
            bad_outcomes=result.bad_total,
            weekly=weekly_scores(snapshots, today=today),
            earnings_12m_cents=earned_12m,
            largest_project_12m_cents=largest,
        ),
        as_of=now,
    )
    rating, reviews_count = _rating(Review.Direction.CLIENT_TO_FREELANCER, user_id)
    total_jobs = sum(1 for f in facts if classify(f).outcome != Outcome.EXCLUDED)
    # .update(): reputation is not a profile edit (updated_at feeds the matching's recency)
    FreelancerProfile.objects.filter(pk=profile.pk).update(
        job_success_score=result.score,
        rating_avg=rating,
        reviews_count=reviews_count,
        total_earned_cents=total_earned,
        total_jobs=total_jobs,
        badges=badges,
    )
    profile.refresh_from_db()
    return profile


@transaction.atomic
def client_refresh(*, user_id: int) -> ClientProfile | None:
    """Recompute the client's rating, hires, total spent and average hourly rate paid.
    Locks the profile row. None when the user has no client profile. (Jobs posted is
    counted by ``jobs.services`` when a job is published; hire rate = hires / jobs posted.)"""
    profile = ClientProfile.objects.select_for_update(no_key=True).filter(user_id=user_id).first()
    if profile is None:
        return None
    contracts = list(
        Contract.objects.filter(client_id=user_id).values_list("id", "contract_type", "hourly_rate_cents")
    )
    ids = [pk for pk, _, _ in contracts]
    spent = (
        sum(amount for _, amount, _ in escrow_releases(contract_reference(pk) for pk in ids)) if ids else 0
    )
    rating, reviews_count = _rating(Review.Direction.FREELANCER_TO_CLIENT, user_id)
    ClientProfile.objects.filter(pk=profile.pk).update(
        hires_count=len(contracts),
        total_spent_cents=spent,
        rating_avg=rating,
        reviews_count=reviews_count,
        avg_hourly_rate_paid_cents=_avg_hourly_rate(ids, contracts),
    )
    profile.refresh_from_db()
    return profile


def _avg_hourly_rate(ids: list[int], contracts: list[tuple[int, str, int | None]]) -> int | None:
    """Weighted by the hours billed on charged weeks; without billed hours yet, the plain
    mean of the hourly contracts' rates; None without hourly contracts."""
    hourly = [(pk, rate) for pk, kind, rate in contracts if kind == "hourly" and rate]
    if not hourly:
        return None
    billed = Timesheet.objects.filter(
        contract_id__in=[pk for pk, _ in hourly],
        billed_minutes__gt=0,
        status__in=[
            Timesheet.Status.IN_REVIEW,
            Timesheet.Status.DISPUTED,
            Timesheet.Status.RELEASED,
            Timesheet.Status.RESOLVED,
        ],
    ).values_list("billed_minutes", "rate_cents")
    minutes = sum(m for m, _ in billed)
    if minutes:
        return round(sum(m * rate for m, rate in billed) / minutes)
    return round(sum(rate for _, rate in hourly) / len(hourly))


def refresh_for_user(*, user_id: int, now: datetime | None = None) -> None:
    """Recompute every figure of the user, as freelancer and as client (each in its own
    transaction). Called on commit after a review is revealed or hidden, and daily."""
    freelancer_refresh(user_id=user_id, now=now)
    client_refresh(user_id=user_id)


def refresh_all(*, now: datetime | None = None) -> dict[str, int]:
    """Daily: refresh everyone with a contract, and anyone still showing a score or a badge
    (so that what is no longer earned goes away). Safe to run twice (one snapshot per day)."""
    freelancer_ids = set(Contract.objects.values_list("freelancer_id", flat=True).distinct()) | set(
        FreelancerProfile.objects.filter(Q(job_success_score__isnull=False) | ~Q(badges=[])).values_list(
            "user_id", flat=True
        )
    )
    client_ids = set(Contract.objects.values_list("client_id", flat=True).distinct())
    done = {"freelancers": 0, "clients": 0, "failed": 0}
    for user_id in sorted(freelancer_ids):
        try:
            freelancer_refresh(user_id=user_id, now=now)
            done["freelancers"] += 1
        except Exception:
            log.exception("reputation refresh failed for freelancer %s", user_id)
            done["failed"] += 1
    for user_id in sorted(client_ids):
        try:
            client_refresh(user_id=user_id)
            done["clients"] += 1
        except Exception:
            log.exception("reputation refresh failed for client %s", user_id)
            done["failed"] += 1
    return done


# --- reads: what the score page, the profile and the API show --------------------------------


@dataclass(frozen=True)
class BadgeInfo:
    name: str
    rule: str


def badge_infos(names: Any) -> list[BadgeInfo]:
    """The badges of a profile with the rule each stands for (unknown names are skipped)."""
    return [
        BadgeInfo(str(name), BADGE_RULES[str(name)]) for name in (names or []) if str(name) in BADGE_RULES
    ]


@dataclass
class FreelancerScores:
    """A freelancer's public figures, and for the freelancer themself (or staff) the
    components of the Job Success Score: its windows and every counted contract."""

    profile: FreelancerProfile
    job_success_score: int | None
    rating_avg: Decimal | None
    reviews_count: int
    total_earned_cents: int
    total_jobs: int
    badges: list[BadgeInfo]
    is_self: bool = False  # the viewer is the freelancer
    staff_view: bool = False  # the viewer is staff (not the freelancer): components, links to admin
    contract_links: str = ""  # where the contracts link: "site" (the parties' pages), "admin", or none
    computed_on: date | None = None
    window_months: int | None = None
    windows: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    weekly: list[int | None] = field(default_factory=list)  # newest first, TOP_RATED_WEEKS of them

    @property
    def shows_components(self) -> bool:
        """Whether the viewer sees the components: the freelancer themself, or staff."""
        return self.is_self or self.staff_view

    @property
    def lowered(self) -> list[dict[str, Any]]:
        """The counted contracts that kept the score from 100%: bad ones, then neutral ones."""
        order = {"bad": 0, "neutral": 1}
        rows = [c for c in self.contracts if c.get("outcome") in order and c.get("windows")]
        return sorted(rows, key=lambda c: order[c["outcome"]])

    @property
    def top_rated_weeks(self) -> int:
        return sum(1 for s in self.weekly if s is not None and s >= TOP_RATED_JSS)


def freelancer_scores(*, profile: FreelancerProfile, viewer: Any) -> FreelancerScores:
    """What ``viewer`` may see of the profile's scores (the caller checked the profile is
    visible to them). Components only for the freelancer themself and staff. Two queries."""
    signed_in = viewer is not None and getattr(viewer, "is_authenticated", False)
    is_self = bool(signed_in and viewer.pk == profile.user_id)
    staff_view = bool(signed_in and not is_self and viewer.is_staff)
    scores = FreelancerScores(
        profile=profile,
        job_success_score=profile.job_success_score,
        rating_avg=profile.rating_avg if profile.reviews_count else None,
        reviews_count=profile.reviews_count,
        total_earned_cents=profile.total_earned_cents,
        total_jobs=profile.total_jobs,
        badges=badge_infos(profile.badges),
        is_self=is_self,
        staff_view=staff_view,
        # staff read contracts in the admin (the pages are the parties'), when allowed to
        contract_links="site"
        if is_self
        else ("admin" if staff_view and viewer.has_perm("contracts.view_contract") else ""),
    )
    if not scores.shows_components:
        return scores
    latest = JobSuccessSnapshot.objects.filter(freelancer_id=profile.user_id).order_by("-computed_on").first()
    if latest is not None:
        scores.computed_on = latest.computed_on
        scores.window_months = latest.window_months
        scores.windows = list((latest.components or {}).get("windows", []))
        scores.contracts = list((latest.components or {}).get("contracts", []))
        since = latest.computed_on - timedelta(days=7 * TOP_RATED_WEEKS)
        snapshots = dict(
            JobSuccessSnapshot.objects.filter(
                freelancer_id=profile.user_id, computed_on__gt=since
            ).values_list("computed_on", "score")
        )
        scores.weekly = weekly_scores(snapshots, today=latest.computed_on)
    return scores


@dataclass(frozen=True)
class ClientScores:
    rating_avg: Decimal | None
    reviews_count: int
    jobs_posted: int
    hires: int
    hire_rate_percent: int | None  # None until the client has posted a job
    total_spent_cents: int
    avg_hourly_rate_paid_cents: int | None
    member_since: datetime
    payment_method_verified: bool


def client_scores(profile: ClientProfile) -> ClientScores:
    """A client's public figures, from their profile (no query)."""
    posted = profile.jobs_posted_count
    return ClientScores(
        rating_avg=profile.rating_avg if profile.reviews_count else None,
        reviews_count=profile.reviews_count,
        jobs_posted=posted,
        hires=profile.hires_count,
        hire_rate_percent=min(100, round(100 * profile.hires_count / posted)) if posted else None,
        total_spent_cents=profile.total_spent_cents,
        avg_hourly_rate_paid_cents=profile.avg_hourly_rate_paid_cents,
        member_since=profile.created_at,
        payment_method_verified=profile.payment_method_verified,
    )


def formula_text() -> dict[str, Any]:
    """The numbers of the rules, for the public "How the Job Success Score works" section."""
    return {
        "windows": list(WINDOWS),
        "min_clients": MIN_CLIENTS,
        "long_term_days": LONG_TERM_DAYS,
        "cancel_grace_days": CANCEL_GRACE_DAYS,
        "good_rating": GOOD_RATING,
        "bad_rating": BAD_RATING,
        "good_recommend": GOOD_RECOMMEND,
        "bad_recommend": BAD_RECOMMEND,
        "top_rated_jss": TOP_RATED_JSS,
        "badge_rules": [BadgeInfo(name, rule) for name, rule in BADGE_RULES.items()],
    }
