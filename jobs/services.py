"""Write use cases of jobs: posting and the job lifecycle, flags, saved jobs and searches,
invitations. Keyword-only, take the acting user, lock what they change, log an event.

Side effects that other parts react to (matching refresh, alerts) are queued with
``transaction.on_commit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts import moderation, teams
from accounts.models import (
    Category,
    ClientProfile,
    ContentFlag,
    ExperienceLevel,
    FreelancerProfile,
    Skill,
    Subcategory,
    User,
)
from accounts.services import require_can_act as _require_can_act
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.uploads import process_file, safe_display_name

from . import cache as jobs_cache
from . import signals as job_signals
from .models import (
    JOB_FLAG_REASONS,
    Invitation,
    Job,
    JobAttachment,
    JobEvent,
    SavedJob,
    SavedSearch,
    ScreeningQuestion,
)

log = logging.getLogger(__name__)

TITLE_MIN, TITLE_MAX = 10, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 50, 10000
MAX_SKILLS = 10
MAX_QUESTIONS = 5
MAX_ATTACHMENTS = 5
ATTACHMENT_KINDS = ("pdf", "jpeg", "png", "webp", "zip", "docx", "xlsx", "txt")
MIN_HOURLY_CENTS, MAX_HOURLY_CENTS = 300, 99900
MIN_FIXED_CENTS, MAX_FIXED_CENTS = 500, 100_000_000
REOPEN_DAYS = 30
INVITATION_DAYS = 14


@dataclass
class JobInput:
    """A job document as the posting wizard and the API send it (amounts in cents)."""

    title: str
    description: str
    category_id: int
    subcategory_id: int | None = None
    skill_ids: list[int] | None = None
    size: str = Job.Size.MEDIUM
    duration: str = Job.Duration.ONE_TO_THREE
    experience_level: str = ExperienceLevel.INTERMEDIATE
    budget_type: str = Job.BudgetType.FIXED
    hourly_min_cents: int | None = None
    hourly_max_cents: int | None = None
    fixed_budget_cents: int | None = None
    visibility: str = Job.Visibility.PUBLIC
    freelancers_needed: int = 1
    questions: list[str] | None = None


# --- helpers -------------------------------------------------------------------------------


def _require_client(actor: User) -> ClientProfile:
    _require_can_act(actor)
    profile = ClientProfile.objects.filter(user=actor).first()
    if profile is None:
        raise PermissionDeniedError("Switch to hiring to post jobs.", code="not_client")
    return profile


def _own_job_for_update(actor: User, job_id: int) -> Job:
    """Lock and return the actor's job; someone else's job is simply not found. A teammate
    of the job's client team whose role may edit it gets it too (a viewer: 403)."""
    job = Job.objects.select_for_update().filter(teams.client_side_q(actor), pk=job_id).first()
    if job is None:
        raise NotFoundError("No such job.")
    teams.require_job_action(user=actor, job=job, action=teams.EDIT_JOB)
    return job


def _transition(job: Job, *, to: str, actor: User, kind: str, changes: dict | None = None) -> None:
    if to not in Job.TRANSITIONS[job.status]:
        raise ApplicationError(
            f"A {job.get_status_display().lower()} job cannot become {Job.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": job.status, "to": to},
        )
    JobEvent.objects.create(
        job=job, actor=actor, kind=kind, from_status=job.status, to_status=to, changes=changes or {}
    )
    job.status = to


def _choice(value: str, choices: Any, label: str) -> str:
    if value not in choices.values:
        raise ApplicationError(f"Choose a valid {label}.", code="invalid_choice", extra={"field": label})
    return value


