"""API of the forums, under /api/v1/community/: read boards, threads (keyset pages in the
three orders, or a search) and a thread with its posts; start a thread, reply, like,
accept an answer and follow, as the logged-in member. Thin: input serializer, one service
or selector, output serializer. Errors use the project's envelope; posting too often is a
429."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from accounts.models import User

from .. import forum_selectors as selectors
from .. import forums
from ..models import Board, Thread

ERRORS = {
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    429: ErrorSerializer,
}


def _me(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- serializers -------------------------------------------------------------------------------------


class BoardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Board
        fields = (
            "id",
            "slug",
            "name",
            "description",
            "staff_only_threads",
            "thread_count",
            "post_count",
            "last_activity_at",
        )


class AuthorSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    handle = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    badges = serializers.SerializerMethodField()
    member_since = serializers.DateTimeField()
    profile_url = serializers.CharField()

    def get_badges(self, card: selectors.MemberCard) -> list[str]:
        return [badge.name for badge in card.badges]


class ThreadSerializer(serializers.ModelSerializer):
    board: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.CharField(source="author.display_name", read_only=True)
    is_answered = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Thread
        fields = (
            "id",
            "board",
            "title",
            "author",
            "created_at",
            "last_activity_at",
            "reply_count",
            "like_count",
            "is_pinned",
            "is_locked",
            "is_answered",
            "accepted_post",
            "held_at",
            "url",
        )

    def get_is_answered(self, thread: Thread) -> bool:
        return thread.accepted_post_id is not None

    def get_url(self, thread: Thread) -> str:
        return forums.thread_url(thread)


class PostSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="post.pk")
    is_opening = serializers.BooleanField(source="post.is_opening")
    is_accepted = serializers.BooleanField()
    body = serializers.CharField(source="post.body")
    body_html = serializers.CharField(source="post.body_html")
    quote_of = serializers.IntegerField(source="post.quote_of_id", allow_null=True)
    like_count = serializers.IntegerField(source="post.like_count")
    liked = serializers.BooleanField()
    created_at = serializers.DateTimeField(source="post.created_at")
    edited_at = serializers.DateTimeField(source="post.edited_at", allow_null=True)
    held = serializers.SerializerMethodField()
    author = AuthorSerializer(source="card")

    def get_held(self, view: selectors.PostView) -> bool:
        return view.post.held_at is not None


class ThreadPageSerializer(serializers.Serializer):
    results = ThreadSerializer(many=True, source="threads")
    pinned = ThreadSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ThreadDetailSerializer(serializers.Serializer):
    thread = ThreadSerializer()
    posts = serializers.SerializerMethodField()
    next_cursor = serializers.CharField(allow_null=True)
    is_following = serializers.BooleanField()

    def get_posts(self, view: selectors.ThreadView) -> list[dict[str, Any]]:
        shown = [v for v in (view.opening, view.accepted, *view.replies) if v is not None]
        return [dict(PostSerializer(v).data) for v in shown]


class ThreadInputSerializer(serializers.Serializer):
    board = serializers.SlugRelatedField(slug_field="slug", queryset=Board.objects.all())
    title = serializers.CharField(max_length=forums.TITLE_MAX)
    body = serializers.CharField(max_length=forums.BODY_MAX)


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=forums.BODY_MAX)
    quote = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    class Meta:
        ref_name = "ForumReplyInput"  # reviews has a ReplyInput too: one schema component each


class AcceptInputSerializer(serializers.Serializer):
    post = serializers.IntegerField(allow_null=True, min_value=1)


class LikeOutputSerializer(serializers.Serializer):
    post = serializers.IntegerField(source="pk")
    like_count = serializers.IntegerField()
    liked = serializers.BooleanField()


class FollowOutputSerializer(serializers.Serializer):
    thread = serializers.IntegerField()
    following = serializers.BooleanField()


# --- views ---------------------------------------------------------------------------------------------


class BoardListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="Forum boards with their figures", responses={200: BoardSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(BoardSerializer(selectors.board_list(), many=True).data)


class ThreadListCreateApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        summary="Threads, newest activity first, top or unanswered; or a search",
        operation_id="community_threads_list",
        parameters=[
            OpenApiParameter("board", str, description="a board's slug"),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
            OpenApiParameter("q", str, description="search words (then no paging: the best 50)"),
        ],
        responses={200: ThreadPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if query:
            results = selectors.thread_search(viewer=request.user, query=query)
            return Response(
                ThreadPageSerializer(selectors.ThreadPage(threads=results, next_cursor=None)).data
            )
        slug = request.query_params.get("board", "")
        board = selectors.board_get(slug=slug) if slug else None
        page = selectors.thread_page(
            viewer=request.user,
            board=board,
            sort=request.query_params.get("sort", "latest"),
            cursor=request.query_params.get("cursor", ""),
        )
        return Response(ThreadPageSerializer(page).data)

    @extend_schema(
        summary="Start a thread",
        description="Only staff start threads on staff-only boards (Announcements). A new "
        "account's post with links is held for review (``held_at`` set).",
        request=ThreadInputSerializer,
        responses={201: ThreadSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(ThreadInputSerializer, request)
        thread = forums.thread_create(
            actor=_me(request), board_id=data["board"].pk, title=data["title"], body=data["body"]
        )
        thread = Thread.objects.select_related("board", "author").get(pk=thread.pk)
        return Response(ThreadSerializer(thread).data, status=status.HTTP_201_CREATED)


class ThreadDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A thread with the question, the accepted answer and a page of replies",
        parameters=[OpenApiParameter("cursor", str)],
        responses={200: ThreadDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, thread_id: int) -> Response:
        thread = selectors.thread_get_for_viewer(thread_id=thread_id, viewer=request.user)
        view = selectors.thread_view(
            thread=thread, viewer=request.user, cursor=request.query_params.get("cursor", "")
        )
        return Response(ThreadDetailSerializer(view).data)


class ReplyCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Reply in a thread (optionally quoting one of its posts)",
        request=ReplyInputSerializer,
        responses={201: PostSerializer, **ERRORS},
    )
    def post(self, request: Request, thread_id: int) -> Response:
        selectors.thread_get_for_viewer(thread_id=thread_id, viewer=request.user)
        data = _valid(ReplyInputSerializer, request)
        post = forums.reply_create(
            actor=_me(request), thread_id=thread_id, body=data["body"], quote_post_id=data.get("quote")
        )
        view = selectors.post_view_get(post_id=post.pk, viewer=request.user)
        return Response(PostSerializer(view).data, status=status.HTTP_201_CREATED)


class AcceptAnswerApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Accept a reply as the answer (the thread's author only); null clears it",
        request=AcceptInputSerializer,
        responses={200: ThreadSerializer, **ERRORS},
    )
    def post(self, request: Request, thread_id: int) -> Response:
        selectors.thread_get_for_viewer(thread_id=thread_id, viewer=request.user)
        data = _valid(AcceptInputSerializer, request)
        thread = forums.thread_accept_answer(actor=_me(request), thread_id=thread_id, post_id=data["post"])
        return Response(ThreadSerializer(thread).data)


class FollowApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Follow a thread", request=None, responses={200: FollowOutputSerializer, **ERRORS})
    def post(self, request: Request, thread_id: int) -> Response:
        thread = forums.thread_follow(actor=_me(request), thread_id=thread_id)
        return Response({"thread": thread.pk, "following": True})

    @extend_schema(summary="Stop following a thread", responses={200: FollowOutputSerializer, **ERRORS})
    def delete(self, request: Request, thread_id: int) -> Response:
        thread = forums.thread_unfollow(actor=_me(request), thread_id=thread_id)
        return Response({"thread": thread.pk, "following": False})


class LikeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Like a post", request=None, responses={200: LikeOutputSerializer, **ERRORS})
    def post(self, request: Request, post_id: int) -> Response:
        post = forums.post_like(actor=_me(request), post_id=post_id)
        return Response({"post": post.pk, "like_count": post.like_count, "liked": True})

    @extend_schema(summary="Remove your like", responses={200: LikeOutputSerializer, **ERRORS})
    def delete(self, request: Request, post_id: int) -> Response:
        post = forums.post_unlike(actor=_me(request), post_id=post_id)
        return Response({"post": post.pk, "like_count": post.like_count, "liked": False})
