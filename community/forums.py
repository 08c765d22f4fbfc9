"""Write use cases of the forums: threads, replies, edits, likes, accepted answers, follows,
mentions, and the staff's moderation (pin, lock, move, hide, approve, posting rights).

Who may post: a member who is not suspended (``accounts.services.require_can_act``), has
no active ``PostingRestriction``, and has written fewer than ``COMMUNITY_POST_RATE`` posts
in the last 10 minutes (a 429). Locked threads take replies from staff only; only staff
start threads on boards marked ``staff_only_threads`` (Announcements).

Held posts: while an account is younger than ``COMMUNITY_NEW_ACCOUNT_DAYS`` and has fewer
than ``COMMUNITY_NEW_ACCOUNT_HELD_POSTS`` approved posts, a post with a link (http, https
or mailto) is stored with ``held_at`` set: only its author and staff see it, it counts
nowhere and notifies no one until staff approve it.

Mentions: a member's handle is their display name with everything but letters and digits
removed ("Maria G." is ``@MariaG``), case-insensitive, and names the member among the
thread's participants (its author and everyone who posted in it); anyone can also be
named by a profile's public id (``@~1a2b3c4d5e6f7a8b``, shown on the member card). Each
member mentioned is notified once per post (an edit notifies only the newly mentioned),
and a follower who is mentioned gets the mention instead of the reply notice.

Counters (``Thread.reply_count``, ``like_count``, ``last_activity_at``, and a board's
``thread_count``, ``post_count``, ``last_activity_at``) count visible content only (neither
held nor hidden). Writes change them with ``F()`` under the thread's row lock; moderation,
which can change many at once, recounts them under the locks. Lock order: the author's
user row, then post, then thread, then boards by primary key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, TextField, Value
from django.db.models.functions import Greatest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from rest_framework import status

from accounts.models import ClientProfile, FreelancerProfile, ModerationDecision, User
from accounts.services import require_can_act
from marketplace.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    field_error,
)
from marketplace.ids import as_id
from messaging import services as messaging
from messaging.models import NotificationKind

from .markdown import mention_handles, render_markdown
from .models import Board, Post, PostingRestriction, PostLike, Thread, ThreadFollow

TITLE_MIN = 10
TITLE_MAX = 150
BODY_MIN = 2
BODY_MAX = 20000
REASON_MAX = 300
RATE_WINDOW = timedelta(minutes=10)

Action = ModerationDecision.Action


class RateLimitedError(ApplicationError):
    code = "rate_limited"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS


# --- small helpers -------------------------------------------------------------------------------


def _pk(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else 0
    return as_id(str(value or "").strip()) or 0


def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if len(title) < TITLE_MIN:
        raise field_error(
            f"Give the thread a title of at least {TITLE_MIN} characters.", "title_too_short", "title"
        )
    if len(title) > TITLE_MAX:
        raise field_error(f"Titles are limited to {TITLE_MAX} characters.", "title_too_long", "title")
    return title


def _body(value: Any) -> str:
    body = str(value or "").replace("\r\n", "\n").strip()
    if len(body) < BODY_MIN:
        raise field_error("Write your post.", "body_required", "body")
    if len(body) > BODY_MAX:
        raise field_error(f"Posts are limited to {BODY_MAX:,} characters.", "body_too_long", "body")
    return body


def _note(value: Any) -> str:
    return str(value or "").strip()[:REASON_MAX]


def member_handle(user: User) -> str:
    """How members address ``user`` in a post (see the module docstring)."""
    handle = "".join(ch for ch in user.display_name if ch.isalnum())
    return handle[:40] if len(handle) >= 2 else f"member{user.pk}"


def profile_path(user: User) -> str:
    """The public page of ``user``: a published freelancer profile, else a client's reviews
    page, else nothing. Reads the profiles already loaded on ``user`` when there."""
    try:
        fp = user.freelancer_profile
    except FreelancerProfile.DoesNotExist:
        fp = None
    if fp is not None and fp.published_at is not None and fp.hidden_at is None:
        return reverse("accounts:freelancer_detail", kwargs={"public_id": fp.public_id})
    try:
        cp = user.client_profile
    except ClientProfile.DoesNotExist:
        cp = None
    if cp is not None:
        try:
            return reverse("reviews:client", kwargs={"public_id": cp.public_id})
        except NoReverseMatch:
            return ""
    return ""


def thread_url(thread: Thread | int) -> str:
    thread_id = thread if isinstance(thread, int) else thread.pk
    return reverse("community:thread", kwargs={"thread_id": thread_id})


def post_url(post: Post) -> str:
    return f"{thread_url(post.thread_id)}#post-{post.pk}"


_BARE_URL_RE = re.compile(r"(https?://|www\.)\S", re.IGNORECASE)


def _has_external_link(html: str) -> bool:
    """A link to another site, clickable or not (a bare address is still an advert)."""
    return 'href="http' in html or 'href="mailto:' in html or bool(_BARE_URL_RE.search(html))


def _should_hold(actor: User, html: str, now: datetime) -> bool:
    if actor.is_staff or not _has_external_link(html):
        return False
    days = int(getattr(settings, "COMMUNITY_NEW_ACCOUNT_DAYS", 7))
    if actor.date_joined <= now - timedelta(days=days):
        return False
    first = int(getattr(settings, "COMMUNITY_NEW_ACCOUNT_HELD_POSTS", 3))
    approved = Post.objects.filter(author=actor, held_at__isnull=True, hidden_at__isnull=True).count()
    return approved < first


def _restriction(user: User, now: datetime) -> PostingRestriction | None:
    return (
        PostingRestriction.objects.filter(user=user).filter(Q(until__isnull=True) | Q(until__gt=now)).first()
    )


def require_can_post(actor: User, *, now: datetime | None = None) -> None:
    """Refuse a suspended member, one whose posting rights staff took away, and one who
    posted too often lately. Call with the actor's row locked to serialise the rate check."""
    require_can_act(actor)
    now = now or timezone.now()
    restriction = _restriction(actor, now)
    if restriction is not None:
        until = f" until {restriction.until:%d %b %Y %H:%M} UTC" if restriction.until else ""
        raise PermissionDeniedError(
            f"Your posting rights in the community are suspended{until}: {restriction.reason}",
            code="posting_restricted",
        )
    if actor.is_staff:
        return
    rate = int(getattr(settings, "COMMUNITY_POST_RATE", 5))
    recent = Post.objects.filter(author=actor, created_at__gt=now - RATE_WINDOW).count()
    if recent >= rate:
        raise RateLimitedError(
            f"You can post {rate} times in 10 minutes. Please wait a few minutes and try again.",
            extra={"retry_after_minutes": int(RATE_WINDOW.total_seconds() // 60)},
        )


def _lock_actor(actor: User) -> None:
    """Serialise one member's posts (the rate limit counts them)."""
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).values_list("pk").first()


def _update_search_vector(thread: Thread, opening_body: str) -> None:
    """PostgreSQL: the title (weight A) and the question (weight B). SQLite searches with
    ``icontains`` instead (see ``forum_selectors.thread_search``)."""
    if connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    vector = SearchVector(
        Value(thread.title, output_field=TextField()), weight="A", config="english"
    ) + SearchVector(Value(opening_body, output_field=TextField()), weight="B", config="english")
    Thread.objects.filter(pk=thread.pk).update(search_vector=vector)


def _participants(thread: Thread) -> list[User]:
    ids = set(Post.objects.filter(thread=thread).values_list("author_id", flat=True))
    ids.add(thread.author_id)
    return list(User.objects.filter(pk__in=ids).select_related("freelancer_profile", "client_profile"))


def resolve_mentions(*, thread: Thread | None, body: str) -> dict[str, User]:
    """Handles in ``body`` (case folded) -> the members they name (see module docstring)."""
    handles = mention_handles(body)
    if not handles:
        return {}
    found: dict[str, User] = {}
    public_ids = [h for h in handles if h.startswith("~")]
    names = [h for h in handles if not h.startswith("~")]
    if names and thread is not None:
        by_handle: dict[str, list[User]] = {}
        for user in _participants(thread):
            by_handle.setdefault(member_handle(user).casefold(), []).append(user)
        for name in names:
            users = by_handle.get(name, [])
            if len(users) == 1:  # two participants with one handle: ambiguous, nobody
                found[name] = users[0]
    if public_ids:
        for model in (FreelancerProfile, ClientProfile):
            for profile in model.objects.filter(public_id__in=public_ids).select_related(  # type: ignore[attr-defined]
                "user", "user__freelancer_profile", "user__client_profile"
            ):
                found.setdefault(profile.public_id.casefold(), profile.user)
    return {h: u for h, u in found.items() if u.is_active and u.deleted_at is None}


def _render(body: str, mentions: dict[str, User]) -> str:
    links = {handle: profile_path(user) for handle, user in mentions.items()}
    return render_markdown(body, mentions={h: url for h, url in links.items() if url})


def _notify(recipient_id: int, text: str, url: str, subject: Any = None) -> None:
    messaging.notify_on_commit(
        recipient_id=recipient_id, kind=NotificationKind.COMMUNITY, text=text, url=url, subject=subject
    )


def _notify_mentions(post: Post, thread: Thread, actor: User, mentioned: Iterable[User]) -> set[int]:
    """Tell each mentioned member once (never the author); returns who was told, and the author."""
    told = {actor.pk}
    for user in mentioned:
        if user.pk in told:
            continue
        told.add(user.pk)
        _notify(user.pk, f"{actor.display_name} mentioned you in “{thread.title}”.", post_url(post), post)
    return told


def _announce(post: Post, thread: Thread, actor: User, mentioned: dict[str, User]) -> None:
    """Tell the mentioned members, then the thread's followers (each person once)."""
    told = _notify_mentions(post, thread, actor, mentioned.values())
    if post.is_opening:
        return
    follower_ids = ThreadFollow.objects.filter(thread=thread).values_list("user_id", flat=True)
    for user_id in follower_ids:
        if user_id in told:
            continue
        told.add(user_id)
        _notify(user_id, f"{actor.display_name} replied in “{thread.title}”.", post_url(post), post)


def _follow(thread: Thread, user: User) -> None:
    ThreadFollow.objects.get_or_create(thread=thread, user=user)


def _board_touch(board_id: int, *, threads: int, posts: int, at: datetime) -> None:
    Board.objects.filter(pk=board_id).update(
        thread_count=F("thread_count") + threads,
        post_count=F("post_count") + posts,
        last_activity_at=Greatest(F("last_activity_at"), Value(at)),
    )
    # GREATEST skips NULL on PostgreSQL but SQLite's MAX() returns it: fill a first activity
    Board.objects.filter(pk=board_id, last_activity_at__isnull=True).update(last_activity_at=at)


def _visible_thread_for_update(thread_id: Any, actor: User) -> Thread:
    thread = (
        Thread.objects.select_for_update(no_key=True)
        .select_related("board", "author")
        .filter(pk=_pk(thread_id))
        .first()
    )
    if thread is None or not (actor.is_staff or thread.is_visible or thread.author_id == actor.pk):
        raise NotFoundError("No such thread.", code="thread_not_found")
    if thread.hidden_at is not None and not actor.is_staff:
        raise NotFoundError("No such thread.", code="thread_not_found")
    return thread


# --- threads and replies -------------------------------------------------------------------------


def thread_view_record(*, thread: Thread, viewer: Any) -> bool:
    """Count one view of ``thread`` (its author's own visits do not count). One UPDATE with
    F(), so concurrent views are all counted; the page decides when a visit is a new view
    (once per session). Returns whether a view was counted."""
    if getattr(viewer, "pk", None) == thread.author_id:
        return False
    Thread.objects.filter(pk=thread.pk).update(view_count=F("view_count") + 1)
    return True


@transaction.atomic
def thread_create(*, actor: User, board_id: Any, title: Any, body: Any) -> Thread:
    """Start a thread on a board: the title and the opening post (the question). Its author
    follows it. Held for review when a new account's post carries links."""
    _lock_actor(actor)
    now = timezone.now()
    require_can_post(actor, now=now)
    board = Board.objects.filter(pk=_pk(board_id)).first()
    if board is None:
        raise field_error("Choose a board.", "board_required", "board")
    if board.staff_only_threads and not actor.is_staff:
        raise PermissionDeniedError(
            f"Only the marketplace team starts threads in {board.name}.", code="staff_only_board"
        )
    clean_title, clean_body = _title(title), _body(body)
    mentioned = resolve_mentions(thread=None, body=clean_body)
    html = _render(clean_body, mentioned)
    held_at = now if _should_hold(actor, html, now) else None
    thread = Thread.objects.create(
        board=board, author=actor, title=clean_title, created_at=now, last_activity_at=now, held_at=held_at
    )
    post = Post.objects.create(
        thread=thread,
        author=actor,
        is_opening=True,
        body=clean_body,
        body_html=html,
        created_at=now,
        held_at=held_at,
    )
    _update_search_vector(thread, clean_body)
    _follow(thread, actor)
    if held_at is None:
        _board_touch(board.pk, threads=1, posts=1, at=now)
        _announce(post, thread, actor, mentioned)
    return thread


@transaction.atomic
def reply_create(*, actor: User, thread_id: Any, body: Any, quote_post_id: Any = None) -> Post:
    """Answer in a thread, optionally quoting one of its posts. The author follows the
    thread from now on; followers and mentioned members are told."""
    _lock_actor(actor)
    now = timezone.now()
    thread = _visible_thread_for_update(thread_id, actor)
    require_can_post(actor, now=now)
    if thread.held_at is not None:
        raise ApplicationError(
            "This thread is waiting for review; replies open once staff approve it.", code="thread_held"
        )
    if thread.is_locked and not actor.is_staff:
        raise PermissionDeniedError("This thread is locked: it takes no new replies.", code="thread_locked")
    quote: Post | None = None
    if quote_post_id not in (None, ""):
        # only what everyone sees: the quote is shown to everyone under the reply
        quote = Post.objects.filter(
            pk=_pk(quote_post_id), thread=thread, hidden_at__isnull=True, held_at__isnull=True
        ).first()
        if quote is None:
            raise field_error("The post you quote is not in this thread.", "quote_not_found", "quote")
    clean_body = _body(body)
    mentioned = resolve_mentions(thread=thread, body=clean_body)
    html = _render(clean_body, mentioned)
    held_at = now if _should_hold(actor, html, now) else None
    post = Post.objects.create(
        thread=thread,
        author=actor,
        body=clean_body,
        body_html=html,
        quote_of=quote,
        created_at=now,
        held_at=held_at,
    )
    if held_at is None:
        _count_new_reply(thread, now)
        _announce(post, thread, actor, mentioned)
    _follow(thread, actor)
    return post


def _count_new_reply(thread: Thread, at: datetime) -> None:
    """Caller holds the thread's lock."""
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=F("reply_count") + 1, last_activity_at=Greatest(F("last_activity_at"), Value(at))
    )
    thread.refresh_from_db(fields=["reply_count", "last_activity_at"])
    _board_touch(thread.board_id, threads=0, posts=1, at=at)


