"""Streaming a stored chat file to a participant, with headers that keep the browser from
running or sniffing it."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404


def file_response(field: Any, *, filename: str, content_type: str, inline: bool) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.")
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # an HTML or SVG file opened directly could otherwise run script on our origin
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
