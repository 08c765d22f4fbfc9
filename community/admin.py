"""Staff views of the community. Boards are edited here; threads, posts and posting
restrictions change only through ``community.forums``: the actions (pin, lock, move,
approve, hide, restrict, restore) call its services, which log an
``accounts.ModerationDecision``; the admin log records them too."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from marketplace.admin_utils import ReadOnlyAdmin, log_admin_action
from marketplace.errors import ApplicationError

from . import (
    admin_help,  # noqa: F401  (the help center's admin registers itself)
    forums,
)
from .models import Board, Post, PostingRestriction, Thread


def _run(request: HttpRequest, queryset: QuerySet, label: str, call: Any) -> None:
    """Apply ``call(obj)`` to each selected row; report what worked and what did not."""
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except ApplicationError as error:
            messages.error(request, f"{obj}: {error.message}")
        else:
            done += 1
            log_admin_action(request, obj, label)
    if done:
        messages.success(request, f"{label}: {done} done.")


def _staff(request: HttpRequest) -> User:
    return cast(User, request.user)


def _flag_action(name: str, description: str, label: str, service: Any, flag: str, value: bool) -> Any:
    """An admin action setting one of a thread's staff flags through ``service`` for each row."""

    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
        _run(
            request,
            queryset,
            label,
            lambda t: service(actor=_staff(request), thread_id=t.pk, **{flag: value}),
        )

    action.__name__ = name
    return admin.action(description=description)(action)


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "position",
        "staff_only_threads",
        "thread_count",
        "post_count",
        "last_activity_at",
    )
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("thread_count", "post_count", "last_activity_at")


class MoveActionForm(ActionForm):
    board = forms.ModelChoiceField(
        queryset=Board.objects.all(), required=False, label="Move to board", empty_label="(for Move)"
    )


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "title",
        "board",
        "author",
        "reply_count",
        "like_count",
        "is_pinned",
        "is_locked",
        "held_at",
        "hidden_at",
        "last_activity_at",
    )
    list_filter = ("board", "is_pinned", "is_locked")
    search_fields = ("title", "author__email")
    list_select_related = ("board", "author")
    action_form = MoveActionForm
    actions = ("pin", "unpin", "lock", "unlock", "move")

    def has_change_permission(self, request, obj=None) -> bool:
        # the actions need it; every field stays read-only (ReadOnlyAdmin's form is unused)
        return bool(request.user.is_staff and request.user.has_perm("community.change_thread"))

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Thread._meta.fields]

    pin = _flag_action("pin", "Pin the selected threads", "Pinned", forums.thread_set_pinned, "pinned", True)
    unpin = _flag_action(
        "unpin", "Unpin the selected threads", "Unpinned", forums.thread_set_pinned, "pinned", False
    )
    lock = _flag_action(
        "lock", "Lock the selected threads", "Locked", forums.thread_set_locked, "locked", True
    )
    unlock = _flag_action(
        "unlock", "Unlock the selected threads", "Unlocked", forums.thread_set_locked, "locked", False
    )

    @admin.action(description="Move the selected threads to the board chosen below")
    def move(self, request, queryset):
        board_id = request.POST.get("board")
        if not board_id:
            messages.error(request, "Choose the board to move the threads to.")
            return
        _run(
            request,
            queryset,
            "Moved",
            lambda t: forums.thread_move(actor=_staff(request), thread_id=t.pk, board_id=board_id),
        )


class HeldFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("held", "Waiting for review"), ("hidden", "Hidden"), ("visible", "Visible")]

    def queryset(self, request, queryset):
        if self.value() == "held":
            return queryset.filter(held_at__isnull=False, hidden_at__isnull=True)
        if self.value() == "hidden":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "visible":
            return queryset.filter(held_at__isnull=True, hidden_at__isnull=True)
        return queryset


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "thread",
        "author",
        "is_opening",
        "like_count",
        "created_at",
        "held_at",
        "hidden_at",
    )
    list_filter = (HeldFilter, "is_opening")
    search_fields = ("body", "author__email", "thread__title")
    list_select_related = ("thread", "author")
    actions = ("approve", "hide", "unhide")

    def has_change_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_staff and request.user.has_perm("community.change_post"))

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Post._meta.fields]

    @admin.action(description="Approve the selected held posts")
    def approve(self, request, queryset):
        _run(
            request, queryset, "Approved", lambda p: forums.post_approve(actor=_staff(request), post_id=p.pk)
        )

    @admin.action(description="Hide the selected posts")
    def hide(self, request, queryset):
        _run(request, queryset, "Hidden", lambda p: forums.post_hide(actor=_staff(request), post_id=p.pk))

    @admin.action(description="Show the selected posts again")
    def unhide(self, request, queryset):
        _run(
            request,
            queryset,
            "Shown again",
            lambda p: forums.post_unhide(actor=_staff(request), post_id=p.pk),
        )


class RestrictionForm(forms.ModelForm):
    actor_id: int | None = None  # set by the admin: the staff member adding the row

    class Meta:
        model = PostingRestriction
        fields = ("user", "reason", "until")

    def clean(self):
        data = super().clean()
        user, until = data.get("user"), data.get("until")
        if user is not None and user.pk == self.actor_id:
            raise forms.ValidationError("You cannot restrict your own posting rights.")
        if until is not None and until <= timezone.now():
            self.add_error("until", "The end of the restriction must be in the future.")
        return data


@admin.register(PostingRestriction)
class PostingRestrictionAdmin(admin.ModelAdmin):
    """Adding a row suspends the member's posting rights (through the service); the
    "restore" action gives them back. Rows are never edited by hand."""

    form = RestrictionForm
    list_display = ("user", "reason", "until", "created_by", "created_at")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    list_select_related = ("user", "created_by")
    actions = ("restore",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor_id = request.user.pk  # type: ignore[attr-defined]
        return form

    def save_model(self, request, obj, form, change):
        # the form checked what the service refuses, so this does not fail on input
        restriction = forums.posting_restrict(
            actor=_staff(request),
            user_id=form.cleaned_data["user"].pk,
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data.get("until"),
        )
        obj.pk = restriction.pk

    @admin.action(description="Restore the posting rights of the selected members")
    def restore(self, request, queryset):
        _run(
            request,
            queryset,
            "Posting restored",
            lambda r: forums.posting_restore(actor=_staff(request), user_id=r.user_id),
        )