@transaction.atomic
def post_edit(*, actor: User, post_id: Any, body: Any, title: Any = None) -> Post:
    """The author edits their post (and the title, when it is the question) while it is not
    hidden and the thread not locked. Members mentioned for the first time are told; a new
    account adding links is held for review again."""
    require_can_act(actor)
    post = Post.objects.select_for_update(no_key=True).filter(pk=_pk(post_id)).first()
    if post is None or (post.author_id != actor.pk and not actor.is_staff):
        raise NotFoundError("No such post.", code="post_not_found")
    if post.author_id != actor.pk:
        raise PermissionDeniedError("Only its author can edit a post.", code="not_author")
    thread = _visible_thread_for_update(post.thread_id, actor)
    if post.hidden_at is not None:
        raise PermissionDeniedError("This post was hidden by moderation.", code="post_hidden")
    if thread.is_locked:
        raise PermissionDeniedError("This thread is locked: its posts cannot change.", code="thread_locked")
    now = timezone.now()
    restriction = _restriction(actor, now)
    if restriction is not None:
        raise PermissionDeniedError(
            f"Your posting rights in the community are suspended: {restriction.reason}",
            code="posting_restricted",
        )
    clean_body = _body(body)
    before = set(resolve_mentions(thread=thread, body=post.body).values())
    mentioned = resolve_mentions(thread=thread, body=clean_body)
    html = _render(clean_body, mentioned)
    post.body, post.body_html, post.edited_at = clean_body, html, now
    fields = ["body", "body_html", "edited_at"]
    newly_held = (
        post.held_at is None and not _has_external_link_before(post) and _should_hold(actor, html, now)
    )
    if newly_held:
        post.held_at = now
        fields.append("held_at")
    post.save(update_fields=fields)
    if post.is_opening:
        if title is not None:
            thread.title = _title(title)
            thread.save(update_fields=["title"])
        if newly_held:
            thread.held_at = now
            thread.save(update_fields=["held_at"])
        _update_search_vector(thread, clean_body)
    if newly_held:
        _recount(thread)
    elif post.held_at is None:
        _notify_mentions(post, thread, actor, [u for u in mentioned.values() if u not in before])
    return post


