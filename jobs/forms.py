"""Forms of the job-post wizard, closing and flagging. They validate; the views hand the
cleaned data to ``jobs.services`` (amounts in cents). No form saves a model."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.forms import MoneyField
from accounts.models import Category, ExperienceLevel, FlagReason, Skill, Subcategory

from .models import JOB_FLAG_REASONS, Job
from .selectors_posting import DRAFT_DESCRIPTION, subcategory_choices
from .services import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_ATTACHMENTS,
    MAX_FIXED_CENTS,
    MAX_HOURLY_CENTS,
    MAX_QUESTIONS,
    MAX_SKILLS,
    MIN_FIXED_CENTS,
    MIN_HOURLY_CENTS,
    TITLE_MAX,
    TITLE_MIN,
)


class JobTitleForm(forms.Form):
    title = forms.CharField(
        min_length=TITLE_MIN,
        max_length=TITLE_MAX,
        label="Job title",
        help_text="A short headline freelancers will search for, e.g. 'Build a booking site in Django'.",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("position", "name"), empty_label="Choose a category"
    )
    subcategory = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Specialty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subcategory"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Choose a specialty (optional)"), *subcategory_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        category, sub_id = data.get("category"), data.get("subcategory")
        if category and sub_id and not Subcategory.objects.filter(pk=sub_id, category=category).exists():
            self.add_error("subcategory", "This specialty belongs to another category.")
        return data


class JobSkillsForm(forms.Form):
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one skill, so that the right freelancers find the job."},
    )

    def clean_skills(self):
        skills = self.cleaned_data["skills"]
        if len(skills) > MAX_SKILLS:
            raise forms.ValidationError(f"Choose at most {MAX_SKILLS} skills (you chose {len(skills)}).")
        return skills


class JobScopeForm(forms.Form):
    size = forms.ChoiceField(
        choices=Job.Size.choices, widget=forms.RadioSelect, label="How big is the project?"
    )
    duration = forms.ChoiceField(
        choices=Job.Duration.choices, widget=forms.RadioSelect, label="How long will the work take?"
    )
    experience_level = forms.ChoiceField(
        choices=ExperienceLevel.choices,
        widget=forms.RadioSelect,
        label="What level of experience do you need?",
    )


class JobBudgetForm(forms.Form):
    budget_type = forms.ChoiceField(
        choices=Job.BudgetType.choices, widget=forms.RadioSelect, label="How do you want to pay?"
    )
    hourly_min = MoneyField(required=False, label="Hourly rate from (USD)", help_text="Between $3 and $999.")
    hourly_max = MoneyField(required=False, label="Hourly rate to (USD)")
    fixed_budget = MoneyField(
        required=False, label="Fixed price (USD)", help_text="Between $5 and $1,000,000, paid per milestone."
    )

    def _check(self, name: str, low: int, high: int, message: str) -> int | None:
        cents = self.cleaned_data.get(name)
        if name in self.errors:
            return None
        if cents is None:
            self.add_error(name, "Enter an amount.")
            return None
        if cents <= 0:
            self.add_error(name, "Enter an amount above zero.")
            return None
        if not low <= cents <= high:
            self.add_error(name, message)
            return None
        return cents

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("budget_type") == Job.BudgetType.HOURLY:
            message = "Hourly rates must be between $3 and $999."
            low = self._check("hourly_min", MIN_HOURLY_CENTS, MAX_HOURLY_CENTS, message)
            high = self._check("hourly_max", MIN_HOURLY_CENTS, MAX_HOURLY_CENTS, message)
            if low is not None and high is not None and low > high:
                self.add_error("hourly_max", "The highest rate cannot be below the lowest.")
        elif data.get("budget_type") == Job.BudgetType.FIXED:
            self._check(
                "fixed_budget",
                MIN_FIXED_CENTS,
                MAX_FIXED_CENTS,
                "A fixed price must be between $5 and $1,000,000.",
            )
        return data

    def amounts(self) -> dict[str, Any]:
        """The budget as ``JobInput`` fields (cents); the other type's amounts are cleared."""
        data = self.cleaned_data
        if data["budget_type"] == Job.BudgetType.HOURLY:
            return {
                "budget_type": Job.BudgetType.HOURLY,
                "hourly_min_cents": data["hourly_min"],
                "hourly_max_cents": data["hourly_max"],
                "fixed_budget_cents": None,
            }
        return {
            "budget_type": Job.BudgetType.FIXED,
            "fixed_budget_cents": data["fixed_budget"],
            "hourly_min_cents": None,
            "hourly_max_cents": None,
        }


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; cleans to a list (empty when none was chosen)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list:
        uploads = list(data) if isinstance(data, list | tuple) else ([data] if data else [])
        if not uploads and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]


class JobDetailsForm(forms.Form):
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "data-charcount": str(DESCRIPTION_MAX)}),
        min_length=DESCRIPTION_MIN,
        max_length=DESCRIPTION_MAX,
        label="Describe the work",
        help_text=(
            f"At least {DESCRIPTION_MIN} characters: what you need, what you already have, "
            "and what a good result looks like."
        ),
    )
    attachments = MultipleFileField(
        required=False,
        label="Attach files",
        help_text=f"Up to {MAX_ATTACHMENTS} files: PDF, images, Office documents, ZIP or text, 10 MB each.",
    )
    visibility = forms.ChoiceField(
        choices=Job.Visibility.choices, widget=forms.RadioSelect, label="Who can see the job?"
    )
    freelancers_needed = forms.IntegerField(
        min_value=1, max_value=50, label="How many freelancers do you need?", initial=1
    )

    def __init__(self, *args: Any, existing_attachments: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing_attachments = existing_attachments
        for i in range(1, MAX_QUESTIONS + 1):
            self.fields[f"question_{i}"] = forms.CharField(
                max_length=300,
                required=False,
                label=f"Screening question {i}",
                widget=forms.TextInput(attrs={"placeholder": "e.g. Which similar sites have you built?"})
                if i == 1
                else forms.TextInput(),
            )

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"question_{i}"] for i in range(1, MAX_QUESTIONS + 1)]

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        if text.strip() == DRAFT_DESCRIPTION:
            raise forms.ValidationError("Replace the placeholder with a description of the work.")
        return text

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data["attachments"]
        room = MAX_ATTACHMENTS - self.existing_attachments
        if len(uploads) > room:
            raise forms.ValidationError(
                f"Attach at most {MAX_ATTACHMENTS} files; there is room for {max(room, 0)} more."
            )
        return uploads

    def questions(self) -> list[str]:
        return [
            text.strip()
            for i in range(1, MAX_QUESTIONS + 1)
            if (text := self.cleaned_data.get(f"question_{i}") or "").strip()
        ]


class JobCloseForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[
            ("", "Choose a reason"),
            *[c for c in Job.CloseReason.choices if c[0] != "removed_by_staff"],
        ],
        label="Why are you closing the job?",
    )


class JobFlagForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *((r, FlagReason(r).label) for r in JOB_FLAG_REASONS)],
        label="Reason",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "data-charcount": "1000"}),
        max_length=1000,
        required=False,
        label="Anything staff should know (optional)",
    )
