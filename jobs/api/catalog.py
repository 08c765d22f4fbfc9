"""API of the service catalog: browse approved services, one service, buy a tier, and the
order's actions (pay, requirements, deliver, revision, approve, cancel) for its parties.
Thin: every write calls ``jobs.catalog``; errors answer the usual envelope."""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Paginator
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended

from .. import catalog
from ..catalog import ListingFilters
from ..models import ServiceAddOn, ServiceListing, ServiceOrder, ServiceTier

PAGE_SIZE = 24


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceTier
        fields = ["name", "price_cents", "delivery_days", "revisions", "included"]


class AddOnSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceAddOn
        fields = ["id", "kind", "price_cents", "days_less"]


class ListingCardSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    freelancer = serializers.CharField(source="freelancer.display_name")
    rating_avg = serializers.DecimalField(
        source="freelancer.freelancer_profile.rating_avg", max_digits=3, decimal_places=2, allow_null=True
    )

    class Meta:
        model = ServiceListing
        fields = [
            "public_id",
            "title",
            "category",
            "freelancer",
            "rating_avg",
            "min_price_cents",
            "min_delivery_days",
            "orders_count",
        ]


class ListingSerializer(ListingCardSerializer):
    description = serializers.CharField()
    tiers = serializers.SerializerMethodField()
    addons = AddOnSerializer(many=True)
    requirements = serializers.SerializerMethodField()
    status = serializers.CharField()

    class Meta(ListingCardSerializer.Meta):
        fields = [
            *ListingCardSerializer.Meta.fields,
            "description",
            "status",
            "tiers",
            "addons",
            "requirements",
        ]

    @extend_schema(responses=TierSerializer(many=True))  # type: ignore[misc]
    def get_tiers(self, listing: ServiceListing) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], TierSerializer(catalog.tiers_in_order(listing), many=True).data)

    def get_requirements(self, listing: ServiceListing) -> list[str]:
        return [r.question for r in listing.requirements.all()]


class ListingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    results = ListingCardSerializer(many=True)


class ListingQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    category = serializers.IntegerField(required=False, min_value=1)
    min_price_cents = serializers.IntegerField(required=False, min_value=0)
    max_price_cents = serializers.IntegerField(required=False, min_value=0)
    max_delivery_days = serializers.IntegerField(required=False, min_value=1)
    min_rating = serializers.DecimalField(required=False, max_digits=3, decimal_places=2, min_value=0)
    page = serializers.IntegerField(required=False, min_value=1, default=1)


class OrderSerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.public_id")
    tier = serializers.CharField(source="tier.name")
    addons = serializers.SerializerMethodField()

    class Meta:
        model = ServiceOrder
        fields = [
            "public_id",
            "listing",
            "tier",
            "addons",
            "status",
            "amount_cents",
            "delivery_days",
            "revisions_allowed",
            "revisions_used",
            "requirements_answers",
            "requirements_due_at",
            "delivery_due_at",
            "contract",
            "created_at",
        ]

    def get_addons(self, order: ServiceOrder) -> list[str]:
        return [a.kind for a in order.addons.all()]


class BuyInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=ServiceTier.Name.choices)
    addon_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=5
    )
    pay = serializers.BooleanField(default=True, help_text="Fund the order at once with the saved card")


class BuyResultSerializer(serializers.Serializer):
    order = OrderSerializer()
    paid = serializers.BooleanField()
    message = serializers.CharField(help_text="The gateway's message when the payment did not go through")


class AnswersInputSerializer(serializers.Serializer):
    answers = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=2000), max_length=10
    )


class DeliverInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000)


class NoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500)


def _me(request: Request) -> User:
    return cast(User, request.user)


