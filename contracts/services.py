"""Write use cases of offers and contracts.

Keyword-only, take the acting user first, check who may act and the transition tables of
``contracts.models``, lock what they change, log an event row (``OfferEvent``,
``ContractEvent``), and queue notifications with ``transaction.on_commit``.

Lock order, everywhere: the job row, then the offer, then the proposal (through
``proposals.services``, which locks the job and then the proposal), then the contract,
then its milestones (by primary key), then messaging's conversation rows. The job lock
serialises everything about one job's hiring with ``proposals.services`` (which takes it
first too).

Decisions worth knowing:

- An offer is accepted while its job is open or closed (a client who closes the job while
  an offer is pending still hires: proposals keep their pending offer through the close);
  a job taken down by staff (cancelled) or filled makes the offer expire instead.
- Accepting twice (a double click, two tabs) returns the same contract: the second call
  waits for the first's locks and finds the offer accepted.
- Milestones: the client adds, edits and removes unfunded (pending) milestones; the
  freelancer may add one (a proposal: nothing is owed until the client funds it) and edit
  or remove the pending ones they added. Only on active fixed-price contracts; a
  fixed-price contract always keeps at least one milestone. Funding, submission and
  release come with payments.
- Ending leaves pending milestones pending (nothing was paid) and refunds the escrow of
  funded, submitted and changes-requested ones (queued after commit, see ``escrow``).
- Escrow (fund, submit, approve, refund, bonus) lives in ``contracts.escrow``, re-exported
  here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone

from accounts import teams
from accounts.models import ClientProfile, User
from accounts.services import require_can_act, suspended_handover
from jobs import services as job_services
from jobs.models import Invitation, Job
from marketplace.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    field_error,
)
from marketplace.money import format_cents
from marketplace.uploads import process_file, safe_display_name
from messaging import services as messaging
from messaging.models import NotificationKind
from proposals import services as proposal_services
from proposals.models import Proposal

from .models import (
    Contract,
    ContractEvent,
    ContractFile,
    ContractType,
    Milestone,
    Offer,
    OfferEvent,
    OfferMilestone,
)

log = logging.getLogger(__name__)

TITLE_MIN, TITLE_MAX = 5, 120
DESCRIPTION_MAX = 5000
NOTE_MAX = 500
MILESTONE_DESCRIPTION_MAX = 200
MAX_OFFER_MILESTONES = 20
MAX_CONTRACT_MILESTONES = 50
MILESTONE_HORIZON_DAYS = 730  # a due date is at most about two years ahead
START_HORIZON_DAYS = 365  # work starts within a year
MIN_FIXED_CENTS = job_services.MIN_FIXED_CENTS  # $5
MAX_FIXED_CENTS = job_services.MAX_FIXED_CENTS  # $1,000,000: the sum of a contract's milestones
MIN_HOURLY_CENTS, MAX_HOURLY_CENTS = job_services.MIN_HOURLY_CENTS, job_services.MAX_HOURLY_CENTS
WEEKLY_LIMIT_MIN, WEEKLY_LIMIT_MAX = 1, 80
OFFER_DAYS_MAX = 14  # an offer is open 14 days unless the client chose fewer
MAX_FILES = 100
FILE_KINDS = job_services.ATTACHMENT_KINDS
# jobs a freelancer can still be hired on (closed: the hire began before the client closed it)
HIRING_JOB_STATUSES = (Job.Status.OPEN, Job.Status.CLOSED)


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class MilestoneInput:
    """A milestone as the forms and the API send it (amount in cents)."""

    description: str
    amount_cents: int
    due_date: date | None = None


@dataclass
class OfferInput:
    """An offer's terms. ``proposal_id`` for an offer from a proposal; otherwise a direct offer
    to ``freelancer_id``, optionally for ``job_id`` (amounts in cents)."""

    title: str
    contract_type: str
    start_date: date
    proposal_id: int | None = None
    freelancer_id: int | None = None
    job_id: int | None = None
    hourly_rate_cents: int | None = None
    weekly_limit_hours: int | None = None  # hourly; None: no limit
    manual_time_allowed: bool = False
    milestones: list[MilestoneInput] = field(default_factory=list)  # fixed price: at least one
    description: str = ""
    expires_in_days: int = OFFER_DAYS_MAX  # 1..14


# --- helpers -------------------------------------------------------------------------------------


_error = field_error


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pk(value: Any) -> int:
    """An id as given, or 0 (which matches no row) for anything that is not a whole number."""
    return value if _is_int(value) else 0


def _on_commit_notify(recipient_id: int, kind: str, text: str, url: str, subject: Any = None) -> None:
    """Notify after the transaction commits (never for a change that was rolled back)."""
    messaging.notify_on_commit(recipient_id=recipient_id, kind=kind, text=text, url=url, subject=subject)


def offer_url(offer: Offer) -> str:
    return reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})


def contract_url(contract: Contract) -> str:
    return reverse("contracts:detail", kwargs={"contract_id": contract.pk})


def _clean_note(note: Any, field_name: str = "note") -> str:
    text = str(note or "").strip()
    if len(text) > NOTE_MAX:
        raise _error(f"The note is limited to {NOTE_MAX} characters.", "note_too_long", field_name)
    return text


def _offer_transition(
    offer: Offer, *, to: str, actor: User | None, kind: str, data: dict | None = None
) -> str:
    """Move ``offer`` (locked by the caller) to ``to`` and log it; returns the old status."""
    if to not in Offer.TRANSITIONS[offer.status]:
        raise ApplicationError(
            f"This offer is {offer.get_status_display().lower()}; it cannot be "
            f"{Offer.Status(to).label.lower()} now.",
            code="illegal_transition",
            extra={"from": offer.status, "to": to},
        )
    old = offer.status
    OfferEvent.objects.create(
        offer=offer, actor=actor, kind=kind, from_status=old, to_status=to, data=data or {}
    )
    offer.status = to
    offer.responded_at = timezone.now()
    return old


def _contract_transition(
    contract: Contract, *, to: str, actor: User | None, kind: str, data: dict | None = None
) -> str:
    if to not in Contract.TRANSITIONS[contract.status]:
        raise ApplicationError(
            f"This contract is {contract.get_status_display().lower()}; it cannot become "
            f"{Contract.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": contract.status, "to": to},
        )
    old = contract.status
    ContractEvent.objects.create(
        contract=contract, actor=actor, kind=kind, from_status=old, to_status=to, data=data or {}
    )
    contract.status = to
    return old


def milestone_transition(
    milestone: Milestone, *, to: str, actor: User | None, kind: str, data: dict | None = None
) -> str:
    """Move ``milestone`` (locked by the caller, with its contract) along its table and log it
    on the contract's timeline. For the payments flows (fund, submit, release...)."""
    if to not in Milestone.TRANSITIONS[milestone.status]:
        raise ApplicationError(
            f"A milestone that is {milestone.get_status_display().lower()} cannot become "
            f"{Milestone.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": milestone.status, "to": to},
        )
    old = milestone.status
    ContractEvent.objects.create(
        contract_id=milestone.contract_id,
        milestone=milestone,
        actor=actor,
        kind=kind,
        from_status=old,
        to_status=to,
        data={"description": milestone.description, "amount_cents": milestone.amount_cents, **(data or {})},
    )
    milestone.status = to
    milestone.status_changed_at = timezone.now()
    return old


