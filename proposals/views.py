"""HTML views of proposals and Connects.

Thin: parse a form, call one service of ``proposals.services``, say what happened, redirect;
reads come from ``proposals.selectors``. A proposal is visible to its two parties only:
anyone else gets a 404, as if it did not exist.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import teams
from accounts.models import FreelancerProfile
from jobs.selectors import job_get_for_viewer
from jobs.selectors_posting import own_job_get
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.forms import add_application_error
from marketplace.money import format_cents
from marketplace.redirects import next_url
from marketplace.types import AuthedRequest
from messaging import downloads
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.fees import freelancer_earnings
from payments.gateways import get_gateway
from payments.gateways.base import CardInput

from . import selectors, services
from .forms import (
    BidForm,
    ConnectsBuyForm,
    ConnectsCardForm,
    DeclineForm,
    MessageForm,
    ProposalForm,
    ReviewFilterForm,
    WithdrawForm,
    bid_initial,
)
from .models import Proposal

PAGE_SIZE = 20


def _detail_url(proposal_id: int) -> str:
    return reverse("proposals:detail", kwargs={"proposal_id": proposal_id})


def _fee_context() -> dict[str, Any]:
    sample = freelancer_earnings(10000)
    return {"fee_bps": sample.fee_bps, "fee_percent": f"{sample.fee_bps / 100:g}"}


# --- applying ------------------------------------------------------------------------------------------


@login_required
def apply(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The proposal form: the bid with what the freelancer receives, the Connects it costs,
    the screening questions, milestones, portfolio items and files."""
    job = job_get_for_viewer(public_id=public_id, viewer=request.user)
    state = selectors.apply_state(job=job, user=request.user)
    if state.status == "applied" and state.proposal is not None:
        messages.info(request, "You already applied to this job; here is your proposal.")
        return redirect("proposals:detail", proposal_id=state.proposal.pk)
    profile = FreelancerProfile.objects.filter(user=request.user).first()
    form = None
    if state.can_apply and profile is not None:
        form = ProposalForm(
            request.POST if request.method == "POST" else None,
            request.FILES or None,
            job=job,
            profile=profile,
            initial={"duration": job.duration},
        )
        if request.method == "POST" and form.is_valid():
            try:
                proposal = services.proposal_submit(
                    actor=request.user, job_id=job.pk, data=form.proposal_input()
                )
            except NotFoundError:
                raise Http404("No such job.")
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                if proposal.connects_spent:
                    balance = selectors.connects_balance(user=request.user)
                    spent = f" {proposal.connects_spent} Connects spent; {balance} left."
                else:
                    spent = " It was free: you were invited."
                messages.success(request, f"Your proposal was sent to the client.{spent}")
                return redirect("proposals:detail", proposal_id=proposal.pk)
    elif request.method == "POST":
        messages.error(request, state.message or "You cannot apply to this job.")
    context = {"job": job, "state": state, "form": form, **_fee_context()}
    return render(request, "proposals/apply.html", context)


# --- a proposal -------------------------------------------------------------------------------------------


def _detail_context(request: AuthedRequest, proposal: Proposal, **forms: Any) -> dict[str, Any]:
    is_freelancer = proposal.freelancer_id == request.user.pk
    context: dict[str, Any] = {
        "proposal": proposal,
        "job": proposal.job,
        "is_freelancer": is_freelancer,
        "is_client": not is_freelancer,
        "profile": getattr(proposal.freelancer, "freelancer_profile", None),
        "you_receive_cents": selectors.you_receive_cents(proposal),
        **_fee_context(),
    }
    if is_freelancer and proposal.is_active and not proposal.offer_pending:
        context["bid_form"] = forms.get("bid_form") or BidForm(
            job=proposal.job, initial=bid_initial(proposal)
        )
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm()
    # a viewer of the job's client team reads the proposal and acts on nothing
    context["can_act"] = is_freelancer or teams.can(request.user, proposal.job, teams.REVIEW_PROPOSALS)
    if not is_freelancer and context["can_act"]:
        if proposal.is_active and not proposal.offer_pending:
            context["decline_form"] = forms.get("decline_form") or DeclineForm()
        context["message_form"] = forms.get("message_form") or MessageForm()
    return context


def _proposal_for(request: AuthedRequest, proposal_id: int) -> Proposal:
    return selectors.proposal_get_for_party(proposal_id=proposal_id, viewer=request.user)


@login_required
@require_GET
def proposal_detail(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id)
    if proposal.job.client_id == request.user.pk:
        services.proposal_mark_viewed(actor=request.user, proposal=proposal)
    elif proposal.freelancer_id != request.user.pk:  # a teammate joins the interview chat
        teams.conversation_join_for_job(
            actor=request.user, job=proposal.job, conversation=proposal.conversation
        )
    return render(request, "proposals/detail.html", _detail_context(request, proposal))


