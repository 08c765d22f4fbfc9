"""Dispute pieces shown on the contract and milestone pages (so those views need no
change): the banner of open disputes and the milestone's dispute panel."""

from __future__ import annotations

from typing import Any

from django import template

from contracts import disputes
from contracts.models import Contract, Dispute, Milestone

register = template.Library()


@register.inclusion_tag("contracts/_dispute_banner.html", takes_context=True)
def contract_disputes_banner(context: dict[str, Any], contract: Contract) -> dict[str, Any]:
    return {"open_disputes": disputes.open_disputes_for_contract(contract), "user": context.get("user")}


@register.inclusion_tag("contracts/_dispute_milestone_panel.html", takes_context=True)
def milestone_dispute_panel(
    context: dict[str, Any], contract: Contract, milestone: Milestone
) -> dict[str, Any]:
    user = context.get("user")
    role = contract.party_role(user)
    dispute = disputes.latest_dispute_for_milestone(milestone)
    disputable = (
        role is not None
        and milestone.status in disputes.ESCROWED
        and milestone.escrow_cents > 0
        and not milestone.refund_pending_cents
        and not contract.is_ended
    )
    return {
        "contract": contract,
        "milestone": milestone,
        "dispute": dispute,
        "unresolved": dispute is not None and dispute.status != Dispute.Status.RESOLVED,
        "can_open": disputable,
        "can_reject_refund": disputable
        and role == "freelancer"
        and milestone.refund_requested_at is not None,
        "user": user,
    }