def _post_system(conversation_id: int | None, text: str) -> None:
    """A line in the contract's conversation ("Contract paused"), when it has one."""
    if conversation_id is None:
        return
    from messaging.models import Conversation

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is not None:
        messaging.message_post_system(conversation=conversation, text=text)


# --- validation ----------------------------------------------------------------------------------


def _validate_milestone(item: MilestoneInput, *, index: int | None = None) -> dict[str, Any]:
    """One milestone's values, checked. On an offer's list (``index`` given) errors name the
    milestone and point at the ``milestones`` field; alone they point at the field itself."""

    def fail(problem: str, code: str, field_name: str) -> ApplicationError:
        if index is None:
            return _error(problem[:1].upper() + problem[1:], code, field_name)
        return _error(f"Milestone {index}: {problem}", code, "milestones", index=index)

    description = str(item.description or "").strip()
    if not description:
        raise fail("describe the milestone.", "milestone_description_required", "description")
    if len(description) > MILESTONE_DESCRIPTION_MAX:
        raise fail(
            f"the description is limited to {MILESTONE_DESCRIPTION_MAX} characters.",
            "milestone_description_too_long",
            "description",
        )
    amount = item.amount_cents
    if not _is_int(amount) or amount <= 0:
        raise fail("the amount must be above zero.", "milestone_amount_invalid", "amount")
    if amount > MAX_FIXED_CENTS:
        raise fail(
            f"the amount is limited to {format_cents(MAX_FIXED_CENTS)}.", "milestone_amount_invalid", "amount"
        )
    due = item.due_date
    if due is not None:
        if not isinstance(due, date) or isinstance(due, datetime):
            raise fail("enter a valid due date.", "milestone_due_date_invalid", "due_date")
        today = timezone.localdate()
        horizon = today + timedelta(days=MILESTONE_HORIZON_DAYS)
        if not today <= due <= horizon:
            raise fail(
                f"the due date must be between today and {horizon:%b %-d, %Y}.",
                "milestone_due_date_invalid",
                "due_date",
            )
    return {"description": description, "amount_cents": amount, "due_date": due}


