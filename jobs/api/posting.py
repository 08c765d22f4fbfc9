"""API views: posting and the job lifecycle, the job page, flags, the client's jobs.

Thin: an input serializer checks the shape, ``jobs.services`` checks the rules and writes
(its ``ApplicationError`` becomes the ``{"message", "code", "extra"}`` envelope), and the
output serializers render ``jobs.selectors_posting.JobPage``. Amounts are integer cents.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from django.db.models import QuerySet
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import ClientProfile, ContentFlag, ExperienceLevel, FlagReason, User
from accounts.permissions import NotSuspended
from marketplace.errors import ApplicationError, PermissionDeniedError
from marketplace.ids import as_id

from .. import services
from ..models import JOB_FLAG_REASONS, Job
from ..selectors_posting import (
    MINE_TABS,
    JobPage,
    client_job_list,
    job_get_for_viewer,
    job_input_for,
    job_missing_parts,
    job_page,
    own_job_get,
)
from ..services import JobInput


def _me(request: Request) -> User:
    """The caller, on views whose permission classes already require authentication."""
    return cast(User, request.user)


# --- serializers ------------------------------------------------------------------------------------


class JobPostInputSerializer(serializers.Serializer):
    """A job document. On PATCH every field is optional and the rest stays as it is.

    Only the shape is checked here; ``jobs.services`` checks lengths, ranges and the
    taxonomy and answers with a specific ``code`` (``title_too_short``,
    ``budget_min_above_max``, ``category_mismatch``...).
    """

    title = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(allow_blank=True, trim_whitespace=False)
    category_id = serializers.IntegerField()
    subcategory_id = serializers.IntegerField(required=False, allow_null=True)
    skill_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=50
    )
    size = serializers.ChoiceField(choices=Job.Size.choices, required=False)
    duration = serializers.ChoiceField(choices=Job.Duration.choices, required=False)
    experience_level = serializers.ChoiceField(choices=ExperienceLevel.choices, required=False)
    budget_type = serializers.ChoiceField(choices=Job.BudgetType.choices, required=False)
    hourly_min_cents = serializers.IntegerField(required=False, allow_null=True)
    hourly_max_cents = serializers.IntegerField(required=False, allow_null=True)
    fixed_budget_cents = serializers.IntegerField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Job.Visibility.choices, required=False)
    freelancers_needed = serializers.IntegerField(required=False)
    questions = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, max_length=20
    )


class _NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _SkillSerializer(_NamedSerializer):
    slug = serializers.CharField()


class _AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()
    size_bytes = serializers.IntegerField()

    def get_url(self, attachment: Any) -> str:
        request = self.context.get("request")
        url = attachment.file.url
        return request.build_absolute_uri(url) if request is not None else url


class ClientStatsSerializer(serializers.Serializer):
    country = serializers.CharField()
    member_since = serializers.DateTimeField()
    payment_method_verified = serializers.BooleanField()
    jobs_posted = serializers.IntegerField()
    open_jobs = serializers.IntegerField()
    hire_rate_percent = serializers.IntegerField(allow_null=True, help_text="null until a job is posted")
    total_spent_cents = serializers.IntegerField()
    rating = serializers.CharField(allow_null=True, help_text="e.g. '4.85'; null without reviews")
    reviews_count = serializers.IntegerField()


class JobCountsSerializer(serializers.Serializer):
    proposals = serializers.IntegerField(source="proposals_count")
    shortlisted = serializers.IntegerField(source="shortlisted_count")
    messaged = serializers.IntegerField(source="messaged_count")
    hired = serializers.IntegerField(source="hires_count")
    invites = serializers.IntegerField(source="invites_count")
    interviewing = serializers.IntegerField(source="interviewing_count")


class _MissingPartSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="the wizard step where it is filled in")
    message = serializers.CharField(source="label")


class JobOwnerInfoSerializer(serializers.Serializer):
    """What only the job's client sees: the exact counters, closing, what a draft lacks."""

    counts = JobCountsSerializer()
    close_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    reopen_deadline = serializers.DateTimeField(allow_null=True)
    can_reopen = serializers.BooleanField()
    missing = _MissingPartSerializer(many=True)


