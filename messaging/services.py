"""Write use cases of messaging. Keyword-only; user actions take the acting user.

Who may do what: only active participants (joined and not left) read or write a
conversation; anyone else is told it does not exist (404). Message numbers (``seq``) are
allocated under a row lock on the conversation, which also serialises sends with the same
``client_msg_id``: the second finds the first and returns it.

Realtime broadcasts and emails are queued with ``transaction.on_commit`` only.

The API other apps use (they never touch these models directly):

- ``conversation_get_or_create_for_subject(subject=..., participants=[...], title=...)``
- ``conversation_add_participant(conversation=..., user=...)`` (staff joining a dispute)
- ``conversation_set_has_contract(conversation=..., has_contract=True)``
- ``message_post_system(conversation=..., text="Offer sent")``
- ``notify(recipient=..., kind=NotificationKind.OFFER, text=..., url=..., subject=...)``
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import User
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.uploads import IMAGE_KINDS, process_file, process_image, safe_display_name, validate_file

from . import emails, payloads, presence, realtime, selectors
from .errors import BlockedError, ConversationNotFound
from .models import (
    ATTACHMENT_MAX_BYTES,
    BODY_MAX_CHARS,
    CLIENT_MSG_ID_MAX,
    EDIT_WINDOW,
    MESSAGE_REPORT_REASONS,
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
from .safety import off_platform_reasons

log = logging.getLogger(__name__)

ATTACHMENT_KINDS = ("pdf", "jpeg", "png", "webp", "zip", "docx", "xlsx", "txt")
MAX_ATTACHMENTS_PER_MESSAGE = 10
IMAGE_MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
CHAT_EMAIL_INTERVAL = timedelta(minutes=15)
# An unread message waits this long before it is emailed, so that someone who is online and
# reads it straight away gets no email.
CHAT_EMAIL_GRACE = timedelta(minutes=2)
CHAT_EMAIL_MAX_MESSAGES = 20
_CLIENT_MSG_ID = re.compile(rf"^[A-Za-z0-9_.:-]{{1,{CLIENT_MSG_ID_MAX}}}$")


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool  # False when the client_msg_id had been sent before


# --- helpers ------------------------------------------------------------------------------


def _require_can_act(actor: User) -> None:
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDeniedError("Sign in first.", code="not_authenticated")
    if actor.is_suspended:
        raise PermissionDeniedError(
            "Your account is suspended; you can read but not send anything.", code="account_suspended"
        )


def _require_can_act_or_hand_over(actor: User, conversation: Conversation, *, with_text: bool) -> None:
    """``_require_can_act``, except that a suspended account may still hand over files in a
    contract's conversation (the work it owes): files only, no text."""
    if actor.is_authenticated and actor.is_active and actor.is_suspended and conversation.has_contract:
        if with_text:
            raise PermissionDeniedError(
                "Your account is suspended: you can send files on your contracts, without text.",
                code="account_suspended",
            )
        return
    _require_can_act(actor)


def _as_int(value: Any, *, field: str) -> int:
    if isinstance(value, bool):
        raise ApplicationError(f"{field} must be a whole number.", code="invalid", extra={"field": field})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(f"{field} must be a whole number.", code="invalid", extra={"field": field})
    if number < 0:
        raise ApplicationError(f"{field} cannot be negative.", code="invalid", extra={"field": field})
    return number


def _conversation_for_update(conversation_id: Any, *, member: User | None = None) -> Conversation:
    """Lock and return the conversation; with ``member``, only if they take part in it
    (one query for both: someone else's conversation is simply not found)."""
    qs = Conversation.objects.select_for_update(of=("self",)).filter(
        pk=_as_int(conversation_id, field="conversation")
    )
    if member is not None:
        qs = qs.filter(participants__user=member, participants__left_at__isnull=True)
    found = list(qs[:1])
    if not found:
        raise ConversationNotFound("No such conversation.")
    return found[0]


def _active_participant(conversation: Conversation, user: User) -> Participant:
    participant = Participant.objects.filter(
        conversation=conversation, user=user, left_at__isnull=True
    ).first()
    if participant is None:
        # Someone else's conversation is indistinguishable from a missing one.
        raise ConversationNotFound("No such conversation.")
    return participant


