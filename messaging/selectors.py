"""Reads of messaging, permission-aware: a conversation is found only through its active
participants, so someone else's conversation looks exactly like a missing one (404).

Each list is a constant number of queries, whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User

from .errors import AttachmentNotFound, ConversationNotFound
from .models import (
    Attachment,
    Block,
    Channel,
    Conversation,
    Message,
    Notification,
    NotificationKind,
    NotificationPreference,
    Participant,
)

SEARCH_MIN_CHARS = 2
SEARCH_MAX_CHARS = 100
SEARCH_LIMIT = 50
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


def _int_or_404(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConversationNotFound("No such conversation.")
    if number < 1:
        raise ConversationNotFound("No such conversation.")
    return number


def _message_queryset() -> QuerySet[Message]:
    return Message.objects.select_related("sender", "reply_to__sender").prefetch_related("attachments")


# --- conversations ------------------------------------------------------------------------


def participation_for_user(*, user: User, conversation_id: Any) -> Participant:
    """The user's active participation, with its conversation; 404 for anyone else."""
    if not user.is_authenticated:
        raise ConversationNotFound("No such conversation.")
    participant = (
        Participant.objects.select_related("conversation")
        .filter(conversation_id=_int_or_404(conversation_id), user=user, left_at__isnull=True)
        .first()
    )
    if participant is None:
        raise ConversationNotFound("No such conversation.")
    return participant


def conversation_list_for_user(*, user: User, archived: bool = False, limit: int = 200) -> list[Participant]:
    """The user's conversations, most recent first, each with its unread count
    (``participant.unread``), last message and the other participants
    (``participant.conversation.members``). Two queries."""
    return list(
        conversation_queryset_for_user(user=user, archived=archived).order_by(
            "-conversation__updated_at", "-pk"
        )[:limit]
    )


@dataclass
class ConversationView:
    conversation: Conversation
    me: Participant
    members: list[Participant]  # active participants, me included

    @property
    def others(self) -> list[Participant]:
        return [p for p in self.members if p.user_id != self.me.user_id]

    def read_by_others(self) -> int:
        """The highest seq that every other participant has read (for "Seen")."""
        others = self.others
        return min((p.last_read_seq for p in others), default=0)


def conversation_view(*, user: User, conversation_id: Any) -> ConversationView:
    me = participation_for_user(user=user, conversation_id=conversation_id)
    members = list(
        Participant.objects.filter(conversation_id=me.conversation_id, left_at__isnull=True)
        .select_related("user")
        .order_by("pk")
    )
    return ConversationView(conversation=me.conversation, me=me, members=members)


# --- messages -----------------------------------------------------------------------------


def _page_size(limit: Any) -> int:
    try:
        size = int(limit) if limit not in (None, "") else PAGE_SIZE
    except (TypeError, ValueError):
        size = PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))


def messages_page(
    *, conversation_id: int, before: int | None = None, after: int | None = None, limit: Any = None
) -> tuple[list[Message], bool]:
    """A page of messages in ascending ``seq`` and whether more lie beyond it.

    ``before``: the newest messages older than that seq (scrolling up; the default is the
    latest page). ``after``: the oldest messages newer than that seq (catching up).
    The caller has checked participation.
    """
    size = _page_size(limit)
    qs = _message_queryset().filter(conversation_id=conversation_id)
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[: size + 1])
        return rows[:size], len(rows) > size
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs.order_by("-seq")[: size + 1])
    return list(reversed(rows[:size])), len(rows) > size


def messages_after(
    *, conversation_id: int, after_seq: int, up_to_seq: int | None = None, limit: int = 500
) -> list[Message]:
    """Messages newer than ``after_seq`` (up to ``up_to_seq``), ascending: the resync."""
    qs = _message_queryset().filter(conversation_id=conversation_id, seq__gt=after_seq)
    if up_to_seq is not None:
        qs = qs.filter(seq__lte=up_to_seq)
    return list(qs.order_by("seq")[:limit])


def message_by_seq(*, conversation_id: int, seq: Any) -> Message | None:
    try:
        number = int(seq)
    except (TypeError, ValueError):
        return None
    return _message_queryset().filter(conversation_id=conversation_id, seq=number).first()


def message_search(*, user: User, query: str, limit: int = SEARCH_LIMIT) -> list[Message]:
    """Messages containing ``query`` in the user's conversations, newest first (bounded)."""
    text = " ".join(str(query or "").replace("\x00", " ").split())[:SEARCH_MAX_CHARS]  # no NUL in SQL
    if len(text) < SEARCH_MIN_CHARS:
        return []
    mine = Participant.objects.filter(user=user, left_at__isnull=True).values("conversation_id")
    return list(
        Message.objects.select_related("sender", "conversation")
        .filter(
            conversation_id__in=mine, deleted_at__isnull=True, hidden_at__isnull=True, body__icontains=text
        )
        .order_by("-created_at", "-pk")[: max(1, min(limit, SEARCH_LIMIT))]
    )


# --- unread counts --------------------------------------------------------------------------


def unread_total(*, user: User) -> int:
    """Unread messages over all the user's active conversations (the navigation badge)."""
    if not user.is_authenticated:
        return 0
    total = Participant.objects.filter(user=user, left_at__isnull=True).aggregate(
        total=Sum(F("conversation__last_message_seq") - F("last_read_seq"), output_field=IntegerField())
    )["total"]
    return int(total or 0)


