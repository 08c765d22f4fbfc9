"""``/ws/chat/``: one websocket per browser tab, for every conversation the tab shows plus
the user's badges (unread counts, notifications).

The connection is authenticated by the session (``AuthMiddlewareStack``) and its origin
checked (``AllowedHostsOriginValidator``) before this consumer runs; anonymous
connections are closed. Frames are JSON objects with a ``type``:

client -> server
  {"type": "subscribe", "conversation": id, "last_seq": n}
  {"type": "send", "conversation": id, "client_msg_id": "...", "body": "...",
   "reply_to": seq | null, "attachment_ids": [...]}
  {"type": "read", "conversation": id, "seq": n}
  {"type": "typing", "conversation": id}
  {"type": "ping"}

server -> client
  {"type": "message", "event": "new" | "edited" | "deleted", "conversation": id, "seq": n, ...}
  {"type": "subscribed", "conversation": id, "last_seq": n}   (ends the answer to a subscribe:
                                  the resynced messages, then the others' presence, then this)
  {"type": "ack", "conversation": id, "client_msg_id": "...", "seq": n, "created": bool}
  {"type": "read", "conversation": id, "user": id, "seq": n}
  {"type": "typing", "conversation": id, "user": id, "name": "..."}
  {"type": "presence", "conversation": id, "user": id, "online": bool}
  {"type": "unread", "conversation": id, "unread": n, "total": n}
  {"type": "notification", "notification": {...}, "unread_notifications": n}
  {"type": "pong", "id": ...}
  {"type": "error", "code": "...", "message": "...", ...}

Delivery is exactly once and in order per conversation: the consumer remembers the last
``seq`` it delivered; a live message that skips numbers (two senders committing close
together may be announced out of order) first pulls the missing ones from the database,
and a message already delivered (by the resync) is not sent again.

The consumer only parses and calls services and selectors.
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.models import User
from marketplace import ratelimit
from marketplace.errors import ApplicationError

from . import payloads, presence, realtime, selectors, services

MAX_FRAME_CHARS = 64 * 1024
RESYNC_BATCH = 200
TYPING_MIN_INTERVAL_SECONDS = 1.0


class ChatConsumer(AsyncWebsocketConsumer):
    user: User
    # conversation id -> the last seq this connection has delivered
    delivered: dict[int, int]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active or user.is_suspended:
            await self.close(code=4401)
            return
        self.user = user
        self.delivered = {}
        self.typing_sent: dict[int, float] = {}
        await self.channel_layer.group_add(realtime.user_group(user.pk), self.channel_name)
        await self.accept()
        await presence.connection_opened(user.pk)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "delivered"):
            return
        await self.channel_layer.group_discard(realtime.user_group(self.user.pk), self.channel_name)
        gone = await presence.connection_closed(self.user.pk)  # False while another tab is open
        for conversation_id in list(self.delivered):
            group = realtime.conversation_group(conversation_id)
            await self.channel_layer.group_discard(group, self.channel_name)
            if gone:
                await self._group_send(
                    group,
                    {
                        "type": "presence",
                        "conversation": conversation_id,
                        "user": self.user.pk,
                        "online": False,
                    },
                )

    # --- client frames ------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self._error("frame_too_large", f"Frames are limited to {MAX_FRAME_CHARS // 1024} KB.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self._error("bad_frame", 'A frame is a JSON object with a "type".')
            return
        handler = {
            "subscribe": self._on_subscribe,
            "send": self._on_send,
            "read": self._on_read,
            "typing": self._on_typing,
            "ping": self._on_ping,
        }.get(str(frame.get("type")))
        if handler is None:
            await self._error(
                "unknown_type", "Unknown frame type; use subscribe, send, read, typing or ping."
            )
            return
        try:
            await handler(frame)
        except ApplicationError as error:
            context = {k: frame[k] for k in ("conversation", "client_msg_id") if k in frame}
            await self._error(error.code, error.message, **context)

    async def _on_subscribe(self, frame: dict[str, Any]) -> None:
        last_seq = frame.get("last_seq") or 0
        if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
            raise ApplicationError("last_seq must be a whole number (0 for everything).", code="invalid")
        participant = await database_sync_to_async(selectors.participation_for_user)(
            user=self.user, conversation_id=frame.get("conversation")
        )
        conversation_id = participant.conversation_id
        group = realtime.conversation_group(conversation_id)
        await self.channel_layer.group_add(group, self.channel_name)
        # Joined first, resynced second: anything committed meanwhile arrives live and is
        # either sent by the resync (and then skipped) or sent live.
        self.delivered[conversation_id] = min(last_seq, participant.conversation.last_message_seq)
        await self._catch_up(conversation_id)
        members = await database_sync_to_async(_member_ids)(conversation_id)
        others = [uid for uid in members if uid != self.user.pk]
        online = await presence.online_among(others)
        for uid in others:
            await self._send(
                {"type": "presence", "conversation": conversation_id, "user": uid, "online": uid in online}
            )
        await self._send(
            {
                "type": "subscribed",
                "conversation": conversation_id,
                "last_seq": self.delivered[conversation_id],
            }
        )
        await self._group_send(
            group, {"type": "presence", "conversation": conversation_id, "user": self.user.pk, "online": True}
        )

    async def _on_send(self, frame: dict[str, Any]) -> None:
        client_msg_id = frame.get("client_msg_id")
        if not isinstance(client_msg_id, str) or not client_msg_id:
            raise ApplicationError("Every message needs a client_msg_id.", code="invalid_client_msg_id")
        body = frame.get("body", "")
        if not isinstance(body, str):
            raise ApplicationError("body must be text.", code="invalid")
        # the same message rate limit as the HTTP send (marketplace/ratelimit.py)
        wait = await database_sync_to_async(ratelimit.hit_user)(self.user.pk, "message")
        if wait:
            raise ApplicationError(
                ratelimit.limit_message("message", wait),
                code="rate_limited",
                extra={"retry_after_seconds": wait},
            )
        result = await database_sync_to_async(services.message_send)(
            actor=self.user,
            conversation_id=frame.get("conversation"),
            body=body,
            client_msg_id=client_msg_id,
            reply_to_seq=frame.get("reply_to"),
            attachment_ids=frame.get("attachment_ids") or [],
        )
        await self._send(
            {
                "type": "ack",
                "conversation": result.message.conversation_id,
                "client_msg_id": client_msg_id,
                "seq": result.message.seq,
                "created": result.created,
            }
        )

    async def _on_read(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_mark_read)(
            actor=self.user, conversation_id=frame.get("conversation"), seq=frame.get("seq")
        )

    async def _on_typing(self, frame: dict[str, Any]) -> None:
        conversation_id = frame.get("conversation")
        if not isinstance(conversation_id, int) or conversation_id not in self.delivered:
            raise ApplicationError("Subscribe to the conversation first.", code="not_subscribed")
        now = time.monotonic()
        if now - self.typing_sent.get(conversation_id, 0.0) < TYPING_MIN_INTERVAL_SECONDS:
            return
        self.typing_sent[conversation_id] = now
        await self._group_send(
            realtime.conversation_group(conversation_id),
            {
                "type": "typing",
                "conversation": conversation_id,
                "user": self.user.pk,
                "name": self.user.display_name,
            },
        )

    async def _on_ping(self, frame: dict[str, Any]) -> None:
        # A ping also re-reads the account: a suspension ends the connection within a ping.
        fresh = await database_sync_to_async(User.objects.filter(pk=self.user.pk).first)()
        if fresh is None or not fresh.is_active or fresh.is_suspended:
            await self._error("account_suspended", "Your account cannot chat now.")
            await self.close(code=4403)
            return
        self.user = fresh
        if await presence.still_here(self.user.pk):
            for conversation_id in self.delivered:
                await self._group_send(
                    realtime.conversation_group(conversation_id),
                    {
                        "type": "presence",
                        "conversation": conversation_id,
                        "user": self.user.pk,
                        "online": True,
                    },
                )
        await self._send({"type": "pong", "id": frame.get("id")})

    # --- channel-layer events ---------------------------------------------------------------

    async def chat_event(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        kind = frame.get("type")
        conversation_id = frame.get("conversation")
        if kind == "message":
            await self._deliver_message(frame)
        elif kind in ("typing", "presence", "read"):
            if conversation_id in self.delivered and not (
                kind != "read" and frame.get("user") == self.user.pk
            ):
                await self._send(frame)
        else:  # the user's own badges: unread counts, notifications
            await self._send(frame)

    async def _deliver_message(self, frame: dict[str, Any]) -> None:
        conversation_id = frame["conversation"]
        if conversation_id not in self.delivered:
            return
        delivered = self.delivered[conversation_id]
        seq = frame["seq"]
        if frame.get("event") != "new":
            if seq <= delivered:  # a change to a message the client has
                await self._send(frame)
            return
        if seq <= delivered:
            return  # already sent by the resync
        if seq > delivered + 1:
            await self._catch_up(conversation_id, up_to_seq=seq - 1)
        await self._send(frame)
        self.delivered[conversation_id] = seq

    async def _catch_up(self, conversation_id: int, up_to_seq: int | None = None) -> None:
        """Send every message after the last delivered one (up to ``up_to_seq``)."""
        while True:
            after = self.delivered[conversation_id]
            batch = await database_sync_to_async(_resync_frames)(conversation_id, after, up_to_seq)
            for frame in batch:
                await self._send(frame)
                self.delivered[conversation_id] = frame["seq"]
            if len(batch) < RESYNC_BATCH:
                return

    # --- helpers --------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def _error(self, code: str, message: str, **context: Any) -> None:
        await self._send({"type": "error", "code": code, "message": message, **context})

    async def _group_send(self, group: str, frame: dict[str, Any]) -> None:
        await self.channel_layer.group_send(group, {"type": realtime.EVENT_TYPE, "frame": frame})


def _resync_frames(conversation_id: int, after_seq: int, up_to_seq: int | None) -> list[dict[str, Any]]:
    messages = selectors.messages_after(
        conversation_id=conversation_id, after_seq=after_seq, up_to_seq=up_to_seq, limit=RESYNC_BATCH
    )
    return [payloads.message_frame(m, event="new") for m in messages]


def _member_ids(conversation_id: int) -> list[int]:
    return selectors.member_ids(conversation_id=conversation_id)
