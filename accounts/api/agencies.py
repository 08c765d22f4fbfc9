"""Agency API under /api/v1/agencies/: thin views over ``accounts.agencies`` (members and
invitations) and ``payments.agency`` (the owner's balance and distributions)."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.errors import PermissionDeniedError
from payments import agency as agency_money

from .. import agencies
from ..models import Agency, AgencyInvitation, AgencyMembership, AgencyRole, User
from ..permissions import NotSuspended
from .serializers import ErrorSerializer


def _me(request: Request) -> User:
    return cast(User, request.user)


def _agency(request: Request, slug: str) -> Agency:
    agency = agencies.agency_get(slug=slug, viewer=request.user)
    if agency is None:
        raise NotFound("No such agency.")
    return agency


# --- serializers ----------------------------------------------------------------------------------


class AgencySerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", allow_blank=True, read_only=True)

    class Meta:
        model = Agency
        fields = ("id", "slug", "name", "tagline", "description", "website", "country", "created_at")


class MyAgencySerializer(serializers.Serializer):
    agency = AgencySerializer()
    role = serializers.CharField()
    joined_at = serializers.DateTimeField(source="created_at")


class AgencyMemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField(source="user.display_name")
    role = serializers.CharField()
    joined_at = serializers.DateTimeField(source="created_at")
    public_id = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()

    def _profile(self, obj: AgencyMembership) -> Any:
        return getattr(obj.user, "freelancer_profile", None)

    def get_public_id(self, obj: AgencyMembership) -> str | None:
        profile = self._profile(obj)
        return profile.public_id if profile is not None and profile.published_at else None

    def get_title(self, obj: AgencyMembership) -> str:
        profile = self._profile(obj)
        return profile.title if profile is not None else ""


class AgencyFiguresSerializer(serializers.Serializer):
    contracts_count = serializers.IntegerField()
    active_contracts = serializers.IntegerField()
    total_earned_cents = serializers.IntegerField()
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    reviews_count = serializers.IntegerField()


class AgencyDetailSerializer(serializers.Serializer):
    agency = AgencySerializer()
    members = AgencyMemberSerializer(many=True)
    figures = AgencyFiguresSerializer()


class AgencyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    tagline = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    website = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")


class AgencyInviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.CharField(
        max_length=10,
        default=AgencyRole.MEMBER.value,
        help_text='"member" or "admin" (admins: the owner only)',
    )


class AgencyInvitationSerializer(serializers.ModelSerializer):
    agency = serializers.CharField(source="agency.slug")
    role = serializers.CharField(help_text="member or admin")
    status = serializers.CharField(help_text="pending, accepted, declined, revoked or expired")

    class Meta:
        model = AgencyInvitation
        fields = ("id", "agency", "email", "role", "status", "created_at", "expires_at")


class AgencyInvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class AgencyBalanceSerializer(serializers.Serializer):
    pending_cents = serializers.IntegerField()
    available_cents = serializers.IntegerField()
    next_available_at = serializers.DateTimeField(allow_null=True)


class AgencyDistributionSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    member_name = serializers.CharField()
    amount_cents = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    by_name = serializers.CharField()


class AgencyDistributeSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1)
    amount_cents = serializers.IntegerField(min_value=1)
    idempotency_key = serializers.CharField(max_length=100)


# --- views ----------------------------------------------------------------------------------------


class MyAgenciesApi(APIView):
    """GET: the agencies I belong to, with my role. POST: found an agency (I become owner)."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={200: MyAgencySerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = agencies.agency_memberships_for_user(user=_me(request))
        return Response(MyAgencySerializer(rows, many=True).data)

    @extend_schema(
        request=AgencyCreateSerializer,
        responses={201: AgencySerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = AgencyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agency = agencies.agency_create(actor=_me(request), **data.validated_data)
        return Response(AgencySerializer(agency).data, status=status.HTTP_201_CREATED)


class AgencyDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: AgencyDetailSerializer, 404: ErrorSerializer})
    def get(self, request: Request, slug: str) -> Response:
        page = agencies.agency_page(agency=_agency(request, slug), reviews_limit=0)
        return Response(AgencyDetailSerializer(page).data)


class AgencyMembersApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: AgencyMemberSerializer(many=True), 404: ErrorSerializer})
    def get(self, request: Request, slug: str) -> Response:
        members = agencies.agency_members(agency=_agency(request, slug))
        return Response(AgencyMemberSerializer(members, many=True).data)


class AgencyInvitationsApi(APIView):
    """GET: pending invitations (owner and admins). POST: invite by email."""

    permission_classes = [IsAuthenticated, NotSuspended]

    def _require_manager(self, request: Request, agency: Agency) -> None:
        membership = agencies.membership_for(agency=agency, user=_me(request))
        if membership is None or membership.role not in agencies.MANAGER_ROLES:
            raise PermissionDeniedError(
                "Only the agency's owner or admins can do this.", code="agency_forbidden"
            )

    @extend_schema(
        responses={200: AgencyInvitationSerializer(many=True), 403: ErrorSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        agency = _agency(request, slug)
        self._require_manager(request, agency)
        return Response(
            AgencyInvitationSerializer(agencies.agency_pending_invitations(agency=agency), many=True).data
        )

    @extend_schema(
        request=AgencyInviteSerializer,
        responses={
            201: AgencyInvitationSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        agency = _agency(request, slug)
        data = AgencyInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = agencies.member_invite(actor=_me(request), agency_id=agency.pk, **data.validated_data)
        return Response(AgencyInvitationSerializer(sent.invitation).data, status=status.HTTP_201_CREATED)


class InvitationAcceptApi(APIView):
    """Accept an invitation with the token from its email link."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=AgencyInvitationAcceptSerializer,
        responses={200: MyAgencySerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = AgencyInvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = agencies.invitation_accept(actor=_me(request), token=data.validated_data["token"])
        return Response(MyAgencySerializer(membership).data)


class AgencyBalanceApi(APIView):
    """The agency's balance and distribution history: the owner only."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={200: AgencyBalanceSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request: Request, slug: str) -> Response:
        agency = _agency(request, slug)
        membership = agencies.membership_for(agency=agency, user=_me(request))
        if membership is None or membership.role != AgencyRole.OWNER:
            raise PermissionDeniedError(
                "Only the agency's owner can see its balance.", code="agency_forbidden"
            )
        return Response(AgencyBalanceSerializer(agency_money.agency_balance(agency_id=agency.pk)).data)


class AgencyDistributionsApi(APIView):
    """GET: the distribution history. POST: distribute to a member (owner only; send an
    ``idempotency_key``: the same key twice distributes once)."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        responses={200: AgencyDistributionSerializer(many=True), 403: ErrorSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        agency = _agency(request, slug)
        membership = agencies.membership_for(agency=agency, user=_me(request))
        if membership is None or membership.role != AgencyRole.OWNER:
            raise PermissionDeniedError(
                "Only the agency's owner can see its distributions.", code="agency_forbidden"
            )
        rows = agency_money.agency_distributions(agency_id=agency.pk)
        return Response(AgencyDistributionSerializer(rows, many=True).data)

    @extend_schema(
        request=AgencyDistributeSerializer,
        responses={
            201: AgencyDistributionSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        agency = _agency(request, slug)
        data = AgencyDistributeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        entry = agency_money.agency_distribute(
            actor=_me(request),
            agency_id=agency.pk,
            member_id=values["member_id"],
            amount_cents=values["amount_cents"],
            idempotency_key=values["idempotency_key"],
        )
        rows = agency_money.agency_distributions(agency_id=agency.pk, entry_id=entry.pk)
        return Response(AgencyDistributionSerializer(rows[0]).data, status=status.HTTP_201_CREATED)
