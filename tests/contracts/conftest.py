"""Fixtures for contracts tests: jobs, proposals, offers and contracts are built through the
real services (jobs, proposals, contracts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractType, Offer
from contracts.services import MilestoneInput, OfferInput
from jobs import services as job_services
from jobs.models import Job
from proposals import services as proposal_services
from proposals.models import Proposal
from proposals.services import MilestoneInput as ProposalMilestoneInput
from proposals.services import ProposalInput
from tests import factories
from tests.jobs.conftest import make_job

COVER_LETTER = "I have built several booking sites with Django and PostgreSQL; happy to help. " * 2


def make_hourly_job(client=None, **overrides) -> Job:
    values = {
        "budget_type": Job.BudgetType.HOURLY,
        "hourly_min_cents": 2000,
        "hourly_max_cents": 6000,
        "fixed_budget_cents": None,
    }
    values.update(overrides)
    return make_job(client, **values)


def make_proposal(job: Job, freelancer=None, *, milestones: bool = True) -> Proposal:
    """A proposal sent through ``proposal_submit``: a fixed bid of $1,500 in two milestones,
    or a $45/hr bid on an hourly job."""
    freelancer = freelancer or factories.make_published_freelancer()
    if job.budget_type == Job.BudgetType.HOURLY:
        data = ProposalInput(
            duration=Job.Duration.ONE_TO_THREE, hourly_rate_cents=4500, cover_letter=COVER_LETTER
        )
    else:
        items = (
            [
                ProposalMilestoneInput(description="Design and models", amount_cents=50_000),
                ProposalMilestoneInput(description="Booking flow and launch", amount_cents=100_000),
            ]
            if milestones
            else []
        )
        data = ProposalInput(
            duration=Job.Duration.ONE_TO_THREE,
            fixed_amount_cents=150_000,
            milestones=items,
            cover_letter=COVER_LETTER,
        )
    return proposal_services.proposal_submit(actor=freelancer, job_id=job.pk, data=data)


def fixed_input(**overrides) -> OfferInput:
    values = {
        "title": "Build the booking site",
        "contract_type": ContractType.FIXED,
        "start_date": timezone.localdate(),
        "milestones": [
            MilestoneInput(description="Design and models", amount_cents=50_000),
            MilestoneInput(
                description="Booking flow and launch",
                amount_cents=100_000,
                due_date=timezone.localdate() + timedelta(days=30),
            ),
        ],
        "description": "The booking site described in the job post.",
    }
    values.update(overrides)
    return OfferInput(**values)


def hourly_input(**overrides) -> OfferInput:
    values = {
        "title": "Ongoing Django work",
        "contract_type": ContractType.HOURLY,
        "start_date": timezone.localdate(),
        "hourly_rate_cents": 4500,
        "weekly_limit_hours": 20,
        "manual_time_allowed": True,
    }
    values.update(overrides)
    return OfferInput(**values)


def offer_from_proposal(proposal: Proposal, **overrides) -> Offer:
    job = proposal.job
    builder = hourly_input if job.budget_type == Job.BudgetType.HOURLY else fixed_input
    return services.offer_create(actor=job.client, data=builder(proposal_id=proposal.pk, **overrides))


def invite(job: Job, freelancer):
    return job_services.invitation_send(
        actor=job.client, job_id=job.pk, freelancer_id=freelancer.pk, message="Would you like to apply?"
    )


class Hire:
    """A client, a freelancer, an open job and the freelancer's proposal to it."""

    def __init__(self, *, hourly: bool = False) -> None:
        self.client = factories.make_client()
        self.freelancer = factories.make_published_freelancer()
        self.job = make_hourly_job(self.client) if hourly else make_job(self.client)
        self.proposal = make_proposal(self.job, self.freelancer)

    def offer(self, **overrides) -> Offer:
        return offer_from_proposal(self.proposal, **overrides)

    def contract(self, **overrides) -> Contract:
        offer = self.offer(**overrides)
        return services.offer_accept(actor=self.freelancer, offer_id=offer.pk)


@pytest.fixture
def hire(db) -> Hire:
    return Hire()


@pytest.fixture
def hourly_hire(db) -> Hire:
    return Hire(hourly=True)


@pytest.fixture
def fixed_contract(hire) -> Contract:
    return hire.contract()


@pytest.fixture
def hourly_contract(hourly_hire) -> Contract:
    return hourly_hire.contract()


@pytest.fixture
def stranger_client(db):
    return factories.make_client()


@pytest.fixture
def stranger_freelancer(db):
    return factories.make_published_freelancer()


# --- escrow ---------------------------------------------------------------------------------------

VISA = "4242424242424242"
DECLINED = "4000000000000002"


def save_card(user, number: str = VISA):
    from payments import services as payment_services
    from payments.gateways.base import CardInput

    return payment_services.payment_method_add(
        actor=user, card=CardInput(number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123")
    )


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


@pytest.fixture
def funded(hire, local_gateway):
    """A fixed contract ($500 and $1,000 milestones) whose first milestone is funded."""
    contract = hire.contract()
    save_card(hire.client)
    first = contract.milestones.order_by("pk").first()
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk])
    first.refresh_from_db()
    return contract, first
