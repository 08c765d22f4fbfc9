"""Reviews in the moderation queue (``accounts.moderation_registry``): hidden and shown
again with the reviews app's own services (``review_hide`` / ``review_unhide``), which also
recompute the reviewee's figures. Only a public review (revealed, not hidden) can be
reported."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts import moderation_registry as registry

from .models import Review


def _hide(actor: Any, review: Review, reason: str) -> None:
    from .services import review_hide

    review_hide(actor=actor, review_id=review.pk, reason=reason)


def _unhide(actor: Any, review: Review) -> None:
    from .services import review_unhide

    review_unhide(actor=actor, review_id=review.pk)


def _snapshot(review: Review) -> str:
    text = f"{review.rating}/5: {review.public_comment}"
    return f"{text}\n\nReply: {review.reply}" if review.reply else text


def register() -> None:
    """Called from ``ReviewsConfig.ready``."""
    registry.register(
        Review,
        registry.Moderated(
            label="review",
            owner=lambda review: review.reviewer,
            snapshot=_snapshot,
            url=lambda review: reverse("admin:reviews_review_change", args=[review.pk]),
            hide=_hide,
            unhide=_unhide,
            is_hidden=lambda review: review.hidden_at is not None,
            visible_to=lambda review, user: review.is_visible,
            notifies_owner=True,  # review_hide / review_unhide tell both sides themselves
        ),
    )
