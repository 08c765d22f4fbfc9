"""Disputes (fixed price): open (a problem reported, or a refund request rejected), respond,
statements, settlement proposals, silence, staff resolution, and the money of every
resolution (ledger balanced, escrow audit clean, totals exact)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from contracts import disputes, escrow, services
from contracts.models import ContractEvent, Dispute, Milestone, SettlementProposal
from contracts.tasks import resolve_overdue_disputes
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from payments import ledger
from payments.models import AccountKind, JournalEntry, Posting, Refund
from tests.conftest import requires_postgres

from .conftest import Hire, save_card

pytestmark = pytest.mark.django_db


def escrow_of(contract) -> int:
    return ledger.escrow_balance(f"contract:{contract.pk}")


def pending_of(user) -> int:
    return ledger.balance(AccountKind.FREELANCER_PENDING, owner=user)


def assert_books_clean() -> None:
    """The ledger sums to zero, every cached balance matches, escrow per contract matches
    its milestones (``ledger_audit`` raises on any finding)."""
    assert escrow.audit_escrow() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    for entry in JournalEntry.objects.all():
        assert sum(entry.postings.values_list("amount_cents", flat=True)) == 0


def open_dispute(hire, milestone, actor=None, **kwargs):
    values = {"reason": "quality", "statement": "The pages do not match the design we agreed."}
    values.update(kwargs)
    return disputes.dispute_open(actor=actor or hire.client, milestone_id=milestone.pk, **values)


# --- open -------------------------------------------------------------------------------------------------


def test_client_opens_a_dispute_and_the_escrow_is_frozen(funded, hire, django_capture_on_commit_callbacks):
    contract, milestone = funded
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(hire, milestone, files=[SimpleUploadedFile("proof.txt", b"screenshots")])
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED and milestone.escrow_cents == 50_000
    assert dispute.status == Dispute.Status.OPEN and dispute.amount_cents == 50_000
    assert dispute.opened_by == hire.client and dispute.reason == "quality"
    assert timedelta(days=4, hours=23) < dispute.response_due_at - timezone.now() <= timedelta(days=5)
    statement = dispute.statements.get()
    assert statement.author == hire.client and [f.original_name for f in statement.files.all()] == [
        "proof.txt"
    ]
    event = ContractEvent.objects.get(kind=ContractEvent.Kind.DISPUTE_OPENED)
    assert (
        event.from_status == "funded"
        and event.to_status == "disputed"
        and event.data["dispute"] == dispute.pk
    )
    note = Notification.objects.get(recipient=hire.freelancer, text__contains="opened a dispute")
    assert "frozen" in note.text and note.url.endswith(f"/disputes/{dispute.pk}/")
    assert not Notification.objects.filter(recipient=hire.client, text__contains="opened a dispute").exists()
    assert escrow_of(contract) == 50_000
    assert_books_clean()


def test_a_disputed_milestone_cannot_be_approved_refunded_submitted_or_auto_approved(funded, hire):
    contract, milestone = funded
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
    open_dispute(hire, milestone, actor=hire.freelancer, reason="payment", statement="Please approve.")
    for call in (
        lambda: services.milestone_approve(actor=hire.client, milestone_id=milestone.pk),
        lambda: services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk),
        lambda: services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="again"),
        lambda: services.milestone_refund_request(actor=hire.client, milestone_id=milestone.pk, reason="x"),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.code == "illegal_transition"
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert services.milestones_auto_approve_due()["approved"] == 0
        assert escrow.milestone_auto_approve(milestone_id=milestone.pk) is False
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED and escrow_of(contract) == 50_000


@pytest.mark.parametrize("status", ["pending", "released", "refunded"])
def test_only_an_escrowed_milestone_can_be_disputed(hire, local_gateway, status):
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    if status != "pending":
        services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
        if status == "released":
            services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
            services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
        else:
            services.milestone_refund(actor=hire.freelancer, milestone_id=milestone.pk)
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone)
    assert error.value.code == "illegal_transition"
    assert not Dispute.objects.exists()


def test_open_twice_is_refused(funded, hire):
    _contract, milestone = funded
    open_dispute(hire, milestone)
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone, actor=hire.freelancer)
    assert error.value.code == "illegal_transition"
    assert Dispute.objects.count() == 1


def test_open_refuses_bad_input_and_strangers(funded, hire, stranger_client):
    _contract, milestone = funded
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone, statement="   ")
    assert error.value.code == "statement_required"
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone, reason="bogus")
    assert error.value.code == "invalid_reason"
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone, statement="x" * 5001)
    assert error.value.code == "statement_too_long"
    with pytest.raises(NotFoundError):
        open_dispute(hire, milestone, actor=stranger_client)
    with pytest.raises(NotFoundError):
        disputes.dispute_open(actor=hire.client, milestone_id=10**9, reason="quality", statement="x")
    with pytest.raises(ApplicationError) as error:
        open_dispute(hire, milestone, files=[SimpleUploadedFile("run.exe", b"MZ\x90\x00binary")])
    assert error.value.extra.get("field") == "files"
    assert not Dispute.objects.exists()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED


def test_open_refused_while_a_refund_is_in_flight(funded, hire):
    _contract, milestone = funded
    Milestone.objects.filter(pk=milestone.pk).update(refund_pending_cents=10_000)
    with pytest.raises(ConflictError):
        open_dispute(hire, milestone)


def test_the_freelancer_rejects_a_refund_request_which_opens_a_dispute(
    funded, hire, django_capture_on_commit_callbacks
):
    _contract, milestone = funded
    with pytest.raises(ApplicationError) as error:
        disputes.milestone_refund_request_reject(
            actor=hire.freelancer, milestone_id=milestone.pk, statement="No request yet."
        )
    assert error.value.code == "no_refund_request"
    services.milestone_refund_request(actor=hire.client, milestone_id=milestone.pk, reason="Plans changed.")
    with pytest.raises(PermissionDeniedError):
        disputes.milestone_refund_request_reject(actor=hire.client, milestone_id=milestone.pk, statement="x")
    with django_capture_on_commit_callbacks(execute=True):
        dispute = disputes.milestone_refund_request_reject(
            actor=hire.freelancer, milestone_id=milestone.pk, statement="The work was delivered as agreed."
        )
    assert dispute.reason == disputes.REFUND_REJECTED and dispute.opened_by == hire.freelancer
    assert Notification.objects.filter(recipient=hire.client, text__contains="opened a dispute").exists()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED


# --- respond, statements ----------------------------------------------------------------------------------


def test_the_other_side_responds_and_both_add_statements(funded, hire, django_capture_on_commit_callbacks):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_statement_add(
            actor=hire.freelancer,
            dispute_id=dispute.pk,
            text="Everything in the brief was delivered.",
            files=[SimpleUploadedFile("delivery.txt", b"links")],
        )
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESPONDED
    assert Notification.objects.filter(recipient=hire.client, text__contains="answered the dispute").exists()
    disputes.dispute_statement_add(
        actor=hire.client, dispute_id=dispute.pk, text="The booking form is missing."
    )
    disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="It is on page 3.")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESPONDED
    assert [s.author for s in disputes.dispute_statements(dispute)] == [
        hire.client,
        hire.freelancer,
        hire.client,
        hire.freelancer,
    ]
    events = ContractEvent.objects.filter(kind=ContractEvent.Kind.DISPUTE_STATEMENT)
    assert [e.to_status for e in events] == ["responded"] * 3 and events[0].from_status == "open"


def test_the_openers_own_statements_do_not_count_as_a_response(funded, hire):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    disputes.dispute_statement_add(actor=hire.client, dispute_id=dispute.pk, text="More details.")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


def test_statements_refused_from_strangers_and_after_resolution(funded, hire, stranger_client):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with pytest.raises(NotFoundError):
        disputes.dispute_statement_add(actor=stranger_client, dispute_id=dispute.pk, text="Hello")
    with pytest.raises(ApplicationError) as error:
        disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="")
    assert error.value.code == "text_required"
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=0, release_cents=50_000
    )
    disputes.dispute_proposal_accept(actor=hire.freelancer, proposal_id=proposal.pk)
    with pytest.raises(ApplicationError) as error:
        disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="Thanks")
    assert error.value.code == "illegal_transition"


# --- proposals --------------------------------------------------------------------------------------------


def test_a_split_agreed_by_both_moves_the_money_exactly(funded, hire, django_capture_on_commit_callbacks):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    proposal = disputes.dispute_propose(
        actor=hire.freelancer, dispute_id=dispute.pk, refund_cents=20_000, release_cents=30_000, note="Fair?"
    )
    assert proposal.status == SettlementProposal.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        resolved = disputes.dispute_proposal_accept(actor=hire.client, proposal_id=proposal.pk)
    assert resolved.status == Dispute.Status.RESOLVED and resolved.resolution == Dispute.Resolution.AGREEMENT
    assert (resolved.refund_cents, resolved.release_cents, resolved.resolved_by) == (
        20_000,
        30_000,
        hire.client,
    )
    proposal.refresh_from_db()
    assert proposal.status == SettlementProposal.Status.ACCEPTED and proposal.answered_at is not None
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RESOLVED
    assert (milestone.escrow_cents, milestone.refund_pending_cents, milestone.refunded_cents) == (
        0,
        0,
        20_000,
    )
    assert escrow_of(contract) == 0
    assert pending_of(hire.freelancer) == 27_000  # 30,000 minus the 10 % service fee
    assert ledger.balance(AccountKind.PLATFORM_FEES) >= 3_000
    refund = Refund.objects.get(charge__reference=f"milestone:{milestone.pk}")
    assert refund.status == Refund.Status.SUCCEEDED and refund.amount_cents == 20_000
    assert Notification.objects.filter(recipient=hire.client, text__contains="is resolved").exists()
    assert Notification.objects.filter(recipient=hire.freelancer, text__contains="is resolved").exists()
    assert (
        ContractEvent.objects.filter(kind=ContractEvent.Kind.DISPUTE_RESOLVED, milestone=milestone).count()
        == 1
    )
    assert_books_clean()


def test_a_new_proposal_supersedes_the_pending_one_and_rejection(funded, hire):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    first = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    second = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=40_000, release_cents=10_000
    )
    first.refresh_from_db()
    assert first.status == SettlementProposal.Status.SUPERSEDED
    with pytest.raises(ApplicationError) as error:
        disputes.dispute_proposal_accept(actor=hire.freelancer, proposal_id=first.pk)
    assert error.value.code == "proposal_not_pending"
    disputes.dispute_proposal_reject(actor=hire.freelancer, proposal_id=second.pk)
    second.refresh_from_db()
    assert second.status == SettlementProposal.Status.REJECTED
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    with pytest.raises(ApplicationError):
        disputes.dispute_proposal_accept(actor=hire.freelancer, proposal_id=second.pk)


def test_the_proposer_cannot_accept_or_reject_their_own_proposal(funded, hire):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    with pytest.raises(PermissionDeniedError) as error:
        disputes.dispute_proposal_accept(actor=hire.client, proposal_id=proposal.pk)
    assert error.value.code == "own_proposal"
    with pytest.raises(PermissionDeniedError):
        disputes.dispute_proposal_reject(actor=hire.client, proposal_id=proposal.pk)
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


@pytest.mark.parametrize(
    ("refund", "release", "code"),
    [(20_000, 20_000, "split_not_summing"), (50_001, -1, "invalid_split"), ("100", 49_900, "invalid_split")],
)
def test_a_split_must_add_up_to_the_escrow(funded, hire, refund, release, code):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with pytest.raises(ApplicationError) as error:
        disputes.dispute_propose(
            actor=hire.client, dispute_id=dispute.pk, refund_cents=refund, release_cents=release
        )
    assert error.value.code == code
    assert not SettlementProposal.objects.exists()


def test_strangers_cannot_propose_or_answer(funded, hire, stranger_client, stranger_freelancer):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with pytest.raises(NotFoundError):
        disputes.dispute_propose(
            actor=stranger_client, dispute_id=dispute.pk, refund_cents=0, release_cents=50_000
        )
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=0, release_cents=50_000
    )
    with pytest.raises(NotFoundError):
        disputes.dispute_proposal_accept(actor=stranger_freelancer, proposal_id=proposal.pk)
    with pytest.raises(NotFoundError):
        disputes.dispute_proposal_reject(actor=stranger_freelancer, proposal_id=proposal.pk)
    with pytest.raises(NotFoundError):
        disputes.dispute_get_for_viewer(dispute_id=dispute.pk, viewer=stranger_client)


# --- staff, resolve twice ---------------------------------------------------------------------------------


def test_staff_resolve_with_a_split_and_cannot_resolve_twice(
    funded, hire, staff, django_capture_on_commit_callbacks
):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    pending = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    with pytest.raises(PermissionDeniedError):
        disputes.dispute_resolve_by_staff(
            actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0, note="Mine"
        )
    with pytest.raises(ApplicationError) as error:
        disputes.dispute_resolve_by_staff(
            actor=staff, dispute_id=dispute.pk, refund_cents=25_000, release_cents=25_000, note=""
        )
    assert error.value.code == "note_required"
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve_by_staff(
            actor=staff,
            dispute_id=dispute.pk,
            refund_cents=25_000,
            release_cents=25_000,
            note="Half was done.",
        )
    dispute.refresh_from_db()
    assert dispute.resolution == Dispute.Resolution.STAFF and dispute.resolved_by == staff
    pending.refresh_from_db()
    assert pending.status == SettlementProposal.Status.SUPERSEDED
    for refund, release in ((50_000, 0), (25_000, 25_000)):
        with pytest.raises(ApplicationError) as error:
            disputes.dispute_resolve_by_staff(
                actor=staff, dispute_id=dispute.pk, refund_cents=refund, release_cents=release, note="Again"
            )
        assert error.value.code == "illegal_transition"
    assert escrow_of(contract) == 0 and pending_of(hire.freelancer) == 22_500
    assert Refund.objects.filter(charge__reference=f"milestone:{milestone.pk}").count() == 1
    assert_books_clean()


@pytest.mark.parametrize(("refund", "release"), [(0, 50_000), (50_000, 0)])
def test_all_to_one_side(funded, hire, staff, django_capture_on_commit_callbacks, refund, release):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve_by_staff(
            actor=staff, dispute_id=dispute.pk, refund_cents=refund, release_cents=release, note="Decided."
        )
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RESOLVED and milestone.escrow_cents == 0
    assert milestone.refunded_cents == refund
    assert pending_of(hire.freelancer) == release - release // 10
    assert escrow_of(contract) == 0
    assert Refund.objects.filter(charge__reference=f"milestone:{milestone.pk}").count() == (
        1 if refund else 0
    )
    assert_books_clean()


def test_one_third_splits_of_odd_cents_are_exact(
    hire, local_gateway, staff, django_capture_on_commit_callbacks
):
    """A milestone of $333.33 split a third / two thirds: every cent is accounted for."""
    contract = hire.contract()
    save_card(hire.client)
    milestone = services.milestone_add(
        actor=hire.client,
        contract_id=contract.pk,
        data=services.MilestoneInput(description="Odd amount", amount_cents=33_333),
    )
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    dispute = open_dispute(hire, milestone)
    refund = dispute.amount_cents // 3  # 11,111
    release = dispute.amount_cents - refund  # 22,222
    fees_before = ledger.balance(AccountKind.PLATFORM_FEES)
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve_by_staff(
            actor=staff,
            dispute_id=dispute.pk,
            refund_cents=refund,
            release_cents=release,
            note="A third back.",
        )
    fee = (release * 1000 + 5000) // 10000  # 2,222.2 -> 2,222
    assert pending_of(hire.freelancer) == release - fee == 20_000
    refunded = Refund.objects.get(charge__reference=f"milestone:{milestone.pk}")
    assert refunded.amount_cents == 11_111
    # the platform keeps the service fee and gives back the client fee of the refunded part
    assert ledger.balance(AccountKind.PLATFORM_FEES) == fees_before + fee - refunded.fee_cents
    milestone.refresh_from_db()
    assert milestone.refunded_cents + release == milestone.funded_cents == 33_333
    assert escrow_of(contract) == 0
    postings = Posting.objects.filter(entry__reference=f"milestone:{milestone.pk}")
    assert sum(postings.values_list("amount_cents", flat=True)) == 0
    assert_books_clean()


def test_a_resolution_with_the_refund_task_lost_is_resent_by_the_sweeper(funded, hire, staff):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    # no on-commit callbacks run: the queued refund task is lost
    disputes.dispute_resolve_by_staff(
        actor=staff, dispute_id=dispute.pk, refund_cents=10_000, release_cents=40_000, note="Mostly done."
    )
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RESOLVED
    assert milestone.escrow_cents == milestone.refund_pending_cents == 10_000
    assert escrow_of(contract) == 10_000
    assert_books_clean()  # a reserved refund is not a finding
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        assert services.milestones_auto_approve_due()["refunds_resent"] == 1
    milestone.refresh_from_db()
    assert (milestone.escrow_cents, milestone.refund_pending_cents, milestone.refunded_cents) == (
        0,
        0,
        10_000,
    )
    assert milestone.status == Milestone.Status.RESOLVED
    assert "dispute" in Refund.objects.get().reason
    assert_books_clean()


# --- silence ----------------------------------------------------------------------------------------------


def test_silence_resolves_for_a_client_opener_with_a_full_refund(
    funded, hire, django_capture_on_commit_callbacks
):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with time_machine.travel(timezone.now() + timedelta(days=4, hours=23), tick=False):
        assert disputes.disputes_resolve_overdue() == 0
    with time_machine.travel(timezone.now() + timedelta(days=5, minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert resolve_overdue_disputes() == 1
        assert disputes.disputes_resolve_overdue() == 0  # twice: one effect
    dispute.refresh_from_db()
    assert dispute.resolution == Dispute.Resolution.SILENCE and dispute.resolved_by is None
    assert (dispute.refund_cents, dispute.release_cents) == (50_000, 0)
    milestone.refresh_from_db()
    assert milestone.refunded_cents == 50_000 and escrow_of(contract) == 0
    assert_books_clean()


def test_silence_resolves_for_a_freelancer_opener_with_a_full_release(funded, hire):
    contract, milestone = funded
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
    dispute = open_dispute(hire, milestone, actor=hire.freelancer, reason="payment", statement="No review.")
    with time_machine.travel(timezone.now() + timedelta(days=6), tick=False):
        assert disputes.disputes_resolve_overdue() == 1
    dispute.refresh_from_db()
    assert (dispute.refund_cents, dispute.release_cents) == (0, 50_000)
    assert pending_of(hire.freelancer) == 45_000 and escrow_of(contract) == 0
    assert_books_clean()


def test_an_answered_dispute_is_not_resolved_by_silence(funded, hire):
    _contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="I disagree.")
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert disputes.disputes_resolve_overdue() == 0
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESPONDED


def test_resolution_is_allowed_after_the_contract_ended(
    funded, hire, staff, django_capture_on_commit_callbacks
):
    contract, milestone = funded
    dispute = open_dispute(hire, milestone)
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_end(actor=hire.client, contract_id=contract.pk, reason="no_longer_needed")
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED and milestone.escrow_cents == 50_000
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve_by_staff(
            actor=staff, dispute_id=dispute.pk, refund_cents=30_000, release_cents=20_000, note="Split."
        )
    assert escrow_of(contract) == 0
    assert_books_clean()


def test_the_dispute_transitions_table():
    assert Dispute.TRANSITIONS[Dispute.Status.OPEN] == {Dispute.Status.RESPONDED, Dispute.Status.RESOLVED}
    assert Dispute.TRANSITIONS[Dispute.Status.RESPONDED] == {Dispute.Status.RESOLVED}
    assert Dispute.TRANSITIONS[Dispute.Status.RESOLVED] == set()
    assert Milestone.TRANSITIONS[Milestone.Status.DISPUTED] == {Milestone.Status.RESOLVED}
    assert Milestone.TRANSITIONS[Milestone.Status.RESOLVED] == set()


# --- concurrency ------------------------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_resolutions_have_one_effect(local_gateway):
    from tests.factories import make_staff

    from .test_concurrency import _ensure_taxonomy, _in_threads

    _ensure_taxonomy()
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    dispute = open_dispute(hire, milestone)
    staff = make_staff()
    proposal = disputes.dispute_propose(
        actor=hire.freelancer, dispute_id=dispute.pk, refund_cents=10_000, release_cents=40_000
    )

    def work(index: int):
        if index % 3 == 0:
            return disputes.dispute_proposal_accept(actor=hire.client, proposal_id=proposal.pk).resolution
        if index % 3 == 1:
            return disputes.dispute_resolve_by_staff(
                actor=staff, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0, note="Refund."
            ).resolution
        later = timezone.now() + timedelta(days=6)
        return "silence" if disputes.dispute_resolve_silence(dispute_id=dispute.pk, now=later) else None

    results = _in_threads(12, work)
    wins = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if r is not None and not isinstance(r, str)]
    assert len(wins) == 1, results
    assert all(isinstance(e, ApplicationError) for e in errors), [f"{type(e).__name__}: {e}" for e in errors]
    dispute.refresh_from_db()
    milestone.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.resolution == wins[0]
    assert milestone.escrow_cents == 0 and escrow_of(contract) == 0
    assert JournalEntry.objects.filter(idempotency_key=f"milestone-release:{milestone.pk}").count() == (
        1 if dispute.release_cents else 0
    )
    assert Refund.objects.filter(charge__reference=f"milestone:{milestone.pk}").count() == (
        1 if dispute.refund_cents else 0
    )
    assert (
        pending_of(hire.freelancer) == dispute.release_cents - (dispute.release_cents * 1000 + 5000) // 10000
    )
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
