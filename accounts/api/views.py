"""Thin API views: validate with an input serializer, call a service, serialise the result."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from marketplace.errors import PermissionDeniedError
from marketplace.ids import as_id

from .. import selectors, services
from ..models import Category, ClientProfile, FreelancerProfile, Skill, User
from ..permissions import NotSuspended
from . import serializers as s


def _me(request: Request) -> User:
    """The caller, on views whose permission classes already require authentication."""
    return cast(User, request.user)


class MeApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={200: s.MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(_me(request)).data)

    @extend_schema(request=s.MeUpdateSerializer, responses={200: s.MeSerializer, 400: s.ErrorSerializer})
    def patch(self, request: Request) -> Response:
        data = s.MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "first_name" in values or "last_name" in values:
            services.user_update_name(
                actor=_me(request),
                first_name=values.get("first_name", _me(request).first_name),
                last_name=values.get("last_name", _me(request).last_name),
            )
        if "active_role" in values:
            services.user_switch_role(actor=_me(request), role=values["active_role"])
        _me(request).refresh_from_db()
        return Response(s.MeSerializer(_me(request)).data)


def _own_freelancer(request: Request) -> FreelancerProfile:
    profile = FreelancerProfile.objects.filter(user=_me(request)).first()
    if profile is None:
        raise PermissionDeniedError(
            "You have no freelancer profile; switch role first.", code="not_freelancer"
        )
    return profile


def _reload(profile_pk: int) -> FreelancerProfile:
    return (
        FreelancerProfile.objects.select_related("user", "category")
        .prefetch_related("skills", "languages", "education", "employment", "portfolio_items__skills")
        .get(pk=profile_pk)
    )


class OwnFreelancerProfileApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(responses={200: s.OwnFreelancerProfileSerializer, 403: s.ErrorSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.OwnFreelancerProfileSerializer(_reload(_own_freelancer(request).pk)).data)

    @extend_schema(
        request=s.FreelancerProfileInputSerializer,
        responses={200: s.OwnFreelancerProfileSerializer, 400: s.ErrorSerializer, 403: s.ErrorSerializer},
    )
    def patch(self, request: Request) -> Response:
        _own_freelancer(request)
        data = s.FreelancerProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        nested = {
            key: values.pop(key, None)
            for key in ("skill_ids", "education", "employment", "languages", "portfolio_items")
        }
        profile = services.freelancer_profile_apply(actor=_me(request), fields=values, **nested)
        return Response(s.OwnFreelancerProfileSerializer(_reload(profile.pk)).data)


class OwnFreelancerProfilePublishApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(request=None, responses={200: s.OwnFreelancerProfileSerializer, 400: s.ErrorSerializer})
    def post(self, request: Request) -> Response:
        profile = services.freelancer_profile_publish(actor=_me(request))
        return Response(s.OwnFreelancerProfileSerializer(_reload(profile.pk)).data)


class OwnClientProfileApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    def _profile(self, request: Request) -> ClientProfile:
        profile = ClientProfile.objects.select_related("user").filter(user=_me(request)).first()
        if profile is None:
            raise PermissionDeniedError("You have no client profile; switch role first.", code="not_client")
        return profile

    @extend_schema(responses={200: s.ClientProfileSerializer, 403: s.ErrorSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.ClientProfileSerializer(self._profile(request)).data)

    @extend_schema(
        request=s.ClientProfileInputSerializer,
        responses={200: s.ClientProfileSerializer, 400: s.ErrorSerializer, 403: s.ErrorSerializer},
    )
    def patch(self, request: Request) -> Response:
        self._profile(request)
        data = s.ClientProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.client_profile_update(actor=_me(request), **data.validated_data)
        return Response(s.ClientProfileSerializer(profile).data)


class FreelancerPagination(CursorPagination):
    ordering = ("-published_at", "-id")
    page_size = 20


class FreelancerListApi(generics.ListAPIView):
    """Published profiles the caller may see, newest first."""

    permission_classes = [AllowAny, NotSuspended]
    serializer_class = s.FreelancerPublicSerializer
    pagination_class = FreelancerPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[FreelancerProfile]:
        return selectors.freelancer_list_visible(viewer=self.request.user)


class FreelancerDetailApi(APIView):
    permission_classes = [AllowAny, NotSuspended]

    @extend_schema(responses={200: s.FreelancerPublicDetailSerializer, 404: s.ErrorSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        profile = selectors.freelancer_get_for_viewer(public_id=public_id, viewer=request.user)
        return Response(s.FreelancerPublicDetailSerializer(profile).data)


class CategoryListApi(generics.ListAPIView):
    permission_classes = [AllowAny, NotSuspended]
    serializer_class = s.CategorySerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.taxonomy_categories()


class SkillListApi(generics.ListAPIView):
    permission_classes = [AllowAny, NotSuspended]
    serializer_class = s.SkillSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of the skill's name"),
            OpenApiParameter("category", int, description="Category id"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Skill]:
        raw_category = self.request.query_params.get("category") or ""
        category_id = as_id(raw_category)
        if raw_category and category_id is None:
            raise NotFound("No such category.")
        return selectors.skill_search(
            query=self.request.query_params.get("q", ""),
            category_id=category_id,
            limit=50,
        )


class TokenObtainApi(APIView):
    """Exchange email and password for an API token (verified, unsuspended accounts only)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # credentials in the body, no session or CSRF
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=s.TokenInputSerializer,
        responses={200: s.TokenOutputSerializer, 400: s.ErrorSerializer, 403: s.ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        from allauth.account.models import EmailAddress
        from django.contrib.auth import authenticate
        from rest_framework.authtoken.models import Token

        from marketplace.errors import ApplicationError

        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None:
            raise ApplicationError("Email or password is wrong.", code="invalid_credentials")
        if user.is_suspended:
            raise PermissionDeniedError("Your account is suspended.", code="account_suspended")
        if not EmailAddress.objects.filter(user=user, verified=True).exists():
            raise PermissionDeniedError("Verify your email address first.", code="email_unverified")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)
