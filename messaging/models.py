"""Conversations, their participants and messages, attachments, reports and blocks, and
notifications with their per-kind preferences.

A conversation's subject is a generic reference (content type + object id), so that this
app stands on ``accounts`` only: contracts, proposals or disputes open conversations about
themselves through ``messaging.services`` without this app importing them.

Messages are numbered per conversation (``seq`` 1, 2, 3 ...), allocated under a row lock on
the conversation. Clients remember the last ``seq`` they saw and ask for later ones after a
reconnect, so nothing is lost or shown twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .storage import private_storage

BODY_MAX_CHARS = 5000
EDIT_WINDOW = timedelta(minutes=15)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
CLIENT_MSG_ID_MAX = 64


class Conversation(models.Model):
    """A thread between two or more people, optionally about a subject (a contract, say)."""

    title = models.CharField(max_length=200, blank=True)
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    # Conversations without a subject are keyed by their founding members ("3:17"), so the
    # same people asking twice get the same conversation.
    direct_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Set by the contracts app (through services) once a contract exists between the parties;
    # until then, messages asking to move off the platform are flagged.
    has_contract = models.BooleanField(default=False)
    last_message_seq = models.PositiveIntegerField(default=0)
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=Q(subject_type__isnull=False),
                name="conversation_unique_subject",
            ),
            models.CheckConstraint(
                condition=Q(subject_type__isnull=True, subject_id__isnull=True)
                | Q(subject_type__isnull=False, subject_id__isnull=False),
                name="conversation_subject_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Participant(models.Model):
    """A person in a conversation, with their own read position and list settings."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_participations"
    )
    last_read_seq = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)
    muted = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    # chat email digests: when the last one went out and the last message it covered
    email_sent_at = models.DateTimeField(null=True, blank=True)
    emailed_up_to_seq = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_unique_user"),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "left_at"], name="participant_user_active")]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"  # written by a participant
        SYSTEM = "system", "System"  # posted by the marketplace ("Offer sent"); no sender

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sent_messages",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Chosen by the sending client; the same id sent twice stores one message.
    client_msg_id = models.CharField(max_length=CLIENT_MSG_ID_MAX, blank=True)
    flagged_off_platform = models.BooleanField(default=False)
    off_platform_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)  # removed by staff moderation

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="message_unique_client_msg_id",
            ),
            models.CheckConstraint(
                condition=Q(kind="system", sender__isnull=True) | Q(kind="text", sender__isnull=False),
                name="message_sender_matches_kind",
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="message_seq_positive"),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["created_at"], name="message_flagged", condition=Q(flagged_off_platform=True)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_system(self) -> bool:
        return self.kind == self.Kind.SYSTEM

    def editable_until(self):
        return self.created_at + EDIT_WINDOW


class Attachment(models.Model):
    """A file uploaded into a conversation, then sent with a message.

    Stored under a random name in private storage: downloaded only through a view that
    checks participation, never from a public media URL.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(storage=private_storage, upload_to="chat/%Y/%m/", max_length=200)
    thumbnail = models.FileField(
        storage=private_storage, upload_to="chat/thumbs/", blank=True, max_length=200
    )
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)  # a key of marketplace.uploads.KINDS
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["created_at"], name="attachment_unsent", condition=Q(message__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return bool(self.thumbnail)


# What a message can be reported for. The reports themselves are ``accounts.ContentFlag``
# rows: the moderation queue (``accounts.moderation``).
MESSAGE_REPORT_REASONS: tuple[str, ...] = ("spam", "scam", "off_platform", "harassment", "other")


class Block(models.Model):
    """``blocker`` receives no more messages from ``blocked``."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique_pair"),
            models.CheckConstraint(condition=~Q(blocker=models.F("blocked")), name="block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"


class NotificationKind(models.TextChoices):
    """What a notification is about; each kind has its own delivery preference."""

    MESSAGE = "message", "New chat messages"
    PROPOSAL = "proposal", "Proposals"
    OFFER = "offer", "Offers"
    CONTRACT = "contract", "Contracts and milestones"
    PAYMENT = "payment", "Payments"
    REVIEW = "review", "Reviews"
    JOB = "job", "Jobs and invitations"
    ACCOUNT = "account", "Your account"
    TEAM = "team", "Agencies and teams"
    COMMUNITY = "community", "Forums and events"


class Channel(models.TextChoices):
    EMAIL = "email", "In the app and by email"  # the default
    IN_APP = "in_app", "In the app only"
    OFF = "off", "Off"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)  # a path on this site
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_recent"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient}: {self.text[:40]}"


class NotificationPreference(models.Model):
    """How one user wants one kind of notification delivered (absent: in the app and by email)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} -> {self.channel}"
