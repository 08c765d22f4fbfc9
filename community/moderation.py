"""Forum posts in the generic moderation queue (``accounts.moderation_registry``): members
report a post from its page; staff hide it (the question hides its whole thread) or show it
again from the queue, which logs the decision and tells the people involved."""

from __future__ import annotations

from typing import Any

from accounts.moderation_registry import Moderated, register

from . import forums
from .models import Post


def _hide(actor: Any, post: Post, reason: str) -> None:
    forums.post_set_hidden(post, True)


def _unhide(actor: Any, post: Post) -> None:
    forums.post_set_hidden(post, False)


def _visible_to(post: Post, user: Any) -> bool:
    """Held posts and hidden threads are seen by their author and staff only (the queue
    lets those two through before asking)."""
    thread = post.thread
    return post.held_at is None and post.hidden_at is None and thread.is_visible


def register_forum_posts() -> None:
    register(
        Post,
        Moderated(
            label="forum post",
            owner=lambda post: post.author,
            snapshot=lambda post: (f"{post.thread.title}\n\n" if post.is_opening else "") + post.body,
            url=forums.post_url,
            hide=_hide,
            unhide=_unhide,
            is_hidden=lambda post: post.hidden_at is not None,
            visible_to=_visible_to,
        ),
    )
