"""API of fixed-price escrow: fund, submit, approve, request changes, refund (and ask for
one), bonus. Every mutating endpoint accepts an ``Idempotency-Key`` header
(``payments.idempotency``): a retry with the same key and body gets the first answer and
has no second effect. Non-parties get 404; illegal moves 400 (``illegal_transition``), a
refund in progress 409.

Funding answers 200 with what happened to each milestone: a declined card is not an HTTP
error (the milestone stays pending and ``failed`` carries the gateway's message).
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from payments.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent

from .. import escrow, selectors
from ..models import ContractBonus, Milestone

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class EscrowMilestoneSerializer(serializers.ModelSerializer):
    status = serializers.CharField()
    auto_approve_at = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            "contract_id",
            "description",
            "amount_cents",
            "status",
            "escrow_cents",
            "refund_pending_cents",
            "refunded_cents",
            "funded_at",
            "submitted_at",
            "released_at",
            "auto_approve_at",
        ]
        read_only_fields = fields

    def get_auto_approve_at(self, obj: Milestone) -> str | None:
        when = escrow.auto_approve_at(obj)
        return when.isoformat() if when else None


class FundInputSerializer(serializers.Serializer):
    milestone_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=20)


class FundFailureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()


class FundResultSerializer(serializers.Serializer):
    funded = EscrowMilestoneSerializer(many=True)
    failed = FundFailureSerializer(many=True)
    processing = EscrowMilestoneSerializer(many=True)
    escrow_cents = serializers.IntegerField()


class SubmitInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)


class NoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500)


class RefundInputSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField(required=False, allow_null=True, help_text="omit: all in escrow")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RefundRequestInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BonusInputSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BonusSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractBonus
        fields = ["id", "contract_id", "amount_cents", "note", "status", "created_at", "paid_at"]
        read_only_fields = fields


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _milestone_response(milestone_id: int) -> Response:
    return Response(EscrowMilestoneSerializer(Milestone.objects.get(pk=milestone_id)).data)


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


class MilestoneFundApi(_Authed):
    @extend_schema(
        summary="Fund pending milestones (the client; one charge each)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=FundInputSerializer,
        responses={200: FundResultSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = _valid(FundInputSerializer, request)
        result = escrow.milestone_fund(
            actor=_me(request), contract_id=contract.pk, milestone_ids=data["milestone_ids"]
        )
        body = {
            "funded": EscrowMilestoneSerializer(result.funded, many=True).data,
            "failed": [{"id": m.pk, "message": message} for m, message in result.failed],
            "processing": EscrowMilestoneSerializer(result.processing, many=True).data,
            "escrow_cents": selectors.contract_escrow_cents(contract),
        }
        return Response(body)


class MilestoneSubmitApi(_Authed):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="Submit the work of a funded milestone (the freelancer)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={"multipart/form-data": SubmitInputSerializer, "application/json": SubmitInputSerializer},
        responses={200: EscrowMilestoneSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(SubmitInputSerializer, request)
        escrow.milestone_submit(
            actor=_me(request),
            milestone_id=milestone_id,
            message=data["message"],
            files=request.FILES.getlist("files") if hasattr(request, "FILES") else [],
        )
        return _milestone_response(milestone_id)


class MilestoneApproveApi(_Authed):
    @extend_schema(
        summary="Approve a submitted milestone and release its escrow (the client)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={200: EscrowMilestoneSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        escrow.milestone_approve(actor=_me(request), milestone_id=milestone_id)
        return _milestone_response(milestone_id)


class MilestoneRequestChangesApi(_Authed):
    @extend_schema(
        summary="Send a submitted milestone back with a note (the client)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=NoteInputSerializer,
        responses={200: EscrowMilestoneSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(NoteInputSerializer, request)
        escrow.milestone_request_changes(actor=_me(request), milestone_id=milestone_id, note=data["note"])
        return _milestone_response(milestone_id)


class MilestoneRefundApi(_Authed):
    @extend_schema(
        summary="Refund all or part of an escrowed milestone to the client (the freelancer)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=RefundInputSerializer,
        responses={200: EscrowMilestoneSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(RefundInputSerializer, request)
        escrow.milestone_refund(
            actor=_me(request),
            milestone_id=milestone_id,
            amount_cents=data.get("amount_cents"),
            reason=data.get("reason", ""),
        )
        return _milestone_response(milestone_id)


class MilestoneRefundRequestApi(_Authed):
    @extend_schema(
        summary="Ask the freelancer for a refund of an escrowed milestone (the client)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=RefundRequestInputSerializer,
        responses={200: EscrowMilestoneSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(RefundRequestInputSerializer, request)
        escrow.milestone_refund_request(actor=_me(request), milestone_id=milestone_id, reason=data["reason"])
        return _milestone_response(milestone_id)


class ContractBonusApi(_Authed):
    @extend_schema(
        summary="Pay a bonus on a contract (the client): charged, then released at once",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=BonusInputSerializer,
        responses={201: BonusSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        data = _valid(BonusInputSerializer, request)
        bonus = escrow.contract_bonus(
            actor=_me(request),
            contract_id=contract.pk,
            amount_cents=data["amount_cents"],
            note=data.get("note", ""),
        )
        return Response(BonusSerializer(bonus).data, status=201)
