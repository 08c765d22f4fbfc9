"""The navigation badges: unread chat messages and unread notifications (two queries)."""

from __future__ import annotations

from django.http import HttpRequest

from . import selectors


def unread(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "messaging_unread": selectors.unread_total(user=user),
        "notifications_unread": selectors.notification_unread_count(user_id=user.pk),
    }
