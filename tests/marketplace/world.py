"""A small marketplace built through the real services, shared by the access matrix and the
API fuzzing: an owner client and an owner freelancer who work together, one stranger of each
kind and a staff member, and one object of every kind the URLs point at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tests import factories


@dataclass
class World:
    client: User  # owns the jobs, is the client of both contracts
    freelancer: User  # sent the proposals, works on both contracts
    other_client: User
    other_freelancer: User
    staff: User
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None

    def actor(self, name: str) -> User | None:
        """owner_client, owner_freelancer, other_client, other_freelancer, staff, anonymous."""
        return {
            "owner_client": self.client,
            "owner_freelancer": self.freelancer,
            "other_client": self.other_client,
            "other_freelancer": self.other_freelancer,
            "staff": self.staff,
            "anonymous": None,
        }[name]


def _png() -> bytes:
    from tests.conftest import image_bytes

    return image_bytes("PNG", size=(40, 30))


def build_world() -> World:
    from contracts import disputes, timetracking
    from contracts import services as contract_services
    from contracts.models import ContractFile
    from jobs import catalog
    from jobs import services as job_services
    from messaging import services as messaging_services
    from payments import services as payment_services
    from payments.gateways import local
    from tests.contracts.conftest import (
        Hire,
        invite,
        make_hourly_job,
        offer_from_proposal,
        save_card,
    )
    from tests.contracts.conftest import make_proposal as _make_proposal
    from tests.jobs.catalog_helpers import answers_for, make_listing
    from tests.jobs.conftest import make_job

    local.reset()

    def make_proposal(job, who):
        invite(job, who)  # invited freelancers apply without spending Connects
        return _make_proposal(job, who)

    staff = factories.make_staff()
    world = World(
        client=factories.make_client(first_name="Olivia", last_name="Owner"),
        freelancer=factories.make_published_freelancer(first_name="Finn", last_name="Owner"),
        other_client=factories.make_client(first_name="Oscar", last_name="Other"),
        other_freelancer=factories.make_published_freelancer(first_name="Fay", last_name="Other"),
        staff=staff,
    )
    o = world.objects
    client, freelancer = world.client, world.freelancer

    # a fixed contract with its first milestone funded and disputed, the second funded
    hire = Hire.__new__(Hire)
    hire.client, hire.freelancer = client, freelancer
    hire.job = make_job(client, title="Build a Django booking site")
    hire.proposal = make_proposal(hire.job, freelancer)
    save_card(client)
    o["card"] = client.payment_methods.order_by("pk").first()
    contract = hire.contract()
    milestones = list(contract.milestones.order_by("pk"))
    contract_services.milestone_fund(
        actor=client, contract_id=contract.pk, milestone_ids=[m.pk for m in milestones]
    )
    o["contract"] = contract
    o["milestone"] = milestones[1]
    o["hired_job"] = hire.job
    o["hired_proposal"] = hire.proposal
    o["dispute"] = disputes.dispute_open(
        actor=client,
        milestone_id=milestones[0].pk,
        reason="quality",
        statement="The pages do not match the design we agreed.",
        files=[SimpleUploadedFile("evidence.png", _png(), content_type="image/png")],
    )
    o["dispute_file"] = o["dispute"].statements.order_by("pk").first().files.first()  # type: ignore[union-attr]
    o["settlement"] = disputes.dispute_propose(
        actor=client, dispute_id=o["dispute"].pk, refund_cents=25_000, release_cents=25_000, note="Half each."
    )
    o["contract_file"] = contract_services.contract_file_add(
        actor=freelancer,
        contract_id=contract.pk,
        upload=SimpleUploadedFile("brief.png", _png(), content_type="image/png"),
    )
    assert isinstance(o["contract_file"], ContractFile)

    # an open job with a pending proposal and a pending offer on a second one
    o["job"] = make_job(client, title="Design a logo for a bakery")
    o["proposal"] = make_proposal(o["job"], freelancer)
    offer_job = make_job(client, title="Write the API documentation")
    o["offer"] = offer_from_proposal(make_proposal(offer_job, freelancer))
    o["draft_job"] = make_job(client, publish=False, title="A draft nobody else may see")
    o["invitation"] = job_services.invitation_send(
        actor=client, job_id=o["job"].pk, freelancer_id=world.other_freelancer.pk, message="Please apply."
    )

    # an hourly contract with a manual time entry (one segment)
    hourly = Hire.__new__(Hire)
    hourly.client, hourly.freelancer = client, freelancer
    hourly.job = make_hourly_job(client, title="Ongoing Django maintenance")
    hourly.proposal = make_proposal(hourly.job, freelancer)
    o["hourly_contract"] = hourly.contract()
    from contracts.models import Contract

    # a contract that began yesterday, so that an hour ago is inside it
    Contract.objects.filter(pk=o["hourly_contract"].pk).update(started_at=timezone.now() - timedelta(days=1))
    start = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    o["segment"] = timetracking.time_entry_add(
        actor=freelancer,
        contract_id=o["hourly_contract"].pk,
        started_at=start,
        ended_at=start + timedelta(minutes=30),
        memo="Fixed the login form",
    )[0]
    o["tracker_token"], _raw = timetracking.tracker_token_create(actor=freelancer, name="Laptop")

    # the conversation of the contract, a message and an attachment in it
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=contract, participants=[client, freelancer], title=contract.title
    )
    o["conversation"] = conversation
    o["message"] = messaging_services.message_send(
        actor=client, conversation_id=conversation.pk, body="Hello Finn", client_msg_id="world-1"
    ).message
    o["attachment"] = messaging_services.attachment_upload(
        actor=client,
        conversation_id=conversation.pk,
        upload=SimpleUploadedFile("mock.png", _png(), content_type="image/png"),
    )
    messaging_services.message_send(
        actor=client,
        conversation_id=conversation.pk,
        body="The mock-up",
        client_msg_id="world-2",
        attachment_ids=[o["attachment"].pk],
    )
    o["notification"] = messaging_services.notify(recipient=freelancer, kind="message", text="New message")
    o["client_notification"] = messaging_services.notify(recipient=client, kind="message", text="New message")

    # saved searches and jobs, a service listing with an order
    o["saved_search"] = job_services.saved_search_create(
        actor=freelancer, name="Django", query_string="q=django"
    )
    listing = make_listing(freelancer, staff=staff)
    o["listing"] = listing
    order = catalog.order_create(actor=client, listing_id=listing.pk, tier="starter")
    catalog.order_pay(actor=client, order_id=order.pk)
    order.refresh_from_db()
    if answers_for(listing):
        catalog.order_submit_requirements(actor=client, order_id=order.pk, answers=answers_for(listing))
    order.refresh_from_db()
    o["order"] = order

    # money: a payout method of the freelancer, an invoice of the client
    o["payout_method"] = payment_services.payout_method_add_bank_account(
        actor=freelancer, holder_name="Finn Owner", routing_number="110000000", account_number="000123456789"
    )
    from payments.models import Charge, Invoice

    o["charge"] = Charge.objects.filter(payer=client, status=Charge.Status.SUCCEEDED).order_by("pk").first()
    o["invoice"] = payment_services.invoice_issue(
        actor=client, kind=Invoice.Kind.PAYMENT, source_id=o["charge"].pk
    )

    # a pending invitation of the owner freelancer, files on the job and the proposal
    invited_job = make_job(client, title="Migrate a Flask app to Django")
    o["own_invitation"] = invite(invited_job, freelancer)
    o["job_attachment"] = job_services.job_add_attachment(
        actor=client,
        job_id=o["job"].pk,
        upload=SimpleUploadedFile("spec.png", _png(), content_type="image/png"),
    )
    from proposals.models import ProposalAttachment

    o["proposal_attachment"] = ProposalAttachment.objects.create(
        proposal=o["proposal"],
        file=SimpleUploadedFile("portfolio.png", _png(), content_type="image/png"),
        original_name="portfolio.png",
        size_bytes=100,
    )

    # the freelancer's profile parts and a skill test attempt
    from accounts import services as account_services
    from accounts.models import AssessmentChoice, AssessmentQuestion, Skill, SkillAssessment
    from accounts.taxonomy import sync_assessments

    if not SkillAssessment.objects.exists():  # a transactional test flushed the migration's data
        sync_assessments(Skill, SkillAssessment, AssessmentQuestion, AssessmentChoice)
    o["education"] = account_services.education_save(actor=freelancer, school="Warsaw University")
    o["attempt"] = account_services.assessment_start(
        actor=freelancer,
        assessment_id=SkillAssessment.objects.order_by("pk").first().pk,  # type: ignore[union-attr]
    )

    # a closed week of the hourly contract: last week, or the week before when the segment
    # above fell in last week (the first three hours of a Monday, UTC), which must stay
    # open for the freelancer to edit and delete it
    from contracts.models import Timesheet

    closed_monday = timetracking.week_start_of(timezone.now()) - timedelta(days=7)
    if timetracking.week_start_of(o["segment"].started_at) == closed_monday:
        closed_monday -= timedelta(days=7)
    o["timesheet"] = Timesheet.objects.create(
        contract=o["hourly_contract"], week_start=closed_monday, status=Timesheet.Status.IN_REVIEW
    )

    # an ended contract with both reviews given (revealed), so the freelancer may reply
    from reviews import services as review_services
    from tests.reviews.conftest import about_client, about_freelancer

    review_job = make_job(client, title="Fix the checkout page")
    ended = contract_services.offer_accept(
        actor=freelancer, offer_id=offer_from_proposal(make_proposal(review_job, freelancer)).pk
    )
    ended = contract_services.contract_end(actor=client, contract_id=ended.pk, reason="completed", note="")
    o["ended_contract"] = ended
    o["review"] = review_services.review_submit(actor=client, contract_id=ended.pk, data=about_freelancer())
    review_services.review_submit(actor=freelancer, contract_id=ended.pk, data=about_client())
    o["review"].refresh_from_db()
    _add_teams_agencies_and_community(world)
    return world


def _add_teams_agencies_and_community(world: World) -> None:
    """The owner client's team, the owner freelancer's agency, an identity document, a forum
    thread, a help article and an event (each with a pending invitation where it has one)."""
    from accounts import agencies, teams, trust
    from accounts.models import IdentityVerification, TeamRole
    from community import forums
    from community.forum_seeding import ensure_boards
    from community.models import Article, Board, Event, HelpCategory

    o = world.objects
    client, freelancer = world.client, world.freelancer
    o["team"] = teams.team_create(actor=client, name="Owner's team")
    o["team_invitation"], o["team_token"] = teams.member_invite(
        actor=client, team_id=o["team"].pk, email="teammate@example.com", role=TeamRole.VIEWER
    )
    o["agency"] = agencies.agency_create(actor=freelancer, name="Finn Studio")
    sent = agencies.member_invite(actor=freelancer, agency_id=o["agency"].pk, email="partner@example.com")
    o["agency_invitation"], o["agency_token"] = sent.invitation, sent.token
    o["identity"] = trust.identity_submit(
        actor=freelancer,
        document_type=IdentityVerification.DocumentType.values[0],
        legal_name="Finn Owner",
        country="PL",
        upload=SimpleUploadedFile("passport.png", _png(), content_type="image/png"),
    )
    ensure_boards()
    board = Board.objects.filter(staff_only_threads=False).order_by("position", "pk").first()
    assert board is not None
    o["board"] = board
    o["thread"] = forums.thread_create(
        actor=freelancer, board_id=board.pk, title="How do you price fixed jobs?", body="Per milestone? " * 3
    )
    o["post"] = o["thread"].posts.order_by("pk").first()
    category = HelpCategory.objects.order_by("pk").first() or HelpCategory.objects.create(
        name="Getting started", slug="getting-started-test"
    )
    o["help_category"] = category
    o["article"] = Article.objects.filter(is_published=True).order_by("pk").first() or Article.objects.create(
        category=category,
        title="Getting paid",
        slug="getting-paid-test",
        summary="How money reaches you.",
        body="Escrow first, then release.",
        is_published=True,
    )
    o["event"] = Event.objects.create(
        slug="world-office-hours",
        title="Office hours",
        description="Questions about contracts.",
        speaker_name="Sam Staff",
        speaker_title="Support",
        starts_at=timezone.now() + timedelta(days=3),
        duration_minutes=60,
        capacity=50,
        join_url="https://meet.example.com/world",
        is_published=True,
        created_by=world.staff,
    )


@contextmanager
def world_in_rollback(django_db_blocker) -> Iterator[World]:
    """Build the world once (a module fixture) inside a transaction rolled back at the end.
    Each test's own transaction (the ``db`` fixture) nests in it and is rolled back too, so
    every test starts from the same world. The outer block is marked as a test-case block so
    that services using ``atomic(durable=True)`` nest in it as they do in a TestCase."""
    from django.conf import settings

    from payments.gateways import local

    with django_db_blocker.unblock():
        previous_gateway = settings.PAYMENTS_GATEWAY
        settings.PAYMENTS_GATEWAY = "local"
        atomic = transaction.atomic()
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            settings.PAYMENTS_GATEWAY = previous_gateway
            local.reset()


@contextmanager
def rolled_back() -> Iterator[None]:
    """One request's effects, undone afterwards (a savepoint that durable blocks accept)."""
    atomic = transaction.atomic()
    atomic._from_testcase = True  # type: ignore[attr-defined]
    atomic.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