def _has_external_link_before(post: Post) -> bool:
    stored = Post.objects.filter(pk=post.pk).values_list("body_html", flat=True).first() or ""
    return _has_external_link(stored)


# --- likes, accepted answer, follows -------------------------------------------------------------


def _visible_post_for_update(post_id: Any, actor: User) -> Post:
    post = (
        Post.objects.select_for_update(no_key=True)
        .select_related("thread")
        .filter(pk=_pk(post_id), hidden_at__isnull=True, held_at__isnull=True)
        .filter(thread__hidden_at__isnull=True, thread__held_at__isnull=True)
        .first()
    )
    if post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    return post


@transaction.atomic
def post_like(*, actor: User, post_id: Any) -> Post:
    """Like someone else's post, once (liking again changes nothing)."""
    require_can_act(actor)
    post = _visible_post_for_update(post_id, actor)
    if post.author_id == actor.pk:
        raise PermissionDeniedError("You cannot like your own post.", code="own_post")
    try:
        with transaction.atomic():
            PostLike.objects.create(post=post, user=actor)
    except IntegrityError:
        return post
    _change_likes(post, +1)
    return post


@transaction.atomic
def post_unlike(*, actor: User, post_id: Any) -> Post:
    require_can_act(actor)
    post = _visible_post_for_update(post_id, actor)
    deleted, _ = PostLike.objects.filter(post=post, user=actor).delete()
    if deleted:
        _change_likes(post, -1)
    return post