@login_required
@require_POST
def proposal_edit_bid(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id)
    if proposal.freelancer_id != request.user.pk:
        raise Http404("No such proposal.")
    form = BidForm(request.POST, job=proposal.job)
    if form.is_valid():
        try:
            services.proposal_update_bid(actor=request.user, proposal_id=proposal.pk, data=form.bid_input())
        except NotFoundError:
            raise Http404("No such proposal.")
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Your terms are updated; the client sees them now.")
            return redirect("proposals:detail", proposal_id=proposal.pk)
    context = _detail_context(request, proposal, bid_form=form)
    return render(request, "proposals/detail.html", context)


@login_required
@require_POST
def proposal_withdraw(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id)
    if proposal.freelancer_id != request.user.pk:
        raise Http404("No such proposal.")
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_withdraw(actor=request.user, proposal_id=proposal.pk, **form.cleaned_data)
        except NotFoundError:
            raise Http404("No such proposal.")
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Your proposal is withdrawn. Its Connects are not refunded.")
            return redirect("proposals:detail", proposal_id=proposal.pk)
    context = _detail_context(request, proposal, withdraw_form=form)
    return render(request, "proposals/detail.html", context)


def _client_action(request: AuthedRequest, proposal_id: int, action: Any, done: str) -> HttpResponse:
    """Run a client action (shortlist, archive...) and go back where the client was."""
    proposal = _proposal_for(request, proposal_id)
    back = next_url(request, _detail_url(proposal.pk))
    if proposal.freelancer_id == request.user.pk:
        raise Http404("No such proposal.")
    teams.require_job_action(user=request.user, job=proposal.job, action=teams.REVIEW_PROPOSALS)
    try:
        action(actor=request.user, proposal_id=proposal.pk)
    except NotFoundError:
        raise Http404("No such proposal.")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(name=proposal.freelancer.display_name))
    return redirect(back)


