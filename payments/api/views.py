"""Thin API views of payments. Writes that move money accept ``Idempotency-Key``;
adding or removing a payout method needs the account password (re-authentication)."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError, NotFoundError

from .. import history, selectors, services
from ..gateways.base import CardInput
from ..history import ACCOUNT_LABELS, MovementType
from ..idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentMixin
from ..models import Charge, Invoice, PaymentMethod, Payout, PayoutMethod, Posting
from ..selectors import USER_ACCOUNT_LABELS
from . import serializers as s

PERMISSIONS = [IsAuthenticated, NotSuspended]
TAGS = ["payments"]


def _me(request: Request) -> User:
    return cast(User, request.user)


def _check_password(request: Request, password: str) -> None:
    if not _me(request).check_password(password):
        raise ApplicationError(
            "Your password is wrong; enter it to confirm it is you.",
            code="reauthentication_failed",
            extra={"field": "password"},
        )


class Pages(PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


class BalanceApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, summary="My balances and held amounts", responses={200: s.BalanceSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.BalanceSerializer(selectors.balance_summary(_me(request))).data)


class PayoutMethodListApi(generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = s.PayoutMethodSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(tags=TAGS, summary="My payout methods")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[PayoutMethod]:
        return selectors.payout_methods_for(_me(self.request))


class BankAccountCreateApi(IdempotentMixin, APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Add a bank account (local gateway)",
        description="Only the last four digits are kept. Usable after the new-method delay.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=s.BankAccountInputSerializer,
        responses={201: s.PayoutMethodSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.BankAccountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        _check_password(request, fields.pop("password"))
        method = services.payout_method_add_bank_account(actor=_me(request), **fields)
        return Response(s.PayoutMethodSerializer(method).data, status=status.HTTP_201_CREATED)


class StripeConnectApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Connect a Stripe account",
        description="Creates the Express account once and returns a one-time onboarding link.",
        request=s.StripeConnectInputSerializer,
        responses={200: s.StripeConnectOutputSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.StripeConnectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _check_password(request, data.validated_data["password"])
        method, url = services.payout_method_connect_stripe(
            actor=_me(request),
            return_url=data.validated_data["return_url"],
            refresh_url=data.validated_data["refresh_url"],
        )
        return Response({"method": s.PayoutMethodSerializer(method).data, "onboarding_url": url})


class PayoutMethodDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Remove a payout method",
        request=s.PasswordInputSerializer,
        responses={204: None, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def delete(self, request: Request, method_id: int) -> Response:
        data = s.PasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _check_password(request, data.validated_data["password"])
        services.payout_method_remove(actor=_me(request), method_id=method_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WithdrawalListCreateApi(IdempotentMixin, generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = s.PayoutSerializer
    pagination_class = Pages
    filter_backends: list = []

    @extend_schema(tags=TAGS, summary="My withdrawals, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Payout]:
        return selectors.payouts_for(_me(self.request))

    @extend_schema(
        tags=TAGS,
        summary="Withdraw from the available balance",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=s.WithdrawalInputSerializer,
        responses={201: s.PayoutSerializer, 400: ErrorSerializer, 404: ErrorSerializer, 422: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.WithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_request(
            actor=_me(request),
            amount_cents=data.validated_data["amount_cents"],
            method_id=data.validated_data["method_id"],
        )
        payout.refresh_from_db()
        return Response(s.PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)


class WithdrawalDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS, summary="One of my withdrawals", responses={200: s.PayoutSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, payout_id: int) -> Response:
        payout = selectors.payout_get_for_user(_me(request), payout_id)
        if payout is None:
            raise NotFoundError("No such withdrawal.")
        return Response(s.PayoutSerializer(payout).data)


class PayoutScheduleApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS, summary="My automatic withdrawal schedule", responses={200: s.PayoutScheduleSerializer}
    )
    def get(self, request: Request) -> Response:
        return Response(s.PayoutScheduleSerializer(selectors.payout_schedule_for(_me(request))).data)

    @extend_schema(
        tags=TAGS,
        summary="Set the automatic withdrawal schedule",
        request=s.PayoutScheduleSerializer,
        responses={200: s.PayoutScheduleSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def put(self, request: Request) -> Response:
        data = s.PayoutScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = services.payout_schedule_set(
            actor=_me(request),
            frequency=data.validated_data["frequency"],
            method_id=data.validated_data.get("method_id"),
        )
        return Response(s.PayoutScheduleSerializer(schedule).data)


class TransactionListApi(generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = s.TransactionSerializer
    pagination_class = Pages
    filter_backends: list = []

    @extend_schema(
        tags=TAGS,
        summary="My balance history",
        parameters=[
            OpenApiParameter(
                "account", str, enum=list(USER_ACCOUNT_LABELS), description="Only this balance."
            ),
            OpenApiParameter("from", str, description="From this day (YYYY-MM-DD, UTC)."),
            OpenApiParameter("to", str, description="Until this day, inclusive (YYYY-MM-DD, UTC)."),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Posting]:
        from ..forms import TransactionFilterForm

        form = TransactionFilterForm(
            {
                "account": self.request.query_params.get("account", ""),
                "date_from": self.request.query_params.get("from", ""),
                "date_to": self.request.query_params.get("to", ""),
            }
        )
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        return selectors.transactions_for(
            _me(self.request),
            kind=form.cleaned_data["account"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )


class CardListCreateApi(IdempotentMixin, generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = s.CardSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(tags=TAGS, summary="My saved cards")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[PaymentMethod]:
        return selectors.cards_for(_me(self.request))

    @extend_schema(
        tags=TAGS,
        summary="Save a card",
        description="Local gateway: a test card number; Stripe: a payment method token from Stripe.js.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=s.CardInputSerializer,
        responses={201: s.CardSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.CardInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        card = services.payment_method_add(
            actor=_me(request),
            card=CardInput(
                number=v["number"],
                exp_month=v.get("exp_month"),
                exp_year=v.get("exp_year"),
                cvc=v["cvc"],
                token=v["token"],
            ),
            make_default=v["make_default"],
        )
        return Response(s.CardSerializer(card).data, status=status.HTTP_201_CREATED)


class CardDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, summary="Remove a saved card", responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, card_id: int) -> Response:
        services.payment_method_remove(actor=_me(request), method_id=card_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChargeListApi(generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = s.ChargeSerializer
    pagination_class = Pages
    filter_backends: list = []

    @extend_schema(tags=TAGS, summary="My payments (as a client), newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Charge]:
        return selectors.charges_for(_me(self.request))


# --- movements, invoices, statements ----------------------------------------------------------


class MovementListApi(APIView):
    permission_classes = PERMISSIONS
    pagination_class = Pages  # for the schema: the answer is a page, not a bare list

    @extend_schema(
        tags=TAGS,
        summary="My money movements (both roles), newest first",
        description="Charges, fees, refunds, releases, bonuses, hold releases, withdrawals and "
        "adjustments. Amounts are signed cents (positive in).",
        parameters=[
            OpenApiParameter("type", str, description=f"Only this type: {', '.join(MovementType.values)}."),
            OpenApiParameter("account", str, description=f"Only this balance: {', '.join(ACCOUNT_LABELS)}."),
            OpenApiParameter("from", str, description="From this day (YYYY-MM-DD, UTC)."),
            OpenApiParameter("to", str, description="Until this day, inclusive (YYYY-MM-DD, UTC)."),
            OpenApiParameter("page", int, description="Page number."),
            OpenApiParameter("page_size", int, description="Records per page (at most 100)."),
        ],
        responses={200: s.MovementSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        from ..forms import TransactionFilterForm

        params = request.query_params
        form = TransactionFilterForm(
            {
                "type": params.get("type", ""),
                "account": params.get("account", ""),
                "date_from": params.get("from", ""),
                "date_to": params.get("to", ""),
            }
        )
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        filters = history.Filters(
            type=form.cleaned_data["type"],
            account=form.cleaned_data["account"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
        paginator = Pages()
        keys = paginator.paginate_queryset(history.movement_keys(_me(request), filters), request, view=self)
        rows = history.hydrate(_me(request), keys or [], filters)
        return paginator.get_paginated_response(s.MovementSerializer(rows, many=True).data)


def _invoice_data(invoice: Invoice) -> dict:
    invoice.doc = selectors.invoice_document(invoice)  # type: ignore[attr-defined]
    return s.InvoiceSerializer(invoice).data


class InvoiceListApi(APIView):
    permission_classes = PERMISSIONS
    pagination_class = Pages  # for the schema: the answer is a page, not a bare list

    @extend_schema(
        tags=TAGS,
        summary="My invoices, newest first",
        parameters=[OpenApiParameter("page", int, description="Page number.")],
        responses={200: s.InvoiceSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        paginator = Pages()
        page = paginator.paginate_queryset(history.invoices_for(_me(request)), request, view=self)
        return paginator.get_paginated_response(s.InvoiceSummarySerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Get the invoice of a payment, release or withdrawal (issued once)",
        request=s.InvoiceIssueInputSerializer,
        responses={200: s.InvoiceSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = s.InvoiceIssueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = services.invoice_issue(
            actor=_me(request), kind=data.validated_data["kind"], source_id=data.validated_data["source_id"]
        )
        found = selectors.invoice_get_for_user(_me(request), invoice.number)
        assert found is not None
        return Response(_invoice_data(found))


class InvoiceDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS, summary="One of my invoices", responses={200: s.InvoiceSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, number: str) -> Response:
        invoice = selectors.invoice_get_for_user(_me(request), number)
        if invoice is None:
            raise NotFoundError("No such invoice.")
        return Response(_invoice_data(invoice))


class StatementApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="My statement for one month",
        description="Opening balance, movements (oldest first) and closing balance per balance; "
        "a client's spend counts up (payments add, refunds subtract).",
        responses={200: s.StatementSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, year: int, month: int) -> Response:
        if not (1 <= month <= 12 and 2000 <= year <= 2999):
            raise NotFoundError("No such month.")
        return Response(s.StatementSerializer(history.statement_for(_me(request), year, month)).data)
