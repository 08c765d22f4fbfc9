"""Forms of proposals. They check the shape of the input; ``proposals.services`` checks the
rules (and says which field is wrong). No form saves a model. Amounts are cents."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from accounts.agencies import agency_proposal_choices
from accounts.forms import MoneyField
from accounts.models import PortfolioItem
from jobs.forms import MultipleFileField
from jobs.models import Job
from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from payments.forms import CardForm

from .models import Proposal
from .selectors import CLIENT_FILTERS, CLIENT_SORTS, FREELANCER_TABS
from .services import (
    ANSWER_MAX,
    CLIENT_DECLINE_REASONS,
    COVER_LETTER_MAX,
    COVER_LETTER_MIN,
    MAX_ATTACHMENTS,
    MAX_MILESTONES,
    MESSAGE_MAX,
    MILESTONE_DESCRIPTION_MAX,
    NOTE_MAX,
    BidInput,
    MilestoneInput,
    ProposalInput,
)


class BidForm(forms.Form):
    """The bid (its field depends on the job's budget type), the duration and, on a fixed
    price, the proposed milestones: rows of ``milestone_description``, ``milestone_amount``
    and ``milestone_due`` (added in the browser by static/js/proposals.js)."""

    duration = forms.ChoiceField(
        choices=[("", "Choose a duration"), *Job.Duration.choices], label="How long will this take?"
    )
    milestones = forms.CharField(required=False, widget=forms.HiddenInput)  # carries the rows' errors

    def __init__(self, *args: Any, job: Job, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        fee_bps = str(settings.FREELANCER_SERVICE_FEE_BPS)
        common = {
            "data-fee-bps": fee_bps,
            "data-fee-target": "#you-receive",
            "data-fee-amount-target": "#fee-amount",
            "inputmode": "decimal",
            "autocomplete": "off",
        }
        if self.is_hourly:
            self.fields["hourly_rate"] = MoneyField(
                label="Your hourly rate (USD)",
                help_text="What the client pays per hour. Between $3 and $999.",
                widget=forms.TextInput(attrs=common),
            )
        else:
            self.fields["fixed_amount"] = MoneyField(
                label="Your price for the whole project (USD)",
                help_text="What the client pays in total. Between $5 and $1,000,000.",
                widget=forms.TextInput(attrs={**common, "data-milestone-total": "1"}),
            )

    @property
    def is_hourly(self) -> bool:
        return self.job.budget_type == Job.BudgetType.HOURLY

    @property
    def bid_field(self) -> forms.BoundField:
        return self["hourly_rate" if self.is_hourly else "fixed_amount"]

    def _milestone_rows(self) -> list[dict[str, str]]:
        if not self.is_bound or self.is_hourly:
            return []
        data = self.data
        descriptions = data.getlist("milestone_description") if hasattr(data, "getlist") else []
        amounts = data.getlist("milestone_amount") if hasattr(data, "getlist") else []
        dues = data.getlist("milestone_due") if hasattr(data, "getlist") else []
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

    @property
    def milestone_rows(self) -> list[dict[str, str]]:
        """The rows as typed, to show them again; one empty row to start with."""
        rows = self._milestone_rows()
        if not rows and not self.is_bound and "milestone_rows" in self.initial:
            rows = self.initial["milestone_rows"]
        return rows or [{"description": "", "amount": "", "due": ""}]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rows = self._milestone_rows()
        if len(rows) > MAX_MILESTONES:
            self.add_error("milestones", f"Propose at most {MAX_MILESTONES} milestones.")
            return data
        milestones = []
        money, day = MoneyField(), forms.DateField()
        for i, row in enumerate(rows, start=1):
            try:
                amount = money.clean(row["amount"])
                due = day.clean(row["due"]) if row["due"] else None
            except forms.ValidationError as error:
                self.add_error("milestones", f"Milestone {i}: {' '.join(error.messages)}")
                continue
            if amount is None:
                self.add_error("milestones", f"Milestone {i}: enter an amount.")
                continue
            if len(row["description"]) > MILESTONE_DESCRIPTION_MAX:
                self.add_error(
                    "milestones",
                    f"Milestone {i}: the description is limited to {MILESTONE_DESCRIPTION_MAX} characters.",
                )
                continue
            milestones.append(
                MilestoneInput(description=row["description"], amount_cents=amount, due_date=due)
            )
        data["milestone_inputs"] = milestones
        return data

    def bid_input(self) -> BidInput:
        data = self.cleaned_data
        return BidInput(
            duration=data["duration"],
            hourly_rate_cents=data.get("hourly_rate") if self.is_hourly else None,
            fixed_amount_cents=None if self.is_hourly else data.get("fixed_amount"),
            milestones=data.get("milestone_inputs") or [],
        )

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a service error next to the field it names."""
        field_name = error.extra.get("field") if error.extra else None
        if field_name == "hourly_rate" and not self.is_hourly:
            field_name = "fixed_amount"
        elif field_name == "fixed_amount" and self.is_hourly:
            field_name = "hourly_rate"
        if field_name == "answers" and error.extra.get("question_id"):
            field_name = f"question_{error.extra['question_id']}"
        if field_name and field_name in self.fields:
            self.add_error(field_name, error.message)
        else:
            add_application_error(self, error)


class ProposalForm(BidForm):
    cover_letter = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "data-charcount": str(COVER_LETTER_MAX)}),
        max_length=COVER_LETTER_MAX,
        min_length=COVER_LETTER_MIN,
        label="Cover letter",
        help_text=f"At least {COVER_LETTER_MIN} characters: why you fit, how you would do it, a question.",
    )
    portfolio_items = forms.ModelMultipleChoiceField(
        queryset=PortfolioItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Portfolio items to show",
    )
    attachments = MultipleFileField(
        required=False,
        label="Attachments",
        help_text=f"Up to {MAX_ATTACHMENTS} files: PDF, images, Office documents, ZIP or text, 10 MB each.",
    )

    def __init__(self, *args: Any, job: Job, profile: Any, **kwargs: Any) -> None:
        super().__init__(*args, job=job, **kwargs)
        field = self.fields["portfolio_items"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = PortfolioItem.objects.filter(profile=profile).order_by("position", "id")
        self.agency_choices = agency_proposal_choices(profile.user_id)
        if self.agency_choices:  # "Propose as": myself or one of my agencies
            self.fields["propose_as"] = forms.ChoiceField(
                label="Propose as",
                choices=[("", "Myself"), *[(str(pk), name) for pk, name in self.agency_choices]],
                required=False,
                help_text="An agency's proposal: the contract's earnings go to the agency.",
            )
        self.questions = list(job.questions.all())
        for position, question in enumerate(self.questions, start=1):
            self.fields[f"question_{question.pk}"] = forms.CharField(
                label=f"{position}. {question.text}",
                max_length=ANSWER_MAX,
                widget=forms.Textarea(attrs={"rows": 3, "data-charcount": str(ANSWER_MAX)}),
                error_messages={"required": "Answer this question: the client asks every applicant."},
            )

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"question_{q.pk}"] for q in self.questions]

    @property
    def has_portfolio(self) -> bool:
        field = self.fields["portfolio_items"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        return field.queryset.exists()  # type: ignore[union-attr]

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data["attachments"]
        if len(uploads) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        return uploads

    def proposal_input(self) -> ProposalInput:
        bid = self.bid_input()
        data = self.cleaned_data
        return ProposalInput(
            duration=bid.duration,
            hourly_rate_cents=bid.hourly_rate_cents,
            fixed_amount_cents=bid.fixed_amount_cents,
            milestones=bid.milestones,
            cover_letter=data["cover_letter"],
            answers={q.pk: data.get(f"question_{q.pk}", "") for q in self.questions},
            portfolio_item_ids=[item.pk for item in data.get("portfolio_items") or []],
            attachments=list(data.get("attachments") or []),
            agency_id=int(data["propose_as"]) if data.get("propose_as") else None,
        )


def bid_initial(proposal: Proposal) -> dict[str, Any]:
    """A BidForm's initial values from the proposal's current terms."""

    def dollars(cents: int | None) -> str:
        return f"{cents / 100:.2f}" if cents else ""

    return {
        "duration": proposal.duration,
        "hourly_rate": dollars(proposal.hourly_rate_cents),
        "fixed_amount": dollars(proposal.fixed_amount_cents),
        "milestone_rows": [
            {
                "description": m.description,
                "amount": dollars(m.amount_cents),
                "due": m.due_date.isoformat() if m.due_date else "",
            }
            for m in proposal.milestones.all()
        ],
    }


class WithdrawForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *Proposal.WithdrawReason.choices], label="Why are you withdrawing?"
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "data-charcount": str(NOTE_MAX)}),
        max_length=NOTE_MAX,
        required=False,
        label="A note for the client (optional)",
    )


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *CLIENT_DECLINE_REASONS], label="Reason")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "data-charcount": str(NOTE_MAX)}),
        max_length=NOTE_MAX,
        required=False,
        label="A note for the freelancer (optional)",
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "data-charcount": str(MESSAGE_MAX)}),
        max_length=MESSAGE_MAX,
        label="Message",
        help_text="Opens a conversation with the freelancer about this proposal.",
    )