def _change_likes(post: Post, delta: int) -> None:
    """Caller holds the post's lock; the opening post's likes rank its thread ("top")."""
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + delta)
    if post.is_opening:
        Thread.objects.filter(pk=post.thread_id).update(like_count=F("like_count") + delta)
    post.refresh_from_db(fields=["like_count"])


@transaction.atomic
def thread_accept_answer(*, actor: User, thread_id: Any, post_id: Any = None) -> Thread:
    """The thread's author marks the reply that answered the question (or changes it, or
    clears it with ``post_id=None``)."""
    require_can_act(actor)
    thread = _visible_thread_for_update(thread_id, actor)
    if thread.author_id != actor.pk:
        raise PermissionDeniedError(
            "Only the member who asked can accept an answer.", code="not_thread_author"
        )
    if post_id in (None, ""):
        thread.accepted_post = None
        thread.save(update_fields=["accepted_post"])
        return thread
    post = (
        Post.objects.filter(pk=_pk(post_id), thread=thread, is_opening=False)
        .filter(hidden_at__isnull=True, held_at__isnull=True)
        .first()
    )
    if post is None:
        raise field_error("Choose a reply in this thread.", "answer_not_in_thread", "post")
    changed = thread.accepted_post_id != post.pk
    thread.accepted_post = post
    thread.save(update_fields=["accepted_post"])
    if changed and post.author_id != actor.pk:
        _notify(
            post.author_id,
            f"{actor.display_name} accepted your answer in “{thread.title}”.",
            post_url(post),
            post,
        )
    return thread


