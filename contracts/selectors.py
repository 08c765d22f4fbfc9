"""Reads of offers and contracts, scoped to the viewer.

Anyone who is not a party to an offer or a contract is told it does not exist
(``NotFoundError``, a 404). Lists select and prefetch what their rows show, so a page costs
the same number of queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts import teams
from accounts.models import User
from jobs.models import Job
from marketplace.errors import NotFoundError
from marketplace.ids import as_id
from marketplace.money import format_cents
from payments.fees import client_marketplace_fee, freelancer_earnings
from proposals.models import Proposal

from .models import Contract, ContractEvent, ContractFile, ContractType, Milestone, Offer

ROLES = ("client", "freelancer")
OFFER_TABS = {"pending": "Pending", "past": "Past"}
CONTRACT_FILTERS = {"": "All", "active": "Active", "paused": "Paused", "ended": "Ended"}


def default_role(user: Any) -> str:
    """The side a list shows by default: the user's active role."""
    role = getattr(user, "active_role", "")
    return role if role in ROLES else "freelancer"


def clean_role(user: Any, value: Any) -> str:
    return value if value in ROLES else default_role(user)


def _pk(value: Any) -> int:
    """An id from a URL or a query string, or 0 (which matches no row) for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "")
    return as_id(text) or 0


# --- offers ------------------------------------------------------------------------------------------


def _offers() -> QuerySet[Offer]:
    return Offer.objects.select_related("client", "freelancer", "job", "proposal", "contract")


def offer_get_for_party(*, offer_id: Any, viewer: Any) -> Offer:
    """The offer with its milestones, if ``viewer`` is its client or freelancer; else 404."""
    pk = _pk(offer_id)
    offer = None
    if pk and getattr(viewer, "is_authenticated", False):
        offer = (
            _offers()
            .prefetch_related("milestones")
            .filter(pk=pk)
            .filter(Q(client=viewer) | Q(freelancer=viewer) | teams.team_jobs_q(viewer, prefix="job__"))
            .first()
        )
    if offer is None:
        raise NotFoundError("No such offer.")
    return offer


def offer_scope(user: User, role: str) -> QuerySet[Offer]:
    return _offers().filter(**{role: user})


def _pending_q() -> Q:
    return Q(status=Offer.Status.PENDING, expires_at__gt=timezone.now())


def offer_list(*, user: User, role: str, tab: str = "pending", status: str = "") -> QuerySet[Offer]:
    """The offers ``user`` received (role freelancer) or sent (role client).

    ``tab``: pending (open for an answer) or past (answered, withdrawn, expired, including
    pending ones past their date). ``status`` filters on the stored status instead (API).
    """
    qs = offer_scope(user, role).annotate(milestones_count=Count("milestones")).order_by("-created_at", "-id")
    if status:
        return qs.filter(status=status)
    if tab == "past":
        return qs.exclude(_pending_q())
    return qs.filter(_pending_q())


def offer_tab_counts(*, user: User, role: str) -> dict[str, int]:
    counts = offer_scope(user, role).aggregate(pending=Count("pk", filter=_pending_q()), total=Count("pk"))
    return {"pending": counts["pending"], "past": counts["total"] - counts["pending"]}


def offer_money(*, contract_type: str, amount_cents: int | None) -> dict[str, Any]:
    """The fee lines shown with an offer: for a fixed price on the total, for hourly per hour."""
    amount = int(amount_cents or 0)
    earnings = freelancer_earnings(amount)
    fee = client_marketplace_fee(amount)
    return {
        "amount_cents": amount,
        "per_hour": contract_type == ContractType.HOURLY,
        "client_fee_cents": fee,
        "client_total_cents": amount + fee,
        "freelancer_fee_cents": earnings.fee_cents,
        "freelancer_net_cents": earnings.net_cents,
    }


@dataclass
class OfferTarget:
    """Who an offer being written is for, and the terms to start from."""

    freelancer: User
    job: Job | None
    proposal: Proposal | None
    initial: dict[str, Any]
    milestone_rows: list[dict[str, str]] = field(default_factory=list)


def _dollars(cents: int | None) -> str:
    if cents is None:
        return ""
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


def offer_target(
    *, client: User, proposal_id: Any = None, freelancer_id: Any = None, job_id: Any = None
) -> OfferTarget:
    """The recipient and prefilled terms of the offer form (404 for anything not the client's).

    From a proposal: the title of the job, its budget type, the bid as the rate or amount
    and the proposed milestones (or one milestone for the whole bid). Direct: the job's
    title and budget when a job is given.
    """
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "start_date": today,
        "expires_in_days": 14,
        "contract_type": ContractType.FIXED,
    }
    rows: list[dict[str, str]] = []
    job: Job | None
    if proposal_id is not None:
        proposal = (
            Proposal.objects.select_related("job", "freelancer")
            .prefetch_related("milestones")
            .filter(teams.client_side_q(client, prefix="job__"), pk=_pk(proposal_id))
            .exclude(status=Proposal.Status.WITHDRAWN)
            .first()
        )
        if proposal is None:
            raise NotFoundError("No such proposal.")
        # a teammate of the job's client team hires for the owner; a viewer may not (403)
        teams.require_job_action(
            user=client, job=proposal.job, action=teams.HIRE, not_found="No such proposal."
        )
        job = proposal.job
        initial.update(title=job.title, contract_type=job.budget_type, description=job.description[:5000])
        if job.budget_type == Job.BudgetType.HOURLY:
            initial["hourly_rate"] = _dollars(proposal.hourly_rate_cents)
        else:
            rows = [
                {
                    "description": m.description,
                    "amount": _dollars(m.amount_cents),
                    "due": m.due_date.isoformat() if m.due_date else "",
                }
                for m in proposal.milestones.all()
            ] or [
                {"description": job.title[:200], "amount": _dollars(proposal.fixed_amount_cents), "due": ""}
            ]
        return OfferTarget(
            freelancer=proposal.freelancer, job=job, proposal=proposal, initial=initial, milestone_rows=rows
        )
    freelancer = User.objects.filter(pk=_pk(freelancer_id), freelancer_profile__isnull=False).first()
    if freelancer is None:
        raise NotFoundError("No such freelancer.")
    job = None
    if job_id not in (None, ""):
        job = Job.objects.filter(pk=_pk(job_id), client=client).first()
        if job is None:
            raise NotFoundError("No such job.")
        initial.update(title=job.title, contract_type=job.budget_type, description=job.description[:5000])
        if job.budget_type == Job.BudgetType.HOURLY:
            initial["hourly_rate"] = _dollars(job.hourly_max_cents)
        elif job.fixed_budget_cents:
            rows = [{"description": job.title[:200], "amount": _dollars(job.fixed_budget_cents), "due": ""}]
    return OfferTarget(freelancer=freelancer, job=job, proposal=None, initial=initial, milestone_rows=rows)


def offer_jobs_for_direct(*, client: User) -> QuerySet[Job]:
    """The client's open jobs, to attach a direct offer to."""
    return Job.objects.filter(client=client, status=Job.Status.OPEN).order_by("-published_at")


# --- contracts ------------------------------------------------------------------------------------------


def _contracts() -> QuerySet[Contract]:
    return Contract.objects.select_related("client", "freelancer", "job")


def _role_q(user: User, role: str) -> Q:
    """The contracts where ``user`` is the ``role``; on the client side, with their client
    teams' contracts (``accounts.teams``)."""
    if role == "client":
        return Q(client=user) | teams.team_jobs_q(user, prefix="job__")
    return Q(**{role: user})


def contract_list(*, user: User, role: str, status: str = "") -> QuerySet[Contract]:
    """The contracts where ``user`` is the ``role``, newest first, with their milestone totals."""
    qs = _contracts().filter(_role_q(user, role))
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        total_cents=Sum("milestones__amount_cents"),
        milestones_count=Count("milestones"),
        pending_milestones=Count("milestones", filter=Q(milestones__status=Milestone.Status.PENDING)),
    ).order_by("-started_at", "-id")


