"""Thin views of the moderation queue: the report form any signed-in user fills in about a
piece of content, and the staff page listing the queue with its actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.redirects import back_url
from marketplace.types import AuthedRequest

from . import moderation
from . import moderation_registry as registry
from .forms_moderation import STAFF_ACTIONS, ModerationActionForm, ReportForm
from .models import ModerationDecision

Decision = ModerationDecision.Action


def _content_or_404(label: str, object_id: Any) -> tuple[Any, registry.Moderated]:
    try:
        obj = moderation.content_lookup(label, object_id)
    except ApplicationError:
        raise Http404("No such content.")
    entry = registry.entry_for(type(obj))
    if entry is None:
        raise Http404("No such content.")
    return obj, entry


def _back_url(request: AuthedRequest, entry: registry.Moderated, obj: Any) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    url = moderation._safe_url(entry, obj)
    return back_url(
        request,
        request.POST.get("next") or request.GET.get("next"),
        referer if "/report/" not in referer else None,
        default=url if url and not url.startswith("/admin/") else "/dashboard/",
        require_https=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report(request: AuthedRequest, label: str, object_id: int) -> HttpResponse:
    """Report a job, service, profile, message, review... (``label`` is "app.model")."""
    obj, entry = _content_or_404(label, object_id)
    if not moderation.can_view(entry, obj, request.user):
        raise Http404("No such content.")
    owner = entry.owner(obj)
    if owner is not None and owner.pk == request.user.pk:
        raise PermissionDenied(f"You cannot report your own {entry.label}.")
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.flag_create(
                actor=request.user,
                obj=obj,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            if error.status_code == 404:
                raise Http404(error.message)
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Thank you: staff will review this {entry.label}. The author is not told who reported it.",
            )
            return redirect(_back_url(request, entry, obj))
    context = {
        "form": form,
        "label": entry.label,
        "snapshot": entry.snapshot(obj),
        "next": _back_url(request, entry, obj),
    }
    return render(request, "accounts/moderation/report.html", context, status=400 if form.errors else 200)


@staff_member_required
@require_http_methods(["GET"])
def queue(request: AuthedRequest) -> HttpResponse:
    """The queue grouped by content, oldest report first, each with its actions."""
    items = moderation.queue_items()
    forms = {action: ModerationActionForm(action=action) for action in STAFF_ACTIONS}
    actions = [
        (action, Decision(action).label, forms[action])
        for action in (Decision.DISMISS, Decision.HIDE, Decision.WARN, Decision.SUSPEND)
    ]
    return render(
        request,
        "accounts/moderation/queue.html",
        {"items": items, "actions": actions, "unhide_form": forms[Decision.UNHIDE]},
    )


@staff_member_required
@require_POST
def act(request: AuthedRequest, label: str, object_id: int) -> HttpResponse:
    """One staff action on one piece of content (a form of the queue page)."""
    obj, entry = _content_or_404(label, object_id)
    action = request.POST.get("decision", "")
    if action not in STAFF_ACTIONS:
        messages.error(request, "Choose an action.")
        return redirect("accounts:moderation_queue")
    form = ModerationActionForm(request.POST, action=action)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"{Decision(action).label}: {errors[0]}")
        return redirect("accounts:moderation_queue")
    try:
        outcome = moderation.moderate(
            actor=request.user,
            action=action,
            obj=obj,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        closed = outcome.flags_resolved
        messages.success(
            request,
            f"{Decision(action).label} ({entry.label}); {closed} report{'s' if closed != 1 else ''} closed.",
        )
    return redirect("accounts:moderation_queue")