@transaction.atomic
def thread_follow(*, actor: User, thread_id: Any) -> Thread:
    require_can_act(actor)
    thread = _visible_thread_for_update(thread_id, actor)
    _follow(thread, actor)
    return thread


@transaction.atomic
def thread_unfollow(*, actor: User, thread_id: Any) -> Thread:
    thread = _visible_thread_for_update(thread_id, actor)
    ThreadFollow.objects.filter(thread=thread, user=actor).delete()
    return thread


# --- moderation (staff) --------------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can moderate the community.", code="staff_only")
    require_can_act(actor)


def _log(actor: User, action: str, obj: Any, *, target: User | None = None, note: str = "") -> None:
    ModerationDecision.objects.create(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)) if obj is not None else None,
        object_id=obj.pk if obj is not None else None,
        target_user=target,
        note=note,
    )


def _staff_thread(thread_id: Any) -> Thread:
    thread = Thread.objects.select_for_update(no_key=True).filter(pk=_pk(thread_id)).first()
    if thread is None:
        raise NotFoundError("No such thread.", code="thread_not_found")
    return thread


def _recount(thread: Thread, *, boards: tuple[int, ...] = ()) -> None:
    """Recount a thread's figures and its board's (and ``boards``) from the visible rows.
    Caller holds the thread's lock."""
    visible = Post.objects.filter(thread=thread, held_at__isnull=True, hidden_at__isnull=True)
    figures = visible.aggregate(replies=Count("pk", filter=Q(is_opening=False)), last=Max("created_at"))
    opening_likes = (
        Post.objects.filter(thread=thread, is_opening=True).values_list("like_count", flat=True).first() or 0
    )
    thread.reply_count = figures["replies"]
    thread.like_count = opening_likes
    thread.last_activity_at = figures["last"] or thread.created_at
    thread.save(update_fields=["reply_count", "like_count", "last_activity_at"])
    for board_id in sorted({thread.board_id, *boards}):
        board = Board.objects.select_for_update().get(pk=board_id)
        threads = Thread.objects.filter(board=board, held_at__isnull=True, hidden_at__isnull=True)
        board.thread_count = threads.count()
        board.post_count = Post.objects.filter(
            thread__in=threads, held_at__isnull=True, hidden_at__isnull=True
        ).count()
        board.last_activity_at = threads.aggregate(last=Max("last_activity_at"))["last"]
        board.save(update_fields=["thread_count", "post_count", "last_activity_at"])


