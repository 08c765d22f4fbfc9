"""HTML views of contracts: the lists for each side, the contract page (terms, milestones,
timeline, files, the conversation) and its actions.

Thin: parse a form, call one service of ``contracts.services``, redirect with a message.
A form refused by the service is shown again on the contract page with the error next to
it. Someone who is not a party gets a 404 everywhere.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import teams
from marketplace.errors import ApplicationError, NotFoundError
from marketplace.forms import add_application_error
from marketplace.types import AuthedRequest
from messaging import downloads

from .. import selectors, services
from ..forms import ContractEndForm, ContractFileForm, MilestoneForm, WeeklyLimitForm
from ..models import Contract

PAGE_SIZE = 20


@login_required
@require_GET
def contract_list(request: AuthedRequest) -> HttpResponse:
    role = selectors.clean_role(request.user, request.GET.get("role"))
    status = request.GET.get("status", "")
    if status not in selectors.CONTRACT_FILTERS:
        status = ""
    counts = selectors.contract_status_counts(user=request.user, role=role)
    page = Paginator(
        selectors.contract_list(user=request.user, role=role, status=status), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    filters = [
        {"key": key, "label": label, "count": counts[key]}
        for key, label in selectors.CONTRACT_FILTERS.items()
    ]
    context = {"role": role, "status": status, "filters": filters, "page": page, "total": counts[""]}
    return render(request, "contracts/contract_list.html", context)


def _render_contract(
    request: AuthedRequest, contract: Contract, status: int = 200, **forms: Any
) -> HttpResponse:
    page = selectors.contract_page(
        contract=contract, viewer=request.user, all_events=request.GET.get("timeline") == "all"
    )
    if page.role not in ("client", "freelancer"):  # a teammate of the job's client team reads
        teams.conversation_join_for_job(
            actor=request.user, job=contract.job, conversation=contract.conversation
        )
        return render(request, "accounts/teams/contract_readonly.html", {"contract": contract, "page": page})
    context = {
        "contract": contract,
        "page": page,
        "milestone_form": forms.get("milestone_form") or MilestoneForm(),
        "weekly_limit_form": forms.get("weekly_limit_form")
        or WeeklyLimitForm(initial={"weekly_limit_hours": contract.weekly_limit_hours}),
        "end_form": forms.get("end_form") or ContractEndForm(),
        "file_form": forms.get("file_form") or ContractFileForm(),
    }
    return render(request, "contracts/contract_detail.html", context, status=status)


def _contract(request: AuthedRequest, contract_id: int) -> Contract:
    return selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)


@login_required
@require_GET
def contract_detail(request: AuthedRequest, contract_id: int) -> HttpResponse:
    try:
        contract = _contract(request, contract_id)
    except NotFoundError:  # a teammate of the job's client team reads it (accounts.teams)
        contract = selectors.contract_get_for_teammate(contract_id=contract_id, viewer=request.user)
    return _render_contract(request, contract)


def _simple_action(request: AuthedRequest, contract_id: int, action: Any, done: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    try:
        action(actor=request.user, contract_id=contract.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
@require_POST
def contract_pause(request: AuthedRequest, contract_id: int) -> HttpResponse:
    return _simple_action(
        request,
        contract_id,
        services.contract_pause,
        "Contract paused. The freelancer cannot log time until you resume it.",
    )


@login_required
@require_POST
def contract_resume(request: AuthedRequest, contract_id: int) -> HttpResponse:
    return _simple_action(request, contract_id, services.contract_resume, "Contract resumed.")


@login_required
@require_POST
def contract_weekly_limit(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = WeeklyLimitForm(request.POST)
    if form.is_valid():
        try:
            contract = services.contract_set_weekly_limit(
                actor=request.user,
                contract_id=contract.pk,
                weekly_limit_hours=form.cleaned_data["weekly_limit_hours"],
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            limit = contract.weekly_limit_hours
            messages.success(
                request,
                f"Weekly limit set to {limit} hours." if limit else "The contract has no weekly limit now.",
            )
            return redirect("contracts:detail", contract_id=contract.pk)
    return _render_contract(request, contract, weekly_limit_form=form)


@login_required
@require_POST
def contract_end(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = ContractEndForm(request.POST)
    if form.is_valid():
        try:
            services.contract_end(actor=request.user, contract_id=contract.pk, **form.cleaned_data)
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"The contract “{contract.title}” has ended.")
            return redirect("contracts:detail", contract_id=contract.pk)
    return _render_contract(request, contract, end_form=form)


@login_required
@require_POST
def milestone_add(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            milestone = services.milestone_add(
                actor=request.user, contract_id=contract.pk, data=form.milestone_input()
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Milestone added: {milestone.description}.")
            return redirect("contracts:detail", contract_id=contract.pk)
    return _render_contract(request, contract, milestone_form=form)


@login_required
def milestone_edit(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
    initial = {
        "description": milestone.description,
        "amount": f"{milestone.amount_cents // 100}.{milestone.amount_cents % 100:02d}",
        "due_date": milestone.due_date,
    }
    form = MilestoneForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.milestone_update(
                actor=request.user, milestone_id=milestone.pk, data=form.milestone_input()
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Milestone saved.")
            return redirect("contracts:detail", contract_id=contract.pk)
    context = {"contract": contract, "milestone": milestone, "form": form}
    return render(request, "contracts/milestone_edit.html", context)


@login_required
@require_POST
def milestone_delete(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
    try:
        services.milestone_delete(actor=request.user, milestone_id=milestone.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Milestone removed: {milestone.description}.")
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
@require_POST
def file_upload(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = ContractFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            item = services.contract_file_add(
                actor=request.user, contract_id=contract.pk, upload=form.cleaned_data["file"]
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Shared {item.original_name}.")
            return redirect("contracts:detail", contract_id=contract.pk)
    return _render_contract(request, contract, file_form=form)


@login_required
@require_GET
def file_download(request: AuthedRequest, contract_id: int, file_id: int) -> FileResponse:
    item = selectors.contract_file_get_for_party(
        contract_id=contract_id, file_id=file_id, viewer=request.user
    )
    content_type = mimetypes.guess_type(item.original_name)[0] or "application/octet-stream"
    return downloads.file_response(
        item.file, filename=item.original_name, content_type=content_type, inline=False
    )
