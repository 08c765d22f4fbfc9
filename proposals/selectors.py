"""Reads of proposals and Connects, scoped to the viewer, in a fixed number of queries.

A proposal is seen only by its two parties: the freelancer who sent it and the client who
owns the job (who never sees withdrawn proposals). Anyone else is told it does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.models import FreelancerProfile, User
from accounts.teams import client_side_q as team_client_side_q
from jobs.models import Invitation, Job
from marketplace.prepared import PreparedQuery
from payments.fees import freelancer_earnings

from .models import (
    ConnectsTransaction,
    ConnectsWallet,
    Proposal,
    ProposalAnswer,
    ProposalAttachment,
    ProposalEvent,
)
from .services import connects_cost, next_grant_date

ACTIVE = list(Proposal.ACTIVE_STATUSES)
_OPEN = Q(status__in=ACTIVE)

# The freelancer's "My proposals": disjoint tabs, together every proposal they sent.
FREELANCER_TABS: dict[str, tuple[str, Q]] = {
    "submitted": ("Submitted", _OPEN & Q(conversation__isnull=True, offer_pending=False)),
    "active": ("Active", _OPEN & Q(conversation__isnull=False, offer_pending=False)),
    "offers": ("Offers", _OPEN & Q(offer_pending=True)),
    "archived": ("Archived", ~_OPEN),
}

# The client's review page of a job. Withdrawn proposals are never shown to the client.
CLIENT_FILTERS: dict[str, tuple[str, Q]] = {
    "all": ("All proposals", Q(status__in=[*ACTIVE, Proposal.Status.HIRED], archived=False)),
    "shortlisted": ("Shortlisted", Q(status=Proposal.Status.SHORTLISTED, archived=False)),
    "messaged": ("Messaged", Q(conversation__isnull=False) & ~Q(status=Proposal.Status.WITHDRAWN)),
    "hired": ("Hired", Q(status=Proposal.Status.HIRED)),
    "archived": ("Archived", Q(archived=True) & ~Q(status=Proposal.Status.WITHDRAWN)),
    "declined": ("Declined", Q(status=Proposal.Status.DECLINED)),
}
CLIENT_SORTS = {"best": "Best match", "newest": "Newest"}


def party_q(viewer: Any) -> Q:
    """Proposals ``viewer`` may see: their own, and those (not withdrawn) to their jobs."""
    if viewer is None or not viewer.is_authenticated:
        return Q(pk__in=[])
    # teammates of the job's client team too (accounts.teams)
    return Q(freelancer_id=viewer.pk) | (
        team_client_side_q(viewer, prefix="job__") & ~Q(status=Proposal.Status.WITHDRAWN)
    )


def _detail_queryset() -> QuerySet[Proposal]:
    return Proposal.objects.select_related(
        "job",
        "job__client",
        "job__category",
        "freelancer",
        "freelancer__freelancer_profile",
        "conversation",
        "invitation",
    ).prefetch_related(
        Prefetch(
            "answers",
            queryset=ProposalAnswer.objects.select_related("question").order_by(
                "question__position", "question_id"
            ),
        ),
        "milestones",
        Prefetch("attachments", queryset=ProposalAttachment.objects.order_by("created_at", "pk")),
        "portfolio_items",
        Prefetch(
            "events", queryset=ProposalEvent.objects.select_related("actor").order_by("created_at", "id")
        ),
    )


def proposal_get_for_party(*, proposal_id: int, viewer: Any) -> Proposal:
    """The proposal with everything its page shows, or 404 for anyone but its two parties."""
    proposal = _detail_queryset().filter(party_q(viewer), pk=proposal_id).first()
    if proposal is None:
        raise Http404("No such proposal.")
    return proposal


def attachment_get_for_party(*, proposal_id: int, attachment_id: int, viewer: Any) -> ProposalAttachment:
    attachment = (
        ProposalAttachment.objects.filter(
            pk=attachment_id, proposal_id=proposal_id, proposal__in=Proposal.objects.filter(party_q(viewer))
        )
        .select_related("proposal")
        .first()
    )
    if attachment is None:
        raise Http404("No such file.")
    return attachment


# --- the freelancer ----------------------------------------------------------------------------------


def freelancer_tab_counts(*, user: User) -> dict[str, int]:
    """How many proposals each tab of "My proposals" holds (one query)."""
    totals = Proposal.objects.filter(freelancer=user).aggregate(
        **{key: Count("pk", filter=q) for key, (_, q) in FREELANCER_TABS.items()}
    )
    return {key: totals[key] or 0 for key in FREELANCER_TABS}


def freelancer_proposal_list(*, user: User, tab: str | None = None) -> QuerySet[Proposal]:
    """The freelancer's proposals, newest first; ``tab`` narrows them (see FREELANCER_TABS)."""
    qs = Proposal.objects.filter(freelancer=user).select_related("job", "job__client")
    if tab is not None:
        qs = qs.filter(FREELANCER_TABS[tab][1])
    return qs.order_by("-created_at", "-id")


