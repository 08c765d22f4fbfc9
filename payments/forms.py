"""HTML forms of payments. They parse input; the services decide."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils import timezone

from marketplace.errors import ApplicationError
from marketplace.money import parse_amount_to_cents

from .history import SPEND, MovementType
from .models import PayoutMethod, PayoutSchedule
from .selectors import USER_ACCOUNT_LABELS


class AmountField(forms.Field):
    """Dollars and cents typed by a person (``25`` or ``25.50``) -> integer cents."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "16"})

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip().replace(",", "")
        if not text:
            return None
        try:
            return parse_amount_to_cents(text[:32])
        except ApplicationError as error:
            raise forms.ValidationError(error.message)


class CardForm(forms.Form):
    number = forms.CharField(
        label="Card number",
        max_length=23,
        help_text="Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined.",
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    exp_month = forms.IntegerField(label="Expiry month", min_value=1, max_value=12)
    exp_year = forms.IntegerField(label="Expiry year", min_value=2000, max_value=2100)
    cvc = forms.CharField(
        label="Security code (CVC)",
        min_length=3,
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc"}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        year = timezone.now().year
        self.fields["exp_year"].initial = year + 2


class BankAccountForm(forms.Form):
    holder_name = forms.CharField(label="Account holder's name", max_length=120)
    bank_name = forms.CharField(label="Bank name", max_length=80, required=False)
    routing_number = forms.CharField(
        label="Routing number", max_length=20, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    account_number = forms.CharField(
        label="Account number",
        max_length=30,
        help_text="Only the last four digits are kept.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class WithdrawForm(forms.Form):
    amount = AmountField(label="Amount (USD)")
    method = forms.TypedChoiceField(label="Pay to", coerce=int)
    # One token per rendered form: a double submit withdraws once.
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, methods: list[PayoutMethod], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["method"]).choices = [(m.pk, str(m)) for m in methods]
        if not self.is_bound:
            self.fields["request_token"].initial = uuid.uuid4().hex


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(label="Automatic withdrawals", choices=PayoutSchedule.Frequency.choices)
    method = forms.TypedChoiceField(label="Pay to", coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, methods: list[PayoutMethod], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["method"]).choices = [
            ("", "Choose a payout method"),
            *[(m.pk, str(m)) for m in methods],
        ]


class TransactionFilterForm(forms.Form):
    type = forms.ChoiceField(label="Type", required=False, choices=[("", "All"), *MovementType.choices])
    account = forms.ChoiceField(
        label="Balance",
        required=False,
        choices=[("", "All"), *[(k.value, v) for k, v in USER_ACCOUNT_LABELS.items()], (SPEND, "Spend")],
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class AdjustmentForm(forms.Form):
    """Staff: one balanced, reasoned ledger entry."""

    from_account = forms.IntegerField(label="From account id", min_value=1)
    to_account = forms.IntegerField(label="To account id", min_value=1)
    amount = AmountField(label="Amount (USD)")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=250)
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["request_token"].initial = uuid.uuid4().hex
