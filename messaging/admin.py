"""Staff moderation of chat: flagged messages, blocks, notifications (reported messages are
in the moderation queue, ``accounts.admin_moderation``).

Messages are read-only here (staff see deleted text too, as evidence). Actions call
services: joining a conversation as staff (for a dispute).
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from marketplace.errors import ApplicationError

from . import services
from .models import (
    Attachment,
    Block,
    Conversation,
    Message,
    Notification,
    NotificationPreference,
    Participant,
)
from .rendering import excerpt
from .safety import REASON_LABELS


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    can_delete = False
    fields = ("user", "joined_at", "left_at", "last_read_seq", "archived", "muted")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "__str__",
        "subject_type",
        "subject_id",
        "has_contract",
        "last_message_seq",
        "updated_at",
    )
    list_filter = ("has_contract", "subject_type")
    search_fields = ("title", "participants__user__email")
    list_select_related = ("subject_type",)
    date_hierarchy = "created_at"
    inlines = (ParticipantInline,)
    exclude = ("last_message",)
    actions = ("join_as_staff",)

    @admin.action(description="Join the selected conversations as staff (for a dispute)")
    def join_as_staff(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        joined = 0
        for conversation in queryset:
            try:
                staff = cast(User, request.user)
                services.participant_add(actor=staff, conversation_id=conversation.pk, user_id=staff.pk)
                joined += 1
            except ApplicationError as error:
                self.message_user(request, f"{conversation}: {error.message}", messages.WARNING)
        if joined:
            self.message_user(request, f"Joined {joined} conversation(s).", messages.SUCCESS)


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted by the sender"), ("no", "Not deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Flagged off-platform requests: filter by "flagged off platform: yes"."""

    list_display = (
        "created_at",
        "conversation",
        "seq",
        "sender",
        "short_body",
        "flagged_off_platform",
        "why_flagged",
        "deleted_at",
    )
    list_filter = ("flagged_off_platform", DeletedFilter, "kind")
    search_fields = ("body", "sender__email")
    list_select_related = ("conversation", "sender")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"

    @admin.display(description="message")
    def short_body(self, obj: Message) -> str:
        return excerpt(obj.body, 100)

    @admin.display(description="why flagged")
    def why_flagged(self, obj: Message) -> str:
        return ", ".join(REASON_LABELS.get(r, r) for r in obj.off_platform_reasons)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    """Names and sizes only: files are downloaded by participants through the chat."""

    list_display = (
        "created_at",
        "original_name",
        "kind",
        "size_bytes",
        "uploader",
        "conversation",
        "message",
    )
    list_select_related = ("uploader", "conversation", "message")
    list_filter = ("kind",)
    search_fields = ("original_name", "uploader__email")
    date_hierarchy = "created_at"
    fields = (
        "conversation",
        "message",
        "uploader",
        "original_name",
        "content_type",
        "kind",
        "size_bytes",
        "created_at",
    )


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "blocker", "blocked")
    list_select_related = ("blocker", "blocked")
    search_fields = ("blocker__email", "blocked__email")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "kind", "text", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("recipient__email", "text")
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "channel", "updated_at")
    list_filter = ("kind", "channel")
    list_select_related = ("user",)
    search_fields = ("user__email",)