def _clean_body(body: Any) -> str:
    text = str(body or "").strip()
    # From the websocket's JSON, which may hold what no database stores: a null character,
    # or half of a surrogate pair ("\ud800"), which is not text at all.
    if "\x00" in text:
        raise ApplicationError(
            "Messages cannot contain null characters.", code="null_character", extra={"field": "body"}
        )
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ApplicationError(
            "This message holds characters that are not valid text.",
            code="invalid_text",
            extra={"field": "body"},
        ) from None
    if len(text) > BODY_MAX_CHARS:
        raise ApplicationError(
            f"Messages are limited to {BODY_MAX_CHARS:,} characters (this one has {len(text):,}).",
            code="message_too_long",
            extra={"field": "body", "max_length": BODY_MAX_CHARS},
        )
    return text


def _clean_client_msg_id(value: Any) -> str:
    text = str(value or "").strip()
    if text and not _CLIENT_MSG_ID.fullmatch(text):
        raise ApplicationError(
            f"client_msg_id must be 1 to {CLIENT_MSG_ID_MAX} letters, digits or _ . : -",
            code="invalid_client_msg_id",
            extra={"field": "client_msg_id"},
        )
    return text


def _clean_ids(values: Any, *, field: str, limit: int) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise ApplicationError(f"{field} must be a list of ids.", code="invalid", extra={"field": field})
    ids = list(dict.fromkeys(_as_int(v, field=field) for v in values))
    if len(ids) > limit:
        raise ApplicationError(
            f"At most {limit} files can be sent with one message.",
            code="too_many_attachments",
            extra={"field": field, "max": limit},
        )
    return ids


def _subject_ref(subject: Any) -> tuple[ContentType | None, int | None]:
    if subject is None:
        return None, None
    if not isinstance(subject, models.Model) or subject.pk is None:
        raise ValueError("subject must be a saved model instance")
    return ContentType.objects.get_for_model(subject, for_concrete_model=False), int(subject.pk)


def _unread_frames(conversation: Conversation, user_ids: Iterable[int]) -> list[tuple[str, dict]]:
    """Per-user badge updates, read after commit: one query for all the users.

    Only for people online (an open websocket): the others see their counts when they next
    load a page, and a message to a crowd costs no more than its connected part.
    """
    ids = sorted(presence.online_among_sync(list(user_ids)))
    if not ids:
        return []
    rows = selectors.unread_for_users(conversation_id=conversation.pk, user_ids=ids)
    return [
        (
            realtime.user_group(uid),
            {"type": "unread", "conversation": conversation.pk, "unread": unread, "total": total},
        )
        for uid, (unread, total) in rows.items()
    ]


def _store_message(
    *,
    conversation: Conversation,
    sender: User | None,
    body: str,
    kind: str,
    client_msg_id: str = "",
    reply_to: Message | None = None,
    attachments: Sequence[Attachment] = (),
    reasons: list[str] | None = None,
) -> Message:
    """Number, save and announce a message. The caller holds the conversation's row lock."""
    now = timezone.now()
    seq = conversation.last_message_seq + 1
    message = Message.objects.create(
        conversation=conversation,
        seq=seq,
        sender=sender,
        kind=kind,
        body=body,
        reply_to=reply_to,
        client_msg_id=client_msg_id,
        flagged_off_platform=bool(reasons),
        off_platform_reasons=reasons or [],
        created_at=now,
    )
    if attachments:
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)
        for attachment in attachments:
            attachment.message = message
    conversation.last_message_seq = seq
    conversation.last_message = message
    conversation.updated_at = now
    conversation.save(update_fields=["last_message_seq", "last_message", "updated_at"])
    members = list(
        Participant.objects.filter(conversation=conversation, left_at__isnull=True).values_list(
            "pk", "user_id", "archived"
        )
    )
    archived = [pk for pk, _, is_archived in members if is_archived]
    if archived:  # a new message brings an archived conversation back into the list
        Participant.objects.filter(pk__in=archived).update(archived=False)
    if sender is not None:  # writing means having read
        Participant.objects.filter(pk__in=[pk for pk, uid, _ in members if uid == sender.pk]).update(
            last_read_seq=seq
        )
    recipients = [uid for _, uid, _ in members if sender is None or uid != sender.pk]

    frame = payloads.message_frame(message, event="new", attachments=list(attachments))
    group = realtime.conversation_group(conversation.pk)
    realtime.on_commit_send(lambda: [(group, frame), *_unread_frames(conversation, recipients)])
    return message


