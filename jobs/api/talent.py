"""API views: talent search and invitations.

Thin: validate with an input serializer (or ``FreelancerFilter``), call a selector of
``jobs.talent`` or one service of ``jobs.services``, serialise the result.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer, SkillSerializer
from accounts.models import User
from accounts.permissions import NotSuspended

from .. import services, talent
from ..models import Invitation, Job


def _me(request: Request) -> User:
    """The caller, on views whose permission classes already require authentication."""
    return cast(User, request.user)


# --- serializers ---------------------------------------------------------------------------------


class TalentSerializer(serializers.Serializer):
    """A freelancer in talent search results (reads a ``jobs.talent.TalentCard``)."""

    public_id = serializers.CharField(source="profile.public_id")
    name = serializers.CharField(source="profile.user.display_name")
    title = serializers.CharField(source="profile.title")
    hourly_rate_cents = serializers.IntegerField(source="profile.hourly_rate_cents", allow_null=True)
    country = serializers.CharField(source="profile.country.code", help_text="ISO 3166 code, or empty")
    job_success_score = serializers.IntegerField(
        source="profile.job_success_score", allow_null=True, help_text="Percent; null for new freelancers"
    )
    rating_avg = serializers.DecimalField(
        source="profile.rating_avg", max_digits=3, decimal_places=2, allow_null=True
    )
    skills = SkillSerializer(source="profile.skills.all", many=True)
    verified_skills = SkillSerializer(many=True, help_text="Skills whose test the freelancer passed")
    availability = serializers.CharField(source="profile.availability")


class TalentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one")
    results = TalentSerializer(many=True)


class InvitationJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["public_id", "title", "status"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    job = InvitationJobSerializer(read_only=True)
    client_name = serializers.CharField(source="client.display_name", read_only=True)
    freelancer_public_id = serializers.CharField(
        source="freelancer.freelancer_profile.public_id", read_only=True, default=None
    )
    freelancer_name = serializers.CharField(source="freelancer.display_name", read_only=True)
    # blank unless declined: the schema must allow "" besides the reasons
    decline_reason = serializers.ChoiceField(
        choices=Invitation.DeclineReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "status",
            "job",
            "client_name",
            "freelancer_public_id",
            "freelancer_name",
            "message",
            "created_at",
            "expires_at",
            "responded_at",
            "decline_reason",
            "decline_note",
        ]
        read_only_fields = fields


class InvitationSendInputSerializer(serializers.Serializer):
    freelancer_public_id = serializers.CharField(required=False, max_length=20)
    freelancer_id = serializers.IntegerField(
        required=False, min_value=1, help_text="The freelancer's user id"
    )
    message = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("freelancer_public_id", "freelancer_id") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"freelancer_public_id": ["Give either freelancer_public_id or freelancer_id."]}
            )
        return attrs


class InvitationDeclineInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Invitation.DeclineReason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class InvitationListParamsSerializer(serializers.Serializer):
    sent = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(choices=Invitation.Status.choices, required=False)


# --- talent search -------------------------------------------------------------------------------

_PARAMETER_TYPES: dict[str, tuple[Any, bool]] = {
    "skills": (int, True),
    "category": (int, False),
    "jss_min": (int, False),
    "rating_min": (OpenApiTypes.DECIMAL, False),
    "rate_min": (OpenApiTypes.DECIMAL, False),
    "rate_max": (OpenApiTypes.DECIMAL, False),
    "languages": (str, True),
    "availability": (str, True),
    "verified": (bool, False),
}


_PARAMETER_NOTES = {
    "q": "Keywords, all of which must appear in the title, overview or a skill's name",
    "skills": "Skill ids; freelancers with any of them",
    "rate_min": "Minimum hourly rate in dollars (45 or 45.50)",
    "rate_max": "Maximum hourly rate in dollars",
    "rating_min": "Minimum average rating, 0 to 5; unrated freelancers are left out",
    "jss_min": "Minimum Job Success Score in percent; freelancers without one are left out",
    "country": "ISO 3166-1 alpha-2 code",
    "languages": "ISO 639-1 codes; freelancers who speak any of them",
    "english": "Minimum English proficiency (basic < conversational < fluent < native)",
    "verified": "true: only freelancers who passed a skill test (in one of `skills`, when given)",
    "sort": "best (default): keyword relevance, then reputation with new profiles ranked as neutral",
}


def _talent_parameters() -> list[OpenApiParameter]:
    """The query parameters, generated from ``FreelancerFilter`` so that the two never differ."""
    parameters = []
    for name, spec in talent.FreelancerFilter.base_filters.items():
        kind, many = _PARAMETER_TYPES.get(name, (str, False))
        choices = spec.extra.get("choices")  # plain choices only: no query at import time
        enum = [str(value) for value, _ in choices if value != ""] if choices else None
        description = _PARAMETER_NOTES.get(name, str(spec.label))
        parameters.append(OpenApiParameter(name, kind, many=many, enum=enum, description=description))
    parameters.append(OpenApiParameter("cursor", str, description="The `next` link's cursor"))
    return parameters


class TalentSearchApi(APIView):
    """Search published freelancers; keyset-paginated in the chosen order."""

    permission_classes = [AllowAny, NotSuspended]

    @extend_schema(
        parameters=_talent_parameters(), responses={200: TalentPageSerializer, 400: ErrorSerializer}
    )
    def get(self, request: Request) -> Response:
        search = talent.talent_search(params=request.query_params, viewer=request.user)
        if not search.is_valid:
            raise ValidationError(search.errors)
        page = talent.talent_page(search, cursor=request.query_params.get("cursor") or None)
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {"next": next_url, "results": TalentSerializer(page.cards, many=True).data},
            status=status.HTTP_200_OK,
        )


# --- invitations ---------------------------------------------------------------------------------


class InvitationSendApi(APIView):
    """Invite a freelancer to one of the caller's open jobs."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=InvitationSendInputSerializer,
        responses={
            201: InvitationSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        data = InvitationSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job_id = talent.job_pk_by_public_id(public_id)
        if values.get("freelancer_public_id"):
            profile = talent.invitable_freelancer_by_public_id(
                public_id=values["freelancer_public_id"], viewer=request.user
            )
        else:
            profile = talent.invitable_freelancer(user_id=values["freelancer_id"], viewer=request.user)
        invitation = services.invitation_send(
            actor=_me(request), job_id=job_id, freelancer_id=profile.user_id, message=values["message"]
        )
        invitation = talent.invitation_for_party(invitation_id=invitation.pk, viewer=_me(request))
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class InvitationListApi(generics.ListAPIView):
    """Invitations the caller received, or with ``sent=true`` the ones they sent as a client."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = InvitationSerializer
    pagination_class = InvitationPagination
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("sent", bool, description="true: the invitations you sent as a client"),
            OpenApiParameter("status", str, enum=Invitation.Status.values),
        ],
        responses={200: InvitationSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Invitation]:
        params = InvitationListParamsSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return talent.invitation_list(
            user=_me(self.request),
            sent=params.validated_data["sent"],
            status=params.validated_data.get("status", ""),
        )


class InvitationAcceptApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=None, responses={200: InvitationSerializer, 400: ErrorSerializer, 404: ErrorSerializer}
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        services.invitation_accept(actor=_me(request), invitation_id=invitation_id)
        invitation = talent.invitation_for_party(invitation_id=invitation_id, viewer=_me(request))
        return Response(InvitationSerializer(invitation).data)


class InvitationDeclineApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=InvitationDeclineInputSerializer,
        responses={200: InvitationSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        data = InvitationDeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.invitation_decline(
            actor=_me(request),
            invitation_id=invitation_id,
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
        )
        invitation = talent.invitation_for_party(invitation_id=invitation_id, viewer=_me(request))
        return Response(InvitationSerializer(invitation).data)


urlpatterns: list[URLPattern] = [
    path("talent/", TalentSearchApi.as_view(), name="api_talent"),
    path("jobs/<str:public_id>/invitations/", InvitationSendApi.as_view(), name="api_invitation_send"),
    path("invitations/", InvitationListApi.as_view(), name="api_invitations"),
    path(
        "invitations/<int:invitation_id>/accept/", InvitationAcceptApi.as_view(), name="api_invitation_accept"
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        InvitationDeclineApi.as_view(),
        name="api_invitation_decline",
    ),
]
