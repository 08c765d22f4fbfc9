"""API of client teams, under /api/v1/teams/: one's teams, a team with its members and
(for the owner) pending invitations, invitations by email, roles, removal and leaving.

Thin: input serializer, one service of ``accounts.teams``, output serializer. Outsiders get
404, teammates who may not manage the team 403, bad input 400.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import teams
from ..models import ClientTeam, TeamInvitation, TeamMembership, User
from ..permissions import NotSuspended
from .serializers import ErrorSerializer

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


# --- serializers ---------------------------------------------------------------------------------


# Roles and statuses are plain strings here (the services check them): their choice sets
# would collide in the schema with the agencies' "role" and the jobs' invitation "status".
ROLE_HELP = "owner, hiring_manager or viewer"
STATUS_HELP = "pending, accepted, declined, revoked or expired"


class TeamMemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    role = serializers.CharField(read_only=True, help_text=ROLE_HELP)
    name = serializers.CharField(source="user.display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = TeamMembership
        fields = ("user_id", "name", "email", "role", "created_at")


class TeamInvitationSerializer(serializers.ModelSerializer):
    team_id = serializers.IntegerField(read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    role = serializers.CharField(read_only=True, help_text=ROLE_HELP)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)

    class Meta:
        model = TeamInvitation
        fields = ("id", "team_id", "team_name", "email", "role", "status", "created_at", "expires_at")


class TeamSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team_id")
    name = serializers.CharField(source="team.name")
    owner_id = serializers.IntegerField(source="team.owner_id")
    role = serializers.CharField(help_text=ROLE_HELP)
    members_count = serializers.IntegerField()


class TeamDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.pk")
    name = serializers.CharField(source="team.name")
    owner_id = serializers.IntegerField(source="team.owner_id")
    role = serializers.CharField(help_text=ROLE_HELP)
    members = TeamMemberSerializer(many=True)
    invitations = TeamInvitationSerializer(many=True)


class TeamNameInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class InviteInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    role = serializers.CharField(max_length=20, help_text="hiring_manager or viewer")


class InviteOutputSerializer(TeamInvitationSerializer):
    accept_url = serializers.CharField(read_only=True)

    class Meta(TeamInvitationSerializer.Meta):
        fields: tuple[str, ...] = (*TeamInvitationSerializer.Meta.fields, "accept_url")  # type: ignore[assignment]


class RoleInputSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=20, help_text="hiring_manager or viewer")


class InvitationAnswerSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, max_length=100)
    invitation_id = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("token") and not attrs.get("invitation_id"):
            raise serializers.ValidationError("Give the invitation's token or its id.")
        return attrs


# --- views -----------------------------------------------------------------------------------------


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(request: Request, team_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(
        TeamDetailSerializer(teams.team_page(team_id=team_id, viewer=_me(request))).data, status=code
    )


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


class TeamListApi(_Authed):
    @extend_schema(
        summary="The caller's client teams, with their role",
        responses={200: TeamSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(TeamSummarySerializer(teams.teams_for_user(user=_me(request)), many=True).data)

    @extend_schema(
        summary="Create a client team (the caller, a client, is its owner)",
        request=TeamNameInputSerializer,
        responses={201: TeamDetailSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(TeamNameInputSerializer, request)
        team: ClientTeam = teams.team_create(actor=_me(request), name=data["name"])
        return _detail(request, team.pk, code=status.HTTP_201_CREATED)


class TeamDetailApi(_Authed):
    @extend_schema(
        summary="A team with its members (and, for the owner, pending invitations)",
        responses={200: TeamDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, team_id: int) -> Response:
        return _detail(request, team_id)

    @extend_schema(
        summary="Rename the team (the owner)",
        request=TeamNameInputSerializer,
        responses={200: TeamDetailSerializer, **ERRORS},
    )
    def patch(self, request: Request, team_id: int) -> Response:
        data = _valid(TeamNameInputSerializer, request)
        teams.team_rename(actor=_me(request), team_id=team_id, name=data["name"])
        return _detail(request, team_id)


class TeamInviteApi(_Authed):
    @extend_schema(
        summary="Invite someone by email (the owner); the answer holds the link, shown once",
        request=InviteInputSerializer,
        responses={201: InviteOutputSerializer, **ERRORS},
    )
    def post(self, request: Request, team_id: int) -> Response:
        data = _valid(InviteInputSerializer, request)
        invitation, token = teams.member_invite(
            actor=_me(request), team_id=team_id, email=data["email"], role=data["role"]
        )
        invitation.accept_url = teams.invitation_url(token)  # type: ignore[attr-defined]
        return Response(InviteOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class TeamMemberApi(_Authed):
    @extend_schema(
        summary="Change a member's role (the owner)",
        request=RoleInputSerializer,
        responses={200: TeamMemberSerializer, **ERRORS},
    )
    def patch(self, request: Request, team_id: int, user_id: int) -> Response:
        data = _valid(RoleInputSerializer, request)
        membership = teams.member_role_change(
            actor=_me(request), team_id=team_id, user_id=user_id, role=data["role"]
        )
        return Response(TeamMemberSerializer(membership).data)

    @extend_schema(summary="Remove a member (the owner)", request=None, responses={204: None, **ERRORS})
    def delete(self, request: Request, team_id: int, user_id: int) -> Response:
        teams.member_remove(actor=_me(request), team_id=team_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamLeaveApi(_Authed):
    @extend_schema(summary="Leave the team (not the owner)", request=None, responses={204: None, **ERRORS})
    def post(self, request: Request, team_id: int) -> Response:
        teams.team_leave(actor=_me(request), team_id=team_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyTeamInvitationsApi(_Authed):
    @extend_schema(
        summary="Pending invitations to the caller's email",
        responses={200: TeamInvitationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            TeamInvitationSerializer(teams.invitations_for_user(user=_me(request)), many=True).data
        )


class TeamInvitationAcceptApi(_Authed):
    @extend_schema(
        summary="Accept an invitation (by its link's token, or its id) addressed to the caller's email",
        request=InvitationAnswerSerializer,
        responses={200: TeamMemberSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(InvitationAnswerSerializer, request)
        membership = teams.invitation_accept(
            actor=_me(request), token=data.get("token"), invitation_id=data.get("invitation_id")
        )
        return Response(TeamMemberSerializer(membership).data)


class TeamInvitationDeclineApi(_Authed):
    @extend_schema(
        summary="Decline an invitation addressed to the caller's email",
        request=InvitationAnswerSerializer,
        responses={200: TeamInvitationSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(InvitationAnswerSerializer, request)
        invitation = teams.invitation_decline(
            actor=_me(request), token=data.get("token"), invitation_id=data.get("invitation_id")
        )
        return Response(TeamInvitationSerializer(invitation).data)


class TeamInvitationRevokeApi(_Authed):
    @extend_schema(
        summary="Revoke a pending invitation (the owner)",
        request=None,
        responses={200: TeamInvitationSerializer, **ERRORS},
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        invitation = teams.invitation_revoke(actor=_me(request), invitation_id=invitation_id)
        return Response(TeamInvitationSerializer(invitation).data)
