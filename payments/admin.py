"""Staff views of money: read-only ledger, gateway records and webhook events.

Nothing here edits a balance or a record directly. The only manual change is a ledger
adjustment: a balanced, reasoned, logged entry posted by ``services.ledger_adjust`` from
the "Post an adjustment" action on ledger accounts. Retries call the same services as the
sweeper tasks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.money import format_cents

from . import services
from .forms import AdjustmentForm
from .models import (
    Charge,
    Invoice,
    JournalEntry,
    LedgerAccount,
    PaymentMethod,
    Payout,
    PayoutMethod,
    Posting,
    Refund,
    StatusEvent,
    Transfer,
    WebhookEvent,
)
from .reconciliation import reconcile
from .webhooks import webhook_process


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _money(cents: int | None) -> str:
    return format_cents(cents) if cents is not None else ""


class PostingInline(admin.TabularInline):
    model = Posting
    fk_name = "entry"
    extra = 0
    can_delete = False
    fields = ("account", "amount", "available_at", "clears")
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount(self, obj: Posting) -> str:
        return _money(obj.amount_cents)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "owner", "reference", "balance", "currency", "entries", "created_at")
    list_filter = ("kind", "currency")
    search_fields = ("reference", "owner__email")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    actions = ["post_adjustment"]
    change_list_template = "payments/admin/ledgeraccount_change_list.html"

    @admin.display(description="Balance", ordering="balance_cents")
    def balance(self, obj: LedgerAccount) -> str:
        return _money(obj.balance_cents)

    @admin.display(description="Entries")
    def entries(self, obj: LedgerAccount) -> str:
        url = reverse("admin:payments_posting_changelist")
        return format_html('<a href="{}?account__id__exact={}">Postings</a>', url, obj.pk)

    def get_urls(self):
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="payments_ledgeraccount_adjust",
            ),
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="payments_reconciliation",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Post an adjustment from the selected account…")
    def post_adjustment(self, request: HttpRequest, queryset: QuerySet[LedgerAccount]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one account to adjust from.", messages.WARNING)
            return None
        account = queryset.get()
        return HttpResponseRedirect(f"{reverse('admin:payments_ledgeraccount_adjust')}?from={account.pk}")

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_staff:
            return redirect("admin:index")
        form = AdjustmentForm(request.POST or None, initial={"from_account": request.GET.get("from")})
        if request.method == "POST" and form.is_valid():
            try:
                entry = services.ledger_adjust(
                    actor=request.user,  # type: ignore[arg-type]
                    from_account_id=form.cleaned_data["from_account"],
                    to_account_id=form.cleaned_data["to_account"],
                    amount_cents=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    idempotency_key=form.cleaned_data["request_token"],
                )
                self.message_user(request, f"Posted adjustment entry #{entry.pk}.", messages.SUCCESS)
                return redirect("admin:payments_journalentry_change", entry.pk)
            except ApplicationError as error:
                add_application_error(form, error)
        context = {
            **self.admin_site.each_context(request),
            "title": "Post a ledger adjustment",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "payments/admin/adjust.html", context)

    def reconciliation_view(self, request: HttpRequest) -> HttpResponse:
        """Ledger against gateway records: totals per record type and every mismatch."""
        summaries, mismatches = reconcile()
        context = {
            **self.admin_site.each_context(request),
            "title": "Reconciliation: ledger vs gateway records",
            "summaries": summaries,
            "mismatches": mismatches,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "payments/admin/reconciliation.html", context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"reconciliation_url": reverse("admin:payments_reconciliation"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    """Entries per account: each posting with its entry (filter by account)."""

    list_display = ("id", "created_at", "account", "entry_link", "memo", "amount", "available_at")
    list_filter = ("account__kind",)
    search_fields = ("entry__memo", "entry__reference", "entry__idempotency_key", "account__owner__email")
    list_select_related = ("account__owner", "entry")
    date_hierarchy = "created_at"

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj: Posting) -> str:
        return _money(obj.amount_cents)

    @admin.display(description="Memo")
    def memo(self, obj: Posting) -> str:
        return obj.entry.memo

    @admin.display(description="Entry")
    def entry_link(self, obj: Posting) -> str:
        url = reverse("admin:payments_journalentry_change", args=[obj.entry_id])
        return format_html('<a href="{}">#{}</a>', url, obj.entry_id)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "recipient", "issued_at", "charge", "entry", "payout")
    list_filter = ("kind", "year")
    search_fields = ("number", "recipient__email")
    list_select_related = ("recipient", "charge", "entry", "payout")
    date_hierarchy = "issued_at"


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "memo", "purpose", "reference", "created_by", "reverses")
    list_filter = ("purpose",)
    search_fields = ("idempotency_key", "memo", "reference")
    list_select_related = ("created_by",)
    readonly_fields = (
        "idempotency_key",
        "memo",
        "purpose",
        "reference",
        "created_by",
        "reverses",
        "created_at",
    )
    inlines = [PostingInline]
    date_hierarchy = "created_at"


class StatusEventsMixin:
    record: str = ""

    @admin.display(description="History")
    def history(self, obj: Any) -> str:
        events = StatusEvent.objects.filter(record=self.record, record_id=obj.pk).select_related("actor")
        rows = [
            (
                f"{e.created_at:%Y-%m-%d %H:%M}",
                e.from_status or "-",
                e.to_status,
                f" by {e.actor.email}" if e.actor else "",
                f" ({e.note})" if e.note else "",
            )
            for e in events
        ]
        return format_html_join(mark_safe("<br>"), "{} {} → {}{}{}", rows) or "-"


@admin.register(Charge)
class ChargeAdmin(StatusEventsMixin, ReadOnlyAdmin):
    record = "charge"
    list_display = (
        "id",
        "created_at",
        "payer",
        "amount",
        "status",
        "purpose",
        "reference",
        "gateway",
        "handler_error_flag",
    )
    list_filter = ("status", "gateway", "purpose")
    search_fields = ("reference", "escrow_reference", "idempotency_key", "gateway_payment_id", "payer__email")
    list_select_related = ("payer",)
    date_hierarchy = "created_at"
    readonly_fields = (*[f.name for f in Charge._meta.fields], "history")
    actions = ["retry_reserved", "refund_in_full"]

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj: Charge) -> str:
        return f"{_money(obj.amount_cents)} + {_money(obj.client_fee_cents)}"

    @admin.action(description="Refund selected sales (e.g. Connects) in full to the card")
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Charge]) -> None:
        """Only purposes sold outright (``refunds_from_revenue``): money held in escrow for
        a contract is refunded through the contract (milestone refund, dispute), which keeps
        the milestone's state with the money."""
        from . import registry

        for charge in queryset.order_by("pk"):
            if not registry.handlers_for(charge.purpose).refunds_from_revenue:
                self.message_user(
                    request,
                    f"Payment #{charge.pk} ({charge.purpose}) is held for a contract: refund it there.",
                    messages.WARNING,
                )
                continue
            try:
                refund = services.refund_create(
                    actor=request.user,  # type: ignore[arg-type]
                    charge_id=charge.pk,
                    idempotency_key=f"staff-refund:{charge.pk}:{charge.refunds.count()}",
                    reason=f"Refunded by staff ({request.user})",
                )
            except ApplicationError as error:
                self.message_user(request, f"Payment #{charge.pk}: {error.message}", messages.ERROR)
                continue
            level = messages.SUCCESS if refund.status != Refund.Status.FAILED else messages.ERROR
            self.message_user(
                request,
                f"Payment #{charge.pk}: refund of {_money(refund.total_cents)} {refund.get_status_display().lower()}.",
                level,
            )

    @admin.display(description="Handler error", boolean=True)
    def handler_error_flag(self, obj: Charge) -> bool:
        return bool(obj.handler_error)

    @admin.action(description="Retry selected reserved charges with their keys")
    def retry_reserved(self, request: HttpRequest, queryset: QuerySet[Charge]) -> None:
        done = [
            services.charge_retry(charge_id=c.pk).status
            for c in queryset.filter(status=Charge.Status.RESERVED)
        ]
        self.message_user(request, f"Retried {len(done)} charge(s): {', '.join(done) or 'none reserved'}.")


