"""Saved-search alerts: email freelancers the new jobs that match their saved searches.

Run by the beat task ``jobs.send_saved_search_alerts``. For each saved search with
``notify`` on, the jobs published in ``(last_checked_at, now]`` that match its parameters
(``JobFilter`` + ``job_search``, the search page's own code) go into ONE plain-text email,
at most ``MAX_JOBS_PER_EMAIL`` of them. Then ``last_checked_at`` moves to ``now``.
The window ends ``PUBLISH_GRACE`` before the clock, so that a job whose publishing
transaction was still open when the task looked is caught by the next run, not skipped.

Safe to run twice, also concurrently: a search's window is claimed with a compare-and-set
on ``last_checked_at`` before the email goes out, so a job is announced once. No row lock
is held while the mail server is called; if sending fails the claim is handed back and the
next run retries the same window.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from .models import Job, SavedSearch
from .selectors import InvalidSearchError, job_search_new_since

log = logging.getLogger(__name__)

MAX_JOBS_PER_EMAIL = 10
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
PUBLISH_GRACE = timedelta(minutes=1)


def _site_url() -> str:
    return str(getattr(settings, "SITE_URL", "") or DEFAULT_SITE_URL).rstrip("/")


def _email_body(search: SavedSearch, jobs: list[Job], total: int) -> str:
    site = _site_url()
    lines = [
        f"Hi {search.user.first_name or search.user.display_name},",
        "",
        f"{total} new job{'s' if total != 1 else ''} match your saved search “{search.name}”:",
        "",
    ]
    for job in jobs:
        if job.budget_type == Job.BudgetType.HOURLY:
            budget = (
                f"Hourly ${(job.hourly_min_cents or 0) / 100:,.2f}-${(job.hourly_max_cents or 0) / 100:,.2f}"
            )
        else:
            budget = f"Fixed price ${(job.fixed_budget_cents or 0) / 100:,.2f}"
        lines += [
            f"- {job.title}",
            f"  {budget} · {job.category.name}",
            f"  {site}{reverse('jobs:detail', args=[job.public_id])}",
            "",
        ]
    search_url = f"{site}{reverse('jobs:search')}"
    if search.query_string:
        search_url += f"?{search.query_string}"
    if total > len(jobs):
        lines.append(f"See all {total} new jobs: {search_url}")
    else:
        lines.append(f"Run the search: {search_url}")
    lines += [
        "",
        f"Manage your saved searches: {site}{reverse('jobs:saved_searches')}",
    ]
    return "\n".join(lines)


def _claim(search: SavedSearch, now: datetime) -> bool:
    """Take the window (last_checked_at, now] for this run; False when another run did."""
    return bool(
        SavedSearch.objects.filter(pk=search.pk, last_checked_at=search.last_checked_at).update(
            last_checked_at=now
        )
    )


def _alert(search: SavedSearch, now: datetime) -> bool:
    """Send one search's email if it has new jobs. Returns whether an email went out."""
    since = search.last_checked_at
    try:
        jobs, total = job_search_new_since(
            query_string=search.query_string,
            viewer=search.user,
            since=since,
            until=now,
            limit=MAX_JOBS_PER_EMAIL,
        )
    except InvalidSearchError as error:
        # e.g. a skill removed from the taxonomy; nothing can match, move on
        log.warning("saved search %s no longer validates: %s", search.pk, error.message)
        jobs, total = [], 0
    if not _claim(search, now) or not jobs:
        return False
    subject = f"{total} new job{'s' if total != 1 else ''} for “{search.name}”"
    try:
        send_mail(subject, _email_body(search, jobs, total), None, [search.user.email])
    except Exception:
        log.exception("saved search alert %s could not be sent", search.pk)
        SavedSearch.objects.filter(pk=search.pk, last_checked_at=now).update(last_checked_at=since)
        return False
    SavedSearch.objects.filter(pk=search.pk).update(last_notified_at=now)
    return True


def saved_search_alerts_send(now: datetime | None = None) -> int:
    """Email every saved search's new jobs; returns how many emails were sent.

    ``now`` is the clock (default: the current time); jobs published up to
    ``now - PUBLISH_GRACE`` are considered.
    """
    now = (now or timezone.now()) - PUBLISH_GRACE
    searches = (
        SavedSearch.objects.filter(
            notify=True,
            last_checked_at__lt=now,
            user__is_active=True,
            user__suspended_at__isnull=True,
            user__deleted_at__isnull=True,
        )
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for search in searches.iterator(chunk_size=200):
        if _alert(search, now):
            sent += 1
    return sent
