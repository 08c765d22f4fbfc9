"""HTML views of client teams: the list of one's teams and invitations, a team's page
(members, roles, invitations), and the page an invitation link opens.

Thin: parse a form, call one service of ``accounts.teams``, redirect with a message.
Someone outside a team gets a 404; a teammate who may not manage it a 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.types import AuthedRequest

from . import teams
from .models import InvitationStatus, TeamRole

ROLE_CHOICES = [(role.value, role.label) for role in teams.MEMBER_ROLES]


class TeamNameForm(forms.Form):
    name = forms.CharField(label="Team name", min_length=teams.NAME_MIN, max_length=teams.NAME_MAX)


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(
        label="Role",
        choices=ROLE_CHOICES,
        initial=TeamRole.VIEWER,
        help_text="Hiring managers post jobs, review proposals and hire; viewers only read.",
    )


class TeamRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)


def _team_url(team_id: int) -> str:
    return reverse("accounts:team_detail", kwargs={"team_id": team_id})


@login_required
@require_GET
def team_list(request: AuthedRequest) -> HttpResponse:
    context = {
        "memberships": list(teams.teams_for_user(user=request.user)),
        "invitations": list(teams.invitations_for_user(user=request.user)),
        "form": TeamNameForm(),
    }
    return render(request, "accounts/teams/list.html", context)


@login_required
@require_POST
def team_create(request: AuthedRequest) -> HttpResponse:
    form = TeamNameForm(request.POST)
    if form.is_valid():
        try:
            team = teams.team_create(actor=request.user, name=form.cleaned_data["name"])
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, f"Team “{team.name}” created. Invite your teammates by email.")
            return redirect("accounts:team_detail", team_id=team.pk)
    context = {
        "memberships": list(teams.teams_for_user(user=request.user)),
        "invitations": list(teams.invitations_for_user(user=request.user)),
        "form": form,
    }
    return render(request, "accounts/teams/list.html", context, status=400)


def _render_team(
    request: AuthedRequest, team_id: int, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    page = teams.team_page(team_id=team_id, viewer=request.user)
    # the reverse relation of jobs.Job.team (accounts does not import jobs)
    jobs = list(page.team.jobs.order_by("-created_at", "-id")[:20])
    context = {
        "page": page,
        "team": page.team,
        "jobs": jobs,
        "invite_form": forms_.get("invite_form") or TeamInviteForm(),
        "rename_form": forms_.get("rename_form") or TeamNameForm(initial={"name": page.team.name}),
        "role_choices": ROLE_CHOICES,
    }
    return render(request, "accounts/teams/detail.html", context, status=status)


@login_required
@require_GET
def team_detail(request: AuthedRequest, team_id: int) -> HttpResponse:
    return _render_team(request, team_id)


@login_required
@require_POST
def team_rename(request: AuthedRequest, team_id: int) -> HttpResponse:
    teams.team_page(team_id=team_id, viewer=request.user)  # 404 for outsiders first
    form = TeamNameForm(request.POST)
    if form.is_valid():
        try:
            team = teams.team_rename(actor=request.user, team_id=team_id, name=form.cleaned_data["name"])
        except ApplicationError as error:
            if error.status_code in (403, 404):
                raise
            add_application_error(form, error)
        else:
            messages.success(request, f"The team is now called “{team.name}”.")
            return redirect(_team_url(team.pk))
    return _render_team(request, team_id, status=400, rename_form=form)


@login_required
@require_POST
def member_invite(request: AuthedRequest, team_id: int) -> HttpResponse:
    teams.team_page(team_id=team_id, viewer=request.user)
    form = TeamInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _token = teams.member_invite(
                actor=request.user,
                team_id=team_id,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ApplicationError as error:
            if error.status_code in (403, 404):
                raise
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. The link works for {teams.INVITATION_DAYS} days.",
            )
            return redirect(_team_url(team_id))
    return _render_team(request, team_id, status=400, invite_form=form)


@login_required
@require_POST
def invitation_revoke(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    invitation = teams.invitation_revoke(actor=request.user, invitation_id=invitation_id)
    messages.success(request, f"The invitation to {invitation.email} is revoked; its link no longer works.")
    return redirect(_team_url(invitation.team_id))


@login_required
@require_POST
def member_role(request: AuthedRequest, team_id: int, user_id: int) -> HttpResponse:
    teams.team_page(team_id=team_id, viewer=request.user)
    form = TeamRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose hiring manager or viewer.")
        return redirect(_team_url(team_id))
    try:
        membership = teams.member_role_change(
            actor=request.user, team_id=team_id, user_id=user_id, role=form.cleaned_data["role"]
        )
    except ApplicationError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"{membership.user.display_name} is now a {membership.get_role_display().lower()}."
        )
    return redirect(_team_url(team_id))


@login_required
@require_POST
def member_remove(request: AuthedRequest, team_id: int, user_id: int) -> HttpResponse:
    teams.team_page(team_id=team_id, viewer=request.user)
    try:
        teams.member_remove(actor=request.user, team_id=team_id, user_id=user_id)
    except ApplicationError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, "Removed from the team: they no longer see its jobs.")
    return redirect(_team_url(team_id))


@login_required
@require_POST
def team_leave(request: AuthedRequest, team_id: int) -> HttpResponse:
    try:
        teams.team_leave(actor=request.user, team_id=team_id)
    except ApplicationError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
        return redirect(_team_url(team_id))
    messages.success(request, "You left the team.")
    return redirect("accounts:teams")


@login_required
def invitation_by_token(request: AuthedRequest, token: str) -> HttpResponse:
    """The page an invitation email links to: accept or decline (signed in as the invitee)."""
    invitation = teams.invitation_for_token(token=token)
    matches = invitation.email.lower() == request.user.email.lower()
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("accept", "decline"):
            messages.error(request, "Choose to accept or decline.")
            return redirect("accounts:team_invitation", token=token)
        try:
            if action == "accept":
                membership = teams.invitation_accept(actor=request.user, token=token)
            else:
                teams.invitation_decline(actor=request.user, token=token)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("accounts:team_invitation", token=token)
        if action == "accept":
            messages.success(request, f"Welcome to {invitation.team.name}.")
            return redirect(_team_url(membership.team_id))
        messages.success(request, f"You declined to join {invitation.team.name}.")
        return redirect("accounts:teams")
    expired = invitation.status == InvitationStatus.PENDING and invitation.expires_at <= timezone.now()
    context = {"invitation": invitation, "matches": matches, "expired": expired}
    return render(request, "accounts/teams/invitation.html", context)


@login_required
@require_POST
def invitation_respond(request: AuthedRequest, invitation_id: int, action: str) -> HttpResponse:
    """Accept or decline from the list of one's invitations (no link needed: the email matches)."""
    if action not in ("accept", "decline"):
        raise Http404("No such action.")
    try:
        if action == "accept":
            membership = teams.invitation_accept(actor=request.user, invitation_id=invitation_id)
        else:
            teams.invitation_decline(actor=request.user, invitation_id=invitation_id)
    except ApplicationError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
        return redirect("accounts:teams")
    if action == "accept":
        messages.success(request, f"Welcome to {membership.team.name}.")
        return redirect(_team_url(membership.team_id))
    messages.success(request, "Invitation declined.")
    return redirect("accounts:teams")
