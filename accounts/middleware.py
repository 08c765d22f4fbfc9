"""A suspended account is read-only.

The user stays signed in and may read (GET, HEAD, OPTIONS) their dashboard, contracts,
messages, files and invoices; every page shows a banner with the reason
(``templates/account/partials/suspension_banner.html``). Every write is refused before the
view runs: HTML requests get a 403 page saying why, API requests the error envelope with
code ``account_suspended`` (token-authenticated API calls are refused by
``accounts.permissions.NotSuspended``, which DRF applies after this).

The exceptions are signing out and handing over work owed on contracts: uploading a file
in a contract's conversation, sharing a contract file and submitting a funded milestone.
Their services check the narrower rule themselves (``accounts.services.suspended_handover``,
``messaging.services``), so a URL on this list is not a way around the suspension.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# view names (namespace:name) a suspended user may still post to
HANDOVER_VIEWS = frozenset(
    {
        "account_logout",
        "messaging:attachment_upload",  # a file for the contract's conversation (JavaScript)
        "messaging:send",  # the composer's form post: files only (messaging.services)
        "contracts:file_upload",
        "contracts:milestone_submit",
    }
)


def suspension_message(user: Any) -> str:
    return f"Your account is suspended: {user.get_suspension_reason_display() or 'no reason given'}."


class SuspendedUserMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "is_suspended", False):
            return None
        if request.method in SAFE_METHODS:
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name in HANDOVER_VIEWS:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "message": suspension_message(user) + " You can read but not change anything.",
                    "code": "account_suspended",
                    "extra": {"reason": user.suspension_reason},
                },
                status=403,
            )
        return render(request, "account/suspended_readonly.html", {"suspended_user": user}, status=403)
