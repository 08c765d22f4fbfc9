"""The figures of the navigation bar on every signed-in page, in one query: unread
messages and notifications (messaging) and a freelancer's Connects balance (proposals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from messaging.selectors import badge_annotations
from proposals.selectors import connects_annotations, connects_shown

from .prepared import PreparedQuery


@dataclass(frozen=True)
class NavigationFigures:
    messages: int
    notifications: int
    connects: int | None  # None: not a freelancer


def _navigation_query(user_id: int) -> QuerySet[Any, Any]:
    return (
        User.objects.filter(pk=user_id)
        .annotate(**badge_annotations(), **connects_annotations())
        .values_list("messages", "notes", "connects_is_freelancer", "connects_wallet_balance")  # type: ignore[misc]
    )


# on every signed-in page: compiled once per process (marketplace.prepared)
_NAVIGATION = PreparedQuery(_navigation_query)


def navigation_figures(*, user: User) -> NavigationFigures:
    rows = _NAVIGATION.rows(user_id=user.pk)
    if not rows:
        return NavigationFigures(0, 0, None)
    messages, notes, is_freelancer, wallet = rows[0]
    return NavigationFigures(int(messages), int(notes), connects_shown(is_freelancer, wallet))
