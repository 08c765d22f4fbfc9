"""HTML views of disputes: open one on a milestone (or reject a refund request, which opens
one), the dispute page (timeline, statements with files, proposals with accept and reject,
the escrow at stake), add a statement, propose a split, and the list of the user's disputes.

Thin: parse a form, call one service of ``contracts.disputes``, redirect with a message.
The dispute page is for the two parties and staff; anyone else gets 404.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import MoneyField
from marketplace.errors import ApplicationError, NotFoundError
from marketplace.forms import add_application_error
from marketplace.money import format_cents
from marketplace.types import AuthedRequest
from messaging import downloads

from .. import disputes, selectors
from ..models import Dispute, SettlementProposal, Timesheet

# --- forms --------------------------------------------------------------------------------------------


class DisputeOpenForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *disputes.FIXED_REASONS.items()], label="Reason"
    )
    statement = forms.CharField(
        max_length=disputes.STATEMENT_MAX,
        label="What went wrong?",
        help_text="State your case: what was agreed, what happened, what you want. The other side and staff read it.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class RefundRejectForm(forms.Form):
    statement = forms.CharField(
        max_length=disputes.STATEMENT_MAX,
        label="Why do you reject the refund request?",
        help_text="A dispute opens: the client has 5 days to answer, and staff can mediate.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class TimesheetDisputeForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *disputes.HOURLY_REASONS.items()], label="Reason"
    )
    statement = forms.CharField(
        max_length=disputes.STATEMENT_MAX,
        label="What is wrong with this week?",
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class StatementForm(forms.Form):
    text = forms.CharField(
        max_length=disputes.STATEMENT_MAX, label="Your statement", widget=forms.Textarea(attrs={"rows": 4})
    )


class ProposalForm(forms.Form):
    refund = MoneyField(label="Refund to the client (USD)")
    release = MoneyField(label="Release to the freelancer (USD)")
    note = forms.CharField(
        required=False,
        max_length=disputes.NOTE_MAX,
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- helpers ------------------------------------------------------------------------------------------


def _files(request: AuthedRequest) -> list[Any]:
    return request.FILES.getlist("files")


def _dispute(request: AuthedRequest, dispute_id: int) -> Dispute:
    return disputes.dispute_get_for_viewer(dispute_id=dispute_id, viewer=request.user)


def _back(dispute: Dispute) -> HttpResponse:
    return redirect("contracts:dispute_detail", dispute_id=dispute.pk)


def _render_detail(
    request: AuthedRequest, dispute: Dispute, status: int = 200, **forms_: Any
) -> HttpResponse:
    contract = dispute.contract
    role = contract.party_role(request.user)
    proposals = disputes.dispute_proposals(dispute)
    pending = next((p for p in proposals if p.status == SettlementProposal.Status.PENDING), None)
    segments = disputes.dispute_segments(dispute)
    context = {
        "dispute": dispute,
        "contract": contract,
        "role": role,
        "is_staff_viewer": role is None,
        "opener_side": disputes.opener_side(dispute, contract),
        "reason": disputes.reason_label(dispute.reason),
        "statements": disputes.dispute_statements(dispute),
        "proposals": proposals,
        "pending": pending,
        "can_answer": bool(pending and role and pending.proposed_by_id != request.user.pk),
        "events": [(e, selectors.event_text(e)) for e in disputes.dispute_events(dispute)],
        "segments": segments,
        "flagged_count": sum(1 for row in segments if row.flagged),
        "escrow_cents": selectors.contract_escrow_cents(contract),
        "unresolved": dispute.status != Dispute.Status.RESOLVED,
        "statement_form": forms_.get("statement_form") or StatementForm(),
        "proposal_form": forms_.get("proposal_form") or ProposalForm(),
    }
    return render(request, "contracts/dispute_detail.html", context, status=status)


# --- pages --------------------------------------------------------------------------------------------


@login_required
@require_GET
def dispute_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    page = Paginator(disputes.dispute_list_for_user(user=request.user, status=status), 20).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "status": status, "statuses": Dispute.Status.choices}
    return render(request, "contracts/dispute_list.html", context)


@login_required
@require_GET
def dispute_detail(request: AuthedRequest, dispute_id: int) -> HttpResponse:
    return _render_detail(request, _dispute(request, dispute_id))


@login_required
def milestone_dispute_open(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
    existing = disputes.latest_dispute_for_milestone(milestone)
    if existing is not None and existing.status != Dispute.Status.RESOLVED:
        messages.info(request, "This milestone is already in dispute.")
        return _back(existing)
    form = DisputeOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes.dispute_open(
                actor=request.user,
                milestone_id=milestone.pk,
                reason=form.cleaned_data["reason"],
                statement=form.cleaned_data["statement"],
                files=_files(request),
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Dispute opened: the {format_cents(dispute.amount_cents)} in escrow is frozen and the other side "
                f"has until {dispute.response_due_at:%b %d, %Y} to answer.",
            )
            return _back(dispute)
    context = {
        "contract": contract,
        "milestone": milestone,
        "form": form,
        "mode": "open",
        "can_dispute": milestone.status in disputes.ESCROWED
        and milestone.escrow_cents > 0
        and not contract.is_ended,
        "response_days": disputes.FIXED_RESPONSE_DAYS,
    }
    return render(request, "contracts/dispute_open.html", context, status=400 if form.errors else 200)


@login_required
def milestone_refund_reject(request: AuthedRequest, contract_id: int, milestone_id: int) -> HttpResponse:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
    form = RefundRejectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes.milestone_refund_request_reject(
                actor=request.user,
                milestone_id=milestone.pk,
                statement=form.cleaned_data["statement"],
                files=_files(request),
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request, "You rejected the refund request: a dispute is open and the client is told."
            )
            return _back(dispute)
    context = {
        "contract": contract,
        "milestone": milestone,
        "form": form,
        "mode": "reject",
        "can_dispute": (
            contract.party_role(request.user) == "freelancer"
            and milestone.refund_requested_at is not None
            and milestone.status in disputes.ESCROWED
            and not contract.is_ended
        ),
        "response_days": disputes.FIXED_RESPONSE_DAYS,
    }
    return render(request, "contracts/dispute_open.html", context, status=400 if form.errors else 200)


@login_required
def timesheet_dispute_open(request: AuthedRequest, contract_id: int, timesheet_id: int) -> HttpResponse:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    timesheet = Timesheet.objects.filter(pk=timesheet_id, contract=contract).first()
    if timesheet is None:
        raise NotFoundError("No such timesheet.")
    existing = Dispute.objects.filter(timesheet=timesheet).exclude(status=Dispute.Status.RESOLVED).first()
    if existing is not None:
        messages.info(request, "This week is already in dispute.")
        return _back(existing)
    form = TimesheetDisputeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        ids = [int(v) for v in request.POST.getlist("segment") if v.isascii() and v.isdigit() and len(v) < 19]
        try:
            dispute = disputes.timesheet_dispute_open(
                actor=request.user,
                timesheet_id=timesheet.pk,
                reason=form.cleaned_data["reason"],
                statement=form.cleaned_data["statement"],
                segment_ids=ids,
                files=_files(request),
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Dispute opened on {format_cents(dispute.disputed_cents)}: the week's payment is frozen and the "
                f"freelancer has until {dispute.response_due_at:%b %d, %Y} to answer.",
            )
            return _back(dispute)
    billable = disputes.billable_segment_ids(timesheet)
    segments = [
        disputes.SegmentRow(segment=s, disputed=False, billable=s.pk in billable, no_memo=not s.memo.strip())
        for s in timesheet.segments.order_by("started_at")
    ]
    context = {
        "contract": contract,
        "timesheet": timesheet,
        "form": form,
        "mode": "timesheet",
        "segments": segments,
        "can_dispute": (
            contract.party_role(request.user) == "client"
            and timesheet.status == Timesheet.Status.IN_REVIEW
            and disputes.hourly_disputes_available()
        ),
        "response_days": disputes.HOURLY_RESPONSE_DAYS,
    }
    return render(request, "contracts/dispute_open.html", context, status=400 if form.errors else 200)


# --- actions ------------------------------------------------------------------------------------------


@login_required
@require_POST
def dispute_statement(request: AuthedRequest, dispute_id: int) -> HttpResponse:
    dispute = _dispute(request, dispute_id)
    form = StatementForm(request.POST)
    if form.is_valid():
        try:
            disputes.dispute_statement_add(
                actor=request.user,
                dispute_id=dispute.pk,
                text=form.cleaned_data["text"],
                files=_files(request),
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, "Statement added. The other side has been told.")
            return _back(dispute)
    return _render_detail(request, dispute, status=400, statement_form=form)


@login_required
@require_POST
def dispute_propose(request: AuthedRequest, dispute_id: int) -> HttpResponse:
    dispute = _dispute(request, dispute_id)
    form = ProposalForm(request.POST)
    if form.is_valid():
        try:
            proposal = disputes.dispute_propose(
                actor=request.user,
                dispute_id=dispute.pk,
                refund_cents=form.cleaned_data["refund"],
                release_cents=form.cleaned_data["release"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            if (error.extra or {}).get("field") == "refund_cents":
                form.add_error("refund", error.message)
            else:
                add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Proposal sent: {format_cents(proposal.refund_cents)} to the client, "
                f"{format_cents(proposal.release_cents)} to the freelancer.",
            )
            return _back(dispute)
    return _render_detail(request, dispute, status=400, proposal_form=form)


@login_required
@require_POST
def proposal_accept(request: AuthedRequest, dispute_id: int, proposal_id: int) -> HttpResponse:
    dispute = _dispute(request, dispute_id)
    if not dispute.proposals.filter(pk=proposal_id).exists():
        raise NotFoundError("No such proposal.")
    try:
        resolved = disputes.dispute_proposal_accept(actor=request.user, proposal_id=proposal_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Settled: {format_cents(resolved.refund_cents)} is refunded to the client and "
            f"{format_cents(resolved.release_cents)} released to the freelancer.",
        )
    return _back(dispute)


@login_required
@require_POST
def proposal_reject(request: AuthedRequest, dispute_id: int, proposal_id: int) -> HttpResponse:
    dispute = _dispute(request, dispute_id)
    if not dispute.proposals.filter(pk=proposal_id).exists():
        raise NotFoundError("No such proposal.")
    try:
        disputes.dispute_proposal_reject(actor=request.user, proposal_id=proposal_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Proposal rejected. You can make your own.")
    return _back(dispute)


@login_required
@require_GET
def dispute_file(request: AuthedRequest, dispute_id: int, file_id: int) -> FileResponse:
    """A file of a statement, for the parties and staff."""
    dispute = _dispute(request, dispute_id)
    item = disputes.dispute_file_get(dispute=dispute, file_id=file_id)
    content_type = mimetypes.guess_type(item.original_name)[0] or "application/octet-stream"
    return downloads.file_response(
        item.file, filename=item.original_name, content_type=content_type, inline=False
    )