def _validate(data: JobInput) -> dict[str, Any]:
    """Check a job document; return the model field values. Raises ApplicationError."""
    title = (data.title or "").strip()
    if len(title) < TITLE_MIN:
        raise ApplicationError(
            f"Write a title of at least {TITLE_MIN} characters.",
            code="title_too_short",
            extra={"field": "title"},
        )
    if len(title) > TITLE_MAX:
        raise ApplicationError(
            f"The title is limited to {TITLE_MAX} characters.",
            code="title_too_long",
            extra={"field": "title"},
        )
    description = (data.description or "").strip()
    if len(description) < DESCRIPTION_MIN:
        raise ApplicationError(
            f"Describe the work in at least {DESCRIPTION_MIN} characters (you have {len(description)}).",
            code="description_too_short",
            extra={"field": "description"},
        )
    if len(description) > DESCRIPTION_MAX:
        raise ApplicationError(
            f"The description is limited to {DESCRIPTION_MAX:,} characters (you have {len(description):,}).",
            code="description_too_long",
            extra={"field": "description"},
        )
    category = Category.objects.filter(pk=data.category_id).first()
    if category is None:
        raise ApplicationError("Choose a category.", code="invalid_category", extra={"field": "category"})
    subcategory = None
    if data.subcategory_id:
        subcategory = Subcategory.objects.filter(pk=data.subcategory_id, category=category).first()
        if subcategory is None:
            raise ApplicationError(
                "The specialty does not belong to the category.",
                code="category_mismatch",
                extra={"field": "subcategory"},
            )
    skill_ids = list(dict.fromkeys(data.skill_ids or []))
    if len(skill_ids) > MAX_SKILLS:
        raise ApplicationError(
            f"Choose at most {MAX_SKILLS} skills (you chose {len(skill_ids)}).",
            code="too_many_skills",
            extra={"field": "skills"},
        )
    skills = list(Skill.objects.filter(pk__in=skill_ids))
    if len(skills) != len(skill_ids):
        raise ApplicationError(
            "One of the skills does not exist.", code="invalid_skill", extra={"field": "skills"}
        )
    values: dict[str, Any] = {
        "title": title,
        "description": description,
        "category": category,
        "subcategory": subcategory,
        "size": _choice(data.size, Job.Size, "size"),
        "duration": _choice(data.duration, Job.Duration, "duration"),
        "experience_level": _choice(data.experience_level, ExperienceLevel, "experience_level"),
        "budget_type": _choice(data.budget_type, Job.BudgetType, "budget_type"),
        "visibility": _choice(data.visibility, Job.Visibility, "visibility"),
    }
    if not 1 <= int(data.freelancers_needed or 0) <= 50:
        raise ApplicationError(
            "Hire between 1 and 50 freelancers.",
            code="invalid_freelancers_needed",
            extra={"field": "freelancers_needed"},
        )
    values["freelancers_needed"] = int(data.freelancers_needed)
    if data.budget_type == Job.BudgetType.HOURLY:
        low, high = data.hourly_min_cents, data.hourly_max_cents
        if low is None or high is None:
            raise ApplicationError(
                "Give the hourly range: from and to.", code="budget_required", extra={"field": "hourly_min"}
            )
        for amount in (low, high):
            if not MIN_HOURLY_CENTS <= amount <= MAX_HOURLY_CENTS:
                raise ApplicationError(
                    "Hourly rates must be between $3 and $999.",
                    code="budget_out_of_range",
                    extra={"field": "hourly_min"},
                )
        if low > high:
            raise ApplicationError(
                "The lowest rate cannot be above the highest.",
                code="budget_min_above_max",
                extra={"field": "hourly_min"},
            )
        values.update(hourly_min_cents=low, hourly_max_cents=high, fixed_budget_cents=None)
    else:
        fixed = data.fixed_budget_cents
        if fixed is None:
            raise ApplicationError(
                "Give the fixed budget.", code="budget_required", extra={"field": "fixed_budget"}
            )
        if not MIN_FIXED_CENTS <= fixed <= MAX_FIXED_CENTS:
            raise ApplicationError(
                "A fixed budget must be between $5 and $1,000,000.",
                code="budget_out_of_range",
                extra={"field": "fixed_budget"},
            )
        values.update(fixed_budget_cents=fixed, hourly_min_cents=None, hourly_max_cents=None)
    questions = [q.strip() for q in (data.questions or []) if q and q.strip()]
    if len(questions) > MAX_QUESTIONS:
        raise ApplicationError(
            f"Ask at most {MAX_QUESTIONS} screening questions.",
            code="too_many_questions",
            extra={"field": "questions"},
        )
    if any(len(q) > 300 for q in questions):
        raise ApplicationError(
            "A screening question is limited to 300 characters.",
            code="question_too_long",
            extra={"field": "questions"},
        )
    values["_skills"] = skills
    values["_questions"] = questions
    return values