# flag field -> (word for messages, action logged when set, action logged when cleared)
_THREAD_FLAGS = {
    "is_pinned": ("pinned", Action.PIN, Action.UNPIN),
    "is_locked": ("locked", Action.LOCK, Action.UNLOCK),
}


def _thread_set_flag(*, actor: User, thread_id: Any, field: str, value: bool, note: Any) -> Thread:
    """Set one of the thread's staff flags and log it. Caller opened the transaction."""
    word, on, off = _THREAD_FLAGS[field]
    _require_staff(actor)
    thread = _staff_thread(thread_id)
    value = bool(value)
    if getattr(thread, field) == value:
        raise ConflictError(
            f"This thread is already {word}." if value else f"This thread is not {word}.", code="no_change"
        )
    setattr(thread, field, value)
    thread.save(update_fields=[field])
    _log(actor, on if value else off, thread, target=thread.author, note=_note(note))
    return thread


@transaction.atomic
def thread_set_pinned(*, actor: User, thread_id: Any, pinned: bool, note: Any = "") -> Thread:
    """Pin a thread to the top of its board (or unpin it)."""
    return _thread_set_flag(actor=actor, thread_id=thread_id, field="is_pinned", value=pinned, note=note)


@transaction.atomic
def thread_set_locked(*, actor: User, thread_id: Any, locked: bool, note: Any = "") -> Thread:
    """Lock a thread (no replies or edits, except by staff) or unlock it."""
    return _thread_set_flag(actor=actor, thread_id=thread_id, field="is_locked", value=locked, note=note)


