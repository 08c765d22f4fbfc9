"""Staff moderation of users and profiles. Admin actions call services; every one is logged."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.shortcuts import render

from marketplace.admin_utils import log_admin_action as _log
from marketplace.errors import ApplicationError

from . import services
from .admin_trust import IdentityVerificationInline  # also registers IdentityVerificationAdmin
from .forms import SuspendForm
from .models import (
    AssessmentAttempt,
    AssessmentChoice,
    AssessmentQuestion,
    Category,
    ClientProfile,
    Education,
    Employment,
    FreelancerProfile,
    PortfolioItem,
    ProfileLanguage,
    Skill,
    SkillAssessment,
    Subcategory,
    User,
    UserModerationEvent,
)


class ModerationEventInline(admin.TabularInline):
    model = UserModerationEvent
    fk_name = "user"
    extra = 0
    can_delete = False
    readonly_fields = ("action", "reason", "note", "actor", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspension"
    parameter_name = "suspended"

    def lookups(self, request, model_admin):
        return [("yes", "Suspended"), ("no", "Not suspended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class RoleFilter(admin.SimpleListFilter):
    title = "roles"
    parameter_name = "has_role"

    def lookups(self, request, model_admin):
        return [("freelancer", "Freelancers"), ("client", "Clients")]

    def queryset(self, request, queryset):
        if self.value() == "freelancer":
            return queryset.filter(freelancer_profile__isnull=False)
        if self.value() == "client":
            return queryset.filter(client_profile__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "full_name",
        "active_role",
        "is_staff",
        "suspended_at",
        "suspension_reason",
        "date_joined",
        "last_login",
    )
    list_filter = (
        SuspendedFilter,
        RoleFilter,
        "active_role",
        "is_staff",
        "is_active",
        "suspension_reason",
        "date_joined",
    )
    search_fields = ("email", "first_name", "last_name")
    date_hierarchy = "date_joined"
    readonly_fields = (
        "identity_verified_at",
        "signup_ip",
        "warnings_count",
        "date_joined",
        "last_login",
        "suspended_at",
        "suspension_reason",
        "suspension_note",
        "deleted_at",
    )
    inlines = [ModerationEventInline, IdentityVerificationInline]
    actions = ["suspend_users", "reinstate_users"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "active_role")}),
        (
            "Suspension (use the actions to change)",
            {"fields": ("suspended_at", "suspension_reason", "suspension_note", "deleted_at")},
        ),
        (
            "Trust (ID review in Identity verifications)",
            {"fields": ("identity_verified_at", "signup_ip", "warnings_count")},
        ),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.action(description="Suspend selected users (asks for a reason)")
    def suspend_users(self, request, queryset):
        if "apply" in request.POST:
            form = SuspendForm(request.POST)
            if form.is_valid():
                done = 0
                for user in queryset:
                    try:
                        services.user_suspend(actor=request.user, user_id=user.pk, **form.cleaned_data)
                    except ApplicationError as error:
                        self.message_user(request, f"{user.email}: {error.message}", messages.WARNING)
                        continue
                    _log(request, user, f"Suspended: {form.cleaned_data['reason']}")
                    done += 1
                self.message_user(request, f"Suspended {done} user(s).", messages.SUCCESS)
                return None
        else:
            form = SuspendForm()
        return render(
            request,
            "admin/accounts/suspend.html",
            {
                **self.admin_site.each_context(request),
                "title": "Suspend users",
                "form": form,
                "users": queryset,
                "action": "suspend_users",
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Reinstate selected users")
    def reinstate_users(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                services.user_reinstate(actor=request.user, user_id=user.pk)
            except ApplicationError as error:
                self.message_user(request, f"{user.email}: {error.message}", messages.WARNING)
                continue
            _log(request, user, "Reinstated")
            done += 1
        self.message_user(request, f"Reinstated {done} user(s).", messages.SUCCESS)


HTTPS_URLS: dict = {models.URLField: {"assume_scheme": "https"}}


class PortfolioInline(admin.StackedInline):
    model = PortfolioItem
    extra = 0
    formfield_overrides = HTTPS_URLS
    autocomplete_fields = ("skills",)


class EducationInline(admin.TabularInline):
    model = Education
    extra = 0


class EmploymentInline(admin.TabularInline):
    model = Employment
    extra = 0


class LanguageInline(admin.TabularInline):
    model = ProfileLanguage
    extra = 0


@admin.register(FreelancerProfile)
class FreelancerProfileAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "title",
        "category",
        "hourly_rate_cents",
        "country",
        "visibility",
        "published_at",
        "job_success_score",
    )
    list_filter = (
        "visibility",
        "availability",
        "experience_level",
        "category",
        "country",
        ("published_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__email", "user__first_name", "user__last_name", "title", "public_id")
    list_select_related = ("user", "category")
    autocomplete_fields = ("skills", "user")
    readonly_fields = (
        "public_id",
        "job_success_score",
        "rating_avg",
        "reviews_count",
        "total_earned_cents",
        "total_jobs",
        "badges",
        "created_at",
        "updated_at",
    )
    inlines = [LanguageInline, EducationInline, EmploymentInline, PortfolioInline]
    date_hierarchy = "created_at"


@admin.register(ClientProfile)
class ClientProfileAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = (
        "user",
        "kind",
        "company_name",
        "country",
        "payment_method_verified",
        "jobs_posted_count",
        "total_spent_cents",
    )
    list_filter = ("kind", "company_size", "payment_method_verified", "country")
    search_fields = ("user__email", "company_name", "public_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    readonly_fields = (
        "public_id",
        "payment_method_verified",
        "jobs_posted_count",
        "hires_count",
        "total_spent_cents",
        "rating_avg",
        "reviews_count",
        "created_at",
        "updated_at",
    )


@admin.register(UserModerationEvent)
class UserModerationEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "reason", "actor")
    list_filter = ("action", "reason")
    search_fields = ("user__email", "actor__email", "note")
    readonly_fields = ("user", "actor", "action", "reason", "note", "created_at")
    list_select_related = ("user", "actor")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SubcategoryInline(admin.TabularInline):
    model = Subcategory
    extra = 0
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [SubcategoryInline]


@admin.register(Subcategory)
class SubcategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "slug")
    list_filter = ("category",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "subcategory")
    list_filter = ("subcategory__category",)
    search_fields = ("name",)
    list_select_related = ("subcategory__category",)
    prepopulated_fields = {"slug": ("name",)}


class ChoiceInline(admin.TabularInline):
    model = AssessmentChoice
    extra = 0


@admin.register(AssessmentQuestion)
class AssessmentQuestionAdmin(admin.ModelAdmin):
    list_display = ("text", "assessment", "position")
    list_filter = ("assessment",)
    search_fields = ("text",)
    inlines = [ChoiceInline]


class QuestionInline(admin.TabularInline):
    model = AssessmentQuestion
    extra = 0
    show_change_link = True


@admin.register(SkillAssessment)
class SkillAssessmentAdmin(admin.ModelAdmin):
    list_display = ("title", "skill", "time_limit_minutes", "pass_percent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "skill__name")
    autocomplete_fields = ("skill",)
    inlines = [QuestionInline]


@admin.register(AssessmentAttempt)
class AssessmentAttemptAdmin(admin.ModelAdmin):
    list_display = ("user", "assessment", "started_at", "submitted_at", "score_percent", "passed")
    list_filter = ("passed", "assessment")
    search_fields = ("user__email",)
    list_select_related = ("user", "assessment")
    date_hierarchy = "started_at"
    readonly_fields = (
        "user",
        "assessment",
        "started_at",
        "deadline_at",
        "submitted_at",
        "score_percent",
        "passed",
    )


import accounts.admin_teams  # noqa: E402, F401  (registers the client teams' admin)

from . import admin_moderation  # noqa: E402, F401  (registers the moderation queue's admins)
