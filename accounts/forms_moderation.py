"""Forms of the moderation queue: the report form (everyone) and the staff action form
(the admin's intermediate page and the /staff/moderation/ page)."""

from __future__ import annotations

from django import forms

from .models import FlagReason, ModerationDecision, SuspensionReason

Decision = ModerationDecision.Action
STAFF_ACTIONS = (Decision.DISMISS, Decision.HIDE, Decision.UNHIDE, Decision.WARN, Decision.SUSPEND)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you reporting this?",
        choices=[("", "Choose a reason"), *FlagReason.choices],
    )
    note = forms.CharField(
        label="Anything staff should know (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "data-charcount": "1000"}),
    )


class ModerationActionForm(forms.Form):
    """Reason and note of one staff action. The reasons depend on the action: a suspension
    takes a suspension reason, the others a report reason (none for showing again)."""

    reason = forms.ChoiceField(label="Reason", required=False, choices=[("", "Choose a reason")])
    note = forms.CharField(
        label="Note for the log (not sent to anyone)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        chosen = action
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)
        if chosen == Decision.SUSPEND:
            reason.choices = [("", "Choose a reason"), *SuspensionReason.choices]
        else:
            reason.choices = [("", "Choose a reason"), *FlagReason.choices]
        if chosen in (Decision.HIDE, Decision.WARN, Decision.SUSPEND):
            self.fields["reason"].required = True
        if chosen == Decision.UNHIDE:
            self.fields["reason"].widget = forms.HiddenInput()
