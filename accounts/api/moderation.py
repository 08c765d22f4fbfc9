"""API of the moderation queue: POST /api/v1/reports/ reports a piece of content."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import moderation
from ..models import ContentFlag, FlagReason, User
from ..permissions import NotSuspended
from .serializers import ErrorSerializer


class ReportInputSerializer(serializers.Serializer):
    content_type = serializers.CharField(
        max_length=100,
        help_text='What is reported, as "app_label.model": jobs.job, jobs.servicelisting, '
        "accounts.freelancerprofile, messaging.message, reviews.review, ...",
    )
    object_id = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ReportSerializer(serializers.ModelSerializer):
    content_type = serializers.SerializerMethodField()

    class Meta:
        model = ContentFlag
        fields = ["id", "content_type", "object_id", "reason", "note", "status", "created_at"]
        read_only_fields = fields

    def get_content_type(self, flag: ContentFlag) -> str:
        return f"{flag.content_type.app_label}.{flag.content_type.model}"


class ReportCreateApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Report content to staff",
        description="One report per user and piece of content. Unknown kinds and content you "
        "cannot see are 404; your own content and a second report are refused.",
        request=ReportInputSerializer,
        responses={201: ReportSerializer, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        obj = moderation.content_lookup(values["content_type"], values["object_id"])
        flag = moderation.flag_create(
            actor=cast(User, request.user), obj=obj, reason=values["reason"], note=values["note"]
        )
        return Response(ReportSerializer(flag).data, status=status.HTTP_201_CREATED)
