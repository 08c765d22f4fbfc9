"""Staff view of client teams: read-only (teams change through ``accounts.teams`` only),
with their members and invitations, so support can answer "who could see this job"."""

from __future__ import annotations

from django.contrib import admin

from marketplace.admin_utils import ReadOnlyAdmin, ReadOnlyInline

from .models import ClientTeam, TeamInvitation, TeamMembership


class TeamMembershipInline(ReadOnlyInline):
    model = TeamMembership
    fields = ("user", "role", "created_at")
    readonly_fields = fields


class TeamInvitationInline(ReadOnlyInline):
    model = TeamInvitation
    fields = ("email", "role", "status", "invited_by", "created_at", "expires_at", "responded_at")
    readonly_fields = fields  # never the token hash


@admin.register(ClientTeam)
class ClientTeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__email", "memberships__user__email")
    list_select_related = ("owner",)
    fields = ("name", "owner", "created_at")
    readonly_fields = fields
    inlines = (TeamMembershipInline, TeamInvitationInline)
