"""Fixed-price escrow: fund, submit, request changes, approve (or auto-approve), refund,
bonus. Write use cases like ``contracts.services`` (re-exported from there), on top of
``payments.services`` (which knows nothing of contracts).

Money references: a milestone is charged with purpose ``milestone_funding`` and reference
``milestone:<id>`` into escrow ``contract:<id>`` (transfer group ``contract:<id>``); a
bonus with purpose ``bonus`` and reference ``bonus:<id>`` into the same escrow, released
at once. Releases post with the key ``milestone-release:<id>`` (``bonus-release:<id>``);
refunds use ``milestone-refund:<id>:<cents refunded before>`` (with ``:retry<n>`` after n
failed refunds), so a retried refund is the same refund and the next one gets a new key.

``Milestone.escrow_cents`` is what the milestone holds in escrow (funded minus released
minus refunded); ``refund_pending_cents`` is a refund reserved by contracts but not
settled yet: while it is set, the milestone can be neither approved nor refunded again.

Flows that call the gateway (fund, refund, bonus) run OUTSIDE a transaction: a short
transaction checks and marks the intent under lock, then ``payments`` charges or refunds
(no lock held), and the settlement handlers registered in ``apps.py`` move the milestone
inside payments' settlement transaction.

Partial refunds: the milestone keeps its status (funded, submitted or changes requested)
with a lower ``escrow_cents``; approval then releases what remains. A refund of all that
remains moves it to ``refunded``.

Lock order: contract, then milestones by primary key, then (inside ``payments``) ledger
accounts. The settlement handlers run with payments' charge/refund row and ledger
accounts locked, so they lock the milestone row only (never the contract), which keeps
them out of a cycle with ``milestone_approve`` (contract -> milestone -> ledger).
Contract and milestone rows are locked ``FOR NO KEY UPDATE`` (``no_key=True``): rows that
point at them (events, submissions) take a key-share lock on insert, which a plain
``FOR UPDATE`` would block, and a handler writing an event while an approval holds the
contract would deadlock (found by the 32-thread test).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import suspended_handover
from marketplace.errors import ApplicationError, ConflictError, NotFoundError
from marketplace.ids import as_id
from marketplace.money import format_cents
from messaging.models import NotificationKind
from payments import services as payments
from payments.models import Charge, PaymentMethod, Refund

from .models import Contract, ContractBonus, ContractEvent, ContractFile, Milestone, MilestoneSubmission
from .services import (
    MAX_FILES,
    MAX_FIXED_CENTS,
    _contract_for_update,
    _error,
    _is_int,
    _milestone_for_update,
    _on_commit_notify,
    _require_side,
    contract_url,
    milestone_transition,
    store_contract_file,
)

log = logging.getLogger(__name__)

FUNDING_PURPOSE = "milestone_funding"
BONUS_PURPOSE = "bonus"
MAX_FUND_AT_ONCE = 20
MESSAGE_MAX = 5000
NOTE_MAX = 500
MAX_SUBMISSION_FILES = 10
MIN_BONUS_CENTS = 100
STUCK_REFUND_AFTER = timedelta(minutes=10)
ESCROWED = (Milestone.Status.FUNDED, Milestone.Status.SUBMITTED, Milestone.Status.CHANGES_REQUESTED)


def escrow_reference(contract_id: int) -> str:
    return f"contract:{contract_id}"


def milestone_reference(milestone_id: int) -> str:
    return f"milestone:{milestone_id}"


def release_key(milestone_id: int) -> str:
    return f"milestone-release:{milestone_id}"


def _refund_key(milestone: Milestone) -> str:
    """The key of the milestone's refund: the one in flight if there is one (a resend after
    a crash is the same refund), else derived from what was refunded before and how many of
    its refunds failed (a failed refund is final, so the next attempt needs a new key)."""
    refunds = Refund.objects.filter(
        charge__purpose=FUNDING_PURPOSE, charge__reference=milestone_reference(milestone.pk)
    )
    in_flight = (
        refunds.filter(status=Refund.Status.RESERVED).values_list("idempotency_key", flat=True).first()
    )
    if in_flight:
        return in_flight
    key = f"milestone-refund:{milestone.pk}:{milestone.refunded_cents}"
    failed = refunds.filter(status=Refund.Status.FAILED).count()
    return f"{key}:retry{failed}" if failed else key


def _id_from(reference: str, prefix: str) -> int | None:
    head, _, tail = reference.partition(":")
    return as_id(tail) if head == prefix else None


def auto_approve_at(milestone: Milestone) -> datetime | None:
    """When a submitted milestone is approved if the client does nothing."""
    if milestone.status != Milestone.Status.SUBMITTED or milestone.submitted_at is None:
        return None
    return milestone.submitted_at + timedelta(days=settings.AUTO_APPROVE_DAYS)


def _check_move(milestone: Milestone, to: str, verb: str) -> None:
    if to not in Milestone.TRANSITIONS[milestone.status]:
        raise ApplicationError(
            f"A milestone that is {milestone.get_status_display().lower()} cannot be {verb}.",
            code="illegal_transition",
            extra={"from": milestone.status, "to": to},
        )


def _require_fixed_open(contract: Contract, *, allow_ended: bool = False) -> None:
    if not contract.is_fixed:
        raise ApplicationError("Milestones are for fixed-price contracts.", code="not_fixed")
    if contract.is_ended and not allow_ended:
        raise ApplicationError("This contract has ended; it can no longer be changed.", code="contract_ended")


def _no_refund_in_progress(milestone: Milestone) -> None:
    if milestone.refund_pending_cents:
        raise ConflictError(
            "A refund of this milestone is being processed; try again in a moment.",
            code="refund_in_progress",
        )


def _require_card(actor: User) -> None:
    if not PaymentMethod.objects.filter(user=actor, removed_at__isnull=True).exists():
        raise ApplicationError(
            "Add a card on the Billing page first.",
            code="no_payment_method",
            extra={"billing_url": reverse("payments:billing")},
        )


FUNDING_GUARD = timedelta(minutes=10)


def funding_in_progress(milestone: Milestone) -> bool:
    """A pending milestone the client started to fund (a charge is reserved, or the intent
    is recent): it must not be changed or removed under the payment."""
    if milestone.status != Milestone.Status.PENDING or milestone.funding_started_at is None:
        return False
    if milestone.funding_started_at > timezone.now() - FUNDING_GUARD:
        return True
    return Charge.objects.filter(
        purpose=FUNDING_PURPOSE, reference=milestone_reference(milestone.pk), status=Charge.Status.RESERVED
    ).exists()


# --- fund ------------------------------------------------------------------------------------------


@dataclass
class FundResult:
    """What happened to each milestone: funded, declined (with the gateway's message) or
    still processing (the provider did not answer yet; a sweeper settles it)."""

    funded: list[Milestone] = field(default_factory=list)
    failed: list[tuple[Milestone, str]] = field(default_factory=list)
    processing: list[Milestone] = field(default_factory=list)


def milestone_fund(*, actor: User, contract_id: int, milestone_ids: list[int]) -> FundResult:
    """The client funds one or several pending milestones: one charge per milestone (card
    amount plus the client fee) into the contract's escrow. Call outside any transaction."""
    if not isinstance(milestone_ids, list | tuple) or not milestone_ids:
        raise _error("Choose at least one milestone to fund.", "milestones_required", "milestone_ids")
    if len(milestone_ids) > MAX_FUND_AT_ONCE or not all(_is_int(i) for i in milestone_ids):
        raise _error("Choose up to 20 milestones to fund.", "invalid_milestones", "milestone_ids")
    ids = sorted(set(milestone_ids))
    with transaction.atomic():
        contract = _contract_for_update(actor, contract_id)
        _require_side(contract, actor, "client", "fund milestones")
        _require_fixed_open(contract)
        milestones = list(
            Milestone.objects.select_for_update(no_key=True)
            .filter(contract=contract, pk__in=ids)
            .order_by("pk")
        )
        if len(milestones) != len(ids):
            raise NotFoundError("No such milestone.")
        for milestone in milestones:
            _check_move(milestone, Milestone.Status.FUNDED, "funded")
        _require_card(actor)
        now = timezone.now()
        for milestone in milestones:
            milestone.funding_started_at = now
            milestone.save(update_fields=["funding_started_at", "updated_at"])
    result = FundResult()
    for milestone in milestones:
        charge = payments.charge_create(
            actor=actor,
            amount_cents=milestone.amount_cents,
            purpose=FUNDING_PURPOSE,
            reference=milestone_reference(milestone.pk),
            escrow_reference=escrow_reference(contract.pk),
            transfer_group=escrow_reference(contract.pk),
            description=f"{contract.title}: {milestone.description}",
        )
        milestone.refresh_from_db()
        if charge.status == Charge.Status.SUCCEEDED:
            result.funded.append(milestone)
        elif charge.status == Charge.Status.FAILED:
            result.failed.append((milestone, charge.failure_message or "The payment failed."))
        else:
            result.processing.append(milestone)
    return result


def _milestone_of(record_reference: str) -> Milestone | None:
    milestone_id = _id_from(record_reference, "milestone")
    if milestone_id is None:
        return None
    return Milestone.objects.select_for_update(no_key=True).filter(pk=milestone_id).first()


def on_funding_succeeded(charge: Charge) -> None:
    """payments handler (inside the settlement transaction): pending -> funded."""
    milestone = _milestone_of(charge.reference)
    if milestone is None or milestone.status != Milestone.Status.PENDING:
        log.warning("funding of %s settled but the milestone is not pending", charge.reference)
        return
    milestone_transition(
        milestone,
        to=Milestone.Status.FUNDED,
        actor=charge.payer,
        kind=ContractEvent.Kind.MILESTONE_FUNDED,
        data={"charge_id": charge.pk, "client_fee_cents": charge.client_fee_cents},
    )
    milestone.escrow_cents = milestone.funded_cents = charge.amount_cents
    milestone.funded_at = timezone.now()
    milestone.save(
        update_fields=[
            "status",
            "status_changed_at",
            "escrow_cents",
            "funded_cents",
            "funded_at",
            "updated_at",
        ]
    )
    contract = Contract.objects.get(pk=milestone.contract_id)
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"“{milestone.description}” on “{contract.title}” is funded: "
        f"{format_cents(charge.amount_cents)} is in escrow. You can start work.",
        contract_url(contract),
        contract,
    )
    if contract.is_ended:  # ended while the payment was in flight: give the money back
        milestone.refund_pending_cents = milestone.escrow_cents
        milestone.save(update_fields=["refund_pending_cents", "updated_at"])
        _queue_refund(milestone.pk)


