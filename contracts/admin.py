"""Staff views of offers, contracts and their files. Rows change only through
``contracts.services``, so everything here is read-only; the one action (expire overdue
offers now) calls the service the beat task runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline
from marketplace.money import format_cents

from . import services
from .models import (
    Contract,
    ContractBonus,
    ContractEvent,
    ContractFile,
    Milestone,
    MilestoneSubmission,
    Offer,
    OfferEvent,
    OfferMilestone,
)


class OfferMilestoneInline(ReadOnlyInline):
    model = OfferMilestone
    fields = ("position", "description", "amount_cents", "due_date")
    readonly_fields = fields


class OfferEventInline(ReadOnlyInline):
    model = OfferEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "data")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "title",
        "client",
        "freelancer",
        "contract_type",
        "amount",
        "status",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "contract_type", "created_at")
    search_fields = ("title", "client__email", "freelancer__email", "job__title")
    list_select_related = ("client", "freelancer")
    date_hierarchy = "created_at"
    inlines = (OfferMilestoneInline, OfferEventInline)
    actions = ("expire_overdue",)
    readonly_fields = [f.name for f in Offer._meta.fields]

    @admin.display(description="Amount")
    def amount(self, offer: Offer) -> str:
        if offer.hourly_rate_cents is not None:
            return f"{format_cents(offer.hourly_rate_cents)}/hr"
        return format_cents(offer.fixed_amount_cents)

    @admin.action(description="Expire every pending offer past its date (as the hourly task does)")
    def expire_overdue(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        count = services.offers_expire_due()
        messages.success(request, f"Expired {count} overdue offer{'s' if count != 1 else ''}.")


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = (
        "position",
        "description",
        "amount_cents",
        "due_date",
        "status",
        "escrow_cents",
        "refund_pending_cents",
        "refunded_cents",
        "added_by",
        "status_changed_at",
    )
    readonly_fields = fields


class ContractEventInline(ReadOnlyInline):
    model = ContractEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "milestone", "data")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "milestone")


class ContractFileInline(ReadOnlyInline):
    model = ContractFile
    fields = ("created_at", "original_name", "size_bytes", "uploaded_by")
    readonly_fields = fields


class ContractBonusInline(ReadOnlyInline):
    model = ContractBonus
    fields = ("created_at", "amount_cents", "status", "paid_by", "note", "failure_message", "paid_at")
    readonly_fields = fields


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "title",
        "client",
        "freelancer",
        "contract_type",
        "status",
        "started_at",
        "ended_at",
    )
    list_filter = ("status", "contract_type", "end_reason", "started_at")
    search_fields = ("title", "client__email", "freelancer__email", "job__title")
    list_select_related = ("client", "freelancer")
    date_hierarchy = "started_at"
    inlines = (MilestoneInline, ContractFileInline, ContractEventInline, ContractBonusInline)
    readonly_fields = [f.name for f in Contract._meta.fields]


@admin.register(ContractFile)
class ContractFileAdmin(ReadOnlyAdmin):
    list_display = ("id", "original_name", "contract", "uploaded_by", "size_bytes", "created_at")
    search_fields = ("original_name", "contract__title", "uploaded_by__email")
    list_select_related = ("contract", "uploaded_by")
    date_hierarchy = "created_at"
    # the file itself has no URL (private storage): staff see where it is stored
    fields = ("contract", "uploaded_by", "original_name", "size_bytes", "stored_as", "created_at")
    readonly_fields = fields

    @admin.display(description="Stored as")
    def stored_as(self, item: ContractFile) -> str:
        return item.file.name or ""


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    """Escrow per milestone; the action runs the auto-approval task now (reminders and
    approvals that are due), through the same service as the beat task."""

    list_display = (
        "id",
        "description",
        "contract",
        "status",
        "amount_cents",
        "escrow_cents",
        "refunded_cents",
        "submitted_at",
        "released_at",
    )
    list_filter = ("status",)
    search_fields = (
        "description",
        "contract__title",
        "contract__client__email",
        "contract__freelancer__email",
    )
    list_select_related = ("contract",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Milestone._meta.fields]
    actions = ("run_auto_approval",)

    @admin.action(description="Send due reminders and approve milestones submitted 14+ days ago")
    def run_auto_approval(self, request: HttpRequest, queryset: QuerySet[Milestone]) -> None:
        counts = services.milestones_auto_approve_due()
        messages.success(request, f"Approved {counts['approved']}, reminded {counts['reminded']}.")


@admin.register(MilestoneSubmission)
class MilestoneSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("id", "milestone", "submitted_by", "created_at")
    search_fields = ("milestone__description", "submitted_by__email")
    list_select_related = ("milestone", "submitted_by")
    date_hierarchy = "created_at"
    readonly_fields = ("milestone", "submitted_by", "message", "changes_note", "created_at")
    exclude = ("files",)


# --- time tracking (contracts.timetracking): browse only; tokens can be revoked ----------------------

from .models import TimerSession, TimeSegment, TrackerToken  # noqa: E402
from .timetracking import tracker_token_revoke  # noqa: E402


@admin.register(TimeSegment)
class TimeSegmentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "contract",
        "started_at",
        "memo",
        "activity",
        "source",
        "has_screenshot",
        "timesheet",
    )
    list_filter = ("source", "started_at")
    search_fields = ("memo", "contract__title", "contract__freelancer__email", "contract__client__email")
    list_select_related = ("contract",)
    date_hierarchy = "started_at"
    # the screenshot has no URL (private storage): staff see where it is stored
    exclude = ("screenshot",)
    readonly_fields = [f.name for f in TimeSegment._meta.fields if f.name != "screenshot"] + ["stored_as"]

    @admin.display(boolean=True, description="Screenshot")
    def has_screenshot(self, segment: TimeSegment) -> bool:
        return bool(segment.screenshot)

    @admin.display(description="Screenshot stored as")
    def stored_as(self, segment: TimeSegment) -> str:
        return segment.screenshot.name or ""


@admin.register(TimerSession)
class TimerSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "contract", "started_at", "stopped_at", "source", "memo")
    list_filter = ("source",)
    search_fields = ("contract__title", "contract__freelancer__email", "memo")
    list_select_related = ("contract",)
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in TimerSession._meta.fields]


@admin.register(TrackerToken)
class TrackerTokenAdmin(ReadOnlyAdmin):
    """Only the key's prefix and hash are stored; the action revokes through the service."""

    list_display = ("id", "name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "key_prefix")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in TrackerToken._meta.fields]
    actions = ("revoke",)

    @admin.action(description="Revoke the selected tracker tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TrackerToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            tracker_token_revoke(actor=request.user, token_id=token.pk)  # type: ignore[arg-type]
        messages.success(request, "Revoked the selected tokens.")


# --- weekly timesheets (contracts.billing): browse; actions run what the beat tasks run -----------------

from . import billing  # noqa: E402
from .models import Timesheet  # noqa: E402


class TimesheetSegmentInline(ReadOnlyInline):
    model = TimeSegment
    fk_name = "timesheet"
    fields = ("started_at", "memo", "activity", "source")
    readonly_fields = fields


@admin.register(Timesheet)
class TimesheetAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "contract",
        "week_start",
        "status",
        "billed_minutes",
        "amount",
        "escrow",
        "charge_attempts",
        "review_ends_at",
    )
    list_filter = ("status", "week_start")
    search_fields = ("contract__title", "contract__client__email", "contract__freelancer__email")
    list_select_related = ("contract",)
    date_hierarchy = "week_start"
    readonly_fields = [f.name for f in Timesheet._meta.fields]
    inlines = (TimesheetSegmentInline,)
    actions = ("release_due", "retry_failed")

    @admin.display(description="Amount")
    def amount(self, timesheet: Timesheet) -> str:
        return format_cents(timesheet.amount_cents)

    @admin.display(description="In escrow")
    def escrow(self, timesheet: Timesheet) -> str:
        return format_cents(timesheet.escrow_cents)

    @admin.action(description="Release the selected weeks whose review period is over (as the hourly task)")
    def release_due(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> None:
        count = sum(billing.timesheet_release(timesheet_id=t.pk) for t in queryset)
        messages.success(request, f"Released {count} week{'s' if count != 1 else ''}.")

    @admin.action(description="Retry the payment of the selected failed weeks now")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Timesheet]) -> None:
        paid = 0
        for timesheet in queryset.filter(status=Timesheet.Status.PAYMENT_FAILED):
            result = billing.timesheet_retry_charge(timesheet_id=timesheet.pk)
            paid += result.status == Timesheet.Status.IN_REVIEW
        messages.success(request, f"{paid} week{'s' if paid != 1 else ''} paid.")


from . import admin_disputes  # noqa: E402, F401  (registers DisputeAdmin: staff mediation of disputes)
