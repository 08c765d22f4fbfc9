"""Staff mediation of disputes in Django admin (imported by ``contracts.admin``).

A dispute's page shows the contract, the parties, the contract's conversation (messaging
admin, where staff may join it), the subject (milestone, or the timesheet with its work
diary: segments without a memo or beyond the weekly limit flagged), the statements with
their files, the proposals and the timeline. Rows change only through
``contracts.disputes``: the "Resolve with a split" form (a page of its own, also reached
by the changelist action) calls ``dispute_resolve_by_staff``, which logs the decision on
the contract's timeline and notifies both sides; the admin log records it too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline, log_admin_action
from marketplace.errors import ApplicationError
from marketplace.money import format_cents

from . import disputes
from .models import Dispute, DisputeStatement, SettlementProposal

BR = mark_safe("<br>")


class ResolveForm(forms.Form):
    refund_cents = forms.IntegerField(min_value=0, label="Refund to the client (cents)")
    release_cents = forms.IntegerField(
        min_value=0, label="Release to the freelancer (cents, before the service fee)"
    )
    note = forms.CharField(
        max_length=disputes.RESOLUTION_NOTE_MAX,
        label="Decision, as both sides will read it",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )


class StatementInline(ReadOnlyInline):
    model = DisputeStatement
    fields = ("created_at", "author", "text", "attached_files")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author").prefetch_related("files")

    @admin.display(description="Files")
    def attached_files(self, statement: DisputeStatement) -> SafeString | str:
        items = [
            (reverse("contracts:dispute_file", args=[statement.dispute_id, f.pk]), f.original_name)
            for f in statement.files.all()
        ]
        return format_html_join(BR, '<a href="{}">{}</a>', items) if items else "—"


class ProposalInline(ReadOnlyInline):
    model = SettlementProposal
    fields = ("created_at", "proposed_by", "refund_cents", "release_cents", "note", "status", "answered_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposed_by")


def _admin_link(name: str, pk: Any, text: str) -> SafeString | str:
    try:
        return format_html('<a href="{}">{}</a>', reverse(name, args=[pk]), text)
    except NoReverseMatch:
        return text


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "contract",
        "subject",
        "opened_by",
        "status",
        "amount",
        "response_due_at",
        "resolution",
        "created_at",
    )
    list_filter = ("status", "resolution", "created_at")
    search_fields = ("contract__title", "contract__client__email", "contract__freelancer__email", "reason")
    list_select_related = ("contract", "milestone", "timesheet", "opened_by")
    date_hierarchy = "created_at"
    inlines = (StatementInline, ProposalInline)
    actions = ("resolve_with_split", "retry_refund")
    fieldsets = (
        (
            "Dispute",
            {
                "fields": (
                    "resolve_link",
                    "status",
                    "reason_text",
                    "opened_by",
                    "created_at",
                    "response_due_at",
                    "money",
                )
            },
        ),
        (
            "Contract",
            {"fields": ("contract_link", "parties", "conversation_link", "subject_link", "public_page")},
        ),
        ("Work diary (hourly)", {"fields": ("diary",)}),
        ("Timeline", {"fields": ("timeline",)}),
        (
            "Resolution",
            {
                "fields": (
                    "resolution",
                    "refund_cents",
                    "release_cents",
                    "resolved_by",
                    "resolved_at",
                    "resolution_note",
                )
            },
        ),
    )
    readonly_fields = (
        "resolve_link",
        "status",
        "reason_text",
        "opened_by",
        "created_at",
        "response_due_at",
        "money",
        "contract_link",
        "parties",
        "conversation_link",
        "subject_link",
        "public_page",
        "diary",
        "timeline",
        "resolution",
        "refund_cents",
        "release_cents",
        "resolved_by",
        "resolved_at",
        "resolution_note",
    )

    # --- display ---------------------------------------------------------------------------------

    @admin.display(description="Subject")
    def subject(self, dispute: Dispute) -> str:
        if dispute.milestone_id:
            return f"Milestone: {dispute.milestone}"
        return f"Week of {dispute.timesheet.week_start}" if dispute.timesheet else "—"

    @admin.display(description="In escrow")
    def amount(self, dispute: Dispute) -> str:
        return format_cents(dispute.amount_cents)

    @admin.display(description="Reason")
    def reason_text(self, dispute: Dispute) -> str:
        return disputes.reason_label(dispute.reason)

    @admin.display(description="Money")
    def money(self, dispute: Dispute) -> str:
        text = f"{format_cents(dispute.amount_cents)} frozen in escrow"
        if dispute.timesheet_id:
            text += f"; the client contests {format_cents(dispute.disputed_cents)}"
        refund, release = disputes.silence_split(dispute, dispute.contract)
        if dispute.status == Dispute.Status.OPEN:
            text += f". Silence would give: refund {format_cents(refund)}, release {format_cents(release)}"
        return text

    @admin.display(description="Decide")
    def resolve_link(self, dispute: Dispute) -> SafeString | str:
        if dispute.status == Dispute.Status.RESOLVED:
            return "Resolved: it cannot be resolved again."
        url = reverse("admin:contracts_dispute_resolve", args=[dispute.pk])
        return format_html('<a class="button" href="{}">Resolve with a split…</a>', url)

    @admin.display(description="Contract")
    def contract_link(self, dispute: Dispute) -> SafeString | str:
        return _admin_link("admin:contracts_contract_change", dispute.contract_id, str(dispute.contract))

    @admin.display(description="Parties")
    def parties(self, dispute: Dispute) -> SafeString:
        contract = dispute.contract
        return format_html(
            "Client: {} ({}) · Freelancer: {} ({})",
            contract.client.display_name,
            contract.client.email,
            contract.freelancer.display_name,
            contract.freelancer.email,
        )

    @admin.display(description="Conversation")
    def conversation_link(self, dispute: Dispute) -> SafeString | str:
        if dispute.contract.conversation_id is None:
            return "No conversation on this contract."
        return _admin_link(
            "admin:messaging_conversation_change",
            dispute.contract.conversation_id,
            "The contract's conversation (join it as staff from the conversations list)",
        )

    @admin.display(description="Subject")
    def subject_link(self, dispute: Dispute) -> SafeString | str:
        if dispute.milestone_id:
            milestone = dispute.milestone
            assert milestone is not None
            return _admin_link(
                "admin:contracts_milestone_change",
                milestone.pk,
                f"Milestone “{milestone.description}” ({milestone.get_status_display()}, "
                f"{format_cents(milestone.escrow_cents)} in escrow)",
            )
        timesheet = dispute.timesheet
        assert timesheet is not None
        return _admin_link(
            "admin:contracts_timesheet_change",
            timesheet.pk,
            f"Timesheet: week of {timesheet.week_start} ({timesheet.get_status_display()}, "
            f"{timesheet.billed_minutes // 60}h{timesheet.billed_minutes % 60:02d} billed, "
            f"{format_cents(timesheet.amount_cents)})",
        )

    @admin.display(description="Page")
    def public_page(self, dispute: Dispute) -> SafeString:
        url = reverse("contracts:dispute_detail", args=[dispute.pk])
        return format_html('<a href="{}">The dispute page as the parties see it</a>', url)

    @admin.display(description="Segments")
    def diary(self, dispute: Dispute) -> SafeString | str:
        rows = disputes.dispute_segments(dispute)
        if not rows:
            return "—"
        body = format_html_join(
            "",
            '<tr style="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    "background:#fff3cd" if row.flagged else "",
                    row.segment.started_at.strftime("%a %b %d %H:%M"),
                    row.segment.memo or "(no memo)",
                    "" if row.segment.activity is None else row.segment.activity,
                    "billed" if row.billable else "beyond the limit",
                    "disputed" if row.disputed else "",
                )
                for row in rows
            ),
        )
        flagged = sum(1 for row in rows if row.flagged)
        return format_html(
            "<p>{} segment(s), {} flagged (no memo or beyond the limit).</p>"
            "<table><thead><tr><th>Start (UTC)</th><th>Memo</th><th>Activity</th><th>Billed</th>"
            "<th>Disputed</th></tr></thead><tbody>{}</tbody></table>",
            len(rows),
            flagged,
            body,
        )

    @admin.display(description="Events")
    def timeline(self, dispute: Dispute) -> SafeString | str:
        from .selectors import event_text

        events = disputes.dispute_events(dispute)
        if not events:
            return "—"
        return format_html_join(
            BR,
            "{} · {}: {}",
            (
                (
                    e.created_at.strftime("%Y-%m-%d %H:%M"),
                    e.actor.email if e.actor else "the marketplace",
                    event_text(e),
                )
                for e in events
            ),
        )

    # --- resolve -------------------------------------------------------------------------------------

    def _may_move_money(self, request: HttpRequest) -> bool:
        # the admin is read-only (rows change only through services), so ask the permission itself
        return request.user.has_perm("contracts.change_dispute")

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return self._may_move_money(request)

    def get_urls(self):
        custom = [
            path(
                "<int:dispute_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="contracts_dispute_resolve",
            )
        ]
        return custom + super().get_urls()

    def resolve_view(self, request: HttpRequest, dispute_id: int) -> HttpResponse:
        """Staff resolve one dispute with a split (refund + release == the escrow in dispute).
        Moving money needs the change permission on disputes, not just the right to look."""
        if not self._may_move_money(request):
            raise PermissionDenied
        dispute = get_object_or_404(
            Dispute.objects.select_related(
                "contract", "contract__client", "contract__freelancer", "milestone"
            ),
            pk=dispute_id,
        )
        change_url = reverse("admin:contracts_dispute_change", args=[dispute.pk])
        pending = dispute.proposals.filter(status=SettlementProposal.Status.PENDING).first()
        if request.method == "POST":
            form = ResolveForm(request.POST)
            if form.is_valid():
                try:
                    resolved = disputes.dispute_resolve_by_staff(
                        actor=request.user,  # type: ignore[arg-type]
                        dispute_id=dispute.pk,
                        refund_cents=form.cleaned_data["refund_cents"],
                        release_cents=form.cleaned_data["release_cents"],
                        note=form.cleaned_data["note"],
                    )
                except ApplicationError as error:
                    field = (error.extra or {}).get("field")
                    form.add_error(field if field in form.fields else None, error.message)
                else:
                    log_admin_action(
                        request,
                        resolved,
                        f"Resolved by staff: refund {format_cents(resolved.refund_cents)}, release "
                        f"{format_cents(resolved.release_cents)}. {resolved.resolution_note}",
                    )
                    self.message_user(
                        request,
                        f"Dispute {resolved.pk} resolved: {format_cents(resolved.refund_cents)} refunded to the "
                        f"client, {format_cents(resolved.release_cents)} released to the freelancer. Both sides "
                        "were notified.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        else:
            initial = {"refund_cents": dispute.amount_cents, "release_cents": 0}
            if pending is not None:
                initial = {"refund_cents": pending.refund_cents, "release_cents": pending.release_cents}
            form = ResolveForm(initial=initial)
        return render(
            request,
            "admin/contracts/dispute/resolve.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Resolve dispute {dispute.pk}",
                "form": form,
                "dispute": dispute,
                "pending": pending,
                "statements": disputes.dispute_statements(dispute),
                "change_url": change_url,
                "opts": self.model._meta,
                "resolved": dispute.status == Dispute.Status.RESOLVED,
            },
            status=400 if form.errors else 200,
        )

    @admin.action(description="Resolve the selected dispute with a split…", permissions=["resolve"])
    def resolve_with_split(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one dispute to resolve.", messages.WARNING)
            return None
        dispute = queryset.get()
        return HttpResponseRedirect(reverse("admin:contracts_dispute_resolve", args=[dispute.pk]))

    @admin.action(
        description="Send again the refused refund of the selected resolved disputes", permissions=["resolve"]
    )
    def retry_refund(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> None:
        done = 0
        for dispute in queryset:
            try:
                milestone = disputes.dispute_refund_retry(actor=request.user, dispute_id=dispute.pk)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"Dispute {dispute.pk}: {error.message}", messages.WARNING)
                continue
            log_admin_action(
                request, dispute, f"Refund of {format_cents(milestone.refund_pending_cents)} sent again."
            )
            done += 1
        if done:
            self.message_user(request, f"Sent {done} refund(s) again.", messages.SUCCESS)
