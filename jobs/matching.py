"""Matching freelancers and jobs (placeholder interface, being written)."""

from __future__ import annotations


def refresh_for_job(*, job_id: int) -> int:
    return 0


def refresh_for_freelancer(*, profile_id: int) -> int:
    return 0


def refresh_all() -> int:
    return 0


def suggested_talent_for_job(*, job, viewer, limit: int = 5) -> list:
    """Top freelancers for ``job`` with reasons, for its owner. [] when none."""
    return []
