"""``Idempotency-Key`` for mutating API endpoints (money endpoints of every app).

A client that may retry (a timeout, a flaky network) sends ``Idempotency-Key: <key>``.
The first request with a key runs and its answer is stored (``IdempotencyRecord``, unique
per user and key); a retry with the same key and the same body gets the stored answer
again (``Idempotent-Replayed: true``) with no second effect; the same key with another
body is refused with 422; while the first is still running, 409. Answers of 5xx (and
crashes) are not stored, so the client may retry them. Records expire after 24 hours.

Use the decorator on an APIView method, or the mixin for every write method::

    class WithdrawalCreateApi(IdempotentMixin, APIView):
        def post(self, request): ...

    class MilestoneFundApi(APIView):
        @idempotent
        def post(self, request, milestone_id): ...
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace.errors import ApplicationError, ConflictError

from .models import IdempotencyRecord

if TYPE_CHECKING:
    from accounts.models import User

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional, up to 255 characters. Retrying with the same key and body returns the first "
        "answer without doing it twice; the same key with another body answers 422."
    ),
)


class IdempotencyKeyReusedError(ApplicationError):
    code = "idempotency_key_reused"
    status_code = 422


class IdempotencyKeyInProgressError(ConflictError):
    code = "idempotency_key_in_progress"


def _plain(data: Any) -> Any:
    if isinstance(data, QueryDict):
        return {key: data.getlist(key) for key in sorted(data.keys())}
    return data


def fingerprint(request: Request) -> str:
    body = json.dumps(_plain(request.data), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _claim(request: Request, key: str, print_: str) -> tuple[IdempotencyRecord, bool]:
    user = cast("User", request.user)
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                return (
                    IdempotencyRecord.objects.create(
                        user=user,
                        key=key,
                        method=request.method or "",
                        path=request.path[:300],
                        fingerprint=print_,
                    ),
                    True,
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if record is None:
                continue  # deleted meanwhile (a failed first attempt): try to claim again
            if record.created_at < now - TTL:
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                continue
            return record, False
    raise IdempotencyKeyInProgressError(
        "A request with this Idempotency-Key is still in progress; retry shortly."
    )


def _replay(record: IdempotencyRecord, print_: str) -> Response:
    if record.fingerprint != print_:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request.",
            extra={"key": record.key},
        )
    if record.completed_at is None or record.status_code is None:
        raise IdempotencyKeyInProgressError(
            "A request with this Idempotency-Key is still in progress; retry shortly."
        )
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap an APIView handler (``post``/``put``/``patch``/``delete``) with Idempotency-Key."""
    if getattr(view_method, "_idempotent", False):
        return view_method

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = (request.headers.get(HEADER) or "").strip()
        if not key or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if len(key) > 255 or not key.isprintable():
            raise ApplicationError(
                f"{HEADER} must be 1 to 255 printable characters.", code="invalid_idempotency_key"
            )
        print_ = fingerprint(request)
        record, created = _claim(request, key, print_)
        if not created:
            return _replay(record, print_)
        try:
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:
                response = self.handle_exception(exc)  # re-raises what is not an API error
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response_body=body, completed_at=timezone.now()
        )
        return response

    wrapper._idempotent = True  # type: ignore[attr-defined]
    return wrapper


class IdempotentMixin:
    """Apply ``idempotent`` to every write method the view class defines."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("post", "put", "patch", "delete"):
            method = cls.__dict__.get(name)
            if method is not None:
                setattr(cls, name, idempotent(method))


def purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
