"""Serializers of the proposals API. Input serializers check the shape only; the services
check the rules and answer with a specific ``code``. Amounts are integer cents."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import Job
from payments.fees import freelancer_earnings

from ..models import ConnectsTransaction, Proposal, ProposalEvent
from ..services import (
    ANSWER_MAX,
    CLIENT_DECLINE_REASONS,
    COVER_LETTER_MAX,
    MAX_ATTACHMENTS,
    MAX_MILESTONES,
    MESSAGE_MAX,
    NOTE_MAX,
    BidInput,
    MilestoneInput,
    ProposalInput,
)


class _JsonListField(serializers.ListField):
    """A list; in a multipart request it may come as one JSON-encoded string."""

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            value = value[0]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise serializers.ValidationError("Send a JSON list.")
        return value


class MilestoneInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True)
    amount_cents = serializers.IntegerField()
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class AnswerInputSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    text = serializers.CharField(max_length=ANSWER_MAX * 2, allow_blank=True, trim_whitespace=False)


class BidInputSerializer(serializers.Serializer):
    """New terms: the bid (``hourly_rate_cents`` on hourly jobs, ``fixed_amount_cents`` on
    fixed-price jobs), the duration and, on a fixed price, milestones that add up to it."""

    duration = serializers.ChoiceField(choices=Job.Duration.choices)
    hourly_rate_cents = serializers.IntegerField(required=False, allow_null=True, default=None)
    fixed_amount_cents = serializers.IntegerField(required=False, allow_null=True, default=None)
    milestones = _JsonListField(
        child=MilestoneInputSerializer(), required=False, default=list, max_length=MAX_MILESTONES * 2
    )

    def _bid_values(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "duration": data["duration"],
            "hourly_rate_cents": data.get("hourly_rate_cents"),
            "fixed_amount_cents": data.get("fixed_amount_cents"),
            "milestones": [MilestoneInput(**m) for m in data.get("milestones") or []],
        }

    def to_bid(self) -> BidInput:
        return BidInput(**self._bid_values())


class ProposalCreateInputSerializer(BidInputSerializer):
    """A proposal, as JSON or multipart (with ``attachments`` files; ``answers`` and
    ``milestones`` then as JSON strings)."""

    job = serializers.CharField(help_text="the job's public id, e.g. ~02a1b2c3d4e5f6a7b8")
    cover_letter = serializers.CharField(max_length=COVER_LETTER_MAX * 4, trim_whitespace=False)
    answers = _JsonListField(child=AnswerInputSerializer(), required=False, default=list, max_length=50)
    portfolio_item_ids = _JsonListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=50
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=MAX_ATTACHMENTS * 2
    )
    agency_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="propose on behalf of one of your agencies"
    )

    def to_input(self) -> ProposalInput:
        data = self.validated_data
        return ProposalInput(
            **self._bid_values(),
            cover_letter=data["cover_letter"],
            answers={a["question_id"]: a["text"] for a in data.get("answers") or []},
            portfolio_item_ids=list(data.get("portfolio_item_ids") or []),
            attachments=list(data.get("attachments") or []),
            agency_id=data.get("agency_id"),
        )


class WithdrawInputSerializer(serializers.Serializer):
    withdraw_reason = serializers.ChoiceField(choices=Proposal.WithdrawReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")


class DeclineInputSerializer(serializers.Serializer):
    decline_reason = serializers.ChoiceField(choices=CLIENT_DECLINE_REASONS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")


class MessageInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MESSAGE_MAX)


# --- output -------------------------------------------------------------------------------------


class ProposalJobRefSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(help_text="draft, open, closed, filled or cancelled")
    budget_type = serializers.CharField(help_text="hourly or fixed")
    url = serializers.SerializerMethodField()

    def get_url(self, job: Job) -> str:
        return reverse("jobs:detail", kwargs={"public_id": job.public_id})


class ProposalFreelancerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    profile_id = serializers.SerializerMethodField(help_text="public id of the freelancer profile")
    title = serializers.SerializerMethodField()
    country = serializers.SerializerMethodField()
    job_success_score = serializers.SerializerMethodField(help_text="0..100; null: new on the marketplace")
    total_earned_cents = serializers.SerializerMethodField()

    def _profile(self, user: Any) -> Any:
        return getattr(user, "freelancer_profile", None)

    def get_profile_id(self, user: Any) -> str | None:
        profile = self._profile(user)
        return profile.public_id if profile else None

    def get_title(self, user: Any) -> str:
        profile = self._profile(user)
        return profile.title if profile else ""

    def get_country(self, user: Any) -> str:
        profile = self._profile(user)
        return str(profile.country or "") if profile else ""

    def get_job_success_score(self, user: Any) -> int | None:
        profile = self._profile(user)
        return profile.job_success_score if profile else None

    def get_total_earned_cents(self, user: Any) -> int:
        profile = self._profile(user)
        return int(profile.total_earned_cents) if profile else 0


class ProposalMilestoneSerializer(serializers.Serializer):
    description = serializers.CharField()
    amount_cents = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)


class ProposalAnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    question = serializers.CharField(source="question.text")
    text = serializers.CharField()


class ProposalAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    size_bytes = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="download link, for the two parties only")

    def get_url(self, attachment: Any) -> str:
        return reverse(
            "proposals:attachment",
            kwargs={"proposal_id": attachment.proposal_id, "attachment_id": attachment.pk},
        )


class ProposalPortfolioItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    link = serializers.CharField()


class ProposalEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ProposalEvent
        fields = ["kind", "from_status", "to_status", "actor", "data", "created_at"]
        read_only_fields = fields

    def get_actor(self, event: ProposalEvent) -> str | None:
        return event.actor.display_name if event.actor else None


class ProposalSerializer(serializers.Serializer):
    """A proposal as one of its parties sees it. ``connects_spent`` and ``you_receive_cents``
    are the freelancer's, ``match_score``/``match_reasons`` and ``archived`` the client's;
    the other party gets them as null."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    job = ProposalJobRefSerializer()
    freelancer = ProposalFreelancerSerializer()
    status = serializers.CharField(help_text="submitted, shortlisted, hired, declined or withdrawn")
    cover_letter = serializers.CharField()
    hourly_rate_cents = serializers.IntegerField(allow_null=True)
    fixed_amount_cents = serializers.IntegerField(allow_null=True)
    you_receive_cents = serializers.SerializerMethodField(help_text="the bid after the service fee")
    duration = serializers.CharField(help_text="lt1, 1to3, 3to6 or gt6")
    milestones = ProposalMilestoneSerializer(source="milestones.all", many=True)
    answers = ProposalAnswerSerializer(source="answers.all", many=True)
    attachments = ProposalAttachmentSerializer(source="attachments.all", many=True)
    portfolio_items = ProposalPortfolioItemSerializer(source="portfolio_items.all", many=True)
    connects_spent = serializers.SerializerMethodField()
    match_score = serializers.SerializerMethodField(help_text="0..1000")
    match_reasons = serializers.SerializerMethodField()
    archived = serializers.SerializerMethodField()
    offer_pending = serializers.BooleanField()
    decline_reason = serializers.CharField()
    decline_note = serializers.CharField()
    withdraw_reason = serializers.CharField()
    withdraw_note = serializers.CharField()
    conversation_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    client_viewed_at = serializers.DateTimeField(allow_null=True)

    def _is_freelancer(self, proposal: Proposal) -> bool:
        viewer = self.context.get("viewer")
        return viewer is not None and proposal.freelancer_id == viewer.pk

    def get_url(self, proposal: Proposal) -> str:
        return reverse("proposals:detail", kwargs={"proposal_id": proposal.pk})

    def get_you_receive_cents(self, proposal: Proposal) -> int | None:
        return freelancer_earnings(proposal.bid_cents).net_cents if self._is_freelancer(proposal) else None

    def get_connects_spent(self, proposal: Proposal) -> int | None:
        return proposal.connects_spent if self._is_freelancer(proposal) else None

    def get_match_score(self, proposal: Proposal) -> int | None:
        return None if self._is_freelancer(proposal) else proposal.match_score

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_match_reasons(self, proposal: Proposal) -> list[str] | None:
        return None if self._is_freelancer(proposal) else list(proposal.match_reasons or [])

    def get_archived(self, proposal: Proposal) -> bool | None:
        return None if self._is_freelancer(proposal) else proposal.archived


