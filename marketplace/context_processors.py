from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """Site name and the signed-in user's active role, for the navigation bar."""
    user = getattr(request, "user", None)
    role = getattr(user, "active_role", "") if user is not None and user.is_authenticated else ""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "active_role": role,
        "FREELANCER_FEE_PERCENT": f"{settings.FREELANCER_SERVICE_FEE_BPS / 100:g}",
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation's badges and Connects balance for a signed-in user (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .navigation import navigation_figures

    figures = navigation_figures(user=user)
    return {
        "messaging_unread": figures.messages,
        "notifications_unread": figures.notifications,
        "nav_connects": figures.connects,
    }
