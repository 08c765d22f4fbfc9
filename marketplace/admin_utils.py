"""Admin building blocks the apps share: read-only admins and inlines for rows that only
services write, and a helper recording a staff action in Django's admin log."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.http import HttpRequest


def log_admin_action(request: HttpRequest, obj, message: str) -> None:
    """Record the staff action in Django's admin log too."""
    LogEntry.objects.log_actions(
        user_id=cast(int, request.user.pk),
        queryset=[obj],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


class NoWritesMixin:
    """For admins and inlines whose rows are written by the services, never by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, admin.ModelAdmin):
    """Browse only: rows are written by the services, never by hand."""


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
