"""API views of proposals and Connects: thin, one service per write, the same rules as the
HTML pages. A proposal exists only for its two parties (404 for anyone else)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from jobs.selectors import job_get_for_viewer
from jobs.selectors_posting import own_job_get
from marketplace.errors import ApplicationError, PermissionDeniedError
from marketplace.ids import as_id
from payments.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent

from .. import selectors, services
from ..models import ConnectsTransaction, Proposal
from .serializers import (
    BidInputSerializer,
    ConnectsBalanceSerializer,
    ConnectsPurchaseInputSerializer,
    ConnectsPurchaseSerializer,
    ConnectsTransactionSerializer,
    DeclineInputSerializer,
    MessageInputSerializer,
    ProposalCreateInputSerializer,
    ProposalDetailSerializer,
    ProposalSerializer,
    WithdrawInputSerializer,
)


def _me(request: Request) -> User:
    return cast(User, request.user)


def _detail(request: Request, proposal_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    proposal = selectors.proposal_get_for_party(proposal_id=proposal_id, viewer=request.user)
    data = ProposalDetailSerializer(proposal, context={"request": request, "viewer": request.user}).data
    return Response(data, status=code)


def _party_check(request: Request, proposal_id: int) -> Proposal:
    """404 for anyone who is not a party (before any write says more)."""
    return selectors.proposal_get_for_party(proposal_id=proposal_id, viewer=request.user)


class _Authed(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]


class ProposalCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class ProposalListCreateApi(generics.ListAPIView):
    """The caller's own proposals (GET, by tab) and sending a new one (POST)."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = ProposalSerializer
    pagination_class = ProposalCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends: list = []

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def get_queryset(self) -> QuerySet[Proposal]:
        tab = self.request.query_params.get("tab") or None
        if tab is not None and tab not in selectors.FREELANCER_TABS:
            raise ApplicationError(
                "Choose the tab: submitted, active, offers or archived.",
                code="invalid_choice",
                extra={"field": "tab"},
            )
        return (
            selectors.freelancer_proposal_list(user=_me(self.request), tab=tab)
            .prefetch_related("milestones", "answers__question", "attachments", "portfolio_items")
            .select_related("freelancer__freelancer_profile")
        )

    @extend_schema(
        summary="The caller's proposals",
        parameters=[
            OpenApiParameter(
                "tab",
                str,
                enum=list(selectors.FREELANCER_TABS),
                description="submitted (waiting), active (in conversation), offers (an offer is pending), "
                "archived (declined, withdrawn, hired)",
            )
        ],
        responses={200: ProposalSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Send a proposal",
        description="Spends the job's Connects (small 2, medium 4, large 6) unless the caller was invited. "
        "JSON, or multipart with up to 5 `attachments` (then `answers`, `milestones` and "
        "`portfolio_item_ids` as JSON strings).",
        request={
            "application/json": ProposalCreateInputSerializer,
            "multipart/form-data": ProposalCreateInputSerializer,
        },
        responses={
            201: ProposalDetailSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = ProposalCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_get_for_viewer(public_id=data.validated_data["job"], viewer=request.user)
        proposal = services.proposal_submit(actor=_me(request), job_id=job.pk, data=data.to_input())
        return _detail(request, proposal.pk, code=status.HTTP_201_CREATED)


class ProposalDetailApi(_Authed):
    @extend_schema(
        summary="A proposal, for its freelancer or the job's client",
        responses={200: ProposalDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, proposal_id: int) -> Response:
        return _detail(request, proposal_id)


class ProposalBidApi(_Authed):
    @extend_schema(
        summary="Change the bid, milestones and duration (the freelancer)",
        request=BidInputSerializer,
        responses={200: ProposalDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        _party_check(request, proposal_id)
        data = BidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.proposal_update_bid(actor=_me(request), proposal_id=proposal_id, data=data.to_bid())
        return _detail(request, proposal_id)


class ProposalWithdrawApi(_Authed):
    @extend_schema(
        summary="Withdraw a proposal (the freelancer; Connects are not refunded)",
        request=WithdrawInputSerializer,
        responses={200: ProposalDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        _party_check(request, proposal_id)
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.proposal_withdraw(
            actor=_me(request),
            proposal_id=proposal_id,
            reason=data.validated_data["withdraw_reason"],
            note=data.validated_data["note"],
        )
        return _detail(request, proposal_id)


def _client_action(name: str, summary: str) -> type[APIView]:
    service = getattr(services, name)

    class ClientActionApi(_Authed):
        @extend_schema(
            operation_id=f"v1_proposals_{name.removeprefix('proposal_')}",
            summary=summary,
            request=None,
            responses={200: ProposalDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        )
        def post(self, request: Request, proposal_id: int) -> Response:
            _party_check(request, proposal_id)
            service(actor=_me(request), proposal_id=proposal_id)
            return _detail(request, proposal_id)

    ClientActionApi.__name__ = ClientActionApi.__qualname__ = (
        "".join(part.capitalize() for part in name.split("_")) + "Api"
    )
    return ClientActionApi


ProposalShortlistApi = _client_action("proposal_shortlist", "Shortlist a proposal (the client)")
ProposalUnshortlistApi = _client_action(
    "proposal_unshortlist", "Take a proposal off the shortlist (the client)"
)
ProposalArchiveApi = _client_action("proposal_archive", "Archive a proposal (the client)")
ProposalUnarchiveApi = _client_action("proposal_unarchive", "Unarchive a proposal (the client)")


class ProposalDeclineApi(_Authed):
    @extend_schema(
        summary="Decline a proposal (the client; the freelancer is told why)",
        request=DeclineInputSerializer,
        responses={200: ProposalDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        _party_check(request, proposal_id)
        data = DeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.proposal_decline(
            actor=_me(request),
            proposal_id=proposal_id,
            reason=data.validated_data["decline_reason"],
            note=data.validated_data["note"],
        )
        return _detail(request, proposal_id)


class ProposalMessageApi(_Authed):
    @extend_schema(
        summary="Message the freelancer (the client); the first message opens the interview conversation",
        request=MessageInputSerializer,
        responses={200: ProposalDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        _party_check(request, proposal_id)
        data = MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.proposal_message(
            actor=_me(request), proposal_id=proposal_id, text=data.validated_data["text"]
        )
        return _detail(request, proposal_id)


class JobProposalsPagination(PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


class JobProposalListApi(generics.ListAPIView):
    """The proposals to one of the caller's jobs (the review page)."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = ProposalSerializer
    pagination_class = JobProposalsPagination
    filter_backends: list = []

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def get_queryset(self) -> QuerySet[Proposal]:
        job = own_job_get(public_id=self.kwargs["public_id"], user=_me(self.request), action="view")
        params = self.request.query_params
        filter_key = params.get("filter") or "all"
        if filter_key not in selectors.CLIENT_FILTERS:
            raise ApplicationError(
                "Choose the filter: " + ", ".join(selectors.CLIENT_FILTERS) + ".",
                code="invalid_choice",
                extra={"field": "filter"},
            )
        sort = params.get("sort") or "best"
        if sort not in selectors.CLIENT_SORTS:
            raise ApplicationError("Sort by best or newest.", code="invalid_choice", extra={"field": "sort"})
        rates = {}
        for name in ("rate_min_cents", "rate_max_cents"):
            raw = params.get(name)
            if raw in (None, ""):
                continue
            if as_id(raw) is None:
                raise ApplicationError(
                    f"{name} must be a whole number of cents.", code="invalid", extra={"field": name}
                )
            rates[name] = int(raw)
        return (
            selectors.client_proposal_list(job=job, filter_key=filter_key, sort=sort, **rates)
            .prefetch_related("milestones", "answers__question", "attachments", "portfolio_items")
            .select_related("job")
        )

    @extend_schema(
        summary="Proposals to one of the caller's jobs",
        parameters=[
            OpenApiParameter("filter", str, enum=list(selectors.CLIENT_FILTERS)),
            OpenApiParameter("sort", str, enum=list(selectors.CLIENT_SORTS)),
            OpenApiParameter(
                "rate_min_cents",
                int,
                description="the bid on hourly jobs, the profile rate on fixed-price jobs",
            ),
            OpenApiParameter("rate_max_cents", int),
        ],
        responses={200: ProposalSerializer(many=True), 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _require_freelancer(user: User) -> None:
    if not user.is_freelancer:
        raise PermissionDeniedError("Connects are for freelancers.", code="not_freelancer")


class ConnectsBalanceApi(_Authed):
    @extend_schema(
        summary="The caller's Connects balance and the next monthly grant",
        responses={200: ConnectsBalanceSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        _require_freelancer(_me(request))
        wallet = services.connects_wallet_for(_me(request))
        summary = selectors.connects_summary(wallet=wallet)
        data = {
            "balance": summary.balance,
            "next_grant": summary.next_grant,
            "monthly_grant": summary.monthly_grant,
            "rollover_cap": summary.rollover_cap,
            "costs": dict(settings.CONNECTS_COST_BY_SIZE),
            "purchase_available": True,
            "packs": [asdict(pack) for pack in services.connects_packs()],
        }
        return Response(ConnectsBalanceSerializer(data).data)


class ConnectsPurchaseApi(_Authed):
    @extend_schema(
        summary="Buy a pack of Connects with a saved card",
        description=(
            "Charges the caller's card (the default one unless payment_method_id names another), "
            "with no marketplace fee, and adds the Connects. The same purchase_key and pack is one "
            "payment; the Idempotency-Key header is honoured too. A declined card answers 400 "
            "with code payment_failed and the bank's message; nothing is added."
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ConnectsPurchaseInputSerializer,
        responses={
            201: ConnectsPurchaseSerializer,
            202: ConnectsPurchaseSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        me = _me(request)
        _require_freelancer(me)
        incoming = ConnectsPurchaseInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        key = incoming.validated_data.get("purchase_key") or services.new_purchase_key()
        bought = services.connects_purchase(
            actor=me,
            quantity=incoming.validated_data["quantity"],
            purchase_key=key,
            payment_method_id=incoming.validated_data.get("payment_method_id"),
        )
        data = {
            "quantity": bought.quantity,
            "price_cents": bought.price_cents,
            "status": bought.status,
            "charge_id": bought.charge.pk,
            "purchase_key": key,
            "balance": bought.balance,
        }
        code = status.HTTP_201_CREATED if bought.status == "succeeded" else status.HTTP_202_ACCEPTED
        return Response(ConnectsPurchaseSerializer(data).data, status=code)


class ConnectsHistoryPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 25


class ConnectsHistoryApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = ConnectsTransactionSerializer
    pagination_class = ConnectsHistoryPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ConnectsTransaction]:
        _require_freelancer(_me(self.request))
        return selectors.connects_history(user=_me(self.request))

    @extend_schema(
        summary="Every grant, spend and refund of the caller's Connects, newest first",
        responses={200: ConnectsTransactionSerializer(many=True), 403: ErrorSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