# --- conversations: the API of other apps ----------------------------------------------------


@transaction.atomic
def conversation_get_or_create_for_subject(
    *, subject: Any = None, participants: Sequence[User], title: str = ""
) -> Conversation:
    """The conversation about ``subject`` (a saved model instance), created on first use.

    Every user in ``participants`` is made an active participant (someone who left is not
    forced back in: they rejoin only when added explicitly). Without a subject, the
    conversation is the one between exactly these people.
    """
    people = list({u.pk: u for u in participants}.values())
    if len(people) < 2:
        raise ApplicationError("A conversation needs at least two people.", code="too_few_participants")
    subject_type, subject_id = _subject_ref(subject)
    title = str(title or "").strip()[:200]
    if subject_type is not None:
        lookup: dict[str, Any] = {"subject_type": subject_type, "subject_id": subject_id}
    else:
        lookup = {"direct_key": ":".join(str(pk) for pk in sorted(u.pk for u in people))}
    conversation = Conversation.objects.select_for_update().filter(**lookup).first()
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(title=title, **lookup)
        except IntegrityError:
            # created meanwhile by a concurrent call: use that one
            conversation = Conversation.objects.select_for_update().get(**lookup)
    existing = set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    Participant.objects.bulk_create(
        # someone joining later starts at the latest message rather than with a backlog of unread
        [
            Participant(conversation=conversation, user=u, last_read_seq=conversation.last_message_seq)
            for u in people
            if u.pk not in existing
        ],
        ignore_conflicts=True,
    )
    return conversation


@transaction.atomic
def conversation_set_has_contract(*, conversation: Conversation, has_contract: bool = True) -> Conversation:
    """Called by contracts once the parties have a contract: off-platform flags stop."""
    locked = _conversation_for_update(conversation.pk)
    if locked.has_contract != has_contract:
        locked.has_contract = has_contract
        locked.save(update_fields=["has_contract"])
    conversation.has_contract = has_contract
    return locked


@transaction.atomic
def conversation_add_participant(
    *, conversation: Conversation, user: User, announce: bool = True
) -> Participant:
    """Add ``user`` (staff for a dispute, say) on behalf of the marketplace."""
    locked = _conversation_for_update(conversation.pk)
    return _add_participant(
        locked, user, text=f"{user.display_name} joined the conversation." if announce else ""
    )


def _add_participant(conversation: Conversation, user: User, *, text: str) -> Participant:
    participant = Participant.objects.filter(conversation=conversation, user=user).first()
    if participant is not None and participant.left_at is None:
        raise ApplicationError(
            f"{user.display_name} is already in this conversation.", code="already_participant"
        )
    if participant is None:
        participant = Participant.objects.create(
            conversation=conversation, user=user, last_read_seq=conversation.last_message_seq
        )
    else:
        participant.left_at = None
        participant.joined_at = timezone.now()
        participant.save(update_fields=["left_at", "joined_at"])
    if text:
        _store_message(conversation=conversation, sender=None, body=text, kind=Message.Kind.SYSTEM)
    return participant


@transaction.atomic
def message_post_system(*, conversation: Conversation, text: str) -> Message:
    """Post a marketplace event ("Offer sent", "Milestone funded") into the conversation."""
    body = _clean_body(text)
    if not body:
        raise ApplicationError("A system message needs text.", code="empty_message")
    locked = _conversation_for_update(conversation.pk)
    message = _store_message(conversation=locked, sender=None, body=body, kind=Message.Kind.SYSTEM)
    conversation.last_message_seq = locked.last_message_seq
    return message


# --- conversations: user actions -------------------------------------------------------------


@transaction.atomic
def participant_add(*, actor: User, conversation_id: int, user_id: int) -> Participant:
    """An active participant adds a teammate, or staff add someone (themselves, for a dispute)."""
    _require_can_act(actor)
    conversation = _conversation_for_update(conversation_id)
    if not actor.is_staff:
        _active_participant(conversation, actor)
    user = User.objects.filter(pk=_as_int(user_id, field="user"), is_active=True).first()
    if user is None or user.is_suspended:
        raise NotFoundError("No such user.", code="user_not_found")
    if Block.objects.filter(blocker=user, blocked=actor).exists():
        raise BlockedError(f"You cannot add {user.display_name}.")
    if user.pk == actor.pk:
        text = f"{user.display_name} joined the conversation."
    else:
        text = f"{actor.display_name} added {user.display_name} to the conversation."
    return _add_participant(conversation, user, text=text)


