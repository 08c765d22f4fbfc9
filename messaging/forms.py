"""Forms of the chat pages. They validate input; services write."""

from __future__ import annotations

from django import forms

from accounts.models import FlagReason

from .models import BODY_MAX_CHARS, CLIENT_MSG_ID_MAX, MESSAGE_REPORT_REASONS, Channel, NotificationKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks each file's size and type."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        required=False,
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Write a message…", "data-charcount": BODY_MAX_CHARS}
        ),
    )
    attachments = MultipleFileField(
        label="Attach files",
        required=False,
        help_text="Up to 10 files, 10 MB each: images, PDF, Word, Excel, ZIP or text.",
    )
    client_msg_id = forms.CharField(widget=forms.HiddenInput, max_length=CLIENT_MSG_ID_MAX, required=False)
    reply_to = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class MessageEditForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "data-charcount": BODY_MAX_CHARS}),
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you reporting this message?",
        choices=[(r, FlagReason(r).label) for r in MESSAGE_REPORT_REASONS],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Anything staff should know (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AddParticipantForm(forms.Form):
    email = forms.EmailField(
        label="Email of the person to add", help_text="A teammate with a marketplace account."
    )


class PreferencesForm(forms.Form):
    """One choice per notification kind: email, in the app only, or off."""

    def __init__(self, *args, initial_channels: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=str(label),
                choices=Channel.choices,
                initial=(initial_channels or {}).get(kind, Channel.EMAIL),
                widget=forms.Select,
            )
