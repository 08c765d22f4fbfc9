from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .errors import ApplicationError, null_character, number_too_large
from .redirects import redirect_back


def _has_null_character(request: HttpRequest) -> bool:
    """A submitted form field (not a file) holds U+0000, which PostgreSQL refuses to store:
    a view that hands a field to a service without a form would meet it only in the
    database, as a 500 (the service catalog's order forms did)."""
    return any("\x00" in value for values in request.POST.lists() for value in values[1])


class ApplicationErrorMiddleware:
    """Show an ``ApplicationError`` escaping an HTML view as a message, never a 500.

    Views normally catch the error next to the form they render; this is the safety net:
    the user goes back to where they came from with the message on screen (or gets the
    JSON envelope when they asked for JSON). A form whose text holds a null character is
    refused here before its view runs (``null_character``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        # here rather than in __call__: after the CSRF check (an earlier middleware's
        # process_view) and inside the rate limits and the audit, as any view is
        if request.method == "POST" and _has_null_character(request):
            return _answer(request, null_character())
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):  # an id too large for the database (SQLite)
            exception = number_too_large()
        if not isinstance(exception, ApplicationError):
            return None
        return _answer(request, exception)


def _answer(request: HttpRequest, exception: ApplicationError) -> HttpResponse:
    """The JSON envelope for API callers; else the error page (403, 404) or the message on
    the page the user came from."""
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {"message": exception.message, "code": exception.code, "extra": exception.extra},
            status=exception.status_code,
        )
    if exception.status_code in (403, 404):
        # Not yours or not there: the error page, with the status that says so.
        template = "errors/404.html" if exception.status_code == 404 else "errors/403.html"
        return render(request, template, {"error_message": exception.message}, status=exception.status_code)
    messages.error(request, exception.message)
    return redirect_back(request, request.headers.get("Referer"), default="home", require_https=False)