def proposal_active_for(*, job: Job, user: Any) -> Proposal | None:
    """The user's open (or hired) proposal to ``job``, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        Proposal.objects.filter(job=job, freelancer_id=user.pk, status__in=[*ACTIVE, Proposal.Status.HIRED])
        .only("id", "status", "job_id", "freelancer_id")
        .first()
    )


# --- the client ---------------------------------------------------------------------------------------


def client_filter_counts(*, job: Job) -> dict[str, int]:
    """How many proposals each filter of the review page shows (one query)."""
    totals = Proposal.objects.filter(job=job).aggregate(
        **{key: Count("pk", filter=q) for key, (_, q) in CLIENT_FILTERS.items()}
    )
    return {key: totals[key] or 0 for key in CLIENT_FILTERS}


def client_proposal_list(
    *,
    job: Job,
    filter_key: str = "all",
    sort: str = "best",
    rate_min_cents: int | None = None,
    rate_max_cents: int | None = None,
) -> QuerySet[Proposal]:
    """The proposals to ``job`` for its client's review page (the caller checked ownership).

    The hourly rate range applies to the bid on an hourly job and to the freelancer's
    profile rate on a fixed-price job.
    """
    qs = (
        Proposal.objects.filter(job=job)
        .filter(CLIENT_FILTERS.get(filter_key, CLIENT_FILTERS["all"])[1])
        .select_related("freelancer", "freelancer__freelancer_profile", "conversation")
    )
    rate = (
        "hourly_rate_cents"
        if job.budget_type == Job.BudgetType.HOURLY
        else "freelancer__freelancer_profile__hourly_rate_cents"
    )
    if rate_min_cents is not None:
        qs = qs.filter(**{f"{rate}__gte": rate_min_cents})
    if rate_max_cents is not None:
        qs = qs.filter(**{f"{rate}__lte": rate_max_cents})
    if sort == "newest":
        return qs.order_by("-created_at", "-id")
    return qs.order_by(F("match_score").desc(nulls_last=True), "-created_at", "-id")


# --- Connects ---------------------------------------------------------------------------------------


def connects_balance(*, user: Any) -> int | None:
    """The freelancer's balance for the navigation (one query); None for non-freelancers.

    A freelancer without a wallet yet sees what its creation grants them.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    rows = _BALANCE.rows(user_id=user.pk)
    return connects_shown(*rows[0]) if rows else None


def connects_annotations() -> dict[str, Any]:
    """What ``connects_shown`` needs, as annotations of a ``User`` queryset."""
    return {
        "connects_is_freelancer": Exists(FreelancerProfile.objects.filter(user_id=OuterRef("pk"))),
        "connects_wallet_balance": Subquery(
            ConnectsWallet.objects.filter(user_id=OuterRef("pk")).values("balance")[:1]
        ),
    }


def connects_shown(is_freelancer: Any, wallet_balance: int | None) -> int | None:
    """The balance the navigation shows: None for a user who is not a freelancer; what the
    wallet's creation grants for a freelancer without a wallet yet."""
    if not is_freelancer:
        return None
    if wallet_balance is None:
        return min(settings.CONNECTS_MONTHLY_GRANT, settings.CONNECTS_ROLLOVER_CAP)
    return int(wallet_balance)


def _balance_query(user_id: int) -> QuerySet[Any, Any]:
    return (
        User.objects.filter(pk=user_id)
        .annotate(**connects_annotations())
        .values_list("connects_is_freelancer", "connects_wallet_balance")  # type: ignore[misc]
    )


