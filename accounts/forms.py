"""Forms validate input; views hand the cleaned data to services. No form saves a model."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django_countries import countries

from .languages import LANGUAGE_CHOICES
from .models import (
    TIMEZONE_CHOICES,
    Availability,
    Category,
    ClientKind,
    CompanySize,
    ExperienceLevel,
    Proficiency,
    Role,
    Skill,
    Subcategory,
    SuspensionReason,
    Visibility,
)

COUNTRY_CHOICES = [("", "Choose a country"), *list(countries)]


class SignupExtraForm(forms.Form):
    """Extra sign-up fields (allauth calls ``signup`` after creating the user)."""

    field_order = ["role", "first_name", "last_name", "email", "password1", "password2"]

    role = forms.ChoiceField(
        choices=[
            (Role.FREELANCER, "I'm a freelancer, looking for work"),
            (Role.CLIENT, "I'm a client, hiring for a project"),
        ],
        widget=forms.RadioSelect,
        initial=Role.FREELANCER,
        label="I want to",
    )
    first_name = forms.CharField(max_length=60, label="First name")
    last_name = forms.CharField(max_length=60, label="Last name")

    def signup(self, request, user) -> None:
        from .services import user_complete_signup

        user_complete_signup(
            user=user,
            role=self.cleaned_data["role"],
            first_name=self.cleaned_data["first_name"],
            last_name=self.cleaned_data["last_name"],
        )


class RoleSwitchForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AboutForm(forms.Form):
    title = forms.CharField(
        max_length=100,
        label="Professional title",
        help_text="One line that says what you do, e.g. 'Full-stack Django developer'.",
    )
    category = forms.ModelChoiceField(queryset=Category.objects.all(), empty_label="Choose a category")
    subcategory = forms.ModelChoiceField(
        queryset=Subcategory.objects.select_related("category"),
        required=False,
        label="Specialty",
        empty_label="Choose a specialty (optional)",
    )
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Skills",
        help_text="Up to 15 skills.",
    )
    experience_level = forms.ChoiceField(choices=ExperienceLevel.choices, label="Experience level")

    def clean_skills(self):
        skills = self.cleaned_data["skills"]
        if len(skills) > 15:
            raise forms.ValidationError(f"Choose at most 15 skills (you chose {len(skills)}).")
        return skills

    def clean(self):
        data = super().clean()
        category, sub = data.get("category"), data.get("subcategory")
        if category and sub and sub.category_id != category.pk:
            self.add_error("subcategory", "This specialty belongs to another category.")
        return data


class EducationForm(forms.Form):
    school = forms.CharField(max_length=120)
    degree = forms.CharField(max_length=120, required=False)
    field_of_study = forms.CharField(max_length=120, required=False, label="Field of study")
    start_year = forms.IntegerField(required=False, min_value=1950, max_value=2040, label="From (year)")
    end_year = forms.IntegerField(
        required=False, min_value=1950, max_value=2040, label="To (year, or expected)"
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False)


class EmploymentForm(forms.Form):
    company = forms.CharField(max_length=120)
    title = forms.CharField(max_length=120, label="Job title")
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, required=False)
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Start date")
    end_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        label="End date",
        help_text="Leave empty if you still work there.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES)
    proficiency = forms.ChoiceField(choices=Proficiency.choices)


class MoneyField(forms.CharField):
    """Dollars typed by a person (``45`` or ``45.50``) -> integer cents."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount like 45 or 45.50.")
        if not amount.is_finite() or abs(amount) >= Decimal("10000000"):
            raise forms.ValidationError("Enter an amount like 45 or 45.50.")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("Use at most two decimals.")
        return int(amount * 100)


class RateForm(forms.Form):
    hourly_rate = MoneyField(
        label="Hourly rate (USD)", help_text="Between $3 and $999 per hour. Clients see this rate."
    )

    def clean_hourly_rate(self):
        cents = self.cleaned_data["hourly_rate"]
        if cents is None or not 300 <= cents <= 99900:
            raise forms.ValidationError("Enter a rate between $3.00 and $999.00.")
        return cents


class OverviewForm(forms.Form):
    overview = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "data-charcount": "5000"}),
        min_length=100,
        max_length=5000,
        help_text="At least 100 characters: what you do, for whom, and how you work.",
    )
    photo = forms.FileField(required=False, label="Profile photo", help_text="JPG, PNG or WebP, up to 5 MB.")
    country = forms.ChoiceField(choices=COUNTRY_CHOICES)
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC", label="Time zone")
    availability = forms.ChoiceField(choices=Availability.choices)
    open_to_contract_to_hire = forms.BooleanField(required=False, label="Open to contract-to-hire")
    visibility = forms.ChoiceField(choices=Visibility.choices, label="Profile visibility")


class PortfolioItemForm(forms.Form):
    title = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)
    link = forms.URLField(required=False, max_length=200, assume_scheme="https")
    image = forms.FileField(required=False, help_text="JPG, PNG or WebP, up to 5 MB.")
    file = forms.FileField(required=False, help_text="PDF, Office document, ZIP or text, up to 10 MB.")
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.all(), required=False, widget=forms.SelectMultiple
    )


class ClientProfileForm(forms.Form):
    kind = forms.ChoiceField(choices=ClientKind.choices, widget=forms.RadioSelect, label="I hire as")
    company_name = forms.CharField(max_length=120, required=False)
    company_size = forms.ChoiceField(choices=[("", "Choose a size"), *CompanySize.choices], required=False)
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")
    industry = forms.CharField(max_length=80, required=False)
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, required=False)
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC", label="Time zone")

    def clean(self):
        data = super().clean()
        if data.get("kind") == ClientKind.COMPANY and not data.get("company_name"):
            self.add_error("company_name", "Enter the company name.")
        return data


class NameForm(forms.Form):
    first_name = forms.CharField(max_length=60)
    last_name = forms.CharField(max_length=60)


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label='Type "DELETE" to confirm',
        max_length=10,
    )

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != "DELETE":
            raise forms.ValidationError("Type DELETE in capitals to confirm.")
        return "DELETE"


class SuspendForm(forms.Form):
    """Admin intermediate page for suspending users."""

    reason = forms.ChoiceField(choices=SuspensionReason.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Shown to the user.",
    )
