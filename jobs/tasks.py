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
def refresh_all_matches() -> int:
    """Nightly: recompute every open job's matches."""
    from . import matching

    return matching.refresh_all()


@shared_task(name="jobs.expire_invitations")
def expire_invitations() -> int:
    from .services import invitations_expire_due

    return invitations_expire_due()


@shared_task(name="jobs.send_saved_search_alerts")
def send_saved_search_alerts() -> int:
    """Tell freelancers about new jobs matching their saved searches."""
    from .alerts import saved_search_alerts_send

    return saved_search_alerts_send()
