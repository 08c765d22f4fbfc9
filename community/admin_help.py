"""Staff views of the help center and events (imported by ``community.admin``).

Articles are written in Markdown; saving goes through ``community.help.article_save``,
which renders ``body_html`` and refreshes the search vector. Events are created here by
staff; the seat count (``registered_count``) changes only through the registration
services, so it is read-only, and the capacity cannot go below the seats taken.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from marketplace.admin_utils import ReadOnlyInline, log_admin_action
from marketplace.errors import ApplicationError

from . import events as event_services
from . import help as help_center
from .models import Article, ArticleFeedback, Event, EventRegistration, HelpCategory


@admin.register(HelpCategory)
class HelpCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "audience", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")


def _set_published(modeladmin: Any, request: HttpRequest, queryset: QuerySet, *, published: bool) -> None:
    actor = cast(User, request.user)
    done = 0
    for obj in queryset:
        try:
            if isinstance(obj, Article):
                help_center.article_set_published(actor=actor, article_id=obj.pk, published=published)
            else:
                event_services.event_set_published(actor=actor, event_id=obj.pk, published=published)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
            continue
        log_admin_action(request, obj, "Published" if published else "Unpublished")
        done += 1
    modeladmin.message_user(
        request, f"{'Published' if published else 'Unpublished'} {done}.", messages.SUCCESS
    )


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "is_published", "helpful_yes", "helpful_no", "updated_at")
    list_filter = ("is_published", "category")
    search_fields = ("title", "summary", "body", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("helpful_yes", "helpful_no", "created_at", "updated_at", "rendered")
    fields = (
        "category",
        "title",
        "slug",
        "summary",
        "body",
        "is_published",
        "position",
        "rendered",
        "helpful_yes",
        "helpful_no",
        "created_at",
        "updated_at",
    )
    actions = ("publish", "unpublish")

    @admin.display(description="Rendered body (as published)")
    def rendered(self, obj: Article) -> str:
        from django.utils.safestring import mark_safe

        return mark_safe(obj.body_html) if obj.body_html else "—"  # noqa: S308  (sanitised on save)

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        help_center.article_save(actor=cast(User, request.user), article=obj)

    @admin.action(description="Publish the selected articles")
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        _set_published(self, request, queryset, published=True)

    @admin.action(description="Unpublish the selected articles")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        _set_published(self, request, queryset, published=False)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):
    list_display = ("article", "helpful", "user", "created_at")
    list_filter = ("helpful",)
    readonly_fields = ("article", "user", "session_key", "helpful", "comment", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventRegistrationInline(ReadOnlyInline):
    model = EventRegistration
    fields = ("user", "status", "created_at", "cancelled_at", "reminded_day_at", "reminded_hour_at")
    readonly_fields = fields


class EventForm(forms.ModelForm):
    join_url = forms.URLField(label="Join URL", max_length=200, assume_scheme="https")
    recording_url = forms.URLField(
        label="Recording URL", max_length=200, required=False, assume_scheme="https"
    )

    class Meta:
        model = Event
        fields = (
            "title",
            "slug",
            "description",
            "speaker_name",
            "speaker_title",
            "starts_at",
            "duration_minutes",
            "capacity",
            "join_url",
            "recording_url",
            "is_published",
        )

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            taken = (
                Event.objects.filter(pk=self.instance.pk).values_list("registered_count", flat=True).first()
                or 0
            )
            if capacity < taken:
                raise forms.ValidationError(f"{taken} seats are already taken: the capacity cannot be lower.")
        if capacity < 1:
            raise forms.ValidationError("An event needs at least one seat.")
        return capacity


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    form = EventForm
    list_display = ("title", "starts_at", "capacity", "registered_count", "is_published")
    list_filter = ("is_published",)
    search_fields = ("title", "speaker_name", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("registered_count", "created_by", "created_at")
    inlines = (EventRegistrationInline,)
    actions = ("publish", "unpublish")

    def save_model(self, request: HttpRequest, obj: Event, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = cast(User, request.user)
            obj.save()
            return
        # Never write registered_count from the form's stale copy: registrations may have
        # changed it since the page was opened.
        fields = [name for name in form.changed_data if name != "registered_count"]
        if fields:
            obj.save(update_fields=fields)

    @admin.action(description="Publish the selected events")
    def publish(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        _set_published(self, request, queryset, published=True)

    @admin.action(description="Unpublish the selected events")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        _set_published(self, request, queryset, published=False)
