"""Template helpers of the chat: message bodies and file sizes."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from messaging.rendering import excerpt, render_body

register = template.Library()


@register.filter
def message_html(text: str) -> SafeString:
    """Escaped first, then links made clickable (see messaging.rendering)."""
    return render_body(text or "")


@register.filter
def preview(text: str, limit: int = 80) -> str:
    return excerpt(text or "", int(limit))


@register.filter
def filesize(num_bytes: int) -> str:
    size = int(num_bytes or 0)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


@register.simple_tag
def conversation_title(conversation, members, me) -> str:
    """The conversation's title, or the names of the other people in it."""
    if conversation.title:
        return conversation.title
    names = [p.user.display_name for p in members if p.user_id != me.pk]
    return ", ".join(names) or "Just you"
