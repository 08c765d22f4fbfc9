"""Template helpers of payments: the dashboard's 12-month money chart and amounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from marketplace.money import format_cents

from .. import history

register = template.Library()

# The SVG's coordinate box (it scales to its container with CSS).
WIDTH = 600
HEIGHT = 220
TOP = 20
BOTTOM = 30  # room for the month labels
LEFT = 10
SLOT = (WIDTH - 2 * LEFT) // 12
BAR = SLOT - 12


@register.filter
def cents_negate(value: int | None) -> str:
    """``1234`` -> ``-$12.34`` (a client's spend shown as a positive total)."""
    return format_cents(-int(value or 0)) if value is not None else ""


@dataclass(frozen=True)
class Bar:
    label: str  # "Nov"
    long_label: str  # "Nov 2026"
    title: str  # "November 2026: $12.34"
    cents: int
    x: int
    y: int
    height: int
    label_x: int


def chart_bars(totals: list[history.MonthTotal]) -> list[Bar]:
    """Integer bar geometry: the tallest bar fills the plot; negatives (refund-only
    months) draw as zero height."""
    plot = HEIGHT - TOP - BOTTOM
    peak = max([t.cents for t in totals] + [0])
    bars = []
    for index, total in enumerate(totals):
        height = (max(total.cents, 0) * plot + peak // 2) // peak if peak > 0 else 0
        if total.cents > 0 and height == 0:
            height = 1  # a small amount is still visible
        x = LEFT + index * SLOT + (SLOT - BAR) // 2
        bars.append(
            Bar(
                label=total.month.strftime("%b"),
                long_label=total.month.strftime("%b %Y"),
                title=f"{total.month:%B %Y}: {format_cents(total.cents)}",
                cents=total.cents,
                x=x,
                y=TOP + plot - height,
                height=height,
                label_x=x + BAR // 2,
            )
        )
    return bars


@register.inclusion_tag("payments/_money_chart.html", takes_context=True)
def money_chart(context: dict[str, Any], role: str = "freelancer") -> dict[str, Any]:
    """The last 12 months of earnings (freelancer) or spend (client) as an SVG bar chart
    rendered on the server, with the same numbers as a table."""
    user = context["request"].user
    role = "client" if role == "client" else "freelancer"
    totals = history.monthly_totals(user, role=role)
    return {
        "role": role,
        "title": "Earnings" if role == "freelancer" else "Spend",
        "bars": chart_bars(totals),
        "total_cents": sum(t.cents for t in totals),
        "empty": not any(t.cents for t in totals),
        "width": WIDTH,
        "height": HEIGHT,
        "bar_width": BAR,
        "baseline": HEIGHT - BOTTOM,
        "label_y": HEIGHT - BOTTOM + 16,
    }