def on_funding_failed(charge: Charge) -> None:
    milestone = _milestone_of(charge.reference)
    if milestone is None:
        return
    milestone.funding_started_at = None
    milestone.save(update_fields=["funding_started_at", "updated_at"])
    ContractEvent.objects.create(
        contract_id=milestone.contract_id,
        milestone=milestone,
        actor=charge.payer,
        kind=ContractEvent.Kind.MILESTONE_FUNDING_FAILED,
        from_status=milestone.status,
        to_status=milestone.status,
        data={"description": milestone.description, "message": charge.failure_message},
    )


def milestone_receipt(milestone: Milestone, role: str | None) -> tuple[str, str] | None:
    """The receipt a party can open for the milestone's money, as (url, label): the client's
    invoice of the funding payment, the freelancer's earnings receipt of the release; None
    before there is one (``payments:receipt`` issues the numbered invoice on first open)."""
    from payments.models import JournalEntry
    from payments.selectors import charge_for_reference

    if role == "client":
        charge = charge_for_reference(FUNDING_PURPOSE, milestone_reference(milestone.pk))
        if charge is None or charge.status != Charge.Status.SUCCEEDED:
            return None
        return reverse("payments:receipt", args=["payment", charge.pk]), "Invoice for this payment"
    if role == "freelancer":
        entry_id = (
            JournalEntry.objects.filter(idempotency_key=release_key(milestone.pk), reverses__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )
        if entry_id is None:
            return None
        return reverse("payments:receipt", args=["earnings", entry_id]), "Earnings receipt"
    return None


# --- submit, request changes, approve ----------------------------------------------------------------


@transaction.atomic
def milestone_submit(
    *, actor: User, milestone_id: int, message: str, files: list[UploadedFile] | None = None
) -> MilestoneSubmission:
    """The freelancer delivers a funded milestone (or answers a request for changes). A
    suspended freelancer still may: handing over owed work (``suspended_handover``)."""
    with suspended_handover(actor):
        contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_side(contract, actor, "freelancer", "submit work")
    _require_fixed_open(contract)
    _check_move(milestone, Milestone.Status.SUBMITTED, "submitted")
    _no_refund_in_progress(milestone)
    text = str(message or "").strip()
    if not text:
        raise _error("Describe the work you are submitting.", "message_required", "message")
    if len(text) > MESSAGE_MAX:
        raise _error(f"The message is limited to {MESSAGE_MAX} characters.", "message_too_long", "message")
    uploads = list(files or [])
    if len(uploads) > MAX_SUBMISSION_FILES:
        raise _error(f"Attach at most {MAX_SUBMISSION_FILES} files.", "too_many_files", "files")
    if ContractFile.objects.filter(contract=contract).count() + len(uploads) > MAX_FILES:
        raise _error(f"A contract holds at most {MAX_FILES} files.", "too_many_files", "files")
    stored: list[ContractFile] = []
    try:
        for upload in uploads:
            stored.append(store_contract_file(contract, actor, upload, field_name="files"))
    except Exception:  # a later file was refused: the transaction rolls back, drop the stored ones
        for item in stored:
            item.file.storage.delete(item.file.name or "")
        raise
    submission = MilestoneSubmission.objects.create(milestone=milestone, submitted_by=actor, message=text)
    if stored:
        submission.files.set(stored)
    milestone_transition(
        milestone,
        to=Milestone.Status.SUBMITTED,
        actor=actor,
        kind=ContractEvent.Kind.MILESTONE_SUBMITTED,
        data={"submission": submission.pk, "files": len(stored)},
    )
    milestone.submitted_at = timezone.now()
    milestone.reminders_sent = 0
    milestone.save(
        update_fields=["status", "status_changed_at", "submitted_at", "reminders_sent", "updated_at"]
    )
    due = auto_approve_at(milestone)
    _on_commit_notify(
        contract.client_id,
        NotificationKind.CONTRACT,
        f"{actor.display_name} submitted “{milestone.description}” on “{contract.title}”. Review it: "
        f"the payment is released automatically on {due:%b %d, %Y} unless you approve or ask for changes.",
        contract_url(contract),
        contract,
    )
    return submission


@transaction.atomic
def milestone_request_changes(*, actor: User, milestone_id: int, note: str) -> Milestone:
    """The client sends a submitted milestone back with a note (the money stays in escrow)."""
    contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_side(contract, actor, "client", "request changes")
    _require_fixed_open(contract)
    _check_move(milestone, Milestone.Status.CHANGES_REQUESTED, "sent back for changes")
    text = str(note or "").strip()
    if not text:
        raise _error("Say what should change.", "note_required", "note")
    if len(text) > NOTE_MAX:
        raise _error(f"The note is limited to {NOTE_MAX} characters.", "note_too_long", "note")
    milestone_transition(
        milestone,
        to=Milestone.Status.CHANGES_REQUESTED,
        actor=actor,
        kind=ContractEvent.Kind.MILESTONE_CHANGES_REQUESTED,
        data={"note": text},
    )
    milestone.save(update_fields=["status", "status_changed_at", "updated_at"])
    latest = milestone.submissions.order_by("-created_at", "-id").first()
    if latest is not None:
        latest.changes_note = text
        latest.save(update_fields=["changes_note"])
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.CONTRACT,
        f"{actor.display_name} asked for changes to “{milestone.description}”: {text}",
        contract_url(contract),
        contract,
    )
    return milestone


