"""Fixtures for proposals: jobs published and proposals sent through the real services."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from jobs.models import Job
from proposals import services
from proposals.models import ConnectsWallet, Proposal
from proposals.services import MilestoneInput, ProposalInput
from tests import factories
from tests.jobs.conftest import make_job

COVER_LETTER = "I have built three booking sites with Django and PostgreSQL; here is how I would start yours."


@pytest.fixture(autouse=True)
def _proposals_settings(settings, tmp_path):
    """Private files per test, the default Connects rules, an empty cache (matching's context)."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.CONNECTS_MONTHLY_GRANT = 10
    settings.CONNECTS_ROLLOVER_CAP = 80
    settings.CONNECTS_COST_BY_SIZE = {"small": 2, "medium": 4, "large": 6}
    cache.clear()
    yield
    cache.clear()


def proposal_input(job: Job, **overrides: Any) -> ProposalInput:
    """A valid proposal for ``job`` (its budget type, every screening question answered)."""
    values: dict[str, Any] = {
        "cover_letter": COVER_LETTER,
        "duration": Job.Duration.ONE_TO_THREE,
        "answers": {q.pk: "I built two of them last year." for q in job.questions.all()},
    }
    if job.budget_type == Job.BudgetType.HOURLY:
        values["hourly_rate_cents"] = 4500
    else:
        values["fixed_amount_cents"] = 120_000
    values.update(overrides)
    return ProposalInput(**values)


def submit(freelancer: User, job: Job, **overrides: Any) -> Proposal:
    return services.proposal_submit(actor=freelancer, job_id=job.pk, data=proposal_input(job, **overrides))


def balance_of(user: User) -> int:
    return ConnectsWallet.objects.get(user=user).balance


def set_balance(user: User, balance: int) -> ConnectsWallet:
    """The user's wallet with exactly ``balance`` (its monthly grant already given)."""
    wallet = services.connects_wallet_for(user)
    ConnectsWallet.objects.filter(pk=wallet.pk).update(
        balance=balance, last_monthly_grant=services.month_start()
    )
    wallet.refresh_from_db()
    return wallet


def two_milestones(total: int = 120_000) -> list[MilestoneInput]:
    return [
        MilestoneInput(description="Design and data model", amount_cents=total // 2),
        MilestoneInput(description="Booking flow and launch", amount_cents=total - total // 2),
    ]


def authed(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def browser(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def client_owner(db) -> User:
    return factories.make_client(first_name="Carla", last_name="Client")


@pytest.fixture
def job(client_owner) -> Job:
    """An open, medium, fixed-price job (a proposal costs 4 Connects)."""
    return make_job(client_owner)


@pytest.fixture
def hourly_job(client_owner) -> Job:
    return make_job(
        client_owner,
        title="Maintain our Django shop",
        budget_type=Job.BudgetType.HOURLY,
        hourly_min_cents=3000,
        hourly_max_cents=6000,
        fixed_budget_cents=None,
        questions=["Which Django versions have you upgraded?"],
    )


@pytest.fixture
def pro(db) -> User:
    """A freelancer with a published profile."""
    return factories.make_published_freelancer(first_name="Paula", last_name="Pro")


@pytest.fixture
def other_pro(db) -> User:
    return factories.make_published_freelancer(first_name="Otto", last_name="Other")


@pytest.fixture
def proposal(pro, job) -> Proposal:
    return submit(pro, job)
