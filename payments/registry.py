"""Settlement handlers per purpose: how other apps hear that their money moved.

``payments`` knows nothing of milestones or timesheets. The app that asks for a charge
or a refund gives it a ``purpose`` ("milestone_funding") and a ``reference``
("milestone:42") and registers, once (in its ``AppConfig.ready``)::

    from payments import registry

    registry.register(
        "milestone_funding",
        on_succeeded=milestone_funding_succeeded,  # (charge) -> None
        on_failed=milestone_funding_failed,  # (charge) -> None
        on_refunded=milestone_refunded,  # (refund) -> None
        on_refund_failed=milestone_refund_failed,  # (refund) -> None
    )

``on_refund_failed`` runs when a refund settles as failed: refused at once, failed after it
was pending, or failed at the bank after it had been reported succeeded (Stripe's
``refund.failed``; then ``on_refunded`` ran before, and the ledger entries of the refund
are reversed before the handler runs: the money is back where it was taken from).

``refunds_from_revenue=True`` declares a purpose whose charge becomes platform revenue as
soon as it succeeds (its ``on_succeeded`` moves the escrow to platform fees, e.g. Connects
sold): a refund of it is then taken from platform fees instead of the escrow.

Handlers run inside the settlement transaction (with the charge or refund row locked and
the ledger entry posted), so the app's state change commits with the money. A handler
that raises is rolled back to a savepoint and recorded on the record (``handler_error``)
without losing the settlement; it must not call the gateway (queue a task on commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]


@dataclass(frozen=True)
class PurposeHandlers:
    on_succeeded: Handler | None = None
    on_failed: Handler | None = None
    on_refunded: Handler | None = None
    on_refund_failed: Handler | None = None
    refunds_from_revenue: bool = False


_handlers: dict[str, PurposeHandlers] = {}


def register(
    purpose: str,
    *,
    on_succeeded: Handler | None = None,
    on_failed: Handler | None = None,
    on_refunded: Handler | None = None,
    on_refund_failed: Handler | None = None,
    refunds_from_revenue: bool = False,
) -> None:
    """Register (or replace) the handlers of ``purpose``."""
    if not purpose:
        raise ValueError("purpose is required")
    _handlers[purpose] = PurposeHandlers(
        on_succeeded=on_succeeded,
        on_failed=on_failed,
        on_refunded=on_refunded,
        on_refund_failed=on_refund_failed,
        refunds_from_revenue=refunds_from_revenue,
    )


def unregister(purpose: str) -> None:
    _handlers.pop(purpose, None)


def handlers_for(purpose: str) -> PurposeHandlers:
    return _handlers.get(purpose) or PurposeHandlers()


def registered_purposes() -> list[str]:
    return sorted(_handlers)
