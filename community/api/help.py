"""API of the help center, under /api/v1/help/: categories, published articles (with
``search`` and ``category`` parameters) and one article. Read-only, open to everyone."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from marketplace.errors import ApplicationError

from .. import help as help_center
from ..models import Article, HelpCategory


class HelpCategorySerializer(serializers.ModelSerializer):
    article_count = serializers.IntegerField(source="published_count", read_only=True)

    class Meta:
        model = HelpCategory
        fields = ["slug", "name", "description", "audience", "article_count"]


class HelpArticleListSerializer(serializers.ModelSerializer):
    category: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["slug", "title", "summary", "category", "url", "updated_at"]

    def get_url(self, article: Article) -> str:
        return help_center.help_topic_url(article.slug)


class HelpSearchHitSerializer(HelpArticleListSerializer):
    snippet_html = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField()

    class Meta(HelpArticleListSerializer.Meta):
        fields = [*HelpArticleListSerializer.Meta.fields, "snippet_html", "rank"]

    def get_snippet_html(self, article: Article) -> str:
        return self.context["hits"][article.pk].snippet_html

    def get_rank(self, article: Article) -> float:
        return round(self.context["hits"][article.pk].rank, 6)


class HelpArticleSerializer(HelpArticleListSerializer):
    class Meta(HelpArticleListSerializer.Meta):
        fields = [*HelpArticleListSerializer.Meta.fields, "body", "body_html", "helpful_yes", "helpful_no"]


class HelpCategoryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Help center categories with published articles", responses=HelpCategorySerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(HelpCategorySerializer(help_center.category_list(), many=True).data)


class HelpArticleListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Published help articles, or a search",
        description="With `search`, the best matches first, each with a snippet whose matches are in "
        "`<mark>` (the rest is escaped text) in `snippet_html` and a `rank`; otherwise every "
        "published article by category.",
        parameters=[
            OpenApiParameter("search", str, description="Words to look for (at most 200 characters)"),
            OpenApiParameter("category", str, description="A category slug"),
        ],
        # The common shape of both answers: a search's hits add `snippet_html` and `rank`
        # (documenting the hit here made every answer without a search break the schema).
        responses={200: HelpArticleListSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        search = str(request.query_params.get("search", ""))
        category = str(request.query_params.get("category", ""))
        if len(search) > help_center.SEARCH_MAX_QUERY_CHARS:
            raise ApplicationError("The search is too long (200 characters at most).", code="search_too_long")
        if search.strip():
            hits = help_center.article_search(query=search, category_slug=category)
            context = {"hits": {h.article.pk: h for h in hits}}
            return Response(
                HelpSearchHitSerializer([h.article for h in hits], many=True, context=context).data
            )
        return Response(
            HelpArticleListSerializer(help_center.article_list(category_slug=category), many=True).data
        )


class HelpArticleDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One published help article", responses={200: HelpArticleSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(HelpArticleSerializer(help_center.article_get_published(slug=slug)).data)
