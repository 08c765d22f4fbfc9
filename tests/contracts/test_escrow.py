"""Fixed-price escrow: fund, submit, request changes, approve, auto-approve, refund, bonus,
contract end and the escrow audit check."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from contracts import escrow, services
from contracts.models import ContractBonus, ContractEvent, Milestone
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from payments import ledger
from payments.models import AccountKind, Charge, JournalEntry, Posting

from .conftest import DECLINED, save_card

pytestmark = pytest.mark.django_db


def escrow_of(contract) -> int:
    return ledger.escrow_balance(f"contract:{contract.pk}")


def audit_clean() -> None:
    out = io.StringIO()
    call_command("ledger_audit", "--no-progress", stdout=out, stderr=io.StringIO())


def submit(hire, milestone, **kwargs):
    return services.milestone_submit(
        actor=hire.freelancer, milestone_id=milestone.pk, message="Done: see the files.", **kwargs
    )


# --- fund ------------------------------------------------------------------------------------------------


def test_fund_moves_money_to_escrow_and_milestone_to_funded(funded, hire):
    contract, milestone = funded
    assert milestone.status == Milestone.Status.FUNDED
    assert milestone.escrow_cents == 50_000 and milestone.funded_at is not None
    assert escrow_of(contract) == 50_000
    assert ContractEvent.objects.filter(milestone=milestone, kind="milestone_funded").count() == 1
    charge = Charge.objects.get(reference=f"milestone:{milestone.pk}")
    assert charge.purpose == "milestone_funding" and charge.transfer_group == f"contract:{contract.pk}"
    audit_clean()


def test_fund_several_at_once(hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client)
    ids = list(contract.milestones.values_list("pk", flat=True))
    result = services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=ids)
    assert len(result.funded) == 2 and not result.failed
    assert escrow_of(contract) == 150_000


def test_fund_twice_is_an_illegal_move(funded, hire):
    contract, milestone = funded
    with pytest.raises(ApplicationError) as error:
        services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    assert error.value.code == "illegal_transition"
    assert escrow_of(contract) == 50_000


def test_declined_card_leaves_milestone_pending_with_message(hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client, DECLINED)
    milestone = contract.milestones.first()
    result = services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    assert not result.funded and len(result.failed) == 1
    assert "declined" in result.failed[0][1].lower()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.PENDING and milestone.escrow_cents == 0
    assert escrow_of(contract) == 0
    assert ContractEvent.objects.filter(milestone=milestone, kind="milestone_funding_failed").exists()


def test_fund_without_card_points_to_billing(hire, local_gateway):
    contract = hire.contract()
    with pytest.raises(ApplicationError) as error:
        services.milestone_fund(
            actor=hire.client, contract_id=contract.pk, milestone_ids=[contract.milestones.first().pk]
        )
    assert error.value.code == "no_payment_method"
    assert error.value.extra["billing_url"] == "/payments/billing/"


def test_fund_foreign_and_wrong_party(hire, local_gateway, stranger_client):
    contract = hire.contract()
    milestone = contract.milestones.first()
    with pytest.raises(NotFoundError):
        services.milestone_fund(actor=stranger_client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    with pytest.raises(PermissionDeniedError):
        services.milestone_fund(actor=hire.freelancer, contract_id=contract.pk, milestone_ids=[milestone.pk])
    with pytest.raises(ApplicationError):
        services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[])
    with pytest.raises(NotFoundError):
        services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[999_999])


# --- submit / changes / approve -------------------------------------------------------------------------


def test_full_cycle_releases_once_and_audit_is_clean(funded, hire):
    contract, milestone = funded
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4 report", content_type="application/pdf")
    submission = submit(hire, milestone, files=[upload])
    assert submission.files.count() == 1
    services.milestone_request_changes(actor=hire.client, milestone_id=milestone.pk, note="Add the tests.")
    submit(hire, milestone)
    services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RELEASED and milestone.escrow_cents == 0
    assert escrow_of(contract) == 0
    # 10% service fee: $450 pending for the freelancer
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 45_000
    with pytest.raises(ApplicationError) as error:
        services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    assert error.value.code == "illegal_transition"
    assert JournalEntry.objects.filter(idempotency_key=f"milestone-release:{milestone.pk}").count() == 1
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 45_000
    posting = Posting.objects.get(
        entry__idempotency_key=f"milestone-release:{milestone.pk}",
        account__kind=AccountKind.FREELANCER_PENDING,
    )
    assert posting.available_at is not None
    audit_clean()


@pytest.mark.parametrize("action", ["submit", "approve", "changes", "refund"])
def test_illegal_moves_on_pending_milestone(hire, local_gateway, action):
    contract = hire.contract()
    milestone = contract.milestones.first()
    calls = {
        "submit": lambda: submit(hire, milestone),
        "approve": lambda: services.milestone_approve(actor=hire.client, milestone_id=milestone.pk),
        "changes": lambda: services.milestone_request_changes(
            actor=hire.client, milestone_id=milestone.pk, note="x"
        ),
        "refund": lambda: services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk),
    }
    with pytest.raises(ApplicationError) as error:
        calls[action]()
    assert error.value.code == "illegal_transition"


def test_illegal_moves_on_funded_and_released(funded, hire):
    _contract, milestone = funded
    with pytest.raises(ApplicationError, match="cannot be approved"):
        services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    with pytest.raises(ApplicationError, match="cannot be sent back"):
        services.milestone_request_changes(actor=hire.client, milestone_id=milestone.pk, note="x")
    submit(hire, milestone)
    with pytest.raises(ApplicationError, match="cannot be submitted"):
        submit(hire, milestone)
    services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    for call in (
        lambda: submit(hire, milestone),
        lambda: services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk),
        lambda: services.milestone_request_changes(actor=hire.client, milestone_id=milestone.pk, note="x"),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.code == "illegal_transition"


def test_wrong_party_and_foreign_users(funded, hire, stranger_client, stranger_freelancer):
    _contract, milestone = funded
    with pytest.raises(PermissionDeniedError):
        services.milestone_submit(actor=hire.client, milestone_id=milestone.pk, message="x")
    with pytest.raises(NotFoundError):
        services.milestone_submit(actor=stranger_freelancer, milestone_id=milestone.pk, message="x")
    submit(hire, milestone)
    with pytest.raises(PermissionDeniedError):
        services.milestone_approve(actor=hire.freelancer, milestone_id=milestone.pk)
    with pytest.raises(NotFoundError):
        services.milestone_approve(actor=stranger_client, milestone_id=milestone.pk)
    with pytest.raises(PermissionDeniedError):
        services.milestone_refund(actor=hire.client, milestone_id=milestone.pk)
    with pytest.raises(NotFoundError):
        services.milestone_refund(actor=stranger_freelancer, milestone_id=milestone.pk)


def test_bad_input(funded, hire):
    _contract, milestone = funded
    with pytest.raises(ApplicationError) as error:
        services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="  ")
    assert error.value.code == "message_required"
    bad = SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    with pytest.raises(ApplicationError):
        submit(hire, milestone, files=[bad])
    submit(hire, milestone)
    with pytest.raises(ApplicationError) as error:
        services.milestone_request_changes(actor=hire.client, milestone_id=milestone.pk, note="")
    assert error.value.code == "note_required"


# --- auto-approval ---------------------------------------------------------------------------------------


def test_auto_approve_with_reminders_once(funded, hire):
    contract, milestone = funded
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        submit(hire, milestone)

    def reminders() -> int:
        return Notification.objects.filter(recipient=hire.client, text__startswith="Reminder").count()

    with time_machine.travel(start + timedelta(days=6), tick=False):
        assert services.milestones_auto_approve_due() == {"approved": 0, "reminded": 0, "refunds_resent": 0}
    for day in (7, 8):
        with time_machine.travel(start + timedelta(days=day, minutes=1), tick=False):
            from django.test import TestCase

            with TestCase.captureOnCommitCallbacks(execute=True):
                services.milestones_auto_approve_due()
    assert reminders() == 1
    for day in (12, 13):
        with time_machine.travel(start + timedelta(days=day, minutes=1), tick=False):
            from django.test import TestCase

            with TestCase.captureOnCommitCallbacks(execute=True):
                services.milestones_auto_approve_due()
    assert reminders() == 2
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.SUBMITTED
    assert escrow.auto_approve_at(milestone) == milestone.submitted_at + timedelta(days=14)
    with time_machine.travel(start + timedelta(days=14, minutes=1), tick=False):
        assert services.milestones_auto_approve_due()["approved"] == 1
        assert services.milestones_auto_approve_due()["approved"] == 0
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RELEASED
    assert ContractEvent.objects.filter(milestone=milestone, kind="milestone_auto_released").count() == 1
    assert escrow_of(contract) == 0
    audit_clean()


# --- refunds -----------------------------------------------------------------------------------------------


def test_partial_then_full_refund(funded, hire):
    contract, milestone = funded
    milestone = services.milestone_refund(
        actor=hire.freelancer, milestone_id=milestone.pk, amount_cents=20_000
    )
    assert milestone.status == Milestone.Status.FUNDED
    assert milestone.escrow_cents == 30_000 and milestone.refunded_cents == 20_000
    assert escrow_of(contract) == 30_000
    audit_clean()
    with pytest.raises(ApplicationError) as error:
        services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk, amount_cents=30_001)
    assert error.value.code == "refund_out_of_range"
    milestone = services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)
    assert milestone.status == Milestone.Status.REFUNDED and milestone.escrow_cents == 0
    assert escrow_of(contract) == 0
    audit_clean()


def test_partial_refund_then_approve_releases_the_rest(funded, hire):
    contract, milestone = funded
    services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk, amount_cents=10_000)
    submit(hire, milestone)
    services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 36_000
    assert escrow_of(contract) == 0
    audit_clean()


def test_refund_in_progress_blocks_approve(funded, hire):
    _contract, milestone = funded
    submit(hire, milestone)
    Milestone.objects.filter(pk=milestone.pk).update(refund_pending_cents=50_000)
    with pytest.raises(ConflictError):
        services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    with pytest.raises(ConflictError):
        services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)


def test_client_asks_for_refund(funded, hire):
    _contract, milestone = funded
    services.milestone_refund_request(actor=hire.client, milestone_id=milestone.pk, reason="Plans changed.")
    assert ContractEvent.objects.filter(milestone=milestone, kind="milestone_refund_requested").exists()
    with pytest.raises(PermissionDeniedError):
        services.milestone_refund_request(actor=hire.freelancer, milestone_id=milestone.pk, reason="x")


def test_contract_end_refunds_escrowed_milestones(hire, local_gateway, django_capture_on_commit_callbacks):
    contract = hire.contract()
    save_card(hire.client)
    first, second = contract.milestones.order_by("pk")
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk, second.pk])
    submit(hire, first)
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_end(actor=hire.client, contract_id=contract.pk, reason="no_longer_needed")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Milestone.Status.REFUNDED
    assert escrow_of(contract) == 0
    # the task again: nothing more
    assert escrow.milestone_refund_reserved(milestone_id=first.pk) is None
    audit_clean()


# --- bonus ---------------------------------------------------------------------------------------------------


def test_bonus_is_charged_and_released(hire, local_gateway, stranger_client):
    contract = hire.contract()
    save_card(hire.client)
    bonus = services.contract_bonus(
        actor=hire.client, contract_id=contract.pk, amount_cents=10_000, note="Thanks!"
    )
    assert bonus.status == ContractBonus.Status.PAID
    assert escrow_of(contract) == 0
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 9_000
    assert ContractEvent.objects.filter(contract=contract, kind="bonus_paid").count() == 1
    with pytest.raises(PermissionDeniedError):
        services.contract_bonus(actor=hire.freelancer, contract_id=contract.pk, amount_cents=10_000)
    with pytest.raises(NotFoundError):
        services.contract_bonus(actor=stranger_client, contract_id=contract.pk, amount_cents=10_000)
    with pytest.raises(ApplicationError):
        services.contract_bonus(actor=hire.client, contract_id=contract.pk, amount_cents=0)
    services.contract_end(actor=hire.client, contract_id=contract.pk, reason="completed")
    services.contract_bonus(actor=hire.client, contract_id=contract.pk, amount_cents=5_000)
    audit_clean()


def test_declined_bonus(hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client, DECLINED)
    with pytest.raises(ApplicationError):
        services.contract_bonus(actor=hire.client, contract_id=contract.pk, amount_cents=10_000)
    assert ContractBonus.objects.get().status == ContractBonus.Status.FAILED


def test_audit_finds_escrow_mismatch(funded):
    _contract, milestone = funded
    Milestone.objects.filter(pk=milestone.pk).update(escrow_cents=1)
    assert any("escrow holds" in f for f in escrow.audit_escrow())


def test_milestone_being_funded_cannot_be_changed(hire, local_gateway):
    contract = hire.contract()
    first, _second = contract.milestones.order_by("pk")
    Milestone.objects.filter(pk=first.pk).update(funding_started_at=timezone.now())
    with pytest.raises(ConflictError):
        services.milestone_delete(actor=hire.client, milestone_id=first.pk)


def test_refund_reserved_but_never_sent_is_resent_by_the_task(funded, hire):
    contract, milestone = funded
    Milestone.objects.filter(pk=milestone.pk).update(refund_pending_cents=50_000)  # a crash after reserving
    later = timezone.now() + timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        assert services.milestones_auto_approve_due()["refunds_resent"] == 1
        assert services.milestones_auto_approve_due()["refunds_resent"] == 0
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.REFUNDED and milestone.refund_pending_cents == 0
    assert escrow_of(contract) == 0
    audit_clean()


def test_payment_settling_after_the_contract_ended_is_refunded(
    hire, local_gateway, django_capture_on_commit_callbacks
):
    from payments import services as payment_services

    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    services.contract_end(actor=hire.client, contract_id=contract.pk, reason="no_longer_needed")
    with django_capture_on_commit_callbacks(execute=True):  # the charge was already in flight
        payment_services.charge_create(
            actor=hire.client,
            amount_cents=milestone.amount_cents,
            purpose="milestone_funding",
            reference=f"milestone:{milestone.pk}",
            escrow_reference=f"contract:{contract.pk}",
        )
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.REFUNDED
    assert escrow_of(contract) == 0
    audit_clean()
