"""Staff review of identity documents. Rows change only through ``accounts.trust``: the
admin lists and shows them read-only, and its actions approve or reject (the rejection asks
for a reason on an intermediate page)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from marketplace.admin_utils import NoWritesMixin, ReadOnlyAdmin
from marketplace.admin_utils import log_admin_action as _log
from marketplace.errors import ApplicationError

from . import trust
from .forms_trust import IdentityRejectForm
from .models import IdentityVerification


class IdentityVerificationInline(NoWritesMixin, admin.TabularInline):
    """The user's ID submissions on the user page (review them from their own admin)."""

    model = IdentityVerification
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("document_type", "legal_name", "country", "status", "submitted_at", "reviewed_at")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        # not on the "add user" page: a new account has no submissions
        return obj is not None and super().has_view_permission(request, obj)


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "legal_name",
        "document_type",
        "country",
        "status",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "document_link",
    )
    list_filter = ("status", "document_type", "submitted_at")  # country: search, not 250 filter links
    search_fields = ("user__email", "user__first_name", "user__last_name", "legal_name", "=country")
    list_select_related = ("user", "reviewed_by")
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at",)
    raw_id_fields = ("user", "reviewed_by")
    fields = (
        "user",
        "legal_name",
        "document_type",
        "country",
        "status",
        "document_link",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
    )
    readonly_fields = fields
    actions = ["approve_selected", "reject_selected"]

    @admin.display(description="Document")
    def document_link(self, obj: IdentityVerification) -> str:
        if not obj.document:
            return "deleted after review" if obj.reviewed_at else "none"
        url = reverse("accounts:identity_document", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">Open the document</a>', url)

    @admin.action(description="Approve selected ID documents (the users get the ID verified badge)")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[IdentityVerification]) -> None:
        done = 0
        for verification in queryset.select_related("user"):
            try:
                trust.identity_approve(actor=request.user, verification_id=verification.pk)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{verification.user}: {error.message}", messages.WARNING)
                continue
            _log(request, verification, "Identity approved")
            done += 1
        self.message_user(request, f"Approved {done} identity document(s).", messages.SUCCESS)

    @admin.action(description="Reject selected ID documents (asks for a reason)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[IdentityVerification]):
        if "apply" in request.POST:
            form = IdentityRejectForm(request.POST)
            if form.is_valid():
                done = 0
                for verification in queryset.select_related("user"):
                    try:
                        trust.identity_reject(
                            actor=request.user,  # type: ignore[arg-type]
                            verification_id=verification.pk,
                            reason=form.cleaned_data["reason"],
                        )
                    except ApplicationError as error:
                        self.message_user(request, f"{verification.user}: {error.message}", messages.WARNING)
                        continue
                    _log(request, verification, f"Identity rejected: {form.cleaned_data['reason']}")
                    done += 1
                self.message_user(request, f"Rejected {done} identity document(s).", messages.SUCCESS)
                return None
        else:
            form = IdentityRejectForm()
        return render(
            request,
            "admin/accounts/identity_reject.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject identity documents",
                "form": form,
                "verifications": queryset.select_related("user"),
                "action": "reject_selected",
                "opts": self.model._meta,
            },
        )
