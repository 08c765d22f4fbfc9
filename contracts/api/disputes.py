"""API of disputes: open one (on an escrowed milestone, by rejecting a refund request, or on
a timesheet in review), add a statement (the other side's first one is its response),
propose a split, accept or reject a proposal, list and read disputes.

Every mutating endpoint accepts an ``Idempotency-Key`` header. The two parties see a
dispute (staff too); anyone else gets 404. Illegal moves answer 400 (``illegal_transition``,
``split_not_summing``, ``proposal_not_pending``), the proposer answering their own proposal
403 (``own_proposal``), a refund in flight 409. Amounts are integer cents; a split's
``refund_cents`` (to the client) plus ``release_cents`` (to the freelancer, before the
service fee) must equal the dispute's ``amount_cents``.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from payments.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent

from .. import disputes
from ..models import Dispute, DisputeStatement, SettlementProposal

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class DisputeFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    size_bytes = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj: Any) -> str:
        dispute_id = self.context.get("dispute_id")
        return reverse("contracts:dispute_file", kwargs={"dispute_id": dispute_id, "file_id": obj.pk})


class DisputeStatementSerializer(serializers.ModelSerializer):
    author_id = serializers.IntegerField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = DisputeStatement
        fields = ["id", "author_id", "text", "files", "created_at"]
        read_only_fields = fields

    @extend_schema_field(DisputeFileSerializer(many=True))
    def get_files(self, obj: DisputeStatement) -> list[dict[str, Any]]:
        context = {"dispute_id": obj.dispute_id}
        return list(DisputeFileSerializer(obj.files.all(), many=True, context=context).data)


class SettlementProposalSerializer(serializers.ModelSerializer):
    proposed_by_id = serializers.IntegerField()
    status = serializers.CharField()

    class Meta:
        model = SettlementProposal
        fields = [
            "id",
            "dispute_id",
            "proposed_by_id",
            "refund_cents",
            "release_cents",
            "note",
            "status",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields


class DisputeSerializer(serializers.ModelSerializer):
    status = serializers.CharField()
    resolution = serializers.CharField()
    opened_by_id = serializers.IntegerField()
    opener_side = serializers.SerializerMethodField()
    reason_label = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "contract_id",
            "milestone_id",
            "timesheet_id",
            "opened_by_id",
            "opener_side",
            "reason",
            "reason_label",
            "status",
            "amount_cents",
            "disputed_cents",
            "response_due_at",
            "resolution",
            "refund_cents",
            "release_cents",
            "resolution_note",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_opener_side(self, obj: Dispute) -> str:
        return disputes.opener_side(obj)

    def get_reason_label(self, obj: Dispute) -> str:
        return disputes.reason_label(obj.reason)


class DisputeDetailSerializer(DisputeSerializer):
    statements = serializers.SerializerMethodField()
    proposals = serializers.SerializerMethodField()
    segment_ids = serializers.SerializerMethodField()

    class Meta(DisputeSerializer.Meta):
        fields = [*DisputeSerializer.Meta.fields, "statements", "proposals", "segment_ids"]
        read_only_fields = fields

    @extend_schema_field(DisputeStatementSerializer(many=True))
    def get_statements(self, obj: Dispute) -> list[dict[str, Any]]:
        return list(DisputeStatementSerializer(disputes.dispute_statements(obj), many=True).data)

    @extend_schema_field(SettlementProposalSerializer(many=True))
    def get_proposals(self, obj: Dispute) -> list[dict[str, Any]]:
        return list(SettlementProposalSerializer(disputes.dispute_proposals(obj), many=True).data)

    def get_segment_ids(self, obj: Dispute) -> list[int]:
        return list(obj.segments.values_list("pk", flat=True))


class OpenInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=list(disputes.FIXED_REASONS))
    statement = serializers.CharField(max_length=disputes.STATEMENT_MAX)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=5)


class RejectInputSerializer(serializers.Serializer):
    statement = serializers.CharField(max_length=disputes.STATEMENT_MAX)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=5)


class TimesheetOpenInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=list(disputes.HOURLY_REASONS))
    statement = serializers.CharField(max_length=disputes.STATEMENT_MAX)
    segment_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="omit or empty: the whole week"
    )
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=5)


class StatementInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=disputes.STATEMENT_MAX)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=5)


class ProposalInputSerializer(serializers.Serializer):
    refund_cents = serializers.IntegerField(min_value=0, help_text="back to the client")
    release_cents = serializers.IntegerField(
        min_value=0, help_text="to the freelancer, before the service fee"
    )
    note = serializers.CharField(max_length=disputes.NOTE_MAX, required=False, allow_blank=True)


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _files(request: Request) -> list[Any]:
    return request.FILES.getlist("files") if hasattr(request, "FILES") else []


def _detail(dispute_id: int, request: Request, status: int = 200) -> Response:
    dispute = disputes.dispute_get_for_viewer(dispute_id=dispute_id, viewer=request.user)
    return Response(DisputeDetailSerializer(dispute).data, status=status)


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


class _Upload(_Authed):
    parser_classes = [MultiPartParser, FormParser, JSONParser]


class DisputesCursor(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class DisputeListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = DisputeSerializer
    pagination_class = DisputesCursor
    filter_backends: list = []

    @extend_schema(
        summary="The disputes of the caller's contracts (either side)",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(Dispute.Status.values), description="only disputes in this status"
            )
        ],
        responses={200: DisputeSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Dispute]:
        request = cast(Request, self.request)
        return disputes.dispute_list_for_user(
            user=_me(request), status=request.query_params.get("status", "")
        )


class DisputeDetailApi(_Authed):
    @extend_schema(
        summary="A dispute with its statements (and files) and proposals (parties and staff)",
        responses={200: DisputeDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        return _detail(dispute_id, request)


class MilestoneDisputeOpenApi(_Upload):
    @extend_schema(
        summary="Open a dispute on an escrowed milestone (either party): the escrow is frozen",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={"multipart/form-data": OpenInputSerializer, "application/json": OpenInputSerializer},
        responses={201: DisputeDetailSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(OpenInputSerializer, request)
        dispute = disputes.dispute_open(
            actor=_me(request),
            milestone_id=milestone_id,
            reason=data["reason"],
            statement=data["statement"],
            files=_files(request),
        )
        return _detail(dispute.pk, request, status=201)


class RefundRequestRejectApi(_Upload):
    @extend_schema(
        summary="Reject the client's refund request (the freelancer): a dispute opens",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={"multipart/form-data": RejectInputSerializer, "application/json": RejectInputSerializer},
        responses={201: DisputeDetailSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, milestone_id: int) -> Response:
        data = _valid(RejectInputSerializer, request)
        dispute = disputes.milestone_refund_request_reject(
            actor=_me(request), milestone_id=milestone_id, statement=data["statement"], files=_files(request)
        )
        return _detail(dispute.pk, request, status=201)


class TimesheetDisputeOpenApi(_Upload):
    @extend_schema(
        summary="Dispute a timesheet in review, whole or chosen segments (the client)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={
            "multipart/form-data": TimesheetOpenInputSerializer,
            "application/json": TimesheetOpenInputSerializer,
        },
        responses={201: DisputeDetailSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, timesheet_id: int) -> Response:
        data = _valid(TimesheetOpenInputSerializer, request)
        dispute = disputes.timesheet_dispute_open(
            actor=_me(request),
            timesheet_id=timesheet_id,
            reason=data["reason"],
            statement=data["statement"],
            segment_ids=list(data.get("segment_ids") or []),
            files=_files(request),
        )
        return _detail(dispute.pk, request, status=201)


class DisputeStatementApi(_Upload):
    @extend_schema(
        summary="Add a statement with files (a party); the other side's first one is its response",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={
            "multipart/form-data": StatementInputSerializer,
            "application/json": StatementInputSerializer,
        },
        responses={201: DisputeDetailSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, dispute_id: int) -> Response:
        data = _valid(StatementInputSerializer, request)
        disputes.dispute_statement_add(
            actor=_me(request), dispute_id=dispute_id, text=data["text"], files=_files(request)
        )
        return _detail(dispute_id, request, status=201)


class DisputeProposeApi(_Authed):
    @extend_schema(
        summary="Propose a split of the escrow in dispute (a party); supersedes a pending proposal",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ProposalInputSerializer,
        responses={201: SettlementProposalSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, dispute_id: int) -> Response:
        data = _valid(ProposalInputSerializer, request)
        proposal = disputes.dispute_propose(
            actor=_me(request),
            dispute_id=dispute_id,
            refund_cents=data["refund_cents"],
            release_cents=data["release_cents"],
            note=data.get("note", ""),
        )
        return Response(SettlementProposalSerializer(proposal).data, status=201)


class ProposalAcceptApi(_Authed):
    @extend_schema(
        summary="Accept the other side's pending proposal: the dispute is resolved and the money moves",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={200: DisputeDetailSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, proposal_id: int) -> Response:
        dispute = disputes.dispute_proposal_accept(actor=_me(request), proposal_id=proposal_id)
        return _detail(dispute.pk, request)


class ProposalRejectApi(_Authed):
    @extend_schema(
        summary="Reject the other side's pending proposal (the dispute goes on)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={200: SettlementProposalSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = disputes.dispute_proposal_reject(actor=_me(request), proposal_id=proposal_id)
        return Response(SettlementProposalSerializer(proposal).data)