def _apply(job: Job, values: dict[str, Any]) -> dict[str, list]:
    """Write validated values onto the job; return the changes (field -> [old, new])."""
    skills = values.pop("_skills")
    questions = values.pop("_questions")
    changes: dict[str, list] = {}
    for name, value in values.items():
        if name in ("category", "subcategory"):  # compare ids: an unsaved job has no related rows yet
            old_id, new_id = getattr(job, f"{name}_id"), value.pk if value is not None else None
            if job.pk and old_id != new_id:
                changes[name] = [old_id, new_id]
        else:
            old = getattr(job, name)
            if job.pk and old != value:
                changes[name] = [
                    str(old) if old is not None else None,
                    str(value) if value is not None else None,
                ]
        setattr(job, name, value)
    job.skills_text = " ".join(s.name for s in skills)[:800]
    job.save()
    is_new = not job.events.exists()
    old_skills = sorted(job.skills.values_list("name", flat=True))
    new_skills = sorted(s.name for s in skills)
    if old_skills != new_skills:
        if not is_new:
            changes["skills"] = [", ".join(old_skills), ", ".join(new_skills)]
        job.skills.set(skills)
    old_questions = list(job.questions.values_list("text", flat=True))
    if old_questions != questions:
        if not is_new:
            changes["questions"] = [old_questions, questions]
        job.questions.all().delete()
        ScreeningQuestion.objects.bulk_create(
            ScreeningQuestion(job=job, text=text, position=i) for i, text in enumerate(questions)
        )
    refresh_search_vector(job_ids=[job.pk])
    return changes


def refresh_search_vector(*, job_ids: list[int] | None = None) -> None:
    """Recompute the weighted tsvector (A title, B skills, C description). PostgreSQL only.

    ``job_ids`` None refreshes every job (used after bulk loads).
    """
    if connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("skills_text", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )
    if job_ids is None:
        Job.objects.update(search_vector=vector)
    else:  # updated_at too: the search index re-reads the jobs changed lately (jobs.search_index)
        Job.objects.filter(pk__in=job_ids).update(search_vector=vector, updated_at=timezone.now())
    if job_ids is None:  # a bulk load; single jobs are covered by their service's own call
        jobs_cache.jobs_changed()


def _after_commit_refresh_matches(job_id: int) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.refresh_matches_for_job.delay(job_id))


# --- posting and lifecycle ---------------------------------------------------------------------


@transaction.atomic
def job_create(*, actor: User, data: JobInput, team_id: int | None = None) -> Job:
    """Create a draft job for the acting client. With ``team_id``, the job is the team's:
    its client is the team's owner (whose money pays for it) and the event records the
    teammate who posted it."""
    profile = _require_client(actor)
    values = _validate(data)
    client, team = actor, None
    if team_id is not None:
        team = teams.team_for_posting(actor=actor, team_id=team_id)
        client = team.owner
        profile = ClientProfile.objects.filter(user=client).first() or profile
    job = Job(client=client, team=team, client_country=str(profile.country or ""))
    _apply(job, values)
    JobEvent.objects.create(job=job, actor=actor, kind=JobEvent.Kind.CREATED, to_status=job.status)
    return job


@transaction.atomic
def job_update(*, actor: User, job_id: int, data: JobInput) -> Job:
    """Edit a draft or open job; every changed field is logged on the job's events."""
    _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    if job.status not in (Job.Status.DRAFT, Job.Status.OPEN):
        raise ApplicationError(
            f"A {job.get_status_display().lower()} job cannot be edited.", code="not_editable"
        )
    values = _validate(data)
    changes = _apply(job, values)
    if changes:
        JobEvent.objects.create(
            job=job,
            actor=actor,
            kind=JobEvent.Kind.EDITED,
            from_status=job.status,
            to_status=job.status,
            changes=changes,
        )
        if job.status == Job.Status.OPEN:
            _after_commit_refresh_matches(job.pk)
        jobs_cache.job_changed(job)
    return job


@transaction.atomic
def job_publish(*, actor: User, job_id: int) -> Job:
    profile = _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    if job.client_id != actor.pk:  # a teammate publishes the team's job: the owner's figures move
        profile = ClientProfile.objects.filter(user_id=job.client_id).first() or profile
    if job.status != Job.Status.DRAFT:
        raise ApplicationError(
            "Only a draft can be published; a closed job is reopened instead.",
            code="illegal_transition",
            extra={"from": job.status, "to": Job.Status.OPEN},
        )
    _transition(job, to=Job.Status.OPEN, actor=actor, kind=JobEvent.Kind.PUBLISHED)
    job.published_at = timezone.now()
    job.client_country = str(profile.country or "")
    job.save(update_fields=["status", "published_at", "client_country", "updated_at"])
    ClientProfile.objects.filter(pk=profile.pk).update(jobs_posted_count=F("jobs_posted_count") + 1)
    _after_commit_refresh_matches(job.pk)
    jobs_cache.jobs_changed()
    return job


