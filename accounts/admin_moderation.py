"""Admin of the moderation queue: reports (``ContentFlag``) with the text as reported and a
link to the content, and staff decisions (read-only). The actions (dismiss, hide, warn,
suspend the author) ask for a reason on an intermediate page and call
``accounts.moderation``, once per piece of content among the selected reports."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html

from marketplace.admin_utils import NoWritesMixin, ReadOnlyAdmin, log_admin_action
from marketplace.errors import ApplicationError

from . import moderation
from . import moderation_registry as registry
from .forms_moderation import ModerationActionForm
from .models import ContentFlag, ModerationDecision, User

Decision = ModerationDecision.Action


def open_flags_count_subquery(model: Any) -> Coalesce:
    """An annotation: how many open reports each row of ``model`` has (other apps' admins)."""
    counts = (
        ContentFlag.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id=OuterRef("pk"),
            status=ContentFlag.Status.OPEN,
        )
        .order_by()
        .values("object_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


class ReportsInline(NoWritesMixin, GenericTabularInline):
    """The reports of one piece of content, on its own admin page (jobs, say)."""

    model = ContentFlag
    ct_field = "content_type"
    ct_fk_field = "object_id"
    fields = ("created_at", "reporter", "reason", "note", "status", "resolved_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "report"
    verbose_name_plural = "reports (moderation queue)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")


class ContentTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(label, entry.label.capitalize()) for label, entry in sorted(registry.registered().items())]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


@admin.register(ContentFlag)
class ContentFlagAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "content_link",
        "reason",
        "note",
        "reporter",
        "content_owner",
        "status",
    )
    list_filter = ("status", "reason", ContentTypeFilter)
    search_fields = ("snapshot", "note", "reporter__email", "content_owner__email")
    list_select_related = ("content_type", "reporter", "content_owner", "resolved_by")
    ordering = ("status", "created_at")
    readonly_fields = (
        "kind",
        "content_link",
        "reporter",
        "content_owner",
        "reason",
        "note",
        "snapshot_text",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    exclude = ("content_type", "object_id", "snapshot")
    actions = ("dismiss_reports", "hide_content", "warn_author", "suspend_author")

    @admin.display(description="type", ordering="content_type__model")
    def kind(self, flag: ContentFlag) -> str:
        model = flag.content_type.model_class()
        entry = registry.entry_for(model) if model is not None else None
        return entry.label if entry else flag.content_type.name

    @admin.display(description="content")
    def content_link(self, flag: ContentFlag) -> str:
        obj = moderation.flag_content(flag)
        model = flag.content_type.model_class()
        entry = registry.entry_for(model) if model is not None else None
        if obj is None or entry is None:
            return f"(deleted) {flag.snapshot[:80]}"
        url = moderation._safe_url(entry, obj)
        hidden = " [hidden]" if entry.is_hidden(obj) else ""
        if not url:
            return f"{flag.snapshot[:80]}{hidden}"
        return format_html('<a href="{}">{}</a>{}', url, flag.snapshot[:80] or entry.label, hidden)

    @admin.display(description="text as reported")
    def snapshot_text(self, flag: ContentFlag) -> str:
        return format_html('<div style="white-space: pre-wrap">{}</div>', flag.snapshot)

    def _act(self, request: HttpRequest, queryset: QuerySet[ContentFlag], action: str, title: str):
        form = ModerationActionForm(
            request.POST if "apply" in request.POST else None,
            action=action,
        )
        if "apply" in request.POST and form.is_valid():
            done, seen = 0, set()
            for flag in queryset.select_related("content_type").order_by("created_at", "pk"):
                key = (flag.content_type_id, flag.object_id)
                if key in seen:
                    continue
                seen.add(key)
                obj = moderation.flag_content(flag)
                if obj is None:
                    self.message_user(
                        request, f"Report {flag.pk}: the content was deleted.", messages.WARNING
                    )
                    continue
                try:
                    moderation.moderate(
                        actor=cast(User, request.user),
                        action=action,
                        obj=obj,
                        reason=form.cleaned_data["reason"],
                        note=form.cleaned_data["note"],
                    )
                except ApplicationError as error:
                    self.message_user(request, f"Report {flag.pk}: {error.message}", messages.WARNING)
                    continue
                log_admin_action(request, flag, f"{Decision(action).label}: {form.cleaned_data['reason']}")
                done += 1
            if done:
                self.message_user(
                    request,
                    f"{Decision(action).label}: {done} piece{'s' if done != 1 else ''} of content.",
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "flags": queryset.select_related("content_type", "reporter", "content_owner"),
            "action": request.POST.get("action", ""),
            "opts": self.model._meta,
        }
        return render(request, "admin/accounts/contentflag/action.html", context)

    @admin.action(description="Dismiss the reports (nothing wrong)")
    def dismiss_reports(self, request: HttpRequest, queryset: QuerySet[ContentFlag]) -> HttpResponse | None:
        return self._act(request, queryset, Decision.DISMISS, "Dismiss the reports")

    @admin.action(description="Hide the reported content")
    def hide_content(self, request: HttpRequest, queryset: QuerySet[ContentFlag]) -> HttpResponse | None:
        return self._act(request, queryset, Decision.HIDE, "Hide the reported content")

    @admin.action(description="Warn the author")
    def warn_author(self, request: HttpRequest, queryset: QuerySet[ContentFlag]) -> HttpResponse | None:
        return self._act(request, queryset, Decision.WARN, "Warn the author")

    @admin.action(description="Suspend the author")
    def suspend_author(self, request: HttpRequest, queryset: QuerySet[ContentFlag]) -> HttpResponse | None:
        return self._act(request, queryset, Decision.SUSPEND, "Suspend the author")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "content_type", "object_id", "target_user", "reason", "actor")
    list_filter = ("action", "content_type")
    search_fields = ("target_user__email", "actor__email", "note", "reason")
    list_select_related = ("actor", "target_user", "content_type")
    ordering = ("-created_at",)
    readonly_fields = [f.name for f in ModerationDecision._meta.fields]
