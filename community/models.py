"""Forums (boards, threads, posts), the help center (articles) and events (webinars).

Post bodies are Markdown; the sanitised HTML is rendered once on write into ``body_html``
and is the only form ever shown. Counters on threads and events change only in the
services of this app, under the row's lock.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

# --- forums ------------------------------------------------------------------------------


class Board(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    staff_only_threads = models.BooleanField(default=False)  # Announcements: only staff start threads
    thread_count = models.PositiveIntegerField(default=0)
    post_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Thread(models.Model):
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="threads")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forum_threads"
    )
    title = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    reply_count = models.PositiveIntegerField(default=0)  # visible replies, not counting the question
    like_count = models.PositiveIntegerField(default=0)  # likes on the opening post ("top")
    view_count = models.PositiveIntegerField(default=0)
    accepted_post = models.ForeignKey(
        "Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_pinned = models.BooleanField(default=False)
    is_locked = models.BooleanField(default=False)
    # held: a new account's first post with links, waiting for staff; hidden: by moderation
    held_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        indexes: ClassVar = [
            # keyset pagination per board and across boards, by latest activity
            models.Index(fields=["board", "-last_activity_at", "-id"], name="thread_board_activity"),
            models.Index(fields=["-last_activity_at", "-id"], name="thread_activity"),
            models.Index(fields=["board", "-like_count", "-id"], name="thread_board_top"),
            GinIndex(fields=["search_vector"], name="thread_search_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible(self) -> bool:
        return self.held_at is None and self.hidden_at is None


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forum_posts")
    is_opening = models.BooleanField(default=False)  # the question that started the thread
    body = models.TextField(max_length=20000)  # Markdown as written
    body_html = models.TextField()  # sanitised HTML rendered from ``body``
    quote_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    like_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at", "id"]
        indexes: ClassVar = [models.Index(fields=["thread", "created_at", "id"], name="post_thread_order")]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["thread"], condition=Q(is_opening=True), name="post_one_opening"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} in {self.thread_id}"


class PostLike(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["post", "user"], name="post_like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class ThreadFollow(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["thread", "user"], name="thread_follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.thread_id}"


class PostingRestriction(models.Model):
    """Staff took a member's posting rights away (until a date, or until lifted)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_restriction"
    )
    reason = models.CharField(max_length=300)
    until = models.DateTimeField(null=True, blank=True)  # null: until lifted
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Posting restricted for {self.user_id}"


# --- help center -------------------------------------------------------------------------


class HelpCategory(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    audience = models.CharField(max_length=20, blank=True)  # "freelancers", "clients" or everyone
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "name"]
        verbose_name_plural = "help categories"

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    category = models.ForeignKey(HelpCategory, on_delete=models.PROTECT, related_name="articles")
    title = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    summary = models.CharField(max_length=300)
    body = models.TextField()  # Markdown, written by staff
    body_html = models.TextField(blank=True, editable=False)  # rendered and sanitised on save
    is_published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering: ClassVar = ["category__position", "position", "title"]
        indexes: ClassVar = [GinIndex(fields=["search_vector"], name="article_search_gin")]

    def __str__(self) -> str:
        return self.title


class ArticleFeedback(models.Model):
    """One "was this helpful?" answer per member (or per anonymous session) and article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=64, blank=True)
    helpful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["article", "user"], condition=Q(user__isnull=False), name="article_feedback_once_user"
            ),
            models.UniqueConstraint(
                fields=["article", "session_key"],
                condition=Q(user__isnull=True),
                name="article_feedback_once_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{'Helpful' if self.helpful else 'Not helpful'}: {self.article_id}"


# --- events ------------------------------------------------------------------------------


class Event(models.Model):
    """A webinar. Times are stored in UTC and shown in each member's time zone; the join
    link is shown only to registered members."""

    title = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    description = models.TextField(max_length=5000)
    speaker_name = models.CharField(max_length=100)
    speaker_title = models.CharField(max_length=150, blank=True)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    capacity = models.PositiveIntegerField()
    registered_count = models.PositiveIntegerField(default=0)
    join_url = models.URLField()
    recording_url = models.URLField(blank=True)
    is_published = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["starts_at"]
        indexes: ClassVar = [models.Index(fields=["is_published", "starts_at"], name="event_upcoming")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(registered_count__lte=models.F("capacity")), name="event_not_over_capacity"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EventRegistration(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REGISTERED)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # reminders: set by the beat task in the same UPDATE that claims the row (exactly once)
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    reminded_hour_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["event", "user"], name="event_registration_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.event_id}"
