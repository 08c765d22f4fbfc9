"""Demo hiring for ``seed_demo``: proposals in every state, offers and contracts, built
through the real services of proposals and contracts (so Connects, counters, events,
conversations and notifications are what a user would have produced).

Deterministic for an ``rng`` seed and idempotent: when demo freelancers already have
proposals, nothing is added.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from accounts.models import FreelancerProfile, User
from jobs.models import Job
from marketplace.errors import ApplicationError
from marketplace.progress import Progress
from proposals import services as proposal_services
from proposals.models import Proposal

from . import services
from .models import Contract, ContractType

COVER_LETTERS = [
    'Hi {client}, I read your post about "{title}" carefully. I have delivered similar work for '
    "several clients and can start this week. I would begin with a short call to confirm the scope, "
    "then share a first version within a few days so you can steer early.",
    'Hello {client}! "{title}" is right in my wheelhouse. My approach: clarify the requirements, '
    "agree on milestones, and send progress updates every two days. Happy to show relevant samples "
    "from my portfolio before we start.",
    "Dear {client}, thank you for the clear description. I have the skills you list and a track "
    "record of finishing on time. I propose to deliver in two steps: a working draft first, then the "
    "polished result after your feedback.",
]
ANSWER = "Yes: I have done this several times; I can share examples and references on request."
INTERVIEW = "Thanks for your proposal. Could you tell me more about a similar project you delivered?"


def _bid(rng: random.Random, job: Job, profile: FreelancerProfile) -> dict:
    if job.budget_type == Job.BudgetType.HOURLY:
        rate = profile.hourly_rate_cents or job.hourly_max_cents or 3000
        if job.hourly_min_cents and job.hourly_max_cents:
            rate = min(max(rate, job.hourly_min_cents), job.hourly_max_cents)
        return {"hourly_rate_cents": rate}
    budget = job.fixed_budget_cents or 50_000
    return {"fixed_amount_cents": max(500, int(budget * rng.choice([0.8, 0.9, 1.0, 1.0, 1.1])) // 100 * 100)}


def _submit(rng: random.Random, job: Job, freelancer: User) -> Proposal | None:
    profile = freelancer.freelancer_profile
    data = proposal_services.ProposalInput(
        duration=job.duration,
        cover_letter=rng.choice(COVER_LETTERS).format(client=job.client.first_name, title=job.title),
        answers={q.pk: ANSWER for q in job.questions.all()},
        **_bid(rng, job, profile),
    )
    try:
        return proposal_services.proposal_submit(actor=freelancer, job_id=job.pk, data=data)
    except ApplicationError:
        return None  # e.g. a job that matches nobody's rules; the demo simply skips it


def _offer_input(job: Job, proposal: Proposal) -> services.OfferInput:
    start = timezone.localdate()
    if job.budget_type == Job.BudgetType.HOURLY:
        return services.OfferInput(
            title=job.title,
            contract_type=ContractType.HOURLY,
            start_date=start,
            proposal_id=proposal.pk,
            hourly_rate_cents=proposal.hourly_rate_cents,
            weekly_limit_hours=20,
            manual_time_allowed=True,
            description="Weekly check-ins on Monday; log time with clear memos.",
        )
    total = proposal.fixed_amount_cents or 50_000
    first = total // 2
    return services.OfferInput(
        title=job.title,
        contract_type=ContractType.FIXED,
        start_date=start,
        proposal_id=proposal.pk,
        milestones=[
            services.MilestoneInput(
                description="First version", amount_cents=first, due_date=start + timedelta(days=10)
            ),
            services.MilestoneInput(
                description="Final delivery", amount_cents=total - first, due_date=start + timedelta(days=24)
            ),
        ],
        description="Deliverables as described in the job post; two rounds of changes included.",
    )


def seed_hiring(
    *, rng: random.Random, clients: list[User], freelancers: list[User], staff: User, stream: TextIO
) -> dict:
    """Proposals on the demo clients' open jobs, then shortlists, interviews, declines,
    withdrawals, pending and declined offers, and active, paused and ended contracts."""
    counts = {"proposals": 0, "offers": 0, "contracts": 0}
    applicants = [
        f
        for f in freelancers
        if FreelancerProfile.objects.filter(user=f, published_at__isnull=False).exists()
    ]
    if not applicants or Proposal.objects.filter(freelancer__in=applicants).exists():
        return counts
    for freelancer in applicants:
        proposal_services.connects_grant(actor=staff, user_id=freelancer.pk, amount=60, note="Demo Connects")

    jobs: list[Job] = []
    for client in clients:
        jobs.extend(
            Job.objects.filter(client=client, status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC)
            .select_related("client")
            .order_by("pk")[:4]
        )
    bar = Progress(len(jobs), "Hiring", stream=stream)  # type: ignore[arg-type]
    for index, job in enumerate(jobs):
        with transaction.atomic():
            people = rng.sample(applicants, k=min(len(applicants), rng.randint(3, 6)))
            proposals = [p for p in (_submit(rng, job, f) for f in people) if p is not None]
            counts["proposals"] += len(proposals)
            _play(rng, index, job, proposals, counts)
        bar.advance()
    bar.finish()
    return counts


def _play(rng: random.Random, index: int, job: Job, proposals: list[Proposal], counts: dict) -> None:
    """Move a job's proposals through the states a live marketplace shows."""
    client = job.client
    if not proposals:
        return
    first, rest = proposals[0], proposals[1:]
    proposal_services.proposal_shortlist(actor=client, proposal_id=first.pk)
    proposal_services.proposal_message(actor=client, proposal_id=first.pk, text=INTERVIEW)
    for proposal in rest[:1]:
        proposal_services.proposal_decline(
            actor=client, proposal_id=proposal.pk, reason=Proposal.DeclineReason.BUDGET, note=""
        )
    for proposal in rest[1:2]:
        proposal_services.proposal_withdraw(
            actor=proposal.freelancer, proposal_id=proposal.pk, reason=Proposal.WithdrawReason.SCHEDULE
        )
    for proposal in rest[2:3]:
        proposal_services.proposal_archive(actor=client, proposal_id=proposal.pk)

    stage = index % 6
    if stage == 0:
        return  # still reviewing: shortlisted and interviewing
    offer = services.offer_create(actor=client, data=_offer_input(job, first))
    counts["offers"] += 1
    if stage == 1:
        return  # offer pending
    if stage == 2:
        services.offer_decline(actor=first.freelancer, offer_id=offer.pk, reason="scope", note="")
        return
    contract = services.offer_accept(actor=first.freelancer, offer_id=offer.pk)
    counts["contracts"] += 1
    if stage == 4 and contract.contract_type == ContractType.HOURLY:
        services.contract_pause(actor=client, contract_id=contract.pk)
    elif stage == 5 and contract.contract_type == ContractType.HOURLY:
        # (fixed-price ones are paid in full and then ended by seed_money)
        services.contract_end(
            actor=client,
            contract_id=contract.pk,
            reason=Contract.EndReason.COMPLETED,
            note="Great work, thanks!",
        )