@transaction.atomic
def conversation_leave(*, actor: User, conversation_id: int) -> Participant:
    conversation = _conversation_for_update(conversation_id)
    participant = _active_participant(conversation, actor)
    participant.left_at = timezone.now()
    participant.save(update_fields=["left_at"])
    _store_message(
        conversation=conversation,
        sender=None,
        body=f"{actor.display_name} left the conversation.",
        kind=Message.Kind.SYSTEM,
    )
    return participant


@transaction.atomic
def conversation_archive(*, actor: User, conversation_id: int, archived: bool = True) -> Participant:
    """Hide the conversation from the main list (it comes back with the next message)."""
    participant = _own_participant_for_update(actor, conversation_id)
    participant.archived = archived
    participant.save(update_fields=["archived"])
    return participant


@transaction.atomic
def conversation_mute(*, actor: User, conversation_id: int, muted: bool = True) -> Participant:
    """A muted conversation sends no emails; its messages still count as unread."""
    participant = _own_participant_for_update(actor, conversation_id)
    participant.muted = muted
    participant.save(update_fields=["muted"])
    return participant


def _own_participant_for_update(actor: User, conversation_id: Any) -> Participant:
    participant = (
        Participant.objects.select_for_update()
        .filter(
            conversation_id=_as_int(conversation_id, field="conversation"), user=actor, left_at__isnull=True
        )
        .first()
    )
    if participant is None:
        raise ConversationNotFound("No such conversation.")
    return participant


@transaction.atomic
def conversation_mark_read(*, actor: User, conversation_id: int, seq: Any) -> int:
    """Mark messages up to ``seq`` read; returns the read position (it never goes back)."""
    up_to = _as_int(seq, field="seq")
    participant = (
        Participant.objects.select_related("conversation")
        .filter(
            conversation_id=_as_int(conversation_id, field="conversation"), user=actor, left_at__isnull=True
        )
        .first()
    )
    if participant is None:
        raise ConversationNotFound("No such conversation.")
    conversation = participant.conversation
    up_to = min(up_to, conversation.last_message_seq)
    moved = Participant.objects.filter(pk=participant.pk, last_read_seq__lt=up_to).update(last_read_seq=up_to)
    if not moved:
        return max(up_to, participant.last_read_seq)
    read_frame = {"type": "read", "conversation": conversation.pk, "user": actor.pk, "seq": up_to}
    group = realtime.conversation_group(conversation.pk)
    realtime.on_commit_send(lambda: [(group, read_frame), *_unread_frames(conversation, [actor.pk])])
    return up_to


# --- messages ----------------------------------------------------------------------------------


@transaction.atomic
def message_send(
    *,
    actor: User,
    conversation_id: Any,
    body: Any,
    client_msg_id: Any = "",
    reply_to_seq: Any = None,
    attachment_ids: Any = None,
) -> SendResult:
    """Send a message (with files uploaded beforehand). Idempotent per ``client_msg_id``.

    Locks the conversation row: that numbers the message and makes a second send of the same
    ``client_msg_id`` wait for the first and then return it (the unique constraint on
    (conversation, sender, client_msg_id) is the backstop).
    """
    if not (actor.is_authenticated and actor.is_suspended):
        _require_can_act(actor)
    text = _clean_body(body)
    msg_id = _clean_client_msg_id(client_msg_id)
    ids = _clean_ids(attachment_ids, field="attachment_ids", limit=MAX_ATTACHMENTS_PER_MESSAGE)
    if actor.is_authenticated and actor.is_suspended and not ids:
        _require_can_act(actor)
    conversation = _conversation_for_update(conversation_id, member=actor)
    _require_can_act_or_hand_over(actor, conversation, with_text=bool(text))
    if msg_id:
        found = Message.objects.filter(
            conversation=conversation, sender=actor, client_msg_id=msg_id
        ).values_list("pk", flat=True)[:1]
        if found:
            existing = (
                Message.objects.select_related("sender", "reply_to__sender")
                .prefetch_related("attachments")
                .get(pk=found[0])
            )
            return SendResult(existing, created=False)
    if not text and not ids:
        raise ApplicationError(
            "Write a message or attach a file.", code="empty_message", extra={"field": "body"}
        )
    members = Participant.objects.filter(conversation=conversation, left_at__isnull=True).values("user_id")
    blocker_ids = list(
        Block.objects.filter(blocked=actor, blocker_id__in=members).values_list("blocker_id", flat=True)[:1]
    )
    if blocker_ids:
        blocker = User.objects.get(pk=blocker_ids[0])
        raise BlockedError(f"{blocker.display_name} has blocked you; you cannot message them.")
    reply_to = None
    if reply_to_seq not in (None, ""):
        reply_to = (
            Message.objects.select_related("sender")
            .filter(conversation=conversation, seq=_as_int(reply_to_seq, field="reply_to"))
            .first()
        )
        if reply_to is None:
            raise ApplicationError(
                "The message you reply to is not in this conversation.",
                code="reply_not_found",
                extra={"field": "reply_to"},
            )
    attachments: list[Attachment] = []
    if ids:
        attachments = list(
            Attachment.objects.select_for_update().filter(
                pk__in=ids, conversation=conversation, uploader=actor, message__isnull=True
            )
        )
        if len(attachments) != len(ids):
            raise ApplicationError(
                "A file is missing or was already sent; upload it again.",
                code="attachment_not_found",
                extra={"field": "attachment_ids"},
            )
        attachments.sort(key=lambda a: ids.index(a.pk))
    reasons = [] if conversation.has_contract else off_platform_reasons(text)
    message = _store_message(
        conversation=conversation,
        sender=actor,
        body=text,
        kind=Message.Kind.TEXT,
        client_msg_id=msg_id,
        reply_to=reply_to,
        attachments=attachments,
        reasons=reasons,
    )
    return SendResult(message, created=True)


