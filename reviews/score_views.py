"""HTML pages of the scores: a freelancer's Job Success Score page (public figures, badges
with their rules, and how the score works; for the freelancer themself, what lowered it)
and ``/job-success/``, which takes a freelancer to their own page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import selectors as account_selectors
from accounts.models import FreelancerProfile
from marketplace.types import AuthedRequest

from . import reputation


def score_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """Anyone who may see the profile sees the figures; 404 otherwise."""
    profile = account_selectors.freelancer_get_for_viewer(public_id=public_id, viewer=request.user)
    context = {
        "scores": reputation.freelancer_scores(profile=profile, viewer=request.user),
        "rules": reputation.formula_text(),
    }
    return render(request, "reviews/score_detail.html", context)


@login_required
def my_score(request: AuthedRequest) -> HttpResponse:
    profile = FreelancerProfile.objects.filter(user=request.user).only("public_id").first()
    if profile is None:
        messages.error(request, "Only freelancers have a Job Success Score.")
        return redirect("dashboard")
    return redirect("reviews:score", public_id=profile.public_id)
