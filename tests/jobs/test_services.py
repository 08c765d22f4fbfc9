"""The write use cases of jobs: posting rules, the job state machine, ownership, moderation,
flags and invitations. State is built through the real services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.postgres.search import SearchQuery
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ClientProfile, ContentFlag, FlagReason, Skill, SuspensionReason
from jobs import services
from jobs.models import Invitation, Job, JobAttachment, JobEvent, ScreeningQuestion
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import job_input, make_job

pytestmark = pytest.mark.django_db


def suspend(user, staff) -> None:
    account_services.user_suspend(actor=staff, user_id=user.pk, reason=SuspensionReason.SPAM, note="")
    user.refresh_from_db()


def events_of(job: Job) -> list[tuple[str, str, str]]:
    return list(job.events.order_by("id").values_list("kind", "from_status", "to_status"))


def text_file(
    name: str = "brief.txt", body: bytes = b"What we need, in plain words.\n"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="text/plain")


# --- posting: validation -------------------------------------------------------------------------


def other_category_subcategory_id() -> int:
    python = Skill.objects.select_related("subcategory").get(name="Python")
    return (
        Skill.objects.exclude(subcategory__category_id=python.subcategory.category_id)
        .select_related("subcategory")
        .first()
        .subcategory_id
    )


def eleven_skill_ids() -> list[int]:
    return list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:11])


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": ""}, "title_too_short", "title"),
        ({"title": "   Short   "}, "title_too_short", "title"),
        ({"title": "x" * 121}, "title_too_long", "title"),
        ({"description": "Too short."}, "description_too_short", "description"),
        ({"description": "x" * 100_000}, "description_too_long", "description"),
        ({"category_id": 999_999}, "invalid_category", "category"),
        ({"subcategory_id": other_category_subcategory_id}, "category_mismatch", "subcategory"),
        ({"skill_ids": eleven_skill_ids}, "too_many_skills", "skills"),
        ({"skill_ids": [999_999]}, "invalid_skill", "skills"),
        ({"questions": [f"Question {i}?" for i in range(6)]}, "too_many_questions", "questions"),
        ({"questions": ["x" * 301]}, "question_too_long", "questions"),
        ({"size": "huge"}, "invalid_choice", "size"),
        ({"visibility": "secret"}, "invalid_choice", "visibility"),
        ({"freelancers_needed": 0}, "invalid_freelancers_needed", "freelancers_needed"),
        ({"freelancers_needed": 51}, "invalid_freelancers_needed", "freelancers_needed"),
        ({"fixed_budget_cents": None}, "budget_required", "fixed_budget"),
        ({"fixed_budget_cents": 0}, "budget_out_of_range", "fixed_budget"),
        ({"fixed_budget_cents": -5000}, "budget_out_of_range", "fixed_budget"),
        ({"fixed_budget_cents": 100_000_001}, "budget_out_of_range", "fixed_budget"),
        (
            {"budget_type": "hourly", "hourly_min_cents": 5000, "hourly_max_cents": None},
            "budget_required",
            "hourly_min",
        ),
        (
            {"budget_type": "hourly", "hourly_min_cents": 6000, "hourly_max_cents": 4000},
            "budget_min_above_max",
            "hourly_min",
        ),
        (
            {"budget_type": "hourly", "hourly_min_cents": -100, "hourly_max_cents": 4000},
            "budget_out_of_range",
            "hourly_min",
        ),
        (
            {"budget_type": "hourly", "hourly_min_cents": 0, "hourly_max_cents": 4000},
            "budget_out_of_range",
            "hourly_min",
        ),
        (
            {"budget_type": "hourly", "hourly_min_cents": 5000, "hourly_max_cents": 100_000},
            "budget_out_of_range",
            "hourly_min",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_job_create_rejects_invalid_documents(client_user, overrides, code, field):
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}

    with pytest.raises(ApplicationError) as caught:
        services.job_create(actor=client_user, data=job_input(**overrides))

    assert caught.value.code == code
    assert caught.value.extra["field"] == field
    assert Job.objects.count() == 0


def test_job_create_makes_a_draft_with_skills_questions_and_an_event(client_user):
    python = Skill.objects.get(name="Python")
    django_skill = Skill.objects.get(name="Django")

    job = services.job_create(
        actor=client_user,
        data=job_input(
            title="  Build a Django booking site  ",
            skill_ids=[python.pk, django_skill.pk, python.pk],
            questions=["Which booking sites have you built?", "   ", "How do you test?"],
            budget_type="hourly",
            hourly_min_cents=3000,
            hourly_max_cents=6000,
            fixed_budget_cents=99_999,
        ),
    )

    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT
    assert job.title == "Build a Django booking site"
    assert job.client == client_user
    assert job.published_at is None
    assert set(job.skills.all()) == {python, django_skill}
    assert job.skills_text in ("Python Django", "Django Python")
    assert list(job.questions.values_list("text", "position")) == [
        ("Which booking sites have you built?", 0),
        ("How do you test?", 1),
    ]
    assert (job.hourly_min_cents, job.hourly_max_cents, job.fixed_budget_cents) == (3000, 6000, None)
    assert events_of(job) == [("created", "", "draft")]


def test_job_create_accepts_the_limits(client_user):
    job = services.job_create(
        actor=client_user,
        data=job_input(
            title="x" * 120,
            description="y" * 10_000,
            skill_ids=list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:10]),
            questions=[f"Question {i}?" for i in range(5)],
            freelancers_needed=50,
            fixed_budget_cents=500,
        ),
    )

    assert job.skills.count() == 10
    assert job.questions.count() == 5
    assert job.freelancers_needed == 50


def test_job_create_refuses_a_user_without_a_client_profile(freelancer):
    with pytest.raises(PermissionDeniedError) as caught:
        services.job_create(actor=freelancer, data=job_input())

    assert caught.value.code == "not_client"


def test_job_create_refuses_a_suspended_client(client_user, staff):
    suspend(client_user, staff)

    with pytest.raises(PermissionDeniedError) as caught:
        services.job_create(actor=client_user, data=job_input())

    assert caught.value.code == "account_suspended"
    assert Job.objects.count() == 0


# --- editing -------------------------------------------------------------------------------------


def test_job_update_logs_each_changed_field(draft_job, client_user):
    django_skill = Skill.objects.get(name="Django")

    services.job_update(
        actor=client_user,
        job_id=draft_job.pk,
        data=job_input(
            title="Build a Django booking site with payments",
            skill_ids=[django_skill.pk],
            fixed_budget_cents=200_000,
            questions=["Have you used Stripe?"],
        ),
    )

    draft_job.refresh_from_db()
    assert draft_job.title == "Build a Django booking site with payments"
    assert draft_job.fixed_budget_cents == 200_000
    edit = draft_job.events.get(kind=JobEvent.Kind.EDITED)
    assert edit.actor == client_user
    assert edit.changes == {
        "title": ["Build a Django booking site", "Build a Django booking site with payments"],
        "fixed_budget_cents": ["150000", "200000"],
        "skills": ["Python", "Django"],
        "questions": [[], ["Have you used Stripe?"]],
    }


def test_job_update_without_changes_logs_nothing(open_job, client_user):
    services.job_update(actor=client_user, job_id=open_job.pk, data=job_input())

    assert events_of(open_job) == [("created", "", "draft"), ("published", "draft", "open")]


def test_job_update_of_an_open_job_keeps_it_open(open_job, client_user):
    services.job_update(actor=client_user, job_id=open_job.pk, data=job_input(freelancers_needed=3))

    open_job.refresh_from_db()
    assert open_job.status == Job.Status.OPEN
    assert open_job.freelancers_needed == 3
    assert open_job.events.last().changes == {"freelancers_needed": ["1", "3"]}


def test_job_update_refuses_a_closed_job(open_job, client_user):
    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    with pytest.raises(ApplicationError) as caught:
        services.job_update(
            actor=client_user, job_id=open_job.pk, data=job_input(title="A completely new title")
        )

    assert caught.value.code == "not_editable"


def test_job_update_validates_like_create(draft_job, client_user):
    with pytest.raises(ApplicationError) as caught:
        services.job_update(
            actor=client_user,
            job_id=draft_job.pk,
            data=job_input(budget_type="hourly", hourly_min_cents=9000, hourly_max_cents=3000),
        )

    assert caught.value.code == "budget_min_above_max"
    draft_job.refresh_from_db()
    assert draft_job.budget_type == Job.BudgetType.FIXED


# --- the job state machine -------------------------------------------------------------------------


def test_the_transitions_table():
    assert {
        "draft": {"open", "cancelled"},
        "open": {"closed", "filled", "cancelled"},
        "closed": {"open"},
        "filled": set(),
        "cancelled": set(),
    } == Job.TRANSITIONS


def job_in(status: str, client, staff) -> Job:
    """A job brought to ``status`` through the services."""
    job = make_job(client, publish=status != "draft")
    if status == "closed":
        services.job_close(actor=client, job_id=job.pk, reason=Job.CloseReason.HIRED_ELSEWHERE)
    elif status == "cancelled":
        services.job_remove_by_staff(actor=staff, job_id=job.pk)
    elif status == "filled":
        # what contracts does when an offer is accepted: the only position is hired
        services.job_counters_add(job_id=job.pk, hires_count=1)
    job.refresh_from_db()
    assert job.status == status
    return job


def act(action: str, job: Job, client, staff) -> Job:
    if action == "publish":
        return services.job_publish(actor=client, job_id=job.pk)
    if action == "close":
        return services.job_close(actor=client, job_id=job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    if action == "reopen":
        return services.job_reopen(actor=client, job_id=job.pk)
    return services.job_remove_by_staff(actor=staff, job_id=job.pk, note="spam")


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("draft", "publish", "open"),
        ("draft", "close", None),
        ("draft", "reopen", None),
        ("draft", "remove", "cancelled"),
        ("open", "publish", None),
        ("open", "close", "closed"),
        ("open", "reopen", None),
        ("open", "remove", "cancelled"),
        ("closed", "publish", None),
        ("closed", "close", None),
        ("closed", "reopen", "open"),
        ("closed", "remove", None),
        ("filled", "publish", None),
        ("filled", "close", None),
        ("filled", "reopen", None),
        ("filled", "remove", None),
        ("cancelled", "publish", None),
        ("cancelled", "close", None),
        ("cancelled", "reopen", None),
        ("cancelled", "remove", None),
    ],
)
def test_job_transitions(client_user, staff, start, action, end):
    job = job_in(start, client_user, staff)
    events_before = job.events.count()

    if end is None:
        with pytest.raises(ApplicationError) as caught:
            act(action, job, client_user, staff)
        assert caught.value.code == "illegal_transition"
        assert job.events.count() == events_before
        job.refresh_from_db()
        assert job.status == start
    else:
        act(action, job, client_user, staff)
        job.refresh_from_db()
        assert job.status == end
        last = job.events.order_by("id").last()
        assert (last.from_status, last.to_status) == (start, end)


def test_publish_sets_the_date_and_counts_the_post(draft_job, client_user):
    services.job_publish(actor=client_user, job_id=draft_job.pk)

    draft_job.refresh_from_db()
    assert draft_job.published_at is not None
    assert ClientProfile.objects.get(user=client_user).jobs_posted_count == 1


def test_close_requires_a_client_reason(open_job, client_user):
    for reason in ("", "bored", Job.CloseReason.REMOVED_BY_STAFF):
        with pytest.raises(ApplicationError) as caught:
            services.job_close(actor=client_user, job_id=open_job.pk, reason=reason)
        assert caught.value.code == "reason_required"

    job = services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.HIRED)

    assert job.close_reason == Job.CloseReason.HIRED
    assert job.reopen_deadline == job.closed_at + timedelta(days=30)


def test_reopen_within_30_days_clears_the_closing(open_job, client_user):
    closed_at = timezone.now()
    with time_machine.travel(closed_at, tick=False):
        services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_GOOD_PROPOSALS)
    with time_machine.travel(closed_at + timedelta(days=30), tick=False):
        job = services.job_reopen(actor=client_user, job_id=open_job.pk)

    job.refresh_from_db()
    assert (job.status, job.close_reason, job.closed_at) == (Job.Status.OPEN, "", None)


def test_reopen_after_30_days_is_refused(open_job, client_user):
    closed_at = timezone.now()
    with time_machine.travel(closed_at, tick=False):
        services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_GOOD_PROPOSALS)

    later = closed_at + timedelta(days=30, seconds=1)
    with time_machine.travel(later, tick=False), pytest.raises(ApplicationError) as caught:
        services.job_reopen(actor=client_user, job_id=open_job.pk)

    assert caught.value.code == "reopen_window_passed"
    open_job.refresh_from_db()
    assert open_job.status == Job.Status.CLOSED


# --- ownership ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["update", "publish", "close", "reopen", "attach", "remove_attachment"])
def test_a_foreign_client_cannot_touch_another_clients_job(client_user, action):
    job = make_job(client_user, publish=action != "publish")
    if action == "reopen":
        services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)
    attachment = services.job_add_attachment(actor=client_user, job_id=job.pk, upload=text_file())
    stranger = factories.make_client()
    calls = {
        "update": lambda: services.job_update(
            actor=stranger, job_id=job.pk, data=job_input(title="Taken over job")
        ),
        "publish": lambda: services.job_publish(actor=stranger, job_id=job.pk),
        "close": lambda: services.job_close(actor=stranger, job_id=job.pk, reason=Job.CloseReason.HIRED),
        "reopen": lambda: services.job_reopen(actor=stranger, job_id=job.pk),
        "attach": lambda: services.job_add_attachment(actor=stranger, job_id=job.pk, upload=text_file()),
        "remove_attachment": lambda: services.job_remove_attachment(
            actor=stranger, job_id=job.pk, attachment_id=attachment.pk
        ),
    }
    status_before = Job.objects.get(pk=job.pk).status

    with pytest.raises(NotFoundError):
        calls[action]()

    job.refresh_from_db()
    assert job.status == status_before
    assert job.title == "Build a Django booking site"
    assert job.attachments.count() == 1


@pytest.mark.parametrize("action", ["update", "publish", "close"])
def test_a_suspended_client_cannot_change_their_job(client_user, staff, action):
    job = make_job(client_user, publish=action != "publish")
    suspend(client_user, staff)
    calls = {
        "update": lambda: services.job_update(
            actor=client_user, job_id=job.pk, data=job_input(title="New title here")
        ),
        "publish": lambda: services.job_publish(actor=client_user, job_id=job.pk),
        "close": lambda: services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED),
    }

    with pytest.raises(PermissionDeniedError) as caught:
        calls[action]()

    assert caught.value.code == "account_suspended"


# --- attachments -----------------------------------------------------------------------------------


def test_attachments_up_to_five(draft_job, client_user):
    for i in range(5):
        services.job_add_attachment(actor=client_user, job_id=draft_job.pk, upload=text_file(f"part{i}.txt"))

    with pytest.raises(ApplicationError) as caught:
        services.job_add_attachment(actor=client_user, job_id=draft_job.pk, upload=text_file("part5.txt"))

    assert caught.value.code == "too_many_attachments"
    assert sorted(draft_job.attachments.values_list("original_name", flat=True)) == [
        f"part{i}.txt" for i in range(5)
    ]


def test_attachment_of_a_refused_type(draft_job, client_user):
    upload = SimpleUploadedFile(
        "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" * 10, content_type="application/octet-stream"
    )

    with pytest.raises(ApplicationError) as caught:
        services.job_add_attachment(actor=client_user, job_id=draft_job.pk, upload=upload)

    assert caught.value.code == "file_type"
    assert draft_job.attachments.count() == 0


def test_remove_attachment_deletes_row_and_file(draft_job, client_user, django_capture_on_commit_callbacks):
    attachment = services.job_add_attachment(actor=client_user, job_id=draft_job.pk, upload=text_file())
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        services.job_remove_attachment(actor=client_user, job_id=draft_job.pk, attachment_id=attachment.pk)

    assert JobAttachment.objects.count() == 0
    assert not storage.exists(name)


# --- moderation ------------------------------------------------------------------------------------


def test_job_remove_by_staff_is_for_staff_only(open_job, client_user):
    with pytest.raises(PermissionDeniedError):
        services.job_remove_by_staff(actor=client_user, job_id=open_job.pk)

    open_job.refresh_from_db()
    assert open_job.status == Job.Status.OPEN


def test_job_remove_by_staff_cancels_reviews_flags_and_expires_invitations(
    open_job, client_user, staff, published_freelancer
):
    reporter = factories.make_freelancer()
    flag = services.job_flag(actor=reporter, job_id=open_job.pk, reason=FlagReason.SCAM)
    invitation = services.invitation_send(
        actor=client_user, job_id=open_job.pk, freelancer_id=published_freelancer.pk, message="Join us?"
    )

    services.job_remove_by_staff(actor=staff, job_id=open_job.pk, note="Asks for payment by wire.")

    open_job.refresh_from_db()
    assert open_job.status == Job.Status.CANCELLED
    assert open_job.close_reason == Job.CloseReason.REMOVED_BY_STAFF
    event = open_job.events.order_by("id").last()
    assert (event.kind, event.actor, event.changes) == (
        JobEvent.Kind.CANCELLED,
        staff,
        {"reason": "removed_by_staff", "note": "Asks for payment by wire."},
    )
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolved_at is not None) == ("actioned", staff, True)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED


def test_job_remove_by_staff_of_a_missing_job(staff):
    with pytest.raises(NotFoundError):
        services.job_remove_by_staff(actor=staff, job_id=999_999)


# --- flags --------------------------------------------------------------------------------------------


def test_flag_once_per_user_a_repeat_updates_it(open_job, freelancer):
    services.job_flag(actor=freelancer, job_id=open_job.pk, reason=FlagReason.SPAM, note="  Ads  ")
    services.job_flag(actor=freelancer, job_id=open_job.pk, reason=FlagReason.SCAM, note="Wants a wire")

    flags = list(ContentFlag.objects.values_list("object_id", "reporter_id", "reason", "note"))
    assert flags == [(open_job.pk, freelancer.pk, "scam", "Wants a wire")]


def test_flags_from_two_users_are_two_flags(open_job, freelancer):
    other = factories.make_freelancer()

    services.job_flag(actor=freelancer, job_id=open_job.pk, reason=FlagReason.SPAM)
    services.job_flag(actor=other, job_id=open_job.pk, reason=FlagReason.SPAM, note="Same here")

    assert ContentFlag.objects.filter(object_id=open_job.pk, content_type__model="job").count() == 2


def test_flag_own_job_is_refused(open_job, client_user):
    with pytest.raises(ApplicationError) as caught:
        services.job_flag(actor=client_user, job_id=open_job.pk, reason=FlagReason.SPAM)

    assert caught.value.code == "own_job"
    assert ContentFlag.objects.count() == 0


def test_flag_needs_a_reason(open_job, freelancer):
    with pytest.raises(ApplicationError) as caught:
        services.job_flag(actor=freelancer, job_id=open_job.pk, reason="meh")

    assert caught.value.code == "reason_required"


def test_flag_a_draft_is_not_found(draft_job, freelancer):
    with pytest.raises(NotFoundError):
        services.job_flag(actor=freelancer, job_id=draft_job.pk, reason=FlagReason.SPAM)


def test_flag_by_a_suspended_user_is_refused(open_job, freelancer, staff):
    suspend(freelancer, staff)

    with pytest.raises(PermissionDeniedError) as caught:
        services.job_flag(actor=freelancer, job_id=open_job.pk, reason=FlagReason.SPAM)

    assert caught.value.code == "account_suspended"


# --- viewed by the client -------------------------------------------------------------------------


def test_mark_viewed_only_by_the_owner(open_job, client_user, freelancer):
    services.job_mark_viewed_by_client(actor=freelancer, job=open_job)
    open_job.refresh_from_db()
    assert open_job.last_viewed_by_client_at is None

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        services.job_mark_viewed_by_client(actor=client_user, job=open_job)

    open_job.refresh_from_db()
    assert open_job.last_viewed_by_client_at == now


# --- invitations --------------------------------------------------------------------------------------


def invite(job: Job, client, freelancer, message: str = "Your profile fits this job.") -> Invitation:
    return services.invitation_send(actor=client, job_id=job.pk, freelancer_id=freelancer.pk, message=message)


def test_invitation_send(open_job, client_user, published_freelancer):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        invitation = invite(open_job, client_user, published_freelancer)

    assert (invitation.status, invitation.client, invitation.freelancer) == (
        Invitation.Status.PENDING,
        client_user,
        published_freelancer,
    )
    assert invitation.expires_at == now + timedelta(days=14)
    open_job.refresh_from_db()
    assert open_job.invites_count == 1


def test_invitation_twice_is_refused(open_job, client_user, published_freelancer):
    invite(open_job, client_user, published_freelancer)

    with pytest.raises(ApplicationError) as caught:
        invite(open_job, client_user, published_freelancer)

    assert caught.value.code == "already_invited"
    open_job.refresh_from_db()
    assert open_job.invites_count == 1


def test_invitation_on_a_draft_is_refused(draft_job, client_user, published_freelancer):
    with pytest.raises(ApplicationError) as caught:
        invite(draft_job, client_user, published_freelancer)

    assert caught.value.code == "job_not_open"
    assert Invitation.objects.count() == 0


def test_invitation_needs_a_message(open_job, client_user, published_freelancer):
    with pytest.raises(ApplicationError) as caught:
        invite(open_job, client_user, published_freelancer, message="   ")

    assert caught.value.code == "message_required"


def test_invitation_to_an_unpublished_freelancer_is_not_found(open_job, client_user, freelancer):
    with pytest.raises(NotFoundError):
        invite(open_job, client_user, freelancer)


def test_invitation_on_a_foreign_job_is_not_found(open_job, published_freelancer):
    stranger = factories.make_client()

    with pytest.raises(NotFoundError):
        invite(open_job, stranger, published_freelancer)


def test_invitation_accept(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)

    services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert invitation.responded_at is not None
    open_job.refresh_from_db()
    assert open_job.interviewing_count == 1


def test_invitation_accept_twice_is_refused(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)
    services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)

    with pytest.raises(ApplicationError) as caught:
        services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)

    assert caught.value.code == "illegal_transition"
    open_job.refresh_from_db()
    assert open_job.interviewing_count == 1


def test_invitation_decline_with_a_reason(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)

    services.invitation_decline(
        actor=published_freelancer,
        invitation_id=invitation.pk,
        reason=Invitation.DeclineReason.TOO_BUSY,
        note="  Booked until May.  ",
    )

    invitation.refresh_from_db()
    assert (invitation.status, invitation.decline_reason, invitation.decline_note) == (
        Invitation.Status.DECLINED,
        "too_busy",
        "Booked until May.",
    )


def test_invitation_decline_needs_a_reason(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)

    with pytest.raises(ApplicationError) as caught:
        services.invitation_decline(actor=published_freelancer, invitation_id=invitation.pk, reason="")

    assert caught.value.code == "reason_required"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_a_foreign_freelancer_cannot_answer_anothers_invitation(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)
    other = factories.make_published_freelancer()

    with pytest.raises(NotFoundError):
        services.invitation_accept(actor=other, invitation_id=invitation.pk)
    with pytest.raises(NotFoundError):
        services.invitation_decline(actor=other, invitation_id=invitation.pk, reason="not_interested")

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_invitations_expire_when_due(open_job, client_user, published_freelancer):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        due = invite(open_job, client_user, published_freelancer)
    with time_machine.travel(now + timedelta(days=10), tick=False):
        fresh = invite(open_job, client_user, factories.make_published_freelancer())

    with time_machine.travel(now + timedelta(days=14), tick=False):
        assert services.invitations_expire_due() == 1
        assert services.invitations_expire_due() == 0  # safe to run twice

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (Invitation.Status.EXPIRED, Invitation.Status.PENDING)


def test_accept_after_expiry_is_refused(open_job, client_user, published_freelancer):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        invitation = invite(open_job, client_user, published_freelancer)

    later = now + timedelta(days=14, seconds=1)
    with time_machine.travel(later, tick=False), pytest.raises(ApplicationError) as caught:
        services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)

    assert caught.value.code == "invitation_expired"
    open_job.refresh_from_db()
    assert open_job.interviewing_count == 0


def test_accept_after_expiry_records_the_expiry(open_job, client_user, published_freelancer):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        invitation = invite(open_job, client_user, published_freelancer)

    with (
        time_machine.travel(now + timedelta(days=14, seconds=1), tick=False),
        pytest.raises(ApplicationError),
    ):
        services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED


def test_closing_the_job_expires_pending_invitations(open_job, client_user, published_freelancer):
    invitation = invite(open_job, client_user, published_freelancer)

    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.HIRED)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    with pytest.raises(ApplicationError) as caught:
        services.invitation_accept(actor=published_freelancer, invitation_id=invitation.pk)
    assert caught.value.code == "illegal_transition"


# --- search ---------------------------------------------------------------------------------------------


@requires_postgres
def test_search_vector_follows_job_update(open_job, client_user):
    assert not Job.objects.filter(search_vector=SearchQuery("kubernetes")).exists()

    services.job_update(
        actor=client_user, job_id=open_job.pk, data=job_input(title="Move our Django site to Kubernetes")
    )

    assert list(Job.objects.filter(search_vector=SearchQuery("kubernetes"))) == [open_job]
    assert list(Job.objects.filter(search_vector=SearchQuery("booking"))) == [
        open_job
    ]  # from the description


def test_screening_questions_are_replaced_on_update(draft_job, client_user):
    services.job_update(
        actor=client_user, job_id=draft_job.pk, data=job_input(questions=["First?", "Second?"])
    )
    services.job_update(actor=client_user, job_id=draft_job.pk, data=job_input(questions=["Only one?"]))

    assert list(ScreeningQuestion.objects.filter(job=draft_job).values_list("text", flat=True)) == [
        "Only one?"
    ]


def test_a_job_fills_when_every_position_is_hired(client_user, published_freelancer):
    job = make_job(client_user, freelancers_needed=2)
    services.invitation_send(
        actor=client_user, job_id=job.pk, freelancer_id=published_freelancer.pk, message="Apply?"
    )

    services.job_counters_add(job_id=job.pk, hires_count=1)
    job.refresh_from_db()
    assert (job.status, job.hires_count) == (Job.Status.OPEN, 1)

    services.job_counters_add(job_id=job.pk, hires_count=1)
    job.refresh_from_db()
    assert (job.status, job.close_reason, job.hires_count) == (Job.Status.FILLED, Job.CloseReason.HIRED, 2)
    assert job.closed_at is not None
    assert job.events.filter(kind=JobEvent.Kind.FILLED, from_status="open", to_status="filled").count() == 1
    assert Invitation.objects.get(job=job).status == Invitation.Status.EXPIRED

    # more hires (a late offer accepted) change nothing else
    services.job_counters_add(job_id=job.pk, hires_count=1)
    assert job.events.filter(kind=JobEvent.Kind.FILLED).count() == 1


def test_job_counters_refuse_unknown_names_and_never_go_negative(open_job):
    with pytest.raises(ValueError):
        services.job_counters_add(job_id=open_job.pk, views=1)
    services.job_counters_add(job_id=open_job.pk, proposals_count=-5)
    open_job.refresh_from_db()
    assert open_job.proposals_count == 0