class ReviewFilterForm(forms.Form):
    """The review page's filters (GET). Invalid values are ignored, with a note."""

    filter = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in CLIENT_FILTERS.items()], required=False, label="Show"
    )
    sort = forms.ChoiceField(choices=list(CLIENT_SORTS.items()), required=False, label="Sort by")
    rate_min = MoneyField(required=False, label="Hourly rate from (USD)")
    rate_max = MoneyField(required=False, label="to (USD)")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "filter_key": data.get("filter") or "all",
            "sort": data.get("sort") or "best",
            "rate_min_cents": data.get("rate_min"),
            "rate_max_cents": data.get("rate_max"),
        }


FREELANCER_TAB_KEYS = list(FREELANCER_TABS)


class ConnectsBuyForm(forms.Form):
    """A pack of Connects, the saved card to charge and the form's purchase key (the same form
    sent twice is one payment). ``packs``: ``services.ConnectsPack`` list; ``cards``: the
    buyer's saved cards."""

    quantity = forms.TypedChoiceField(
        label="Pack",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a pack.", "invalid_choice": "Choose one of the packs."},
    )
    payment_method = forms.TypedChoiceField(
        label="Card",
        coerce=int,
        required=False,  # left out: the default card
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of your cards."},
    )
    purchase_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, packs: list[Any], cards: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.packs, self.cards = packs, cards
        quantity, card = self.fields["quantity"], self.fields["payment_method"]
        assert isinstance(quantity, forms.ChoiceField) and isinstance(card, forms.ChoiceField)
        quantity.choices = [(p.quantity, f"{p.quantity} Connects") for p in packs]
        card.choices = [(c.pk, str(c)) for c in cards]
        if not self.is_bound:
            middle = packs[1] if len(packs) > 1 else (packs[0] if packs else None)
            self.initial.setdefault("quantity", middle.quantity if middle else None)
            default = next((c for c in cards if c.is_default), cards[0] if cards else None)
            self.initial.setdefault("payment_method", default.pk if default else None)

    def selected(self, name: str) -> str:
        """The chosen value as text (the bound one, else the initial), for the radios."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        return "" if value is None else str(value)


class ConnectsCardForm(CardForm):
    """The card a freelancer saves to buy Connects (payments' card form; the test-card hint only
    when the local gateway is in use)."""

    def __init__(self, *args: Any, test_cards: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["number"].help_text = (
            "Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; "
            "4000 0000 0000 9995 has insufficient funds."
            if test_cards
            else ""
        )