@transaction.atomic
def job_close(*, actor: User, job_id: int, reason: str) -> Job:
    """Close an open job. Pending invitations expire; matches are dropped."""
    _require_client(actor)
    if reason not in Job.CloseReason.values or reason == Job.CloseReason.REMOVED_BY_STAFF:
        raise ApplicationError("Choose why you are closing the job.", code="reason_required")
    job = _own_job_for_update(actor, job_id)
    _transition(job, to=Job.Status.CLOSED, actor=actor, kind=JobEvent.Kind.CLOSED, changes={"reason": reason})
    job.close_reason = reason
    job.closed_at = timezone.now()
    job.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    _expire_pending_invitations(job)
    job_signals.job_closed.send(sender=Job, job=job, actor=actor, removed_by_staff=False)
    _after_commit_refresh_matches(job.pk)
    jobs_cache.jobs_changed()
    return job


@transaction.atomic
def job_reopen(*, actor: User, job_id: int) -> Job:
    """Reopen a job closed less than 30 days ago."""
    _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    if job.status != Job.Status.CLOSED:
        raise ApplicationError(
            f"Only a closed job can be reopened; this one is {job.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": job.status, "to": Job.Status.OPEN},
        )
    if job.closed_at and timezone.now() > job.closed_at + timedelta(days=REOPEN_DAYS):
        raise ApplicationError(
            f"Jobs can be reopened within {REOPEN_DAYS} days of closing; post it again instead.",
            code="reopen_window_passed",
        )
    _transition(job, to=Job.Status.OPEN, actor=actor, kind=JobEvent.Kind.REOPENED)
    job.close_reason = ""
    job.closed_at = None
    job.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    _after_commit_refresh_matches(job.pk)
    jobs_cache.jobs_changed()
    return job


@transaction.atomic
def job_remove_by_staff(*, actor: User, job_id: int, note: str = "") -> Job:
    """Staff take a job down (moderation): it is cancelled and disappears everywhere."""
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can remove jobs.")
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFoundError("No such job.")
    _transition(
        job,
        to=Job.Status.CANCELLED,
        actor=actor,
        kind=JobEvent.Kind.CANCELLED,
        changes={"reason": Job.CloseReason.REMOVED_BY_STAFF, "note": note},
    )
    job.close_reason = Job.CloseReason.REMOVED_BY_STAFF
    job.closed_at = timezone.now()
    job.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    moderation.flags_resolve(actor=actor, obj=job)  # its reports in the moderation queue are handled
    _expire_pending_invitations(job)
    job_signals.job_closed.send(sender=Job, job=job, actor=actor, removed_by_staff=True)
    _after_commit_refresh_matches(job.pk)
    jobs_cache.jobs_changed()
    return job


@transaction.atomic
def job_add_attachment(*, actor: User, job_id: int, upload) -> JobAttachment:
    _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    if job.attachments.count() >= MAX_ATTACHMENTS:
        raise ApplicationError(f"Attach at most {MAX_ATTACHMENTS} files.", code="too_many_attachments")
    content = process_file(upload, allowed=ATTACHMENT_KINDS, max_bytes=settings.PORTFOLIO_FILE_MAX_BYTES)
    attachment = JobAttachment(
        job=job, original_name=safe_display_name(upload.name), size_bytes=upload.size or 0
    )
    attachment.file.save(content.name or "attachment", content, save=False)
    attachment.save()
    jobs_cache.job_changed(job)
    return attachment


@transaction.atomic
def job_remove_attachment(*, actor: User, job_id: int, attachment_id: int) -> None:
    _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    attachment = JobAttachment.objects.filter(pk=attachment_id, job=job).first()
    if attachment is None:
        raise NotFoundError("No such attachment.")
    storage, name = attachment.file.storage, attachment.file.name or ""
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))
    jobs_cache.job_changed(job)


COUNTERS = ("proposals_count", "shortlisted_count", "messaged_count", "hires_count", "interviewing_count")


