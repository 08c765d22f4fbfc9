"""Thin Celery tasks of reviews: take ids, re-read, call a service; safe to run twice."""

from celery import shared_task


@shared_task(name="reviews.send_feedback_requests")
def send_feedback_requests() -> int:
    """Every 15 minutes: ask both sides of a newly ended contract for feedback (once each)."""
    from .services import feedback_requests_send

    return feedback_requests_send()


@shared_task(name="reviews.reveal_due_reviews")
def reveal_due_reviews() -> int:
    """Every 15 minutes: reveal the reviews whose contract's feedback window has closed."""
    from .services import reviews_reveal_due

    return reviews_reveal_due()


@shared_task(name="reviews.refresh_reputation")
def refresh_reputation() -> dict[str, int]:
    """Daily: recompute every Job Success Score (one snapshot per freelancer and day), the
    badges (granted and lost by their rules) and the client stats. Safe to run twice."""
    from .reputation import refresh_all

    return refresh_all()
