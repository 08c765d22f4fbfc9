"""Thin Celery tasks of payments: take ids, call a service; safe to run twice
(``task_acks_late`` is on: a task whose worker died runs again)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="payments.process_payout", acks_late=True)
def process_payout(payout_id: int) -> str | None:
    from .services import payout_process

    payout = payout_process(payout_id=payout_id)
    return payout.status if payout is not None else None


@shared_task(name="payments.recover_payout", acks_late=True)
def recover_payout(payout_id: int, failure_message: str) -> str:
    from .services import payout_recover

    return payout_recover(payout_id=payout_id, failure_message=failure_message).status


@shared_task(name="payments.process_webhook_event", acks_late=True)
def process_webhook_event(event_pk: int) -> str:
    from .webhooks import webhook_process

    event = webhook_process(event_pk=event_pk)
    return event.outcome if event is not None else ""


@shared_task(name="payments.release_matured_holds", acks_late=True)
def release_matured_holds() -> int:
    """Every 15 minutes (beat): end security holds whose date has come."""
    from .services import release_matured_holds as release

    return release()


@shared_task(name="payments.run_scheduled_payouts", acks_late=True)
def run_scheduled_payouts() -> int:
    """Daily (beat): automatic weekly/monthly withdrawals."""
    from .services import payouts_run_scheduled

    return payouts_run_scheduled()


@shared_task(name="payments.sweep_stuck_payouts", acks_late=True)
def sweep_stuck_payouts() -> int:
    """Every 10 minutes (beat): payouts whose worker died or that wait for the provider."""
    from .services import payouts_sweep_stuck

    return payouts_sweep_stuck()


@shared_task(name="payments.sweep_reserved_charges", acks_late=True)
def sweep_reserved_charges() -> int:
    """Every 5 minutes (beat): charges and refunds left reserved (retried with their keys)."""
    from .services import charges_sweep_reserved

    return charges_sweep_reserved()


@shared_task(name="payments.sweep_webhook_events", acks_late=True)
def sweep_webhook_events() -> int:
    from .webhooks import webhooks_sweep

    return webhooks_sweep()


@shared_task(name="payments.purge_idempotency_records", acks_late=True)
def purge_idempotency_records() -> int:
    from .idempotency import purge_expired

    return purge_expired()