def job_counters_add(*, job_id: int, **deltas: int) -> None:
    """Add to a job's activity counters (proposals, shortlisted, messaged, hires, interviewing).

    Called by proposals and contracts inside their own transactions; counters never go
    below zero. Cached search pages show only coarse proposal ranges, so a counter alone does
    not move the cache generation (every proposal would empty the search cache); they catch
    up within the cache's lifetime. A hire that fills the job does move it.
    """
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown job counters: {sorted(unknown)}")
    updates = {name: Greatest(F(name) + delta, 0) for name, delta in deltas.items() if delta}
    if updates:
        Job.objects.filter(pk=job_id).update(**updates)
    if deltas.get("hires_count", 0) > 0:
        _fill_if_complete(job_id)


def _fill_if_complete(job_id: int) -> None:
    """An open job whose every position is hired becomes filled: invitations expire, other
    open proposals close (through ``job_closed``), and it leaves search and matches."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status != Job.Status.OPEN or job.hires_count < job.freelancers_needed:
        return
    _transition(
        job,
        to=Job.Status.FILLED,
        actor=job.client,
        kind=JobEvent.Kind.FILLED,
        changes={"hires": job.hires_count},
    )
    job.close_reason = Job.CloseReason.HIRED
    job.closed_at = timezone.now()
    job.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    _expire_pending_invitations(job)
    job_signals.job_closed.send(sender=Job, job=job, actor=job.client, removed_by_staff=False)
    _after_commit_refresh_matches(job.pk)
    jobs_cache.jobs_changed()


def job_mark_viewed_by_client(*, actor: User, job: Job) -> None:
    """The client looked at their job's page (shown to freelancers as 'last viewed')."""
    if job.client_id == actor.pk:
        Job.objects.filter(pk=job.pk).update(last_viewed_by_client_at=timezone.now())


@transaction.atomic
def job_flag(*, actor: User, job_id: int, reason: str, note: str = "") -> ContentFlag:
    """Report a job to staff: a report in the moderation queue (``accounts.moderation``).
    One per user and job; a repeat while it is still open changes the reason and note."""
    _require_can_act(actor)
    if reason not in JOB_FLAG_REASONS:
        raise ApplicationError("Choose a reason.", code="reason_required")
    job = Job.objects.filter(pk=job_id, status=Job.Status.OPEN).first()
    if job is None:
        raise NotFoundError("No such job.")
    if job.client_id == actor.pk:
        raise ApplicationError("You cannot flag your own job.", code="own_job")
    return moderation.flag_create(actor=actor, obj=job, reason=reason, note=note.strip()[:1000], replace=True)


# --- saved jobs and searches -------------------------------------------------------------------


@transaction.atomic
def job_save(*, actor: User, job_id: int) -> SavedJob:
    from .selectors import job_visible_q

    _require_can_act(actor)
    job = Job.objects.filter(job_visible_q(actor), pk=job_id, status=Job.Status.OPEN).first()
    if job is None:
        raise NotFoundError("No such job.")
    saved, _ = SavedJob.objects.get_or_create(user=actor, job=job)
    return saved


@transaction.atomic
def job_unsave(*, actor: User, job_id: int) -> None:
    SavedJob.objects.filter(user=actor, job_id=job_id).delete()


MAX_SAVED_SEARCHES = 20


@transaction.atomic
def saved_search_create(*, actor: User, name: str, query_string: str, notify: bool = True) -> SavedSearch:
    _require_can_act(actor)
    name = (name or "").strip()[:80] or "My search"
    query_string = (query_string or "").strip().lstrip("?")
    if len(query_string) > 1000:
        raise ApplicationError("That search is too long to save.", code="query_too_long")
    if SavedSearch.objects.filter(user=actor).count() >= MAX_SAVED_SEARCHES:
        raise ApplicationError(f"You can keep at most {MAX_SAVED_SEARCHES} saved searches.", code="too_many")
    search, created = SavedSearch.objects.get_or_create(
        user=actor, query_string=query_string, defaults={"name": name, "notify": notify}
    )
    if not created:
        search.name, search.notify = name, notify
        search.save(update_fields=["name", "notify"])
    return search


@transaction.atomic
def saved_search_delete(*, actor: User, search_id: int) -> None:
    deleted, _ = SavedSearch.objects.filter(user=actor, pk=search_id).delete()
    if not deleted:
        raise NotFoundError("No such saved search.")