def _validate_offer(data: OfferInput) -> dict[str, Any]:
    """Check the terms; return the model values (and ``_milestones``)."""
    title = str(data.title or "").strip()
    if len(title) < TITLE_MIN:
        raise _error(
            f"Give the contract a title of at least {TITLE_MIN} characters.", "title_too_short", "title"
        )
    if len(title) > TITLE_MAX:
        raise _error(f"The title is limited to {TITLE_MAX} characters.", "title_too_long", "title")
    description = str(data.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise _error(
            f"The description is limited to {DESCRIPTION_MAX:,} characters (it has {len(description):,}).",
            "description_too_long",
            "description",
        )
    if data.contract_type not in ContractType.values:
        raise _error("Choose hourly or fixed price.", "invalid_choice", "contract_type")
    start = data.start_date
    today = timezone.localdate()
    if not isinstance(start, date) or isinstance(start, datetime):
        raise _error("Choose a start date.", "start_date_required", "start_date")
    if start < today:
        raise _error("The start date cannot be in the past.", "start_date_in_past", "start_date")
    if start > today + timedelta(days=START_HORIZON_DAYS):
        raise _error("The start date must be within a year.", "start_date_too_far", "start_date")
    days = data.expires_in_days
    if not _is_int(days) or not 1 <= days <= OFFER_DAYS_MAX:
        raise _error(
            f"An offer stays open between 1 and {OFFER_DAYS_MAX} days.",
            "expiry_out_of_range",
            "expires_in_days",
        )
    values: dict[str, Any] = {
        "title": title,
        "description": description,
        "contract_type": data.contract_type,
        "start_date": start,
        "expires_at": timezone.now() + timedelta(days=days),
    }
    if data.contract_type == ContractType.HOURLY:
        if data.milestones:
            raise _error("Milestones are for fixed-price offers.", "milestones_not_allowed", "milestones")
        rate = data.hourly_rate_cents
        if rate is None:
            raise _error("Give the hourly rate.", "rate_required", "hourly_rate")
        if not _is_int(rate) or not MIN_HOURLY_CENTS <= rate <= MAX_HOURLY_CENTS:
            raise _error(
                f"An hourly rate must be between {format_cents(MIN_HOURLY_CENTS)} and "
                f"{format_cents(MAX_HOURLY_CENTS)}.",
                "rate_out_of_range",
                "hourly_rate",
            )
        values.update(
            hourly_rate_cents=rate,
            weekly_limit_hours=_validate_weekly_limit(data.weekly_limit_hours),
            manual_time_allowed=bool(data.manual_time_allowed),
            fixed_amount_cents=None,
            _milestones=[],
        )
        return values
    if data.hourly_rate_cents is not None or data.weekly_limit_hours is not None:
        raise _error(
            "A fixed-price offer has milestones, not an hourly rate or a weekly limit.",
            "terms_wrong_type",
            "hourly_rate",
        )
    items = list(data.milestones or [])
    if not items:
        raise _error("Add at least one milestone.", "milestones_required", "milestones")
    if len(items) > MAX_OFFER_MILESTONES:
        raise _error(
            f"An offer has at most {MAX_OFFER_MILESTONES} milestones.", "too_many_milestones", "milestones"
        )
    rows = [_validate_milestone(item, index=i) for i, item in enumerate(items, start=1)]
    total = sum(row["amount_cents"] for row in rows)
    if not MIN_FIXED_CENTS <= total <= MAX_FIXED_CENTS:
        raise _error(
            f"The milestones add up to {format_cents(total)}; a fixed price must be between "
            f"{format_cents(MIN_FIXED_CENTS)} and {format_cents(MAX_FIXED_CENTS)}.",
            "total_out_of_range",
            "milestones",
            total_cents=total,
        )
    values.update(
        hourly_rate_cents=None,
        weekly_limit_hours=None,
        manual_time_allowed=False,
        fixed_amount_cents=total,
        _milestones=[OfferMilestone(position=i, **row) for i, row in enumerate(rows, start=1)],
    )
    return values


def _validate_weekly_limit(hours: Any) -> int | None:
    if hours is None:
        return None
    if not _is_int(hours) or not WEEKLY_LIMIT_MIN <= hours <= WEEKLY_LIMIT_MAX:
        raise _error(
            f"A weekly limit is between {WEEKLY_LIMIT_MIN} and {WEEKLY_LIMIT_MAX} hours, or no limit.",
            "weekly_limit_out_of_range",
            "weekly_limit_hours",
        )
    return hours


# --- who may make an offer -------------------------------------------------------------------------


def _require_client(actor: User) -> None:
    require_can_act(actor)
    if not ClientProfile.objects.filter(user=actor).exists():
        raise PermissionDeniedError("Switch to hiring to make offers.", code="not_client")


def _hireable_freelancer(freelancer_id: Any) -> User:
    freelancer = User.objects.filter(
        pk=_pk(freelancer_id),
        is_active=True,
        freelancer_profile__isnull=False,
    ).first()
    if freelancer is None:
        raise NotFoundError("No such freelancer.")
    if freelancer.is_suspended:
        raise ApplicationError(
            f"{freelancer.display_name} cannot be hired right now.", code="freelancer_unavailable"
        )
    return freelancer


def _has_past_contract(client_id: int, freelancer_id: int) -> bool:
    return Contract.objects.filter(client_id=client_id, freelancer_id=freelancer_id).exists()


def _offer_from_proposal(actor: User, proposal_id: Any) -> tuple[Proposal, Job]:
    """The proposal (to one of the actor's jobs) and its job, locked in that order."""
    job_id = Proposal.objects.filter(pk=_pk(proposal_id)).values_list("job_id", flat=True).first()
    # the job's client, or a hiring manager of its client team (a viewer: 403)
    job = (
        Job.objects.select_for_update().filter(teams.client_side_q(actor), pk=job_id).first()
        if job_id
        else None
    )
    if job is not None:
        teams.require_job_action(user=actor, job=job, action=teams.HIRE, not_found="No such proposal.")
    proposal = (
        Proposal.objects.select_related("freelancer").filter(pk=proposal_id, job=job).first() if job else None
    )
    if job is None or proposal is None or proposal.status == Proposal.Status.WITHDRAWN:
        raise NotFoundError("No such proposal.")
    if not proposal.is_active:
        raise ApplicationError(
            f"This proposal is {proposal.get_status_display().lower()}; offers are made from active proposals.",
            code="proposal_not_active",
            extra={"status": proposal.status},
        )
    if job.status not in HIRING_JOB_STATUSES:
        raise ApplicationError(
            "This job is no longer hiring.", code="job_not_open", extra={"status": job.status}
        )
    return proposal, job


def _direct_offer_target(actor: User, freelancer_id: Any, job_id: Any) -> tuple[User, Job | None]:
    """A direct offer: the freelancer has a pending (in date) or accepted invitation to one of
    the actor's jobs, or worked with the actor before. With ``job_id``, the job (the actor's,
    locked) must be open, and a freelancer with an active proposal on it is hired from it."""
    freelancer = _hireable_freelancer(freelancer_id)
    if freelancer.pk == actor.pk:
        raise ApplicationError("You cannot make an offer to yourself.", code="self_offer")
    job = None
    if job_id is not None:
        job = Job.objects.select_for_update().filter(pk=_pk(job_id), client=actor).first()
        if job is None:
            raise NotFoundError("No such job.")
        if job.status != Job.Status.OPEN:
            raise ApplicationError(
                "Offers are made on open jobs.", code="job_not_open", extra={"status": job.status}
            )
        proposal_id = (
            Proposal.objects.filter(job=job, freelancer=freelancer, status__in=Proposal.ACTIVE_STATUSES)
            .values_list("pk", flat=True)
            .first()
        )
        if proposal_id is not None:
            raise ApplicationError(
                f"{freelancer.display_name} sent a proposal to this job; make the offer from the proposal.",
                code="use_proposal",
                extra={"proposal_id": proposal_id},
            )
    invited = (
        Invitation.objects.filter(client=actor, freelancer=freelancer)
        .filter(
            Q(status=Invitation.Status.ACCEPTED)
            | Q(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        )
        .exists()
    )
    if not invited and not _has_past_contract(actor.pk, freelancer.pk):
        raise ApplicationError(
            f"Invite {freelancer.display_name} to one of your jobs first: direct offers go to freelancers "
            "you invited or worked with before.",
            code="offer_not_allowed",
        )
    if (
        job is not None
        and Contract.objects.filter(
            job=job, freelancer=freelancer, status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED]
        ).exists()
    ):
        raise ApplicationError(
            f"{freelancer.display_name} already has a contract for this job.", code="already_hired"
        )
    return freelancer, job


# --- offers: the client ------------------------------------------------------------------------------


@transaction.atomic
def offer_create(*, actor: User, data: OfferInput) -> Offer:
    """Send an offer: from a proposal (``data.proposal_id``, to one of the actor's jobs) or
    direct (``data.freelancer_id`` and optionally ``data.job_id``). Locks the job first."""
    _require_client(actor)
    values = _validate_offer(data)
    milestones: list[OfferMilestone] = values.pop("_milestones")
    proposal: Proposal | None = None
    if data.proposal_id is not None:
        proposal, job_or_none = _offer_from_proposal(actor, data.proposal_id)
        freelancer = proposal.freelancer
        if freelancer.is_suspended or not freelancer.is_active:
            raise ApplicationError(
                f"{freelancer.display_name} cannot be hired right now.", code="freelancer_unavailable"
            )
        job: Job | None = job_or_none
    elif data.freelancer_id is not None:
        freelancer, job = _direct_offer_target(actor, data.freelancer_id, data.job_id)
    else:
        raise _error("Choose whom the offer is for.", "recipient_required", "freelancer_id")
    # a teammate hires for the team's owner: the offer (and the contract) are the owner's
    client = User.objects.get(pk=job.client_id) if job is not None and job.client_id != actor.pk else actor
    pending = Offer.objects.filter(client=client, freelancer=freelancer, status=Offer.Status.PENDING)
    pending = pending.filter(job=job) if job is not None else pending.filter(job__isnull=True)
    if pending.exists():
        raise ApplicationError(
            f"You already have a pending offer to {freelancer.display_name}"
            + (" for this job." if job is not None else "."),
            code="offer_pending",
        )
    offer = Offer(client=client, freelancer=freelancer, job=job, proposal=proposal, **values)
    if proposal is not None and proposal.agency_id is not None:
        offer.agency_id = proposal.agency_id  # an agency's proposal: the contract pays the agency
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:  # a concurrent offer on the same proposal or job won
        raise ApplicationError(
            f"You already have a pending offer to {freelancer.display_name}.", code="offer_pending"
        )
    for milestone in milestones:
        milestone.offer = offer
    OfferMilestone.objects.bulk_create(milestones)
    OfferEvent.objects.create(offer=offer, actor=actor, kind="sent", to_status=Offer.Status.PENDING)
    if proposal is not None:
        proposal_services.proposal_mark_offered(proposal_id=proposal.pk, pending=True)
        if proposal.conversation_id:
            _post_system(proposal.conversation_id, f"{actor.display_name} sent an offer: {offer.title}.")
    _on_commit_notify(
        freelancer.pk,
        NotificationKind.OFFER,
        f"{actor.display_name} sent you an offer: “{offer.title}” ({_terms_text(offer)}).",
        offer_url(offer),
        offer,
    )
    return offer


def _terms_text(offer: Offer | Contract) -> str:
    if offer.contract_type == ContractType.HOURLY:
        return f"{format_cents(offer.hourly_rate_cents)}/hr"
    total = offer.fixed_amount_cents if isinstance(offer, Offer) else None
    return f"{format_cents(total)} fixed price" if total else "fixed price"


def _offer_for_update(offer_id: Any) -> Offer:
    """Lock the offer's job (when it has one), then the offer."""
    job_id = Offer.objects.filter(pk=_pk(offer_id)).values_list("job_id", flat=True)
    found = list(job_id[:1])
    if not found:
        raise NotFoundError("No such offer.")
    if found[0] is not None:
        list(Job.objects.select_for_update().filter(pk=found[0]).values_list("pk", flat=True))
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        raise NotFoundError("No such offer.")
    return offer


def _party_offer_for_update(actor: User, offer_id: Any, *, side: str) -> Offer:
    """The offer, locked, if ``actor`` is its ``side`` ('client' or 'freelancer'). The other
    party gets 403 (they can see it); anyone else gets 404."""
    require_can_act(actor)
    offer = _offer_for_update(offer_id)
    job = offer.job if offer.job_id else None
    if (
        actor.pk not in (offer.client_id, offer.freelancer_id)
        and job is not None
        and teams.team_role(actor, job)
    ):
        # a teammate of the job's client team: a hiring manager acts for the owner, a viewer reads
        teams.require_job_action(user=actor, job=job, action=teams.HIRE)
        if side != "client":
            raise PermissionDeniedError("Only the freelancer can do this.", code="wrong_party")
        return offer
    if actor.pk not in (offer.client_id, offer.freelancer_id):
        raise NotFoundError("No such offer.")
    if getattr(offer, f"{side}_id") != actor.pk:
        who = "the client" if side == "client" else "the freelancer"
        raise PermissionDeniedError(f"Only {who} can do this.", code="wrong_party")
    return offer


def _release_proposal(offer: Offer) -> None:
    if offer.proposal_id is not None:
        proposal_services.proposal_mark_offered(proposal_id=offer.proposal_id, pending=False)


@transaction.atomic
def offer_withdraw(*, actor: User, offer_id: int, note: str = "") -> Offer:
    """The client takes a pending offer back; the proposal is free to be answered again."""
    note = _clean_note(note)
    offer = _party_offer_for_update(actor, offer_id, side="client")
    _offer_transition(
        offer, to=Offer.Status.WITHDRAWN, actor=actor, kind="withdrawn", data={"note": note} if note else None
    )
    offer.withdraw_note = note
    offer.save(update_fields=["status", "responded_at", "withdraw_note", "updated_at"])
    _release_proposal(offer)
    _on_commit_notify(
        offer.freelancer_id,
        NotificationKind.OFFER,
        f"{actor.display_name} withdrew their offer “{offer.title}”.",
        offer_url(offer),
        offer,
    )
    return offer


# --- offers: the freelancer ------------------------------------------------------------------------


@transaction.atomic
def offer_decline(*, actor: User, offer_id: int, reason: str, note: str = "") -> Offer:
    """The freelancer turns the offer down, saying why; the client is told."""
    if reason not in Offer.DeclineReason.values:
        raise _error("Choose why you are declining.", "reason_required", "reason")
    note = _clean_note(note)
    offer = _party_offer_for_update(actor, offer_id, side="freelancer")
    _offer_transition(offer, to=Offer.Status.DECLINED, actor=actor, kind="declined", data={"reason": reason})
    offer.decline_reason, offer.decline_note = reason, note
    offer.save(update_fields=["status", "responded_at", "decline_reason", "decline_note", "updated_at"])
    _release_proposal(offer)
    _on_commit_notify(
        offer.client_id,
        NotificationKind.OFFER,
        f"{actor.display_name} declined your offer “{offer.title}”: {Offer.DeclineReason(reason).label}.",
        offer_url(offer),
        offer,
    )
    return offer


def _expire(offer: Offer, *, why: str) -> None:
    """Mark ``offer`` (locked, pending) expired, free its proposal and tell the client."""
    _offer_transition(offer, to=Offer.Status.EXPIRED, actor=None, kind="expired", data={"why": why})
    offer.save(update_fields=["status", "responded_at", "updated_at"])
    _release_proposal(offer)
    text = {
        "time": f"Your offer “{offer.title}” expired without an answer.",
        "job": f"Your offer “{offer.title}” expired: its job is no longer hiring.",
    }[why]
    _on_commit_notify(offer.client_id, NotificationKind.OFFER, text, offer_url(offer), offer)


def _job_blocks_hire(offer: Offer) -> bool:
    if offer.job_id is None:
        return False
    status = Job.objects.filter(pk=offer.job_id).values_list("status", flat=True).first()
    return status not in HIRING_JOB_STATUSES


def offer_accept(*, actor: User, offer_id: int) -> Contract:
    """The freelancer accepts: the contract starts. Returns the contract (the same one when the
    offer was already accepted: a repeated accept is harmless).

    An offer found past its expiry, or whose job was taken down or filled, is marked expired
    in its own transaction, so the mark survives the error the caller gets.
    """
    require_can_act(actor)
    with transaction.atomic():
        offer = _party_offer_for_update(actor, offer_id, side="freelancer")
        if offer.status == Offer.Status.ACCEPTED:
            return Contract.objects.get(offer=offer)
        expired_why = None
        if offer.status == Offer.Status.PENDING:
            if offer.expires_at <= timezone.now():
                expired_why = "time"
            elif _job_blocks_hire(offer):
                expired_why = "job"
        if expired_why is not None:
            _expire(offer, why=expired_why)
        else:
            contract = _accept(actor, offer)
    if expired_why == "time":
        raise ApplicationError("This offer has expired.", code="offer_expired")
    if expired_why == "job":
        raise ApplicationError("This offer has expired: the job is no longer hiring.", code="offer_expired")
    return contract


def _accept(actor: User, offer: Offer) -> Contract:
    """Inside offer_accept's transaction, with the job and the offer locked."""
    client = User.objects.get(pk=offer.client_id)
    _offer_transition(offer, to=Offer.Status.ACCEPTED, actor=actor, kind="accepted")
    offer.save(update_fields=["status", "responded_at", "updated_at"])
    contract = Contract.objects.create(
        offer=offer,
        client=client,
        freelancer=actor,
        job_id=offer.job_id,
        proposal_id=offer.proposal_id,
        agency_id=offer.agency_id,
        title=offer.title,
        contract_type=offer.contract_type,
        currency=offer.currency,
        hourly_rate_cents=offer.hourly_rate_cents,
        weekly_limit_hours=offer.weekly_limit_hours,
        manual_time_allowed=offer.manual_time_allowed,
        description=offer.description,
        start_date=offer.start_date,
    )
    Milestone.objects.bulk_create(
        [
            Milestone(
                contract=contract,
                position=m.position,
                description=m.description,
                amount_cents=m.amount_cents,
                due_date=m.due_date,
            )
            for m in offer.milestones.all()
        ]
    )
    interview_id = None
    if offer.proposal_id is not None:
        proposal = proposal_services.proposal_mark_hired(proposal_id=offer.proposal_id, actor=actor)
        interview_id = proposal.conversation_id
    elif offer.job_id is not None:
        job_services.job_counters_add(job_id=offer.job_id, hires_count=1)
    ClientProfile.objects.filter(user_id=client.pk).update(hires_count=F("hires_count") + 1)
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        kind=ContractEvent.Kind.STARTED,
        to_status=Contract.Status.ACTIVE,
        data={"offer": offer.pk, "terms": _terms_text(offer)},
    )
    conversation = messaging.conversation_get_or_create_for_subject(
        subject=contract, participants=[client, actor], title=contract.title
    )
    messaging.conversation_set_has_contract(conversation=conversation)
    contract.conversation = conversation
    contract.save(update_fields=["conversation", "updated_at"])
    url = contract_url(contract)
    messaging.message_post_system(
        conversation=conversation, text=f"Contract started: {contract.title} ({_terms_text(offer)})."
    )
    if interview_id is not None:
        from messaging.models import Conversation

        interview = Conversation.objects.get(pk=interview_id)
        messaging.conversation_set_has_contract(conversation=interview)
        messaging.message_post_system(
            conversation=interview,
            text=f"{actor.display_name} accepted the offer. The contract “{contract.title}” started: {url}",
        )
    _on_commit_notify(
        client.pk,
        NotificationKind.OFFER,
        f"{actor.display_name} accepted your offer: the contract “{contract.title}” started.",
        url,
        contract,
    )
    _on_commit_notify(
        actor.pk,
        NotificationKind.CONTRACT,
        f"Your contract “{contract.title}” with {client.display_name} started.",
        url,
        contract,
    )
    return contract


