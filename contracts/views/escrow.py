"""HTML views of fixed-price escrow: fund, the milestone page (money timeline, submissions),
submit, approve, request changes, refund (and ask for one), bonus.

Thin: parse a form, call one service, redirect with a message. Non-parties get 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.ids import as_ids
from marketplace.money import format_cents
from marketplace.types import AuthedRequest

from .. import escrow, selectors, services
from ..forms import BonusForm, ChangesForm, MilestoneSubmitForm, RefundForm, RefundRequestForm
from ..models import Contract, Milestone


def _contract(request: AuthedRequest, contract_id: int) -> Contract:
    return selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)


def _milestone(request: AuthedRequest, contract_id: int, milestone_id: int) -> tuple[Contract, Milestone]:
    contract = _contract(request, contract_id)
    return contract, selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)


def _error(request: AuthedRequest, error: ApplicationError) -> None:
    url = (error.extra or {}).get("billing_url")
    if url:
        messages.error(request, format_html('{} <a href="{}">Go to Billing</a>.', error.message, url))
    else:
        messages.error(request, error.message)


@login_required
@require_POST
def milestone_fund(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    ids = as_ids(request.POST.getlist("milestone"))
    try:
        result = services.milestone_fund(actor=request.user, contract_id=contract.pk, milestone_ids=ids)
    except ApplicationError as error:
        _error(request, error)
    else:
        for m in result.funded:
            messages.success(
                request, f"Funded “{m.description}”: {format_cents(m.escrow_cents)} is in escrow."
            )
        for m, message in result.failed:
            messages.error(request, f"“{m.description}” was not funded: {message}")
        for m in result.processing:
            messages.warning(
                request, f"The payment for “{m.description}” is being processed; refresh in a moment."
            )
    return redirect("contracts:detail", contract_id=contract.pk)


def _render_milestone(
    request: AuthedRequest, contract: Contract, milestone: Milestone, status: int = 200, **forms: Any
) -> HttpResponse:
    role = contract.party_role(request.user)
    selectors.attach_money_timelines([milestone])
    context = {
        "contract": contract,
        "milestone": milestone,
        "role": role,
        "is_client": role == "client",
        "submissions": selectors.milestone_submissions(milestone),
        "auto_approve_at": escrow.auto_approve_at(milestone),
        "escrow_cents": selectors.contract_escrow_cents(contract),
        "submit_form": forms.get("submit_form") or MilestoneSubmitForm(),
        "changes_form": forms.get("changes_form") or ChangesForm(),
        "refund_form": forms.get("refund_form") or RefundForm(),
        "refund_request_form": forms.get("refund_request_form") or RefundRequestForm(),
        "escrowed": milestone.status in escrow.ESCROWED and not contract.is_ended,
        "can_refund": milestone.status in escrow.ESCROWED and milestone.escrow_cents > 0,
        "receipt": escrow.milestone_receipt(milestone, role),
    }
    return render(request, "contracts/milestone_detail.html", context, status=status)


@login_required
@require_GET
def milestone_detail(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    return _render_milestone(request, contract, milestone)


def _back(contract: Contract, milestone: Milestone) -> HttpResponse:
    return redirect("contracts:milestone_detail", contract_id=contract.pk, milestone_id=milestone.pk)


@login_required
@require_POST
def milestone_submit(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    form = MilestoneSubmitForm(request.POST)
    if form.is_valid():
        try:
            services.milestone_submit(
                actor=request.user,
                milestone_id=milestone.pk,
                message=form.cleaned_data["message"],
                files=request.FILES.getlist("files"),
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Work submitted. The client has been told.")
            return _back(contract, milestone)
    return _render_milestone(request, contract, milestone, status=400, submit_form=form)


@login_required
@require_POST
def milestone_approve(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    try:
        milestone = services.milestone_approve(actor=request.user, milestone_id=milestone.pk)
    except ApplicationError as error:
        _error(request, error)
    else:
        messages.success(request, f"Approved “{milestone.description}”: the payment is released.")
    return _back(contract, milestone)


@login_required
@require_POST
def milestone_request_changes(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    form = ChangesForm(request.POST)
    if form.is_valid():
        try:
            services.milestone_request_changes(
                actor=request.user, milestone_id=milestone.pk, note=form.cleaned_data["note"]
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Changes requested. The freelancer has been told.")
            return _back(contract, milestone)
    return _render_milestone(request, contract, milestone, status=400, changes_form=form)


@login_required
@require_POST
def milestone_refund(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            milestone = services.milestone_refund(
                actor=request.user,
                milestone_id=milestone.pk,
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Refunded {format_cents(milestone.refunded_cents)} to the client.")
            return _back(contract, milestone)
    return _render_milestone(request, contract, milestone, status=400, refund_form=form)


@login_required
@require_POST
def milestone_refund_request(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract, milestone = _milestone(request, contract_id, milestone_id)
    form = RefundRequestForm(request.POST)
    if form.is_valid():
        try:
            services.milestone_refund_request(
                actor=request.user, milestone_id=milestone.pk, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Refund requested. The freelancer has been told.")
            return _back(contract, milestone)
    return _render_milestone(request, contract, milestone, status=400, refund_request_form=form)


@login_required
def contract_bonus(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = BonusForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            bonus = services.contract_bonus(
                actor=request.user,
                contract_id=contract.pk,
                amount_cents=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            add_application_error(form, error)
            if (error.extra or {}).get("billing_url"):
                _error(request, error)
        else:
            messages.success(request, f"Bonus of {format_cents(bonus.amount_cents)} paid.")
            return redirect("contracts:detail", contract_id=contract.pk)
    context = {"contract": contract, "form": form, "billing_url": reverse("payments:billing")}
    return render(request, "contracts/bonus.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def milestone_suspension_refund(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    """The client of a suspended freelancer gets the escrow back in one click (a dispute
    under the usual rules: ``contracts.suspension``)."""
    from ..suspension import milestone_dispute_for_suspension

    contract, milestone = _milestone(request, contract_id, milestone_id)
    try:
        dispute = milestone_dispute_for_suspension(actor=request.user, milestone_id=milestone.pk)
    except ApplicationError as error:
        _error(request, error)
        return _back(contract, milestone)
    messages.success(
        request,
        "A dispute is open for this escrow. If the freelancer does not answer in time, the money is refunded.",
    )
    return redirect("contracts:dispute_detail", dispute_id=dispute.pk)
