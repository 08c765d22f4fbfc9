"""Thin Celery tasks of the community app; safe to run twice."""

from celery import shared_task


@shared_task(name="community.send_event_reminders")
def send_event_reminders() -> dict[str, int]:
    """Every 5 minutes: remind registered members a day and an hour before an event (each
    reminder once per registration, claimed by a conditional UPDATE)."""
    from .events import event_reminders_send

    return event_reminders_send()