class JobPageSerializer(serializers.Serializer):
    """A job as its viewer sees it; ``owner`` is only filled in for the client who posted it."""

    public_id = serializers.CharField(source="job.public_id")
    url = serializers.SerializerMethodField()
    status = serializers.CharField(source="job.status")
    title = serializers.CharField(source="job.title")
    description = serializers.CharField(source="job.description")
    category = _NamedSerializer(source="job.category")
    subcategory = _NamedSerializer(source="job.subcategory", allow_null=True)
    skills = _SkillSerializer(source="job.skills.all", many=True)
    size = serializers.CharField(source="job.size")
    duration = serializers.CharField(source="job.duration")
    experience_level = serializers.CharField(source="job.experience_level")
    budget_type = serializers.CharField(source="job.budget_type")
    hourly_min_cents = serializers.IntegerField(source="job.hourly_min_cents", allow_null=True)
    hourly_max_cents = serializers.IntegerField(source="job.hourly_max_cents", allow_null=True)
    fixed_budget_cents = serializers.IntegerField(source="job.fixed_budget_cents", allow_null=True)
    currency = serializers.SerializerMethodField()
    visibility = serializers.CharField(source="job.visibility")
    freelancers_needed = serializers.IntegerField(source="job.freelancers_needed")
    questions = serializers.SerializerMethodField()
    attachments = _AttachmentSerializer(source="job.attachments.all", many=True)
    created_at = serializers.DateTimeField(source="job.created_at")
    published_at = serializers.DateTimeField(source="job.published_at", allow_null=True)
    proposals = serializers.CharField(
        source="proposals_range", help_text="a range: 'Less than 5', '5 to 10'..."
    )
    interviewing = serializers.IntegerField(source="job.interviewing_count")
    invites_sent = serializers.IntegerField(source="job.invites_count")
    last_viewed_by_client_at = serializers.DateTimeField(allow_null=True)
    client = ClientStatsSerializer()
    is_owner = serializers.BooleanField()
    owner = serializers.SerializerMethodField()

    def get_url(self, page: JobPage) -> str:
        return reverse("jobs:detail", kwargs={"public_id": page.job.public_id})

    def get_currency(self, page: JobPage) -> str:
        return "USD"

    def get_questions(self, page: JobPage) -> list[str]:
        return [q.text for q in page.job.questions.all()]

    @extend_schema_field(JobOwnerInfoSerializer(allow_null=True))
    def get_owner(self, page: JobPage) -> dict[str, Any] | None:
        if not page.is_owner:
            return None
        job = page.job
        info = {
            "counts": job,
            "close_reason": job.close_reason,
            "closed_at": job.closed_at,
            "reopen_deadline": job.reopen_deadline,
            "can_reopen": page.can_reopen,
            "missing": page.missing,
        }
        return dict(JobOwnerInfoSerializer(info).data)


class MyJobSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    counts = JobCountsSerializer(source="*")
    reopen_deadline = serializers.DateTimeField(allow_null=True)
    # blank until the job is closed: the schema must allow "" besides the reasons
    close_reason = serializers.ChoiceField(choices=Job.CloseReason.choices, allow_blank=True)

    class Meta:
        model = Job
        fields = [
            "public_id",
            "title",
            "status",
            "category",
            "visibility",
            "budget_type",
            "hourly_min_cents",
            "hourly_max_cents",
            "fixed_budget_cents",
            "freelancers_needed",
            "created_at",
            "published_at",
            "closed_at",
            "close_reason",
            "reopen_deadline",
            "counts",
        ]
        read_only_fields = fields


class JobCloseInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[c for c in Job.CloseReason.choices if c[0] != Job.CloseReason.REMOVED_BY_STAFF]
    )


class JobFlagInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=[(r, FlagReason(r).label) for r in JOB_FLAG_REASONS])
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class JobFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentFlag
        fields = ["reason", "note", "created_at"]
        read_only_fields = fields


# --- views -----------------------------------------------------------------------------------------


def _page(request: Request, public_id: str) -> Response:
    job = job_get_for_viewer(public_id=public_id, viewer=request.user)
    page = job_page(job=job, viewer=request.user)
    return Response(JobPageSerializer(page, context={"request": request}).data)


def _own(request: Request, public_id: str) -> Job:
    """The caller's own job (any status); someone else's is simply not found (404)."""
    return own_job_get(public_id=public_id, user=_me(request))


def _not_from(job: Job, *, to: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="illegal_transition", extra={"from": job.status, "to": to})


class JobCreateApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Create a draft job",
        request=JobPostInputSerializer,
        responses={201: JobPageSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = JobPostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # optional "team": the id of a client team to post for (accounts.teams)
        team = str(request.data.get("team") or "") if hasattr(request.data, "get") else ""
        if team and as_id(team) is None:
            raise ApplicationError("Choose one of your teams.", code="invalid_team", extra={"field": "team"})
        job = services.job_create(
            actor=_me(request), data=JobInput(**data.validated_data), team_id=as_id(team)
        )
        page = job_page(job=_own(request, job.public_id), viewer=_me(request))
        return Response(
            JobPageSerializer(page, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class _ReadOpenWriteAuthed(BasePermission):
    """Anyone may read a job they can see; changing it needs an account."""

    def has_permission(self, request, view) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or bool(
            request.user and request.user.is_authenticated
        )


class JobDetailApi(APIView):
    permission_classes = [_ReadOpenWriteAuthed, NotSuspended]

    @extend_schema(
        operation_id="v1_jobs_detail",
        summary="A job as the caller may see it",
        responses={200: JobPageSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        return _page(request, public_id)

    @extend_schema(
        summary="Edit the caller's draft or open job",
        description="Send only the fields to change. Every changed field is logged in the job's history.",
        request=JobPostInputSerializer(partial=True),
        responses={200: JobPageSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def patch(self, request: Request, public_id: str) -> Response:
        job = _own(request, public_id)
        data = JobPostInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        document = dataclasses.replace(job_input_for(job), **data.validated_data)
        services.job_update(actor=_me(request), job_id=job.pk, data=document)
        return _page(request, public_id)


class JobPublishApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Publish a draft",
        request=None,
        responses={200: JobPageSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        job = _own(request, public_id)
        if job.status != Job.Status.DRAFT:
            # Only drafts are published (a closed job is reopened); the service's table
            # alone would let a closed job through.
            raise _not_from(job, to=Job.Status.OPEN, message="Only a draft can be published.")
        missing = job_missing_parts(job)
        if missing:
            raise ApplicationError(
                "Before publishing: " + "; ".join(p.label.lower() for p in missing) + ".",
                code="job_incomplete",
                extra={"missing": [p.step for p in missing]},
            )
        services.job_publish(actor=_me(request), job_id=job.pk)
        return _page(request, public_id)


class JobCloseApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Close an open job",
        description="It can be reopened within 30 days; pending invitations expire.",
        request=JobCloseInputSerializer,
        responses={200: JobPageSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        job = _own(request, public_id)
        data = JobCloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.job_close(actor=_me(request), job_id=job.pk, reason=data.validated_data["reason"])
        return _page(request, public_id)


class JobReopenApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Reopen a job closed less than 30 days ago",
        request=None,
        responses={200: JobPageSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        job = _own(request, public_id)
        if job.status != Job.Status.CLOSED:
            # The service's table alone would let a draft through (draft -> open).
            raise _not_from(job, to=Job.Status.OPEN, message="Only a closed job can be reopened.")
        services.job_reopen(actor=_me(request), job_id=job.pk)
        return _page(request, public_id)


class JobFlagApi(APIView):
    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        summary="Report a job to staff",
        description="One report per user and job; sending again changes the reason and note.",
        request=JobFlagInputSerializer,
        responses={201: JobFlagSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        job = job_get_for_viewer(public_id=public_id, viewer=request.user)
        data = JobFlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.job_flag(actor=_me(request), job_id=job.pk, **data.validated_data)
        return Response(JobFlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class MyJobsPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


class MyJobsApi(generics.ListAPIView):
    """The caller's jobs, newest first, with their counters."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = MyJobSerializer
    pagination_class = MyJobsPagination
    filter_backends: list = []

    @extend_schema(
        summary="The caller's jobs",
        parameters=[
            OpenApiParameter(
                "tab",
                str,
                enum=list(MINE_TABS),
                description="drafts, open, or closed (closed, filled, cancelled)",
            )
        ],
        responses={200: MyJobSerializer(many=True), 403: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Job]:
        user = cast(User, self.request.user)
        if not ClientProfile.objects.filter(user=user).exists():
            raise PermissionDeniedError("Switch to hiring to post jobs.", code="not_client")
        tab = self.request.query_params.get("tab") or None
        if tab is not None and tab not in MINE_TABS:
            raise ApplicationError(
                "Choose the tab: drafts, open or closed.", code="invalid_choice", extra={"field": "tab"}
            )
        return client_job_list(client=user, tab=tab)


urlpatterns: list[URLPattern] = [
    path("jobs/create/", JobCreateApi.as_view(), name="api_job_create"),
    path("jobs/mine/", MyJobsApi.as_view(), name="api_jobs_mine"),
    path("jobs/<str:public_id>/", JobDetailApi.as_view(), name="api_job_detail"),
    path("jobs/<str:public_id>/publish/", JobPublishApi.as_view(), name="api_job_publish"),
    path("jobs/<str:public_id>/close/", JobCloseApi.as_view(), name="api_job_close"),
    path("jobs/<str:public_id>/reopen/", JobReopenApi.as_view(), name="api_job_reopen"),
    path("jobs/<str:public_id>/flag/", JobFlagApi.as_view(), name="api_job_flag"),
]
