"""The nightly matching refresh in shards (jobs.tasks.refresh_all_matches and the
jobs.matching refresh_plan / refresh_freelancer_shard / refresh_job_part / refresh_finish
steps): the same rows as the one-process refresh_all, safe to run twice, loud when a
shard's results are missing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from accounts import services as account_services
from accounts.models import Skill
from jobs import matching, services, tasks
from jobs.models import Job, JobMatch
from tests.jobs.conftest import make_job
from tests.jobs.test_matching import make_matched_freelancer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 3, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _small_limits(monkeypatch):
    """Limits that bind on a small population, one clock for both ways of refreshing."""
    monkeypatch.setattr(matching, "TOP_PER_JOB", 2)
    monkeypatch.setattr(matching, "TOP_PER_FREELANCER", 2)
    monkeypatch.setattr(matching.timezone, "now", lambda: NOW)
    cache.clear()
    yield
    cache.clear()


def ids(*names: str) -> list[int]:
    return [Skill.objects.get(name=name).pk for name in names]


@pytest.fixture
def population(client_user):
    """Seven freelancers and five jobs whose prefilters overlap, with ties in the scores."""
    freelancers = [
        make_matched_freelancer(skills=skills, rate=rate, level=level)
        for skills, rate, level in [
            (("Python",), 5000, "intermediate"),
            (("Python", "Django"), 6000, "expert"),
            (("Django",), 4000, "entry"),
            (("Python",), 5000, "intermediate"),  # the same as the first: ties
            (("Django", "Python"), 9000, "expert"),
            (("Python",), 2000, "entry"),
            (("Django",), 5000, "intermediate"),
        ]
    ]
    jobs = [
        make_job(client_user, title="Django booking site"),
        make_job(client_user, title="Python data pipeline", skill_ids=ids("Python")),
        make_job(client_user, title="Django and Python API", skill_ids=ids("Django", "Python")),
        make_job(client_user, title="Invite-only Django work", visibility=Job.Visibility.INVITE_ONLY),
        make_job(client_user, title="Another Django site", skill_ids=ids("Django")),
    ]
    return freelancers, jobs


def snapshot() -> list[tuple]:
    return sorted(JobMatch.objects.values_list("freelancer_id", "job_id", "score", "reasons", "computed_at"))


def sharded(shard_size: int, parts: int) -> None:
    plan = matching.refresh_plan(shard_size=shard_size, parts=parts)
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    for index, (first, last) in enumerate(plan["shards"]):
        matching.refresh_freelancer_shard(index=index, first_id=first, last_id=last, **run)
    for part in range(parts):
        matching.refresh_job_part(part=part, shards=len(plan["shards"]), **run)
    matching.refresh_finish(shards=len(plan["shards"]), **run)


@pytest.mark.parametrize(("shard_size", "parts"), [(1, 1), (2, 3), (3, 2), (100, 4)])
def test_the_sharded_refresh_writes_what_refresh_all_writes(population, shard_size, parts):
    kept = matching.refresh_all()
    expected = snapshot()
    JobMatch.objects.all().delete()

    sharded(shard_size, parts)

    assert kept == len(expected) > 0
    assert snapshot() == expected
    # the limits bound: some pairs scored were left out
    assert len(expected) < len(population[0]) * len(population[1])


def test_the_nightly_task_runs_the_shards_and_cleans_up(population, monkeypatch):
    matching.refresh_all()
    expected = snapshot()
    stale = JobMatch.objects.first()
    JobMatch.objects.filter(pk=stale.pk).update(computed_at=datetime(2020, 1, 1, tzinfo=UTC))
    JobMatch.objects.exclude(pk=stale.pk).delete()
    monkeypatch.setattr(matching, "SHARD_FREELANCERS", 3)
    monkeypatch.setattr(matching, "JOB_PARTS", 2)

    run = tasks.refresh_all_matches.delay().get()

    assert snapshot() == expected
    assert cache.get(f"jobs:matching:run:{run}:context") is None  # the run's entries are gone
    assert cache.get(f"jobs:matching:run:{run}:heaps:0:0") is None


def test_every_step_is_safe_to_run_twice(population):
    plan = matching.refresh_plan(shard_size=3, parts=2)
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    for _ in range(2):
        for index, (first, last) in enumerate(plan["shards"]):
            matching.refresh_freelancer_shard(index=index, first_id=first, last_id=last, **run)
    once = None
    for _ in range(2):
        for part in range(2):
            matching.refresh_job_part(part=part, shards=len(plan["shards"]), **run)
        once = once or snapshot()
        assert snapshot() == once
    assert matching.refresh_finish(shards=len(plan["shards"]), **run) == len(once)
    assert matching.refresh_finish(shards=len(plan["shards"]), **run) == len(once)


def test_a_job_part_refuses_to_run_without_every_shards_results(population):
    plan = matching.refresh_plan(shard_size=3, parts=2)
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    first, last = plan["shards"][0]
    matching.refresh_freelancer_shard(index=0, first_id=first, last_id=last, **run)

    with pytest.raises(RuntimeError, match="shard results missing"):
        matching.refresh_job_part(part=0, shards=len(plan["shards"]), **run)


def test_the_finish_drops_closed_jobs_unpublished_profiles_and_old_rows(population, client_user):
    freelancers, jobs = population
    plan = matching.refresh_plan(shard_size=4, parts=2)
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    for index, (first, last) in enumerate(plan["shards"]):
        matching.refresh_freelancer_shard(index=index, first_id=first, last_id=last, **run)
    for part in range(2):
        matching.refresh_job_part(part=part, shards=len(plan["shards"]), **run)
    services.job_close(actor=client_user, job_id=jobs[0].pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    account_services.freelancer_profile_unpublish(actor=freelancers[1])

    matching.refresh_finish(shards=len(plan["shards"]), **run)

    assert not JobMatch.objects.filter(job=jobs[0]).exists()
    assert not JobMatch.objects.filter(freelancer=freelancers[1].freelancer_profile).exists()
    assert JobMatch.objects.exists()
