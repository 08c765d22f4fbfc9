"""Input and output serializers of the payments API."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Charge, PaymentMethod, Payout, PayoutMethod, PayoutSchedule, Posting
from ..selectors import USER_ACCOUNT_LABELS


class HoldSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField()
    available_at = serializers.DateTimeField()
    memo = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    available_cents = serializers.IntegerField()
    pending_cents = serializers.IntegerField()
    in_transit_cents = serializers.IntegerField()
    payout_min_cents = serializers.IntegerField()
    holds = HoldSerializer(many=True)


class PayoutMethodSerializer(serializers.ModelSerializer):
    usable = serializers.SerializerMethodField()

    class Meta:
        model = PayoutMethod
        fields = (
            "id",
            "kind",
            "status",
            "label",
            "last4",
            "country",
            "currency",
            "usable_after",
            "usable",
            "created_at",
        )

    def get_usable(self, obj: PayoutMethod) -> bool:
        return obj.is_usable()


class BankAccountInputSerializer(serializers.Serializer):
    holder_name = serializers.CharField(max_length=120)
    routing_number = serializers.CharField(max_length=20)
    account_number = serializers.CharField(max_length=30)
    bank_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=200, trim_whitespace=False, help_text="Your account password, to confirm it is you."
    )


class StripeConnectInputSerializer(serializers.Serializer):
    return_url = serializers.URLField()
    refresh_url = serializers.URLField()
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class StripeConnectOutputSerializer(serializers.Serializer):
    method = PayoutMethodSerializer()
    onboarding_url = serializers.URLField()


class PasswordInputSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class PayoutSerializer(serializers.ModelSerializer):
    method = PayoutMethodSerializer(read_only=True)

    class Meta:
        model = Payout
        fields = (
            "id",
            "amount_cents",
            "currency",
            "status",
            "automatic",
            "method",
            "failure_message",
            "requested_at",
            "paid_at",
            "failed_at",
        )


class WithdrawalInputSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField(min_value=1)
    method_id = serializers.IntegerField(min_value=1)


class PayoutScheduleSerializer(serializers.ModelSerializer):
    method_id = serializers.IntegerField(allow_null=True, required=False)

    class Meta:
        model = PayoutSchedule
        fields = ("frequency", "method_id")


class CardSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ("id", "brand", "last4", "exp_month", "exp_year", "is_default", "created_at")


class CardInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    exp_month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    cvc = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
    token = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A Stripe payment method id (pm_...).",
    )
    make_default = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs):
        if not attrs.get("number") and not attrs.get("token"):
            raise serializers.ValidationError({"number": ["Enter the card number."]})
        return attrs


class ChargeSerializer(serializers.ModelSerializer):
    card = CardSerializer(source="payment_method", read_only=True)
    total_cents = serializers.IntegerField(read_only=True)
    refunded_cents = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Charge
        fields = (
            "id",
            "amount_cents",
            "client_fee_cents",
            "total_cents",
            "refunded_cents",
            "currency",
            "purpose",
            "reference",
            "description",
            "status",
            "failure_message",
            "card",
            "created_at",
            "settled_at",
        )


class TransactionSerializer(serializers.ModelSerializer):
    account = serializers.SerializerMethodField()
    memo = serializers.CharField(source="entry.memo")
    reference = serializers.CharField(source="entry.reference")

    class Meta:
        model = Posting
        fields = ("id", "created_at", "account", "memo", "reference", "amount_cents", "available_at")

    def get_account(self, obj: Posting) -> str:
        return obj.account.kind

    @staticmethod
    def account_label(kind: str) -> str:
        return USER_ACCOUNT_LABELS.get(kind, kind)  # type: ignore[call-overload]
