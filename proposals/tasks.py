"""Thin Celery tasks of proposals: safe to run twice."""

from celery import shared_task


@shared_task(name="proposals.grant_monthly_connects")
def grant_monthly_connects() -> int:
    """Daily (beat): this month's Connects for every freelancer not granted yet."""
    from .services import connects_grant_monthly_all

    return connects_grant_monthly_all()
