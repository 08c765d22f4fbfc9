"""Thin Celery tasks of messaging: take ids, call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="messaging.send_notification_email")
def send_notification_email(notification_id: int) -> bool:
    from .services import notification_email_send

    return notification_email_send(notification_id=notification_id)


@shared_task(name="messaging.send_chat_digests")
def send_chat_digests() -> int:
    """Every minute (beat): email unread chat messages, one email per conversation per 15 minutes."""
    from .services import chat_digests_send_due

    return chat_digests_send_due()


@shared_task(name="messaging.purge_unsent_attachments")
def purge_unsent_attachments() -> int:
    """Hourly (beat): delete files uploaded more than a day ago and never sent."""
    from .services import attachment_purge_unsent

    return attachment_purge_unsent()
