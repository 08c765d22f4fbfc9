"""Thin Celery tasks of contracts: take ids, re-read, call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="contracts.expire_offers")
def expire_offers() -> int:
    """Hourly: pending offers past their date become expired (their clients are told)."""
    from .services import offers_expire_due

    return offers_expire_due()


@shared_task(name="contracts.auto_approve_milestones")
def auto_approve_milestones() -> dict[str, int]:
    """Hourly: reminders 7 and 12 days after a submission, approval after AUTO_APPROVE_DAYS."""
    from .escrow import milestones_auto_approve_due

    return milestones_auto_approve_due()


@shared_task(name="contracts.refund_milestone")
def refund_milestone(milestone_id: int) -> int | None:
    """Send the refund reserved on a milestone (contract ended); idempotent by key."""
    from .escrow import milestone_refund_reserved

    refund = milestone_refund_reserved(milestone_id=milestone_id)
    return refund.pk if refund is not None else None


@shared_task(name="contracts.settle_bonus")
def settle_bonus(bonus_id: int) -> None:
    """Release a charged bonus to the freelancer (idempotent)."""
    from .escrow import bonus_settle

    bonus_settle(bonus_id=bonus_id)