# --- offers: a catalog order (jobs.catalog) ---------------------------------------------------------


@transaction.atomic
def contract_create_for_order(
    *, buyer: User, freelancer_id: int, title: str, description: str, amount_cents: int, milestone: str
) -> Contract:
    """A service bought from the catalog: an offer from the buyer with one milestone of
    ``amount_cents``, accepted at once on the freelancer's behalf (publishing the service is
    the freelancer's standing acceptance of its terms). The usual offer and contract rows,
    events, conversation and notifications follow, so funding, delivery, approval and
    refunds run through ``contracts.escrow`` unchanged. Direct offers otherwise need an
    invitation or a past contract, which a catalog purchase does not."""
    _require_client(buyer)
    freelancer = _hireable_freelancer(freelancer_id)
    if freelancer.pk == buyer.pk:
        raise ApplicationError("You cannot buy your own service.", code="self_offer")
    values = _validate_offer(
        OfferInput(
            title=title,
            contract_type=ContractType.FIXED,
            start_date=timezone.localdate(),
            description=description,
            milestones=[MilestoneInput(description=milestone, amount_cents=amount_cents)],
        )
    )
    milestones: list[OfferMilestone] = values.pop("_milestones")
    offer = Offer.objects.create(client=buyer, freelancer=freelancer, **values)
    for item in milestones:
        item.offer = offer
    OfferMilestone.objects.bulk_create(milestones)
    OfferEvent.objects.create(
        offer=offer, actor=buyer, kind="sent", to_status=Offer.Status.PENDING, data={"catalog": True}
    )
    return _accept(freelancer, offer)