def _release(contract: Contract, milestone: Milestone, actor: User | None) -> Milestone:
    """Submitted -> released (contract and milestone locked by the caller): escrow to the
    freelancer's pending balance, minus the service fee."""
    _check_move(milestone, Milestone.Status.RELEASED, "approved")
    _no_refund_in_progress(milestone)
    amount = milestone.escrow_cents
    kind = ContractEvent.Kind.MILESTONE_RELEASED if actor else ContractEvent.Kind.MILESTONE_AUTO_RELEASED
    milestone_transition(
        milestone, to=Milestone.Status.RELEASED, actor=actor, kind=kind, data={"released_cents": amount}
    )
    if amount > 0:
        payments.escrow_release(
            escrow_reference=escrow_reference(contract.pk),
            payee=contract.freelancer,
            amount_cents=amount,
            idempotency_key=release_key(milestone.pk),
            purpose="milestone_release",
            reference=milestone_reference(milestone.pk),
            memo=f"Released “{milestone.description}” on contract {contract.pk}",
            actor=actor,
            agency_id=contract.agency_id,
        )
    milestone.escrow_cents = 0
    milestone.released_at = timezone.now()
    milestone.save(update_fields=["status", "status_changed_at", "escrow_cents", "released_at", "updated_at"])
    who = actor.display_name if actor else "The marketplace (no review within the review period)"
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"{who} released {format_cents(amount)} for “{milestone.description}”. It is available "
        f"after the {settings.SECURITY_HOLD_DAYS}-day security hold.",
        contract_url(contract),
        contract,
    )
    if actor is None:
        _on_commit_notify(
            contract.client_id,
            NotificationKind.PAYMENT,
            f"“{milestone.description}” was approved automatically and {format_cents(amount)} released.",
            contract_url(contract),
            contract,
        )
    return milestone