DEMO_CARD = "4242424242424242"
SUBMISSION = "Here is the delivery for this milestone: the files are in the shared folder, notes inside."


def seed_money(*, clients: list[User], stream: TextIO) -> dict:
    """Escrow on the demo's fixed-price contracts, through the real escrow services and the
    local gateway: every demo client with a contract saves the test card, then contracts show funded,
    submitted, changes-requested and paid milestones (paid ones give freelancers pending
    money with its hold date). Skipped when the gateway is not the local one (no real
    charges from a demo) and when the demo clients already have payments."""
    from django.conf import settings

    from payments import services as payment_services
    from payments.gateways.base import CardInput
    from payments.models import Charge, PaymentMethod

    from . import escrow
    from .models import Milestone

    counts = {"cards": 0, "funded": 0, "released": 0}
    if settings.PAYMENTS_GATEWAY != "local" or Charge.objects.filter(payer__in=clients).exists():
        return counts
    year = timezone.now().year + 3
    hiring = set(Contract.objects.filter(client__in=clients).values_list("client_id", flat=True))
    for client in [c for c in clients if c.pk in hiring]:
        if not PaymentMethod.objects.filter(user=client, removed_at__isnull=True).exists():
            payment_services.payment_method_add(
                actor=client, card=CardInput(number=DEMO_CARD, exp_month=12, exp_year=year, cvc="123")
            )
            counts["cards"] += 1
    contracts = list(
        Contract.objects.filter(
            client__in=clients, contract_type=ContractType.FIXED, status=Contract.Status.ACTIVE
        ).order_by("pk")
    )
    bar = Progress(len(contracts), "Escrow", stream=stream)  # type: ignore[arg-type]
    for index, contract in enumerate(contracts):
        milestones = list(contract.milestones.order_by("position", "pk"))
        stage = index % 4
        if stage == 3:  # paid in full, then ended as completed (the demo's reviews go here)
            result = escrow.milestone_fund(
                actor=contract.client, contract_id=contract.pk, milestone_ids=[m.pk for m in milestones]
            )
            counts["funded"] += len(result.funded)
            for milestone in result.funded:
                escrow.milestone_submit(
                    actor=contract.freelancer, milestone_id=milestone.pk, message=SUBMISSION
                )
                escrow.milestone_approve(actor=contract.client, milestone_id=milestone.pk)
                counts["released"] += 1
            services.contract_end(
                actor=contract.client,
                contract_id=contract.pk,
                reason=Contract.EndReason.COMPLETED,
                note="Great work, thanks!",
            )
            bar.advance()
            continue
        to_fund = milestones if stage == 0 else milestones[:1]
        result = escrow.milestone_fund(
            actor=contract.client, contract_id=contract.pk, milestone_ids=[m.pk for m in to_fund]
        )
        counts["funded"] += len(result.funded)
        first = milestones[0]
        first.refresh_from_db()
        if first.status == Milestone.Status.FUNDED and stage in (0, 2):
            escrow.milestone_submit(actor=contract.freelancer, milestone_id=first.pk, message=SUBMISSION)
            if stage == 0:
                escrow.milestone_approve(actor=contract.client, milestone_id=first.pk)
                counts["released"] += 1
                if len(milestones) > 1:
                    escrow.milestone_submit(
                        actor=contract.freelancer, milestone_id=milestones[1].pk, message=SUBMISSION
                    )
            else:
                escrow.milestone_request_changes(
                    actor=contract.client,
                    milestone_id=first.pk,
                    note="Close: please use the brand colours from the style guide.",
                )
        bar.advance()
    bar.finish()
    return counts


