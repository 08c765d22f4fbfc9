"""Selectors of the staff dashboard: weekly figures for the last 12 weeks and the queues
waiting for staff.

Each weekly series is one aggregate query grouped by ``TruncWeek`` (weeks start on Monday,
UTC); the counters are one query each, so the page costs a fixed number of queries
whatever the data. Other apps' tables are resolved with ``apps.get_model`` so that
``accounts`` imports none of the apps above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.apps import apps
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from marketplace.money import format_cents

from .models import ContentFlag, IdentityVerification, User

WEEKS = 12

# SVG coordinate box of one chart (scaled by CSS).
WIDTH = 360
HEIGHT = 160
TOP = 14
BOTTOM = 24
LEFT = 6
SLOT = (WIDTH - 2 * LEFT) // WEEKS
BAR = SLOT - 8


@dataclass(frozen=True)
class WeekBar:
    week: date  # the Monday
    value: int
    label: str  # "Nov 3"
    shown: str  # the value as displayed ("$12.34" or "7")
    x: int
    y: int
    height: int
    label_x: int


@dataclass(frozen=True)
class WeeklySeries:
    key: str
    title: str
    money: bool
    bars: list[WeekBar]

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)

    @property
    def total_shown(self) -> str:
        return format_cents(self.total) if self.money else str(self.total)

    @property
    def empty(self) -> bool:
        return not any(b.value for b in self.bars)


@dataclass(frozen=True)
class StaffDashboard:
    series: list[WeeklySeries]
    pending_services: int
    pending_identity: int
    open_reports: int
    open_disputes: int
    width: int = WIDTH
    height: int = HEIGHT
    bar_width: int = BAR
    baseline: int = HEIGHT - BOTTOM
    label_y: int = HEIGHT - BOTTOM + 14


def week_starts(now: datetime | None = None) -> list[date]:
    """The Mondays (UTC) of the last ``WEEKS`` weeks, oldest first, this week last."""
    today = (now or timezone.now()).astimezone(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _weekly(queryset: QuerySet, *, date_field: str, value) -> dict[date, int]:
    """One query: ``value`` aggregated per UTC week of ``date_field``."""
    rows = (
        queryset.annotate(week=TruncWeek(date_field, tzinfo=UTC))
        .values("week")
        .annotate(value=value)
        .order_by("week")
        .values_list("week", "value")
    )
    result: dict[date, int] = {}
    for week, total in rows:
        day = week.date() if isinstance(week, datetime) else week
        result[day] = result.get(day, 0) + int(total or 0)
    return result


def _bars(weeks: list[date], values: dict[date, int], *, money: bool) -> list[WeekBar]:
    plot = HEIGHT - TOP - BOTTOM
    peak = max([values.get(w, 0) for w in weeks] + [0])
    bars = []
    for index, week in enumerate(weeks):
        value = values.get(week, 0)
        height = (max(value, 0) * plot + peak // 2) // peak if peak > 0 else 0
        if value > 0 and height == 0:
            height = 1
        x = LEFT + index * SLOT + (SLOT - BAR) // 2
        bars.append(
            WeekBar(
                week=week,
                value=value,
                label=f"{week:%b} {week.day}",
                shown=format_cents(value) if money else str(value),
                x=x,
                y=TOP + plot - height,
                height=height,
                label_x=x + BAR // 2,
            )
        )
    return bars


def staff_dashboard(*, now: datetime | None = None) -> StaffDashboard:
    """Weekly sign-ups, jobs posted, contracts started, gross volume charged, fees earned and
    disputes opened over the last 12 weeks, and the staff queues (10 queries)."""
    weeks = week_starts(now)
    start = datetime.combine(weeks[0], datetime.min.time(), tzinfo=UTC)
    job_model = apps.get_model("jobs", "Job")
    contract_model = apps.get_model("contracts", "Contract")
    dispute_model = apps.get_model("contracts", "Dispute")
    charge_model = apps.get_model("payments", "Charge")
    posting_model = apps.get_model("payments", "Posting")
    service_model = apps.get_model("jobs", "ServiceListing")

    specs = [
        (
            "signups",
            "Sign-ups",
            False,
            User.objects.filter(date_joined__gte=start),
            "date_joined",
            Count("id"),
        ),
        (
            "jobs",
            "Jobs posted",
            False,
            job_model.objects.filter(published_at__gte=start),
            "published_at",
            Count("id"),
        ),
        (
            "contracts",
            "Contracts started",
            False,
            contract_model.objects.filter(started_at__gte=start),
            "started_at",
            Count("id"),
        ),
        (
            "gross",
            "Gross volume charged",
            True,
            charge_model.objects.filter(status="succeeded")
            .annotate(charged_at=Coalesce("settled_at", "created_at"))
            .filter(charged_at__gte=start),
            "charged_at",
            Sum("amount_cents"),
        ),
        (
            "fees",
            "Fees earned",
            True,
            posting_model.objects.filter(account__kind="platform_fees", created_at__gte=start),
            "created_at",
            Sum("amount_cents"),
        ),
        (
            "disputes",
            "Disputes opened",
            False,
            dispute_model.objects.filter(created_at__gte=start),
            "created_at",
            Count("id"),
        ),
    ]
    series = [
        WeeklySeries(
            key=key,
            title=title,
            money=money,
            bars=_bars(weeks, _weekly(queryset, date_field=date_field, value=value), money=money),
        )
        for key, title, money, queryset, date_field, value in specs
    ]
    return StaffDashboard(
        series=series,
        pending_services=service_model.objects.filter(status="pending").count(),
        pending_identity=IdentityVerification.objects.filter(
            status=IdentityVerification.Status.PENDING
        ).count(),
        open_reports=ContentFlag.objects.filter(status=ContentFlag.Status.OPEN).count(),
        open_disputes=dispute_model.objects.exclude(status="resolved").count(),
    )
