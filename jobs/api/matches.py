"""API views: the freelancer's best matches and "Not interested", the client's suggested talent."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import FreelancerProfile, User
from accounts.permissions import NotSuspended
from marketplace.errors import NotFoundError, PermissionDeniedError

from .. import matching
from ..models import Job, JobMatch, MatchDismissal

# --- serializers ---------------------------------------------------------------------------------


class MatchJobSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    skills = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "public_id",
            "title",
            "description",
            "category",
            "skills",
            "budget_type",
            "hourly_min_cents",
            "hourly_max_cents",
            "fixed_budget_cents",
            "experience_level",
            "duration",
            "size",
            "client_country",
            "proposals_count",
            "published_at",
        ]

    def get_skills(self, job: Job) -> list[str]:
        return [skill.name for skill in job.skills.all()]


class JobMatchSerializer(serializers.Serializer):
    job = MatchJobSerializer()
    score = serializers.IntegerField(help_text="0..1000; higher fits better")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why, most important first")


class MatchDismissInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=MatchDismissal.Reason.choices)


class MatchDismissalSerializer(serializers.Serializer):
    job = serializers.CharField(source="job.public_id")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class SuggestedFreelancerSerializer(serializers.Serializer):
    public_id = serializers.CharField(source="profile.public_id")
    user_id = serializers.IntegerField(source="profile.user_id")
    display_name = serializers.CharField(source="profile.user.display_name")
    title = serializers.CharField(source="profile.title")
    hourly_rate_cents = serializers.IntegerField(source="profile.hourly_rate_cents", allow_null=True)
    job_success_score = serializers.IntegerField(source="profile.job_success_score", allow_null=True)
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class SuggestedTalentSerializer(serializers.Serializer):
    results = SuggestedFreelancerSerializer(many=True)


class SuggestedTalentQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


# --- views -------------------------------------------------------------------------------------


def _me(request: Request) -> User:
    return cast(User, request.user)


def _own_freelancer(request: Request) -> FreelancerProfile:
    profile = FreelancerProfile.objects.filter(user=_me(request)).first()
    if profile is None:
        raise PermissionDeniedError(
            "You have no freelancer profile; switch role first.", code="not_freelancer"
        )
    return profile


class MatchPagination(CursorPagination):
    ordering = ("-score", "-id")
    page_size = 20


class MatchListApi(generics.ListAPIView):
    """The caller's best matches: open jobs scored against their profile, best first."""

    permission_classes = [IsAuthenticated, NotSuspended]
    serializer_class = JobMatchSerializer
    pagination_class = MatchPagination
    filter_backends: list = []

    @extend_schema(responses={200: JobMatchSerializer(many=True), 403: ErrorSerializer})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[JobMatch]:
        return matching.best_matches_qs(profile=_own_freelancer(self.request))


class MatchDismissApi(APIView):
    """Hide a job from the caller's matches, saying why; later matches weigh such jobs less."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        request=MatchDismissInputSerializer,
        responses={
            201: MatchDismissalSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        data = MatchDismissInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job_id = Job.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
        if job_id is None:
            raise NotFoundError("No such job.")
        dismissal = matching.match_dismiss(
            actor=_me(request), job_id=job_id, reason=data.validated_data["reason"]
        )
        return Response(MatchDismissalSerializer(dismissal).data, status=status.HTTP_201_CREATED)


class SuggestedTalentApi(APIView):
    """The freelancers who fit the caller's job best, with the reasons. Owner only."""

    permission_classes = [IsAuthenticated, NotSuspended]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="How many, 1..20 (default 5)")],
        responses={200: SuggestedTalentSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        query = SuggestedTalentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        job = Job.objects.filter(public_id=public_id, client=_me(request)).first()
        if job is None:
            raise NotFoundError("No such job.")
        suggestions = matching.suggested_talent_for_job(
            job=job, viewer=_me(request), limit=query.validated_data["limit"]
        )
        return Response(SuggestedTalentSerializer({"results": suggestions}).data)


urlpatterns: list[URLPattern] = [
    path("jobs/matches/", MatchListApi.as_view(), name="api_matches"),
    path("jobs/matches/<str:public_id>/dismiss/", MatchDismissApi.as_view(), name="api_match_dismiss"),
    path("jobs/<str:public_id>/suggested-talent/", SuggestedTalentApi.as_view(), name="api_suggested_talent"),
]