MEMOS = [
    "Set up the project and read through the existing code",
    "Implemented the booking form and its validation",
    "Call with the client; wrote up the decisions",
    "Fixed the layout on small screens",
    "Wrote tests for the payment step",
    "Reviewed feedback and adjusted the copy",
    "",  # a segment without a memo (the diary and disputes highlight these)
]


def seed_hourly(*, clients: list[User], stream: TextIO) -> dict:
    """Several weeks of work diary on the demo's active hourly contracts, billed and paid
    through the real services: the contracts are moved back to start four weeks ago (demo
    data only), the tracker service records segments as it would have at the time, each
    finished week is closed and charged to the client's test card, and weeks whose review
    period is over are released. This week's diary is filled up to now. Skipped when the
    gateway is not local or the contracts already have time."""
    from django.conf import settings

    from .billing import timesheet_close, timesheets_release_due
    from .models import TimeSegment
    from .timetracking import SegmentInput, segments_add, week_start_of

    counts = {"segments": 0, "timesheets": 0}
    contracts = list(
        Contract.objects.filter(
            client__in=clients, contract_type=ContractType.HOURLY, status=Contract.Status.ACTIVE
        ).order_by("pk")
    )
    if settings.PAYMENTS_GATEWAY != "local" or TimeSegment.objects.filter(contract__in=contracts).exists():
        return counts
    rng = random.Random(7)
    now = timezone.now()
    this_week = week_start_of(now)
    weeks = [this_week - timedelta(days=7 * n) for n in (3, 2, 1)]
    bar = Progress(len(contracts) * 4, "Work diary", stream=stream)  # type: ignore[arg-type]
    for contract in contracts:
        started = datetime.combine(weeks[0], time(8, 0), tzinfo=UTC)
        Contract.objects.filter(pk=contract.pk).update(started_at=started, start_date=weeks[0])
        for week in [*weeks, this_week]:
            items = []
            for day in range(5):
                first = datetime.combine(week + timedelta(days=day), time(9, 0), tzinfo=UTC)
                for slot in range(rng.randint(6, 30)):  # one to five hours a day
                    items.append(
                        SegmentInput(
                            started_at=first + timedelta(minutes=10 * slot),
                            memo=rng.choice(MEMOS),
                            activity=rng.randint(3, 10),
                        )
                    )
            at = min(now, datetime.combine(week + timedelta(days=6), time(20, 0), tzinfo=UTC))
            items = [i for i in items if i.started_at + timedelta(minutes=10) <= at]
            if items:
                result = segments_add(actor=contract.freelancer, contract_id=contract.pk, items=items, now=at)
                counts["segments"] += len(result.created)
            if week != this_week:
                timesheet_close(
                    contract_id=contract.pk,
                    week_start=week,
                    now=datetime.combine(week + timedelta(days=7), time(0, 30), tzinfo=UTC),
                )
                counts["timesheets"] += 1
            bar.advance()
    bar.finish()
    timesheets_release_due(now=now)
    return counts


def seed_dispute(*, clients: list[User]) -> int:
    """One open dispute: a client contests a submitted milestone (escrow frozen, the
    freelancer has five days to answer). Nothing when one is already open."""
    from .disputes import dispute_open
    from .models import Dispute, Milestone

    if Dispute.objects.filter(contract__client__in=clients).exists():
        return 0
    milestone = (
        Milestone.objects.filter(contract__client__in=clients, status=Milestone.Status.SUBMITTED)
        .select_related("contract")
        .order_by("pk")
        .first()
    )
    if milestone is None:
        return 0
    dispute_open(
        actor=milestone.contract.client,
        milestone_id=milestone.pk,
        reason="quality",
        statement="The delivery misses the mobile layout we agreed on in the job post; "
        "I would like part of this milestone refunded.",
    )
    return 1
