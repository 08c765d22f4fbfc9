"""Write use cases of reviews: submit, reveal, reply, hide and show again, and the two beat
jobs (ask both sides for feedback when a contract ends; reveal when the window closes).

Double-blind: a review is stored hidden (``revealed_at`` null). The second side's submission
reveals both in the same transaction; otherwise ``reviews_reveal_due`` reveals what was left
when the contract's window (``REVIEW_WINDOW_DAYS`` after it ended) closes. A review is final
once submitted (the form says so); the reviewed party may reply once, within
``REVIEW_REPLY_DAYS`` of the reveal. Staff hide a review that breaks the rules, with a reason
logged in ``ReviewEvent`` (and the admin log); both sides are told.

Locks: a submission locks the contract row (``FOR NO KEY UPDATE``, which does not block
other inserts referring to it), so that two sides submitting at the same moment are
serialised and exactly one of them reveals both; everything else locks the review row.

Contracts know nothing of reviews: the window is derived from ``Contract.ended_at``, and
the feedback request is a beat task, not a hook in ``contract_end``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import require_can_act
from contracts.models import Contract
from marketplace.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    field_error,
)
from marketplace.ids import as_id
from messaging import services as messaging
from messaging.models import Notification, NotificationKind

from . import selectors
from .models import Review, ReviewEvent

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
NOTE_MAX = 2000
REPLY_MAX = 1000
REASON_MAX = 500


class EventKind:
    """``ReviewEvent.kind`` values."""

    SUBMITTED = "submitted"  # by its author, hidden from the other side
    REVEALED = "revealed"  # both submitted, or the window closed (actor: None)
    REPLIED = "replied"  # the reviewed party's public answer
    HIDDEN = "hidden"  # by staff, with the reason in ``note``
    SHOWN = "shown"  # staff undid a hide


@dataclass
class ReviewInput:
    rating: Any
    categories: dict[str, Any] = field(default_factory=dict)
    public_comment: str = ""
    private_note: str = ""
    recommend_score: Any = None


def _pk(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "")
    return as_id(text) or 0


def contract_url(contract_id: int) -> str:
    return reverse("contracts:detail", kwargs={"contract_id": contract_id})


def feedback_url(contract_id: int) -> str:
    return reverse("reviews:leave", kwargs={"contract_id": contract_id})


def _score(value: Any, *, low: int, high: int, field_name: str, label: str) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value is not None and str(value).strip() != "" else None
    except ValueError:
        number = None
    if number is None:
        raise field_error(f"Give {label} a score from {low} to {high}.", f"{field_name}_required", field_name)
    if not low <= number <= high:
        raise field_error(
            f"{label[:1].upper()}{label[1:]} must be from {low} to {high}.",
            f"{field_name}_out_of_range",
            field_name,
        )
    return number


def _text(value: Any, *, limit: int, field_name: str, label: str) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise field_error(f"{label} is limited to {limit} characters.", f"{field_name}_too_long", field_name)
    return text


def clean_input(data: ReviewInput, direction: str) -> dict[str, Any]:
    """Check a review's fields; raises ``ApplicationError`` naming the field at fault."""
    rating = _score(data.rating, low=1, high=5, field_name="rating", label="the overall rating")
    raw = data.categories if isinstance(data.categories, dict) else None
    if raw is None:
        raise field_error("Rate each category from 1 to 5.", "categories_required", "categories")
    expected = selectors.categories_for(direction)
    unknown = sorted(set(raw) - {key for key, _ in expected})
    if unknown:
        raise field_error(
            f"Unknown categories: {', '.join(map(str, unknown))}.", "categories_unknown", "categories"
        )
    categories: dict[str, int] = {}
    for key, label in expected:
        if raw.get(key) in (None, ""):
            raise field_error(
                f"Rate “{label}” from 1 to 5.", "categories_required", "categories", category=key
            )
        try:
            categories[key] = _score(raw[key], low=1, high=5, field_name="categories", label=f"“{label}”")
        except ApplicationError as error:
            error.extra["category"] = key
            raise
    return {
        "rating": rating,
        "categories": categories,
        "public_comment": _text(
            data.public_comment, limit=COMMENT_MAX, field_name="public_comment", label="The public comment"
        ),
        "private_note": _text(
            data.private_note, limit=NOTE_MAX, field_name="private_note", label="The private note"
        ),
        "recommend_score": _score(
            data.recommend_score,
            low=0,
            high=10,
            field_name="recommend_score",
            label="how likely you are to recommend them",
        ),
    }


def _event(review: Review, kind: str, actor: User | None = None, note: str = "") -> None:
    ReviewEvent.objects.create(review=review, kind=kind, actor=actor, note=note[:500])


