"""Staff moderation of jobs: browse, search and filter jobs, read their history and flags,
take jobs down, review flags. Jobs change only through ``jobs.services``, so the job pages
here are read-only and the admin actions call the services."""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_moderation import ReportsInline, open_flags_count_subquery
from accounts.models import User
from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline
from marketplace.admin_utils import log_admin_action as _log
from marketplace.errors import ApplicationError
from marketplace.money import format_cents

from . import services
from .models import (
    Invitation,
    Job,
    JobEvent,
    JobMatch,
    SavedSearch,
    ServiceListing,
    ServiceListingEvent,
    ServiceOrder,
    ServiceOrderEvent,
    ServiceTier,
)


class JobEventInline(ReadOnlyInline):
    model = JobEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "changes")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "public_id",
        "client_email",
        "status",
        "category",
        "budget",
        "visibility",
        "proposals_count",
        "open_flags",
        "published_at",
    )
    list_filter = ("status", "category", "budget_type", "visibility")
    search_fields = ("title", "public_id", "client__email")
    list_select_related = ("client", "category")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    exclude = ("search_vector",)
    inlines = (JobEventInline, ReportsInline)  # reports: the moderation queue
    actions = ("remove_selected",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("search_vector")
            .annotate(open_flag_count=open_flags_count_subquery(Job))
        )

    @admin.display(description="client", ordering="client__email")
    def client_email(self, job: Job) -> str:
        return job.client.email

    @admin.display(description="budget")
    def budget(self, job: Job) -> str:
        if job.budget_type == Job.BudgetType.HOURLY:
            return f"{format_cents(job.hourly_min_cents)} to {format_cents(job.hourly_max_cents)}/hr"
        return format_cents(job.fixed_budget_cents)

    @admin.display(description="open flags", ordering="open_flag_count")
    def open_flags(self, job: Job) -> int:
        return getattr(job, "open_flag_count", 0)

    @admin.action(description="Remove selected jobs (staff)")
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        removed, refused = 0, []
        for job in queryset.order_by("pk"):
            try:
                services.job_remove_by_staff(
                    actor=request.user,  # type: ignore[arg-type]
                    job_id=job.pk,
                    note=f"Removed from the admin by {request.user}.",
                )
            except ApplicationError as error:
                refused.append(f"“{job.title}”: {error.message}")
                continue
            removed += 1
            _log(request, job, "Removed by staff (cancelled).")
        if removed:
            self.message_user(
                request, f"Removed {removed} job{'s' if removed != 1 else ''}.", messages.SUCCESS
            )
        if refused:
            self.message_user(request, "Not removed: " + " ".join(refused), messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "job", "client", "freelancer", "status", "decline_reason", "expires_at")
    list_filter = ("status", "decline_reason")
    search_fields = ("job__title", "job__public_id", "freelancer__email", "client__email")
    list_select_related = ("job", "client", "freelancer")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


@admin.register(SavedSearch)
class SavedSearchAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "query_string", "notify", "created_at", "last_notified_at")
    list_filter = ("notify",)
    search_fields = ("name", "user__email", "query_string")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


@admin.register(JobMatch)
class JobMatchAdmin(ReadOnlyAdmin):
    list_display = ("job", "freelancer", "score", "computed_at")
    search_fields = ("job__title", "job__public_id", "freelancer__user__email")
    list_select_related = ("job", "freelancer__user")
    ordering = ("-computed_at",)


# --- service catalog: staff review (approve / reject with reason through jobs.catalog) ----------------


class ServiceTierInline(ReadOnlyInline):
    model = ServiceTier
    fields = ("name", "price", "delivery_days", "revisions", "included")
    readonly_fields = fields

    @admin.display(description="price")
    def price(self, tier: ServiceTier) -> str:
        return format_cents(tier.price_cents)


class ServiceListingEventInline(ReadOnlyInline):
    model = ServiceListingEvent
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields


@admin.register(ServiceListing)
class ServiceListingAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "public_id",
        "freelancer",
        "status",
        "category",
        "from_price",
        "orders_count",
        "updated_at",
    )
    list_filter = ("status", "category")
    search_fields = ("title", "public_id", "freelancer__email")
    list_select_related = ("freelancer", "category")
    ordering = ("-updated_at",)
    inlines = (ServiceTierInline, ServiceListingEventInline)
    actions = ("approve_selected", "reject_selected")

    @admin.display(description="from", ordering="min_price_cents")
    def from_price(self, listing: ServiceListing) -> str:
        return format_cents(listing.min_price_cents)

    @admin.action(description="Approve selected services")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ServiceListing]) -> None:
        from . import catalog

        done, refused = 0, []
        for listing in queryset.order_by("pk"):
            try:
                catalog.listing_approve(actor=cast(User, request.user), listing_id=listing.pk)
            except ApplicationError as error:
                refused.append(f"“{listing.title}”: {error.message}")
                continue
            done += 1
            _log(request, listing, "Service approved.")
        if done:
            self.message_user(request, f"Approved {done} service(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not approved: " + " ".join(refused), messages.ERROR)

    @admin.action(description="Reject selected services (with a reason)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ServiceListing]):
        from django.template.response import TemplateResponse

        from . import catalog

        reason = str(request.POST.get("reason", "")).strip()
        if "apply" not in request.POST or not reason:
            if "apply" in request.POST:
                self.message_user(request, "Give a reason the freelancer will read.", messages.ERROR)
            return TemplateResponse(
                request,
                "admin/jobs/servicelisting/reject.html",
                {**self.admin_site.each_context(request), "listings": queryset, "opts": self.model._meta},
            )
        done, refused = 0, []
        for listing in queryset.order_by("pk"):
            try:
                catalog.listing_reject(actor=cast(User, request.user), listing_id=listing.pk, reason=reason)
            except ApplicationError as error:
                refused.append(f"“{listing.title}”: {error.message}")
                continue
            done += 1
            _log(request, listing, f"Service rejected: {reason}")
        if done:
            self.message_user(request, f"Rejected {done} service(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not rejected: " + " ".join(refused), messages.ERROR)
        return None


class ServiceOrderEventInline(ReadOnlyInline):
    model = ServiceOrderEvent
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields


@admin.register(ServiceOrder)
class ServiceOrderAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "listing", "buyer", "status", "amount", "created_at")
    list_filter = ("status",)
    search_fields = ("public_id", "buyer__email", "listing__title")
    list_select_related = ("listing", "buyer")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = (ServiceOrderEventInline,)

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, order: ServiceOrder) -> str:
        return format_cents(order.amount_cents)
