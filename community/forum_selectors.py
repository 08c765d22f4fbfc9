"""Reads of the forums: boards, thread lists (keyset pages in three orders), a thread with
its posts, and search. Each returns what the viewer may see: everyone sees visible content;
a member also sees their own posts waiting for review; staff see everything, marked.

Keyset pagination: a cursor is the sort key of the last row shown, ``(last_activity_at,
id)`` for "latest" and "unanswered" and ``(like_count, id)`` for "top", encoded as an
opaque string; the next page reads rows strictly after it from the matching index, so a
deep page costs what the first one does (no OFFSET). The number of queries per page does
not grow with the page size.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from accounts.models import User
from marketplace.errors import ApplicationError, NotFoundError
from marketplace.ids import as_id
from reviews import reputation

from .forums import member_handle, profile_path
from .models import Board, Post, PostLike, Thread, ThreadFollow

SORTS = {"latest": "Latest activity", "top": "Top", "unanswered": "Unanswered"}
THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 30
SEARCH_LIMIT = 50


class BadCursorError(ApplicationError):
    code = "bad_cursor"


def _viewer(viewer: Any) -> User | None:
    return viewer if getattr(viewer, "is_authenticated", False) else None


def thread_visible_q(viewer: Any, prefix: str = "") -> Q:
    user = _viewer(viewer)
    if user is not None and user.is_staff:
        return Q()
    visible = Q(**{f"{prefix}held_at__isnull": True, f"{prefix}hidden_at__isnull": True})
    if user is None:
        return visible
    return visible | Q(**{f"{prefix}author": user, f"{prefix}hidden_at__isnull": True})


def post_visible_q(viewer: Any) -> Q:
    return thread_visible_q(viewer)


# --- cursors ---------------------------------------------------------------------------------------


def encode_cursor(key: Any, pk: int) -> str:
    raw = f"{key.isoformat() if isinstance(key, datetime) else int(key)}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_MAX_ID = 2**63 - 1  # BigAutoField
_MAX_COUNT = 2**31 - 1  # PositiveIntegerField (like_count)


def decode_cursor(cursor: str, *, kind: str) -> tuple[Any, int]:
    """``kind`` is "time" or "int"; raises ``BadCursorError`` for anything else, including
    values ``encode_cursor`` never writes (a naive time, numbers out of the columns' range)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        key_text, pk_text = raw.rsplit("|", 1)
        pk = int(pk_text)
        key: Any = parse_datetime(key_text) if kind == "time" else int(key_text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        key, pk = None, 0
    if isinstance(key, datetime):
        valid_key = key.tzinfo is not None
    else:
        valid_key = isinstance(key, int) and 0 <= key <= _MAX_COUNT
    if not valid_key or not 0 < pk <= _MAX_ID:
        raise BadCursorError("This page link is not valid; start from the first page.")
    return key, pk


# --- boards and thread lists -----------------------------------------------------------------------


def board_list() -> list[Board]:
    return list(Board.objects.all())


def board_get(*, slug: str) -> Board:
    board = Board.objects.filter(slug=str(slug)[:80]).first()
    if board is None:
        raise NotFoundError("No such board.", code="board_not_found")
    return board


def board_can_start(*, board: Board, viewer: Any) -> bool:
    """Whether ``viewer`` may start a thread on ``board`` (the service decides the rest:
    suspension, restrictions, rate)."""
    user = _viewer(viewer)
    return user is not None and (not board.staff_only_threads or user.is_staff)


@dataclass
class ThreadPage:
    threads: list[Thread]
    next_cursor: str | None
    pinned: list[Thread] = field(default_factory=list)
    sort: str = "latest"


def _thread_rows(viewer: Any) -> QuerySet[Thread]:
    return Thread.objects.filter(thread_visible_q(viewer)).select_related("board", "author")


def thread_page(
    *,
    viewer: Any,
    board: Board | None = None,
    sort: str = "latest",
    cursor: str = "",
    limit: int = THREADS_PER_PAGE,
) -> ThreadPage:
    """One page of threads on ``board`` (or on every board). Pinned threads come first on
    the first page of a board's "latest" list and are left out of the pages below."""
    sort = sort if sort in SORTS else "latest"
    limit = max(1, min(int(limit), 100))
    rows = _thread_rows(viewer)
    if board is not None:
        rows = rows.filter(board=board)
    pinned: list[Thread] = []
    if sort == "unanswered":
        rows = rows.filter(reply_count=0, accepted_post__isnull=True)
    if sort == "top":
        rows = rows.order_by("-like_count", "-id")
        if cursor:
            likes, pk = decode_cursor(cursor, kind="int")
            rows = rows.filter(Q(like_count__lt=likes) | Q(like_count=likes, id__lt=pk))
    else:
        if board is not None and sort == "latest":
            if not cursor:
                pinned = list(rows.filter(is_pinned=True).order_by("-last_activity_at", "-id")[:10])
            rows = rows.filter(is_pinned=False)
        rows = rows.order_by("-last_activity_at", "-id")
        if cursor:
            at, pk = decode_cursor(cursor, kind="time")
            rows = rows.filter(Q(last_activity_at__lt=at) | Q(last_activity_at=at, id__lt=pk))
    threads = list(rows[: limit + 1])
    next_cursor = None
    if len(threads) > limit:
        threads = threads[:limit]
        last = threads[-1]
        next_cursor = encode_cursor(last.like_count if sort == "top" else last.last_activity_at, last.pk)
    return ThreadPage(threads=threads, next_cursor=next_cursor, pinned=pinned, sort=sort)


def thread_search(*, viewer: Any, query: str, limit: int = SEARCH_LIMIT) -> list[Thread]:
    """Threads matching ``query`` in their title or question: PostgreSQL full-text search
    (ranked, title first), or ``icontains`` on SQLite."""
    text = " ".join(str(query or "").replace("\x00", " ").split())[:200]  # PostgreSQL refuses NUL
    if not text:
        return []
    rows = _thread_rows(viewer)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        search = SearchQuery(text, search_type="websearch", config="english")
        rows = (
            rows.filter(search_vector=search)
            .annotate(rank=SearchRank("search_vector", search))
            .order_by("-rank", "-last_activity_at", "-id")
        )
    else:
        matching = Post.objects.filter(is_opening=True, body__icontains=text).values("thread_id")
        rows = rows.filter(Q(title__icontains=text) | Q(pk__in=matching)).order_by("-last_activity_at", "-id")
    return list(rows[: max(1, min(int(limit), 100))])


# --- one thread ---------------------------------------------------------------------------------------


def thread_get_for_viewer(*, thread_id: Any, viewer: Any) -> Thread:
    pk = as_id(thread_id) or 0
    thread = _thread_rows(viewer).filter(pk=pk).first()
    if thread is None:
        raise NotFoundError("No such thread.", code="thread_not_found")
    return thread


@dataclass
class MemberCard:
    user_id: int
    display_name: str
    handle: str
    roles: list[str]
    badges: list[reputation.BadgeInfo]
    member_since: datetime
    profile_url: str
    public_id: str
    is_staff: bool


def member_card(user: User) -> MemberCard:
    """Marketplace identity of a post's author, from the profiles loaded with it."""
    fp = user.freelancer_profile if hasattr(user, "freelancer_profile") else None
    cp = user.client_profile if hasattr(user, "client_profile") else None
    roles = [label for label, present in (("Freelancer", fp), ("Client", cp)) if present is not None]
    return MemberCard(
        user_id=user.pk,
        display_name=user.display_name,
        handle=member_handle(user),
        roles=roles,
        badges=reputation.badge_infos(fp.badges if fp is not None else None),
        member_since=user.date_joined,
        profile_url=profile_path(user),
        public_id=(fp.public_id if fp is not None else cp.public_id if cp is not None else ""),
        is_staff=user.is_staff,
    )


@dataclass
class PostView:
    post: Post
    card: MemberCard
    liked: bool = False
    is_accepted: bool = False

    @property
    def quote_shown(self) -> bool:
        """Whether the quoted post's text may be shown under this one: a quote of a post
        that is held or hidden (now, whatever it was when quoted) shows no text."""
        quoted = self.post.quote_of
        return quoted is not None and quoted.held_at is None and quoted.hidden_at is None


@dataclass
class ThreadView:
    thread: Thread
    opening: PostView | None
    accepted: PostView | None
    replies: list[PostView]
    next_cursor: str | None
    is_following: bool
    can_reply: bool


def _post_rows(viewer: Any) -> QuerySet[Post]:
    return (
        Post.objects.filter(post_visible_q(viewer))
        .select_related(
            "author",
            "author__freelancer_profile",
            "author__client_profile",
            "quote_of",
            "quote_of__author",
        )
        .order_by("created_at", "id")
    )


def post_get_for_author(*, post_id: Any, viewer: Any) -> Post:
    """``viewer``'s own post, to edit: not hidden, in a thread they may still see (a reply
    in a hidden thread is gone for its author too)."""
    user = _viewer(viewer)
    pk = as_id(post_id) or 0
    post = (
        Post.objects.filter(pk=pk, hidden_at__isnull=True, thread__hidden_at__isnull=True)
        .filter(author_id=getattr(user, "pk", None))
        .select_related("thread")
        .first()
    )
    if user is None or post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    return post


def post_view_get(*, post_id: int, viewer: Any) -> PostView:
    """One post as ``viewer`` sees it, with its author's card (the API's answer to a reply)."""
    post = _post_rows(viewer).filter(pk=post_id).first()
    if post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    return PostView(post=post, card=member_card(post.author))


def thread_view(*, thread: Thread, viewer: Any, cursor: str = "", limit: int = POSTS_PER_PAGE) -> ThreadView:
    """The question, the accepted answer, then one page of the other replies in order."""
    user = _viewer(viewer)
    limit = max(1, min(int(limit), 100))
    rows = _post_rows(viewer).filter(thread=thread)
    if thread.accepted_post_id:
        rows = rows.exclude(pk=thread.accepted_post_id)
    replies_q = Q(is_opening=False)
    if cursor:
        at, pk = decode_cursor(cursor, kind="time")
        replies_q &= Q(created_at__gt=at) | Q(created_at=at, id__gt=pk)
    page_rows = rows.filter(replies_q | Q(is_opening=True)) if not cursor else rows.filter(replies_q)
    posts = list(page_rows[: limit + (0 if cursor else 1) + 1])
    opening = next((p for p in posts if p.is_opening), None)
    replies = [p for p in posts if not p.is_opening]
    next_cursor = None
    if len(replies) > limit:
        replies = replies[:limit]
        next_cursor = encode_cursor(replies[-1].created_at, replies[-1].pk)
    accepted = None
    if thread.accepted_post_id and not cursor:
        accepted = (
            _post_rows(viewer)
            .filter(pk=thread.accepted_post_id, thread=thread, hidden_at__isnull=True, held_at__isnull=True)
            .first()
        )
    shown = [p for p in (opening, accepted, *replies) if p is not None]
    liked: set[int] = set()
    following = False
    if user is not None:
        liked = set(
            PostLike.objects.filter(user=user, post_id__in=[p.pk for p in shown]).values_list(
                "post_id", flat=True
            )
        )
        following = ThreadFollow.objects.filter(thread=thread, user=user).exists()

    def view(post: Post | None) -> PostView | None:
        if post is None:
            return None
        return PostView(
            post=post,
            card=member_card(post.author),
            liked=post.pk in liked,
            is_accepted=post.pk == thread.accepted_post_id,
        )

    can_reply = bool(
        user is not None
        and thread.hidden_at is None
        and thread.held_at is None
        and (not thread.is_locked or user.is_staff)
    )
    return ThreadView(
        thread=thread,
        opening=view(opening),
        accepted=view(accepted),
        replies=[v for v in map(view, replies) if v is not None],
        next_cursor=next_cursor,
        is_following=following,
        can_reply=can_reply,
    )


def held_posts(*, limit: int = 100) -> QuerySet[Post]:
    """Posts waiting for staff review, oldest first (the admin lists them too)."""
    return (
        Post.objects.filter(held_at__isnull=False, hidden_at__isnull=True)
        .select_related("thread", "author")
        .order_by("held_at", "id")[:limit]
    )
