"""Admin pages show dates in the staff member's time zone.

The zone is the staff member's freelancer profile's time zone when they have a profile,
else the ``tz`` cookie that ``static/js/timezone_cookie.js`` sets from the browser's
``Intl`` time zone, else UTC. Only admin pages of signed-in staff are affected; the rest
of the site keeps its own rules.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from .models import FreelancerProfile

TZ_COOKIE = "tz"


def zone_or_none(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone called ``name``, or None for an empty, unknown or malformed name."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def staff_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    user = request.user
    profile_zone = (
        FreelancerProfile.objects.filter(user_id=user.pk or 0).values_list("timezone", flat=True).first()
    )
    return (
        zone_or_none(profile_zone) or zone_or_none(request.COOKIES.get(TZ_COOKIE)) or zoneinfo.ZoneInfo("UTC")
    )


class AdminTimezoneMiddleware:
    """Activates the staff member's time zone for admin pages (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._prefix: str | None = None

    def _admin_prefix(self) -> str:
        if self._prefix is None:
            self._prefix = reverse("admin:index")
        return self._prefix

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or not user.is_staff
            or not request.path.startswith(self._admin_prefix())
        ):
            return self.get_response(request)
        timezone.activate(staff_zone(request))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
