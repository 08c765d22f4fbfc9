"""API views of offers and contracts, under /api/v1/.

Thin: an input serializer checks the shape, one service of ``contracts.services`` checks the
rules and writes, the output serializers render the result. Non-parties get 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError

from .. import selectors, services
from ..models import Contract, ContractEvent, Milestone, Offer
from ..services import MilestoneInput, OfferInput
from .serializers import (
    ContractEndInputSerializer,
    ContractEventSerializer,
    ContractMilestoneInputSerializer,
    ContractMilestonePatchSerializer,
    ContractMilestoneSerializer,
    ContractSerializer,
    ContractWeeklyLimitInputSerializer,
    OfferCreateInputSerializer,
    OfferDeclineInputSerializer,
    OfferSerializer,
    OfferWithdrawInputSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
ROLE_PARAM = OpenApiParameter(
    "role", str, enum=list(selectors.ROLES), description="which side: defaults to the caller's active role"
)


def _me(request: Request) -> User:
    return cast(User, request.user)


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


def _offer_response(offer_id: int, request: Request, code: int = status.HTTP_200_OK) -> Response:
    offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
    return Response(OfferSerializer(offer).data, status=code)


def _contract_response(contract_id: int, request: Request) -> Response:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    return Response(ContractSerializer(contract).data)


class NewestFirstCursor(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class ContractsCursor(CursorPagination):
    ordering = ("-started_at", "-id")
    page_size = 20


class EventsCursor(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 50


def _choice_param(request: Request, name: str, allowed: Any) -> str:
    value = request.query_params.get(name, "")
    if value and value not in allowed:
        raise ApplicationError(
            f"{name} must be one of: {', '.join(allowed)}.", code="invalid_filter", extra={"field": name}
        )
    return value


# --- offers -----------------------------------------------------------------------------------------------


class OfferListCreateApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = OfferSerializer
    pagination_class = NewestFirstCursor
    filter_backends: list = []

    @extend_schema(
        summary="Offers the caller received (role=freelancer) or sent (role=client)",
        parameters=[
            ROLE_PARAM,
            OpenApiParameter(
                "status", str, enum=list(Offer.Status.values), description="only offers in this status"
            ),
        ],
        responses={200: OfferSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Offer]:
        request = cast(Request, self.request)
        role = _choice_param(request, "role", selectors.ROLES) or selectors.default_role(request.user)
        status_ = _choice_param(request, "status", Offer.Status.values)
        qs = selectors.offer_scope(_me(request), role).prefetch_related("milestones")
        return qs.filter(status=status_) if status_ else qs

    @extend_schema(
        summary="Send an offer",
        description="From a proposal to one of your jobs, or directly to a freelancer you invited or worked with.",
        request=OfferCreateInputSerializer,
        responses={201: OfferSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = OfferCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["milestones"] = [MilestoneInput(**m) for m in values.get("milestones", [])]
        offer = services.offer_create(actor=_me(request), data=OfferInput(**values))
        return _offer_response(offer.pk, request, status.HTTP_201_CREATED)


class OfferDetailApi(_Authed):
    @extend_schema(
        summary="An offer (its client or freelancer only)",
        responses={200: OfferSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, offer_id: int) -> Response:
        return _offer_response(offer_id, request)


class OfferAcceptApi(_Authed):
    @extend_schema(
        summary="Accept an offer (the freelancer): the contract starts",
        description="Accepting an accepted offer again returns the same contract.",
        request=None,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, offer_id: int) -> Response:
        offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
        contract = services.offer_accept(actor=_me(request), offer_id=offer.pk)
        return _contract_response(contract.pk, request)


class OfferDeclineApi(_Authed):
    @extend_schema(
        summary="Decline an offer (the freelancer)",
        request=OfferDeclineInputSerializer,
        responses={200: OfferSerializer, **ERRORS},
    )
    def post(self, request: Request, offer_id: int) -> Response:
        offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
        data = OfferDeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_decline(actor=_me(request), offer_id=offer.pk, **data.validated_data)
        return _offer_response(offer.pk, request)


class OfferWithdrawApi(_Authed):
    @extend_schema(
        summary="Withdraw a pending offer (the client)",
        request=OfferWithdrawInputSerializer,
        responses={200: OfferSerializer, **ERRORS},
    )
    def post(self, request: Request, offer_id: int) -> Response:
        offer = selectors.offer_get_for_party(offer_id=offer_id, viewer=request.user)
        data = OfferWithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_withdraw(actor=_me(request), offer_id=offer.pk, **data.validated_data)
        return _offer_response(offer.pk, request)


# --- contracts ------------------------------------------------------------------------------------------


class ContractListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = ContractSerializer
    pagination_class = ContractsCursor
    filter_backends: list = []

    @extend_schema(
        summary="The caller's contracts, as client or freelancer",
        parameters=[
            ROLE_PARAM,
            OpenApiParameter(
                "status", str, enum=list(Contract.Status.values), description="only contracts in this status"
            ),
        ],
        responses={200: ContractSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Contract]:
        request = cast(Request, self.request)
        role = _choice_param(request, "role", selectors.ROLES) or selectors.default_role(request.user)
        status_ = _choice_param(request, "status", Contract.Status.values)
        qs = (
            Contract.objects.select_related("client", "freelancer", "job")
            .filter(**{role: _me(request)})
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("position", "id")))
        )
        return qs.filter(status=status_) if status_ else qs


class ContractDetailApi(_Authed):
    @extend_schema(
        summary="A contract (its parties only)", responses={200: ContractSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, contract_id: int) -> Response:
        return _contract_response(contract_id, request)


class ContractEventsApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = ContractEventSerializer
    pagination_class = EventsCursor
    filter_backends: list = []

    @extend_schema(
        summary="The contract's timeline, oldest first",
        responses={200: ContractEventSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ContractEvent]:
        contract = selectors.contract_get_for_party(
            contract_id=self.kwargs["contract_id"], viewer=self.request.user
        )
        return selectors.contract_events(contract=contract)


class ContractPauseApi(_Authed):
    @extend_schema(
        summary="Pause an hourly contract (the client)",
        request=None,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        services.contract_pause(actor=_me(request), contract_id=contract.pk)
        return _contract_response(contract.pk, request)


class ContractResumeApi(_Authed):
    @extend_schema(
        summary="Resume a paused contract (the client)",
        request=None,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        services.contract_resume(actor=_me(request), contract_id=contract.pk)
        return _contract_response(contract.pk, request)


class ContractWeeklyLimitApi(_Authed):
    @extend_schema(
        summary="Change an hourly contract's weekly limit (the client)",
        request=ContractWeeklyLimitInputSerializer,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = ContractWeeklyLimitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.contract_set_weekly_limit(actor=_me(request), contract_id=contract.pk, **data.validated_data)
        return _contract_response(contract.pk, request)


class ContractEndApi(_Authed):
    @extend_schema(
        summary="End a contract (either party)",
        request=ContractEndInputSerializer,
        responses={200: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = ContractEndInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.contract_end(actor=_me(request), contract_id=contract.pk, **data.validated_data)
        return _contract_response(contract.pk, request)


class ContractMilestoneAddApi(_Authed):
    @extend_schema(
        summary="Add a pending milestone (the client) or propose one (the freelancer)",
        request=ContractMilestoneInputSerializer,
        responses={201: ContractMilestoneSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = ContractMilestoneInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        milestone = services.milestone_add(
            actor=_me(request), contract_id=contract.pk, data=MilestoneInput(**data.validated_data)
        )
        return Response(ContractMilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)


class ContractMilestoneDetailApi(_Authed):
    @extend_schema(
        summary="Change a pending milestone",
        description="Send only the fields to change.",
        request=ContractMilestonePatchSerializer,
        responses={200: ContractMilestoneSerializer, **ERRORS},
    )
    def patch(self, request: Request, contract_id: int, milestone_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
        data = ContractMilestonePatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            "description": milestone.description,
            "amount_cents": milestone.amount_cents,
            "due_date": milestone.due_date,
            **data.validated_data,
        }
        updated = services.milestone_update(
            actor=_me(request), milestone_id=milestone.pk, data=MilestoneInput(**values)
        )
        return Response(ContractMilestoneSerializer(updated).data)

    @extend_schema(summary="Remove a pending milestone", request=None, responses={204: None, **ERRORS})
    def delete(self, request: Request, contract_id: int, milestone_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        milestone = selectors.milestone_get_for_party(contract=contract, milestone_id=milestone_id)
        services.milestone_delete(actor=_me(request), milestone_id=milestone.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
