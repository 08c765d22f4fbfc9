"""API of time tracking on hourly contracts: the desktop tracker's endpoints and the same
endpoints for signed-in users.

Authentication: a tracker sends ``Authorization: Tracker <key>`` (a key the user created
on the "Tracker tokens" page; ``TrackerTokenAuthentication``); the endpoints here also
accept the API's session and token authentication. A tracker key is accepted by these
endpoints only, so a leaked key can log time but cannot move money. A missing, wrong or
revoked key answers 401; a contract the user is not a party to answers 404; the client
of a contract may read its diary but gets 403 on writes.

Posting segments is a batch: each segment is recorded or rejected on its own (overlap,
future, closed week, bad activity...), and the answer lists both; when none is recorded
the first rejection is the error (400, or 409 for an overlap). Posts and timer moves
accept an ``Idempotency-Key`` header (``payments.idempotency``): a tracker retrying after a
timeout gets the first answer again. Screenshots are off by
default: a multipart post carries ``screenshots=true`` and files ``screenshot_<index>``
matching the segments' positions; anything else with a file is rejected.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import FileResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError
from messaging import downloads
from payments.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent

from .. import selectors, timetracking
from ..models import Contract, TimerSession, TimeSegment

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
KEYWORD = "Tracker"


class TrackerTokenAuthentication(BaseAuthentication):
    """``Authorization: Tracker <key>``: a tracker token (only its sha256 is stored)."""

    keyword = KEYWORD

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0] != self.keyword:
            return None  # not ours: the session or API token may still authenticate
        if len(parts) != 2:
            raise AuthenticationFailed("Send the tracker key as 'Authorization: Tracker <key>'.")
        token = timetracking.tracker_token_authenticate(parts[1])
        if token is None:
            raise AuthenticationFailed("This tracker key is wrong or has been revoked.")
        if not token.user.is_active:
            raise AuthenticationFailed("This account is closed.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TrackerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "contracts.api.hourly.TrackerTokenAuthentication"
    name = "trackerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A tracker key from the Tracker tokens page, sent as `Tracker <key>`.",
        }


# --- serializers -------------------------------------------------------------------------------------


class WeekSummarySerializer(serializers.Serializer):
    week_start = serializers.DateField()
    logged_minutes = serializers.IntegerField()
    billable_minutes = serializers.IntegerField()
    limit_minutes = serializers.IntegerField(allow_null=True)
    left_minutes = serializers.IntegerField(allow_null=True)
    over_limit_minutes = serializers.IntegerField()


class TimerSerializer(serializers.ModelSerializer):
    running = serializers.SerializerMethodField()
    elapsed_seconds = serializers.SerializerMethodField()

    class Meta:
        model = TimerSession
        fields = [
            "id",
            "contract_id",
            "running",
            "started_at",
            "stopped_at",
            "memo",
            "source",
            "elapsed_seconds",
        ]
        read_only_fields = fields

    def get_running(self, obj: TimerSession) -> bool:
        return obj.stopped_at is None

    def get_elapsed_seconds(self, obj: TimerSession) -> int:
        from django.utils import timezone

        end = obj.stopped_at or timezone.now()
        return max(int((end - obj.started_at).total_seconds()), 0)


class TrackerContractSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.display_name")
    week = WeekSummarySerializer()
    timer = TimerSerializer(allow_null=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "title",
            "status",
            "client_name",
            "hourly_rate_cents",
            "weekly_limit_hours",
            "manual_time_allowed",
            "started_at",
            "week",
            "timer",
        ]
        read_only_fields = fields


class SegmentSerializer(serializers.ModelSerializer):
    ended_at = serializers.SerializerMethodField()
    has_screenshot = serializers.SerializerMethodField()
    billable = serializers.SerializerMethodField()
    billed = serializers.SerializerMethodField()

    class Meta:
        model = TimeSegment
        fields = [
            "id",
            "contract_id",
            "started_at",
            "ended_at",
            "week_start",
            "memo",
            "activity",
            "source",
            "has_screenshot",
            "billable",
            "billed",
        ]
        read_only_fields = fields

    def get_ended_at(self, obj: TimeSegment) -> str:
        return timetracking.segment_end(obj).isoformat()

    def get_has_screenshot(self, obj: TimeSegment) -> bool:
        return bool(obj.screenshot)

    def get_billable(self, obj: TimeSegment) -> bool | None:
        return getattr(obj, "billable", None)

    def get_billed(self, obj: TimeSegment) -> bool:
        return obj.timesheet_id is not None


class SegmentInputSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField(
        help_text="Start of the 10-minute slot (floored to the grid, UTC)."
    )
    memo = serializers.CharField(
        max_length=timetracking.MEMO_MAX, required=False, allow_blank=True, default=""
    )
    activity = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True, default=None
    )


class SegmentBatchInputSerializer(serializers.Serializer):
    segments = SegmentInputSerializer(many=True)
    screenshots = serializers.BooleanField(
        default=False,
        help_text="Opt in to screenshots for this request (multipart, files screenshot_<index>).",
    )


class SegmentRejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class SegmentBatchResultSerializer(serializers.Serializer):
    created = SegmentSerializer(many=True)
    rejected = SegmentRejectionSerializer(many=True)
    week = WeekSummarySerializer()


class SegmentWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    closed = serializers.BooleanField()
    summary = WeekSummarySerializer()
    segments = SegmentSerializer(many=True)


class MemoInputSerializer(serializers.Serializer):
    memo = serializers.CharField(max_length=timetracking.MEMO_MAX, allow_blank=True)


class TimerStartInputSerializer(serializers.Serializer):
    memo = serializers.CharField(
        max_length=timetracking.MEMO_MAX, required=False, allow_blank=True, default=""
    )


class TimerStopInputSerializer(serializers.Serializer):
    memo = serializers.CharField(
        max_length=timetracking.MEMO_MAX,
        required=False,
        allow_blank=True,
        help_text="Replaces the run's memo.",
    )


class TimerStopResultSerializer(serializers.Serializer):
    timer = TimerSerializer()
    created = SegmentSerializer(many=True)
    already_logged = serializers.IntegerField()
    skipped_closed = serializers.IntegerField()
    capped = serializers.BooleanField()
    week = WeekSummarySerializer()


class TimerStateSerializer(serializers.Serializer):
    running = serializers.BooleanField()
    timer = TimerSerializer(allow_null=True)


# --- views ---------------------------------------------------------------------------------------------


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _party_contract(request: Request, contract_id: int) -> Contract:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    if not contract.is_hourly:
        raise ApplicationError("Time is tracked on hourly contracts only.", code="not_hourly")
    return contract


class _HourlyApi(APIView):
    authentication_classes = [TrackerTokenAuthentication, SessionAuthentication, TokenAuthentication]
    permission_classes = [IsAuthenticated, NotSuspended]


class TrackerContractsApi(_HourlyApi):
    @extend_schema(
        summary="My hourly contracts to track time on (active or paused), with this week's figures",
        responses={200: TrackerContractSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        contracts = timetracking.tracker_contracts(user=_me(request))
        return Response(TrackerContractSerializer(contracts, many=True).data)


WEEK_PARAMETER = OpenApiParameter(
    "week", OpenApiTypes.DATE, description="Any day of the week (UTC); default: the current week."
)


def _segments_payload(request: Request) -> dict[str, Any]:
    """The batch from JSON, or from a multipart form whose ``segments`` field is JSON."""
    data = request.data
    if not hasattr(data, "get"):
        raise ApplicationError(
            'Send an object: {"segments": [...], "screenshots": false}.', code="validation_error"
        )
    segments = data.get("segments")
    if isinstance(segments, str):
        try:
            segments = json.loads(segments)
        except ValueError:
            raise ApplicationError("segments must be a JSON list.", code="validation_error")
    return {"segments": segments, "screenshots": data.get("screenshots", False)}


class SegmentListApi(_HourlyApi):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="The work diary of one week: segments with billable/over-limit flags and the totals",
        parameters=[WEEK_PARAMETER],
        responses={200: SegmentWeekSerializer, **ERRORS},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        week = timetracking.parse_week(request.query_params.get("week"))
        segments = timetracking.week_segment_list(contract, week)
        body = {
            "week_start": week,
            "closed": timetracking.week_is_closed(contract, week),
            "summary": timetracking.week_summary(contract, week).__dict__,
            "segments": segments,
        }
        return Response(SegmentWeekSerializer(body).data)

    @extend_schema(
        summary="Post 10-minute segments (the freelancer's tracker); each is recorded or rejected on its own",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request={
            "application/json": SegmentBatchInputSerializer,
            "multipart/form-data": SegmentBatchInputSerializer,
        },
        responses={201: SegmentBatchResultSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        data = _valid(SegmentBatchInputSerializer, _segments_payload(request))
        files = getattr(request, "FILES", {})
        items = [
            timetracking.SegmentInput(
                started_at=item["started_at"],
                memo=item.get("memo", ""),
                activity=item.get("activity"),
                screenshot=files.get(f"screenshot_{index}"),
            )
            for index, item in enumerate(data["segments"])
        ]
        result = timetracking.segments_add(
            actor=_me(request),
            contract_id=contract.pk,
            items=items,
            source=TimeSegment.Source.TRACKER,
            screenshots_allowed=data["screenshots"],
        )
        rejected = [
            {"index": r.index, "started_at": r.started_at, "code": r.error.code, "message": r.error.message}
            for r in result.rejected
        ]
        if not result.created:
            first = result.rejected[0].error
            first.extra = {**first.extra, "rejected": SegmentRejectionSerializer(rejected, many=True).data}
            raise first
        contract.refresh_from_db()
        timetracking.attach_billable(contract, result.created)
        week = timetracking.week_start_of(result.created[-1].started_at)
        body = {
            "created": result.created,
            "rejected": rejected,
            "week": timetracking.week_summary(contract, week).__dict__,
        }
        return Response(SegmentBatchResultSerializer(body).data, status=201)


class SegmentDetailApi(_HourlyApi):
    @extend_schema(
        summary="Change the memo of an unbilled segment (the freelancer)",
        request=MemoInputSerializer,
        responses={200: SegmentSerializer, **ERRORS},
    )
    def patch(self, request: Request, contract_id: int, segment_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        data = _valid(MemoInputSerializer, request.data)
        segment = timetracking.segment_update_memo(
            actor=_me(request), contract_id=contract.pk, segment_id=segment_id, memo=data["memo"]
        )
        return Response(SegmentSerializer(segment).data)

    @extend_schema(
        summary="Delete an unbilled segment of the current week (the freelancer)",
        request=None,
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, contract_id: int, segment_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        timetracking.segment_delete(actor=_me(request), contract_id=contract.pk, segment_id=segment_id)
        return Response(status=204)


class SegmentScreenshotApi(_HourlyApi):
    @extend_schema(
        summary="A segment's screenshot (the contract's parties only)",
        responses={(200, "image/*"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, contract_id: int, segment_id: int) -> FileResponse:
        contract = _party_contract(request, contract_id)
        segment = timetracking.segment_get_for_party(contract=contract, segment_id=segment_id)
        return screenshot_response(segment)


def screenshot_response(segment: TimeSegment) -> FileResponse:
    from django.http import Http404

    if not segment.screenshot:
        raise Http404("This segment has no screenshot.")
    name = segment.screenshot.name or ""
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    return downloads.file_response(
        segment.screenshot,
        filename=f"segment-{segment.pk}{name[name.rfind('.') :] if '.' in name else ''}",
        content_type=content_type,
        inline=True,
    )


def _timer_state(contract: Contract) -> dict[str, Any]:
    running = timetracking.timer_running(contract)
    return {"running": running is not None, "timer": running}


class TimerApi(_HourlyApi):
    @extend_schema(
        summary="The contract's timer: running or not, since when (the server's clock)",
        responses={200: TimerStateSerializer, **ERRORS},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        return Response(TimerStateSerializer(_timer_state(contract)).data)


class TimerStartApi(_HourlyApi):
    @extend_schema(
        summary="Start the timer (the freelancer); starting a running timer returns it",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=TimerStartInputSerializer,
        responses={200: TimerSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        data = _valid(TimerStartInputSerializer, request.data)
        via_tracker = isinstance(request.successful_authenticator, TrackerTokenAuthentication)
        session = timetracking.timer_start(
            actor=_me(request),
            contract_id=contract.pk,
            memo=data.get("memo", ""),
            source=TimeSegment.Source.TRACKER if via_tracker else TimeSegment.Source.TIMER,
        )
        return Response(TimerSerializer(session).data)


class TimerStopApi(_HourlyApi):
    @extend_schema(
        summary="Stop the timer and record the 10-minute slots the run covered (at least 5 minutes of each)",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=TimerStopInputSerializer,
        responses={200: TimerStopResultSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _party_contract(request, contract_id)
        data = _valid(TimerStopInputSerializer, request.data)
        result = timetracking.timer_stop(actor=_me(request), contract_id=contract.pk, memo=data.get("memo"))
        contract.refresh_from_db()
        timetracking.attach_billable(contract, result.created)
        week = timetracking.current_week()
        body = {
            "timer": result.session,
            "created": result.created,
            "already_logged": result.already_logged,
            "skipped_closed": result.skipped_closed,
            "capped": result.capped,
            "week": timetracking.week_summary(contract, week).__dict__,
        }
        return Response(TimerStopResultSerializer(body).data)
