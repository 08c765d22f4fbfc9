"""HTML views of offers: the offer form, an offer's page (accept, decline, withdraw) and the
lists of offers received and sent.

Thin: parse a form, call one service of ``contracts.services``, redirect with a message;
reads come from ``contracts.selectors``. Someone who is not a party gets a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts import teams
from accounts.forms import MoneyField
from accounts.models import ClientProfile
from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.types import AuthedRequest
from proposals.models import Proposal

from .. import selectors, services
from ..forms import OfferDeclineForm, OfferForm, OfferWithdrawForm
from ..models import ContractType, Offer

PAGE_SIZE = 20


def _need_client(request: AuthedRequest) -> HttpResponse:
    return render(request, "jobs/posting/need_client.html")


def _form_money(form: OfferForm) -> dict[str, Any]:
    """The fee lines for what the form holds now (the browser keeps them current as you type)."""
    contract_type, amount = ContractType.FIXED, 0
    if form.is_bound and hasattr(form, "cleaned_data"):
        contract_type = form.cleaned_data.get("contract_type") or contract_type
        if contract_type == ContractType.HOURLY:
            amount = form.cleaned_data.get("hourly_rate") or 0
        else:
            amount = sum(max(m.amount_cents, 0) for m in form.cleaned_data.get("milestone_inputs", []))
    elif not form.is_bound:
        contract_type = form.initial.get("contract_type", contract_type)
        if contract_type == ContractType.HOURLY:
            amount = _cents(form.initial.get("hourly_rate"))
        else:
            amount = sum(_cents(row["amount"]) for row in form.initial.get("milestone_rows", []))
    return selectors.offer_money(contract_type=contract_type, amount_cents=amount)


def _cents(text: Any) -> int:
    try:
        return max(MoneyField(required=False).clean(text) or 0, 0)
    except ValidationError:
        return 0


@login_required
def offer_new(request: AuthedRequest) -> HttpResponse:
    """The offer form: ``?proposal=<id>``, or ``?freelancer=<user id>[&job=<job id>]`` for a
    direct offer. Prefilled from the proposal (or the job)."""
    if not ClientProfile.objects.filter(user=request.user).exists():
        return _need_client(request)
    params = request.GET
    proposal_id, freelancer_id = params.get("proposal"), params.get("freelancer")
    if not proposal_id and not freelancer_id:
        messages.info(request, "Offers are made from a proposal or to a freelancer you invited.")
        return redirect("jobs:mine")
    target = selectors.offer_target(
        client=request.user,
        proposal_id=proposal_id or None,
        freelancer_id=None if proposal_id else freelancer_id,
        job_id=None if proposal_id else params.get("job") or None,
    )
    if target.proposal is None and target.job is not None:
        active = (
            Proposal.objects.filter(
                job=target.job, freelancer=target.freelancer, status__in=Proposal.ACTIVE_STATUSES
            )
            .values_list("pk", flat=True)
            .first()
        )
        if active is not None:  # hire through the proposal, which then counts as hired
            return redirect(f"{reverse('contracts:offer_new')}?{urlencode({'proposal': active})}")
    if target.proposal is not None:
        pending = target.proposal.offers.filter(status=Offer.Status.PENDING).first()
        if pending is not None:
            messages.info(request, "An offer from this proposal is pending already.")
            return redirect("contracts:offer_detail", offer_id=pending.pk)
    initial = {**target.initial, "milestone_rows": target.milestone_rows}
    form = OfferForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        recipient: dict[str, Any] = (
            {"proposal_id": target.proposal.pk}
            if target.proposal is not None
            else {"freelancer_id": target.freelancer.pk, "job_id": target.job.pk if target.job else None}
        )
        try:
            offer = services.offer_create(actor=request.user, data=form.offer_input(**recipient))
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Offer sent to {offer.freelancer.display_name}. They have until "
                f"{offer.expires_at:%b %-d} to answer.",
            )
            return redirect("contracts:offer_detail", offer_id=offer.pk)
    rows = form.milestone_rows()
    context = {
        "form": form,
        "target": target,
        "rows": rows,
        # without JavaScript no row can be added: a few empty ones are shown instead
        "spare_rows": range(len(rows) + 1, len(rows) + 4),
        "money": _form_money(form),
        "milestones_total": sum(_cents(row["amount"]) for row in rows),
        "fee_bps": _fee_bps(),
        "fee_percent": {key: f"{bps / 100:g}" for key, bps in _fee_bps().items()},
    }
    return render(request, "contracts/offer_form.html", context)


def _fee_bps() -> dict[str, int]:
    return {"client": settings.CLIENT_MARKETPLACE_FEE_BPS, "freelancer": settings.FREELANCER_SERVICE_FEE_BPS}


@login_required
@require_GET
def offer_detail(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
    return _render_detail(request, offer)


def _render_detail(request: AuthedRequest, offer: Offer, **forms: Any) -> HttpResponse:
    # a teammate of the job's client team sees the client's side
    role = "freelancer" if offer.freelancer_id == request.user.pk else "client"
    can_withdraw = offer.client_id == request.user.pk or (
        offer.job is not None and role == "client" and teams.can(request.user, offer.job, teams.HIRE)
    )
    amount = (
        offer.hourly_rate_cents if offer.contract_type == ContractType.HOURLY else offer.fixed_amount_cents
    )
    context = {
        "offer": offer,
        "role": role,
        "is_client": role == "client",
        "can_withdraw": can_withdraw,
        "milestones": list(offer.milestones.all()),
        "money": selectors.offer_money(contract_type=offer.contract_type, amount_cents=amount),
        "contract": getattr(offer, "contract", None) if offer.status == Offer.Status.ACCEPTED else None,
        "decline_form": forms.get("decline_form") or OfferDeclineForm(),
        "withdraw_form": forms.get("withdraw_form") or OfferWithdrawForm(),
    }
    return render(request, "contracts/offer_detail.html", context)


@login_required
@require_POST
def offer_accept(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
    try:
        contract = services.offer_accept(actor=request.user, offer_id=offer.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("contracts:offer_detail", offer_id=offer.pk)
    messages.success(request, f"Offer accepted. Your contract “{contract.title}” has started.")
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
@require_POST
def offer_decline(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
    form = OfferDeclineForm(request.POST)
    if form.is_valid():
        try:
            services.offer_decline(actor=request.user, offer_id=offer.pk, **form.cleaned_data)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"You declined the offer. {offer.client.display_name} has been told.")
            return redirect("contracts:offer_detail", offer_id=offer.pk)
    return _render_detail(request, offer, decline_form=form)


@login_required
@require_POST
def offer_withdraw(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
    form = OfferWithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.offer_withdraw(actor=request.user, offer_id=offer.pk, **form.cleaned_data)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Offer withdrawn. {offer.freelancer.display_name} has been told.")
            return redirect("contracts:offer_detail", offer_id=offer.pk)
    return _render_detail(request, offer, withdraw_form=form)


@login_required
@require_GET
def offer_list(request: AuthedRequest) -> HttpResponse:
    """Offers received (freelancer) or sent (client), in pending and past tabs."""
    role = selectors.clean_role(request.user, request.GET.get("role"))
    tab = request.GET.get("tab", "")
    counts = selectors.offer_tab_counts(user=request.user, role=role)
    if tab not in selectors.OFFER_TABS:
        tab = "pending" if counts["pending"] or not counts["past"] else "past"
    page = Paginator(selectors.offer_list(user=request.user, role=role, tab=tab), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tabs = [{"key": key, "label": label, "count": counts[key]} for key, label in selectors.OFFER_TABS.items()]
    context = {"role": role, "tab": tab, "tabs": tabs, "page": page, "total": sum(counts.values())}
    return render(request, "contracts/offer_list.html", context)
