"""API of the scores, under /api/v1/: a freelancer's Job Success Score, rating, figures and
badges (with their rules), and a client's stats. Public figures for anyone who may see
the profile; the components of the score (its windows and every counted contract with
the reasons) only for the freelancer themself and staff. Unknown or hidden profiles: 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.api.serializers import ErrorSerializer
from accounts.models import ClientProfile

from .. import reputation


class BadgeSerializer(serializers.Serializer):
    name = serializers.CharField()
    rule = serializers.CharField(help_text="what the badge asks for")


class WindowSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    good = serializers.IntegerField()
    bad = serializers.IntegerField()
    neutral = serializers.IntegerField()
    total = serializers.IntegerField()
    clients = serializers.IntegerField(help_text="different clients among the outcomes")
    score = serializers.IntegerField(allow_null=True)
    counts = serializers.BooleanField(help_text="outcomes from enough different clients to count")


class ContractOutcomeSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField()
    title = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[o.value for o in reputation.Outcome])
    reasons = serializers.ListField(child=serializers.CharField())
    ended_on = serializers.DateField(allow_null=True)
    windows = serializers.ListField(
        child=serializers.IntegerField(), help_text="months of the windows it counts in"
    )


class ComponentsSerializer(serializers.Serializer):
    computed_on = serializers.DateField(allow_null=True)
    window_months = serializers.IntegerField(allow_null=True, help_text="the window whose score is shown")
    windows = WindowSerializer(many=True)
    contracts = ContractOutcomeSerializer(many=True)
    top_rated_weeks = serializers.IntegerField(help_text="weeks of the last 16 with a score of 90% or more")


class FreelancerScoresSerializer(serializers.Serializer):
    public_id = serializers.CharField(source="profile.public_id")
    job_success_score = serializers.IntegerField(
        allow_null=True, help_text="percent; null: not enough history"
    )
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    reviews_count = serializers.IntegerField()
    total_earned_cents = serializers.IntegerField(help_text="gross, released from escrow")
    total_jobs = serializers.IntegerField()
    badges = BadgeSerializer(many=True)
    components = serializers.SerializerMethodField()

    @extend_schema_field(ComponentsSerializer(allow_null=True))
    def get_components(self, scores: reputation.FreelancerScores) -> dict | None:
        if not scores.shows_components:
            return None
        return ComponentsSerializer(
            {
                "computed_on": scores.computed_on,
                "window_months": scores.window_months,
                "windows": scores.windows,
                "contracts": scores.contracts,
                "top_rated_weeks": scores.top_rated_weeks,
            }
        ).data


class ClientScoresSerializer(serializers.Serializer):
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    reviews_count = serializers.IntegerField()
    jobs_posted = serializers.IntegerField()
    hires = serializers.IntegerField()
    hire_rate_percent = serializers.IntegerField(allow_null=True)
    total_spent_cents = serializers.IntegerField()
    avg_hourly_rate_paid_cents = serializers.IntegerField(allow_null=True)
    member_since = serializers.DateTimeField()
    payment_method_verified = serializers.BooleanField()


class FreelancerScoresApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A freelancer's Job Success Score, rating, figures and badges",
        description="`components` (what makes up the score) is filled only for the freelancer themself.",
        responses={200: FreelancerScoresSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        profile = account_selectors.freelancer_get_for_viewer(public_id=public_id, viewer=request.user)
        scores = reputation.freelancer_scores(profile=profile, viewer=request.user)
        return Response(FreelancerScoresSerializer(scores).data)


class ClientScoresApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A client's rating and stats (hire rate, total spent, average hourly rate paid)",
        responses={200: ClientScoresSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, public_id: str) -> Response:
        profile = get_object_or_404(ClientProfile, public_id=public_id)
        return Response(ClientScoresSerializer(reputation.client_scores(profile)).data)
