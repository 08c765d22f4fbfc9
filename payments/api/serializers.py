"""Input and output serializers of the payments API."""

from __future__ import annotations

from rest_framework import serializers

from ..history import ACCOUNT_LABELS, Movement, MovementType
from ..models import Charge, Invoice, PaymentMethod, Payout, PayoutMethod, PayoutSchedule, Posting
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
    # required on input: the model's default would otherwise make it optional (and a PUT
    # without it a KeyError)
    frequency = serializers.ChoiceField(choices=PayoutSchedule.Frequency.choices)
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


# --- movements, invoices, statements ----------------------------------------------------------


# Plain strings (not enums) in the schema: "kind" and "account" already name other enums.
KIND_HELP = "payment (a client's charge), earnings (a release to a freelancer) or payout (a withdrawal)."
ACCOUNT_HELP = "One of: " + ", ".join(ACCOUNT_LABELS) + "."


def cents_to_decimal_string(cents: int) -> str:
    """``-1234`` -> ``"-12.34"`` (no floats)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


class MovementSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=MovementType.choices)
    account = serializers.CharField(help_text=ACCOUNT_HELP)
    account_label = serializers.CharField()
    description = serializers.CharField()
    reference = serializers.CharField()
    amount_cents = serializers.IntegerField(help_text="Signed: positive in, negative out.")
    amount = serializers.SerializerMethodField(help_text="The amount as a decimal string (2 places).")
    available_at = serializers.DateTimeField(allow_null=True)
    receipt_kind = serializers.SerializerMethodField()
    receipt_id = serializers.SerializerMethodField()

    def get_amount(self, obj: Movement) -> str:
        return cents_to_decimal_string(obj.amount_cents)

    def get_receipt_kind(self, obj: Movement) -> str | None:
        return obj.receipt[0] if obj.receipt else None

    def get_receipt_id(self, obj: Movement) -> int | None:
        return obj.receipt[1] if obj.receipt else None


class InvoiceLineSerializer(serializers.Serializer):
    item = serializers.CharField(source="label")
    amount_cents = serializers.IntegerField()


class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField(help_text=KIND_HELP)
    issued_at = serializers.DateTimeField()
    title = serializers.CharField(source="doc.title")
    paid_at = serializers.DateTimeField(source="doc.paid_at", allow_null=True)
    description = serializers.CharField(source="doc.description")
    reference = serializers.CharField(source="doc.reference")
    lines = InvoiceLineSerializer(source="doc.lines", many=True)
    total_label = serializers.CharField(source="doc.total_label")
    total_cents = serializers.IntegerField(source="doc.total_cents")
    card = serializers.CharField(source="doc.card")
    paid_to = serializers.CharField(source="doc.paid_to")
    refunded_cents = serializers.IntegerField(source="doc.refunded_cents")


class InvoiceSummarySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=KIND_HELP)

    class Meta:
        model = Invoice
        fields = ("number", "kind", "issued_at")


class InvoiceIssueInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=10, help_text=KIND_HELP)

    def validate_kind(self, value: str) -> str:
        if value not in Invoice.Kind.values:
            raise serializers.ValidationError("Choose payment, earnings or payout.")
        return value

    source_id = serializers.IntegerField(
        min_value=1,
        help_text="The charge id (payment), journal entry id (earnings) or withdrawal id (payout).",
    )


class StatementAccountSerializer(serializers.Serializer):
    account = serializers.CharField(help_text=ACCOUNT_HELP)
    account_label = serializers.CharField(source="label")
    opening_cents = serializers.IntegerField()
    closing_cents = serializers.IntegerField()
    movements = MovementSerializer(source="rows", many=True)


class StatementSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    accounts = StatementAccountSerializer(many=True)
