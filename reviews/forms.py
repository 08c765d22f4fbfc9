"""Forms of reviews. They check the shape; the rules (who, when, once, ranges) are
``reviews.services``'s. No form saves a model."""

from __future__ import annotations

from typing import Any

from django import forms

from . import selectors
from .services import COMMENT_MAX, NOTE_MAX, REASON_MAX, REPLY_MAX, ReviewInput

RATING_CHOICES = [
    ("", "Choose…"),
    ("5", "5 - Excellent"),
    ("4", "4 - Good"),
    ("3", "3 - Fair"),
    ("2", "2 - Poor"),
    ("1", "1 - Very poor"),
]
RECOMMEND_CHOICES = [("", "Choose…")] + [(str(n), str(n)) for n in range(10, -1, -1)]


class ReviewForm(forms.Form):
    """Overall rating, one rating per category of the reviewed side (``cat_<key>`` fields),
    a public comment, a private note to the marketplace and the private recommend score."""

    rating = forms.ChoiceField(choices=RATING_CHOICES, label="Overall rating")
    public_comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX,
        label="Public feedback",
        help_text="Shown on their profile once both of you have left feedback or the window closes.",
        widget=forms.Textarea(attrs={"rows": 4, "data-charcount": str(COMMENT_MAX)}),
    )
    recommend_score = forms.ChoiceField(
        choices=RECOMMEND_CHOICES,
        label="How likely are you to recommend them to a friend or colleague? (0-10)",
        help_text="Private: only the marketplace sees it.",
    )
    private_note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Private note to the marketplace",
        help_text="Never shown to them or anyone else; our staff read it.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, direction: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direction = direction
        self.category_keys = []
        fields = dict(self.fields)
        ordered: dict[str, forms.Field] = {"rating": fields.pop("rating")}
        for key, label in selectors.categories_for(direction):
            name = f"cat_{key}"
            ordered[name] = forms.ChoiceField(choices=RATING_CHOICES, label=label)
            self.category_keys.append(key)
        ordered.update(fields)
        self.fields = ordered  # type: ignore[assignment]

    @property
    def category_fields(self) -> list[forms.BoundField]:
        return [self[f"cat_{key}"] for key in self.category_keys]

    @property
    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("public_comment", "recommend_score", "private_note")]

    def to_input(self) -> ReviewInput:
        data = self.cleaned_data
        return ReviewInput(
            rating=data["rating"],
            categories={key: data[f"cat_{key}"] for key in self.category_keys},
            public_comment=data.get("public_comment", ""),
            private_note=data.get("private_note", ""),
            recommend_score=data["recommend_score"],
        )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        max_length=REPLY_MAX,
        label="Your public reply",
        help_text="One reply, shown under the review. It cannot be changed.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class HideReviewForm(forms.Form):
    """The admin action's reason (both sides are told it)."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        label="Reason",
        help_text="Sent to the reviewer and the reviewed person.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
