"""API of reviews, under /api/v1/: leave feedback on an ended contract, see a contract's
feedback, reply, the public reviews of a freelancer or a client, and the feedback the
caller still owes. Thin: input serializer, one service or selector, output serializer.
Non-parties get 404; bad input 400; a second review or reply 409."""

from __future__ import annotations

from typing import cast

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.api.serializers import ErrorSerializer
from accounts.models import ClientProfile, User
from accounts.permissions import NotSuspended
from contracts import selectors as contract_selectors
from marketplace.errors import NotFoundError

from .. import selectors, services
from ..models import Review
from ..services import ReviewInput
from .serializers import (
    ContractFeedbackSerializer,
    OwnReviewSerializer,
    PendingFeedbackSerializer,
    PublicReviewSerializer,
    ReplyInputSerializer,
    ReviewInputSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


class ContractReviewsApi(_Authed):
    def _feedback(self, request: Request, contract_id: int):
        contract = contract_selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        return contract, selectors.contract_feedback(contract=contract, viewer=request.user)

    @extend_schema(
        summary="A contract's feedback as the caller (a party) sees it",
        description="Your own review with its private parts; theirs only once revealed. "
        "Answers 404 while the contract has not ended.",
        responses={200: ContractFeedbackSerializer, **ERRORS},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        _, feedback = self._feedback(request, contract_id)
        if feedback is None:
            raise NotFoundError("The contract has not ended.", code="contract_not_ended")
        return Response(ContractFeedbackSerializer(feedback).data)

    @extend_schema(
        summary="Leave feedback on an ended contract (once, within the window)",
        description="Hidden from the other side until they leave theirs or the window closes. "
        "Final once submitted.",
        request=ReviewInputSerializer,
        responses={201: OwnReviewSerializer, **ERRORS},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = contract_selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = _valid(ReviewInputSerializer, request)
        review = services.review_submit(
            actor=_me(request),
            contract_id=contract.pk,
            data=ReviewInput(
                rating=data["rating"],
                categories=data["categories"],
                public_comment=data.get("public_comment", ""),
                private_note=data.get("private_note", ""),
                recommend_score=data["recommend_score"],
            ),
        )
        review.refresh_from_db()
        return Response(OwnReviewSerializer(review).data, status=201)


class ReviewReplyApi(_Authed):
    @extend_schema(
        summary="Reply publicly to a review about you (once, within the reply window)",
        request=ReplyInputSerializer,
        responses={200: PublicReviewSerializer, **ERRORS},
    )
    def post(self, request: Request, review_id: int) -> Response:
        data = _valid(ReplyInputSerializer, request)
        review = services.review_reply(actor=_me(request), review_id=review_id, text=data["reply"])
        fresh = selectors.review_get_visible(review_id=review.pk)
        return Response(PublicReviewSerializer(selectors.review_cards([fresh], request.user)[0]).data)


class PendingFeedbackApi(_Authed):
    @extend_schema(
        summary="Feedback the caller still owes: ended contracts in their window",
        responses={200: PendingFeedbackSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        items = selectors.pending_feedback_for_user(user=request.user)
        return Response(PendingFeedbackSerializer(items, many=True).data)


class ReviewPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 50


class _PublicReviewsApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = ReviewPagination  # for the schema: the answer is a page
    direction = ""

    def _user_id(self, request: Request, public_id: str) -> int:
        raise NotImplementedError

    def get(self, request: Request, public_id: str) -> Response:
        user_id = self._user_id(request, public_id)
        qs = selectors.reviews_received(user_id=user_id, direction=self.direction).select_related(
            "contract", "reviewer", "reviewee"
        )
        paginator = ReviewPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        cards = selectors.review_cards(list(page), request.user)
        return paginator.get_paginated_response(PublicReviewSerializer(cards, many=True).data)


LIST_PARAMS = [
    OpenApiParameter("limit", int, description="page size, at most 50"),
    OpenApiParameter("offset", int),
]


class FreelancerReviewsApi(_PublicReviewsApi):
    direction = Review.Direction.CLIENT_TO_FREELANCER

    def _user_id(self, request: Request, public_id: str) -> int:
        return account_selectors.freelancer_get_for_viewer(public_id=public_id, viewer=request.user).user_id

    @extend_schema(
        summary="Public reviews of a freelancer (revealed, not hidden), newest first",
        parameters=LIST_PARAMS,
        responses={200: PublicReviewSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        return super().get(request, public_id)


class ClientReviewsApi(_PublicReviewsApi):
    direction = Review.Direction.FREELANCER_TO_CLIENT

    def _user_id(self, request: Request, public_id: str) -> int:
        return get_object_or_404(ClientProfile, public_id=public_id).user_id

    @extend_schema(
        summary="Public reviews of a client by freelancers (revealed, not hidden), newest first",
        parameters=LIST_PARAMS,
        responses={200: PublicReviewSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        return super().get(request, public_id)
