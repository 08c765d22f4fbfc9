"""Staff views of reviews. Reviews change only through ``reviews.services``: everything is
read-only here, and the two actions (hide with a reason, show again) call the services,
which log a ``ReviewEvent`` and tell both sides; the admin log records them too.
Staff see the private note and the recommend score (the other side never does)."""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline, log_admin_action
from marketplace.errors import ApplicationError

from . import services
from .forms import HideReviewForm
from .models import JobSuccessSnapshot, Review, ReviewEvent


class ReviewEventInline(ReadOnlyInline):
    model = ReviewEvent
    fields = ("created_at", "kind", "actor", "note")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class VisibilityFilter(admin.SimpleListFilter):
    title = "visibility"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [("public", "Public"), ("blind", "Not revealed yet"), ("hidden", "Hidden by staff")]

    def queryset(self, request, queryset):
        if self.value() == "public":
            return queryset.filter(revealed_at__isnull=False, hidden_at__isnull=True)
        if self.value() == "blind":
            return queryset.filter(revealed_at__isnull=True)
        if self.value() == "hidden":
            return queryset.filter(hidden_at__isnull=False)
        return queryset


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "contract",
        "reviewer",
        "reviewee",
        "direction",
        "rating",
        "submitted_at",
        "visibility",
    )
    list_filter = (VisibilityFilter, "direction", "rating", "submitted_at")
    search_fields = ("reviewer__email", "reviewee__email", "contract__title", "public_comment")
    list_select_related = ("contract", "reviewer", "reviewee")
    date_hierarchy = "submitted_at"
    readonly_fields = [f.name for f in Review._meta.fields]
    inlines = (ReviewEventInline,)
    actions = ("hide_reviews", "unhide_reviews")

    @admin.display(description="Visibility")
    def visibility(self, review: Review) -> str:
        if review.hidden_at is not None:
            return "hidden"
        return "public" if review.revealed_at is not None else "not revealed"

    @admin.action(description="Hide selected reviews (asks for a reason; both sides are told)")
    def hide_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> HttpResponse | None:
        form = HideReviewForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            done = 0
            for review in queryset.order_by("pk"):
                try:
                    services.review_hide(actor=cast(User, request.user), review_id=review.pk, reason=reason)
                except ApplicationError as error:
                    self.message_user(request, f"Review {review.pk}: {error.message}", messages.WARNING)
                    continue
                log_admin_action(request, review, f"Hidden: {reason}")
                done += 1
            if done:
                self.message_user(request, f"Hid {done} review{'s' if done != 1 else ''}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Hide reviews",
            "form": form,
            "reviews": queryset.select_related("contract", "reviewer", "reviewee"),
            "action": "hide_reviews",
            "opts": self.model._meta,
        }
        return render(request, "admin/reviews/hide.html", context)

    @admin.action(description="Show selected hidden reviews again")
    def unhide_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        done = 0
        for review in queryset.order_by("pk"):
            try:
                services.review_unhide(actor=cast(User, request.user), review_id=review.pk)
            except ApplicationError as error:
                self.message_user(request, f"Review {review.pk}: {error.message}", messages.WARNING)
                continue
            log_admin_action(request, review, "Shown again.")
            done += 1
        if done:
            self.message_user(
                request, f"Showed {done} review{'s' if done != 1 else ''} again.", messages.SUCCESS
            )


@admin.register(JobSuccessSnapshot)
class JobSuccessSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("freelancer", "computed_on", "score", "window_months")
    list_filter = ("computed_on",)
    search_fields = ("freelancer__email",)
    list_select_related = ("freelancer",)
    date_hierarchy = "computed_on"
