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


# --- weekly billing of hourly contracts (contracts.billing) ---


@shared_task(name="contracts.close_timesheets")
def close_timesheets() -> dict[str, int]:
    """Daily 00:30 UTC (Monday: the week just ended; other days: catch-up): close and bill
    every finished week of every hourly contract once."""
    from .billing import timesheets_close_week

    return timesheets_close_week()


@shared_task(name="contracts.retry_timesheet_payments")
def retry_timesheet_payments() -> dict[str, int]:
    """Daily: retry failed weekly payments; pause contracts unpaid after the grace period."""
    from .billing import timesheets_retry_failed

    return timesheets_retry_failed()


@shared_task(name="contracts.release_timesheets")
def release_timesheets() -> int:
    """Hourly: release weeks whose review period (Friday 23:59:59 UTC) has passed."""
    from .billing import timesheets_release_due

    return timesheets_release_due()


@shared_task(name="contracts.finish_timesheet_split")
def finish_timesheet_split(timesheet_id: int, actor_id: int | None = None) -> None:
    """After a dispute's refund settled: release the rest of the week (idempotent)."""
    from accounts.models import User

    from .billing import timesheet_finish_split

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    timesheet_finish_split(timesheet_id=timesheet_id, actor=actor)


@shared_task(name="contracts.resolve_overdue_disputes")
def resolve_overdue_disputes() -> int:
    """Hourly: disputes nobody answered by their date are resolved for the side that answered."""
    from .disputes import disputes_resolve_overdue

    return disputes_resolve_overdue()


@shared_task(name="contracts.settle_timesheet_dispute")
def settle_timesheet_dispute(dispute_id: int) -> None:
    """Carry out a resolved timesheet dispute's split (refund, then release); idempotent."""
    from .disputes import dispute_settle_timesheet

    dispute_settle_timesheet(dispute_id=dispute_id)
