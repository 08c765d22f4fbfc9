"""Chat messages in the moderation queue (``accounts.moderation_registry``).

A message hidden by staff keeps its place in the conversation: everyone, its sender too,
sees "Removed by a moderator" instead of the text (pages, the API and live updates), and
its files are no longer served. Only participants may report a message.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts import moderation_registry as registry

from .models import Message, Participant


def _visible_to(message: Message, user: Any) -> bool:
    if message.deleted_at is not None or message.hidden_at is not None:
        return False
    return Participant.objects.filter(
        conversation_id=message.conversation_id, user_id=user.pk, left_at__isnull=True
    ).exists()


def _hide(actor: Any, message: Message, reason: str) -> None:
    from .services import message_hide

    message_hide(actor=actor, message_id=message.pk)


def _unhide(actor: Any, message: Message) -> None:
    from .services import message_unhide

    message_unhide(actor=actor, message_id=message.pk)


def register() -> None:
    """Called from ``MessagingConfig.ready``."""
    registry.register(
        Message,
        registry.Moderated(
            label="message",
            owner=lambda message: message.sender,
            snapshot=lambda message: message.body,
            # staff are not participants: the admin page shows the message and its thread
            url=lambda message: reverse("admin:messaging_message_change", args=[message.pk]),
            hide=_hide,
            unhide=_unhide,
            is_hidden=lambda message: message.hidden_at is not None,
            visible_to=_visible_to,
        ),
    )
