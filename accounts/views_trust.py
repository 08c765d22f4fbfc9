"""Thin views of trust and safety: ID submission, the private ID document, the staff
dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.types import AuthedRequest
from messaging import downloads

from . import fraud, staff_stats, trust
from .forms import DeleteAccountForm, NameForm
from .forms_trust import IdentityForm
from .models import User

CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def identity_context(user: User, form: IdentityForm | None = None) -> dict[str, Any]:
    """What the settings page's identity section needs."""
    return {"identity": trust.identity_latest_for_user(user), "identity_form": form or IdentityForm()}


@login_required
@require_POST
def identity_submit(request: AuthedRequest) -> HttpResponse:
    form = IdentityForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            trust.identity_submit(
                actor=request.user,
                document_type=form.cleaned_data["document_type"],
                legal_name=form.cleaned_data["legal_name"],
                country=form.cleaned_data["country"],
                upload=form.cleaned_data["document"],
            )
        except PermissionDeniedError:
            raise  # a suspended account: the 403 page with the reason
        except ApplicationError as error:
            form.add_error("document" if error.code.startswith(("file", "image")) else None, error.message)
        else:
            messages.success(
                request, "Your document was sent. Staff usually review it within two working days."
            )
            return redirect("accounts:settings")
    messages.error(request, "Your document was not sent; see the form below.")
    # the settings page again, with this form's errors in its identity section
    context = {
        "form": NameForm(
            initial={"first_name": request.user.first_name, "last_name": request.user.last_name}
        ),
        "delete_form": DeleteAccountForm(),
        **identity_context(request.user, form),
    }
    return render(request, "accounts/settings.html", context, status=400)


@login_required
@require_GET
def identity_document(request: AuthedRequest, verification_id: int) -> FileResponse:
    """The ID document, to its owner and to staff only (404 for anyone else)."""
    try:
        verification = trust.identity_document_for_viewer(
            viewer=request.user, verification_id=verification_id
        )
    except NotFoundError as error:
        raise Http404(error.message)
    name = verification.document.name or ""
    extension = name[name.rfind(".") :].lower() if "." in name else ""
    response = downloads.file_response(
        verification.document,
        filename=f"identity-{verification.pk}{extension}",
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        inline=request.GET.get("download") != "1",
    )
    response["Cache-Control"] = "private, no-store"  # an ID document is never cached
    return response


@login_required
@require_GET
def staff_dashboard(request: AuthedRequest) -> HttpResponse:
    """Weekly marketplace figures, fraud signals and the staff queues (staff only)."""
    if not request.user.is_staff:
        raise PermissionDenied("The staff dashboard is for staff only.")
    return render(
        request,
        "accounts/staff/dashboard.html",
        {"dashboard": staff_stats.staff_dashboard(), "signals": fraud.fraud_signals()},
    )
