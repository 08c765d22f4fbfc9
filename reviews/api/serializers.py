"""Serializers of the reviews API. Public reviews (``PublicReviewSerializer``) are built
from ``reviews.selectors.ReviewCard`` and have no private field; only the author's own
review (``OwnReviewSerializer``) carries the private note and the recommend score."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Review


class PublicReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Review.Direction.choices)
    rating = serializers.IntegerField(help_text="overall, 1-5")
    categories = serializers.SerializerMethodField()
    public_comment = serializers.CharField()
    reviewer_name = serializers.CharField()
    reviewee_name = serializers.CharField()
    contract_id = serializers.IntegerField()
    contract_title = serializers.CharField()
    contract_type = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    revealed_at = serializers.DateTimeField()
    earned_cents = serializers.IntegerField(allow_null=True, help_text="fixed price: paid to the freelancer")
    hours = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text="hourly: billed"
    )
    rate_cents = serializers.IntegerField(allow_null=True, help_text="hourly: the contract's rate")
    currency = serializers.CharField()
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    can_reply = serializers.BooleanField(help_text="the caller may reply to it now")
    can_report = serializers.BooleanField(help_text="the caller may report it (signed in, not its author)")

    def get_categories(self, obj) -> list[dict]:
        return [{"label": label, "score": score} for label, score in obj.categories]


class OwnReviewSerializer(serializers.ModelSerializer):
    """The caller's own review, private parts included."""

    class Meta:
        model = Review
        fields = [
            "id",
            "contract_id",
            "direction",
            "rating",
            "categories",
            "public_comment",
            "private_note",
            "recommend_score",
            "submitted_at",
            "revealed_at",
            "reply",
            "replied_at",
            "hidden_at",
            "hidden_reason",
        ]
        read_only_fields = fields


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(help_text="overall, 1-5")
    categories = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="about a freelancer: skills, quality, availability, deadlines, communication, cooperation; "
        "about a client: clarity, communication, payment, cooperation; each 1-5",
    )
    public_comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    private_note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="to the marketplace only"
    )
    recommend_score = serializers.IntegerField(help_text="private, 0-10")


class ReplyInputSerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=1000)


class ContractFeedbackSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField(source="contract.pk")
    window_ends_at = serializers.DateTimeField(allow_null=True)
    window_open = serializers.BooleanField()
    can_submit = serializers.BooleanField()
    other_submitted = serializers.BooleanField(help_text="the other side has left theirs (maybe hidden)")
    mine = OwnReviewSerializer(allow_null=True)
    theirs = PublicReviewSerializer(source="their_card", allow_null=True, help_text="once revealed")


class PendingFeedbackSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField(source="contract.pk")
    contract_title = serializers.CharField(source="contract.title")
    role = serializers.CharField(help_text="the caller's side")
    other_party_name = serializers.CharField(source="other_party.display_name")
    ended_at = serializers.DateTimeField(source="contract.ended_at")
    window_ends_at = serializers.DateTimeField()
    other_submitted = serializers.BooleanField()
