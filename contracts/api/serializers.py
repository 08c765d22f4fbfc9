"""Serializers of the offers and contracts API. Inputs check the shape only; the rules are
``contracts.services``'s (their ``ApplicationError`` is the ``{"message", "code", "extra"}``
envelope). Amounts are integer cents. Statuses are plain strings in the output, documented
in ``help_text``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Contract, ContractEvent, ContractType, Milestone, Offer, OfferMilestone
from ..selectors import event_text
from ..services import DESCRIPTION_MAX, MILESTONE_DESCRIPTION_MAX, NOTE_MAX, OFFER_DAYS_MAX, TITLE_MAX


def _values(choices: Any) -> str:
    return ", ".join(value for value, _ in choices)


# --- inputs ---------------------------------------------------------------------------------------------


class ContractMilestoneInputSerializer(serializers.Serializer):
    description = serializers.CharField(allow_blank=True, max_length=MILESTONE_DESCRIPTION_MAX * 2)
    amount_cents = serializers.IntegerField(help_text="above zero")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class OfferCreateInputSerializer(serializers.Serializer):
    """An offer from a proposal (``proposal_id``), or direct (``freelancer_id`` and optionally
    ``job_id``: the freelancer must be invited to one of your jobs or have worked with you)."""

    proposal_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    freelancer_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    job_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    title = serializers.CharField(allow_blank=True, max_length=TITLE_MAX * 2)
    contract_type = serializers.ChoiceField(choices=ContractType.choices)
    hourly_rate_cents = serializers.IntegerField(required=False, allow_null=True, default=None)
    weekly_limit_hours = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="1 to 80; null for no limit"
    )
    manual_time_allowed = serializers.BooleanField(required=False, default=False)
    milestones = ContractMilestoneInputSerializer(many=True, required=False, default=list)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX * 2
    )
    start_date = serializers.DateField()
    expires_in_days = serializers.IntegerField(required=False, default=OFFER_DAYS_MAX, help_text="1 to 14")


class OfferDeclineInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Offer.DeclineReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class OfferWithdrawInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class ContractEndInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Contract.EndReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class ContractWeeklyLimitInputSerializer(serializers.Serializer):
    weekly_limit_hours = serializers.IntegerField(allow_null=True, help_text="1 to 80; null for no limit")


class ContractMilestonePatchSerializer(serializers.Serializer):
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MILESTONE_DESCRIPTION_MAX * 2
    )
    amount_cents = serializers.IntegerField(required=False)
    due_date = serializers.DateField(required=False, allow_null=True)


# --- outputs --------------------------------------------------------------------------------------------


class ContractPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class OfferMilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = OfferMilestone
        fields = ["position", "description", "amount_cents", "due_date"]
        read_only_fields = fields


class OfferSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text=_values(Offer.Status.choices))
    contract_type = serializers.CharField(help_text=_values(ContractType.choices))
    decline_reason = serializers.CharField(help_text=f"blank, or {_values(Offer.DeclineReason.choices)}")
    client = ContractPartySerializer()
    freelancer = ContractPartySerializer()
    job_public_id = serializers.SerializerMethodField()
    milestones = OfferMilestoneSerializer(many=True)
    contract_id = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "url",
            "status",
            "title",
            "contract_type",
            "currency",
            "hourly_rate_cents",
            "weekly_limit_hours",
            "manual_time_allowed",
            "fixed_amount_cents",
            "milestones",
            "description",
            "start_date",
            "expires_at",
            "client",
            "freelancer",
            "job_public_id",
            "proposal_id",
            "decline_reason",
            "decline_note",
            "withdraw_note",
            "created_at",
            "responded_at",
            "contract_id",
        ]
        read_only_fields = fields

    def get_url(self, offer: Offer) -> str:
        return reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})

    def get_job_public_id(self, offer: Offer) -> str | None:
        return offer.job.public_id if offer.job_id and offer.job else None

    def get_contract_id(self, offer: Offer) -> int | None:
        if offer.status != Offer.Status.ACCEPTED:
            return None
        try:
            return offer.contract.pk
        except Contract.DoesNotExist:
            return None


class ContractMilestoneSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text=_values(Milestone.Status.choices))
    added_by_id = serializers.IntegerField(allow_null=True, help_text="null: from the offer")

    class Meta:
        model = Milestone
        fields = [
            "id",
            "position",
            "description",
            "amount_cents",
            "due_date",
            "status",
            "added_by_id",
            "created_at",
        ]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text=_values(Contract.Status.choices))
    contract_type = serializers.CharField(help_text=_values(ContractType.choices))
    end_reason = serializers.CharField(help_text=f"blank, or {_values(Contract.EndReason.choices)}")
    client = ContractPartySerializer()
    freelancer = ContractPartySerializer()
    job_public_id = serializers.SerializerMethodField()
    milestones = ContractMilestoneSerializer(many=True)
    total_cents = serializers.SerializerMethodField(help_text="fixed price: the sum of the milestones")
    url = serializers.SerializerMethodField()
    conversation_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "url",
            "status",
            "title",
            "contract_type",
            "currency",
            "hourly_rate_cents",
            "weekly_limit_hours",
            "manual_time_allowed",
            "total_cents",
            "milestones",
            "description",
            "start_date",
            "client",
            "freelancer",
            "job_public_id",
            "proposal_id",
            "offer_id",
            "conversation_id",
            "started_at",
            "paused_at",
            "ended_at",
            "ended_by_id",
            "end_reason",
            "end_note",
        ]
        read_only_fields = fields

    def get_url(self, contract: Contract) -> str:
        return reverse("contracts:detail", kwargs={"contract_id": contract.pk})

    def get_job_public_id(self, contract: Contract) -> str | None:
        return contract.job.public_id if contract.job_id and contract.job else None

    def get_total_cents(self, contract: Contract) -> int:
        return sum(m.amount_cents for m in contract.milestones.all())


class ContractEventSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=_values(ContractEvent.Kind.choices))
    actor = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()

    class Meta:
        model = ContractEvent
        fields = [
            "id",
            "kind",
            "text",
            "actor",
            "from_status",
            "to_status",
            "milestone_id",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ContractPartySerializer(allow_null=True))
    def get_actor(self, event: ContractEvent) -> dict[str, Any] | None:
        if event.actor is None:
            return None  # the marketplace
        return {"id": event.actor.pk, "name": event.actor.display_name}

    def get_text(self, event: ContractEvent) -> str:
        return event_text(event)
