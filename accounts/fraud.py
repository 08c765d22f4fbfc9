"""Fraud signals for staff: read-only selectors over several apps' tables.

Each signal is one aggregate query (two for sign-ups per IP) that lists the users whose
figure reached the threshold set in settings (``FRAUD_*``). Nothing is decided
automatically: staff look at the user and act through the admin.

The tables of apps above ``accounts`` (jobs, proposals, messaging, payments) are resolved
with ``apps.get_model`` so that ``accounts`` imports none of them (see DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.urls import reverse
from django.utils import timezone

from .models import User


@dataclass(frozen=True)
class SignalRow:
    user_id: int
    email: str
    figure: int  # what the user did in the window (jobs, proposals, messages, declines, sign-ups)
    detail: str = ""  # e.g. the IP address

    @property
    def admin_url(self) -> str:
        return reverse("admin:accounts_user_change", args=[self.user_id])


@dataclass(frozen=True)
class Signal:
    key: str
    title: str
    explanation: str  # what the figure counts, with the window
    threshold: int
    rows: list[SignalRow] = field(default_factory=list)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def new_accounts_posting_jobs(*, now: datetime | None = None) -> Signal:
    """Accounts younger than FRAUD_NEW_ACCOUNT_DAYS that posted FRAUD_NEW_ACCOUNT_JOBS jobs
    or more (drafts count: a burst of drafts is as telling)."""
    days = settings.FRAUD_NEW_ACCOUNT_DAYS
    threshold = settings.FRAUD_NEW_ACCOUNT_JOBS
    cutoff = _now(now) - timedelta(days=days)
    rows = (
        User.objects.filter(date_joined__gte=cutoff)
        .annotate(figure=Count("jobs"))
        .filter(figure__gte=threshold)
        .order_by("-figure", "pk")
        .values_list("pk", "email", "figure")
    )
    return Signal(
        key="new_account_jobs",
        title="New accounts posting many jobs",
        explanation=f"Jobs posted by accounts younger than {days} days",
        threshold=threshold,
        rows=[SignalRow(user_id=pk, email=email, figure=figure) for pk, email, figure in rows],
    )


def rapid_proposals(*, now: datetime | None = None) -> Signal:
    """Freelancers who sent FRAUD_PROPOSALS_PER_MINUTE proposals or more within one clock
    minute in the last FRAUD_PROPOSALS_WINDOW_HOURS hours; the figure is their busiest
    minute."""
    hours = settings.FRAUD_PROPOSALS_WINDOW_HOURS
    threshold = settings.FRAUD_PROPOSALS_PER_MINUTE
    proposal_model = apps.get_model("proposals", "Proposal")
    cutoff = _now(now) - timedelta(hours=hours)
    minutes = (
        proposal_model.objects.filter(created_at__gte=cutoff)
        .annotate(minute=TruncMinute("created_at"))
        .values("freelancer_id", "freelancer__email", "minute")
        .annotate(figure=Count("id"))
        .filter(figure__gte=threshold)
        .order_by()
    )
    busiest: dict[int, SignalRow] = {}
    for row in minutes:
        current = busiest.get(row["freelancer_id"])
        if current is None or row["figure"] > current.figure:
            busiest[row["freelancer_id"]] = SignalRow(
                user_id=row["freelancer_id"],
                email=row["freelancer__email"],
                figure=row["figure"],
                detail=f"{row['minute']:%Y-%m-%d %H:%M} UTC",
            )
    return Signal(
        key="rapid_proposals",
        title="Many proposals per minute",
        explanation=f"Most proposals sent within one minute, last {hours} hours",
        threshold=threshold,
        rows=sorted(busiest.values(), key=lambda r: (-r.figure, r.user_id)),
    )


def _count_by_user(queryset, *, user_field: str, threshold: int) -> list[SignalRow]:
    rows = (
        queryset.values(user_field, f"{user_field}__email")
        .annotate(figure=Count("id"))
        .filter(figure__gte=threshold)
        .order_by("-figure", user_field)
    )
    return [
        SignalRow(user_id=row[user_field], email=row[f"{user_field}__email"], figure=row["figure"])
        for row in rows
    ]


def off_platform_messages(*, now: datetime | None = None) -> Signal:
    """Senders of FRAUD_OFF_PLATFORM_MESSAGES chat messages or more that the off-platform
    filter flagged (the sender saw a warning each time) in the window."""
    days = settings.FRAUD_OFF_PLATFORM_WINDOW_DAYS
    threshold = settings.FRAUD_OFF_PLATFORM_MESSAGES
    message_model = apps.get_model("messaging", "Message")
    cutoff = _now(now) - timedelta(days=days)
    queryset = message_model.objects.filter(
        flagged_off_platform=True, created_at__gte=cutoff, sender__isnull=False
    )
    return Signal(
        key="off_platform",
        title="Repeated off-platform payment warnings",
        explanation=f"Messages flagged as off-platform, last {days} days",
        threshold=threshold,
        rows=_count_by_user(queryset, user_field="sender", threshold=threshold),
    )


def payment_declines(*, now: datetime | None = None) -> Signal:
    """Payers with FRAUD_PAYMENT_DECLINES failed card charges or more in the window
    (card testing and stolen cards show up as runs of declines)."""
    days = settings.FRAUD_PAYMENT_DECLINES_WINDOW_DAYS
    threshold = settings.FRAUD_PAYMENT_DECLINES
    charge_model = apps.get_model("payments", "Charge")
    cutoff = _now(now) - timedelta(days=days)
    queryset = charge_model.objects.filter(status="failed", created_at__gte=cutoff)
    return Signal(
        key="payment_declines",
        title="Payment declines",
        explanation=f"Failed card charges, last {days} days",
        threshold=threshold,
        rows=_count_by_user(queryset, user_field="payer", threshold=threshold),
    )


def signups_per_ip(*, now: datetime | None = None) -> Signal:
    """Accounts created from an IP address that FRAUD_SIGNUPS_PER_IP accounts or more signed
    up from in the window; every such account is listed, with the address."""
    days = settings.FRAUD_SIGNUPS_PER_IP_WINDOW_DAYS
    threshold = settings.FRAUD_SIGNUPS_PER_IP
    cutoff = _now(now) - timedelta(days=days)
    recent = User.objects.filter(date_joined__gte=cutoff, signup_ip__isnull=False)
    crowded = dict(
        recent.values("signup_ip")
        .annotate(figure=Count("id"))
        .filter(figure__gte=threshold)
        .order_by()
        .values_list("signup_ip", "figure")
    )
    rows = []
    if crowded:
        users = recent.filter(signup_ip__in=list(crowded)).order_by("signup_ip", "pk")
        rows = [
            SignalRow(user_id=pk, email=email, figure=crowded[ip], detail=str(ip))
            for pk, email, ip in users.values_list("pk", "email", "signup_ip")
        ]
    return Signal(
        key="signups_per_ip",
        title="Sign-ups from one IP address",
        explanation=f"Accounts created from the same address, last {days} days",
        threshold=threshold,
        rows=sorted(rows, key=lambda r: (-r.figure, r.detail, r.user_id)),
    )


def fraud_signals(*, now: datetime | None = None) -> list[Signal]:
    """Every signal, in the order the staff dashboard shows them (six queries in all)."""
    return [
        new_accounts_posting_jobs(now=now),
        rapid_proposals(now=now),
        off_platform_messages(now=now),
        payment_declines(now=now),
        signups_per_ip(now=now),
    ]
