"""Staff views of proposals and Connects. Rows are written by ``proposals.services`` only:
proposals and transactions are read-only here; the one action, granting Connects, calls
``connects_grant`` and is logged."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline
from marketplace.admin_utils import log_admin_action as _log
from marketplace.errors import ApplicationError
from marketplace.money import format_cents

from . import services
from .models import (
    ConnectsTransaction,
    ConnectsWallet,
    Proposal,
    ProposalAnswer,
    ProposalAttachment,
    ProposalEvent,
    ProposalMilestone,
)


class EventInline(ReadOnlyInline):
    model = ProposalEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "data")
    readonly_fields = fields


class AnswerInline(ReadOnlyInline):
    model = ProposalAnswer
    fields = ("question", "text")
    readonly_fields = fields


class MilestoneInline(ReadOnlyInline):
    model = ProposalMilestone
    fields = ("position", "description", "amount_cents", "due_date")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = ProposalAttachment
    fields = ("original_name", "size_bytes", "created_at")
    readonly_fields = fields


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "job_link",
        "freelancer",
        "status",
        "bid",
        "archived",
        "offer_pending",
        "connects_spent",
        "match_score",
        "created_at",
    )
    list_filter = ("status", "archived", "offer_pending", "decline_reason", "withdraw_reason")
    search_fields = ("job__title", "job__public_id", "freelancer__email")
    list_select_related = ("job", "freelancer")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    exclude = ("portfolio_items",)
    inlines = (AnswerInline, MilestoneInline, AttachmentInline, EventInline)

    @admin.display(description="job", ordering="job__title")
    def job_link(self, proposal: Proposal) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:jobs_job_change", args=[proposal.job_id]),
            proposal.job.title,
        )

    @admin.display(description="bid")
    def bid(self, proposal: Proposal) -> str:
        suffix = "/hr" if proposal.hourly_rate_cents is not None else ""
        return f"{format_cents(proposal.bid_cents)}{suffix}"


class TransactionInline(ReadOnlyInline):
    model = ConnectsTransaction
    fields = ("created_at", "kind", "amount", "balance_after", "job", "note", "actor")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("job", "actor")


class GrantConnectsForm(forms.Form):
    amount = forms.IntegerField(
        min_value=1, max_value=services.STAFF_GRANT_MAX, label="Connects to grant each"
    )
    note = forms.CharField(max_length=300, label="Why (kept in the history, shown to the freelancer)")


@admin.register(ConnectsWallet)
class ConnectsWalletAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "last_monthly_grant")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    ordering = ("user__email",)
    inlines = (TransactionInline,)
    actions = ("grant_connects",)

    @admin.action(description="Grant Connects to the selected freelancers")
    def grant_connects(self, request: HttpRequest, queryset: QuerySet[ConnectsWallet]) -> HttpResponse | None:
        """Asks for the amount and the reason, then grants through ``connects_grant``."""
        form = GrantConnectsForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            granted, refused = 0, []
            for wallet in queryset.select_related("user").order_by("pk"):
                try:
                    services.connects_grant(
                        actor=cast(User, request.user),
                        user_id=wallet.user_id,
                        amount=form.cleaned_data["amount"],
                        note=form.cleaned_data["note"],
                    )
                except ApplicationError as error:
                    refused.append(f"{wallet.user.email}: {error.message}")
                    continue
                granted += 1
                _log(
                    request,
                    wallet,
                    f"Granted {form.cleaned_data['amount']} Connects: {form.cleaned_data['note']}",
                )
            if granted:
                self.message_user(
                    request,
                    f"Granted {form.cleaned_data['amount']} Connects to {granted} freelancer{'s' if granted != 1 else ''}.",
                    messages.SUCCESS,
                )
            if refused:
                self.message_user(request, "Not granted: " + " ".join(refused), messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant Connects",
            "form": form,
            "wallets": queryset.select_related("user"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return render(request, "proposals/admin_grant_connects.html", context)


@admin.register(ConnectsTransaction)
class ConnectsTransactionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "wallet", "kind", "amount", "balance_after", "job", "actor", "note")
    list_filter = ("kind",)
    search_fields = ("wallet__user__email", "job__title", "note", "idempotency_key")
    list_select_related = ("wallet__user", "job", "actor")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
