"""HTML views of reviews: leave feedback on an ended contract, reply to a review, the
feedback page (to give, received, given) and a client's public reviews.

Thin: parse a form, call one service of ``reviews.services``, redirect with a message.
Someone who is not a party to the contract gets a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import ClientProfile
from contracts import selectors as contract_selectors
from contracts.models import Contract
from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.redirects import redirect_back
from marketplace.types import AuthedRequest

from . import selectors, services
from .forms import ReplyForm, ReviewForm
from .models import Review


def _contract_page(contract: Contract) -> HttpResponse:
    return redirect("contracts:detail", contract_id=contract.pk)


def _add_error(form: ReviewForm, error: ApplicationError) -> None:
    category = error.extra.get("category") if error.extra else None
    if category and f"cat_{category}" in form.fields:
        form.add_error(f"cat_{category}", error.message)
    else:
        add_application_error(form, error)


@login_required
def leave_feedback(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = contract_selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    feedback = selectors.contract_feedback(contract=contract, viewer=request.user)
    if feedback is None:
        messages.error(request, "You can leave feedback once the contract has ended.")
        return _contract_page(contract)
    if feedback.mine is not None:
        messages.info(request, "You have already left feedback on this contract.")
        return _contract_page(contract)
    if not feedback.window_open:
        messages.error(request, "The feedback window of this contract has closed.")
        return _contract_page(contract)
    direction = selectors.direction_for(contract, request.user)
    assert direction is not None
    form = ReviewForm(request.POST or None, direction=direction)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.review_submit(actor=request.user, contract_id=contract.pk, data=form.to_input())
            except ApplicationError as error:
                _add_error(form, error)
            else:
                if Review.objects.filter(
                    contract=contract, reviewer=request.user, revealed_at__isnull=False
                ).exists():
                    messages.success(request, "Thank you. Both of you have left feedback: it is now public.")
                else:
                    messages.success(
                        request,
                        "Thank you. Your feedback stays hidden until the other side leaves theirs or the window closes.",
                    )
                return _contract_page(contract)
        status = 400
        messages.error(request, "Please correct the errors below.")
    context = {
        "contract": contract,
        "feedback": feedback,
        "form": form,
        "is_client": feedback.role == "client",
        "window_days": selectors.window_days(),
        "reply_days": selectors.reply_days(),
    }
    return render(request, "reviews/leave.html", context, status=status)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    return redirect_back(request, request.POST.get("next"), default=fallback)


@login_required
@require_POST
def reply(request: AuthedRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_party(review_id=review_id, viewer=request.user)
    fallback = services.contract_url(review.contract_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write your reply (up to 1,000 characters).")
        return _back(request, fallback)
    try:
        services.review_reply(actor=request.user, review_id=review.pk, text=form.cleaned_data["reply"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your reply is posted under the review.")
    return _back(request, fallback)


@login_required
def feedback_overview(request: AuthedRequest) -> HttpResponse:
    """Feedback to give, received (public) and given (with their private parts)."""
    user = request.user
    received = selectors.review_cards_for_user(user_id=user.pk, limit=50, viewer=user)
    given = list(
        Review.objects.filter(reviewer=user)
        .select_related("contract", "reviewee")
        .order_by("-submitted_at")[:50]
    )
    context = {
        "pending": selectors.pending_feedback_for_user(user=user),
        "received": received,
        "given": given,
        "window_days": selectors.window_days(),
    }
    return render(request, "reviews/overview.html", context)


def client_reviews(request: HttpRequest, public_id: str) -> HttpResponse:
    """A client's public page of feedback from the freelancers who worked with them."""
    profile = get_object_or_404(ClientProfile.objects.select_related("user"), public_id=public_id)
    rating, count = selectors.rating_summary(
        user_id=profile.user_id, direction=Review.Direction.FREELANCER_TO_CLIENT
    )
    cards = selectors.review_cards_for_user(
        user_id=profile.user_id,
        direction=Review.Direction.FREELANCER_TO_CLIENT,
        limit=50,
        viewer=request.user,
    )
    context = {"profile": profile, "rating": rating, "count": count, "cards": cards}
    return render(request, "reviews/client.html", context)