def contract_status_counts(*, user: User, role: str) -> dict[str, int]:
    counts = Contract.objects.filter(_role_q(user, role)).aggregate(
        active=Count("pk", filter=Q(status=Contract.Status.ACTIVE)),
        paused=Count("pk", filter=Q(status=Contract.Status.PAUSED)),
        ended=Count("pk", filter=Q(status=Contract.Status.ENDED)),
    )
    return {"": sum(counts.values()), **counts}


def contract_get_for_party(*, contract_id: Any, viewer: Any) -> Contract:
    pk = _pk(contract_id)
    contract = None
    if pk and getattr(viewer, "is_authenticated", False):
        contract = _contracts().filter(pk=pk).filter(Q(client=viewer) | Q(freelancer=viewer)).first()
    if contract is None:
        raise NotFoundError("No such contract.")
    return contract


def contract_get_for_teammate(*, contract_id: Any, viewer: Any) -> Contract:
    """A contract of a job of one of the viewer's client teams, to read (``accounts.teams``);
    404 otherwise. Only the contract page uses it: every action stays the parties'."""
    pk = _pk(contract_id)
    contract = None
    if pk and getattr(viewer, "is_authenticated", False):
        contract = _contracts().filter(teams.team_jobs_q(viewer, prefix="job__"), pk=pk).first()
    if contract is None:
        raise NotFoundError("No such contract.")
    return contract


