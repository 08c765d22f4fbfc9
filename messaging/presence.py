"""Who is online: a count of open websockets per user in the cache, with a short time to
live refreshed by the browser's pings. Not stored in the database; with Redis every
process sees it. A user with two tabs stays online when one closes.
"""

from __future__ import annotations

from django.core.cache import cache

PRESENCE_TTL_SECONDS = 70  # the browser pings every 25 s; two missed pings and you are away


def _key(user_id: int) -> str:
    return f"messaging:online:{user_id}"


async def connection_opened(user_id: int) -> bool:
    """Count a new connection; True when the user was not online before."""
    key = _key(user_id)
    await cache.aadd(key, 0, timeout=PRESENCE_TTL_SECONDS)
    try:
        count = await cache.aincr(key)
    except ValueError:  # expired between the two calls
        await cache.aset(key, 1, timeout=PRESENCE_TTL_SECONDS)
        count = 1
    await cache.atouch(key, timeout=PRESENCE_TTL_SECONDS)
    return count == 1


async def connection_closed(user_id: int) -> bool:
    """Uncount a connection; True when it was the user's last one."""
    key = _key(user_id)
    try:
        count = await cache.adecr(key)
    except ValueError:
        return True
    if count <= 0:
        await cache.adelete(key)
        return True
    return False


async def still_here(user_id: int) -> bool:
    """A ping: keep the user online; True when they had expired (and are back)."""
    key = _key(user_id)
    if await cache.atouch(key, timeout=PRESENCE_TTL_SECONDS):
        return False
    await cache.aset(key, 1, timeout=PRESENCE_TTL_SECONDS)
    return True


async def online_among(user_ids: list[int]) -> set[int]:
    found = await cache.aget_many([_key(uid) for uid in user_ids])
    return {uid for uid in user_ids if found.get(_key(uid), 0) > 0}


def online_among_sync(user_ids: list[int]) -> set[int]:
    found = cache.get_many([_key(uid) for uid in user_ids])
    return {uid for uid in user_ids if found.get(_key(uid), 0) > 0}
