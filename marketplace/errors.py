"""Application errors and the API's error envelope.

Services raise ``ApplicationError`` (or a subclass with its own ``code``) for anything the
user can fix or must be told. The API answers every error as
``{"message": str, "code": str, "extra": dict}`` with a 4xx status; HTML views show the
message (see ``marketplace.middleware.ApplicationErrorMiddleware``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler


class ApplicationError(Exception):
    """A domain error with a stable machine-readable code and an HTTP status."""

    code = "invalid"
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


def field_error(message: str, code: str, field_name: str | None = None, **extra: Any) -> ApplicationError:
    """An ApplicationError about one input field (``extra["field"]``), so forms and the API
    can show it next to that field."""
    if field_name:
        extra["field"] = field_name
    return ApplicationError(message, code=code, extra=extra)


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN


class NotFoundError(ApplicationError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(ApplicationError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT


def _flatten_detail(detail: Any) -> tuple[str, dict[str, Any]]:
    """Turn DRF's nested error detail into a headline message and a field map."""
    if isinstance(detail, dict):
        fields: dict[str, Any] = {}
        first = ""
        for key, value in detail.items():
            text = _as_text(value)
            fields[key] = value if isinstance(value, list | dict) else [str(value)]
            if not first:
                first = text if key in ("non_field_errors", "detail") else f"{key}: {text}"
        return first or "Invalid input.", {"fields": fields}
    if isinstance(detail, list):
        return (_as_text(detail) or "Invalid input."), {}
    return str(detail), {}


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return _as_text(value[0]) if value else ""
    if isinstance(value, dict):
        return _as_text(next(iter(value.values()))) if value else ""
    return str(value)


def number_too_large() -> ApplicationError:
    """For a whole number in a URL, a query or a body larger than the database can store:
    PostgreSQL compares it and finds nothing, SQLite's driver raises ``OverflowError``;
    either way the request gets a clear 400, never a 500."""
    return ApplicationError("A number in this request is too large.", code="number_too_large")


def null_character() -> ApplicationError:
    """For text with a null character (U+0000) in a submitted form: PostgreSQL cannot store
    it, and no keyboard types it (a tampered or broken client does), so the whole request is
    refused with a clear 400 before any view sees it."""
    return ApplicationError(
        "Text in this form contains a null character, which cannot be saved. Remove it and try again.",
        code="null_character",
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler answering ``{"message", "code", "extra"}``."""
    from .security import denial_status, log_denial  # security log of permission refusals

    denied = denial_status(exc)
    if denied is not None:
        log_denial(context.get("request"), status=denied, reason=getattr(exc, "message", None) or str(exc))
    if isinstance(exc, OverflowError):  # an id beyond what the database stores (SQLite raises)
        exc = number_too_large()
    if isinstance(exc, ApplicationError):
        return Response(
            {"message": exc.message, "code": exc.code, "extra": exc.extra}, status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_default_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        message, extra = _flatten_detail(exc.detail)
        code = "validation_error"
    else:
        detail = getattr(exc, "detail", str(exc))
        message = _as_text(detail) if isinstance(detail, list | dict) else str(detail)
        codes = exc.get_codes() if isinstance(exc, drf_exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        extra = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf_exceptions.Throttled) and wait is not None:
            extra["retry_after_seconds"] = int(wait)
    response.data = {"message": message, "code": code, "extra": extra}
    return response