# --- offers: the beat task -----------------------------------------------------------------------


def offer_expire(*, offer_id: int, now: datetime | None = None) -> bool:
    """Expire one pending offer if it is past its date. True when it was expired now."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            offer = _offer_for_update(offer_id)
        except NotFoundError:
            return False
        if offer.status != Offer.Status.PENDING or offer.expires_at > now:
            return False
        _expire(offer, why="time")
    return True


def offers_expire_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Expire pending offers past their date (the hourly beat task). One short transaction per
    offer, each re-checked under its lock: safe to run twice or alongside an accept."""
    now = now or timezone.now()
    due = Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now).order_by("pk")
    expired, last = 0, 0
    while True:
        ids = list(due.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return expired
        for offer_id in ids:
            expired += offer_expire(offer_id=offer_id, now=now)
        last = ids[-1]


# --- contracts ---------------------------------------------------------------------------------------


def _contract_for_update(actor: User, contract_id: Any) -> Contract:
    """The contract, locked, if ``actor`` is a party; anyone else gets 404."""
    require_can_act(actor)
    contract = (
        Contract.objects.select_for_update(no_key=True)
        .filter(pk=_pk(contract_id))
        .filter(Q(client=actor) | Q(freelancer=actor))
        .first()
    )
    if contract is None:
        raise NotFoundError("No such contract.")
    return contract


def _require_side(contract: Contract, actor: User, side: str, what: str) -> None:
    if contract.party_role(actor) != side:
        raise PermissionDeniedError(f"Only the {side} can {what}.", code="wrong_party")


def _require_hourly(contract: Contract, what: str) -> None:
    if not contract.is_hourly:
        raise ApplicationError(f"Only hourly contracts can be {what}.", code="not_hourly")


def _other_party(contract: Contract, actor: User) -> int:
    return contract.freelancer_id if actor.pk == contract.client_id else contract.client_id


@transaction.atomic
def contract_pause(*, actor: User, contract_id: int) -> Contract:
    """The client pauses an hourly contract: no time can be logged until it is resumed."""
    contract = _contract_for_update(actor, contract_id)
    _require_side(contract, actor, "client", "pause the contract")
    _require_hourly(contract, "paused")
    _contract_transition(contract, to=Contract.Status.PAUSED, actor=actor, kind=ContractEvent.Kind.PAUSED)
    contract.paused_at = timezone.now()
    contract.save(update_fields=["status", "paused_at", "updated_at"])
    _post_system(contract.conversation_id, f"{actor.display_name} paused the contract.")
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.CONTRACT,
        f"{actor.display_name} paused the contract “{contract.title}”: no time can be logged until it resumes.",
        contract_url(contract),
        contract,
    )
    return contract