def contract_events(*, contract: Contract) -> QuerySet[ContractEvent]:
    return (
        ContractEvent.objects.filter(contract=contract).select_related("actor").order_by("created_at", "id")
    )


def contract_file_get_for_party(*, contract_id: Any, file_id: Any, viewer: Any) -> ContractFile:
    contract = contract_get_for_party(contract_id=contract_id, viewer=viewer)
    item = ContractFile.objects.filter(pk=_pk(file_id), contract=contract).first()
    if item is None:
        raise NotFoundError("No such file.")
    return item


def milestone_get_for_party(*, contract: Contract, milestone_id: Any) -> Milestone:
    milestone = Milestone.objects.filter(pk=_pk(milestone_id), contract=contract).first()
    if milestone is None:
        raise NotFoundError("No such milestone.")
    return milestone


def _hours(value: Any) -> str:
    return "no limit" if value is None else f"{value} hrs/week"


def event_text(event: ContractEvent) -> str:
    """One line of the timeline, in words."""
    data = event.data or {}
    kind = event.kind
    if kind == ContractEvent.Kind.STARTED:
        return f"Contract started ({data.get('terms', '')})." if data.get("terms") else "Contract started."
    if kind == ContractEvent.Kind.WEEKLY_LIMIT_CHANGED:
        return f"Weekly limit changed from {_hours(data.get('from'))} to {_hours(data.get('to'))}."
    if kind in (ContractEvent.Kind.MILESTONE_ADDED, ContractEvent.Kind.MILESTONE_DELETED):
        label = "Milestone added" if kind == ContractEvent.Kind.MILESTONE_ADDED else "Milestone removed"
        return f"{label}: {data.get('description', '')} ({format_cents(data.get('amount_cents'))})."
    if kind == ContractEvent.Kind.MILESTONE_UPDATED:
        new = data.get("new", {})
        return f"Milestone changed: {new.get('description', '')} ({format_cents(new.get('amount_cents'))})."
    if kind == ContractEvent.Kind.FILE_ADDED:
        return f"File shared: {data.get('name', '')}."
    if kind == ContractEvent.Kind.ENDED:
        reason = data.get("reason", "")
        label = Contract.EndReason(reason).label if reason in Contract.EndReason.values else ""
        return f"Contract ended: {label}." if label else "Contract ended."
    if kind.startswith("time_"):
        from .timetracking import time_event_text

        return time_event_text(event)
    if kind == ContractEvent.Kind.MILESTONE_REFUND_REQUESTED and data.get("refund_failed"):
        return (
            f"Refund of {format_cents(data.get('refunded_cents'))} of “{data.get('description', '')}” "
            f"failed: {data.get('message', '')} The money is back in escrow."
        )
    if kind.startswith("timesheet_") and data.get("week_start"):  # weekly billing (contracts.billing)
        return _timesheet_event_text(kind, data)
    money_texts: dict[str, str] = {
        ContractEvent.Kind.MILESTONE_FUNDING_FAILED: "Payment for “{d}” declined: {message}",
        ContractEvent.Kind.MILESTONE_REFUND_REQUESTED: "Refund of “{d}” requested: {reason}",
        ContractEvent.Kind.MILESTONE_PARTIALLY_REFUNDED: "{amount} of “{d}” refunded to the client.",
        ContractEvent.Kind.MILESTONE_REFUNDED: "“{d}” refunded to the client.",
        ContractEvent.Kind.MILESTONE_FUNDED: "“{d}” funded: {amount} in escrow.",
        ContractEvent.Kind.MILESTONE_SUBMITTED: "Work on “{d}” submitted.",
        ContractEvent.Kind.MILESTONE_CHANGES_REQUESTED: "Changes requested on “{d}”: {note}",
        ContractEvent.Kind.MILESTONE_RELEASED: "Payment for “{d}” released.",
        ContractEvent.Kind.MILESTONE_AUTO_RELEASED: "Payment for “{d}” released automatically.",
        ContractEvent.Kind.BONUS_PAID: "Bonus of {amount} paid.",
    }
    if kind.startswith("dispute_"):
        from .disputes import dispute_event_text

        return dispute_event_text(event)
    if kind in money_texts:
        amount = data.get("refunded_cents", data.get("amount_cents"))
        return money_texts[kind].format(
            d=data.get("description", ""),
            amount=format_cents(amount) if amount is not None else "",
            message=data.get("message", ""),
            reason=data.get("reason", ""),
            note=data.get("note", ""),
        )
    if event.milestone_id is not None or data.get("description"):
        to = (
            Milestone.Status(event.to_status).label
            if event.to_status in Milestone.Status.values
            else event.to_status
        )
        return f"Milestone “{data.get('description', '')}”: {to.lower()}."
    try:
        return ContractEvent.Kind(kind).label + "."
    except ValueError:
        return kind.replace("_", " ").capitalize() + "."