@login_required
@require_POST
def proposal_shortlist(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    return _client_action(request, proposal_id, services.proposal_shortlist, "{name} is on your shortlist.")


@login_required
@require_POST
def proposal_unshortlist(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    return _client_action(request, proposal_id, services.proposal_unshortlist, "{name} is off the shortlist.")


@login_required
@require_POST
def proposal_archive(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    return _client_action(
        request,
        proposal_id,
        services.proposal_archive,
        "Archived the proposal of {name}; find it under Archived.",
    )


@login_required
@require_POST
def proposal_unarchive(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    return _client_action(
        request, proposal_id, services.proposal_unarchive, "The proposal of {name} is back."
    )


@login_required
@require_POST
def proposal_decline(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id)
    if proposal.freelancer_id == request.user.pk:
        raise Http404("No such proposal.")
    teams.require_job_action(user=request.user, job=proposal.job, action=teams.REVIEW_PROPOSALS)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_decline(actor=request.user, proposal_id=proposal.pk, **form.cleaned_data)
        except NotFoundError:
            raise Http404("No such proposal.")
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Declined. {proposal.freelancer.display_name} is told why.")
            return redirect(next_url(request, _detail_url(proposal.pk)))
    context = _detail_context(request, proposal, decline_form=form)
    return render(request, "proposals/detail.html", context)


@login_required
@require_POST
def proposal_message(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_for(request, proposal_id)
    if proposal.freelancer_id == request.user.pk:
        raise Http404("No such proposal.")
    teams.require_job_action(user=request.user, job=proposal.job, action=teams.MESSAGE)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            proposal = services.proposal_message(
                actor=request.user, proposal_id=proposal.pk, text=form.cleaned_data["text"]
            )
        except NotFoundError:
            raise Http404("No such proposal.")
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Message sent to {proposal.freelancer.display_name}.")
            return redirect("messaging:conversation", conversation_id=proposal.conversation_id)
    context = _detail_context(request, proposal, message_form=form)
    return render(request, "proposals/detail.html", context)


@login_required
@require_GET
def attachment_download(request: AuthedRequest, proposal_id: int, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get_for_party(
        proposal_id=proposal_id, attachment_id=attachment_id, viewer=request.user
    )
    content_type = mimetypes.guess_type(attachment.original_name)[0] or "application/octet-stream"
    return downloads.file_response(
        attachment.file, filename=attachment.original_name, content_type=content_type, inline=False
    )


# --- lists -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_proposals(request: AuthedRequest) -> HttpResponse:
    counts = selectors.freelancer_tab_counts(user=request.user)
    tab = request.GET.get("tab", "")
    if tab not in selectors.FREELANCER_TABS:
        tab = next((key for key in ("offers", "active", "submitted") if counts[key]), "submitted")
    page = Paginator(selectors.freelancer_proposal_list(user=request.user, tab=tab), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tabs = [
        {"key": key, "label": label, "count": counts[key]}
        for key, (label, _) in selectors.FREELANCER_TABS.items()
    ]
    context = {
        "tab": tab,
        "tabs": tabs,
        "page": page,
        "total": sum(counts.values()),
        "is_freelancer": request.user.is_freelancer,
        "balance": selectors.connects_balance(user=request.user),
    }
    return render(request, "proposals/mine.html", context)


@login_required
@require_GET
def job_proposals(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The client's review page of one of their jobs."""
    job = own_job_get(public_id=public_id, user=request.user, action=teams.VIEW)
    filters = ReviewFilterForm(request.GET or None)
    values = filters.values() if request.GET else ReviewFilterForm({}).values()
    counts = selectors.client_filter_counts(job=job)
    page = Paginator(selectors.client_proposal_list(job=job, **values), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    keep = request.GET.copy()
    keep.pop("filter", None)
    keep.pop("page", None)
    context = {
        "job": job,
        "filters": filters,
        "values": values,
        "counts": counts,
        "filter_tabs": [
            {"key": key, "label": label, "count": counts[key]}
            for key, (label, _) in selectors.CLIENT_FILTERS.items()
        ],
        "sorts": selectors.CLIENT_SORTS,
        "page": page,
        "query": query.urlencode(),
        "keep": keep.urlencode(),
        "decline_form": DeclineForm(),
        "next": request.get_full_path(),
        "can_act": teams.can(request.user, job, teams.REVIEW_PROPOSALS),
    }
    return render(request, "proposals/job_proposals.html", context)


# --- Connects ----------------------------------------------------------------------------------------------


def _connects_context(
    request: AuthedRequest,
    *,
    buy_form: ConnectsBuyForm | None = None,
    card_form: ConnectsCardForm | None = None,
) -> dict[str, Any]:
    wallet = services.connects_wallet_for(request.user)
    page = Paginator(selectors.connects_history(user=request.user), 25).get_page(request.GET.get("page"))
    gateway = get_gateway()
    packs = services.connects_packs()
    cards = list(payment_selectors.cards_for(request.user))
    if buy_form is None:
        buy_form = ConnectsBuyForm(
            packs=packs, cards=cards, initial={"purchase_key": services.new_purchase_key()}
        )
    return {
        "summary": selectors.connects_summary(wallet=wallet),
        "page": page,
        "packs": packs,
        "cards": cards,
        "buy_form": buy_form,
        "card_form": card_form or ConnectsCardForm(test_cards=gateway.name == "local"),
        "gateway": gateway,
        "price_cents": settings.CONNECTS_PRICE_CENTS,
        "selected_quantity": buy_form.selected("quantity"),
        "selected_card": buy_form.selected("payment_method"),
    }


@login_required
@require_GET
def connects(request: AuthedRequest) -> HttpResponse:
    """The freelancer's Connects: balance, next grant, what proposals cost, buying a pack, the
    history."""
    if not request.user.is_freelancer:
        return render(request, "proposals/connects.html", {"not_freelancer": True})
    return render(request, "proposals/connects.html", _connects_context(request))


def _refuse_non_freelancer(request: AuthedRequest) -> HttpResponse | None:
    if request.user.is_freelancer:
        return None
    messages.error(request, "Connects are for freelancers; switch to freelancing to buy them.")
    return redirect("proposals:connects")


@login_required
@require_POST
def connects_buy(request: AuthedRequest) -> HttpResponse:
    """Buy a pack with a saved card (the charge is made here, outside any transaction)."""
    refused = _refuse_non_freelancer(request)
    if refused is not None:
        return refused
    cards = list(payment_selectors.cards_for(request.user))
    form = ConnectsBuyForm(request.POST, packs=services.connects_packs(), cards=cards)
    if form.is_valid():
        try:
            bought = services.connects_purchase(
                actor=request.user,
                quantity=form.cleaned_data["quantity"],
                purchase_key=form.cleaned_data["purchase_key"],
                payment_method_id=form.cleaned_data["payment_method"],
            )
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            return redirect("proposals:connects")
        except ApplicationError as error:
            add_application_error(form, error)
            messages.error(request, f"No Connects were bought: {error.message}")
        else:
            price = format_cents(bought.price_cents)
            if bought.status == "succeeded":
                messages.success(
                    request,
                    f"You bought {bought.quantity} Connects for {price}. "
                    f"Your balance is {bought.balance} Connects.",
                )
            else:
                messages.info(
                    request,
                    f"Your payment of {price} is being processed; the {bought.quantity} Connects "
                    "will be added as soon as it completes.",
                )
            return redirect("proposals:connects")
    else:
        messages.error(request, "No Connects were bought: check the form below.")
    return render(request, "proposals/connects.html", _connects_context(request, buy_form=form), status=400)


@login_required
@require_POST
def connects_card_add(request: AuthedRequest) -> HttpResponse:
    """Save a card to buy Connects with (payments' own service)."""
    refused = _refuse_non_freelancer(request)
    if refused is not None:
        return refused
    form = ConnectsCardForm(request.POST, test_cards=get_gateway().name == "local")
    if form.is_valid():
        try:
            card = payment_services.payment_method_add(
                actor=request.user,
                card=CardInput(
                    number=form.cleaned_data["number"],
                    exp_month=form.cleaned_data["exp_month"],
                    exp_year=form.cleaned_data["exp_year"],
                    cvc=form.cleaned_data["cvc"],
                ),
            )
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            return redirect("proposals:connects")
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Saved your {card}. Choose a pack to buy Connects with it.")
            return redirect("proposals:connects")
    messages.error(request, "The card was not saved: check the form below.")
    return render(request, "proposals/connects.html", _connects_context(request, card_form=form), status=400)
