"""Forms of identity verification (settings page) and of its review in the admin."""

from __future__ import annotations

from django import forms
from django_countries import countries

from .models import IdentityVerification
from .trust import REJECTION_REASON_MAX


class IdentityForm(forms.Form):
    document_type = forms.ChoiceField(
        label="Kind of document", choices=IdentityVerification.DocumentType.choices
    )
    legal_name = forms.CharField(
        label="Your name as written on the document",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    country = forms.ChoiceField(label="Issuing country", choices=[("", "Choose a country"), *countries])
    document = forms.FileField(
        label="Photo or scan of the document",
        help_text="A JPEG, PNG or PDF file, up to 10 MB. Only staff see it, and it is deleted once reviewed.",
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )


class IdentityRejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (the user is told)",
        max_length=REJECTION_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: the photo is blurred, or the name does not match the account.",
    )