def _own_message_for_update(actor: User, conversation_id: Any, seq: Any) -> Message:
    conversation = _conversation_for_update(conversation_id)
    _active_participant(conversation, actor)
    message = (
        Message.objects.select_for_update()
        .filter(conversation=conversation, seq=_as_int(seq, field="seq"))
        .first()
    )
    if message is None:
        raise NotFoundError("No such message.", code="message_not_found")
    if message.sender_id != actor.pk:
        raise PermissionDeniedError("Only the sender can change a message.", code="not_sender")
    if message.deleted_at is not None:
        raise ApplicationError("This message was deleted.", code="message_deleted")
    message.conversation = conversation
    return message


def _announce_change(message: Message, event: str) -> None:
    message = (
        Message.objects.select_related("sender", "reply_to__sender")
        .prefetch_related("attachments")
        .get(pk=message.pk)
    )
    frame = payloads.message_frame(message, event=event)
    group = realtime.conversation_group(message.conversation_id)
    realtime.on_commit_send(lambda: [(group, frame)])


@transaction.atomic
def message_edit(*, actor: User, conversation_id: Any, seq: Any, body: Any) -> Message:
    """The sender rewrites their message within 15 minutes of sending it."""
    _require_can_act(actor)
    text = _clean_body(body)
    message = _own_message_for_update(actor, conversation_id, seq)
    if timezone.now() > message.created_at + EDIT_WINDOW:
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise ApplicationError(
            f"Messages can be edited for {minutes} minutes after sending.", code="edit_window_closed"
        )
    if not text and not message.attachments.exists():
        raise ApplicationError("A message cannot be empty; delete it instead.", code="empty_message")
    reasons = [] if message.conversation.has_contract else off_platform_reasons(text)
    message.body = text
    message.edited_at = timezone.now()
    message.flagged_off_platform = bool(reasons)
    message.off_platform_reasons = reasons
    message.save(update_fields=["body", "edited_at", "flagged_off_platform", "off_platform_reasons"])
    _announce_change(message, "edited")
    return message


@transaction.atomic
def message_delete(*, actor: User, conversation_id: Any, seq: Any) -> Message:
    """The sender removes their message: it shows as "This message was deleted".

    The text stays in the database for staff (a deleted off-platform request is still
    evidence); participants no longer see it or its files.
    """
    _require_can_act(actor)
    message = _own_message_for_update(actor, conversation_id, seq)
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    _announce_change(message, "deleted")
    return message


