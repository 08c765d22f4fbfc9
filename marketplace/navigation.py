"""The figures of the navigation bar on every signed-in page, in one query: unread
messages and notifications (messaging) and a freelancer's Connects balance (proposals)."""

from __future__ import annotations

from collections.abc import Sequence
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


# the columns of ``navigation_queryset`` that make the figures (``figures_from_row``)
NAVIGATION_COLUMNS = ("messages", "notes", "connects_is_freelancer", "connects_wallet_balance")


def navigation_queryset(user_id: int) -> QuerySet[User]:
    """The user's row annotated with the figures' columns (``NAVIGATION_COLUMNS``): a page
    that needs more of the user's figures annotates it further and reads them in the same
    query (the signed-in search page: its saved jobs)."""
    return User.objects.filter(pk=user_id).annotate(**badge_annotations(), **connects_annotations())


def figures_from_row(row: Sequence[Any] | None) -> NavigationFigures:
    """The figures from the ``NAVIGATION_COLUMNS`` of a row (None: the user is gone)."""
    if row is None:
        return NavigationFigures(0, 0, None)
    messages, notes, is_freelancer, wallet = row
    return NavigationFigures(int(messages), int(notes), connects_shown(is_freelancer, wallet))


def _navigation_query(user_id: int) -> QuerySet[Any, Any]:
    return navigation_queryset(user_id).values_list(*NAVIGATION_COLUMNS)


# on every signed-in page: compiled once per process (marketplace.prepared)
_NAVIGATION = PreparedQuery(_navigation_query)


def navigation_figures(*, user: User) -> NavigationFigures:
    rows = _NAVIGATION.rows(user_id=user.pk)
    return figures_from_row(rows[0] if rows else None)
