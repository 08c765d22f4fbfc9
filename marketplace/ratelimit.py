"""Rate limits for sign-in, sign-up, password reset, proposals, messages and money.

One mechanism for HTML pages and the API: ``RateLimitMiddleware`` looks the matched URL
name up in ``ROUTES`` and, for writes (POST, PUT, PATCH, DELETE), counts the request
against that scope's limits from ``settings.RATE_LIMITS``. Counters live in the cache
(Redis when REDIS_URL is set), one per fixed window. Over a limit the answer is 429 with a
``Retry-After`` header and a message saying what was limited and when to try again: the
``{"message", "code", "extra"}`` envelope for the API, the 429 page for browsers.

allauth's own limits (failed sign-ins per account, confirmation emails) and django-axes'
lock-out after repeated failures stay in place underneath.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from .net import client_ip
from .security import MONEY_ACTIONS, UNSAFE_METHODS, log_event

# URL name -> scope in settings.RATE_LIMITS. tests/marketplace/test_ratelimits.py checks
# that every name here still resolves, so a renamed route cannot silently lose its limit.
ROUTES: dict[str, str] = {
    "account_login": "login",
    "api_token": "login",
    "account_signup": "signup",
    "account_reset_password": "password_reset",
    "proposals:apply": "proposal",
    "api_proposals": "proposal",
    "proposals:edit_bid": "proposal",
    "api_proposal_bid": "proposal",
    "messaging:send": "message",
    "messaging:attachment_upload": "message",
    "api_conversation_messages": "message",
    "api_conversation_attachments": "message",
    "proposals:message": "message",
    "api_proposal_message": "message",
    **dict.fromkeys(MONEY_ACTIONS, "money"),
}

# What the message calls each scope: "Too many <what> ...".
SCOPE_TEXT = {
    "login": "sign-in attempts",
    "signup": "sign-ups from your network",
    "password_reset": "password reset requests",
    "proposal": "proposals",
    "message": "messages",
    "money": "payment actions",
    "help_feedback": 'answers to "Was this article helpful?"',
}

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*/\s*(ip|user)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    period_seconds: int
    key: str  # "ip" or "user"


def parse_rates(text: str) -> list[Rate]:
    """``"10/m/user,60/h/user"`` -> rates. Raises ValueError on a malformed entry."""
    rates = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = _RATE.match(part)
        if match is None:
            raise ValueError(f"bad rate limit {part!r}: expected <count>/<period>/<ip|user>, e.g. 10/m/user")
        count, multiple, unit, key = match.groups()
        rates.append(Rate(int(count), int(multiple or 1) * _PERIODS[unit], key))
    return rates


def _identity(request: HttpRequest, key: str) -> str:
    if key == "user":
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"u{user.pk}"
        # API token callers are not authenticated yet at this point (DRF does it in the
        # view): count per token; an invalid token is refused by the view anyway.
        auth = request.headers.get("Authorization", "")
        if auth.startswith(("Token ", "Bearer ")):
            return "t" + hashlib.sha256(auth.encode()).hexdigest()[:24]
    return f"ip{client_ip(request)}"


def hit(request: HttpRequest, scope: str, now: float | None = None) -> int:
    """Count one request against ``scope``; 0 when allowed, else seconds until it is.

    Every window of the scope is counted (so a burst held back by the per-minute limit
    still counts towards the hourly one).
    """
    return _count(scope, lambda key: _identity(request, key), now)


def hit_user(user_id: int, scope: str, now: float | None = None) -> int:
    """``hit`` for callers without an HTTP request (the chat websocket): counted per user,
    in the same buckets as the user's HTTP requests."""
    return _count(scope, lambda key: f"u{user_id}", now)


def _count(scope: str, identity: Callable[[str], str], now: float | None) -> int:
    if not getattr(settings, "RATE_LIMIT_ENABLED", True):
        return 0
    now = time.time() if now is None else now
    wait = 0
    for rate in parse_rates(settings.RATE_LIMITS.get(scope, "")):
        window = int(now // rate.period_seconds)
        cache_key = f"rl:{scope}:{rate.count}/{rate.period_seconds}:{identity(rate.key)}:{window}"
        cache.add(cache_key, 0, timeout=rate.period_seconds + 1)
        try:
            used = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=rate.period_seconds + 1)
            used = 1
        if used > rate.count:
            wait = max(wait, math.ceil((window + 1) * rate.period_seconds - now))
    return wait


def limit_message(scope: str, wait_seconds: int) -> str:
    return (
        f"Too many {SCOPE_TEXT.get(scope, 'requests')} in a short time. "
        f"Please wait {_in_words(wait_seconds)} and try again."
    )


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{max(seconds, 1)} seconds"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def limited_response(request: HttpRequest, scope: str, wait_seconds: int) -> HttpResponse:
    """The 429: JSON envelope for the API (and JSON callers), the 429 page otherwise."""
    message = limit_message(scope, wait_seconds)
    response: HttpResponse
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(
            {
                "message": message,
                "code": "rate_limited",
                "extra": {"scope": scope, "retry_after_seconds": wait_seconds},
            },
            status=429,
        )
    else:
        response = render(
            request, "429.html", {"message": message, "retry_after_seconds": wait_seconds}, status=429
        )
    response["Retry-After"] = str(wait_seconds)
    return response


class RateLimitMiddleware:
    """Applies ``ROUTES`` to every write request (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple,
        view_kwargs: dict,
    ) -> HttpResponseBase | None:
        if request.method not in UNSAFE_METHODS or request.resolver_match is None:
            return None
        scope = ROUTES.get(request.resolver_match.view_name)
        if scope is None:
            return None
        wait = hit(request, scope)
        if not wait:
            return None
        log_event(
            "rate_limited",
            outcome="denied",
            request=request,
            scope=scope,
            object=request.resolver_match.view_name,
            retry_after_seconds=wait,
        )
        return limited_response(request, scope, wait)