@transaction.atomic
def milestone_approve(*, actor: User, milestone_id: int) -> Milestone:
    """The client approves a submitted milestone: its escrow is released (once: a second
    approval is an illegal move, and the ledger key is unique)."""
    contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_side(contract, actor, "client", "approve work")
    if not contract.is_fixed:
        raise ApplicationError("Milestones are for fixed-price contracts.", code="not_fixed")
    return _release(contract, milestone, actor)


def milestone_auto_approve(*, milestone_id: int, now: datetime | None = None) -> bool:
    """Approve one milestone submitted AUTO_APPROVE_DAYS ago (task; safe to run twice)."""
    now = now or timezone.now()
    with transaction.atomic():
        contract_id = Milestone.objects.filter(pk=milestone_id).values_list("contract_id", flat=True).first()
        if contract_id is None:
            return False
        contract = Contract.objects.select_for_update(no_key=True).get(pk=contract_id)
        milestone = Milestone.objects.select_for_update(no_key=True).get(pk=milestone_id)
        due = auto_approve_at(milestone)
        if due is None or due > now or milestone.refund_pending_cents:
            return False
        _release(contract, milestone, None)
        return True


def _remind(milestone_id: int, level: int, now: datetime) -> bool:
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update(no_key=True).filter(pk=milestone_id).first()
        if (
            milestone is None
            or milestone.status != Milestone.Status.SUBMITTED
            or milestone.reminders_sent >= level
        ):
            return False
        milestone.reminders_sent = level
        milestone.save(update_fields=["reminders_sent", "updated_at"])
        contract = Contract.objects.get(pk=milestone.contract_id)
        due = auto_approve_at(milestone)
        assert due is not None
        _on_commit_notify(
            contract.client_id,
            NotificationKind.CONTRACT,
            f"Reminder: “{milestone.description}” on “{contract.title}” is waiting for your review. "
            f"The payment is released automatically on {due:%b %d, %Y} unless you approve or ask for changes.",
            contract_url(contract),
            contract,
        )
        return True