def _timesheet_event_text(kind: str, data: dict[str, Any]) -> str:
    from datetime import date

    week = f"Week of {date.fromisoformat(data['week_start']):%b %-d}"
    if kind == ContractEvent.Kind.TIMESHEET_BILLED:
        return f"{week} billed: {format_cents(data.get('amount_cents'))} in escrow."
    if kind == ContractEvent.Kind.TIMESHEET_PAYMENT_FAILED:
        return f"{week}: the payment failed ({data.get('message', '')})."
    if data.get("settled"):
        return (
            f"{week} settled: {format_cents(data.get('refunded_cents'))} refunded, "
            f"{format_cents(data.get('released_cents'))} released."
        )
    return f"{week} paid: {format_cents(data.get('released_cents'))} released."


@dataclass
class ContractPage:
    contract: Contract
    role: str  # the viewer's side: client or freelancer
    milestones: list[Milestone]
    events: list[ContractEvent]  # the latest TIMELINE_SHOWN, oldest first, unless all were asked for
    files: list[ContractFile]
    total_cents: int
    money: dict[str, Any]
    escrow_cents: int = 0  # the contract's escrow balance in the ledger
    has_card: bool = False  # the viewer (client) has a saved card to fund with
    events_total: int = 0  # every event of the contract (the timeline may show fewer)

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def other_party(self) -> User:
        return self.contract.freelancer if self.is_client else self.contract.client

    @property
    def can_edit_milestones(self) -> bool:
        return self.contract.is_fixed and self.contract.status == Contract.Status.ACTIVE

    @property
    def pending_count(self) -> int:
        return sum(1 for m in self.milestones if m.is_pending)


TIMELINE_SHOWN = 50  # the contract page's timeline shows the latest events; "show all" the rest


