"""Fixtures for reviews tests: contracts are hired and ended through the real services."""

from __future__ import annotations

import pytest

from contracts import services as contract_services
from contracts.models import Contract
from reviews.services import ReviewInput
from tests.contracts.conftest import Hire, local_gateway  # noqa: F401 - a fixture for the escrow tests

SECRET_NOTE = "PRIVATE-NOTE-7f3a do not show this"


def end_contract(contract: Contract, actor=None) -> Contract:
    return contract_services.contract_end(
        actor=actor or contract.client, contract_id=contract.pk, reason="completed", note=""
    )


def about_freelancer(**overrides) -> ReviewInput:
    """The client's review of the freelancer."""
    values = {
        "rating": 5,
        "categories": {
            "skills": 5,
            "quality": 5,
            "availability": 4,
            "deadlines": 5,
            "communication": 5,
            "cooperation": 5,
        },
        "public_comment": "Delivered the booking site early and well.",
        "private_note": SECRET_NOTE,
        "recommend_score": 10,
    }
    values.update(overrides)
    return ReviewInput(**values)


def about_client(**overrides) -> ReviewInput:
    """The freelancer's review of the client."""
    values = {
        "rating": 4,
        "categories": {"clarity": 4, "communication": 5, "payment": 5, "cooperation": 4},
        "public_comment": "Clear brief, paid on time.",
        "private_note": SECRET_NOTE,
        "recommend_score": 9,
    }
    values.update(overrides)
    return ReviewInput(**values)


class Ended:
    """An ended fixed-price contract between a client and a freelancer."""

    def __init__(self, *, hourly: bool = False) -> None:
        self.hire = Hire(hourly=hourly)
        self.client = self.hire.client
        self.freelancer = self.hire.freelancer
        self.job = self.hire.job
        self.contract = end_contract(self.hire.contract())

    def next_job(self):
        """Another open job of the same client (the hired one is no longer listed)."""
        from tests.jobs.conftest import make_job

        return make_job(self.client, title="Second booking site: payments and reports")


def ended_for(freelancer) -> Contract:
    """An ended contract of ``freelancer`` with a new client."""
    from contracts import services as contract_services
    from tests import factories
    from tests.contracts.conftest import invite, make_proposal, offer_from_proposal
    from tests.jobs.conftest import make_job

    job = make_job(factories.make_client())
    invite(job, freelancer)  # an invited freelancer applies without spending Connects
    offer = offer_from_proposal(make_proposal(job, freelancer))
    return end_contract(contract_services.offer_accept(actor=freelancer, offer_id=offer.pk))


@pytest.fixture
def ended(db) -> Ended:
    return Ended()