@transaction.atomic
def thread_move(*, actor: User, thread_id: Any, board_id: Any, note: Any = "") -> Thread:
    """Move a thread to another board; both boards' figures are recounted."""
    _require_staff(actor)
    thread = _staff_thread(thread_id)
    board = Board.objects.filter(pk=_pk(board_id)).first()
    if board is None:
        raise field_error("Choose a board.", "board_required", "board")
    if board.pk == thread.board_id:
        raise ConflictError(f"The thread is already in {board.name}.", code="no_change")
    old_board_id = thread.board_id
    thread.board = board
    thread.save(update_fields=["board"])
    _recount(thread, boards=(old_board_id,))
    _log(actor, Action.MOVE, thread, target=thread.author, note=_note(note) or f"Moved to {board.name}")
    if thread.author_id != actor.pk:
        _notify(
            thread.author_id, f"Your thread “{thread.title}” was moved to {board.name}.", thread_url(thread)
        )
    return thread


def post_set_hidden(post: Post, hidden: bool) -> None:
    """Hide a post (or show it again) and fix the counters; hiding the question hides its
    thread. Only visibility changes: the callers log. Locks the post, then its thread."""
    with transaction.atomic():
        post = Post.objects.select_for_update(no_key=True).get(pk=post.pk)
        thread = Thread.objects.select_for_update(no_key=True).get(pk=post.thread_id)
        now = timezone.now()
        post.hidden_at = now if hidden else None
        post.save(update_fields=["hidden_at"])
        if post.is_opening:
            thread.hidden_at = post.hidden_at
            thread.save(update_fields=["hidden_at"])
        if hidden and thread.accepted_post_id == post.pk:
            thread.accepted_post = None
            thread.save(update_fields=["accepted_post"])
        _recount(thread)


@transaction.atomic
def post_hide(*, actor: User, post_id: Any, note: Any = "") -> Post:
    """Staff hide a post that breaks the rules (the question: the whole thread)."""
    _require_staff(actor)
    post = (
        Post.objects.select_for_update(no_key=True).select_related("thread").filter(pk=_pk(post_id)).first()
    )
    if post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    if post.hidden_at is not None:
        raise ConflictError("This post is already hidden.", code="already_hidden")
    post_set_hidden(post, True)
    _log(actor, Action.HIDE, post, target=post.author, note=_note(note))
    _notify(
        post.author_id,
        f"Your post in “{post.thread.title}” was hidden by the marketplace team."
        + (f" {_note(note)}" if note else ""),
        thread_url(post.thread_id),
    )
    post.refresh_from_db()
    return post