@transaction.atomic
def message_report(*, actor: User, conversation_id: Any, seq: Any, reason: str, note: str = "") -> Any:
    """A participant reports someone else's message to staff (once per message): a report
    (``accounts.ContentFlag``) in the moderation queue, ``accounts.moderation``."""
    from accounts.moderation import flag_create

    _require_can_act(actor)
    if reason not in MESSAGE_REPORT_REASONS:
        raise ApplicationError(
            "Choose a reason for the report.", code="invalid_reason", extra={"field": "reason"}
        )
    note = str(note or "").strip()
    if len(note) > 1000:
        raise ApplicationError(
            "The note is limited to 1,000 characters.", code="too_long", extra={"field": "note"}
        )
    conversation = _conversation_for_update(conversation_id)
    _active_participant(conversation, actor)
    message = Message.objects.filter(conversation=conversation, seq=_as_int(seq, field="seq")).first()
    if message is None:
        raise NotFoundError("No such message.", code="message_not_found")
    if message.sender_id is None or message.sender_id == actor.pk:
        raise ApplicationError("You can report messages from other people only.", code="cannot_report")
    report = flag_create(actor=actor, obj=message, reason=reason, note=note)
    log.info("message_reported message_id=%s by=%s reason=%s", message.pk, actor.pk, reason)
    return report


@transaction.atomic
def message_hide(*, actor: User, message_id: int) -> Message:
    """Staff remove a message (moderation): everyone sees "Removed by a moderator" in its
    place, its files are no longer served; the text stays for staff."""
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can remove messages.", code="staff_only")
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFoundError("No such message.", code="message_not_found")
    if message.hidden_at is not None:
        raise ApplicationError("This message is already removed.", code="already_hidden")
    message.hidden_at = timezone.now()
    message.save(update_fields=["hidden_at"])
    _announce_change(message, "edited")
    return message


@transaction.atomic
def message_unhide(*, actor: User, message_id: int) -> Message:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can restore messages.", code="staff_only")
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFoundError("No such message.", code="message_not_found")
    if message.hidden_at is None:
        raise ApplicationError("This message is not removed.", code="not_hidden")
    message.hidden_at = None
    message.save(update_fields=["hidden_at"])
    _announce_change(message, "edited")
    return message


# --- attachments -------------------------------------------------------------------------------


@transaction.atomic
def attachment_upload(*, actor: User, conversation_id: Any, upload: UploadedFile | None) -> Attachment:
    """Store a file for a message not sent yet (size, type by content, random name).

    Images are re-encoded (no metadata) and get a thumbnail for the preview. A suspended
    account may still upload into a contract's conversation (handing over work).
    """
    if not (actor.is_authenticated and actor.is_suspended):
        _require_can_act(actor)
    conversation = Conversation.objects.filter(pk=_as_int(conversation_id, field="conversation")).first()
    if conversation is None:
        raise ConversationNotFound("No such conversation.")
    _active_participant(conversation, actor)
    _require_can_act_or_hand_over(actor, conversation, with_text=False)
    if upload is None:
        raise ApplicationError("Choose a file to upload.", code="file_missing", extra={"field": "file"})
    kind = validate_file(upload, allowed=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES)
    original_name = safe_display_name(upload.name, max_length=255)
    attachment = Attachment(conversation=conversation, uploader=actor, original_name=original_name, kind=kind)
    if kind in IMAGE_KINDS:
        stored = process_image(upload, max_bytes=ATTACHMENT_MAX_BYTES, max_side=IMAGE_MAX_SIDE)
        upload.seek(0)
        thumb = process_image(upload, max_bytes=ATTACHMENT_MAX_BYTES, max_side=THUMBNAIL_SIDE)
        stored_name = str(stored.name)
        attachment.content_type = "image/png" if stored_name.endswith(".png") else "image/jpeg"
        attachment.thumbnail.save(str(thumb.name), thumb, save=False)
    else:
        stored = process_file(upload, allowed=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES)
        stored_name = str(stored.name)
        attachment.content_type = _CONTENT_TYPES.get(kind, "application/octet-stream")
    if kind == "webp":  # re-encoded as PNG or JPEG: the name says what the file now is
        attachment.original_name = original_name.rsplit(".", 1)[0][:250] + stored_name[-4:]
    attachment.size_bytes = stored.size
    attachment.file.save(stored_name, stored, save=False)
    try:
        attachment.save()
    except Exception:
        _delete_stored(attachment.file, attachment.thumbnail)  # no row, no file: no orphan
        raise
    return attachment


def _delete_stored(*fields: Any) -> None:
    for field in fields:
        if field and field.name:
            field.storage.delete(field.name)


