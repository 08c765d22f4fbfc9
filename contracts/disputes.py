"""Disputes: a disagreement about money in escrow, on one funded milestone (fixed price) or
one billed timesheet (hourly). Services (writes) and selectors (reads) of ``Dispute``,
``DisputeStatement`` and ``SettlementProposal``.

Flow: a party opens a dispute (the client or the freelancer on an escrowed milestone, the
freelancer by rejecting the client's refund request, the client on a timesheet in review)
with a reason and a statement; the escrow is frozen (the milestone becomes ``disputed``,
which approval, refund, submission and auto-approval all refuse; the timesheet becomes
``disputed`` through ``contracts.billing``). The other side has ``response_due_at`` (5 days
fixed, 3 days hourly) to answer with a statement (-> ``responded``); both may add
statements and files while it is unresolved. Either side proposes a split of the disputed
escrow (refund + release == ``amount_cents``); the other accepts it in one click or rejects
it; a newer proposal supersedes the pending one. Staff resolve with a split in Django admin.
Silence: a beat task resolves an unanswered dispute past its date for the opener.

Money (fixed price), in ``_resolve_milestone`` with the contract, the milestone and the
dispute locked (in that order, like ``contracts.escrow``): ``release_cents`` is released
to the freelancer at once through ``payments.services.escrow_release`` (minus the service
fee, key ``milestone-release:<id>``, so a milestone is released at most once whatever the
path); ``refund_cents`` is reserved on the milestone (``refund_pending_cents``) and the
gateway refund is sent after commit, outside any lock, by the existing refund machinery
(task ``contracts.refund_milestone``; a lost task is resent by the escrow sweeper), whose
settlement handler lowers ``escrow_cents`` to zero. The milestone goes ``disputed ->
resolved`` in the same transaction. A resolved dispute cannot be resolved again: the
status is checked under the dispute's lock, so of two concurrent resolutions one wins and
the other gets ``illegal_transition``.

Money (hourly): the split is carried out by ``contracts.billing.timesheet_settle_split``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import require_can_act
from marketplace.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    field_error,
)
from marketplace.money import format_cents
from messaging.models import NotificationKind
from payments import services as payments

from .models import (
    Contract,
    ContractEvent,
    ContractFile,
    Dispute,
    DisputeStatement,
    Milestone,
    SettlementProposal,
    TimeSegment,
    Timesheet,
)
from .services import (
    MAX_FILES,
    _is_int,
    _on_commit_notify,
    _pk,
    _post_system,
    milestone_transition,
    store_contract_file,
)

log = logging.getLogger(__name__)

FIXED_RESPONSE_DAYS = 5  # the other side's time to answer a milestone dispute
HOURLY_RESPONSE_DAYS = 3  # the freelancer's time to answer a timesheet dispute
STATEMENT_MAX = 5000
NOTE_MAX = 500
RESOLUTION_NOTE_MAX = 1000
MAX_STATEMENT_FILES = 5
SILENCE_BATCH = 200
STUCK_SETTLEMENT_AFTER = timedelta(minutes=10)

# reason codes (Dispute.reason), with their labels
FIXED_REASONS: dict[str, str] = {
    "not_delivered": "The work was not delivered",
    "quality": "The work does not match what was agreed",
    "scope": "Disagreement about the scope",
    "unresponsive": "The other side stopped responding",
    "payment": "The payment is being withheld",
    "other": "Something else",
}
REFUND_REJECTED = "refund_rejected"
HOURLY_REASONS: dict[str, str] = {
    "hours_inflated": "More hours were billed than were worked",
    "not_related": "The work logged is not for this contract",
    "quality": "The work does not match what was agreed",
    "other": "Something else",
}
REASON_LABELS: dict[str, str] = {
    **FIXED_REASONS,
    **HOURLY_REASONS,
    REFUND_REJECTED: "The freelancer rejected the client's refund request",
}
ESCROWED = (Milestone.Status.FUNDED, Milestone.Status.SUBMITTED, Milestone.Status.CHANGES_REQUESTED)


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


def dispute_url(dispute: Dispute) -> str:
    return reverse("contracts:dispute_detail", kwargs={"dispute_id": dispute.pk})


# --- helpers ------------------------------------------------------------------------------------------


def _clean_text(value: Any, *, field: str, required: str, limit: int = STATEMENT_MAX) -> str:
    text = str(value or "").strip()
    if not text:
        raise field_error(required, f"{field}_required", field)
    if len(text) > limit:
        raise field_error(f"This is limited to {limit} characters.", f"{field}_too_long", field)
    return text


def _clean_note(value: Any, limit: int = NOTE_MAX) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise field_error(f"The note is limited to {limit} characters.", "note_too_long", "note")
    return text


def _store_files(contract: Contract, actor: User, files: list[UploadedFile] | None) -> list[ContractFile]:
    """Store statement files privately on the contract (the contract is locked by the caller)."""
    uploads = list(files or [])
    if len(uploads) > MAX_STATEMENT_FILES:
        raise field_error(f"Attach at most {MAX_STATEMENT_FILES} files.", "too_many_files", "files")
    if uploads and ContractFile.objects.filter(contract=contract).count() + len(uploads) > MAX_FILES:
        raise field_error(f"A contract holds at most {MAX_FILES} files.", "too_many_files", "files")
    stored: list[ContractFile] = []
    try:
        for upload in uploads:
            stored.append(store_contract_file(contract, actor, upload, field_name="files"))
    except Exception:  # a later file was refused: the transaction rolls back, drop the stored ones
        for item in stored:
            item.file.storage.delete(item.file.name or "")
        raise
    return stored


def _add_statement(
    dispute: Dispute, contract: Contract, actor: User, text: str, files: list[UploadedFile] | None
) -> DisputeStatement:
    stored = _store_files(contract, actor, files)
    statement = DisputeStatement.objects.create(dispute=dispute, author=actor, text=text)
    if stored:
        statement.files.set(stored)
    return statement


def _event(
    dispute: Dispute,
    *,
    actor: User | None,
    kind: str,
    data: dict[str, Any],
    status_from: str = "",
    to: str = "",
) -> ContractEvent:
    subject: dict[str, Any] = {"dispute": dispute.pk}
    if dispute.timesheet_id:
        subject["timesheet"] = dispute.timesheet_id
    return ContractEvent.objects.create(
        contract_id=dispute.contract_id,
        milestone_id=dispute.milestone_id,
        actor=actor,
        kind=kind,
        from_status=status_from,
        to_status=to,
        data={**subject, **data},
    )


def _subject_text(dispute: Dispute) -> str:
    if dispute.milestone_id is not None:
        return f"“{dispute.milestone.description}”"  # type: ignore[union-attr]
    timesheet = dispute.timesheet
    assert timesheet is not None
    return f"the week of {timesheet.week_start:%b %d, %Y}"


def _notify_both(contract: Contract, dispute: Dispute, text: str) -> None:
    url = dispute_url(dispute)
    for user_id in (contract.client_id, contract.freelancer_id):
        _on_commit_notify(user_id, NotificationKind.PAYMENT, text, url, contract)


def opener_side(dispute: Dispute, contract: Contract | None = None) -> str:
    contract = contract or dispute.contract
    return "client" if dispute.opened_by_id == contract.client_id else "freelancer"


def _contract_locked(contract_id: int) -> Contract:
    return Contract.objects.select_for_update(no_key=True).get(pk=contract_id)


@dataclass
class Locked:
    contract: Contract
    dispute: Dispute
    milestone: Milestone | None


def _dispute_for_update(dispute_id: Any, actor: User | None, *, staff: bool = False) -> Locked:
    """Lock the dispute's contract, its milestone, then the dispute (the escrow lock order).
    ``actor`` must be a party (or staff with ``staff=True``); anyone else gets 404."""
    if actor is not None:
        require_can_act(actor)
    row = Dispute.objects.filter(pk=_pk(dispute_id)).values("contract_id", "milestone_id").first()
    if row is None:
        raise NotFoundError("No such dispute.")
    contract = _contract_locked(row["contract_id"])
    if actor is not None and contract.party_role(actor) is None and not (staff and actor.is_staff):
        raise NotFoundError("No such dispute.")
    milestone = None
    if row["milestone_id"] is not None:
        milestone = Milestone.objects.select_for_update(no_key=True).get(pk=row["milestone_id"])
    dispute = Dispute.objects.select_for_update(no_key=True).get(pk=_pk(dispute_id))
    dispute.contract = contract
    if milestone is not None:
        dispute.milestone = milestone
    return Locked(contract, dispute, milestone)


def _require_unresolved(dispute: Dispute) -> None:
    if dispute.status == Dispute.Status.RESOLVED:
        raise ApplicationError(
            "This dispute is resolved; it cannot change any more.",
            code="illegal_transition",
            extra={"from": dispute.status},
        )


def _move(dispute: Dispute, to: str) -> str:
    if to not in Dispute.TRANSITIONS[dispute.status]:
        raise ApplicationError(
            f"A dispute that is {dispute.get_status_display().lower()} cannot become "
            f"{Dispute.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": dispute.status, "to": to},
        )
    old = dispute.status
    dispute.status = to
    return old


def _check_split(dispute: Dispute, refund_cents: Any, release_cents: Any) -> tuple[int, int]:
    if not _is_int(refund_cents) or not _is_int(release_cents) or refund_cents < 0 or release_cents < 0:
        raise field_error(
            "The refund and the release are whole, non-negative amounts in cents.",
            "invalid_split",
            "refund_cents",
        )
    if refund_cents + release_cents != dispute.amount_cents:
        raise field_error(
            f"The refund and the release must add up to {format_cents(dispute.amount_cents)} "
            f"(the escrow in dispute); they add up to {format_cents(refund_cents + release_cents)}.",
            "split_not_summing",
            "refund_cents",
            amount_cents=dispute.amount_cents,
        )
    return refund_cents, release_cents


# --- open (fixed price) -------------------------------------------------------------------------------


def _open_on_milestone(
    *,
    actor: User,
    milestone_id: Any,
    reason: str,
    statement: Any,
    files: list[UploadedFile] | None,
    reasons: dict[str, str] | None,
) -> Dispute:
    require_can_act(actor)
    contract_id = Milestone.objects.filter(pk=_pk(milestone_id)).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFoundError("No such milestone.")
    contract = _contract_locked(contract_id)
    role = contract.party_role(actor)
    if role is None:
        raise NotFoundError("No such milestone.")
    milestone = Milestone.objects.select_for_update(no_key=True).get(pk=_pk(milestone_id))
    if not contract.is_fixed:
        raise ApplicationError("Milestones are for fixed-price contracts.", code="not_fixed")
    if contract.is_ended:
        raise ApplicationError(
            "This contract has ended; it can no longer be disputed.", code="contract_ended"
        )
    if reasons is not None and reason not in reasons:
        raise field_error("Choose a reason.", "invalid_reason", "reason")
    text = _clean_text(statement, field="statement", required="Describe the problem.")
    if milestone.status not in ESCROWED or milestone.escrow_cents <= 0:
        raise ApplicationError(
            f"Only a funded milestone with money in escrow can be disputed; this one is "
            f"{milestone.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": milestone.status, "to": Milestone.Status.DISPUTED},
        )
    if milestone.refund_pending_cents:
        raise ConflictError(
            "A refund of this milestone is being processed; try again in a moment.", code="refund_in_progress"
        )
    now = timezone.now()
    dispute = Dispute.objects.create(
        contract=contract,
        milestone=milestone,
        opened_by=actor,
        reason=reason,
        amount_cents=milestone.escrow_cents,
        disputed_cents=milestone.escrow_cents,
        response_due_at=now + timedelta(days=FIXED_RESPONSE_DAYS),
        created_at=now,
    )
    dispute.contract = contract
    dispute.milestone = milestone
    _add_statement(dispute, contract, actor, text, files)
    milestone_transition(
        milestone,
        to=Milestone.Status.DISPUTED,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_OPENED,
        data={"dispute": dispute.pk, "reason": reason, "escrow_cents": milestone.escrow_cents},
    )
    milestone.save(update_fields=["status", "status_changed_at", "updated_at"])
    other = contract.freelancer_id if role == "client" else contract.client_id
    _on_commit_notify(
        other,
        NotificationKind.PAYMENT,
        f"{actor.display_name} opened a dispute about “{milestone.description}” on “{contract.title}” "
        f"({reason_label(reason).lower()}). The {format_cents(dispute.amount_cents)} in escrow is frozen. "
        f"Answer by {dispute.response_due_at:%b %d, %Y %H:%M} UTC, or the dispute is decided for them.",
        dispute_url(dispute),
        contract,
    )
    _post_system(
        contract.conversation_id,
        f"A dispute was opened about “{milestone.description}”: the escrow is frozen until it is resolved.",
    )
    return dispute


@transaction.atomic
def dispute_open(
    *,
    actor: User,
    milestone_id: int,
    reason: str,
    statement: str,
    files: list[UploadedFile] | None = None,
) -> Dispute:
    """Either party reports a problem with an escrowed milestone (funded, submitted or
    changes requested): the milestone becomes ``disputed`` (escrow frozen), the other side
    has FIXED_RESPONSE_DAYS to answer and is notified."""
    return _open_on_milestone(
        actor=actor,
        milestone_id=milestone_id,
        reason=str(reason or ""),
        statement=statement,
        files=files,
        reasons=FIXED_REASONS,
    )


@transaction.atomic
def milestone_refund_request_reject(
    *, actor: User, milestone_id: int, statement: str, files: list[UploadedFile] | None = None
) -> Dispute:
    """The freelancer rejects the client's refund request: a dispute opens (the freelancer is
    the opener, with their statement) and the client has FIXED_RESPONSE_DAYS to answer."""
    require_can_act(actor)
    found = (
        Milestone.objects.filter(pk=_pk(milestone_id))
        .values("contract__client_id", "contract__freelancer_id", "refund_requested_at")
        .first()
    )
    if found is None or actor.pk not in (found["contract__client_id"], found["contract__freelancer_id"]):
        raise NotFoundError("No such milestone.")
    if found["contract__freelancer_id"] != actor.pk:
        raise PermissionDeniedError("Only the freelancer can reject a refund request.", code="wrong_party")
    if found["refund_requested_at"] is None:
        raise ApplicationError(
            "The client has not asked for a refund of this milestone.", code="no_refund_request"
        )
    return _open_on_milestone(
        actor=actor,
        milestone_id=milestone_id,
        reason=REFUND_REJECTED,
        statement=statement,
        files=files,
        reasons=None,
    )


# --- open (hourly) -------------------------------------------------------------------------------------


def segment_share_cents(timesheet: Timesheet, billable_count: int) -> int:
    """What ``billable_count`` ten-minute segments of ``timesheet`` cost, rounded half up
    (a whole timesheet costs exactly its amount)."""
    if timesheet.billed_minutes <= 0:
        return 0
    minutes = min(billable_count * 10, timesheet.billed_minutes)
    return (timesheet.amount_cents * minutes * 2 + timesheet.billed_minutes) // (2 * timesheet.billed_minutes)


def billable_segment_ids(timesheet: Timesheet) -> set[int]:
    """The segments the timesheet bills: the first ``billed_minutes`` of the week in time
    order (time beyond the weekly limit is recorded but not billed)."""
    count = timesheet.billed_minutes // 10
    return set(
        TimeSegment.objects.filter(timesheet=timesheet)
        .order_by("started_at")
        .values_list("pk", flat=True)[:count]
    )


def _billing() -> Any:
    from . import billing

    return billing


def hourly_disputes_available() -> bool:
    try:
        billing = _billing()
    except ImportError:
        return False
    return hasattr(billing, "timesheet_freeze_for_dispute") and hasattr(billing, "timesheet_settle_split")


@transaction.atomic
def timesheet_dispute_open(
    *,
    actor: User,
    timesheet_id: int,
    reason: str,
    statement: str,
    segment_ids: list[int] | None = None,
    files: list[UploadedFile] | None = None,
) -> Dispute:
    """The client disputes a timesheet in review, before ``review_ends_at``: all of it
    (``segment_ids`` empty) or chosen segments (``disputed_cents`` is their share of the
    week's amount). The timesheet is frozen (``billing.timesheet_freeze_for_dispute``, in
    this transaction, after the contract lock: billing's lock order); the freelancer has
    HOURLY_RESPONSE_DAYS to answer."""
    if not hourly_disputes_available():
        raise ApplicationError("Hourly disputes are not available yet.", code="not_available")
    billing = _billing()
    require_can_act(actor)
    wanted = segment_ids or []
    if not isinstance(wanted, list | tuple) or not all(_is_int(i) for i in wanted):
        raise field_error("Choose segments of this week.", "invalid_segments", "segment_ids")
    contract_id = Timesheet.objects.filter(pk=_pk(timesheet_id)).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFoundError("No such timesheet.")
    contract = _contract_locked(contract_id)
    role = contract.party_role(actor)
    if role is None:
        raise NotFoundError("No such timesheet.")
    if role != "client":
        raise PermissionDeniedError("Only the client can dispute a timesheet.", code="wrong_party")
    if reason not in HOURLY_REASONS:
        raise field_error("Choose a reason.", "invalid_reason", "reason")
    text = _clean_text(statement, field="statement", required="Describe the problem.")
    timesheet = billing.timesheet_freeze_for_dispute(timesheet_id=_pk(timesheet_id))  # locks, checks, moves
    if timesheet.escrow_cents <= 0:
        raise ApplicationError("Nothing of this week is in escrow.", code="nothing_in_escrow")
    segments = list(TimeSegment.objects.filter(timesheet=timesheet, pk__in=list(wanted)))
    if len(segments) != len(set(wanted)):
        raise field_error("Choose segments of this week.", "invalid_segments", "segment_ids")
    if segments:
        billable = billable_segment_ids(timesheet)
        disputed = min(
            segment_share_cents(timesheet, sum(1 for s in segments if s.pk in billable)),
            timesheet.escrow_cents,
        )
        if disputed <= 0:
            raise field_error(
                "The segments you chose were not billed (they are beyond the weekly limit).",
                "nothing_billed",
                "segment_ids",
            )
    else:
        disputed = timesheet.escrow_cents
    now = timezone.now()
    dispute = Dispute.objects.create(
        contract=contract,
        timesheet=timesheet,
        opened_by=actor,
        reason=reason,
        amount_cents=timesheet.escrow_cents,
        disputed_cents=disputed,
        response_due_at=now + timedelta(days=HOURLY_RESPONSE_DAYS),
        created_at=now,
    )
    dispute.contract = contract
    dispute.timesheet = timesheet
    if segments:
        dispute.segments.set(segments)
    _add_statement(dispute, contract, actor, text, files)
    _event(
        dispute,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_OPENED,
        data={
            "reason": reason,
            "disputed_cents": disputed,
            "escrow_cents": dispute.amount_cents,
            "segments": len(segments),
            "week_start": timesheet.week_start.isoformat(),
        },
        status_from=Timesheet.Status.IN_REVIEW,
        to=Timesheet.Status.DISPUTED,
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"{actor.display_name} disputes {format_cents(disputed)} of the week of {timesheet.week_start:%b %d, %Y} "
        f"on “{contract.title}” ({reason_label(reason).lower()}). Answer by "
        f"{dispute.response_due_at:%b %d, %Y %H:%M} UTC, or the disputed part is refunded.",
        dispute_url(dispute),
        contract,
    )
    _post_system(
        contract.conversation_id,
        f"The client disputes the week of {timesheet.week_start:%b %d, %Y}: its payment is frozen until the "
        "dispute is resolved.",
    )
    return dispute


# --- statements ---------------------------------------------------------------------------------------


@transaction.atomic
def dispute_statement_add(
    *, actor: User, dispute_id: int, text: str, files: list[UploadedFile] | None = None
) -> DisputeStatement:
    """A party adds a statement (with files) while the dispute is unresolved. The other
    side's first statement is its response: ``open -> responded``."""
    locked = _dispute_for_update(dispute_id, actor)
    contract, dispute = locked.contract, locked.dispute
    _require_unresolved(dispute)
    body = _clean_text(text, field="text", required="Write your statement.")
    statement = _add_statement(dispute, contract, actor, body, files)
    responded = dispute.status == Dispute.Status.OPEN and actor.pk != dispute.opened_by_id
    if responded:
        old = _move(dispute, Dispute.Status.RESPONDED)
        dispute.save(update_fields=["status"])
    else:
        old = dispute.status
    _event(
        dispute,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_STATEMENT,
        data={"statement": statement.pk, "files": statement.files.count(), "response": responded},
        status_from=old,
        to=dispute.status,
    )
    other = contract.freelancer_id if actor.pk == contract.client_id else contract.client_id
    what = "answered" if responded else "added a statement to"
    _on_commit_notify(
        other,
        NotificationKind.PAYMENT,
        f"{actor.display_name} {what} the dispute about {_subject_text(dispute)} on “{contract.title}”.",
        dispute_url(dispute),
        contract,
    )
    return statement


# --- settlement proposals -----------------------------------------------------------------------------


@transaction.atomic
def dispute_propose(
    *, actor: User, dispute_id: int, refund_cents: int, release_cents: int, note: str = ""
) -> SettlementProposal:
    """A party proposes a split of the escrow in dispute (refund to the client + release to
    the freelancer == ``amount_cents``); it supersedes a pending proposal."""
    locked = _dispute_for_update(dispute_id, actor)
    contract, dispute = locked.contract, locked.dispute
    _require_unresolved(dispute)
    refund, release = _check_split(dispute, refund_cents, release_cents)
    text = _clean_note(note)
    now = timezone.now()
    dispute.proposals.filter(status=SettlementProposal.Status.PENDING).update(
        status=SettlementProposal.Status.SUPERSEDED, answered_at=now
    )
    proposal = SettlementProposal.objects.create(
        dispute=dispute,
        proposed_by=actor,
        refund_cents=refund,
        release_cents=release,
        note=text,
        created_at=now,
    )
    _event(
        dispute,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_PROPOSAL,
        data={"proposal": proposal.pk, "refund_cents": refund, "release_cents": release, "note": text},
        status_from=dispute.status,
        to=dispute.status,
    )
    other = contract.freelancer_id if actor.pk == contract.client_id else contract.client_id
    _on_commit_notify(
        other,
        NotificationKind.PAYMENT,
        f"{actor.display_name} proposes to settle the dispute about {_subject_text(dispute)}: "
        f"{format_cents(refund)} back to the client, {format_cents(release)} to the freelancer. "
        "Accept it in one click or reject it.",
        dispute_url(dispute),
        contract,
    )
    return proposal


def _proposal_locked(actor: User, proposal_id: Any) -> tuple[Locked, SettlementProposal]:
    dispute_id = (
        SettlementProposal.objects.filter(pk=_pk(proposal_id)).values_list("dispute_id", flat=True).first()
    )
    if dispute_id is None:
        require_can_act(actor)
        raise NotFoundError("No such proposal.")
    try:
        locked = _dispute_for_update(dispute_id, actor)
    except NotFoundError:
        raise NotFoundError("No such proposal.")
    proposal = SettlementProposal.objects.select_for_update().get(pk=_pk(proposal_id))
    return locked, proposal


def _require_answerable(proposal: SettlementProposal, actor: User, verb: str) -> None:
    if proposal.proposed_by_id == actor.pk:
        raise PermissionDeniedError(f"You cannot {verb} your own proposal.", code="own_proposal")
    if proposal.status != SettlementProposal.Status.PENDING:
        raise ApplicationError(
            f"This proposal is {proposal.get_status_display().lower()}; it can no longer be answered.",
            code="proposal_not_pending",
        )


@transaction.atomic
def dispute_proposal_accept(*, actor: User, proposal_id: int) -> Dispute:
    """The other side accepts a pending proposal: the dispute is resolved by agreement and
    the split is carried out."""
    locked, proposal = _proposal_locked(actor, proposal_id)
    _require_unresolved(locked.dispute)
    _require_answerable(proposal, actor, "accept")
    proposal.status = SettlementProposal.Status.ACCEPTED
    proposal.answered_at = timezone.now()
    proposal.save(update_fields=["status", "answered_at"])
    return _resolve(
        locked,
        refund_cents=proposal.refund_cents,
        release_cents=proposal.release_cents,
        resolution=Dispute.Resolution.AGREEMENT,
        actor=actor,
        note=proposal.note,
    )


@transaction.atomic
def dispute_proposal_reject(*, actor: User, proposal_id: int) -> SettlementProposal:
    """The other side rejects a pending proposal (the dispute goes on)."""
    locked, proposal = _proposal_locked(actor, proposal_id)
    _require_unresolved(locked.dispute)
    _require_answerable(proposal, actor, "reject")
    proposal.status = SettlementProposal.Status.REJECTED
    proposal.answered_at = timezone.now()
    proposal.save(update_fields=["status", "answered_at"])
    dispute, contract = locked.dispute, locked.contract
    _event(
        dispute,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_PROPOSAL,
        data={"proposal": proposal.pk, "rejected": True},
        status_from=dispute.status,
        to=dispute.status,
    )
    _on_commit_notify(
        proposal.proposed_by_id,
        NotificationKind.PAYMENT,
        f"{actor.display_name} rejected your settlement proposal in the dispute about {_subject_text(dispute)} "
        f"on “{contract.title}”.",
        dispute_url(dispute),
        contract,
    )
    return proposal


# --- resolution ---------------------------------------------------------------------------------------


def _resolve(
    locked: Locked, *, refund_cents: int, release_cents: int, resolution: str, actor: User | None, note: str
) -> Dispute:
    """Resolve (everything locked by the caller, inside its transaction): check, carry out
    the split, record, notify."""
    contract, dispute = locked.contract, locked.dispute
    _require_unresolved(dispute)
    refund, release = _check_split(dispute, refund_cents, release_cents)
    now = timezone.now()
    old = _move(dispute, Dispute.Status.RESOLVED)
    dispute.resolution = resolution
    dispute.refund_cents, dispute.release_cents = refund, release
    dispute.resolved_by = actor
    dispute.resolution_note = note[:RESOLUTION_NOTE_MAX]
    dispute.resolved_at = now
    dispute.save(
        update_fields=[
            "status",
            "resolution",
            "refund_cents",
            "release_cents",
            "resolved_by",
            "resolution_note",
            "resolved_at",
        ]
    )
    dispute.proposals.filter(status=SettlementProposal.Status.PENDING).update(
        status=SettlementProposal.Status.SUPERSEDED, answered_at=now
    )
    data = {
        "resolution": resolution,
        "refund_cents": refund,
        "release_cents": release,
        "note": dispute.resolution_note,
    }
    if locked.milestone is not None:
        _resolve_milestone(contract, locked.milestone, dispute, actor, data)
    else:
        timesheet = Timesheet.objects.get(pk=_pk(dispute.timesheet_id))
        if timesheet.status != Timesheet.Status.DISPUTED:
            raise ConflictError(
                "The week is not frozen for this dispute; ask an engineer to check it.",
                code="escrow_mismatch",
                extra={"timesheet_status": timesheet.status},
            )
        _event(
            dispute,
            actor=actor,
            kind=ContractEvent.Kind.DISPUTE_RESOLVED,
            data={**data, "week_start": timesheet.week_start.isoformat()},
            status_from=old,
            to=Dispute.Status.RESOLVED,
        )
        _queue_timesheet_settlement(dispute.pk)
    how = Dispute.Resolution(resolution).label.lower()
    _notify_both(
        contract,
        dispute,
        f"The dispute about {_subject_text(dispute)} on “{contract.title}” is resolved ({how}): "
        f"{format_cents(refund)} is refunded to the client and {format_cents(release)} released to the freelancer.",
    )
    _post_system(
        contract.conversation_id,
        f"The dispute about {_subject_text(dispute)} was resolved ({how}): {format_cents(refund)} refunded, "
        f"{format_cents(release)} released.",
    )
    return dispute


def _resolve_milestone(
    contract: Contract, milestone: Milestone, dispute: Dispute, actor: User | None, data: dict[str, Any]
) -> None:
    from .escrow import _queue_refund, escrow_reference, milestone_reference, release_key

    if milestone.status != Milestone.Status.DISPUTED or milestone.escrow_cents != dispute.amount_cents:
        raise ConflictError(
            "The milestone's escrow does not match the dispute; ask an engineer to check it.",
            code="escrow_mismatch",
            extra={"escrow_cents": milestone.escrow_cents, "amount_cents": dispute.amount_cents},
        )
    refund, release = dispute.refund_cents, dispute.release_cents
    milestone_transition(
        milestone,
        to=Milestone.Status.RESOLVED,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_RESOLVED,
        data={"dispute": dispute.pk, **data},
    )
    fields = ["status", "status_changed_at", "escrow_cents", "refund_pending_cents", "updated_at"]
    if release:
        payments.escrow_release(
            escrow_reference=escrow_reference(contract.pk),
            payee=contract.freelancer,
            amount_cents=release,
            idempotency_key=release_key(milestone.pk),
            purpose="milestone_release",
            reference=milestone_reference(milestone.pk),
            memo=f"Dispute {dispute.pk}: released {format_cents(release)} of “{milestone.description}”",
            actor=actor,
            agency_id=contract.agency_id,
        )
        milestone.released_at = timezone.now()
        fields.append("released_at")
    milestone.escrow_cents -= release
    # the rest goes back to the client's card after commit (outside every lock)
    milestone.refund_pending_cents = refund
    milestone.save(update_fields=fields)
    if refund:
        _queue_refund(milestone.pk)


def _staff_only(actor: User) -> None:
    if not (actor.is_active and actor.is_staff):
        raise PermissionDeniedError("Only staff can decide a dispute.", code="staff_only")


@transaction.atomic
def dispute_resolve_by_staff(
    *, actor: User, dispute_id: int, refund_cents: int, release_cents: int, note: str
) -> Dispute:
    """Staff decide a dispute with a split (refund + release == ``amount_cents``) and a note
    that both sides see."""
    _staff_only(actor)
    text = _clean_text(
        note, field="note", required="Explain the decision to both sides.", limit=RESOLUTION_NOTE_MAX
    )
    locked = _dispute_for_update(dispute_id, actor, staff=True)
    dispute = _resolve(
        locked,
        refund_cents=refund_cents,
        release_cents=release_cents,
        resolution=Dispute.Resolution.STAFF,
        actor=actor,
        note=text,
    )
    return dispute


@transaction.atomic
def dispute_refund_retry(*, actor: User, dispute_id: int) -> Milestone:
    """Staff send again the refund of a resolved milestone dispute whose refund the provider
    refused (the money came back to escrow: the milestone is resolved but still holds it,
    which the escrow audit reports). Reserves it again and queues the refund after commit
    (a new key: ``escrow._refund_key`` counts failed refunds)."""
    from .escrow import _queue_refund

    _staff_only(actor)
    locked = _dispute_for_update(dispute_id, actor, staff=True)
    dispute, milestone = locked.dispute, locked.milestone
    if milestone is None or dispute.status != Dispute.Status.RESOLVED:
        raise ApplicationError(
            "Only a resolved milestone dispute has a refund to send again.", code="not_resolved"
        )
    if milestone.refund_pending_cents:
        raise ConflictError("The refund is being processed already.", code="refund_in_progress")
    if milestone.status != Milestone.Status.RESOLVED or milestone.escrow_cents <= 0:
        raise ApplicationError(
            "Nothing of this milestone is waiting to be refunded.", code="nothing_to_refund"
        )
    milestone.refund_pending_cents = milestone.escrow_cents
    milestone.save(update_fields=["refund_pending_cents", "updated_at"])
    _event(
        dispute,
        actor=actor,
        kind=ContractEvent.Kind.DISPUTE_RESOLVED,
        data={"refund_retry": True, "refund_cents": milestone.escrow_cents, "release_cents": 0},
        status_from=dispute.status,
        to=dispute.status,
    )
    _queue_refund(milestone.pk)
    return milestone


def silence_split(dispute: Dispute, contract: Contract) -> tuple[int, int]:
    """What silence gives the opener: a client opener gets the disputed money back, a
    freelancer opener gets all of it released."""
    if opener_side(dispute, contract) == "client":
        refund = min(dispute.disputed_cents or dispute.amount_cents, dispute.amount_cents)
        return refund, dispute.amount_cents - refund
    return 0, dispute.amount_cents


def dispute_resolve_silence(*, dispute_id: int, now: datetime | None = None) -> bool:
    """Resolve one dispute the other side did not answer by ``response_due_at`` for the
    opener (task; safe to run twice: a dispute that is answered or resolved is left)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _dispute_for_update(dispute_id, None)
        dispute = locked.dispute
        if dispute.status != Dispute.Status.OPEN or dispute.response_due_at > now:
            return False
        refund, release = silence_split(dispute, locked.contract)
        side = opener_side(dispute, locked.contract)
        _resolve(
            locked,
            refund_cents=refund,
            release_cents=release,
            resolution=Dispute.Resolution.SILENCE,
            actor=None,
            note=f"The {'freelancer' if side == 'client' else 'client'} did not answer in time.",
        )
    return True


def disputes_resolve_overdue(*, now: datetime | None = None) -> int:
    """Beat: resolve every open dispute whose response is overdue. Returns how many."""
    now = now or timezone.now()
    due = Dispute.objects.filter(status=Dispute.Status.OPEN, response_due_at__lte=now).order_by(
        "response_due_at"
    )
    count = 0
    for dispute_id in due.values_list("pk", flat=True)[:SILENCE_BATCH]:
        try:
            count += dispute_resolve_silence(dispute_id=dispute_id, now=now)
        except ApplicationError:
            log.exception("silence resolution of dispute %s failed", dispute_id)
    disputes_settle_stuck(now=now)
    return count


def _queue_timesheet_settlement(dispute_id: int) -> None:
    def send() -> None:
        from .tasks import settle_timesheet_dispute

        settle_timesheet_dispute.delay(dispute_id)

    transaction.on_commit(send)


def dispute_settle_timesheet(*, dispute_id: int) -> Timesheet | None:
    """Carry out a resolved timesheet dispute's split through
    ``billing.timesheet_settle_split`` (refund through the gateway, then release). Call
    outside any transaction (task queued on commit, or the sweeper); safe to run again:
    billing keys the refund and settles a week once."""
    dispute = Dispute.objects.select_related("timesheet").filter(pk=_pk(dispute_id)).first()
    if dispute is None or dispute.timesheet is None or dispute.status != Dispute.Status.RESOLVED:
        return None
    timesheet = dispute.timesheet
    if timesheet.status != Timesheet.Status.DISPUTED:
        return timesheet
    # what the week had refunded before the dispute (its escrow + refunds stay constant
    # until the settlement releases the rest)
    refunded_before = timesheet.escrow_cents + timesheet.refunded_cents - dispute.amount_cents
    return _billing().timesheet_settle_split(
        timesheet_id=timesheet.pk,
        refund_cents=refunded_before + dispute.refund_cents,
        release_cents=dispute.release_cents,
        actor=dispute.resolved_by,
        key_suffix=f":dispute{dispute.pk}",
    )


def disputes_settle_stuck(*, now: datetime | None = None) -> int:
    """Beat: settle again the resolved timesheet disputes whose week is still frozen (a lost
    task, a refund refused by the provider). Returns how many were tried."""
    now = now or timezone.now()
    stuck = Dispute.objects.filter(
        status=Dispute.Status.RESOLVED,
        timesheet__status=Timesheet.Status.DISPUTED,
        resolved_at__lt=now - STUCK_SETTLEMENT_AFTER,
    ).values_list("pk", flat=True)[:SILENCE_BATCH]
    tried = 0
    for dispute_id in list(stuck):
        tried += 1
        try:
            dispute_settle_timesheet(dispute_id=dispute_id)
        except ApplicationError:
            log.exception("settling timesheet dispute %s failed", dispute_id)
    return tried


def dispute_event_text(event: ContractEvent) -> str:
    """One line of the contract's timeline for a dispute event, in words."""
    data = event.data or {}
    subject = f"“{data['description']}”" if data.get("description") else "the week"
    if data.get("week_start"):
        try:
            subject = f"the week of {date.fromisoformat(str(data['week_start'])):%b %-d, %Y}"
        except ValueError:
            subject = f"the week of {data['week_start']}"
    kind = event.kind
    if kind == ContractEvent.Kind.DISPUTE_OPENED:
        amount = data.get("disputed_cents", data.get("escrow_cents"))
        return (
            f"Dispute opened about {subject} ({reason_label(str(data.get('reason', ''))).lower()}): "
            f"{format_cents(amount)} frozen."
        )
    if kind == ContractEvent.Kind.DISPUTE_STATEMENT:
        return "Answered the dispute." if data.get("response") else "Added a statement to the dispute."
    if kind == ContractEvent.Kind.DISPUTE_PROPOSAL:
        if data.get("rejected"):
            return "Rejected the settlement proposal."
        return (
            f"Proposed a settlement: {format_cents(data.get('refund_cents'))} to the client, "
            f"{format_cents(data.get('release_cents'))} to the freelancer."
        )
    if data.get("refund_retry"):
        return f"The refund of {format_cents(data.get('refund_cents'))} was sent again."
    how = str(data.get("resolution", ""))
    label = Dispute.Resolution(how).label.lower() if how in Dispute.Resolution.values else "resolved"
    return (
        f"Dispute resolved ({label}): {format_cents(data.get('refund_cents'))} refunded, "
        f"{format_cents(data.get('release_cents'))} released."
    )


# --- selectors ----------------------------------------------------------------------------------------


def _can_view(dispute: Dispute, viewer: Any) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.is_staff:
        return True
    return viewer.pk in (dispute.contract.client_id, dispute.contract.freelancer_id)


def dispute_get_for_viewer(*, dispute_id: Any, viewer: Any) -> Dispute:
    """A dispute its two parties and staff may see; anyone else gets 404."""
    dispute = (
        Dispute.objects.select_related(
            "contract",
            "contract__client",
            "contract__freelancer",
            "milestone",
            "timesheet",
            "opened_by",
            "resolved_by",
        )
        .filter(pk=_pk(dispute_id))
        .first()
    )
    if dispute is None or not _can_view(dispute, viewer):
        raise NotFoundError("No such dispute.")
    return dispute


def dispute_list_for_user(*, user: Any, status: str = "") -> QuerySet[Dispute]:
    """The disputes of the user's contracts (both sides), newest first."""
    qs = (
        Dispute.objects.filter(Q(contract__client=user) | Q(contract__freelancer=user))
        .select_related("contract", "milestone", "timesheet", "opened_by")
        .order_by("-created_at", "-id")
    )
    if status in Dispute.Status.values:
        qs = qs.filter(status=status)
    return qs


def dispute_statements(dispute: Dispute) -> list[DisputeStatement]:
    return list(
        dispute.statements.select_related("author").prefetch_related("files").order_by("created_at", "id")
    )


def dispute_proposals(dispute: Dispute) -> list[SettlementProposal]:
    return list(dispute.proposals.select_related("proposed_by").order_by("-created_at", "-id"))


def dispute_events(dispute: Dispute) -> list[ContractEvent]:
    return list(
        ContractEvent.objects.filter(contract_id=dispute.contract_id, data__dispute=dispute.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def dispute_file_get(*, dispute: Dispute, file_id: Any) -> ContractFile:
    item = (
        ContractFile.objects.filter(pk=_pk(file_id), dispute_statements__dispute=dispute).distinct().first()
    )
    if item is None:
        raise NotFoundError("No such file.")
    return item


def open_disputes_for_contract(contract: Contract) -> list[Dispute]:
    return list(
        Dispute.objects.filter(contract=contract)
        .exclude(status=Dispute.Status.RESOLVED)
        .select_related("milestone", "timesheet")
        .order_by("created_at")
    )


def latest_dispute_for_milestone(milestone: Milestone) -> Dispute | None:
    return Dispute.objects.filter(milestone=milestone).order_by("-created_at", "-id").first()


@dataclass
class SegmentRow:
    segment: TimeSegment
    disputed: bool
    billable: bool
    no_memo: bool

    @property
    def flagged(self) -> bool:
        return self.no_memo or not self.billable


def dispute_segments(dispute: Dispute) -> list[SegmentRow]:
    """Hourly: the week's segments, the disputed ones marked, those without a memo or beyond
    the weekly limit flagged (highlighted on the dispute page and in admin)."""
    if dispute.timesheet_id is None:
        return []
    timesheet = dispute.timesheet
    assert timesheet is not None
    billable = billable_segment_ids(timesheet)
    chosen = set(dispute.segments.values_list("pk", flat=True))
    whole = not chosen
    rows = []
    for segment in TimeSegment.objects.filter(timesheet=timesheet).order_by("started_at"):
        rows.append(
            SegmentRow(
                segment=segment,
                disputed=whole or segment.pk in chosen,
                billable=segment.pk in billable,
                no_memo=not segment.memo.strip(),
            )
        )
    return rows


def dispute_prefetch_statements() -> Prefetch:
    return Prefetch(
        "statements", queryset=DisputeStatement.objects.select_related("author").prefetch_related("files")
    )