@admin.register(Refund)
class RefundAdmin(StatusEventsMixin, ReadOnlyAdmin):
    record = "refund"
    list_display = ("id", "created_at", "charge", "amount_cents", "fee_cents", "status", "requested_by")
    list_filter = ("status",)
    search_fields = ("idempotency_key", "gateway_refund_id", "charge__reference", "charge__payer__email")
    list_select_related = ("charge__payer", "requested_by")
    date_hierarchy = "created_at"
    readonly_fields = (*[f.name for f in Refund._meta.fields], "history")


@admin.register(Transfer)
class TransferAdmin(StatusEventsMixin, ReadOnlyAdmin):
    record = "transfer"
    list_display = (
        "id",
        "created_at",
        "payee",
        "amount_cents",
        "amount_reversed_cents",
        "destination",
        "status",
    )
    list_filter = ("status", "gateway")
    search_fields = ("gateway_transfer_id", "destination", "payee__email", "reference")
    list_select_related = ("payee",)
    date_hierarchy = "created_at"
    readonly_fields = (*[f.name for f in Transfer._meta.fields], "history")


@admin.register(Payout)
class PayoutAdmin(StatusEventsMixin, ReadOnlyAdmin):
    record = "payout"
    list_display = (
        "id",
        "requested_at",
        "user",
        "amount",
        "method",
        "status",
        "automatic",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "gateway", "automatic")
    search_fields = ("user__email", "gateway_payout_id", "gateway_transfer_id", "idempotency_key")
    list_select_related = ("user", "method")
    date_hierarchy = "requested_at"
    readonly_fields = (*[f.name for f in Payout._meta.fields], "history")
    actions = ["process_now"]

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj: Payout) -> str:
        return _money(obj.amount_cents)

    @admin.action(description="Process or re-check the selected payouts now")
    def process_now(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        results = []
        for payout in queryset.filter(status__in=[Payout.Status.REQUESTED, Payout.Status.PROCESSING]):
            Payout.objects.filter(pk=payout.pk).update(lease_expires_at=None)
            done = services.payout_process(payout_id=payout.pk, sweeping=True)
            results.append(f"#{payout.pk} {done.status if done else '?'}")
        self.message_user(request, f"Processed: {', '.join(results) or 'nothing to do'}.")


@admin.register(PayoutMethod)
class PayoutMethodAdmin(StatusEventsMixin, ReadOnlyAdmin):
    record = "payout_method"
    list_display = ("id", "user", "kind", "label", "last4", "gateway_account_id", "status", "usable_after")
    list_filter = ("kind", "status", "gateway")
    search_fields = ("user__email", "gateway_account_id", "last4")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (*[f.name for f in PayoutMethod._meta.fields], "history")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "brand", "last4", "exp_month", "exp_year", "is_default", "removed_at")
    list_filter = ("brand", "gateway")
    search_fields = ("user__email", "last4", "gateway_payment_method_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "account", "received_at", "processed_at", "attempts", "outcome")
    list_filter = ("type",)
    search_fields = ("event_id", "account", "outcome")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    date_hierarchy = "received_at"
    actions = ["process_again"]

    @admin.action(description="Process the selected unprocessed events now")
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        done = [webhook_process(event_pk=e.pk) for e in queryset.filter(processed_at__isnull=True)]
        self.message_user(request, f"Processed {len([e for e in done if e and e.processed_at])} event(s).")
