"""Two-way, double-blind reviews after a contract ends, and the reputation history.

When a contract ends, each side has ``REVIEW_WINDOW_DAYS`` to review the other. A review
stays hidden from the other side until both have submitted or the window has closed
(``revealed_at`` is then set, by the second submission or by a beat task); from then on
it is final, and the reviewed party may post one public reply within the reply window.
Staff may hide a review that breaks the rules (reason logged, both sides told).

Reputation figures that others rank or display by (Job Success Score, ratings, badges,
client stats) live on the profiles in ``accounts`` and are written by
``reviews.reputation``; ``JobSuccessSnapshot`` keeps each freelancer's score over time so
that badges can look at the last 16 weeks and the freelancer can see what moved it.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Review(models.Model):
    class Direction(models.TextChoices):
        CLIENT_TO_FREELANCER = "client_to_freelancer", "Client about freelancer"
        FREELANCER_TO_CLIENT = "freelancer_to_client", "Freelancer about client"

    # the categories each side is rated on (1-5 each), stored in ``categories``
    FREELANCER_CATEGORIES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("skills", "Skills"),
        ("quality", "Quality of work"),
        ("availability", "Availability"),
        ("deadlines", "Adherence to deadlines"),
        ("communication", "Communication"),
        ("cooperation", "Cooperation"),
    )
    CLIENT_CATEGORIES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("clarity", "Clarity of requirements"),
        ("communication", "Communication"),
        ("payment", "Payment promptness"),
        ("cooperation", "Cooperation"),
    )

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_given"
    )
    reviewee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_received"
    )
    direction = models.CharField(max_length=20, choices=Direction.choices)
    rating = models.PositiveSmallIntegerField()  # overall, 1-5
    categories = models.JSONField(default=dict)  # {"skills": 5, ...}
    public_comment = models.TextField(max_length=2000, blank=True)
    private_note = models.TextField(max_length=2000, blank=True)  # to the platform only
    # private "would you recommend" 0-10, never shown to the other side (feeds the JSS)
    recommend_score = models.PositiveSmallIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    revealed_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(max_length=1000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering: ClassVar = ["-submitted_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contract", "reviewer"], name="one_review_per_side"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_range"),
            models.CheckConstraint(
                condition=Q(recommend_score__isnull=True) | Q(recommend_score__lte=10),
                name="review_recommend_range",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["reviewee", "-revealed_at"], name="review_reviewee_idx"),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk}: {self.rating}/5 on contract {self.contract_id}"

    @property
    def is_visible(self) -> bool:
        """Public: revealed and not hidden by staff."""
        return self.revealed_at is not None and self.hidden_at is None


class ReviewEvent(models.Model):
    """Submitted, revealed, replied, hidden, shown: who and when."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on review {self.review_id}"


class JobSuccessSnapshot(models.Model):
    """A freelancer's Job Success Score as computed on one day, with its components."""

    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jss_history"
    )
    computed_on = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # null: not enough history
    window_months = models.PositiveSmallIntegerField(null=True, blank=True)  # the window that won
    components = models.JSONField(default=dict)  # outcomes counted, what raised or lowered it

    class Meta:
        ordering: ClassVar = ["-computed_on"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["freelancer", "computed_on"], name="one_jss_per_day"),
        ]

    def __str__(self) -> str:
        return f"JSS {self.score} for {self.freelancer_id} on {self.computed_on}"
