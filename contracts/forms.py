"""Forms of offers and contracts. They check the shape and turn dollars into cents; the
rules (ranges, dates, who may act) are ``contracts.services``'s. No form saves a model."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from accounts.forms import MoneyField

from .models import Contract, ContractType, Offer
from .services import (
    DESCRIPTION_MAX,
    MAX_OFFER_MILESTONES,
    MILESTONE_DESCRIPTION_MAX,
    NOTE_MAX,
    OFFER_DAYS_MAX,
    TITLE_MAX,
    MilestoneInput,
    OfferInput,
)

EXPIRY_CHOICES = [(d, f"{d} day{'s' if d != 1 else ''}") for d in (14, 10, 7, 5, 3, 2, 1)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OfferForm(forms.Form):
    """The terms of an offer. Milestone rows come as repeated ``milestone_description``,
    ``milestone_amount`` and ``milestone_due`` fields (rows are added in the browser by
    static/js/contracts.js; without JavaScript the page shows a few empty rows)."""

    title = forms.CharField(
        max_length=TITLE_MAX, label="Contract title", help_text="Both of you will see it on the contract."
    )
    contract_type = forms.ChoiceField(
        choices=ContractType.choices, widget=forms.RadioSelect, label="How will you pay?"
    )
    hourly_rate = MoneyField(required=False, label="Hourly rate (USD)", help_text="Between $3 and $999.")
    weekly_limit_hours = forms.IntegerField(
        required=False,
        label="Weekly limit (hours)",
        help_text="At most this many hours are billed a week, 1 to 80. Leave it empty for no limit.",
    )
    manual_time_allowed = forms.BooleanField(
        required=False, label="Allow the freelancer to log time manually"
    )
    milestones = forms.CharField(required=False, widget=forms.HiddenInput)  # carries the rows' errors
    description = forms.CharField(
        required=False,
        label="Describe the work",
        help_text="What you expect, deliverables, any terms. Optional.",
        widget=forms.Textarea(attrs={"rows": 6, "data-charcount": str(DESCRIPTION_MAX)}),
    )
    start_date = forms.DateField(label="Start date", widget=DateInput())
    expires_in_days = forms.TypedChoiceField(
        coerce=int,
        choices=EXPIRY_CHOICES,
        initial=OFFER_DAYS_MAX,
        label="The offer expires in",
        help_text="Without an answer by then, the offer expires.",
    )

    def _rows(self) -> list[dict[str, str]]:
        data = self.data
        if not hasattr(data, "getlist"):
            return []
        descriptions = data.getlist("milestone_description")
        amounts = data.getlist("milestone_amount")
        dues = data.getlist("milestone_due")
        rows = []
        for i in range(max(len(descriptions), len(amounts), len(dues))):
            row = {
                "description": (descriptions[i] if i < len(descriptions) else "").strip(),
                "amount": (amounts[i] if i < len(amounts) else "").strip(),
                "due": (dues[i] if i < len(dues) else "").strip(),
            }
            if any(row.values()):
                rows.append(row)
        return rows

    def milestone_rows(self) -> list[dict[str, str]]:
        """The rows to show: what was posted, else the prefilled ones; at least one row."""
        rows = self._rows() if self.is_bound else list(self.initial.get("milestone_rows", []))
        return rows or [{"description": "", "amount": "", "due": ""}]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contract_type") == ContractType.HOURLY:
            if self.cleaned_data.get("hourly_rate") is None and "hourly_rate" not in self.errors:
                self.add_error("hourly_rate", "Give the hourly rate.")
            data["milestone_inputs"] = []
            return data
        # fixed price: the hourly fields are ignored (they may be filled when JavaScript is off)
        data["hourly_rate"] = None
        data["weekly_limit_hours"] = None
        data["manual_time_allowed"] = False
        self.errors.pop("hourly_rate", None)
        self.errors.pop("weekly_limit_hours", None)
        rows = self._rows()
        if len(rows) > MAX_OFFER_MILESTONES:
            self.add_error("milestones", f"An offer has at most {MAX_OFFER_MILESTONES} milestones.")
            return data
        amount_field = MoneyField()
        due_field = forms.DateField()
        inputs = []
        for i, row in enumerate(rows, start=1):
            try:
                amount = amount_field.clean(row["amount"])
                due: date | None = due_field.clean(row["due"]) if row["due"] else None
            except forms.ValidationError as error:
                self.add_error("milestones", f"Milestone {i}: {' '.join(error.messages)}")
                continue
            if amount is None:
                self.add_error("milestones", f"Milestone {i}: enter an amount.")
                continue
            inputs.append(MilestoneInput(description=row["description"], amount_cents=amount, due_date=due))
        data["milestone_inputs"] = inputs
        return data

    def offer_input(self, **target: Any) -> OfferInput:
        data = self.cleaned_data
        return OfferInput(
            title=data["title"],
            contract_type=data["contract_type"],
            start_date=data["start_date"],
            hourly_rate_cents=data.get("hourly_rate"),
            weekly_limit_hours=data.get("weekly_limit_hours"),
            manual_time_allowed=bool(data.get("manual_time_allowed")),
            milestones=data.get("milestone_inputs", []),
            description=data.get("description", ""),
            expires_in_days=data["expires_in_days"],
            **target,
        )


class OfferDeclineForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Offer.DeclineReason.choices, widget=forms.RadioSelect, label="Why are you declining?"
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="A note to the client (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OfferWithdrawForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="A note to the freelancer (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ContractEndForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Contract.EndReason.choices, widget=forms.RadioSelect, label="Why are you ending the contract?"
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="A note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WeeklyLimitForm(forms.Form):
    weekly_limit_hours = forms.IntegerField(
        required=False,
        label="Weekly limit (hours)",
        help_text="1 to 80 hours a week; leave it empty for no limit.",
    )


class MilestoneForm(forms.Form):
    description = forms.CharField(max_length=MILESTONE_DESCRIPTION_MAX, label="Milestone description")
    amount = MoneyField(label="Amount (USD)")
    due_date = forms.DateField(required=False, label="Due date (optional)", widget=DateInput())

    def milestone_input(self) -> MilestoneInput:
        data = self.cleaned_data
        return MilestoneInput(
            description=data["description"], amount_cents=data["amount"], due_date=data.get("due_date")
        )


class ContractFileForm(forms.Form):
    file = forms.FileField(
        label="Share a file", help_text="PDF, images, Office documents, ZIP or text, up to 10 MB."
    )


# --- escrow -----------------------------------------------------------------------------------------------


class MilestoneSubmitForm(forms.Form):
    """The files come as repeated ``files`` inputs (read from ``request.FILES`` by the view)."""

    message = forms.CharField(
        max_length=5000,
        label="Describe what you deliver",
        widget=forms.Textarea(attrs={"rows": 4, "data-charcount": "5000"}),
    )


class ChangesForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX, label="What should change?", widget=forms.Textarea(attrs={"rows": 3})
    )


class RefundForm(forms.Form):
    amount = MoneyField(
        required=False,
        label="Amount to refund (USD)",
        help_text="Leave it empty to refund everything this milestone holds in escrow.",
    )
    reason = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Reason (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RefundRequestForm(forms.Form):
    reason = forms.CharField(
        max_length=NOTE_MAX, label="Why do you want a refund?", widget=forms.Textarea(attrs={"rows": 2})
    )


class BonusForm(forms.Form):
    amount = MoneyField(label="Bonus (USD)", help_text="Charged to your card with the marketplace fee.")
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="A note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
