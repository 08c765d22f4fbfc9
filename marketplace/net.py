"""The client's IP address, for lock-outs, rate limits and security logs."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address our own proxies saw when TRUSTED_PROXY_COUNT > 0.

    Behind N trusted proxies the client is the N-th address from the right of
    X-Forwarded-For; anything further left was written by the client and is not trusted.
    """
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if count <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) >= count:
        return forwarded[-count]
    return remote


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a login attempt was for, whichever form or API sent it (for django-axes)."""
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        value = credentials.get(key)
        if value:
            return str(value).strip().lower()
    posted = request.POST.get("login") if request is not None and request.method == "POST" else None
    return posted.strip().lower() if posted else None


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None):
    """django-axes' answer to a locked-out login: the error envelope for the API, the
    lock-out page for browsers; 429 either way, with the cool-off in minutes."""
    from django.http import JsonResponse
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed sign-in attempts. Try again in {minutes} minutes or reset your password."
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": message, "code": "locked_out", "extra": {"retry_after_minutes": minutes}}, status=429
        )
    return render(
        request, "account/lockout.html", {"cooloff_minutes": minutes, "message": message}, status=429
    )
