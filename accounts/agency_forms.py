"""Forms of the agency pages. They check the shape of the input; ``accounts.agencies``
and ``payments.agency`` check the rules. No form saves a model."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from .agencies import DESCRIPTION_MAX, NAME_MAX, TAGLINE_MAX
from .forms import COUNTRY_CHOICES, MoneyField
from .models import AgencyMembership, AgencyRole

INVITE_ROLE_CHOICES = [(AgencyRole.MEMBER.value, "Member"), (AgencyRole.ADMIN.value, "Admin")]


class AgencyForm(forms.Form):
    name = forms.CharField(label="Agency name", max_length=NAME_MAX)
    tagline = forms.CharField(label="Tagline", max_length=TAGLINE_MAX, required=False)
    description = forms.CharField(
        label="About the agency",
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, required=False)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLE_CHOICES, initial=AgencyRole.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLE_CHOICES)


class DistributeForm(forms.Form):
    member = forms.TypedChoiceField(label="Member", coerce=int)
    amount = MoneyField(label="Amount (USD)")
    # one key per rendered form, so a double submit distributes once
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, members: list[AgencyMembership], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Choose a member"), *[(m.user_id, m.user.display_name) for m in members]]

    def clean_amount(self) -> int:
        cents = self.cleaned_data["amount"]
        if cents is None or cents <= 0:
            raise forms.ValidationError("Enter an amount more than zero.")
        return int(cents)


class TransferForm(forms.Form):
    member = forms.TypedChoiceField(label="New owner", coerce=int)

    def __init__(self, *args: Any, members: list[AgencyMembership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            ("", "Choose a member"),
            *[(m.user_id, m.user.display_name) for m in members if m.role != AgencyRole.OWNER],
        ]
