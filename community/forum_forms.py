"""Forms of the forum pages. They check shape only; the services decide the rest."""

from __future__ import annotations

from django import forms

from . import forums
from .models import Board

MARKDOWN_HINT = (
    "Markdown: **bold**, *italic*, `code`, > quote, - lists, [link](https://example.com). "
    "Mention a member with @Handle (shown on their card). No images or HTML."
)


class ThreadForm(forms.Form):
    board = forms.ModelChoiceField(queryset=Board.objects.none(), label="Board", empty_label=None)
    title = forms.CharField(label="Title", min_length=forums.TITLE_MIN, max_length=forums.TITLE_MAX)
    body = forms.CharField(
        label="Your question or topic",
        max_length=forums.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HINT,
    )

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        boards = Board.objects.all()
        if not staff:
            boards = boards.filter(staff_only_threads=False)
        self.fields["board"].queryset = boards  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=forums.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HINT,
    )
    quote = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class PostEditForm(forms.Form):
    title = forms.CharField(
        label="Title", min_length=forums.TITLE_MIN, max_length=forums.TITLE_MAX, required=False
    )
    body = forms.CharField(
        label="Post",
        max_length=forums.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HINT,
    )

    def __init__(self, *args, with_title: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_title:
            self.fields["title"].required = True
        else:
            del self.fields["title"]


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the forums", max_length=200, required=False)
