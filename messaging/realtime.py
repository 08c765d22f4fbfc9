"""Channel-layer groups and the events sent through them.

Two kinds of group: one per conversation (``chat.conv.<id>``: messages, receipts, typing,
presence) and one per user (``chat.user.<id>``: unread counts and notifications, for the
navigation badges on every page). Services queue broadcasts with ``on_commit`` so nobody
hears of a message that was rolled back; a failing channel layer is logged, never turned
into a failed request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# The channel-layer message type; consumers handle it in ``chat_event``.
EVENT_TYPE = "chat.event"


def conversation_group(conversation_id: int) -> str:
    return f"chat.conv.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


def send_to_groups(items: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Send ``frame`` to each group now (from synchronous code, after commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    pairs = list(items)

    if not pairs:
        return

    async def publish() -> None:
        # The first group (the conversation) hears first; the badge updates of its members
        # (one group each) go out together rather than one Redis round trip after another.
        first, rest = pairs[0], pairs[1:]
        await layer.group_send(first[0], {"type": EVENT_TYPE, "frame": first[1]})
        if rest:
            await asyncio.gather(*(layer.group_send(g, {"type": EVENT_TYPE, "frame": f}) for g, f in rest))

    def send_all() -> None:
        async_to_sync(publish)()  # one trip to the event loop for every group

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send_all()  # the usual case: a request or task thread, or a consumer's sync_to_async thread
        return
    # Synchronous code called straight from an event loop's thread (a script, a test driving
    # a browser) cannot block on that loop: send from a helper thread instead.
    helper = threading.Thread(target=send_all)
    helper.start()
    helper.join()


def on_commit_send(build: Any) -> None:
    """After commit, call ``build()`` and send the (group, frame) pairs it returns.

    ``build`` runs after commit, so it can read the committed state (unread totals).
    """

    def run() -> None:
        send_to_groups(build())

    transaction.on_commit(run, robust=True)
