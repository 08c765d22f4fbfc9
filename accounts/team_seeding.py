"""Demo data of client teams: the first demo client gets a team with the second as a hiring
manager and the third as a viewer. Built through the real services (invitation and
acceptance), idempotent: a client who owns a team already is left as they are."""

from __future__ import annotations

from collections.abc import Sequence

from django.test.utils import override_settings

from . import teams
from .models import ClientTeam, TeamMembership, TeamRole, User


def seed_demo_team(*, clients: Sequence[User]) -> str:
    """Returns a one-line summary for the seed command's output."""
    if len(clients) < 3:
        return "skipped (needs three demo clients)"
    owner, manager, viewer = clients[0], clients[1], clients[2]
    team = ClientTeam.objects.filter(owner=owner).order_by("pk").first()
    if team is None:
        company = getattr(getattr(owner, "client_profile", None), "company_name", "") or owner.display_name
        # the invitation emails are not needed: the invitees accept through the service
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            team = teams.team_create(actor=owner, name=f"{company} hiring team"[:100])
            for user, role in ((manager, TeamRole.HIRING_MANAGER), (viewer, TeamRole.VIEWER)):
                _invitation, token = teams.member_invite(
                    actor=owner, team_id=team.pk, email=user.email, role=role
                )
                teams.invitation_accept(actor=user, token=token)
    members = {
        m.user.email: m.get_role_display()
        for m in TeamMembership.objects.filter(team=team).select_related("user")
    }
    listed = ", ".join(f"{email} ({role.lower()})" for email, role in sorted(members.items()))
    return f"“{team.name}”: {listed}"
