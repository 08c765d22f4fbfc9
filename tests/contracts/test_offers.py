"""Offer services: creation (from a proposal, direct), validation, withdraw, decline, expiry,
acceptance and what it sets off (contract, counters, conversation, notifications)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ClientProfile, SuspensionReason
from contracts import services
from contracts.models import Contract, ContractEvent, Milestone, Offer, OfferEvent
from contracts.services import MilestoneInput
from jobs import services as job_services
from jobs.models import Job
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Conversation, Message, Notification
from proposals import services as proposal_services
from proposals.models import Proposal
from tests import factories
from tests.jobs.conftest import make_job

from .conftest import Hire, fixed_input, hourly_input, invite, make_proposal

pytestmark = pytest.mark.django_db


def _codes(excinfo) -> str:
    return excinfo.value.code


# --- create from a proposal ------------------------------------------------------------------------


def test_offer_from_a_proposal_copies_the_terms_and_marks_the_proposal(
    hire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        offer = hire.offer()

    assert offer.status == Offer.Status.PENDING
    assert (offer.client, offer.freelancer, offer.job, offer.proposal) == (
        hire.client,
        hire.freelancer,
        hire.job,
        hire.proposal,
    )
    assert offer.fixed_amount_cents == 150_000
    assert [(m.position, m.amount_cents) for m in offer.milestones.all()] == [(1, 50_000), (2, 100_000)]
    assert timedelta(days=13, hours=23) < offer.expires_at - timezone.now() <= timedelta(days=14)
    hire.proposal.refresh_from_db()
    assert hire.proposal.offer_pending is True
    assert list(offer.events.values_list("kind", "to_status")) == [("sent", "pending")]
    note = Notification.objects.get(recipient=hire.freelancer)
    assert note.kind == "offer"
    assert note.url == f"/contracts/offers/{offer.pk}/"


def test_an_hourly_offer_keeps_rate_limit_and_manual_time(hourly_hire):
    offer = hourly_hire.offer(weekly_limit_hours=None)

    assert (offer.contract_type, offer.hourly_rate_cents, offer.weekly_limit_hours) == ("hourly", 4500, None)
    assert offer.manual_time_allowed is True
    assert offer.fixed_amount_cents is None
    assert not offer.milestones.exists()


def test_only_the_jobs_client_can_make_an_offer_from_a_proposal(hire, stranger_client):
    with pytest.raises(NotFoundError):
        services.offer_create(actor=stranger_client, data=fixed_input(proposal_id=hire.proposal.pk))
    with pytest.raises(PermissionDeniedError):  # a freelancer without a client profile
        services.offer_create(actor=hire.freelancer, data=fixed_input(proposal_id=hire.proposal.pk))
    assert not Offer.objects.exists()


def test_a_second_pending_offer_on_the_same_proposal_is_refused(hire):
    hire.offer()
    with pytest.raises(ApplicationError) as excinfo:
        hire.offer()
    assert _codes(excinfo) == "offer_pending"
    assert Offer.objects.count() == 1


def test_offers_need_an_active_proposal(hire):
    proposal_services.proposal_decline(actor=hire.client, proposal_id=hire.proposal.pk, reason="budget")
    with pytest.raises(ApplicationError) as excinfo:
        hire.offer()
    assert _codes(excinfo) == "proposal_not_active"


def test_a_withdrawn_proposal_is_not_found(hire):
    proposal_services.proposal_withdraw(actor=hire.freelancer, proposal_id=hire.proposal.pk, reason="other")
    with pytest.raises(NotFoundError):
        hire.offer()


def test_a_suspended_client_cannot_make_offers(hire, staff):
    account_services.user_suspend(actor=staff, user_id=hire.client.pk, reason=SuspensionReason.SPAM)
    hire.client.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.offer_create(actor=hire.client, data=fixed_input(proposal_id=hire.proposal.pk))


# --- validation ----------------------------------------------------------------------------------------

TODAY = timezone.localdate


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"milestones": []}, "milestones_required"),
        ({"milestones": [MilestoneInput(description="Nothing", amount_cents=0)]}, "milestone_amount_invalid"),
        ({"milestones": [MilestoneInput(description="Less", amount_cents=-500)]}, "milestone_amount_invalid"),
        (
            {"milestones": [MilestoneInput(description="", amount_cents=5000)]},
            "milestone_description_required",
        ),
        (
            {"milestones": [MilestoneInput(description="x" * 201, amount_cents=5000)]},
            "milestone_description_too_long",
        ),
        ({"milestones": [MilestoneInput(description="Tiny", amount_cents=100)]}, "total_out_of_range"),
        (
            {
                "milestones": [
                    MilestoneInput(description=f"Part {i}", amount_cents=60_000_000) for i in range(2)
                ]
            },
            "total_out_of_range",
        ),
        (
            {"milestones": [MilestoneInput(description="Huge", amount_cents=10**12)]},
            "milestone_amount_invalid",
        ),
        (
            {
                "milestones": [
                    MilestoneInput(
                        description="Late", amount_cents=5000, due_date=TODAY() - timedelta(days=1)
                    )
                ]
            },
            "milestone_due_date_invalid",
        ),
        (
            {
                "milestones": [
                    MilestoneInput(
                        description="Far", amount_cents=5000, due_date=TODAY() + timedelta(days=800)
                    )
                ]
            },
            "milestone_due_date_invalid",
        ),
        (
            {"milestones": [MilestoneInput(description=f"M{i}", amount_cents=1000) for i in range(21)]},
            "too_many_milestones",
        ),
        ({"description": "x" * 100_000}, "description_too_long"),
        ({"title": "Hi"}, "title_too_short"),
        ({"title": "x" * 121}, "title_too_long"),
        ({"start_date": TODAY() - timedelta(days=1)}, "start_date_in_past"),
        ({"start_date": TODAY() + timedelta(days=400)}, "start_date_too_far"),
        ({"expires_in_days": 0}, "expiry_out_of_range"),
        ({"expires_in_days": 15}, "expiry_out_of_range"),
        ({"hourly_rate_cents": 4500}, "terms_wrong_type"),
        ({"contract_type": "weekly"}, "invalid_choice"),
    ],
)
def test_fixed_offer_validation(hire, overrides, code):
    with pytest.raises(ApplicationError) as excinfo:
        hire.offer(**overrides)
    assert _codes(excinfo) == code
    assert excinfo.value.status_code == 400
    assert not Offer.objects.exists()
    hire.proposal.refresh_from_db()
    assert hire.proposal.offer_pending is False


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"weekly_limit_hours": 0}, "weekly_limit_out_of_range"),
        ({"weekly_limit_hours": 500}, "weekly_limit_out_of_range"),
        ({"hourly_rate_cents": 299}, "rate_out_of_range"),
        ({"hourly_rate_cents": 100_000}, "rate_out_of_range"),
        ({"hourly_rate_cents": None}, "rate_required"),
        ({"milestones": [MilestoneInput(description="M", amount_cents=1000)]}, "milestones_not_allowed"),
    ],
)
def test_hourly_offer_validation(hourly_hire, overrides, code):
    with pytest.raises(ApplicationError) as excinfo:
        hourly_hire.offer(**overrides)
    assert _codes(excinfo) == code
    assert not Offer.objects.exists()


def test_today_is_a_valid_start_and_one_day_a_valid_expiry(hire):
    offer = hire.offer(start_date=timezone.localdate(), expires_in_days=1)
    assert offer.start_date == timezone.localdate()
    assert offer.expires_at - timezone.now() <= timedelta(days=1)


# --- direct offers -------------------------------------------------------------------------------------


def test_a_direct_offer_needs_an_invitation_or_a_past_contract(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(client)

    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    assert _codes(excinfo) == "offer_not_allowed"

    invite(job, freelancer)
    offer = services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    assert (offer.job, offer.proposal) == (job, None)


def test_a_direct_offer_for_an_invited_freelancer_without_a_job(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    invite(make_job(client), freelancer)

    offer = services.offer_create(actor=client, data=hourly_input(freelancer_id=freelancer.pk))

    assert offer.job is None


def test_a_past_contract_allows_a_direct_offer_without_a_job(fixed_contract):
    services.contract_end(actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="completed")
    offer = services.offer_create(
        actor=fixed_contract.client, data=hourly_input(freelancer_id=fixed_contract.freelancer_id)
    )
    contract = services.offer_accept(actor=fixed_contract.freelancer, offer_id=offer.pk)
    assert contract.job is None
    assert Contract.objects.filter(client=fixed_contract.client).count() == 2


def test_an_invitation_to_another_of_the_clients_jobs_allows_a_direct_offer(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    invite(make_job(client), freelancer)
    other_job = make_job(client, title="Maintain our Django booking site")

    offer = services.offer_create(
        actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=other_job.pk)
    )

    assert offer.job == other_job


def test_an_out_of_date_pending_invitation_does_not_count(db):
    from jobs.models import Invitation

    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    invitation = invite(make_job(client), freelancer)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=hourly_input(freelancer_id=freelancer.pk))
    assert _codes(excinfo) == "offer_not_allowed"


def test_a_declined_invitation_does_not_allow_a_direct_offer(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(client)
    invitation = invite(job, freelancer)
    job_services.invitation_decline(actor=freelancer, invitation_id=invitation.pk, reason="too_busy")

    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    assert _codes(excinfo) == "offer_not_allowed"


def test_a_direct_offer_to_someone_with_a_proposal_points_to_it(hire):
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(
            actor=hire.client, data=fixed_input(freelancer_id=hire.freelancer.pk, job_id=hire.job.pk)
        )
    assert _codes(excinfo) == "use_proposal"
    assert excinfo.value.extra["proposal_id"] == hire.proposal.pk


def test_direct_offers_refuse_other_peoples_jobs_self_and_unknown_freelancers(db, stranger_client):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    others_job = make_job(stranger_client)
    invite(others_job, freelancer)
    with pytest.raises(NotFoundError):
        services.offer_create(
            actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=others_job.pk)
        )
    with pytest.raises(NotFoundError):
        services.offer_create(actor=client, data=fixed_input(freelancer_id=10**9))
    with pytest.raises(NotFoundError):  # a client account without a freelancer profile
        services.offer_create(actor=client, data=fixed_input(freelancer_id=stranger_client.pk))
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=fixed_input())
    assert _codes(excinfo) == "recipient_required"


def test_a_direct_offer_needs_an_open_job(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(client)
    invite(job, freelancer)
    job_services.job_close(actor=client, job_id=job.pk, reason="no_longer_needed")
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    assert _codes(excinfo) == "job_not_open"


def test_one_pending_direct_offer_per_freelancer_and_job(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(client)
    invite(job, freelancer)
    services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))
    assert _codes(excinfo) == "offer_pending"


# --- withdraw and decline -----------------------------------------------------------------------------


def test_the_client_withdraws_a_pending_offer(hire, django_capture_on_commit_callbacks):
    offer = hire.offer()
    with django_capture_on_commit_callbacks(execute=True):
        offer = services.offer_withdraw(actor=hire.client, offer_id=offer.pk, note="Budget moved")

    assert offer.status == Offer.Status.WITHDRAWN
    assert offer.withdraw_note == "Budget moved"
    hire.proposal.refresh_from_db()
    assert hire.proposal.offer_pending is False
    assert Notification.objects.filter(recipient=hire.freelancer, text__contains="withdrew").exists()
    # the proposal can get a new offer
    assert hire.offer().status == Offer.Status.PENDING


def test_the_freelancer_declines_with_a_reason(hire, django_capture_on_commit_callbacks):
    offer = hire.offer()
    with django_capture_on_commit_callbacks(execute=True):
        offer = services.offer_decline(
            actor=hire.freelancer, offer_id=offer.pk, reason="rate", note="Too low"
        )

    assert (offer.status, offer.decline_reason, offer.decline_note) == ("declined", "rate", "Too low")
    hire.proposal.refresh_from_db()
    assert hire.proposal.offer_pending is False
    assert hire.proposal.status == Proposal.Status.SUBMITTED
    assert Notification.objects.filter(
        recipient=hire.client, kind="offer", text__contains="declined"
    ).exists()
    assert list(offer.events.values_list("kind", flat=True)) == ["sent", "declined"]


def test_decline_needs_a_reason_and_a_short_note(hire):
    offer = hire.offer()
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_decline(actor=hire.freelancer, offer_id=offer.pk, reason="")
    assert _codes(excinfo) == "reason_required"
    with pytest.raises(ApplicationError) as excinfo:
        services.offer_decline(actor=hire.freelancer, offer_id=offer.pk, reason="other", note="x" * 501)
    assert _codes(excinfo) == "note_too_long"


def test_each_side_has_its_own_actions(hire, stranger_client, stranger_freelancer):
    offer = hire.offer()
    with pytest.raises(PermissionDeniedError):
        services.offer_withdraw(actor=hire.freelancer, offer_id=offer.pk)
    with pytest.raises(PermissionDeniedError):
        services.offer_decline(actor=hire.client, offer_id=offer.pk, reason="other")
    with pytest.raises(PermissionDeniedError):
        services.offer_accept(actor=hire.client, offer_id=offer.pk)
    for stranger in (stranger_client, stranger_freelancer):
        with pytest.raises(NotFoundError):
            services.offer_withdraw(actor=stranger, offer_id=offer.pk)
        with pytest.raises(NotFoundError):
            services.offer_decline(actor=stranger, offer_id=offer.pk, reason="other")
        with pytest.raises(NotFoundError):
            services.offer_accept(actor=stranger, offer_id=offer.pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


# --- the offer transition table ----------------------------------------------------------------------


def _offer_in(hire: Hire, status: str) -> Offer:
    offer = hire.offer()
    if status == "accepted":
        services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)
    elif status == "declined":
        services.offer_decline(actor=hire.freelancer, offer_id=offer.pk, reason="busy")
    elif status == "withdrawn":
        services.offer_withdraw(actor=hire.client, offer_id=offer.pk)
    elif status == "expired":
        Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        assert services.offers_expire_due() == 1
    offer.refresh_from_db()
    assert offer.status == status
    return offer


def test_the_offer_transition_table():
    assert {
        "pending": {"accepted", "declined", "withdrawn", "expired"},
        "accepted": set(),
        "declined": set(),
        "withdrawn": set(),
        "expired": set(),
    } == Offer.TRANSITIONS


@pytest.mark.parametrize("status", ["accepted", "declined", "withdrawn", "expired"])
def test_answered_offers_cannot_move_again(hire, status):
    offer = _offer_in(hire, status)
    moves = [
        lambda: services.offer_withdraw(actor=hire.client, offer_id=offer.pk),
        lambda: services.offer_decline(actor=hire.freelancer, offer_id=offer.pk, reason="busy"),
    ]
    if status != "accepted":
        moves.append(lambda: services.offer_accept(actor=hire.freelancer, offer_id=offer.pk))
    for move in moves:
        with pytest.raises(ApplicationError) as excinfo:
            move()
        assert _codes(excinfo) == "illegal_transition"
        assert excinfo.value.extra["from"] == status
    offer.refresh_from_db()
    assert offer.status == status


# --- expiry ---------------------------------------------------------------------------------------------


def test_accepting_an_offer_past_its_date_marks_it_expired_and_errors(
    hire, django_capture_on_commit_callbacks
):
    offer = hire.offer()
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError) as excinfo:
        services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    assert _codes(excinfo) == "offer_expired"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    assert not Contract.objects.exists()
    hire.proposal.refresh_from_db()
    assert (hire.proposal.status, hire.proposal.offer_pending) == ("submitted", False)
    assert Notification.objects.filter(recipient=hire.client, text__contains="expired").exists()


def test_the_expiry_task_is_idempotent(hire, django_capture_on_commit_callbacks):
    due = hire.offer()
    other = Hire()
    fresh = other.offer()
    Offer.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    from contracts.tasks import expire_offers

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_offers() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_offers() == 0

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == ("expired", "pending")
    assert OfferEvent.objects.filter(offer=due, kind="expired", actor=None).count() == 1
    assert Notification.objects.filter(recipient=hire.client, text__contains="expired").count() == 1
    hire.proposal.refresh_from_db()
    assert hire.proposal.offer_pending is False


def test_an_offer_on_a_job_taken_down_by_staff_expires_on_accept(hire, staff):
    offer = hire.offer()
    job_services.job_remove_by_staff(actor=staff, job_id=hire.job.pk)

    with pytest.raises(ApplicationError) as excinfo:
        services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    assert _codes(excinfo) == "offer_expired"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    assert not Contract.objects.exists()


def test_an_offer_survives_the_client_closing_the_job_and_can_be_accepted(hire):
    offer = hire.offer()
    job_services.job_close(actor=hire.client, job_id=hire.job.pk, reason="hired")

    contract = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    assert contract.status == Contract.Status.ACTIVE
    hire.proposal.refresh_from_db()
    assert hire.proposal.status == Proposal.Status.HIRED


# --- accept ---------------------------------------------------------------------------------------------


def test_accept_starts_the_contract_with_the_offers_terms(hire, django_capture_on_commit_callbacks):
    offer = hire.offer()
    with django_capture_on_commit_callbacks(execute=True):
        contract = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert (contract.client, contract.freelancer, contract.job, contract.proposal, contract.offer) == (
        hire.client,
        hire.freelancer,
        hire.job,
        hire.proposal,
        offer,
    )
    assert (contract.title, contract.contract_type, contract.status) == (
        "Build the booking site",
        "fixed",
        "active",
    )
    assert list(contract.milestones.values_list("position", "description", "amount_cents", "status")) == [
        (1, "Design and models", 50_000, "pending"),
        (2, "Booking flow and launch", 100_000, "pending"),
    ]
    assert list(contract.events.values_list("kind", "to_status", "actor")) == [
        ("started", "active", hire.freelancer.pk)
    ]
    assert Notification.objects.filter(recipient=hire.client, url=f"/contracts/{contract.pk}/").exists()
    assert Notification.objects.filter(recipient=hire.freelancer, kind="contract").exists()


def test_accept_counts_the_hire_on_the_job_proposal_and_client(hire):
    offer = hire.offer()
    contract = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    hire.job.refresh_from_db()
    hire.proposal.refresh_from_db()
    assert hire.job.hires_count == 1
    assert (hire.proposal.status, hire.proposal.offer_pending) == ("hired", False)
    assert ClientProfile.objects.get(user=hire.client).hires_count == 1
    assert contract.proposal_id == hire.proposal.pk


def test_a_direct_offer_on_a_job_counts_the_hire_on_the_job(db):
    client = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(client)
    invite(job, freelancer)
    offer = services.offer_create(actor=client, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))

    services.offer_accept(actor=freelancer, offer_id=offer.pk)

    job.refresh_from_db()
    assert job.hires_count == 1
    assert ClientProfile.objects.get(user=client).hires_count == 1


def test_accept_opens_the_contract_conversation_and_links_the_interview(hire):
    proposal_services.proposal_message(
        actor=hire.client, proposal_id=hire.proposal.pk, text="Can you start Monday?"
    )
    hire.proposal.refresh_from_db()
    interview = hire.proposal.conversation
    offer = hire.offer()
    assert Message.objects.filter(
        conversation=interview, kind="system", body__contains="sent an offer"
    ).exists()

    contract = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    conversation = contract.conversation
    assert conversation is not None and conversation != interview
    assert conversation.has_contract is True
    assert set(conversation.participants.values_list("user_id", flat=True)) == {
        hire.client.pk,
        hire.freelancer.pk,
    }
    assert conversation.title == contract.title
    assert Message.objects.filter(
        conversation=conversation, kind="system", body__startswith="Contract started"
    ).exists()
    interview.refresh_from_db()
    assert interview.has_contract is True
    link = Message.objects.filter(conversation=interview, kind="system").order_by("-seq").first()
    assert link is not None and f"/contracts/{contract.pk}/" in link.body


def test_accepting_twice_returns_the_same_contract(hire):
    offer = hire.offer()
    first = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)
    second = services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)

    assert first.pk == second.pk
    assert Contract.objects.count() == 1
    assert Milestone.objects.count() == 2
    assert ContractEvent.objects.filter(kind="started").count() == 1
    hire.job.refresh_from_db()
    assert hire.job.hires_count == 1
    assert ClientProfile.objects.get(user=hire.client).hires_count == 1
    assert Conversation.objects.filter(has_contract=True).count() == 1


def test_a_suspended_freelancer_cannot_accept(hire, staff):
    offer = hire.offer()
    account_services.user_suspend(actor=staff, user_id=hire.freelancer.pk, reason=SuspensionReason.SPAM)
    hire.freelancer.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.offer_accept(actor=hire.freelancer, offer_id=offer.pk)
    assert not Contract.objects.exists()


def test_an_unknown_offer_is_not_found(hire):
    with pytest.raises(NotFoundError):
        services.offer_accept(actor=hire.freelancer, offer_id=10**9)
    with pytest.raises(NotFoundError):
        services.offer_accept(actor=hire.freelancer, offer_id="1; drop table")  # type: ignore[arg-type]


def test_two_freelancers_can_be_hired_on_one_job(db):
    client = factories.make_client()
    job = make_job(client, freelancers_needed=2)
    first, second = make_proposal(job), make_proposal(job)
    for proposal in (first, second):
        offer = services.offer_create(actor=client, data=fixed_input(proposal_id=proposal.pk))
        services.offer_accept(actor=proposal.freelancer, offer_id=offer.pk)
        job.refresh_from_db()
        # open while a position is free, filled once both are hired
        assert job.status == (Job.Status.OPEN if proposal is first else Job.Status.FILLED)
    assert job.hires_count == 2
    assert ClientProfile.objects.get(user=client).hires_count == 2
