"""Who is online: a cache key per user with a short time to live, refreshed by the
websocket's pings. Not stored in the database; with Redis every process sees it."""

from __future__ import annotations

from django.core.cache import cache

PRESENCE_TTL_SECONDS = 70  # the browser pings every 25 s; two missed pings and you are away


def _key(user_id: int) -> str:
    return f"messaging:online:{user_id}"


async def mark_online(user_id: int) -> bool:
    """Refresh the user's presence; True when they were not online before."""
    was_online = await cache.aget(_key(user_id)) is not None
    await cache.aset(_key(user_id), 1, timeout=PRESENCE_TTL_SECONDS)
    return not was_online


async def mark_offline(user_id: int) -> None:
    await cache.adelete(_key(user_id))


async def online_among(user_ids: list[int]) -> set[int]:
    found = await cache.aget_many([_key(uid) for uid in user_ids])
    return {uid for uid in user_ids if _key(uid) in found}


def online_among_sync(user_ids: list[int]) -> set[int]:
    found = cache.get_many([_key(uid) for uid in user_ids])
    return {uid for uid in user_ids if _key(uid) in found}