# --- invitations ------------------------------------------------------------------------------


def _expire_pending_invitations(job: Job) -> None:
    job.invitations.filter(status=Invitation.Status.PENDING).update(
        status=Invitation.Status.EXPIRED, responded_at=timezone.now()
    )


@transaction.atomic
def invitation_send(*, actor: User, job_id: int, freelancer_id: int, message: str) -> Invitation:
    """Invite a freelancer to an open job of the actor's."""
    _require_client(actor)
    job = _own_job_for_update(actor, job_id)
    if job.status != Job.Status.OPEN:
        raise ApplicationError("Publish the job before inviting freelancers.", code="job_not_open")
    message = (message or "").strip()
    if not message:
        raise ApplicationError(
            "Write a short message to go with the invitation.",
            code="message_required",
            extra={"field": "message"},
        )
    if len(message) > 2000:
        raise ApplicationError(
            "The message is limited to 2,000 characters.", code="message_too_long", extra={"field": "message"}
        )
    freelancer = User.objects.filter(
        pk=freelancer_id,
        suspended_at__isnull=True,
        is_active=True,
        freelancer_profile__published_at__isnull=False,
    ).first()
    if freelancer is None:
        raise NotFoundError("No such freelancer.")
    if freelancer.pk == actor.pk:
        raise ApplicationError("You cannot invite yourself.", code="self_invite")
    if Invitation.objects.filter(job=job, freelancer=freelancer).exists():
        raise ApplicationError(
            f"{freelancer.display_name} is already invited to this job.", code="already_invited"
        )
    now = timezone.now()
    invitation = Invitation.objects.create(
        job=job,
        freelancer=freelancer,
        client=actor,
        message=message,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    Job.objects.filter(pk=job.pk).update(invites_count=F("invites_count") + 1)
    return invitation


def _invitation_for_freelancer(actor: User, invitation_id: int) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("job")
        .filter(pk=invitation_id, freelancer=actor)
        .first()
    )
    if invitation is None:
        raise NotFoundError("No such invitation.")
    return invitation


def _move_invitation(invitation: Invitation, to: str) -> None:
    if to not in Invitation.TRANSITIONS[invitation.status]:
        raise ApplicationError(
            f"This invitation is already {invitation.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": invitation.status, "to": to},
        )
    invitation.status = to
    invitation.responded_at = timezone.now()


def invitation_accept(*, actor: User, invitation_id: int) -> Invitation:
    """The freelancer accepts; they go on to write a proposal (free of Connects).

    An invitation found past its date (or on a job no longer open) is marked expired in its
    own transaction, so the mark survives the error the caller gets.
    """
    _require_can_act(actor)
    with transaction.atomic():
        invitation = _invitation_for_freelancer(actor, invitation_id)
        expired = invitation.status == Invitation.Status.PENDING and (
            invitation.expires_at <= timezone.now() or invitation.job.status != Job.Status.OPEN
        )
        if expired:
            _move_invitation(invitation, Invitation.Status.EXPIRED)
            invitation.save(update_fields=["status", "responded_at"])
        else:
            _move_invitation(invitation, Invitation.Status.ACCEPTED)
            invitation.save(update_fields=["status", "responded_at"])
            Job.objects.filter(pk=invitation.job_id).update(interviewing_count=F("interviewing_count") + 1)
    if expired:
        raise ApplicationError("This invitation has expired.", code="invitation_expired")
    return invitation


@transaction.atomic
def invitation_decline(*, actor: User, invitation_id: int, reason: str, note: str = "") -> Invitation:
    _require_can_act(actor)
    if reason not in Invitation.DeclineReason.values:
        raise ApplicationError("Choose a reason for declining.", code="reason_required")
    invitation = _invitation_for_freelancer(actor, invitation_id)
    _move_invitation(invitation, Invitation.Status.DECLINED)
    invitation.decline_reason = reason
    invitation.decline_note = (note or "").strip()[:500]
    invitation.save(update_fields=["status", "responded_at", "decline_reason", "decline_note"])
    return invitation


def invitations_expire_due(*, now=None) -> int:
    """Expire pending invitations past their date (the beat task). Safe to run twice."""
    now = now or timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED, responded_at=now
    )


__all__ = ["FreelancerProfile", "JobInput"]