def refresh_reputation_on_commit(user_ids: Iterable[int]) -> None:
    """Once committed, recompute the figures of the people whose public reviews changed,
    through ``reviews.reputation.refresh_for_user`` (the scores' owner). A failure there
    is logged: the review itself is already saved."""
    ids = sorted({int(i) for i in user_ids})

    def run() -> None:
        try:
            from . import reputation
        except ImportError:
            return
        refresh = getattr(reputation, "refresh_for_user", None)
        if refresh is None:
            return
        for user_id in ids:
            try:
                refresh(user_id=user_id)
            except Exception:
                log.exception("reputation refresh failed for user %s", user_id)

    transaction.on_commit(run)


def _notify(recipient_id: int, text: str, url: str, subject: Any = None) -> None:
    messaging.notify_on_commit(
        recipient_id=recipient_id, kind=NotificationKind.REVIEW, text=text, url=url, subject=subject
    )


def _reveal(review: Review, now: datetime) -> None:
    """Make a locked hidden review public and tell its reviewee."""
    review.revealed_at = now
    review.save(update_fields=["revealed_at"])
    _event(review, EventKind.REVEALED)
    _notify(
        review.reviewee_id,
        f"{review.reviewer.display_name} left you feedback on “{review.contract.title}”: "
        f"{review.rating} of 5.",
        contract_url(review.contract_id),
        review,
    )


# --- submit --------------------------------------------------------------------------------------------


@transaction.atomic
def review_submit(*, actor: User, contract_id: Any, data: ReviewInput) -> Review:
    """Leave feedback on an ended contract, once, within its window. Hidden from the other
    side until they leave theirs (then both are revealed now) or the window closes."""
    require_can_act(actor)
    contract = (
        Contract.objects.select_for_update(no_key=True)
        .select_related("client", "freelancer")
        .filter(pk=_pk(contract_id))
        .filter(Q(client=actor) | Q(freelancer=actor))
        .first()
    )
    if contract is None:
        raise NotFoundError("No such contract.")
    if contract.status != Contract.Status.ENDED:
        raise ApplicationError(
            "You can leave feedback once the contract has ended.", code="contract_not_ended"
        )
    now = timezone.now()
    if not selectors.window_is_open(contract, now):
        raise ApplicationError(
            f"The {selectors.window_days()}-day feedback window of this contract has closed.",
            code="feedback_window_closed",
        )
    direction = selectors.direction_for(contract, actor)
    assert direction is not None  # a party, checked above
    if Review.objects.filter(contract=contract, reviewer=actor).exists():
        raise ConflictError("You have already left feedback on this contract.", code="already_reviewed")
    values = clean_input(data, direction)
    reviewee = contract.freelancer if direction == Review.Direction.CLIENT_TO_FREELANCER else contract.client
    try:
        with transaction.atomic():
            review = Review.objects.create(
                contract=contract,
                reviewer=actor,
                reviewee=reviewee,
                direction=direction,
                submitted_at=now,
                **values,
            )
    except IntegrityError as error:  # the unique constraint, should the check above race
        raise ConflictError(
            "You have already left feedback on this contract.", code="already_reviewed"
        ) from error
    _event(review, EventKind.SUBMITTED, actor)
    other = (
        Review.objects.select_for_update(no_key=True)
        .select_related("reviewer", "contract")
        .filter(contract=contract, revealed_at__isnull=True)
        .exclude(pk=review.pk)
        .first()
    )
    if other is not None:
        review.contract = contract
        _reveal(review, now)
        _reveal(other, now)
        refresh_reputation_on_commit([review.reviewee_id, other.reviewee_id])
    else:
        _notify(
            reviewee.pk,
            f"{actor.display_name} left feedback on “{contract.title}”. Leave yours to see it; "
            f"both are shown when you do, or when the window closes.",
            feedback_url(contract.pk),
            contract,
        )
    return review


# --- reply ---------------------------------------------------------------------------------------------


@transaction.atomic
def review_reply(*, actor: User, review_id: Any, text: Any) -> Review:
    """The reviewed party's one public answer, within the reply window of the reveal."""
    require_can_act(actor)
    review = (
        Review.objects.select_for_update(no_key=True)
        .select_related("contract", "reviewer")
        .filter(pk=_pk(review_id))
        .filter(Q(reviewer=actor) | (Q(reviewee=actor) & selectors.visible_q()))
        .first()
    )
    if review is None:
        raise NotFoundError("No such review.", code="review_not_found")
    if review.reviewee_id != actor.pk:
        raise PermissionDeniedError("Only the person reviewed can reply.", code="not_reviewee")
    if review.replied_at is not None:
        raise ConflictError("You have already replied to this review.", code="already_replied")
    now = timezone.now()
    ends = selectors.reply_ends_at(review)
    if ends is None or now >= ends:
        raise ApplicationError(
            f"Replies are possible for {selectors.reply_days()} days after the review is shown.",
            code="reply_window_closed",
        )
    body = _text(text, limit=REPLY_MAX, field_name="reply", label="The reply")
    if not body:
        raise field_error("Write your reply.", "reply_required", "reply")
    review.reply, review.replied_at = body, now
    review.save(update_fields=["reply", "replied_at"])
    _event(review, EventKind.REPLIED, actor)
    _notify(
        review.reviewer_id,
        f"{actor.display_name} replied to your feedback on “{review.contract.title}”.",
        contract_url(review.contract_id),
        review,
    )
    return review


