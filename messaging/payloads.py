"""The JSON shape of messages, attachments and notifications, shared by the websocket
frames and the API (whose serializers document these shapes and delegate here)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .models import Attachment, Conversation, Message, Notification
from .rendering import excerpt, render_body


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "size_bytes": attachment.size_bytes,
        "content_type": attachment.content_type,
        "is_image": attachment.is_image,
        "url": reverse("messaging:attachment_download", args=[attachment.pk]),
        "thumbnail_url": reverse("messaging:attachment_thumbnail", args=[attachment.pk])
        if attachment.is_image
        else None,
    }


HIDDEN_TEXT = "Removed by a moderator"


def message_payload(message: Message, attachments: list[Attachment] | None = None) -> dict[str, Any]:
    """A message as clients see it. A deleted message keeps its place but not its content.

    ``attachments`` may be passed when they are known (just sent); otherwise the prefetched
    ``message.attachments`` are used.
    """
    deleted = message.deleted_at is not None
    # removed by a moderator: everyone (the sender too) sees only that it was removed
    hidden = message.hidden_at is not None and not deleted
    sender = message.sender
    reply = message.reply_to
    if attachments is None:
        attachments = list(message.attachments.all())
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "kind": message.kind,
        "sender": {"id": sender.pk, "name": sender.display_name} if sender is not None else None,
        "body": "" if deleted else (HIDDEN_TEXT if hidden else message.body),
        "body_html": "" if deleted else (HIDDEN_TEXT if hidden else str(render_body(message.body))),
        "reply_to": {
            "seq": reply.seq,
            "sender_name": reply.sender.display_name if reply.sender is not None else "Marketplace",
            "excerpt": "This message was deleted" if reply.deleted_at else excerpt(reply.body, 80),
        }
        if reply is not None
        else None,
        "client_msg_id": message.client_msg_id,
        "created_at": _iso(message.created_at),
        "edited_at": _iso(message.edited_at),
        "deleted_at": _iso(message.deleted_at),
        "hidden": hidden,
        "flagged_off_platform": message.flagged_off_platform and not deleted and not hidden,
        "attachments": [] if deleted or hidden else [attachment_payload(a) for a in attachments],
    }


def message_frame(message: Message, *, event: str, attachments: list[Attachment] | None = None) -> dict:
    """A server -> client ``message`` frame. ``event`` is new, edited or deleted."""
    return {"type": "message", "event": event, **message_payload(message, attachments)}


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "text": notification.text,
        "url": notification.url,
        "read": notification.read_at is not None,
        "created_at": _iso(notification.created_at),
    }


def conversation_url(conversation: Conversation | int) -> str:
    pk = conversation if isinstance(conversation, int) else conversation.pk
    return reverse("messaging:conversation", args=[pk])
