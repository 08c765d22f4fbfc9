"""The time panel of an hourly contract's page: ``{% time_panel contract user %}`` renders
``contracts/_timer.html`` (the timer for the freelancer, this week's figures for both)."""

from __future__ import annotations

from typing import Any

from django import template

from .. import timetracking

register = template.Library()


@register.inclusion_tag("contracts/_timer.html", takes_context=True)
def time_panel(context: template.Context, contract: Any, user: Any, next_url: str = "") -> dict[str, Any]:
    panel = timetracking.time_panel(contract=contract, viewer=user) if contract.is_hourly else None
    return {
        "panel": panel,
        "contract": contract,
        "next": next_url,
        "csrf_token": context.get("csrf_token"),  # the panel's forms post
        "request": context.get("request"),
    }
