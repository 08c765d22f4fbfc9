"""HTML views: the freelancer's job feed ("Best matches", "Most recent") and "Not interested"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import FreelancerProfile
from marketplace.errors import ApplicationError, PermissionDeniedError
from marketplace.types import AuthedRequest

from .. import matching
from ..models import Job, MatchDismissal
from .search import ID_MARK, card_values, escape, job_card_markup

TABS = {"best": "Best matches", "recent": "Most recent"}
PAGE_SIZE = 20


class DismissForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why not?", choices=[("", "Choose a reason"), *MatchDismissal.Reason.choices]
    )
    tab = forms.ChoiceField(choices=[(key, key) for key in TABS], required=False, widget=forms.HiddenInput)


DISMISS_CHOICES = DismissForm.base_fields["reason"].choices  # type: ignore[attr-defined]


def _feed_cards(page: matching.FeedPage) -> list[dict[str, Any]]:
    """What jobs/matches/_cards.html shows of each item: a search card's values (prepared
    once in Python, not by per-card template filters), the reasons and the dismiss URL."""
    cards = card_values([item.job for item in page.items])
    dismiss = reverse("jobs:dismiss", args=[ID_MARK])
    for card, item in zip(cards, page.items, strict=True):
        card["reasons"] = item.reasons
        card["dismiss_url"] = dismiss.replace(ID_MARK, item.job.public_id)
    return cards


def render_feed_cards(cards: list[dict[str, Any]], *, tab: str, reason_options: str, csrf_token: str) -> str:
    """jobs/matches/_cards.html rendered in Python, byte for byte (a test renders both):
    the template's loop over 20 cards was a quarter of a feed page's time. The card is the
    search's (``job_card_markup``) with the reasons and the "Not interested" form; every
    value is escaped as the template escapes it; ``reason_options`` is markup already."""
    tab_value, token = escape(tab), escape(csrf_token)
    out = []
    for job in cards:
        public_id, dismiss_url = escape(job["public_id"]), escape(job["dismiss_url"])
        reasons = (
            '    \n      <p class="small text-success mb-2" data-testid="match-reasons"><i class="bi bi-stars" '
            f'aria-hidden="true"></i> {" · ".join(escape(reason) for reason in job["reasons"])}</p>\n    \n'
            if job["reasons"]
            else "    \n"
        )
        form = (
            f'    <div class="mt-2"><form method="post" action="{dismiss_url}"\n'
            f'      hx-post="{dismiss_url}" hx-target="closest .job-card" hx-swap="outerHTML"\n'
            '      class="d-flex flex-wrap align-items-center gap-2 border-top pt-2" data-testid="dismiss-form">\n'
            f'  <input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
            f'  <input type="hidden" name="tab" value="{tab_value}">\n'
            f'  <label class="small text-secondary" for="dismiss-{public_id}">Not for you? Tell us why</label>\n'
            f'  <select class="form-select form-select-sm w-auto" name="reason" id="dismiss-{public_id}" required>\n'
            f"    {reason_options}\n"
            "  </select>\n"
            '  <button type="submit" class="btn btn-sm btn-outline-secondary" data-testid="dismiss-job">\n'
            '    <i class="bi bi-eye-slash" aria-hidden="true"></i> Not interested\n'
            "  </button>\n"
            "</form></div>\n"
        )
        card = {key: value for key, value in job.items() if key not in ("reasons", "dismiss_url")}
        out.append(job_card_markup(card, reasons=reasons, footer=form))
    return mark_safe("".join(out) + "\n")  # noqa: S308 - every value escaped above or by job_card_markup


def _own_profile(request: AuthedRequest) -> FreelancerProfile:
    profile = FreelancerProfile.objects.select_related("category").filter(user=request.user).first()
    if profile is None:
        raise PermissionDeniedError(
            "Switch to freelancing to see jobs matched to you.", code="not_freelancer"
        )
    return profile


def _profile_gaps(profile: FreelancerProfile) -> list[dict[str, str]]:
    """What stops matching for this freelancer, each with the onboarding step that fixes it."""
    gaps = []
    if not profile.category_id or not profile.skills.exists():
        gaps.append({"label": "Choose your category and skills", "step": "about"})
    if not profile.hourly_rate_cents:
        gaps.append({"label": "Set your hourly rate", "step": "rate"})
    if len(profile.overview or "") < 100:
        gaps.append({"label": "Describe your work in an overview", "step": "overview"})
    if profile.published_at is None:
        gaps.append({"label": "Publish your profile", "step": "review"})
    return gaps


def _is_htmx(request: AuthedRequest) -> bool:
    """An htmx request for part of the page (not a boosted navigation or history restore)."""
    htmx: Any = getattr(request, "htmx", None)  # set by django_htmx's middleware
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _feed_url(tab: str) -> str:
    url = reverse("jobs:feed")
    return f"{url}?tab={tab}" if tab != "best" else url


@login_required
def feed(request: AuthedRequest) -> HttpResponse:
    profile = _own_profile(request)
    tab = request.GET.get("tab", "best")
    if tab not in TABS:
        tab = "best"
    cursor = request.GET.get("cursor") or None
    select = matching.feed_most_recent if tab == "recent" else matching.feed_best_matches
    try:
        page = select(profile=profile, cursor=cursor, limit=PAGE_SIZE)
    except matching.InvalidCursorError as error:
        messages.warning(request, error.message)
        return redirect(_feed_url(tab))
    context = {
        "tab": tab,
        "tabs": [{"key": key, "label": label, "url": _feed_url(key)} for key, label in TABS.items()],
        "page": page,
        "cards_html": render_feed_cards(
            _feed_cards(page),
            tab=tab,
            reason_options=format_html_join("", '<option value="{}">{}</option>', DISMISS_CHOICES),
            csrf_token=get_token(request),
        ),
        "next_url": f"{reverse('jobs:feed')}?tab={tab}&cursor={page.next_cursor}" if page.next_cursor else "",
        "gaps": _profile_gaps(profile) if not page.items and not cursor else [],
    }
    if _is_htmx(request) and cursor:  # "Show more": only the next cards and the next button
        return render(request, "jobs/matches/feed_items.html", context)
    return render(request, "jobs/matches/feed.html", context)


@login_required
@require_POST
def dismiss(request: AuthedRequest, public_id: str) -> HttpResponse:
    job = get_object_or_404(Job.objects.only("id", "title"), public_id=public_id)
    form = DismissForm(request.POST)
    tab = form.data.get("tab") if form.data.get("tab") in TABS else "best"
    done = False
    if form.is_valid():
        try:
            matching.match_dismiss(actor=request.user, job_id=job.pk, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            if error.status_code in (403, 404):
                raise  # the error page, with its status
            messages.error(request, error.message)
        else:
            done = True
            messages.success(request, f"Hidden “{job.title}”. Your feed will show fewer jobs like it.")
    else:
        messages.error(request, "Choose why this job is not for you.")
    if _is_htmx(request):
        # the card is replaced by nothing; the message comes out of band
        response = render(request, "jobs/matches/dismissed.html")
        if not done:
            response["HX-Reswap"] = "none"  # keep the card, show the error
        return response
    return redirect(_feed_url(str(tab)))


urlpatterns: list[URLPattern] = [
    path("jobs/feed/", feed, name="feed"),
    path("jobs/feed/<str:public_id>/dismiss/", dismiss, name="dismiss"),
]
