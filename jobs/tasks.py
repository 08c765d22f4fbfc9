"""Thin Celery tasks of jobs: take ids, re-read, call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="jobs.refresh_matches_for_job")
def refresh_matches_for_job(job_id: int) -> int:
    """Recompute the top freelancers for one job (published, edited or closed)."""
    from . import matching

    return matching.refresh_for_job(job_id=job_id)


@shared_task(name="jobs.refresh_matches_for_freelancer")
def refresh_matches_for_freelancer(profile_id: int) -> int:
    """Recompute the best jobs for one freelancer (profile changed)."""
    from . import matching

    return matching.refresh_for_freelancer(profile_id=profile_id)


@shared_task(name="jobs.refresh_all_matches")
def refresh_all_matches() -> str:
    """Nightly: recompute every match, in shards (see jobs.matching, "the nightly refresh in
    shards"): the freelancer shards in parallel, then (refresh_matches_parts) the job parts,
    then the clean-up. Returns the run's id. ``matching.refresh_all`` does the same in one
    process."""
    from celery import chord

    from . import matching

    plan = matching.refresh_plan()
    run = {"run": plan["run"], "started": plan["started"], "parts": plan["parts"]}
    shards = [
        refresh_matches_shard.si(index=i, first_id=first, last_id=last, **run)
        for i, (first, last) in enumerate(plan["shards"])
    ]
    chord(shards)(refresh_matches_parts.si(shards=len(shards), **run))
    return str(plan["run"])


@shared_task(name="jobs.refresh_matches_parts")
def refresh_matches_parts(*, run: str, started: str, parts: int, shards: int) -> str:
    """After every freelancer shard: the job parts in parallel, then the clean-up."""
    from celery import chord

    info = {"run": run, "started": started, "parts": parts, "shards": shards}
    chord(refresh_matches_part.si(part=p, **info) for p in range(parts))(refresh_matches_finish.si(**info))
    return run


@shared_task(name="jobs.refresh_matches_shard")
def refresh_matches_shard(
    *, run: str, started: str, parts: int, index: int, first_id: int, last_id: int
) -> int:
    """One freelancer shard of the nightly refresh (safe to run twice)."""
    from . import matching

    return matching.refresh_freelancer_shard(
        run=run, started=started, index=index, first_id=first_id, last_id=last_id, parts=parts
    )


@shared_task(name="jobs.refresh_matches_part")
def refresh_matches_part(*, run: str, started: str, parts: int, part: int, shards: int) -> int:
    """One job part of the nightly refresh, after every shard (safe to run twice)."""
    from . import matching

    return matching.refresh_job_part(run=run, started=started, part=part, shards=shards, parts=parts)


@shared_task(name="jobs.refresh_matches_finish")
def refresh_matches_finish(*, run: str, started: str, parts: int, shards: int) -> int:
    """The clean-up of the nightly refresh, after every part (safe to run twice)."""
    from . import matching

    return matching.refresh_finish(run=run, started=started, shards=shards, parts=parts)


@shared_task(name="jobs.expire_invitations")
def expire_invitations() -> int:
    from .services import invitations_expire_due

    return invitations_expire_due()


@shared_task(name="jobs.send_saved_search_alerts")
def send_saved_search_alerts() -> int:
    """Tell freelancers about new jobs matching their saved searches."""
    from .alerts import saved_search_alerts_send

    return saved_search_alerts_send()


@shared_task(name="jobs.sweep_service_orders")
def sweep_service_orders() -> dict[str, int]:
    """Every 10 minutes: catalog orders catch up with their milestones (auto-approval, late
    settlements) and those without requirements 48 h after payment are cancelled and refunded."""
    from . import catalog

    return catalog.orders_sweep()