# --- staff moderation ------------------------------------------------------------------------------------


def _staff_review_for_update(actor: User, review_id: Any) -> Review:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can moderate reviews.", code="staff_only")
    review = (
        Review.objects.select_for_update(no_key=True)
        .select_related("contract", "reviewer", "reviewee")
        .filter(pk=_pk(review_id))
        .first()
    )
    if review is None:
        raise NotFoundError("No such review.", code="review_not_found")
    return review


@transaction.atomic
def review_hide(*, actor: User, review_id: Any, reason: Any) -> Review:
    """Staff take a review down (it breaks the rules): gone from profiles, the job pages and
    the figures; the reason is logged and both sides are told."""
    review = _staff_review_for_update(actor, review_id)
    why = _text(reason, limit=REASON_MAX, field_name="reason", label="The reason")
    if not why:
        raise field_error("Say why the review is hidden; both sides are told.", "reason_required", "reason")
    if review.hidden_at is not None:
        raise ConflictError("This review is already hidden.", code="already_hidden")
    review.hidden_at, review.hidden_by, review.hidden_reason = timezone.now(), actor, why
    review.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _event(review, EventKind.HIDDEN, actor, why)
    title = review.contract.title
    _notify(
        review.reviewer_id,
        f"Your feedback on “{title}” was hidden by the marketplace: {why}",
        contract_url(review.contract_id),
        review,
    )
    _notify(
        review.reviewee_id,
        f"Feedback about you on “{title}” was hidden by the marketplace: {why}",
        contract_url(review.contract_id),
        review,
    )
    refresh_reputation_on_commit([review.reviewee_id])
    return review


@transaction.atomic
def review_unhide(*, actor: User, review_id: Any, note: Any = "") -> Review:
    """Staff undo a hide; the review is public again (if it was revealed)."""
    review = _staff_review_for_update(actor, review_id)
    if review.hidden_at is None:
        raise ConflictError("This review is not hidden.", code="not_hidden")
    why = _text(note, limit=REASON_MAX, field_name="note", label="The note")
    review.hidden_at, review.hidden_by, review.hidden_reason = None, None, ""
    review.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _event(review, EventKind.SHOWN, actor, why)
    for user_id in (review.reviewer_id, review.reviewee_id):
        _notify(
            user_id,
            f"The feedback on “{review.contract.title}” is shown again.",
            contract_url(review.contract_id),
            review,
        )
    refresh_reputation_on_commit([review.reviewee_id])
    return review


# --- beat jobs -------------------------------------------------------------------------------------------


def reviews_reveal_due(*, now: datetime | None = None) -> int:
    """Reveal every review whose contract's window has closed (the other side never wrote
    theirs). One short transaction per review; safe to run twice."""
    now = now or timezone.now()
    revealed = 0
    for review_id in list(selectors.reviews_due_for_reveal(now=now).values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            review = (
                Review.objects.select_for_update(no_key=True)
                .select_related("contract", "reviewer")
                .filter(pk=review_id, revealed_at__isnull=True)
                .first()
            )
            if review is None:
                continue
            _reveal(review, now)
            refresh_reputation_on_commit([review.reviewee_id])
            revealed += 1
    return revealed


def _already_asked(contract_ids: list[int]) -> set[tuple[int, int]]:
    """(contract id, user id) pairs already asked: the request notification is its own
    marker (kind review, subject the contract). The nudge sent when the other side left
    theirs has the same subject and asks the same, so it counts too; the other review
    notifications are about a review."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Contract)
    rows = Notification.objects.filter(
        kind=NotificationKind.REVIEW, subject_type=ct, subject_id__in=contract_ids
    ).values_list("subject_id", "recipient_id")
    return {(int(c), int(u)) for c, u in rows if c is not None}


def feedback_requests_send(*, now: datetime | None = None) -> int:
    """Ask each side of a newly ended contract for feedback (once). Contracts do not call
    reviews: this runs every 15 minutes over the contracts whose window is open."""
    now = now or timezone.now()
    contracts = list(selectors.contracts_awaiting_request(now=now)[:1000])
    if not contracts:
        return 0
    asked = _already_asked([c.pk for c in contracts])
    reviewed = set(Review.objects.filter(contract__in=contracts).values_list("contract_id", "reviewer_id"))
    sent = 0
    for contract in contracts:
        ends = selectors.window_ends_at(contract)
        assert ends is not None  # an ended contract
        for user, other in ((contract.client, contract.freelancer), (contract.freelancer, contract.client)):
            key = (contract.pk, user.pk)
            if key in asked or key in reviewed:
                continue
            notification = messaging.notify(
                recipient=user,
                kind=NotificationKind.REVIEW,
                text=f"“{contract.title}” has ended. Leave feedback for {other.display_name} "
                f"by {ends:%b} {ends.day}.",
                url=feedback_url(contract.pk),
                subject=contract,
            )
            sent += notification is not None
    return sent