@transaction.atomic
def contract_resume(*, actor: User, contract_id: int) -> Contract:
    contract = _contract_for_update(actor, contract_id)
    _require_side(contract, actor, "client", "resume the contract")
    _require_hourly(contract, "resumed")
    if contract.status != Contract.Status.PAUSED:
        raise ApplicationError(
            f"Only a paused contract can be resumed; this one is {contract.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": contract.status, "to": Contract.Status.ACTIVE},
        )
    _contract_transition(contract, to=Contract.Status.ACTIVE, actor=actor, kind=ContractEvent.Kind.RESUMED)
    contract.paused_at = None
    contract.save(update_fields=["status", "paused_at", "updated_at"])
    _post_system(contract.conversation_id, f"{actor.display_name} resumed the contract.")
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.CONTRACT,
        f"{actor.display_name} resumed the contract “{contract.title}”.",
        contract_url(contract),
        contract,
    )
    return contract


def _require_not_ended(contract: Contract) -> None:
    if contract.is_ended:
        raise ApplicationError(
            "This contract has ended; it can no longer be changed.",
            code="contract_ended",
            extra={"status": contract.status},
        )


def _hours(limit: int | None) -> str:
    return "no limit" if limit is None else f"{limit} hrs/week"


@transaction.atomic
def contract_set_weekly_limit(*, actor: User, contract_id: int, weekly_limit_hours: int | None) -> Contract:
    """The client changes an hourly contract's weekly limit (None: no limit)."""
    contract = _contract_for_update(actor, contract_id)
    _require_side(contract, actor, "client", "change the weekly limit")
    _require_hourly(contract, "limited by hours")
    _require_not_ended(contract)
    hours = _validate_weekly_limit(weekly_limit_hours)
    old = contract.weekly_limit_hours
    if old == hours:
        return contract
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        kind=ContractEvent.Kind.WEEKLY_LIMIT_CHANGED,
        from_status=contract.status,
        to_status=contract.status,
        data={"from": old, "to": hours},
    )
    contract.weekly_limit_hours = hours
    contract.save(update_fields=["weekly_limit_hours", "updated_at"])
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.CONTRACT,
        f"{actor.display_name} changed the weekly limit of “{contract.title}” from {_hours(old)} to {_hours(hours)}.",
        contract_url(contract),
        contract,
    )
    return contract


