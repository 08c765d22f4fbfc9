"""What a freelancer's suspension does to their contracts, and the client's way out.

When staff suspend a freelancer (``accounts.services.user_suspend`` sends
``accounts.signals.user_suspended`` inside its transaction), ``contracts_on_freelancer_suspended``
runs in that transaction:

- every active hourly contract is paused (no more time can be logged or billed; the client
  resumes it if the suspension is lifted);
- every open contract gets a line in its conversation, and its client is told, with the
  escrow they can get back.

Money in escrow is not frozen forever, and it follows the dispute rules
(``contracts.disputes``) rather than rules of its own. We do not open disputes automatically:
a disputed milestone refuses submission, and a suspended freelancer may still hand over the
work they owe (``accounts.services.suspended_handover``), which the client may well prefer to
a refund. Instead the client gets a one-click "Get the escrow back" on each escrowed milestone
(``milestone_dispute_for_suspension``): it opens a dispute on their behalf (reason
``freelancer_suspended``) with the usual FIXED_RESPONSE_DAYS for the freelancer to answer;
a suspended freelancer cannot answer, so by the silence rule the escrow is refunded when the
time is up, unless staff decide the dispute otherwise first. Submitted work that the client
leaves alone is released by the usual auto-approval, as for anyone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.money import format_cents
from messaging.models import NotificationKind

from .models import Contract, ContractEvent, Dispute, Milestone
from .services import _contract_transition, _on_commit_notify, _pk, _post_system, contract_url

FREELANCER_SUSPENDED = "freelancer_suspended"  # Dispute.reason of the one-click refund
SUSPENSION_STATEMENT = (
    "The marketplace suspended the freelancer's account. I ask for the money in escrow for "
    "this milestone back."
)


def escrowed_milestones(contract: Contract) -> list[Milestone]:
    from .disputes import ESCROWED

    return list(
        Milestone.objects.filter(contract=contract, status__in=ESCROWED, escrow_cents__gt=0).order_by(
            "position", "pk"
        )
    )


def contracts_on_freelancer_suspended(*, actor: User | None, freelancer_id: int) -> int:
    """Pause the suspended freelancer's active hourly contracts and tell every client (inside
    the suspension's transaction). Returns how many contracts were touched."""
    contracts = list(
        Contract.objects.select_for_update(no_key=True)
        .filter(freelancer_id=freelancer_id, status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED])
        .order_by("pk")
    )
    for contract in contracts:
        if contract.is_hourly and contract.status == Contract.Status.ACTIVE:
            from django.utils import timezone

            _contract_transition(
                contract,
                to=Contract.Status.PAUSED,
                actor=actor,
                kind=ContractEvent.Kind.PAUSED,
                data={"reason": "freelancer_suspended"},
            )
            contract.paused_at = timezone.now()
            contract.save(update_fields=["status", "paused_at", "updated_at"])
            what = "The contract is paused: no time can be logged."
        else:
            what = "The contract stays open so that work can still be handed over."
        escrow = sum(m.escrow_cents for m in escrowed_milestones(contract)) if contract.is_fixed else 0
        money = (
            f" {format_cents(escrow)} is in escrow: you can hand it back to yourself with one click on "
            "the contract page (a dispute the freelancer cannot answer; the money is refunded when "
            "the answer time is up)."
            if escrow
            else ""
        )
        _post_system(
            contract.conversation_id,
            f"The marketplace suspended the freelancer's account. {what}",
        )
        _on_commit_notify(
            contract.client_id,
            NotificationKind.CONTRACT,
            f"The marketplace suspended the account of the freelancer on “{contract.title}”. {what}{money}",
            contract_url(contract),
            contract,
        )
    return len(contracts)


def on_user_suspended(sender: Any, *, user: User, actor: User | None = None, **kwargs: Any) -> None:
    """Receiver of ``accounts.signals.user_suspended`` (connected in ``ContractsConfig.ready``)."""
    contracts_on_freelancer_suspended(actor=actor, freelancer_id=user.pk)


@transaction.atomic
def milestone_dispute_for_suspension(*, actor: User, milestone_id: Any) -> Dispute:
    """The client of a suspended freelancer asks for an escrowed milestone back in one click:
    a dispute opens on their behalf under the usual rules (see the module docstring)."""
    from .disputes import _open_on_milestone

    contract = (
        Contract.objects.filter(milestones__pk=_pk(milestone_id))
        .filter(Q(client=actor) | Q(freelancer=actor))
        .select_related("freelancer")
        .first()
    )
    if contract is None:
        raise NotFoundError("No such milestone.")
    if contract.client_id != actor.pk:
        raise PermissionDeniedError("Only the client can ask for the escrow back.", code="wrong_party")
    if not contract.freelancer.is_suspended:
        raise ApplicationError(
            "The freelancer's account is not suspended; talk to them or open a dispute.",
            code="not_suspended",
        )
    return _open_on_milestone(
        actor=actor,
        milestone_id=milestone_id,
        reason=FREELANCER_SUSPENDED,
        statement=SUSPENSION_STATEMENT,
        files=None,
        reasons=None,
    )
