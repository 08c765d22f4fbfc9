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