def milestones_auto_approve_due(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: reminders (7 and 12 days after submission, each once per submission),
    approval after AUTO_APPROVE_DAYS, and refunds reserved by contracts but never sent
    (a crash between the two steps) sent again with their key. Returns counts."""
    now = now or timezone.now()
    submitted = Milestone.objects.filter(status=Milestone.Status.SUBMITTED, submitted_at__isnull=False)
    approved = 0
    for milestone_id in submitted.filter(
        submitted_at__lte=now - timedelta(days=settings.AUTO_APPROVE_DAYS)
    ).values_list("pk", flat=True)[:500]:
        try:
            approved += milestone_auto_approve(milestone_id=milestone_id, now=now)
        except ApplicationError:
            log.exception("auto-approval of milestone %s failed", milestone_id)
    resent = 0
    stuck = Milestone.objects.filter(refund_pending_cents__gt=0, updated_at__lt=now - STUCK_REFUND_AFTER)
    for milestone_id in stuck.values_list("pk", flat=True)[:100]:
        try:
            milestone_refund_reserved(milestone_id=milestone_id)
            resent += 1
        except ApplicationError:
            log.exception("resending the refund of milestone %s failed", milestone_id)
    reminded = 0
    days = list(settings.AUTO_APPROVE_REMINDER_DAYS)
    # the latest reminder due only (a task down for days sends one, not all)
    for level in range(len(days), 0, -1):
        due = submitted.filter(
            submitted_at__lte=now - timedelta(days=days[level - 1]), reminders_sent__lt=level
        ).values_list("pk", flat=True)[:500]
        for milestone_id in due:
            reminded += _remind(milestone_id, level, now)
    return {"approved": approved, "reminded": reminded, "refunds_resent": resent}


# --- refunds --------------------------------------------------------------------------------------------


def _queue_refund(milestone_id: int) -> None:
    def send() -> None:
        from .tasks import refund_milestone

        refund_milestone.delay(milestone_id)

    transaction.on_commit(send)


def _clear_pending(milestone_id: int, amount: int, refunded_before: int) -> None:
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update(no_key=True).get(pk=milestone_id)
        if milestone.refund_pending_cents == amount and milestone.refunded_cents == refunded_before:
            milestone.refund_pending_cents = 0
            milestone.save(update_fields=["refund_pending_cents", "updated_at"])


def _send_refund(milestone: Milestone, actor: User | None, reason: str) -> Refund:
    """Refund ``milestone.refund_pending_cents`` (reserved by the caller) through payments,
    outside any transaction. A refusal clears the reservation and raises."""
    amount, before = milestone.refund_pending_cents, milestone.refunded_cents
    try:
        refund = payments.refund_create(
            actor=actor,
            idempotency_key=_refund_key(milestone),
            purpose=FUNDING_PURPOSE,
            reference=milestone_reference(milestone.pk),
            amount_cents=amount,
            reason=reason,
        )
    except ApplicationError:
        _clear_pending(milestone.pk, amount, before)
        raise
    if refund.status == Refund.Status.FAILED:
        _clear_pending(milestone.pk, amount, before)
        raise ApplicationError(refund.failure_message or "The refund failed.", code="refund_failed")
    return refund


def milestone_refund(
    *, actor: User, milestone_id: int, amount_cents: int | None = None, reason: str = ""
) -> Milestone:
    """The freelancer refunds all (``None``) or part of an escrowed milestone to the client.
    Call outside any transaction. Partial: the milestone keeps its status with less in
    escrow; all of it: ``refunded``."""
    reason = str(reason or "").strip()
    if len(reason) > NOTE_MAX:
        raise _error(f"The reason is limited to {NOTE_MAX} characters.", "note_too_long", "reason")
    with transaction.atomic():
        contract, milestone = _milestone_for_update(actor, milestone_id)
        _require_side(contract, actor, "freelancer", "refund a milestone")
        _require_fixed_open(contract, allow_ended=True)
        _check_move(milestone, Milestone.Status.REFUNDED, "refunded")
        _no_refund_in_progress(milestone)
        if amount_cents is None:
            amount = milestone.escrow_cents
        elif not _is_int(amount_cents) or not 0 < amount_cents <= milestone.escrow_cents:
            raise _error(
                f"Refund between $0.01 and {format_cents(milestone.escrow_cents)}.",
                "refund_out_of_range",
                "amount",
                escrow_cents=milestone.escrow_cents,
            )
        else:
            amount = amount_cents
        milestone.refund_pending_cents = amount
        milestone.save(update_fields=["refund_pending_cents", "updated_at"])
    _send_refund(milestone, actor, reason)
    milestone.refresh_from_db()
    return milestone


@transaction.atomic
def milestone_refund_request(*, actor: User, milestone_id: int, reason: str) -> Milestone:
    """The client asks the freelancer to refund an escrowed milestone (logged, notified)."""
    contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_side(contract, actor, "client", "ask for a refund")
    _require_fixed_open(contract)
    _check_move(milestone, Milestone.Status.REFUNDED, "refunded")
    text = str(reason or "").strip()
    if not text:
        raise _error("Say why you want a refund.", "reason_required", "reason")
    if len(text) > NOTE_MAX:
        raise _error(f"The reason is limited to {NOTE_MAX} characters.", "note_too_long", "reason")
    milestone.refund_requested_at = timezone.now()
    milestone.save(update_fields=["refund_requested_at", "updated_at"])
    ContractEvent.objects.create(
        contract=contract,
        milestone=milestone,
        actor=actor,
        kind=ContractEvent.Kind.MILESTONE_REFUND_REQUESTED,
        from_status=milestone.status,
        to_status=milestone.status,
        data={"description": milestone.description, "reason": text},
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"{actor.display_name} asks for a refund of “{milestone.description}”: {text}",
        contract_url(contract),
        contract,
    )
    return milestone


def on_funding_refunded(refund: Refund) -> None:
    """payments handler (inside the refund's settlement): less in escrow; all of it ->
    refunded."""
    milestone = _milestone_of(refund.charge.reference)
    if milestone is None:
        return
    amount = refund.amount_cents
    milestone.escrow_cents = max(0, milestone.escrow_cents - amount)
    milestone.refunded_cents += amount
    milestone.refund_pending_cents = 0
    fields = ["escrow_cents", "refunded_cents", "refund_pending_cents", "updated_at"]
    data = {"refund_id": refund.pk, "refunded_cents": amount, "escrow_cents": milestone.escrow_cents}
    if milestone.escrow_cents == 0 and Milestone.Status.REFUNDED in Milestone.TRANSITIONS[milestone.status]:
        milestone_transition(
            milestone,
            to=Milestone.Status.REFUNDED,
            actor=refund.requested_by,
            kind=ContractEvent.Kind.MILESTONE_REFUNDED,
            data=data,
        )
        fields += ["status", "status_changed_at"]
    else:
        ContractEvent.objects.create(
            contract_id=milestone.contract_id,
            milestone=milestone,
            actor=refund.requested_by,
            kind=ContractEvent.Kind.MILESTONE_PARTIALLY_REFUNDED,
            from_status=milestone.status,
            to_status=milestone.status,
            data={"description": milestone.description, **data},
        )
    milestone.save(update_fields=fields)
    contract = Contract.objects.get(pk=milestone.contract_id)
    _on_commit_notify(
        contract.client_id,
        NotificationKind.PAYMENT,
        f"{format_cents(amount)} of “{milestone.description}” on “{contract.title}” was refunded to your card.",
        contract_url(contract),
        contract,
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"{format_cents(amount)} of “{milestone.description}” was refunded to the client.",
        contract_url(contract),
        contract,
    )


def on_funding_refund_failed(refund: Refund) -> None:
    """payments handler (inside the refund's failed settlement, the money already back in
    escrow): the refund did not reach the client's card. A refund still in flight clears
    the milestone's marker; one that had been applied (reported succeeded, then failed at
    the bank) is undone: the milestone holds the money again and, if it had become
    refunded, returns to the status it had before. Logged on the timeline (as a refund
    requested again: no event kind of its own, which would need a migration) and told to
    both parties; the milestone can then be refunded again (a new key, see ``_refund_key``)."""
    milestone = _milestone_of(refund.charge.reference)
    if milestone is None:
        return
    amount = refund.amount_cents
    applied = (
        ContractEvent.objects.filter(
            milestone=milestone,
            kind__in=[ContractEvent.Kind.MILESTONE_REFUNDED, ContractEvent.Kind.MILESTONE_PARTIALLY_REFUNDED],
            data__refund_id=refund.pk,
        )
        .order_by("-id")
        .first()
    )
    before = milestone.status
    fields = ["updated_at"]
    if applied is None:
        if milestone.refund_pending_cents == amount:
            milestone.refund_pending_cents = 0
            fields.append("refund_pending_cents")
    else:
        milestone.escrow_cents += amount
        milestone.refunded_cents = max(0, milestone.refunded_cents - amount)
        fields += ["escrow_cents", "refunded_cents"]
        if (
            milestone.status == Milestone.Status.REFUNDED
            and applied.kind == ContractEvent.Kind.MILESTONE_REFUNDED
            and applied.from_status in ESCROWED
        ):
            # Not a move of the table (refunded is final for the users): the correction
            # of a refund that never happened, like a reversing ledger entry.
            milestone.status = applied.from_status
            milestone.status_changed_at = timezone.now()
            fields += ["status", "status_changed_at"]
        elif milestone.status not in ESCROWED:
            log.error(
                "refund %s of milestone %s failed after it was %s: %s cents back in escrow need staff",
                refund.pk,
                milestone.pk,
                milestone.status,
                amount,
            )
    milestone.save(update_fields=fields)
    message = refund.failure_message or "The refund failed."
    ContractEvent.objects.create(
        contract_id=milestone.contract_id,
        milestone=milestone,
        actor=None,
        kind=ContractEvent.Kind.MILESTONE_REFUND_REQUESTED,
        from_status=before,
        to_status=milestone.status,
        data={
            "description": milestone.description,
            "refund_failed": True,
            "refund_id": refund.pk,
            "refunded_cents": amount,
            "escrow_cents": milestone.escrow_cents,
            "message": message,
            "reason": f"the refund of {format_cents(amount)} failed ({message}); the money is back in escrow.",
        },
    )
    contract = Contract.objects.get(pk=milestone.contract_id)
    _on_commit_notify(
        contract.client_id,
        NotificationKind.PAYMENT,
        f"The refund of {format_cents(amount)} for “{milestone.description}” on “{contract.title}” "
        f"did not reach your card: {message} The money is back in escrow.",
        contract_url(contract),
        contract,
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"The refund of {format_cents(amount)} of “{milestone.description}” to the client failed: "
        f"{message} The money is back in escrow; you can send the refund again.",
        contract_url(contract),
        contract,
    )


def reserve_end_refunds(contract: Contract) -> list[int]:
    """Inside ``contract_end`` (contract locked): mark every escrowed milestone for a full
    refund and queue the refunds after commit. Returns their ids."""
    if not contract.is_fixed:
        return []
    ids = []
    for milestone in (
        Milestone.objects.select_for_update(no_key=True).filter(contract=contract).order_by("pk")
    ):
        if milestone.status in ESCROWED and milestone.escrow_cents > 0 and not milestone.refund_pending_cents:
            milestone.refund_pending_cents = milestone.escrow_cents
            milestone.save(update_fields=["refund_pending_cents", "updated_at"])
            ids.append(milestone.pk)
            _queue_refund(milestone.pk)
    return ids


def milestone_refund_reserved(*, milestone_id: int) -> Refund | None:
    """Send the refund reserved on a milestone (task after contract end, or a retry after a
    crash). Idempotent: the key is derived from what was refunded before."""
    milestone = Milestone.objects.filter(pk=milestone_id).first()
    if milestone is None or not milestone.refund_pending_cents:
        return None
    if milestone.status == Milestone.Status.RESOLVED:
        return _send_refund(milestone, None, "The dispute about this milestone was resolved with a refund.")
    return _send_refund(milestone, None, "The contract ended before this milestone was paid.")


# --- bonus ----------------------------------------------------------------------------------------------


def contract_bonus(*, actor: User, contract_id: int, amount_cents: int, note: str = "") -> ContractBonus:
    """The client pays a bonus on an active, paused or ended contract: charged into the
    contract's escrow, then released to the freelancer at once. Outside any transaction."""
    if not _is_int(amount_cents) or not MIN_BONUS_CENTS <= amount_cents <= MAX_FIXED_CENTS:
        raise _error(
            f"A bonus is between {format_cents(MIN_BONUS_CENTS)} and {format_cents(MAX_FIXED_CENTS)}.",
            "amount_out_of_range",
            "amount",
        )
    note = str(note or "").strip()
    if len(note) > NOTE_MAX:
        raise _error(f"The note is limited to {NOTE_MAX} characters.", "note_too_long", "note")
    with transaction.atomic():
        contract = _contract_for_update(actor, contract_id)
        _require_side(contract, actor, "client", "pay a bonus")
        _require_card(actor)
        bonus = ContractBonus.objects.create(
            contract=contract, paid_by=actor, amount_cents=amount_cents, note=note
        )
    charge = payments.charge_create(
        actor=actor,
        amount_cents=amount_cents,
        purpose=BONUS_PURPOSE,
        reference=f"bonus:{bonus.pk}",
        escrow_reference=escrow_reference(contract.pk),
        transfer_group=escrow_reference(contract.pk),
        description=f"Bonus on {contract.title}",
    )
    if charge.status == Charge.Status.SUCCEEDED:
        bonus_settle(bonus_id=bonus.pk)
    bonus.refresh_from_db()
    if bonus.status == ContractBonus.Status.FAILED:
        raise ApplicationError(bonus.failure_message or "The payment failed.", code="payment_failed")
    return bonus


@transaction.atomic
def bonus_settle(*, bonus_id: int) -> ContractBonus | None:
    """Release a charged bonus to the freelancer (idempotent; also queued by the handler)."""
    bonus = (
        ContractBonus.objects.select_for_update(no_key=True, of=("self",))
        .select_related("contract")
        .filter(pk=bonus_id)
        .first()
    )
    if bonus is None or bonus.status != ContractBonus.Status.PENDING:
        return bonus
    charged = Charge.objects.filter(
        purpose=BONUS_PURPOSE, reference=f"bonus:{bonus.pk}", status=Charge.Status.SUCCEEDED
    ).exists()
    if not charged:
        return bonus
    contract = bonus.contract
    payments.escrow_release(
        escrow_reference=escrow_reference(contract.pk),
        payee=contract.freelancer,
        amount_cents=bonus.amount_cents,
        idempotency_key=f"bonus-release:{bonus.pk}",
        purpose="bonus_release",
        reference=f"bonus:{bonus.pk}",
        memo=f"Bonus on contract {contract.pk}",
        actor=bonus.paid_by,
        agency_id=contract.agency_id,
    )
    bonus.status = ContractBonus.Status.PAID
    bonus.paid_at = timezone.now()
    bonus.save(update_fields=["status", "paid_at"])
    ContractEvent.objects.create(
        contract=contract,
        actor=bonus.paid_by,
        kind=ContractEvent.Kind.BONUS_PAID,
        data={"amount_cents": bonus.amount_cents, "note": bonus.note, "bonus": bonus.pk},
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"{bonus.paid_by.display_name} paid you a bonus of {format_cents(bonus.amount_cents)} on “{contract.title}”.",
        contract_url(contract),
        contract,
    )
    return bonus


def on_bonus_succeeded(charge: Charge) -> None:
    """payments handler: release after the settlement commits (never inside it: the
    release locks the freelancer's pending account, which would invert the lock order)."""
    bonus_id = _id_from(charge.reference, "bonus")
    if bonus_id is not None:

        def send() -> None:
            from .tasks import settle_bonus

            settle_bonus.delay(bonus_id)

        transaction.on_commit(send)


def on_bonus_failed(charge: Charge) -> None:
    bonus_id = _id_from(charge.reference, "bonus")
    if bonus_id is not None:
        ContractBonus.objects.filter(pk=bonus_id, status=ContractBonus.Status.PENDING).update(
            status=ContractBonus.Status.FAILED, failure_message=charge.failure_message[:300]
        )


# --- audit ----------------------------------------------------------------------------------------------


def audit_escrow() -> list[str]:
    """Escrow per contract equals funded minus released minus refunded milestones: the
    ledger's escrow balance of each contract equals the sum of its milestones' and its
    weekly timesheets' ``escrow_cents``, less refunds reserved at payments but not settled, plus bonuses
    charged but not released yet. Escrowed milestones hold money; others hold none."""
    from payments.models import AccountKind, LedgerAccount

    findings: list[str] = []
    held = dict(
        Milestone.objects.values("contract_id")
        .annotate(total=Sum("escrow_cents"))
        .values_list("contract_id", "total")
    )
    # hourly weeks hold escrow too (contracts.billing): in review or in dispute
    from .models import Timesheet

    for sheet_contract_id, total in (
        Timesheet.objects.values("contract_id")
        .annotate(total=Sum("escrow_cents"))
        .values_list("contract_id", "total")
    ):
        held[sheet_contract_id] = int(held.get(sheet_contract_id) or 0) + int(total or 0)
    in_flight: dict[int, int] = {}
    for ref, amount in (
        Refund.objects.filter(
            status=Refund.Status.RESERVED, charge__purpose__in=[FUNDING_PURPOSE, "timesheet_billing"]
        )
        .values_list("charge__escrow_reference")
        .annotate(total=Sum("amount_cents"))
    ):
        contract_id = _id_from(ref, "contract")
        if contract_id is not None:
            in_flight[contract_id] = in_flight.get(contract_id, 0) + int(amount or 0)
    unpaid_bonus = dict(
        ContractBonus.objects.filter(status=ContractBonus.Status.PENDING)
        .filter(pk__in=_succeeded_bonus_ids())
        .values("contract_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("contract_id", "total")
    )
    ledger_rows = dict(
        LedgerAccount.objects.filter(kind=AccountKind.ESCROW, reference__startswith="contract:").values_list(
            "reference", "balance_cents"
        )
    )
    contract_ids = set(held) | {i for i in (_id_from(r, "contract") for r in ledger_rows) if i is not None}
    known = set(Contract.objects.filter(pk__in=contract_ids).values_list("pk", flat=True))
    for contract_id in sorted(contract_ids & known):
        expected = int(held.get(contract_id) or 0) - in_flight.get(contract_id, 0)
        expected += int(unpaid_bonus.get(contract_id) or 0)
        actual = int(ledger_rows.get(escrow_reference(contract_id), 0))
        if expected != actual:
            findings.append(
                f"contract {contract_id}: escrow holds {actual} cents but its milestones account for {expected}"
            )
    # a disputed milestone holds its frozen escrow; a resolved one only the refund its
    # resolution reserved, until the refund settles (contracts.disputes)
    holding = (*ESCROWED, Milestone.Status.DISPUTED)
    wrong = Milestone.objects.filter(
        (Q(status__in=holding) & Q(escrow_cents__lte=0) & Q(refund_pending_cents=0))
        | (
            ~Q(status__in=holding)
            & ~Q(escrow_cents=0)
            & ~Q(status=Milestone.Status.RESOLVED, refund_pending_cents=F("escrow_cents"))
        )
    ).values_list("pk", "status", "escrow_cents")[:200]
    for pk, status, cents in wrong:
        findings.append(f"milestone {pk} is {status} but holds {cents} cents of escrow")
    return findings


def _succeeded_bonus_ids() -> list[int]:
    refs = Charge.objects.filter(purpose=BONUS_PURPOSE, status=Charge.Status.SUCCEEDED).values_list(
        "reference", flat=True
    )
    return [i for i in (_id_from(r, "bonus") for r in refs) if i is not None]
