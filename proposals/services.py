"""Write use cases of proposals and Connects.

Keyword-only, take the acting user (or are hooks for contracts, documented as such), lock
what they change, log a ProposalEvent, and queue side effects on commit.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jobs import services as job_services
from marketplace.errors import ApplicationError, NotFoundError

from .models import Proposal, ProposalEvent

# --- hooks for contracts (contracts -> proposals; proposals never imports contracts) --------


def _proposal_for_update(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFoundError("No such proposal.")
    return proposal


@transaction.atomic
def proposal_mark_offered(*, proposal_id: int, pending: bool) -> Proposal:
    """Contracts: an offer made from this proposal is pending (True) or no longer (False)."""
    proposal = _proposal_for_update(proposal_id)
    if pending and not proposal.is_active:
        raise ApplicationError(
            f"An offer needs an active proposal; this one is {proposal.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": proposal.status},
        )
    if proposal.offer_pending != pending:
        proposal.offer_pending = pending
        proposal.save(update_fields=["offer_pending", "updated_at"])
    return proposal


@transaction.atomic
def proposal_mark_hired(*, proposal_id: int, actor=None) -> Proposal:
    """Contracts: the offer made from this proposal was accepted; the job counts a hire."""
    proposal = _proposal_for_update(proposal_id)
    if Proposal.Status.HIRED not in Proposal.TRANSITIONS[proposal.status]:
        raise ApplicationError(
            f"This proposal is {proposal.get_status_display().lower()} and cannot be hired.",
            code="illegal_transition",
            extra={"from": proposal.status, "to": Proposal.Status.HIRED},
        )
    was_shortlisted = proposal.status == Proposal.Status.SHORTLISTED
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        kind="hired",
        from_status=proposal.status,
        to_status=Proposal.Status.HIRED,
    )
    proposal.status = Proposal.Status.HIRED
    proposal.offer_pending = False
    proposal.status_changed_at = timezone.now()
    proposal.save(update_fields=["status", "offer_pending", "status_changed_at", "updated_at"])
    job_services.job_counters_add(
        job_id=proposal.job_id, hires_count=1, **({"shortlisted_count": -1} if was_shortlisted else {})
    )
    return proposal
