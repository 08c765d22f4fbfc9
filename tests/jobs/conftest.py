"""Fixtures for jobs tests: jobs are created and published through the real services."""

from __future__ import annotations

import pytest

from accounts.models import Skill
from jobs import services
from jobs.models import Job
from jobs.services import JobInput
from tests import factories


def _ensure_taxonomy() -> None:
    """Transactional tests (threads on PostgreSQL) flush every table when they end, including
    the taxonomy a data migration loaded; load it again for the tests that follow."""
    if not Skill.objects.filter(name="Python").exists():
        from accounts.models import Category, Subcategory
        from accounts.taxonomy import sync_taxonomy

        sync_taxonomy(Category, Subcategory, Skill)


def job_input(**overrides) -> JobInput:
    """A valid fixed-price job document; override any field."""
    _ensure_taxonomy()
    skill = Skill.objects.get(name="Python")
    values = {
        "title": "Build a Django booking site",
        "description": "We need a small booking website built with Django and PostgreSQL. " * 2,
        "category_id": skill.subcategory.category_id,
        "subcategory_id": skill.subcategory_id,
        "skill_ids": [skill.pk],
        "budget_type": Job.BudgetType.FIXED,
        "fixed_budget_cents": 150_000,
    }
    values.update(overrides)
    return JobInput(**values)


def make_job(client=None, *, publish: bool = True, **overrides) -> Job:
    client = client or factories.make_client()
    job = services.job_create(actor=client, data=job_input(**overrides))
    if publish:
        job = services.job_publish(actor=client, job_id=job.pk)
    job.refresh_from_db()
    return job


# a description with none of the words the search tests look for
DESCRIPTION = "We need help with a well-defined piece of work, described in detail on a call. " * 2


def plain_job(client=None, **overrides) -> Job:
    """A job whose text mentions none of the keywords the tests search for."""
    skill = Skill.objects.get(name="Copywriting")
    values = {
        "title": "Write product texts for our shop",
        "description": DESCRIPTION,
        "category_id": skill.subcategory.category_id,
        "subcategory_id": skill.subcategory_id,
        "skill_ids": [skill.pk],
    }
    values.update(overrides)
    return make_job(client, **values)


@pytest.fixture
def open_job(db, client_user) -> Job:
    return make_job(client_user)


@pytest.fixture
def draft_job(db, client_user) -> Job:
    return make_job(client_user, publish=False)
