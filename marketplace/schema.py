"""The OpenAPI schema class: drf-spectacular's, plus the error answers every operation can
give. Every 4xx of the API is the same envelope (``marketplace.errors``), so the schema
documents it once here instead of in each ``extend_schema``: 400 (bad input, a bad cursor or
page), 403 (not signed in, suspended, not allowed), 404 (no such object, or one the caller
may not see), 415 where a request body is read (a body in a media type the operation does
not parse, or none at all), 429 where a throttle applies, and 409/422 where an ``Idempotency-Key`` is
accepted (still running / reused with another body). Codes a view documents itself keep
its own description."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiErrorSerializer(serializers.Serializer):
    """The error envelope of every 4xx answer."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField()


class AutoSchema(SpectacularAutoSchema):
    def get_paginated_name(self, serializer_name: str) -> str:
        """One component per pagination style: the same serializer listed with a cursor in
        one view and by page number in another must not share "Paginated<X>List"."""
        paginator = self._get_paginator()
        style = ""
        if isinstance(paginator, CursorPagination):
            style = "Cursor"
        elif isinstance(paginator, LimitOffsetPagination):
            style = "LimitOffset"
        return f"Paginated{serializer_name}{style}List"

    def _error_codes(self) -> list[str]:
        codes = ["400", "403", "404"]
        if self.method.upper() in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        handler = getattr(self.view, self.method.lower(), None)
        parameters = self.get_override_parameters()
        if getattr(handler, "_idempotent", False) or any(
            getattr(p, "name", None) == IDEMPOTENCY_HEADER for p in parameters
        ):
            codes += ["409", "422"]
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ApiErrorSerializer, code, direction=direction)
        return responses
