"""Notification and chat-digest emails, with a signed unsubscribe link per user and kind.

The link works without logging in: it carries the user id and the kind, signed with the
secret key (``django.core.signing``). Emails also carry ``List-Unsubscribe`` headers so
mail clients can offer their own one-click button (RFC 8058).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Message, Notification, NotificationKind, Participant
from .payloads import conversation_url
from .rendering import excerpt

UNSUBSCRIBE_SALT = "messaging.unsubscribe"


def site_url() -> str:
    return str(getattr(settings, "SITE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def unsubscribe_token(user_id: int, kind: str) -> str:
    """The same token every time for a user and kind (no timestamp: links do not expire)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"u": user_id, "k": kind}, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(user id, kind) from a token; raises ``signing.BadSignature`` if it was tampered with."""
    data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        raise signing.BadSignature("malformed unsubscribe token")
    return data["u"], data["k"]


def unsubscribe_url(user_id: int, kind: str) -> str:
    return site_url() + reverse("messaging:unsubscribe", args=[unsubscribe_token(user_id, kind)])


def _email(
    *, to: str, subject: str, template: str, context: dict, unsubscribe: str
) -> EmailMultiAlternatives:
    context = {
        **context,
        "site_name": settings.SITE_NAME,
        "site_url": site_url(),
        "unsubscribe_url": unsubscribe,
    }
    text = render_to_string(f"messaging/email/{template}.txt", context)
    html = render_to_string(f"messaging/email/{template}.html", context)
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    email = EmailMultiAlternatives(
        subject=f"{prefix}{subject}",
        body=text,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    recipient = notification.recipient
    return _email(
        to=recipient.email,
        subject=excerpt(notification.text, 90),
        template="notification",
        context={
            "notification": notification,
            "recipient": recipient,
            "link": site_url() + notification.url
            if notification.url
            else site_url() + reverse("messaging:notifications"),
            "kind_label": NotificationKind(notification.kind).label,
        },
        unsubscribe=unsubscribe_url(recipient.pk, notification.kind),
    )


def chat_digest_email(participant: Participant, messages: list[Message]) -> EmailMultiAlternatives:
    recipient = participant.user
    conversation = participant.conversation
    senders = sorted({m.sender.display_name for m in messages if m.sender is not None})
    who = ", ".join(senders) if senders else settings.SITE_NAME
    count = len(messages)
    subject = f"{count} unread message{'s' if count != 1 else ''} from {who}"
    if conversation.title:
        subject += f" about {conversation.title}"
    return _email(
        to=recipient.email,
        subject=subject[:150],
        template="chat_digest",
        context={
            "recipient": recipient,
            "conversation": conversation,
            "messages": messages,
            "unread": conversation.last_message_seq - participant.last_read_seq,
            "link": site_url() + conversation_url(conversation),
        },
        unsubscribe=unsubscribe_url(recipient.pk, NotificationKind.MESSAGE),
    )