@transaction.atomic
def contract_end(*, actor: User, contract_id: int, reason: str, note: str = "") -> Contract:
    """Either party ends the contract, saying why. It is read-only from then on; pending
    (unfunded) milestones stay as they are, funded ones are refunded by payments."""
    if reason not in Contract.EndReason.values:
        raise _error("Choose why you are ending the contract.", "reason_required", "reason")
    note = _clean_note(note)
    contract = _contract_for_update(actor, contract_id)
    _contract_transition(
        contract,
        to=Contract.Status.ENDED,
        actor=actor,
        kind=ContractEvent.Kind.ENDED,
        data={"reason": reason},
    )
    contract.ended_at = timezone.now()
    contract.ended_by = actor
    contract.end_reason, contract.end_note = reason, note
    contract.paused_at = None
    contract.save(
        update_fields=["status", "ended_at", "ended_by", "end_reason", "end_note", "paused_at", "updated_at"]
    )
    from .escrow import reserve_end_refunds

    refunding = reserve_end_refunds(contract)
    if refunding:
        _post_system(
            contract.conversation_id,
            f"The money of {len(refunding)} funded milestone(s) not yet paid is being refunded to the client.",
        )
    label = Contract.EndReason(reason).label
    _post_system(contract.conversation_id, f"{actor.display_name} ended the contract: {label}.")
    _on_commit_notify(
        _other_party(contract, actor),
        NotificationKind.CONTRACT,
        f"{actor.display_name} ended the contract “{contract.title}”: {label}.",
        contract_url(contract),
        contract,
    )
    return contract


# --- milestones ---------------------------------------------------------------------------------------


def _require_milestones_editable(contract: Contract) -> None:
    if not contract.is_fixed:
        raise ApplicationError("Milestones are for fixed-price contracts.", code="not_fixed")
    _require_not_ended(contract)
    if contract.status != Contract.Status.ACTIVE:
        raise ApplicationError("Milestones change only on an active contract.", code="contract_not_active")


def _locked_milestones(contract: Contract) -> list[Milestone]:
    return list(Milestone.objects.select_for_update(no_key=True).filter(contract=contract).order_by("pk"))


def _check_total(milestones: list[Milestone]) -> None:
    total = sum(m.amount_cents for m in milestones)
    if total > MAX_FIXED_CENTS:
        raise _error(
            f"The milestones would add up to {format_cents(total)}; a contract is limited to "
            f"{format_cents(MAX_FIXED_CENTS)}.",
            "total_out_of_range",
            "amount",
            total_cents=total,
        )


def _milestone_data(milestone: Milestone) -> dict[str, Any]:
    return {
        "description": milestone.description,
        "amount_cents": milestone.amount_cents,
        "due_date": milestone.due_date.isoformat() if milestone.due_date else None,
    }


@transaction.atomic
def milestone_add(*, actor: User, contract_id: int, data: MilestoneInput) -> Milestone:
    """Add a pending milestone: the client's to fund, or the freelancer's proposal (nothing is
    owed until the client funds it). The other party is told."""
    contract = _contract_for_update(actor, contract_id)
    _require_milestones_editable(contract)
    values = _validate_milestone(data)
    existing = _locked_milestones(contract)
    if len(existing) >= MAX_CONTRACT_MILESTONES:
        raise _error(
            f"A contract has at most {MAX_CONTRACT_MILESTONES} milestones.",
            "too_many_milestones",
            "description",
        )
    position = (Milestone.objects.filter(contract=contract).aggregate(top=Max("position"))["top"] or 0) + 1
    milestone = Milestone(contract=contract, position=position, added_by=actor, **values)
    _check_total([*existing, milestone])
    milestone.save()
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        milestone=milestone,
        kind=ContractEvent.Kind.MILESTONE_ADDED,
        to_status=milestone.status,
        data=_milestone_data(milestone),
    )
    role = contract.party_role(actor)
    text = (
        f"{actor.display_name} proposed a milestone on “{contract.title}”: {milestone.description} "
        f"({format_cents(milestone.amount_cents)}). Fund it to accept it, or remove it."
        if role == "freelancer"
        else f"{actor.display_name} added a milestone to “{contract.title}”: {milestone.description} "
        f"({format_cents(milestone.amount_cents)})."
    )
    _on_commit_notify(
        _other_party(contract, actor), NotificationKind.CONTRACT, text, contract_url(contract), contract
    )
    return milestone


def _milestone_for_update(actor: User, milestone_id: Any) -> tuple[Contract, Milestone]:
    """Lock the milestone's contract (the actor must be a party), then the milestone."""
    contract_id = Milestone.objects.filter(pk=_pk(milestone_id)).values_list("contract_id", flat=True).first()
    if contract_id is None:
        require_can_act(actor)
        raise NotFoundError("No such milestone.")
    try:
        contract = _contract_for_update(actor, contract_id)
    except NotFoundError:
        raise NotFoundError("No such milestone.")
    milestone = (
        Milestone.objects.select_for_update(no_key=True).filter(pk=milestone_id, contract=contract).first()
    )
    if milestone is None:
        raise NotFoundError("No such milestone.")
    return contract, milestone


