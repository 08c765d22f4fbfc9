"""API of events, under /api/v1/events/: upcoming and past published events, one event
(the join link only for a registered caller), and registering (POST) or cancelling
(DELETE) the caller's seat through the same services as the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError

from .. import events as event_services
from ..models import Event

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class EventSerializer(serializers.ModelSerializer):
    ends_at = serializers.SerializerMethodField()
    seats_left = serializers.SerializerMethodField()
    is_registered = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "slug",
            "title",
            "description",
            "speaker_name",
            "speaker_title",
            "starts_at",
            "ends_at",
            "duration_minutes",
            "capacity",
            "seats_left",
            "recording_url",
            "is_registered",
        ]

    def get_ends_at(self, event: Event) -> str:
        return serializers.DateTimeField().to_representation(event_services.event_ends_at(event))

    def get_seats_left(self, event: Event) -> int:
        return event_services.event_seats_left(event)

    def get_is_registered(self, event: Event) -> bool:
        return event.pk in self.context.get("registered_ids", set())


class EventDetailSerializer(EventSerializer):
    join_url = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField()
    starts_at_local = serializers.SerializerMethodField()

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "join_url", "timezone", "starts_at_local"]

    def get_join_url(self, event: Event) -> str:
        return self.context["view_of"].join_url

    def get_timezone(self, event: Event) -> str:
        return self.context["view_of"].timezone_name

    def get_starts_at_local(self, event: Event) -> str:
        return self.context["view_of"].starts_local.isoformat()


def _detail(event: Event, viewer: Any) -> dict:
    view = event_services.event_view(event=event, viewer=viewer)
    context = {"view_of": view, "registered_ids": {event.pk} if view.is_registered else set()}
    return EventDetailSerializer(event, context=context).data


class EventListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Published events",
        parameters=[
            OpenApiParameter("when", str, enum=["upcoming", "past"], description="Default: upcoming")
        ],
        responses={200: EventSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        when = str(request.query_params.get("when", "upcoming"))
        if when not in ("upcoming", "past"):
            raise ApplicationError("`when` must be upcoming or past.", code="invalid_when")
        events = event_services.upcoming_events() if when == "upcoming" else event_services.past_events()
        registered = event_services.registered_event_ids(user=request.user, events=events)
        return Response(EventSerializer(events, many=True, context={"registered_ids": registered}).data)


class EventDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One published event", responses={200: EventDetailSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        event = event_services.event_get_published(slug=slug)
        return Response(_detail(event, request.user))


def _me(request: Request) -> User:
    return cast(User, request.user)


def _registration_change(
    request: Request, slug: str, change: Callable[..., Any], status_code: int = status.HTTP_200_OK
) -> Response:
    """Register or cancel (``change``, a service taking ``actor`` and ``event_id``) on the
    published event ``slug``, then answer with the event as the caller now sees it."""
    event = event_services.event_get_published(slug=slug)
    change(actor=_me(request), event_id=event.pk)
    event.refresh_from_db()
    return Response(_detail(event, request.user), status=status_code)


class EventRegistrationApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Register the caller for an upcoming event",
        request=None,
        responses={201: EventDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        return _registration_change(request, slug, event_services.event_register, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel the caller's registration",
        request=None,
        responses={200: EventDetailSerializer, **ERRORS},
    )
    def delete(self, request: Request, slug: str) -> Response:
        return _registration_change(request, slug, event_services.event_cancel)