_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain; charset=utf-8",
}


@transaction.atomic
def attachment_purge_unsent(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete files uploaded but never sent (the composer was abandoned)."""
    cutoff = timezone.now() - older_than
    stale = list(Attachment.objects.select_for_update().filter(message__isnull=True, created_at__lt=cutoff))
    files = [field for a in stale for field in (a.file, a.thumbnail)]
    Attachment.objects.filter(pk__in=[a.pk for a in stale]).delete()
    transaction.on_commit(lambda: _delete_stored(*files))  # the rows are gone for good: the files go too
    return len(stale)


# --- blocks ------------------------------------------------------------------------------------


@transaction.atomic
def user_block(*, actor: User, user_id: Any) -> Block:
    """Stop ``user_id`` from messaging ``actor`` in any conversation."""
    _require_can_act(actor)
    target_id = _as_int(user_id, field="user")
    if target_id == actor.pk:
        raise ApplicationError("You cannot block yourself.", code="block_self")
    target = User.objects.filter(pk=target_id).first()
    if target is None:
        raise NotFoundError("No such user.", code="user_not_found")
    if target.is_staff:
        raise ApplicationError("Staff members cannot be blocked.", code="block_staff")
    block, _ = Block.objects.get_or_create(blocker=actor, blocked=target)
    return block


@transaction.atomic
def user_unblock(*, actor: User, user_id: Any) -> None:
    Block.objects.filter(blocker=actor, blocked_id=_as_int(user_id, field="user")).delete()


# --- notifications -------------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    url = str(url or "").strip()
    if url and (not url.startswith("/") or url.startswith("//")):
        raise ValueError("notification url must be a path on this site, like /contracts/12/")
    return url[:500]


@transaction.atomic
def notify(
    *, recipient: User, kind: str, text: str, url: str = "", subject: Any = None
) -> Notification | None:
    """Tell ``recipient`` about an event: in the app (live) and, if they want, by email.

    Returns None when the recipient turned this kind off.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    text = " ".join(str(text).split())
    if not text:
        raise ValueError("a notification needs text")
    if len(text) > 300:
        text = text[:299] + "…"
    channel = selectors.preference_channel(user=recipient, kind=kind)
    if channel == Channel.OFF:
        return None
    subject_type, subject_id = _subject_ref(subject)
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        text=text,
        url=_clean_url(url),
        subject_type=subject_type,
        subject_id=subject_id,
    )
    _push_notification(notification)
    if channel == Channel.EMAIL and recipient.is_active and kind != NotificationKind.MESSAGE:
        from .tasks import send_notification_email

        notification_id = notification.pk
        transaction.on_commit(lambda: send_notification_email.delay(notification_id))
    return notification


def notify_on_commit(*, recipient_id: int, kind: str, text: str, url: str = "", subject: Any = None) -> None:
    """``notify`` once the caller's transaction commits, so a change that rolls back never
    announces itself; a recipient deleted meanwhile is skipped."""

    def send() -> None:
        user = User.objects.filter(pk=recipient_id).first()
        if user is not None:
            notify(recipient=user, kind=kind, text=text, url=url, subject=subject)

    transaction.on_commit(send)


def _push_notification(notification: Notification) -> None:
    payload = payloads.notification_payload(notification)
    user_id = notification.recipient_id

    def build() -> list[tuple[str, dict]]:
        unread = selectors.notification_unread_count(user_id=user_id)
        return [
            (
                realtime.user_group(user_id),
                {"type": "notification", "notification": payload, "unread_notifications": unread},
            )
        ]

    realtime.on_commit_send(build)


def _push_notification_count(user_id: int) -> None:
    def build() -> list[tuple[str, dict]]:
        unread = selectors.notification_unread_count(user_id=user_id)
        return [
            (realtime.user_group(user_id), {"type": "notifications_read", "unread_notifications": unread})
        ]

    realtime.on_commit_send(build)


@transaction.atomic
def notification_mark_read(*, actor: User, notification_id: Any) -> Notification:
    notification = (
        Notification.objects.select_for_update()
        .filter(pk=_as_int(notification_id, field="notification"), recipient=actor)
        .first()
    )
    if notification is None:
        raise NotFoundError("No such notification.", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _push_notification_count(actor.pk)
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: User) -> int:
    count = Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())
    if count:
        _push_notification_count(actor.pk)
    return count