def _require_can_manage(contract: Contract, milestone: Milestone, actor: User, verb: str) -> None:
    """The client manages every pending milestone; the freelancer only those they proposed.
    ``verb``: 'change' or 'remove'."""
    _require_milestones_editable(contract)
    if not milestone.is_pending:
        raise ApplicationError(
            f"Only unfunded milestones can be {verb}d; this one is {milestone.get_status_display().lower()}.",
            code="milestone_not_pending",
            extra={"status": milestone.status},
        )
    if contract.party_role(actor) == "freelancer" and milestone.added_by_id != actor.pk:
        raise PermissionDeniedError(
            f"Only the client can {verb} this milestone; ask them in the conversation.", code="wrong_party"
        )
    from .escrow import funding_in_progress

    if funding_in_progress(milestone):
        raise ConflictError(
            f"A payment for this milestone is being processed; it cannot be {verb}d now.",
            code="funding_in_progress",
        )


@transaction.atomic
def milestone_update(*, actor: User, milestone_id: int, data: MilestoneInput) -> Milestone:
    contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_can_manage(contract, milestone, actor, "change")
    values = _validate_milestone(data)
    old = _milestone_data(milestone)
    others = [m for m in _locked_milestones(contract) if m.pk != milestone.pk]
    for name, value in values.items():
        setattr(milestone, name, value)
    new = _milestone_data(milestone)
    if old == new:
        return milestone
    _check_total([*others, milestone])
    milestone.save(update_fields=["description", "amount_cents", "due_date", "updated_at"])
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        milestone=milestone,
        kind=ContractEvent.Kind.MILESTONE_UPDATED,
        from_status=milestone.status,
        to_status=milestone.status,
        data={"old": old, "new": new},
    )
    _on_commit_notify(
        _other_party(contract, actor),
        NotificationKind.CONTRACT,
        f"{actor.display_name} changed a milestone of “{contract.title}”: {milestone.description} "
        f"({format_cents(milestone.amount_cents)}).",
        contract_url(contract),
        contract,
    )
    return milestone


@transaction.atomic
def milestone_delete(*, actor: User, milestone_id: int) -> None:
    contract, milestone = _milestone_for_update(actor, milestone_id)
    _require_can_manage(contract, milestone, actor, "remove")
    if len(_locked_milestones(contract)) <= 1:
        raise ApplicationError(
            "A fixed-price contract keeps at least one milestone; change this one instead, or end the contract.",
            code="last_milestone",
        )
    data = _milestone_data(milestone)
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        kind=ContractEvent.Kind.MILESTONE_DELETED,
        from_status=milestone.status,
        data=data,
    )
    milestone.delete()
    _on_commit_notify(
        _other_party(contract, actor),
        NotificationKind.CONTRACT,
        f"{actor.display_name} removed the milestone “{data['description']}” from “{contract.title}”.",
        contract_url(contract),
        contract,
    )


# --- files ----------------------------------------------------------------------------------------------


def store_contract_file(
    contract: Contract, actor: User, upload: UploadedFile, *, field_name: str = "file"
) -> ContractFile:
    """Check an upload (type by content, size) and store it privately on ``contract``; the
    stored bytes are removed again if the row cannot be written. Callers hold the contract lock."""
    try:
        content = process_file(upload, allowed=FILE_KINDS, max_bytes=settings.PORTFOLIO_FILE_MAX_BYTES)
    except ApplicationError as error:
        raise _error(
            error.message, error.code, field_name, **{k: v for k, v in error.extra.items() if k != "field"}
        )
    item = ContractFile(
        contract=contract,
        uploaded_by=actor,
        original_name=safe_display_name(upload.name),
        size_bytes=upload.size or 0,
    )
    item.file.save(content.name or "file", content, save=False)
    stored = item.file
    try:
        item.save()
    except Exception:
        stored.storage.delete(stored.name or "")
        raise
    return item


@transaction.atomic
def contract_file_add(*, actor: User, contract_id: int, upload: UploadedFile | None) -> ContractFile:
    """A party shares a file on the contract (checked by type and size, stored privately).
    A suspended party still may: handing over files (``suspended_handover``)."""
    with suspended_handover(actor):
        contract = _contract_for_update(actor, contract_id)
    _require_not_ended(contract)
    if upload is None:
        raise _error("Choose a file to upload.", "file_missing", "file")
    if ContractFile.objects.filter(contract=contract).count() >= MAX_FILES:
        raise _error(f"A contract holds at most {MAX_FILES} files.", "too_many_files", "file")
    item = store_contract_file(contract, actor, upload, field_name="file")
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        kind=ContractEvent.Kind.FILE_ADDED,
        data={"name": item.original_name, "size_bytes": item.size_bytes, "file": item.pk},
    )
    _on_commit_notify(
        _other_party(contract, actor),
        NotificationKind.CONTRACT,
        f"{actor.display_name} shared a file on “{contract.title}”: {item.original_name}.",
        contract_url(contract),
        contract,
    )
    return item


from .escrow import (  # noqa: E402  (escrow builds on the helpers above)
    FundResult,
    contract_bonus,
    milestone_approve,
    milestone_fund,
    milestone_refund,
    milestone_refund_request,
    milestone_request_changes,
    milestone_submit,
    milestones_auto_approve_due,
)

__all__ = [
    "FundResult",
    "MilestoneInput",
    "OfferInput",
    "contract_bonus",
    "milestone_approve",
    "milestone_fund",
    "milestone_refund",
    "milestone_refund_request",
    "milestone_request_changes",
    "milestone_submit",
    "milestones_auto_approve_due",
]
