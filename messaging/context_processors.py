"""The navigation badges: unread chat messages and unread notifications (one query)."""

from __future__ import annotations

from django.http import HttpRequest

from . import selectors


def unread(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    messages, notifications = selectors.navigation_badges(user=user)
    return {"messaging_unread": messages, "notifications_unread": notifications}