@transaction.atomic
def notification_preferences_set(*, actor: User, preferences: dict[str, str]) -> dict[str, str]:
    """Set the delivery channel of some kinds; returns every kind's channel."""
    for kind, channel in preferences.items():
        if kind not in NotificationKind.values:
            raise ApplicationError(
                f"Unknown notification kind '{kind}'.", code="invalid_kind", extra={"field": kind}
            )
        if channel not in Channel.values:
            raise ApplicationError(
                f"Choose one of {', '.join(Channel.values)} for {kind}.",
                code="invalid_channel",
                extra={"field": kind},
            )
    for kind, channel in preferences.items():
        NotificationPreference.objects.update_or_create(
            user=actor, kind=kind, defaults={"channel": channel, "updated_at": timezone.now()}
        )
    return selectors.preferences_for(user=actor)


@transaction.atomic
def notification_unsubscribe(*, token: str) -> tuple[User, str]:
    """Stop emails of one kind for the user named in a signed link (no login needed).

    The kind stays visible in the app: unsubscribing is about email.
    """
    try:
        user_id, kind = emails.read_unsubscribe_token(token)
    except signing.BadSignature:
        raise ApplicationError("This unsubscribe link is not valid.", code="invalid_token")
    user = User.objects.filter(pk=user_id).first()
    if user is None or kind not in NotificationKind.values:
        raise ApplicationError("This unsubscribe link is not valid.", code="invalid_token")
    preference = NotificationPreference.objects.select_for_update().filter(user=user, kind=kind).first()
    if preference is None:
        NotificationPreference.objects.create(user=user, kind=kind, channel=Channel.IN_APP)
    elif preference.channel == Channel.EMAIL:
        preference.channel = Channel.IN_APP
        preference.updated_at = timezone.now()
        preference.save(update_fields=["channel", "updated_at"])
    return user, kind


@transaction.atomic
def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification if still wanted; marks it so a second run sends nothing."""
    notification = (
        Notification.objects.select_for_update()
        .select_related("recipient")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.emailed_at is not None:
        return False
    recipient = notification.recipient
    if (
        not recipient.is_active
        or selectors.preference_channel(user=recipient, kind=notification.kind) != Channel.EMAIL
    ):
        return False
    notification.emailed_at = timezone.now()
    notification.save(update_fields=["emailed_at"])
    email = emails.notification_email(notification)
    transaction.on_commit(email.send)
    return True


@transaction.atomic
def chat_digest_send(*, participant_id: int, now: datetime | None = None) -> bool:
    """Email one participant the unread messages of one conversation, at most every 15 minutes.

    Locks the participant row; re-checks everything, so running it twice sends one email.
    """
    now = now or timezone.now()
    participant = (
        Participant.objects.select_for_update()
        .select_related("user", "conversation")
        .filter(pk=participant_id, left_at__isnull=True, muted=False)
        .first()
    )
    if participant is None or not participant.user.is_active:
        return False
    if selectors.preference_channel(user=participant.user, kind=NotificationKind.MESSAGE) != Channel.EMAIL:
        return False
    if participant.email_sent_at is not None and now - participant.email_sent_at < CHAT_EMAIL_INTERVAL:
        return False
    start = max(participant.last_read_seq, participant.emailed_up_to_seq)
    messages = selectors.digest_messages(
        participant=participant, after_seq=start, before=now - CHAT_EMAIL_GRACE, limit=CHAT_EMAIL_MAX_MESSAGES
    )
    if not messages:
        return False
    unread = selectors.digest_messages(
        participant=participant,
        after_seq=participant.last_read_seq,
        before=now,
        limit=CHAT_EMAIL_MAX_MESSAGES,
    )
    participant.email_sent_at = now
    participant.emailed_up_to_seq = participant.conversation.last_message_seq
    participant.save(update_fields=["email_sent_at", "emailed_up_to_seq"])
    email = emails.chat_digest_email(participant, unread)
    transaction.on_commit(email.send)
    return True


def chat_digests_send_due(*, now: datetime | None = None) -> int:
    """Send every chat digest that is due (the beat task, every minute)."""
    now = now or timezone.now()
    sent = 0
    for participant_id in selectors.chat_digest_candidates(
        now=now, grace=CHAT_EMAIL_GRACE, interval=CHAT_EMAIL_INTERVAL
    ):
        sent += chat_digest_send(participant_id=participant_id, now=now)
    return sent