def badge_annotations() -> dict[str, Any]:
    """The navigation's two badges as annotations of a ``User`` queryset: ``messages``
    (``unread_total``) and ``notes`` (``notification_unread_count``); one query with the
    rest of the navigation's figures in ``marketplace.navigation``."""
    messages = (
        Participant.objects.filter(user=OuterRef("pk"), left_at__isnull=True)
        .values("user_id")
        .annotate(
            total=Sum(F("conversation__last_message_seq") - F("last_read_seq"), output_field=IntegerField())
        )
        .values("total")
    )
    notes = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .values("recipient_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return {
        "messages": Coalesce(Subquery(messages, output_field=IntegerField()), 0),
        "notes": Coalesce(Subquery(notes, output_field=IntegerField()), 0),
    }


def unread_for_users(*, conversation_id: int, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each user: (unread in this conversation, unread in total). One query."""
    rows = (
        Participant.objects.filter(user_id__in=user_ids, left_at__isnull=True)
        .values("user_id")
        .annotate(
            total=Sum(F("conversation__last_message_seq") - F("last_read_seq"), output_field=IntegerField()),
            here=Sum(
                F("conversation__last_message_seq") - F("last_read_seq"),
                filter=Q(conversation_id=conversation_id),
                output_field=IntegerField(),
            ),
        )
    )
    return {row["user_id"]: (int(row["here"] or 0), int(row["total"] or 0)) for row in rows}


# --- blocks --------------------------------------------------------------------------------


def blocked_user_ids(*, user: User) -> set[int]:
    return set(Block.objects.filter(blocker=user).values_list("blocked_id", flat=True))


def blocks_of(*, user: User) -> list[Block]:
    return list(Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at"))


# --- notifications ---------------------------------------------------------------------------


def notification_unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def preference_channel(*, user: User, kind: str) -> str:
    channel = (
        NotificationPreference.objects.filter(user=user, kind=kind).values_list("channel", flat=True).first()
    )
    return channel or Channel.EMAIL


def preferences_for(*, user: User) -> dict[str, str]:
    """Every kind's channel for the user (the default where none was chosen)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind: chosen.get(kind, Channel.EMAIL) for kind in NotificationKind.values}


# --- chat email digests ------------------------------------------------------------------------


def chat_digest_candidates(
    *, now: datetime, grace: timedelta, interval: timedelta, limit: int = 1000
) -> list[int]:
    """Participants owed a digest: unread, un-emailed messages from others older than
    ``grace``, no digest within ``interval``, not muted, email wanted."""
    start = Greatest(OuterRef("last_read_seq"), OuterRef("emailed_up_to_seq"))
    waiting = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        seq__gt=start,
        created_at__lte=now - grace,
        deleted_at__isnull=True,
    ).exclude(sender_id=OuterRef("user_id"))
    email_off = NotificationPreference.objects.filter(
        user_id=OuterRef("user_id"), kind=NotificationKind.MESSAGE
    ).exclude(channel=Channel.EMAIL)
    return list(
        Participant.objects.filter(
            left_at__isnull=True,
            muted=False,
            user__is_active=True,
            conversation__last_message_seq__gt=F("last_read_seq"),
        )
        .filter(conversation__last_message_seq__gt=F("emailed_up_to_seq"))
        .filter(Q(email_sent_at__isnull=True) | Q(email_sent_at__lte=now - interval))
        .filter(Exists(waiting))
        .exclude(Exists(email_off))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def digest_messages(
    *, participant: Participant, after_seq: int, before: datetime, limit: int
) -> list[Message]:
    """Messages of others after ``after_seq`` sent no later than ``before``: the newest
    ``limit``, ascending."""
    rows = list(
        Message.objects.select_related("sender")
        .filter(
            conversation_id=participant.conversation_id,
            seq__gt=after_seq,
            created_at__lte=before,
            deleted_at__isnull=True,
        )
        .exclude(sender_id=participant.user_id)
        .order_by("-seq")[:limit]
    )
    return list(reversed(rows))


def member_ids(*, conversation_id: int) -> list[int]:
    """The user ids of the active participants."""
    return list(
        Participant.objects.filter(conversation_id=conversation_id, left_at__isnull=True)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def attachment_for_user(*, user: User, attachment_id: Any) -> Attachment:
    """An attachment the user may download: sent in a conversation they are in (and not
    deleted since), or uploaded by them and not sent yet. Anything else is not found."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise AttachmentNotFound("No such file.")
    attachment = Attachment.objects.select_related("message").filter(pk=pk).first()
    if attachment is None or not user.is_authenticated:
        raise AttachmentNotFound("No such file.")
    try:
        participation_for_user(user=user, conversation_id=attachment.conversation_id)
    except ConversationNotFound:
        raise AttachmentNotFound("No such file.")
    if attachment.message is None and attachment.uploader_id != user.pk:
        raise AttachmentNotFound("No such file.")
    if attachment.message is not None and attachment.message.deleted_at is not None:
        raise AttachmentNotFound("No such file.")
    if attachment.message is not None and attachment.message.hidden_at is not None:
        raise AttachmentNotFound("No such file.")  # removed by a moderator
    return attachment


def conversation_queryset_for_user(*, user: User, archived: bool = False) -> QuerySet[Participant]:
    """Like ``conversation_list_for_user`` but a queryset ordered by ``-activity, -pk``
    (for the API's cursor pagination)."""
    others = Prefetch(
        "conversation__participants",
        queryset=Participant.objects.filter(left_at__isnull=True).select_related("user").order_by("pk"),
        to_attr="members",
    )
    return (
        Participant.objects.filter(user=user, left_at__isnull=True, archived=archived)
        .select_related("conversation__last_message__sender", "conversation__subject_type")
        .prefetch_related(others)
        .annotate(
            unread=F("conversation__last_message_seq") - F("last_read_seq"),
            activity=F("conversation__updated_at"),
        )
    )
