"""Signal receivers: they only hand over to a service (no business logic in signals)."""

from __future__ import annotations

from typing import Any


def on_job_closed(
    sender: Any, *, job: Any, actor: Any = None, removed_by_staff: bool = False, **kwargs: Any
) -> None:
    """``jobs.signals.job_closed``: decline the job's open proposals, refund Connects."""
    from .services import proposals_job_closed

    proposals_job_closed(job=job, actor=actor, removed_by_staff=removed_by_staff)