@transaction.atomic
def post_unhide(*, actor: User, post_id: Any, note: Any = "") -> Post:
    _require_staff(actor)
    post = Post.objects.select_for_update(no_key=True).filter(pk=_pk(post_id)).first()
    if post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    if post.hidden_at is None:
        raise ConflictError("This post is not hidden.", code="not_hidden")
    post_set_hidden(post, False)
    _log(actor, Action.UNHIDE, post, target=post.author, note=_note(note))
    post.refresh_from_db()
    return post


@transaction.atomic
def post_approve(*, actor: User, post_id: Any, note: Any = "") -> Post:
    """Staff let a held post through: it counts, and its mentions and followers are told."""
    _require_staff(actor)
    post = (
        Post.objects.select_for_update(no_key=True)
        .select_related("author", "thread")
        .filter(pk=_pk(post_id))
        .first()
    )
    if post is None:
        raise NotFoundError("No such post.", code="post_not_found")
    if post.held_at is None:
        raise ConflictError("This post is not waiting for review.", code="not_held")
    thread = Thread.objects.select_for_update(no_key=True).get(pk=post.thread_id)
    now = timezone.now()
    post.held_at = None
    post.save(update_fields=["held_at"])
    if post.is_opening and thread.held_at is not None:
        thread.held_at = None
        thread.last_activity_at = now
        thread.save(update_fields=["held_at", "last_activity_at"])
    _recount(thread)
    if post.hidden_at is None:
        Thread.objects.filter(pk=thread.pk).update(
            last_activity_at=Greatest(F("last_activity_at"), Value(now))
        )
        _board_touch(thread.board_id, threads=0, posts=0, at=now)
    _log(actor, Action.APPROVE, post, target=post.author, note=_note(note))
    _notify(
        post.author_id, f"Your post in “{thread.title}” is approved and visible to everyone.", post_url(post)
    )
    if post.hidden_at is None and thread.is_visible:
        # a hidden post, or one in a hidden or still held thread, is seen by no one: nobody is told
        _announce(post, thread, post.author, resolve_mentions(thread=thread, body=post.body))
    return post


@transaction.atomic
def posting_restrict(
    *, actor: User, user_id: Any, reason: Any, until: datetime | None = None
) -> PostingRestriction:
    """Take a member's posting rights away, until ``until`` (UTC) or until restored."""
    _require_staff(actor)
    user = User.objects.select_for_update(no_key=True).filter(pk=_pk(user_id)).first()
    if user is None:
        raise NotFoundError("No such member.", code="user_not_found")
    if user.pk == actor.pk:
        raise ApplicationError("You cannot restrict your own posting rights.", code="self_restrict")
    why = _note(reason)
    if not why:
        raise field_error("Say why; the member is told.", "reason_required", "reason")
    now = timezone.now()
    if until is not None and until <= now:
        raise field_error("The end of the restriction must be in the future.", "until_in_past", "until")
    restriction, _ = PostingRestriction.objects.update_or_create(
        user=user, defaults={"reason": why, "until": until, "created_by": actor, "created_at": now}
    )
    _log(actor, Action.RESTRICT_POSTING, None, target=user, note=why)
    ends = f" until {until:%d %b %Y %H:%M} UTC" if until else ""
    _notify(
        user.pk,
        f"Your posting rights in the community are suspended{ends}: {why}",
        reverse("community:forum_home"),
    )
    return restriction


@transaction.atomic
def posting_restore(*, actor: User, user_id: Any, note: Any = "") -> None:
    _require_staff(actor)
    user = User.objects.select_for_update(no_key=True).filter(pk=_pk(user_id)).first()
    if user is None:
        raise NotFoundError("No such member.", code="user_not_found")
    deleted, _ = PostingRestriction.objects.filter(user=user).delete()
    if not deleted:
        raise ConflictError("This member's posting rights are not restricted.", code="not_restricted")
    _log(actor, Action.RESTORE_POSTING, None, target=user, note=_note(note))
    _notify(user.pk, "Your posting rights in the community are restored.", reverse("community:forum_home"))
