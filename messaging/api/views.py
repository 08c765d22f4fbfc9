"""Thin API views of messaging: validate with an input serializer, call a service or a
selector, serialise the result. Someone else's conversation answers 404."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User
from accounts.permissions import NotSuspended
from marketplace.ids import as_id

from .. import downloads, payloads, selectors, services
from ..errors import AttachmentNotFound
from ..models import Notification, Participant
from . import serializers as s

PERMISSIONS = [IsAuthenticated, NotSuspended]
TAGS = ["messaging"]


def _me(request: Request) -> User:
    return cast(User, request.user)


def _seq_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if as_id(raw) is None:
        raise ValidationError({name: ["A whole number (a message seq)."]})
    return int(raw)


class ConversationPagination(CursorPagination):
    ordering = ("-activity", "-pk")
    page_size = 20


class ConversationListApi(generics.ListAPIView):
    """The caller's conversations, most recent first (``?archived=1`` for the archived)."""

    permission_classes = PERMISSIONS
    serializer_class = s.ConversationSerializer
    pagination_class = ConversationPagination
    filter_backends: list = []

    @extend_schema(
        tags=TAGS, parameters=[OpenApiParameter("archived", bool, description="1: archived conversations")]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Participant]:
        archived = self.request.query_params.get("archived") in ("1", "true")
        return selectors.conversation_queryset_for_user(user=_me(self.request), archived=archived)  # type: ignore[arg-type]


class ConversationDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, responses={200: s.ConversationSerializer, 404: ErrorSerializer})
    def get(self, request: Request, conversation_id: int) -> Response:
        view = selectors.conversation_view(user=_me(request), conversation_id=conversation_id)
        view.conversation.members = view.members  # type: ignore[attr-defined]
        view.me.conversation = view.conversation
        return Response(s.ConversationSerializer(view.me).data)


class ConversationMessagesApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Messages of a conversation, by seq",
        parameters=[
            OpenApiParameter("before", int, description="Messages older than this seq (scroll up)."),
            OpenApiParameter("after", int, description="Messages newer than this seq (catch up)."),
            OpenApiParameter("limit", int, description="Page size, 1 to 100 (default 30)."),
        ],
        responses={200: s.MessagePageSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        participant = selectors.participation_for_user(user=_me(request), conversation_id=conversation_id)
        before, after = _seq_param(request, "before"), _seq_param(request, "after")
        if before is not None and after is not None:
            raise ValidationError({"before": ["Give before or after, not both."]})
        items, has_more = selectors.messages_page(
            conversation_id=participant.conversation_id,
            before=before,
            after=after,
            limit=request.query_params.get("limit"),
        )
        return Response(
            {
                "results": [payloads.message_payload(m) for m in items],
                "has_more": has_more,
                "before_cursor": items[0].seq if items else None,
                "after_cursor": items[-1].seq if items else after,
            }
        )

    @extend_schema(
        tags=TAGS,
        summary="Send a message",
        description="Idempotent per client_msg_id: 201 when stored, 200 with the same message when sent before.",
        request=s.SendInputSerializer,
        responses={
            201: s.MessageSerializer,
            200: OpenApiResponse(s.MessageSerializer, description="Sent before with this client_msg_id"),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = s.SendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.message_send(
            actor=_me(request),
            conversation_id=conversation_id,
            body=values["body"],
            client_msg_id=values["client_msg_id"],
            reply_to_seq=values["reply_to"],
            attachment_ids=values["attachment_ids"],
        )
        message = selectors.message_by_seq(conversation_id=conversation_id, seq=result.message.seq)
        return Response(
            payloads.message_payload(message),  # type: ignore[arg-type]
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class MessageDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Edit your message (within 15 minutes)",
        request=s.EditInputSerializer,
        responses={
            200: s.MessageSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def patch(self, request: Request, conversation_id: int, seq: int) -> Response:
        data = s.EditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.message_edit(
            actor=_me(request), conversation_id=conversation_id, seq=seq, body=data.validated_data["body"]
        )
        message = selectors.message_by_seq(conversation_id=conversation_id, seq=seq)
        return Response(payloads.message_payload(message))  # type: ignore[arg-type]

    @extend_schema(
        tags=TAGS,
        summary="Delete your message",
        request=None,
        responses={200: s.MessageSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def delete(self, request: Request, conversation_id: int, seq: int) -> Response:
        services.message_delete(actor=_me(request), conversation_id=conversation_id, seq=seq)
        message = selectors.message_by_seq(conversation_id=conversation_id, seq=seq)
        return Response(payloads.message_payload(message))  # type: ignore[arg-type]


class ConversationReadApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Mark messages read up to a seq",
        request=s.ReadInputSerializer,
        responses={200: s.ReadOutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = s.ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        read = services.conversation_mark_read(
            actor=_me(request), conversation_id=conversation_id, seq=data.validated_data["seq"]
        )
        participant = selectors.participation_for_user(user=_me(request), conversation_id=conversation_id)
        return Response(
            {
                "conversation": participant.conversation_id,
                "last_read_seq": read,
                "unread": participant.conversation.last_message_seq - participant.last_read_seq,
            }
        )


class AttachmentUploadApi(APIView):
    permission_classes = PERMISSIONS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=TAGS,
        summary="Upload a file to send with a message",
        description="Up to 10 MB; images, PDF, Word, Excel, ZIP or text, checked by content. "
        "Send its id in attachment_ids.",
        request={"multipart/form-data": s.UploadInputSerializer},
        responses={201: s.AttachmentSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        attachment = services.attachment_upload(
            actor=_me(request), conversation_id=conversation_id, upload=request.FILES.get("file")
        )
        return Response(payloads.attachment_payload(attachment), status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        tags=TAGS,
        summary="Download a file (participants only)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request, conversation_id: int, attachment_id: int):
        attachment = selectors.attachment_for_user(user=_me(request), attachment_id=attachment_id)
        if attachment.conversation_id != conversation_id:
            raise AttachmentNotFound("No such file.")
        return downloads.file_response(
            attachment.file,
            filename=attachment.original_name,
            content_type=attachment.content_type,
            inline=False,
        )


class NotificationPagination(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 20


class NotificationListApi(generics.ListAPIView):
    """The caller's notifications, newest first."""

    permission_classes = PERMISSIONS
    serializer_class = s.NotificationSerializer
    pagination_class = NotificationPagination
    filter_backends: list = []

    @extend_schema(tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Notification]:
        return selectors.notification_list(user=_me(self.request))  # type: ignore[arg-type]


class NotificationReadApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, request=None, responses={200: s.NotificationSerializer, 404: ErrorSerializer})
    def post(self, request: Request, notification_id: int) -> Response:
        notification = services.notification_mark_read(actor=_me(request), notification_id=notification_id)
        return Response(s.NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, request=None, responses={200: s.MarkAllOutputSerializer})
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_all_read(actor=_me(request))})


class NotificationPreferencesApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(tags=TAGS, responses={200: s.PreferencesSerializer})
    def get(self, request: Request) -> Response:
        return Response(selectors.preferences_for(user=_me(request)))

    @extend_schema(
        tags=TAGS,
        description="Set the channel of some or all kinds; kinds left out keep theirs.",
        request=s.PreferencesSerializer,
        responses={200: s.PreferencesSerializer, 400: ErrorSerializer},
    )
    def put(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send an object of kind: channel."]})
        unknown = sorted(set(request.data) - set(s.PreferencesSerializer().fields))
        if unknown:
            raise ValidationError({unknown[0]: ["Unknown notification kind."]})
        data = s.PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.notification_preferences_set(actor=_me(request), preferences=dict(data.validated_data))
        )