class ServiceListApi(APIView):
    """Approved services, filtered like the Services page."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="v1_services_list",
        parameters=[ListingQuerySerializer],
        responses={200: ListingPageSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = ListingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = ListingFilters(
            q=data.get("q", ""),
            category_id=data.get("category"),
            min_price_cents=data.get("min_price_cents"),
            max_price_cents=data.get("max_price_cents"),
            max_delivery_days=data.get("max_delivery_days"),
            min_rating=data.get("min_rating"),
        )
        paginator = Paginator(catalog.listing_search(filters), PAGE_SIZE)
        page = paginator.get_page(data["page"])
        return Response(
            ListingPageSerializer(
                {"count": paginator.count, "page": page.number, "results": page.object_list}
            ).data
        )


class ServiceDetailApi(APIView):
    """One service: approved, or the caller's own (staff see all); 404 otherwise."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ListingSerializer, 404: ErrorSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        listing = catalog.listing_for_viewer(public_id, cast(Any, request.user))
        return Response(ListingSerializer(listing).data)


class ServiceBuyApi(APIView):
    """Buy a tier (plus add-ons): the order and its contract are created, then (``pay``) its
    milestone is funded with the caller's saved card."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=BuyInputSerializer,
        responses={
            201: BuyResultSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        data = BuyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = ServiceListing.objects.filter(public_id=public_id).first()
        order = catalog.order_create(
            actor=_me(request),
            listing_id=listing.pk if listing else -1,
            tier=data.validated_data["tier"],
            addon_ids=data.validated_data["addon_ids"],
        )
        paid, message = False, ""
        if data.validated_data["pay"]:
            result = catalog.order_pay(actor=_me(request), order_id=order.pk)
            order, paid, message = result.order, result.paid, result.message
        return Response(
            BuyResultSerializer({"order": order, "paid": paid, "message": message}).data,
            status=status.HTTP_201_CREATED,
        )


class OrderDetailApi(APIView):
    """An order, for its buyer and seller."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderSerializer, 404: ErrorSerializer})
    def get(self, request: Request, public_id: str) -> Response:
        order = catalog.order_for_party(public_id, _me(request))
        return Response(OrderSerializer(catalog.order_sync(order_id=order.pk)).data)


class OrderActionApi(APIView):
    """One action on an order: ``requirements`` (buyer), ``deliver`` (seller), ``revision``,
    ``approve``, ``cancel`` (buyer), ``pay`` (buyer)."""

    permission_classes = [IsAuthenticated, NotSuspended]
    verb = ""

    @extend_schema(
        request=None,
        responses={200: OrderSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        me = _me(request)
        order = catalog.order_for_party(public_id, me)
        if self.verb == "requirements":
            answers = AnswersInputSerializer(data=request.data)
            answers.is_valid(raise_exception=True)
            order = catalog.order_submit_requirements(
                actor=me, order_id=order.pk, answers=answers.validated_data["answers"]
            )
        elif self.verb == "deliver":
            body = DeliverInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            order = catalog.order_deliver(actor=me, order_id=order.pk, message=body.validated_data["message"])
        elif self.verb == "revision":
            note = NoteInputSerializer(data=request.data)
            note.is_valid(raise_exception=True)
            order = catalog.order_request_revision(
                actor=me, order_id=order.pk, note=note.validated_data["note"]
            )
        elif self.verb == "approve":
            order = catalog.order_approve(actor=me, order_id=order.pk)
        elif self.verb == "cancel":
            order = catalog.order_cancel(actor=me, order_id=order.pk)
        else:  # pay
            order = catalog.order_pay(actor=me, order_id=order.pk).order
        return Response(OrderSerializer(order).data)


urlpatterns: list[URLPattern] = [
    path("services/", ServiceListApi.as_view(), name="api_services"),
    path("services/orders/<str:public_id>/", OrderDetailApi.as_view(), name="api_service_order"),
    *[
        path(
            f"services/orders/<str:public_id>/{action}/",
            OrderActionApi.as_view(verb=action),
            name=f"api_service_order_{action}",
        )
        for action in ("pay", "requirements", "deliver", "revision", "approve", "cancel")
    ],
    path("services/<str:public_id>/", ServiceDetailApi.as_view(), name="api_service"),
    path("services/<str:public_id>/orders/", ServiceBuyApi.as_view(), name="api_service_buy"),
]
