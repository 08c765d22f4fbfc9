"""Thin Celery tasks of contracts: take ids, re-read, call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="contracts.expire_offers")
def expire_offers() -> int:
    """Hourly: pending offers past their date become expired (their clients are told)."""
    from .services import offers_expire_due

    return offers_expire_due()
