"""HTML views of events: the list (upcoming and past), an event, register, cancel and the
.ics calendar file. Unpublished events are a 404 for everyone; registering and cancelling
need an account.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.types import AuthedRequest

from .. import events as event_services


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    upcoming = event_services.upcoming_events()
    past = event_services.past_events()
    context = {
        "upcoming": upcoming,
        "past": past,
        "registered_ids": event_services.registered_event_ids(user=request.user, events=upcoming),
        "timezone_name": event_services.viewer_timezone_name(request.user),
    }
    return render(request, "community/events/list.html", context)


@require_GET
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_services.event_get_published(slug=slug)
    view = event_services.event_view(event=event, viewer=request.user)
    return render(request, "community/events/detail.html", {"event": event, "view": view})


@login_required
@require_POST
def event_register(request: AuthedRequest, slug: str) -> HttpResponse:
    event = event_services.event_get_published(slug=slug)
    try:
        event_services.event_register(actor=request.user, event_id=event.pk)
    except ApplicationError as error:
        if error.status_code == 403:
            raise
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"You are registered for “{event.title}”. We'll remind you a day and an hour before."
        )
    return redirect("community:event_detail", slug=event.slug)


@login_required
@require_POST
def event_cancel(request: AuthedRequest, slug: str) -> HttpResponse:
    event = event_services.event_get_published(slug=slug)
    try:
        event_services.event_cancel(actor=request.user, event_id=event.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your registration is cancelled and your seat is free for someone else.")
    return redirect("community:event_detail", slug=event.slug)


@require_GET
def event_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_services.event_get_published(slug=slug)
    body = event_services.event_ics(event=event, viewer=request.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
