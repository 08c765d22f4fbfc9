"""HTML views of weekly timesheets (hourly contracts): the list per contract, the week's
page (billed figures, segments, money timeline, receipts) and the client's "retry the
payment now". Thin: read through ``contracts.billing``'s reads, call one service, redirect
with a message. Anyone who is not a party gets a 404."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.types import AuthedRequest

from .. import billing, selectors
from ..models import SEGMENT_MINUTES, Contract, Timesheet


def _contract(request: AuthedRequest, contract_id: int) -> Contract:
    return selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)


def diary_url(contract: Contract, week_start: date) -> str:
    """The work diary at that week (the time tracker's page; a plain path until it exists)."""
    try:
        base = reverse("contracts:diary", kwargs={"contract_id": contract.pk})
    except NoReverseMatch:
        base = f"/contracts/{contract.pk}/diary/"
    return f"{base}?week={week_start.isoformat()}"


def _decorate(contract: Contract, timesheet: Timesheet) -> None:
    """What the pages show beside the stored figures: h:mm texts and the diary link."""
    timesheet.logged_hm = billing.hours_text(timesheet.logged_minutes)  # type: ignore[attr-defined]
    timesheet.billed_hm = billing.hours_text(timesheet.billed_minutes)  # type: ignore[attr-defined]
    timesheet.diary_url = diary_url(contract, timesheet.week_start)  # type: ignore[attr-defined]


@login_required
@require_GET
def timesheet_list(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    role = contract.party_role(request.user)
    timesheets = billing.timesheets_for_contract(contract)
    for timesheet in timesheets:
        _decorate(contract, timesheet)
    current = billing.open_week(contract)
    context = {
        "contract": contract,
        "role": role,
        "is_client": role == "client",
        "timesheets": timesheets,
        "current": current,
        "current_diary_url": diary_url(contract, current.week_start) if current else "",
    }
    return render(request, "contracts/timesheet_list.html", context)


def _timesheet(request: AuthedRequest, contract_id: int, timesheet_id: int) -> tuple[Contract, Timesheet]:
    contract = _contract(request, contract_id)
    return contract, billing.timesheet_get_for_party(contract=contract, timesheet_id=timesheet_id)


def _segments(timesheet: Timesheet) -> list:
    """The week's segments in time order; the first ``billed_minutes`` of them were billed
    (time beyond the weekly limit is recorded, not billed)."""
    segments = list(timesheet.segments.order_by("started_at"))
    billed = timesheet.billed_minutes // SEGMENT_MINUTES
    for index, segment in enumerate(segments):
        segment.billed = index < billed  # type: ignore[attr-defined]
    return segments


@login_required
@require_GET
def timesheet_detail(request: AuthedRequest, contract_id: int, timesheet_id: int) -> HttpResponse:
    contract, timesheet = _timesheet(request, contract_id, timesheet_id)
    role = contract.party_role(request.user)
    _decorate(contract, timesheet)
    charge = billing.billing_charge(timesheet)
    release_entry = billing.release_entry_id(timesheet) if role == "freelancer" else None
    context = {
        "contract": contract,
        "timesheet": timesheet,
        "role": role,
        "is_client": role == "client",
        "segments": _segments(timesheet),
        "steps": billing.money_timeline(timesheet),
        "charge": charge,
        "release_entry_id": release_entry,
        "week_end": timesheet.week_start + timedelta(days=6),
        "can_retry": role == "client" and timesheet.status == Timesheet.Status.PAYMENT_FAILED,
        "over_limit_minutes": timesheet.logged_minutes - timesheet.billed_minutes,
    }
    return render(request, "contracts/timesheet_detail.html", context)


@login_required
@require_POST
def timesheet_retry(request: AuthedRequest, contract_id: int, timesheet_id: int) -> HttpResponse:
    contract, timesheet = _timesheet(request, contract_id, timesheet_id)
    if contract.party_role(request.user) != "client":
        raise Http404("No such timesheet.")
    try:
        result = billing.timesheet_retry_charge(timesheet_id=timesheet.pk, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if result.status == Timesheet.Status.IN_REVIEW:
            messages.success(request, "Payment received. Thank you.")
        elif result.status == Timesheet.Status.PAYMENT_FAILED:
            messages.error(request, f"The payment failed again: {result.charge_failure_message}")
        else:
            messages.warning(request, "The payment is being processed; refresh in a moment.")
    return redirect("contracts:timesheet_detail", contract_id=contract.pk, timesheet_id=timesheet.pk)
