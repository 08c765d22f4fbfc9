"""Proposal services: submitting (happy path, every refusal, every validation), the
transitions table (each allowed and each illegal move), the client's actions, the interview
conversation, and the job counters staying equal to what the proposals say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import Role, SuspensionReason
from jobs import services as job_services
from jobs.models import Invitation, Job
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Conversation, Message, Notification, Participant
from proposals import services
from proposals.models import ConnectsTransaction, Proposal, ProposalEvent
from proposals.services import BidInput, MilestoneInput
from tests import factories
from tests.jobs.conftest import make_job
from tests.proposals.conftest import COVER_LETTER, balance_of, proposal_input, submit, two_milestones

pytestmark = pytest.mark.django_db

S = Proposal.Status


def counters(job: Job) -> dict[str, int]:
    job.refresh_from_db()
    return {
        "proposals": job.proposals_count,
        "shortlisted": job.shortlisted_count,
        "messaged": job.messaged_count,
        "hires": job.hires_count,
    }


def expected_counters(job: Job) -> dict[str, int]:
    """The invariants of proposals.services, computed from the proposals themselves."""
    rows = Proposal.objects.filter(job=job)
    return {
        "proposals": rows.exclude(status=S.WITHDRAWN).count(),
        "shortlisted": rows.filter(status=S.SHORTLISTED).count(),
        "messaged": rows.exclude(status=S.WITHDRAWN).filter(conversation__isnull=False).count(),
        "hires": rows.filter(status=S.HIRED).count(),
    }


# --- submitting ---------------------------------------------------------------------------------------


def test_submit_records_the_proposal_spends_connects_and_tells_the_client(
    pro, job, django_capture_on_commit_callbacks
):
    question_job = make_job(job.client, title="Build a Django booking website", questions=["Which sites?"])
    question = question_job.questions.get()

    with django_capture_on_commit_callbacks(execute=True):
        proposal = submit(
            pro,
            question_job,
            answers={question.pk: "  Two yoga studios.  "},
            milestones=two_milestones(),
        )

    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    assert proposal.cover_letter == COVER_LETTER
    assert proposal.fixed_amount_cents == 120_000 and proposal.hourly_rate_cents is None
    assert proposal.connects_spent == 4
    assert proposal.match_score is not None and proposal.match_reasons
    assert [a.text for a in proposal.answers.all()] == ["Two yoga studios."]
    assert [(m.position, m.amount_cents) for m in proposal.milestones.all()] == [(1, 60_000), (2, 60_000)]
    assert balance_of(pro) == 10 - 4
    spend = ConnectsTransaction.objects.get(kind="spend")
    assert (spend.amount, spend.balance_after, spend.proposal_id, spend.job_id) == (
        -4,
        6,
        proposal.pk,
        question_job.pk,
    )
    assert list(proposal.events.values_list("kind", "from_status", "to_status")) == [
        ("submitted", "", "submitted")
    ]
    assert counters(question_job)["proposals"] == 1
    note = Notification.objects.get(recipient=question_job.client)
    assert note.kind == "proposal"
    assert note.url == f"/proposals/{proposal.pk}/"
    assert "Paula P." in note.text


def test_submit_on_an_hourly_job_takes_an_hourly_rate(pro, hourly_job):
    proposal = submit(pro, hourly_job, hourly_rate_cents=5500)

    assert (proposal.hourly_rate_cents, proposal.fixed_amount_cents, proposal.bid_cents) == (5500, None, 5500)


def test_the_first_wallet_comes_with_this_months_grant(pro, job):
    assert not ConnectsTransaction.objects.exists()

    submit(pro, job)

    kinds = list(ConnectsTransaction.objects.order_by("id").values_list("kind", "amount", "balance_after"))
    assert kinds == [("monthly", 10, 10), ("spend", -4, 6)]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"cover_letter": "Hire me."}, "cover_letter_too_short"),
        ({"cover_letter": "x" * 100_000}, "cover_letter_too_long"),
        ({"fixed_amount_cents": None}, "bid_required"),
        ({"fixed_amount_cents": -5000}, "bid_out_of_range"),
        ({"fixed_amount_cents": 100}, "bid_out_of_range"),
        ({"fixed_amount_cents": 10**12}, "bid_out_of_range"),
        ({"hourly_rate_cents": 4000, "fixed_amount_cents": None}, "bid_wrong_type"),
        ({"duration": "forever"}, "invalid_choice"),
        ({"milestones": two_milestones(100_000)}, "milestones_sum_mismatch"),
        (
            {"milestones": [MilestoneInput("Everything", -120_000)]},
            "milestone_amount_invalid",
        ),
        (
            {"milestones": [MilestoneInput("Everything", 120_000), MilestoneInput("Nothing", 0)]},
            "milestone_amount_invalid",
        ),
        ({"milestones": [MilestoneInput("", 120_000)]}, "milestone_description_required"),
        ({"milestones": [MilestoneInput("x" * 201, 120_000)]}, "milestone_description_too_long"),
        (
            {"milestones": [MilestoneInput("All", 120_000, timezone.localdate() - timedelta(days=1))]},
            "milestone_due_date_invalid",
        ),
        (
            {"milestones": [MilestoneInput("All", 120_000, timezone.localdate() + timedelta(days=3650))]},
            "milestone_due_date_invalid",
        ),
        ({"milestones": [MilestoneInput(f"Part {i}", 10_000) for i in range(12)]}, "too_many_milestones"),
        ({"portfolio_item_ids": [999_999]}, "invalid_portfolio_item"),
        ({"answers": {999_999: "An answer to nothing"}}, "unknown_question"),
    ],
)
def test_submit_refuses_bad_input_and_changes_nothing(pro, job, overrides, code):
    with pytest.raises(ApplicationError) as error:
        submit(pro, job, **overrides)

    assert error.value.code == code
    assert error.value.extra.get("field")
    assert not Proposal.objects.exists()
    assert not ConnectsTransaction.objects.filter(kind="spend").exists()
    assert counters(job)["proposals"] == 0


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"fixed_amount_cents": 120_000, "hourly_rate_cents": None}, "bid_wrong_type"),
        ({"milestones": two_milestones(4500)}, "bid_wrong_type"),
        ({"hourly_rate_cents": 100}, "bid_out_of_range"),
        ({"answers": {}}, "answer_required"),
    ],
)
def test_submit_on_an_hourly_job_refuses_bad_input(pro, hourly_job, overrides, code):
    with pytest.raises(ApplicationError) as error:
        submit(pro, hourly_job, **overrides)

    assert error.value.code == code
    assert not Proposal.objects.exists()


def test_every_question_needs_an_answer_of_at_most_2000_characters(pro, hourly_job):
    question = hourly_job.questions.get()

    with pytest.raises(ApplicationError) as missing:
        submit(pro, hourly_job, answers={question.pk: "   "})
    with pytest.raises(ApplicationError) as too_long:
        submit(pro, hourly_job, answers={question.pk: "x" * 2001})

    assert (missing.value.code, missing.value.extra["question_id"]) == ("answer_required", question.pk)
    assert too_long.value.code == "answer_too_long"


def test_portfolio_items_must_be_the_freelancers_own(pro, other_pro, job):
    mine = accounts_services.portfolio_item_save(actor=pro, title="Yoga booking site")
    theirs = accounts_services.portfolio_item_save(actor=other_pro, title="Someone else's shop")

    with pytest.raises(ApplicationError) as error:
        submit(pro, job, portfolio_item_ids=[mine.pk, theirs.pk])
    proposal = submit(pro, job, portfolio_item_ids=[mine.pk])

    assert error.value.code == "invalid_portfolio_item"
    assert list(proposal.portfolio_items.all()) == [mine]


def test_attachments_are_checked_limited_to_five_and_stored_privately(pro, job, settings):
    pdf = SimpleUploadedFile("brief.pdf", b"%PDF-1.4 a tiny pdf", content_type="application/pdf")
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    many = [SimpleUploadedFile(f"n{i}.txt", b"notes\n") for i in range(6)]

    with pytest.raises(ApplicationError) as bad:
        submit(pro, job, attachments=[fake])
    with pytest.raises(ApplicationError) as too_many:
        submit(pro, job, attachments=many)
    proposal = submit(pro, job, attachments=[pdf])

    assert bad.value.extra["field"] == "attachments"
    assert too_many.value.code == "too_many_attachments"
    attachment = proposal.attachments.get()
    assert attachment.original_name == "brief.pdf"
    assert attachment.file.path.startswith(settings.PRIVATE_MEDIA_ROOT)
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 - private files have no URL


def test_who_cannot_apply(pro, job, freelancer, client_owner, staff):
    accounts_services.user_suspend(actor=staff, user_id=pro.pk, reason=SuspensionReason.SPAM)
    pro.refresh_from_db()

    with pytest.raises(PermissionDeniedError) as not_freelancer:
        submit(client_owner, job)
    with pytest.raises(PermissionDeniedError) as suspended:
        submit(pro, job)
    with pytest.raises(ApplicationError) as unpublished:
        submit(freelancer, job)

    assert not_freelancer.value.code == "not_freelancer"
    assert suspended.value.code == "account_suspended"
    assert unpublished.value.code == "profile_not_published"


def test_nobody_applies_to_their_own_job(pro):
    accounts_services.user_switch_role(actor=pro, role=Role.CLIENT)
    own = make_job(pro)

    with pytest.raises(ApplicationError) as error:
        submit(pro, own)

    assert error.value.code == "own_job"


def test_only_open_jobs_take_proposals(pro, client_owner):
    draft = make_job(client_owner, publish=False)
    closed = make_job(client_owner)
    job_services.job_close(actor=client_owner, job_id=closed.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    for job in (draft, closed):
        with pytest.raises(ApplicationError) as error:
            submit(pro, job)
        assert error.value.code == "job_not_open"
    with pytest.raises(NotFoundError):
        services.proposal_submit(actor=pro, job_id=999_999, data=proposal_input(draft))


def test_invite_only_jobs_take_proposals_from_invited_freelancers_only(pro, other_pro, client_owner):
    job = make_job(client_owner, visibility=Job.Visibility.INVITE_ONLY)
    invitation = job_services.invitation_send(
        actor=client_owner, job_id=job.pk, freelancer_id=pro.pk, message="Please apply."
    )

    with pytest.raises(NotFoundError):
        submit(other_pro, job)
    proposal = submit(pro, job)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED  # accepted as part of submitting
    assert proposal.invitation == invitation
    assert proposal.connects_spent == 0


def test_an_invitation_declined_earlier_does_not_open_an_invite_only_job(pro, client_owner):
    job = make_job(client_owner, visibility=Job.Visibility.INVITE_ONLY)
    invitation = job_services.invitation_send(
        actor=client_owner, job_id=job.pk, freelancer_id=pro.pk, message="Please apply."
    )
    job_services.invitation_decline(actor=pro, invitation_id=invitation.pk, reason="too_busy")

    with pytest.raises(ApplicationError) as error:
        submit(pro, job)

    assert error.value.code == "invitation_not_active"


def test_one_active_proposal_per_job_and_freelancer(pro, job, proposal):
    with pytest.raises(ApplicationError) as error:
        submit(pro, job)

    assert error.value.code == "already_applied"
    assert error.value.extra["proposal_id"] == proposal.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(
            job=job, freelancer=pro, cover_letter="x", fixed_amount_cents=1000, duration="lt1"
        )


def test_after_withdrawing_a_freelancer_may_apply_again_and_pays_again(pro, job, proposal):
    services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="mistake")

    again = submit(pro, job)

    assert again.pk != proposal.pk
    assert balance_of(pro) == 10 - 4 - 4
    assert counters(job) == expected_counters(job)


# --- the transitions table ----------------------------------------------------------------------------


def put_in(status: str, freelancer, job) -> Proposal:
    """A proposal in ``status``, reached through the real services."""
    proposal = submit(freelancer, job)
    if status == S.SHORTLISTED:
        services.proposal_shortlist(actor=job.client, proposal_id=proposal.pk)
    elif status == S.HIRED:
        services.proposal_mark_hired(proposal_id=proposal.pk, actor=job.client)
    elif status == S.DECLINED:
        services.proposal_decline(actor=job.client, proposal_id=proposal.pk, reason="budget")
    elif status == S.WITHDRAWN:
        services.proposal_withdraw(actor=freelancer, proposal_id=proposal.pk, reason="schedule")
    proposal.refresh_from_db()
    assert proposal.status == status
    return proposal


def move(proposal: Proposal, to: str) -> Proposal:
    client = proposal.job.client
    if to == S.SHORTLISTED:
        return services.proposal_shortlist(actor=client, proposal_id=proposal.pk)
    if to == S.SUBMITTED:
        return services.proposal_unshortlist(actor=client, proposal_id=proposal.pk)
    if to == S.HIRED:
        return services.proposal_mark_hired(proposal_id=proposal.pk, actor=client)
    if to == S.DECLINED:
        return services.proposal_decline(actor=client, proposal_id=proposal.pk, reason="not_a_fit")
    return services.proposal_withdraw(actor=proposal.freelancer, proposal_id=proposal.pk, reason="rate")


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_move_of_the_transitions_table(pro, job, start, target):
    proposal = put_in(start, pro, job)
    events_before = proposal.events.count()

    if target in Proposal.TRANSITIONS[start]:
        move(proposal, target)
        proposal.refresh_from_db()
        assert proposal.status == target
        last = proposal.events.last()
        assert (last.from_status, last.to_status) == (start, target)
    else:
        with pytest.raises(ApplicationError) as error:
            move(proposal, target)
        # the client never sees a withdrawn proposal: for them it does not exist
        hidden = start == S.WITHDRAWN and target != S.WITHDRAWN and target != S.HIRED
        assert error.value.code == ("not_found" if hidden else "illegal_transition")
        proposal.refresh_from_db()
        assert proposal.status == start
        assert proposal.events.count() == events_before
    assert counters(job) == expected_counters(job)


def test_archiving_is_a_flag_that_cannot_be_set_twice(proposal):
    client = proposal.job.client

    services.proposal_archive(actor=client, proposal_id=proposal.pk)
    with pytest.raises(ApplicationError) as twice:
        services.proposal_archive(actor=client, proposal_id=proposal.pk)
    services.proposal_unarchive(actor=client, proposal_id=proposal.pk)
    with pytest.raises(ApplicationError) as not_archived:
        services.proposal_unarchive(actor=client, proposal_id=proposal.pk)

    proposal.refresh_from_db()
    assert proposal.archived is False and proposal.status == S.SUBMITTED
    assert twice.value.code == not_archived.value.code == "illegal_transition"
    assert list(proposal.events.values_list("kind", flat=True)) == ["submitted", "archived", "unarchived"]


def test_a_pending_offer_freezes_the_proposal(proposal, pro):
    client = proposal.job.client
    services.proposal_mark_offered(proposal_id=proposal.pk, pending=True)

    for action in (
        lambda: services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="rate"),
        lambda: services.proposal_decline(actor=client, proposal_id=proposal.pk, reason="budget"),
        lambda: services.proposal_update_bid(
            actor=pro, proposal_id=proposal.pk, data=BidInput(duration="lt1", fixed_amount_cents=90_000)
        ),
    ):
        with pytest.raises(ApplicationError) as error:
            action()
        assert error.value.code == "offer_pending"
    services.proposal_mark_offered(proposal_id=proposal.pk, pending=False)
    services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="rate")


def test_an_offer_needs_an_active_proposal(proposal):
    services.proposal_decline(actor=proposal.job.client, proposal_id=proposal.pk, reason="budget")

    with pytest.raises(ApplicationError) as error:
        services.proposal_mark_offered(proposal_id=proposal.pk, pending=True)

    assert error.value.code == "illegal_transition"


def test_hiring_a_shortlisted_proposal_counts_the_hire(proposal):
    services.proposal_shortlist(actor=proposal.job.client, proposal_id=proposal.pk)
    services.proposal_mark_offered(proposal_id=proposal.pk, pending=True)

    hired = services.proposal_mark_hired(proposal_id=proposal.pk, actor=proposal.job.client)

    assert hired.status == S.HIRED and hired.offer_pending is False
    assert counters(proposal.job) == {"proposals": 1, "shortlisted": 0, "messaged": 0, "hires": 1}


def test_reasons_are_required_and_job_closed_is_not_the_clients_to_give(proposal, pro):
    client = proposal.job.client

    for reason in ("", "job_closed", "whatever"):
        with pytest.raises(ApplicationError) as error:
            services.proposal_decline(actor=client, proposal_id=proposal.pk, reason=reason)
        assert error.value.code == "reason_required"
    with pytest.raises(ApplicationError) as withdraw:
        services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="")
    with pytest.raises(ApplicationError) as long_note:
        services.proposal_decline(actor=client, proposal_id=proposal.pk, reason="budget", note="x" * 501)

    assert withdraw.value.code == "reason_required"
    assert long_note.value.code == "note_too_long"


def test_decline_tells_the_freelancer_why(proposal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_decline(
            actor=proposal.job.client, proposal_id=proposal.pk, reason="budget", note="Too expensive for now."
        )

    proposal.refresh_from_db()
    assert (proposal.decline_reason, proposal.decline_note) == ("budget", "Too expensive for now.")
    note = Notification.objects.get(recipient=proposal.freelancer)
    assert "declined" in note.text and "outside my budget" in note.text


def test_shortlisting_tells_the_freelancer(proposal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_shortlist(actor=proposal.job.client, proposal_id=proposal.pk)

    assert "shortlisted" in Notification.objects.get(recipient=proposal.freelancer).text


# --- who may act ------------------------------------------------------------------------------------------


def test_only_the_jobs_client_acts_on_a_proposal_and_only_its_freelancer_changes_it(proposal, pro, other_pro):
    stranger = factories.make_client()
    client_actions = [
        lambda actor: services.proposal_shortlist(actor=actor, proposal_id=proposal.pk),
        lambda actor: services.proposal_unshortlist(actor=actor, proposal_id=proposal.pk),
        lambda actor: services.proposal_archive(actor=actor, proposal_id=proposal.pk),
        lambda actor: services.proposal_unarchive(actor=actor, proposal_id=proposal.pk),
        lambda actor: services.proposal_decline(actor=actor, proposal_id=proposal.pk, reason="budget"),
        lambda actor: services.proposal_message(actor=actor, proposal_id=proposal.pk, text="Hello"),
    ]
    freelancer_actions = [
        lambda actor: services.proposal_withdraw(actor=actor, proposal_id=proposal.pk, reason="rate"),
        lambda actor: services.proposal_update_bid(
            actor=actor, proposal_id=proposal.pk, data=BidInput(duration="lt1", fixed_amount_cents=90_000)
        ),
    ]
    for action in client_actions:
        for actor in (stranger, other_pro, pro):
            with pytest.raises(NotFoundError):
                action(actor)
    for action in freelancer_actions:
        for actor in (stranger, other_pro, proposal.job.client):
            with pytest.raises(NotFoundError):
                action(actor)
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED and proposal.archived is False
    assert proposal.events.count() == 1


def test_a_suspended_client_cannot_act(proposal, staff):
    client = proposal.job.client
    accounts_services.user_suspend(actor=staff, user_id=client.pk, reason=SuspensionReason.SPAM)
    client.refresh_from_db()

    with pytest.raises(PermissionDeniedError):
        services.proposal_shortlist(actor=client, proposal_id=proposal.pk)


# --- changing the terms -----------------------------------------------------------------------------------


def test_update_bid_changes_the_terms_and_logs_them(proposal, pro, django_capture_on_commit_callbacks):
    due = timezone.localdate() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_update_bid(
            actor=pro,
            proposal_id=proposal.pk,
            data=BidInput(
                duration="lt1",
                fixed_amount_cents=90_000,
                milestones=[MilestoneInput("Everything", 90_000, due)],
            ),
        )

    proposal.refresh_from_db()
    assert (proposal.fixed_amount_cents, proposal.duration) == (90_000, "lt1")
    assert proposal.cover_letter == COVER_LETTER
    assert [(m.description, m.due_date) for m in proposal.milestones.all()] == [("Everything", due)]
    event = proposal.events.get(kind="bid_changed")
    assert event.data["old"]["fixed_amount_cents"] == 120_000
    assert event.data["new"]["fixed_amount_cents"] == 90_000
    assert "changed the terms" in Notification.objects.get(recipient=proposal.job.client).text


def test_update_bid_with_the_same_terms_logs_nothing(proposal, pro):
    services.proposal_update_bid(
        actor=pro, proposal_id=proposal.pk, data=BidInput(duration="1to3", fixed_amount_cents=120_000)
    )

    assert not proposal.events.filter(kind="bid_changed").exists()


def test_update_bid_is_checked_like_a_new_bid(proposal, pro):
    with pytest.raises(ApplicationError) as wrong_type:
        services.proposal_update_bid(
            actor=pro, proposal_id=proposal.pk, data=BidInput(duration="lt1", hourly_rate_cents=5000)
        )
    with pytest.raises(ApplicationError) as sums:
        services.proposal_update_bid(
            actor=pro,
            proposal_id=proposal.pk,
            data=BidInput(duration="lt1", fixed_amount_cents=90_000, milestones=two_milestones(80_000)),
        )

    assert wrong_type.value.code == "bid_wrong_type"
    assert sums.value.code == "milestones_sum_mismatch"


def test_a_closed_proposal_keeps_its_terms(proposal, pro):
    services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="rate")

    with pytest.raises(ApplicationError) as error:
        services.proposal_update_bid(
            actor=pro, proposal_id=proposal.pk, data=BidInput(duration="lt1", fixed_amount_cents=90_000)
        )

    assert error.value.code == "illegal_transition"


# --- the interview --------------------------------------------------------------------------------------


def test_the_first_message_opens_the_interview(proposal, django_capture_on_commit_callbacks):
    client = proposal.job.client

    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_message(actor=client, proposal_id=proposal.pk, text="Can you start Monday?")
    services.proposal_message(actor=client, proposal_id=proposal.pk, text="And the budget?")

    proposal.refresh_from_db()
    conversation = Conversation.objects.get()
    assert proposal.conversation == conversation
    assert conversation.subject_id == proposal.pk
    assert set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)) == {
        client.pk,
        proposal.freelancer_id,
    }
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == [
        "Can you start Monday?",
        "And the budget?",
    ]
    job = proposal.job
    job.refresh_from_db()
    assert (job.messaged_count, job.interviewing_count) == (1, 1)
    assert proposal.events.filter(kind="messaged").count() == 1
    note = Notification.objects.get(recipient=proposal.freelancer)
    assert note.url == f"/messages/{conversation.pk}/"


def test_messaging_an_invited_freelancer_does_not_count_them_interviewing_twice(pro, client_owner):
    job = make_job(client_owner)
    job_services.invitation_send(actor=client_owner, job_id=job.pk, freelancer_id=pro.pk, message="Apply?")
    proposal = submit(pro, job)  # accepts the invitation: interviewing 1

    services.proposal_message(actor=client_owner, proposal_id=proposal.pk, text="Hello")

    job.refresh_from_db()
    assert (job.messaged_count, job.interviewing_count) == (1, 1)


def test_messages_need_text_and_an_open_proposal(proposal):
    client = proposal.job.client

    with pytest.raises(ApplicationError) as empty:
        services.proposal_message(actor=client, proposal_id=proposal.pk, text="   ")
    services.proposal_decline(actor=client, proposal_id=proposal.pk, reason="budget")
    with pytest.raises(ApplicationError) as closed:
        services.proposal_message(actor=client, proposal_id=proposal.pk, text="Hello")

    assert empty.value.code == "message_required"
    assert closed.value.code == "illegal_transition"
    assert not Conversation.objects.exists()


# --- counters ---------------------------------------------------------------------------------------------


def test_job_counters_follow_every_transition(job):
    people = [factories.make_published_freelancer() for _ in range(5)]
    proposals = [submit(person, job) for person in people]
    client = job.client
    a, b, c, d, e = proposals

    services.proposal_shortlist(actor=client, proposal_id=a.pk)
    services.proposal_shortlist(actor=client, proposal_id=b.pk)
    services.proposal_message(actor=client, proposal_id=b.pk, text="Hi")
    services.proposal_message(actor=client, proposal_id=c.pk, text="Hi")
    assert (
        counters(job)
        == expected_counters(job)
        == {"proposals": 5, "shortlisted": 2, "messaged": 2, "hires": 0}
    )

    services.proposal_withdraw(actor=people[1], proposal_id=b.pk, reason="rate")  # shortlisted and messaged
    services.proposal_decline(actor=client, proposal_id=a.pk, reason="budget")  # shortlisted
    services.proposal_unshortlist(
        actor=client, proposal_id=services.proposal_shortlist(actor=client, proposal_id=d.pk).pk
    )
    services.proposal_mark_hired(proposal_id=e.pk, actor=client)
    services.proposal_archive(actor=client, proposal_id=c.pk)

    assert (
        counters(job)
        == expected_counters(job)
        == {"proposals": 4, "shortlisted": 0, "messaged": 1, "hires": 1}
    )
    job.refresh_from_db()
    assert job.interviewing_count == 1  # c (b withdrew)


def test_events_record_who_and_when(proposal):
    services.proposal_shortlist(actor=proposal.job.client, proposal_id=proposal.pk)

    event = ProposalEvent.objects.filter(proposal=proposal).last()
    assert (event.kind, event.actor_id, event.from_status, event.to_status) == (
        "shortlisted",
        proposal.job.client_id,
        "submitted",
        "shortlisted",
    )
    assert event.created_at <= timezone.now()
