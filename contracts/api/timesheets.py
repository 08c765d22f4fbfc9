"""API of weekly timesheets (hourly contracts): the contract's weeks, one week with its
segments and money timeline, and the client's "retry the payment now". Parties only:
anyone else gets 404. Figures are frozen when the week closes: minutes, the rate and the
amount in cents (``billed_minutes x rate_cents / 60`` rounded half up on the week total).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import NotFoundError
from payments.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent

from .. import billing, selectors
from ..models import Contract, TimeSegment, Timesheet

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class TimelineStepSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    at = serializers.DateTimeField()
    done = serializers.BooleanField(help_text="false: a date to come, computed from the rules")


class TimesheetSegmentSerializer(serializers.ModelSerializer):
    has_screenshot = serializers.SerializerMethodField()

    class Meta:
        model = TimeSegment
        fields = ["id", "started_at", "memo", "activity", "source", "has_screenshot"]
        read_only_fields = fields

    def get_has_screenshot(self, obj: TimeSegment) -> bool:
        return bool(obj.screenshot)


class TimesheetSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        help_text="open | charging | payment_failed | in_review | disputed | released | resolved | empty"
    )
    week_end = serializers.SerializerMethodField(help_text="the Sunday the week ends on (UTC)")

    class Meta:
        model = Timesheet
        fields = [
            "id",
            "contract_id",
            "week_start",
            "week_end",
            "status",
            "logged_minutes",
            "billed_minutes",
            "rate_cents",
            "amount_cents",
            "escrow_cents",
            "refunded_cents",
            "released_cents",
            "charge_attempts",
            "charge_failure_message",
            "closed_at",
            "charged_at",
            "review_ends_at",
            "released_at",
        ]
        read_only_fields = fields

    def get_week_end(self, obj: Timesheet) -> str:
        from datetime import timedelta

        return (obj.week_start + timedelta(days=6)).isoformat()


class TimesheetDetailSerializer(TimesheetSerializer):
    timeline = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()

    class Meta(TimesheetSerializer.Meta):
        fields = [*TimesheetSerializer.Meta.fields, "timeline", "segments"]
        read_only_fields = fields

    @extend_schema_field(TimelineStepSerializer(many=True))
    def get_timeline(self, obj: Timesheet) -> list[dict[str, Any]]:
        return TimelineStepSerializer(billing.money_timeline(obj), many=True).data  # type: ignore[return-value]

    @extend_schema_field(TimesheetSegmentSerializer(many=True))
    def get_segments(self, obj: Timesheet) -> list[dict[str, Any]]:
        return TimesheetSegmentSerializer(obj.segments.order_by("started_at"), many=True).data  # type: ignore[return-value]


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


def _party_timesheet(request: Request, timesheet_id: int) -> tuple[Contract, Timesheet]:
    contract_id = Timesheet.objects.filter(pk=timesheet_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFoundError("No such timesheet.")
    try:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    except NotFoundError:
        raise NotFoundError("No such timesheet.")
    return contract, billing.timesheet_get_for_party(contract=contract, timesheet_id=timesheet_id)


class ContractTimesheetsApi(_Authed):
    @extend_schema(
        summary="The weekly timesheets of an hourly contract, newest first (parties only)",
        responses={200: TimesheetSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
        return Response(TimesheetSerializer(billing.timesheets_for_contract(contract), many=True).data)


class TimesheetDetailApi(_Authed):
    @extend_schema(
        summary="One week: the billed figures, its segments and its money timeline (parties only)",
        responses={200: TimesheetDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, timesheet_id: int) -> Response:
        _, timesheet = _party_timesheet(request, timesheet_id)
        return Response(TimesheetDetailSerializer(timesheet).data)


class TimesheetRetryPaymentApi(_Authed):
    @extend_schema(
        summary="Charge a week whose payment failed again, now (the client)",
        description="A new attempt with a new idempotency key at the gateway; a decline answers 200 "
        "with ``status`` payment_failed and the gateway's message.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={200: TimesheetSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, timesheet_id: int) -> Response:
        contract, timesheet = _party_timesheet(request, timesheet_id)
        if contract.party_role(request.user) != "client":
            raise NotFoundError("No such timesheet.")
        result = billing.timesheet_retry_charge(timesheet_id=timesheet.pk, actor=cast(User, request.user))
        return Response(TimesheetSerializer(result).data)