def contract_page(*, contract: Contract, viewer: User, all_events: bool = False) -> ContractPage:
    role = teams.contract_role(viewer, contract)  # 'viewer': a teammate of the job's client team
    if role is None:
        raise NotFoundError("No such contract.")
    milestones = list(contract.milestones.select_related("added_by").order_by("position", "id"))
    events_total = ContractEvent.objects.filter(contract=contract).count()
    if all_events or events_total <= TIMELINE_SHOWN:
        events = list(contract_events(contract=contract))
    else:  # the latest ones, still oldest first
        events = list(contract_events(contract=contract).reverse()[:TIMELINE_SHOWN])[::-1]
    for event in events:
        event.text = event_text(event)  # type: ignore[attr-defined]
    files = list(contract.files.select_related("uploaded_by"))
    for milestone in milestones:
        milestone.can_manage = milestone.is_pending and (  # type: ignore[attr-defined]
            role == "client" or milestone.added_by_id == viewer.pk
        )
    total = sum(m.amount_cents for m in milestones)
    amount = contract.hourly_rate_cents if contract.is_hourly else total
    attach_money_timelines(milestones)
    for milestone in milestones:  # the client's fee if they fund it (one charge each)
        milestone.client_fee_cents = client_marketplace_fee(milestone.amount_cents)  # type: ignore[attr-defined]
    from payments.models import PaymentMethod

    has_card = (
        role == "client" and PaymentMethod.objects.filter(user=viewer, removed_at__isnull=True).exists()
    )
    return ContractPage(
        escrow_cents=contract_escrow_cents(contract) if contract.is_fixed else 0,
        has_card=has_card,
        contract=contract,
        role=role,
        milestones=milestones,
        events=events,
        events_total=events_total,
        files=files,
        total_cents=total,
        money=offer_money(contract_type=contract.contract_type, amount_cents=amount),
    )


# --- escrow: the money timeline ---------------------------------------------------------------------------


@dataclass
class TimelineStep:
    label: str
    at: Any  # datetime
    done: bool  # False: a date to come (auto-release, end of the security hold)


def _available_dates(milestones: list[Milestone]) -> dict[str, Any]:
    """When each release leaves the security hold: the held posting's ``available_at``."""
    from payments.models import AccountKind, Posting

    from .escrow import release_key

    keys = [release_key(m.pk) for m in milestones if m.released_at is not None]
    if not keys:
        return {}
    return dict(
        Posting.objects.filter(
            entry__idempotency_key__in=keys, account__kind=AccountKind.FREELANCER_PENDING, amount_cents__gt=0
        ).values_list("entry__idempotency_key", "available_at")
    )


def attach_money_timelines(milestones: list[Milestone]) -> None:
    """Set ``milestone.timeline`` (TimelineStep list) on each, computed from the milestone's
    dates, the auto-approval rule and the ledger's release dates. One query for all."""
    from .escrow import auto_approve_at, release_key

    now = timezone.now()
    available = _available_dates(milestones)
    for m in milestones:
        steps: list[TimelineStep] = []
        if m.funded_at:
            steps.append(TimelineStep(f"Funded {format_cents(m.funded_cents)}", m.funded_at, True))
        if m.submitted_at:
            steps.append(TimelineStep("Submitted", m.submitted_at, True))
        if m.status == Milestone.Status.CHANGES_REQUESTED:
            steps.append(TimelineStep("Changes requested", m.status_changed_at, True))
        due = auto_approve_at(m)
        if due is not None:
            steps.append(TimelineStep("Auto-release unless approved", due, False))
        if m.refunded_cents:
            label = "Refunded" if m.status == Milestone.Status.REFUNDED else "Part refunded"
            steps.append(TimelineStep(f"{label} {format_cents(m.refunded_cents)}", m.status_changed_at, True))
        if m.released_at:
            steps.append(TimelineStep("Released", m.released_at, True))
            when = available.get(release_key(m.pk))
            if when is not None:
                steps.append(TimelineStep("Available to withdraw", when, when <= now))
        m.timeline = steps  # type: ignore[attr-defined]


def contract_escrow_cents(contract: Contract) -> int:
    from payments.ledger import escrow_balance

    from .escrow import escrow_reference

    return escrow_balance(escrow_reference(contract.pk))


def milestone_submissions(milestone: Milestone) -> list[Any]:
    return list(milestone.submissions.select_related("submitted_by").prefetch_related("files"))