# on every signed-in freelancer's page: compiled once per process (marketplace.prepared)
_BALANCE = PreparedQuery(_balance_query)


def connects_history(*, user: User) -> QuerySet[ConnectsTransaction]:
    return (
        ConnectsTransaction.objects.filter(wallet__user=user)
        .select_related("job", "proposal")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class ConnectsSummary:
    balance: int
    next_grant: date
    monthly_grant: int
    rollover_cap: int
    costs: dict[str, int]


def connects_summary(*, wallet: ConnectsWallet) -> ConnectsSummary:
    return ConnectsSummary(
        balance=wallet.balance,
        next_grant=next_grant_date(),
        monthly_grant=settings.CONNECTS_MONTHLY_GRANT,
        rollover_cap=settings.CONNECTS_ROLLOVER_CAP,
        costs={str(label): settings.CONNECTS_COST_BY_SIZE.get(key, 0) for key, label in Job.Size.choices},
    )


# --- can this person apply? ---------------------------------------------------------------------------


@dataclass
class ApplyState:
    """Whether the viewer can send a proposal to a job, and what it costs them.

    ``status``: can_apply, anonymous, own_job, not_freelancer, suspended, profile_unpublished,
    job_not_open, applied, invitation_inactive or not_enough_connects.
    """

    status: str
    message: str = ""
    cost: int = 0
    free: bool = False  # answering an invitation costs nothing
    balance: int | None = None
    proposal: Proposal | None = None

    @property
    def can_apply(self) -> bool:
        return self.status == "can_apply"

    @property
    def balance_after(self) -> int | None:
        return None if self.balance is None else self.balance - self.cost


def apply_state(*, job: Job, user: Any) -> ApplyState:
    """Read-only (a few queries); the job is one the viewer may see."""
    cost = connects_cost(job)
    if user is None or not getattr(user, "is_authenticated", False):
        return ApplyState("anonymous", "Log in as a freelancer to send a proposal.", cost=cost)
    if job.client_id == user.pk:
        return ApplyState("own_job", "This is your job.", cost=cost)
    profile = FreelancerProfile.objects.filter(user_id=user.pk).only("published_at").first()
    if profile is None:
        return ApplyState("not_freelancer", "Only freelancers send proposals.", cost=cost)
    if user.is_suspended:
        return ApplyState("suspended", "Your account is suspended; you cannot send proposals.", cost=cost)
    proposal = proposal_active_for(job=job, user=user)
    if proposal is not None:
        return ApplyState("applied", "You applied to this job.", cost=cost, proposal=proposal)
    if job.status != Job.Status.OPEN:
        return ApplyState("job_not_open", "This job is no longer accepting proposals.", cost=cost)
    if profile.published_at is None:
        return ApplyState(
            "profile_unpublished", "Complete and publish your profile to send proposals.", cost=cost
        )
    invitation = (
        Invitation.objects.filter(job=job, freelancer_id=user.pk).only("status", "expires_at").first()
    )
    free = invitation is not None and (
        invitation.status == Invitation.Status.ACCEPTED
        or (invitation.status == Invitation.Status.PENDING and invitation.expires_at > timezone.now())
    )
    if job.visibility == Job.Visibility.INVITE_ONLY and not free:
        return ApplyState(
            "invitation_inactive", "This job takes proposals from invited freelancers only.", cost=cost
        )
    balance = connects_balance(user=user)
    if free:
        return ApplyState(
            "can_apply", "You were invited: this proposal is free.", cost=0, free=True, balance=balance
        )
    if balance is not None and balance < cost:
        return ApplyState(
            "not_enough_connects",
            f"This proposal needs {cost} Connects and you have {balance}.",
            cost=cost,
            balance=balance,
        )
    return ApplyState("can_apply", f"Sending a proposal costs {cost} Connects.", cost=cost, balance=balance)


# --- money shown next to a bid --------------------------------------------------------------------------


def you_receive_cents(proposal: Proposal) -> int:
    """What the freelancer receives from the bid after the service fee (payments.fees)."""
    return freelancer_earnings(proposal.bid_cents).net_cents