class ProposalDetailSerializer(ProposalSerializer):
    events = ProposalEventSerializer(source="events.all", many=True)


class ConnectsPackSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()
    price_cents = serializers.IntegerField()


class ConnectsBalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    next_grant = serializers.DateField()
    monthly_grant = serializers.IntegerField()
    rollover_cap = serializers.IntegerField()
    costs = serializers.DictField(child=serializers.IntegerField(), help_text="Connects per job size")
    purchase_available = serializers.BooleanField(help_text="packs can be bought with a saved card")
    packs = ConnectsPackSerializer(many=True, help_text="the packs on sale (POST connects/purchase/)")


class ConnectsPurchaseInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="one of the packs: 10, 20, 40 or 80 by default")
    purchase_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="8-64 letters, digits, _ or -; the same key and pack is one payment (generated when left out)",
    )
    payment_method_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="a saved card; the default card when left out"
    )


class ConnectsPurchaseSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()
    price_cents = serializers.IntegerField()
    status = serializers.CharField(
        help_text="succeeded (Connects added) or reserved (processing: added when the payment completes)"
    )
    charge_id = serializers.IntegerField()
    purchase_key = serializers.CharField()
    balance = serializers.IntegerField(help_text="the Connects balance after the purchase")


class ConnectsTransactionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="monthly, welcome, admin, purchase, spend or refund")
    job = serializers.SerializerMethodField()

    class Meta:
        model = ConnectsTransaction
        fields = ["id", "kind", "amount", "balance_after", "note", "proposal_id", "job", "created_at"]
        read_only_fields = fields

    @extend_schema_field(ProposalJobRefSerializer(allow_null=True))
    def get_job(self, row: ConnectsTransaction) -> dict[str, Any] | None:
        return dict(ProposalJobRefSerializer(row.job).data) if row.job else None
