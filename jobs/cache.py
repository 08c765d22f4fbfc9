"""Caching of what every visitor sees alike: search result pages and the public job page.

Every entry is kept with the *jobs generation* it was computed under, a number kept in
the cache that the jobs services bump when a job enters or leaves the listings or changes
while listed (publish, close, reopen, edit of an open job, staff removal, attachments of
an open job, a search-vector refresh); an entry of an earlier generation is a miss. So a
newly published job is found by the next search. The bump happens twice: at once (so
that the writer's own next read, in the same transaction, misses) and after commit (so
that a page rendered by another request from the old data between the two is not kept
as current). Keys hold the parameters only (hashed) and the database's name.

What changes elsewhere without a bump (proposal counts, the client's figures, "posted 5
minutes ago") is at most ``TTL_SECONDS`` old.

Only viewer-independent content goes in here: fragments are rendered without the request
(so no CSRF token, no user), and the callers add the viewer's parts afterwards (saved
flags, the save buttons and forms that carry a CSRF token). ``Slot.set`` refuses a fragment
that contains a CSRF form field, as a last line of defence.

Whole pages for visitors without a session (``Slot.set(..., csrf_placeholder=...)``) are
kept with a placeholder where the CSRF token goes; the view puts each visitor's own token
in its place (see ``jobs.views.search``). ``Slot.set`` checks that every token slot of such
a page holds the placeholder and nothing else.

Each process also keeps the entries it used last (``LOCAL_ENTRIES`` of each kind, decoded) in memory:
a hit then costs one read of the generation from the shared cache instead of the entry's
transfer, decompression and unpickling, with the same freshness (the generation is still
read from the shared cache on every lookup, and an entry is never used longer than
``TTL_SECONDS`` after it was computed).

The cache is an optimisation: when it fails, pages are computed as if it were empty.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import pickle
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis.exceptions import ResponseError

from .models import Job

log = logging.getLogger(__name__)

TTL_SECONDS = 60
GENERATION_KEY = "jobs:generation"
# What a rendered CSRF token looks like ({% csrf_token %}, or the hx-headers of base.html).
CSRF_MARKERS = ("csrfmiddlewaretoken", "X-CSRFToken")
# The value of each CSRF token slot (a form field or the hx-headers attribute).
_CSRF_SLOT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"|"X-CSRFToken": "([^"]*)"')
LOCAL_ENTRIES = 64  # decoded entries of each kind kept in each process (see the module docstring)


def _fresh_generation() -> int:
    # From the clock, not 0: after an eviction or a flush of the counter, a restarted
    # number must not meet entries still stored under its earlier values.
    return time.time_ns() // 1000


def generation() -> int | None:
    """The current jobs generation (one cache read); None when the cache is unavailable."""
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            cache.add(GENERATION_KEY, _fresh_generation(), timeout=None)
            value = cache.get(GENERATION_KEY)
    except Exception:  # the cache is down: pages are computed every time
        log.warning("jobs cache: cannot read the generation", exc_info=True)
        return None
    return int(value) if value is not None else None


@functools.lru_cache(maxsize=16)
def _redis_reader(client: Any, key: str) -> tuple[Any, str]:
    """A Redis client on the read pool of ``client`` (a ``RedisCacheClient``: the thread's
    backend), kept for the process."""
    return client._client(connection_pool=client._get_connection_pool(write=False)), key


def _read_generation() -> Any:
    """``cache.get(GENERATION_KEY)``. With Django's Redis backend, through a client kept per
    process: the backend builds a new ``redis.Redis`` object on every call, which costs more
    than the round trip itself (~0.1 ms), and a hit reads nothing else. The generation is
    stored as a plain integer (the backend's serializer keeps ints as they are)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return cache.get(GENERATION_KEY)
    redis, key = _redis_reader(backend._cache, backend.make_and_validate_key(GENERATION_KEY))
    raw = redis.get(key)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return cache.get(GENERATION_KEY)


def bump_generation() -> None:
    """Make every cached search page and job page unreachable."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set (never read yet, evicted or flushed)
        cache.set(GENERATION_KEY, _fresh_generation(), timeout=None)
    except Exception:
        log.warning("jobs cache: cannot bump the generation", exc_info=True)


def jobs_changed() -> None:
    """For services: the listings changed. Bumps now and again after commit (see module docstring)."""
    bump_generation()
    transaction.on_commit(bump_generation)


def job_changed(job: Job) -> None:
    """For services: ``job`` changed; visitors see that only while it is open."""
    if job.status == Job.Status.OPEN:
        jobs_changed()


def csrf_free(html: str, placeholder: str = "") -> bool:
    """No CSRF token in ``html``: no token slot at all, or (with a ``placeholder``) every
    slot holds exactly the placeholder."""
    count = sum(html.count(marker) for marker in CSRF_MARKERS)
    if not count:
        return True
    if not placeholder:
        return False
    values = [form or header for form, header in _CSRF_SLOT.findall(html)]
    return len(values) == count and all(value == placeholder for value in values)


class _Local:
    """The entries this process used last, decoded: key -> (generation, deadline, entry),
    the last ``size`` of each kind (``cache_key``'s kind): the long tail's result pages,
    each used once, push out only each other, not the few filter forms and frames that
    every search of the tail uses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.kinds: dict[str, OrderedDict[str, tuple[int, float, Any]]] = {}
        self.lock = threading.Lock()

    def _lru(self, key: str) -> OrderedDict[str, tuple[int, float, Any]]:
        kind = key.split(":", 2)[1] if key.count(":") >= 2 else ""
        lru = self.kinds.get(kind)
        if lru is None:
            lru = self.kinds.setdefault(kind, OrderedDict())
        return lru

    def __contains__(self, key: str) -> bool:
        return key in self._lru(key)

    def get(self, key: str, gen: int) -> tuple[bool, Any]:
        with self.lock:
            lru = self._lru(key)
            found = lru.get(key)
            if found is None:
                return False, None
            if found[0] != gen or found[1] < time.time():
                del lru[key]
                return False, None
            lru.move_to_end(key)
            return True, found[2]

    def put(self, key: str, gen: int, created: float, entry: Any) -> None:
        with self.lock:
            lru = self._lru(key)
            lru[key] = (gen, created + TTL_SECONDS, entry)
            lru.move_to_end(key)
            while len(lru) > self.size:
                lru.popitem(last=False)

    def forget(self, key: str) -> None:
        with self.lock:
            self._lru(key).pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self.kinds.clear()


local = _Local(LOCAL_ENTRIES)


class Slot:
    """Where one page or fragment is cached, and what was found there.

    An entry is kept with the generation it was computed under and counts only while that
    is still the current one. (A key without the generation, and the generation read in
    the same round trip as the entry: one cache read per page, and a replaced page
    overwrites its predecessor instead of leaving it to expire.) Entries are compressed
    (zlib level 1: a 58 kB search page keeps as 9 kB, for ~0.1 ms to pack and ~0.05 ms
    to unpack), so that a minute of long-tail searches stays small in the cache. An entry
    read is unpacked when ``entry`` is first asked for (``lookup_many`` reads slots that
    the caller may not need).

    ``set(..., from_second=True)`` keeps the entry only from the second time it is computed
    within ``TTL_SECONDS``: the first time, only a mark that it was asked for (``seen``) is
    kept. Most searches of a long tail are asked once, and packing and storing their pages
    was a tenth of their time, for entries nobody read.
    """

    def __init__(
        self,
        key: str,
        generation: int | None,  # None when the cache is unavailable: nothing is read or kept
        entry: Any = None,  # the cached entry, None on a miss
        *,
        seen: bool = False,
        packed: bytes | None = None,
        created: float = 0.0,
        marked: bool = False,
    ) -> None:
        self.key = key
        self.generation = generation
        self._entry = entry
        self._packed = packed  # read but not unpacked yet
        self._created = created
        # asked for before under this generation: an entry or the mark of one is kept
        self.seen = seen or entry is not None or packed is not None
        # the lookup itself noted that this slot was asked for (``lookup_many(mark=True)``)
        self.marked = marked

    def __repr__(self) -> str:
        return f"Slot({self.key!r}, {self.generation!r}, seen={self.seen})"

    @property
    def entry(self) -> Any:
        """The cached entry, or None on a miss."""
        packed, self._packed = self._packed, None
        if packed is not None and self.generation is not None:
            try:
                self._entry = pickle.loads(zlib.decompress(packed))  # noqa: S301 - our own entry
            except Exception:  # written by another version of the code: computed again
                log.warning("jobs cache: cannot unpack %s", self.key, exc_info=True)
                return None
            local.put(self.key, self.generation, self._created, self._entry)
        return self._entry

    def set(
        self, entry: Any, *, html: str = "", csrf_placeholder: str = "", from_second: bool = False
    ) -> None:
        """Keep ``entry`` for ``TTL_SECONDS``. ``html``: the fragment it holds, checked to
        be free of CSRF tokens (which would hand one visitor's token to the next): no token
        slot at all, or only ``csrf_placeholder`` in each. ``from_second``: keep only a mark
        unless the slot was ``seen`` (see the class docstring); this process still keeps
        the entry in its memory."""
        if self.generation is None:
            return
        if not csrf_free(html, csrf_placeholder):
            log.error("jobs cache: refusing to keep a fragment with a CSRF token (%s)", self.key)
            return
        created = time.time()
        try:
            if from_second and not self.seen:
                if not self.marked:  # (else the lookup's round trip noted it already)
                    cache.set(self.key, (self.generation, None, created), timeout=TTL_SECONDS)
            else:
                packed = zlib.compress(pickle.dumps(entry, pickle.HIGHEST_PROTOCOL), 1)
                cache.set(self.key, (self.generation, packed, created), timeout=TTL_SECONDS)
        except Exception:
            log.warning("jobs cache: cannot keep %s", self.key, exc_info=True)
            return
        self.seen = True
        local.put(self.key, self.generation, created, entry)


def cache_key(kind: str, parts: Iterable[tuple[str, str]]) -> str:
    """The key of ``kind`` (a page or fragment) for these parameters.

    The database's name is part of the key, so that two databases sharing one cache (a
    benchmark and a development database, say) never see each other's pages.
    """
    # as JSON: one unambiguous string per parameter list (no crafted value can make two
    # different searches share a key and poison each other's page), ASCII whatever the
    # values hold; a third of the time urlencode took (three keys on every search)
    raw = json.dumps([str(settings.DATABASES["default"].get("NAME", "")), list(parts)])
    return f"jobs:{kind}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


def lookup(
    kind: str,
    parts: Iterable[tuple[str, str]],
    read_generation: int | None = None,
    *,
    mark: bool = False,
) -> Slot:
    """The slot of ``kind`` for these parameters (``cache_key``), with its entry if one is
    cached under the current generation: one cache read (of the generation alone when this
    process holds the entry already; none when the caller passes, as ``read_generation``,
    the generation it has just read for another slot of the same request). ``mark``: see
    ``lookup_many``."""
    return lookup_many([(kind, parts)], read_generation, mark=mark)[0]


# One round trip for a lookup whose last slot is kept from its second computation: the
# generation and the slots are read and, when the generation is set and the last slot
# holds nothing, a key beside that slot (KEYS[#KEYS]) is set to the generation for
# ARGV[1] seconds; what that key held before is answered after the slots (the slot was
# asked for under this generation when it held the same).
_READ_AND_MARK = """
local found = redis.call('MGET', unpack(KEYS, 1, #KEYS - 1))
if found[1] and not found[#found] then
    found[#found + 1] = redis.call('SET', KEYS[#KEYS], found[1], 'EX', ARGV[1], 'GET') or ''
end
return found
"""
_ASKED_SUFFIX = ":asked"


@functools.lru_cache(maxsize=16)
def _read_and_mark_script(redis: Any) -> Any:
    """The script on ``redis`` (a client kept per pool): EVALSHA, loaded on first use."""
    return redis.register_script(_READ_AND_MARK)


_script_refused = False  # the server refused the script: the two round trips, as before


def _refuse_script() -> None:
    global _script_refused
    if not _script_refused:
        log.warning("jobs cache: Redis refused the lookup script; marks cost a round trip of their own")
    _script_refused = True


def _read_and_mark(keys: list[str]) -> tuple[dict[str, Any], bool | None] | None:
    """``cache.get_many([GENERATION_KEY, *keys])`` and whether ``keys[-1]`` was asked for
    under the current generation before (None: not known, the slot holds something or the
    generation is not set), noting that it is asked for now, in one round trip
    (``_READ_AND_MARK``). None when the cache is not Django's Redis backend."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or _script_refused:
        return None
    client: Any = backend._cache
    redis = client.get_client(write=True)
    stored_keys = [backend.make_and_validate_key(key) for key in (GENERATION_KEY, *keys)]
    try:
        raw = _read_and_mark_script(redis)(
            keys=[*stored_keys, stored_keys[-1] + _ASKED_SUFFIX], args=[TTL_SECONDS], client=redis
        )
    except ResponseError:  # scripts off, or a server without SET ... GET (before 6.2)
        _refuse_script()
        return None
    loads = client._serializer.loads
    found = {
        key: loads(value)
        for key, value in zip((GENERATION_KEY, *keys), raw, strict=False)
        if value is not None
    }
    asked = None if len(raw) == len(stored_keys) else raw[-1] == raw[0]
    return found, asked


def lookup_many(
    wanted: Iterable[tuple[str, Iterable[tuple[str, str]]]],
    read_generation: int | None = None,
    *,
    mark: bool = False,
) -> list[Slot]:
    """``lookup`` of several slots, ``(kind, parts)`` each, in one cache read: of the
    generation alone when this process holds every entry, else of the generation and the
    entries it does not hold. An entry read is unpacked only when the caller asks for it
    (``Slot.entry``). ``mark``: the last slot is kept from its second computation
    (``Slot.set(from_second=True)``); on Redis, when it holds nothing, the same round trip
    notes that it was asked for (its ``seen`` then says whether it had been before), so
    that ``Slot.set`` need not write a mark of its own."""
    keys = [cache_key(kind, parts) for kind, parts in wanted]
    held = [key in local for key in keys]
    asked: bool | None = None
    try:
        if all(held):
            gen = read_generation if read_generation is not None else _read_generation()
            if gen is not None:
                found_here = [local.get(key, gen) for key in keys]
                if all(hit for hit, _ in found_here):
                    return [Slot(key, gen, entry) for key, (_, entry) in zip(keys, found_here, strict=True)]
            held = [False] * len(keys)
        missing = [key for key, here in zip(keys, held, strict=True) if not here]
        marked = _read_and_mark(missing) if mark and not held[-1] else None
        if marked is not None:
            found, asked = marked
        else:
            found = cache.get_many([GENERATION_KEY, *missing])
    except Exception:  # the cache is down: pages are computed every time
        log.warning("jobs cache: cannot read %s", ", ".join(keys), exc_info=True)
        return [Slot(key, None) for key in keys]
    gen = found.get(GENERATION_KEY)
    if gen is None:
        gen = generation()
        return [Slot(key, gen) for key in keys]
    slots = []
    for key, here in zip(keys, held, strict=True):
        if here:  # not read: this process's copy, if still current
            hit, entry = local.get(key, gen)
            slots.append(Slot(key, gen, entry) if hit else Slot(key, gen))
            continue
        stored = found.get(key)
        if asked is not None and key == keys[-1] and stored is None:  # noted by the lookup
            slots.append(Slot(key, gen, seen=asked, marked=True))
        elif not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == gen):
            slots.append(Slot(key, gen))
        elif stored[1] is None:  # the mark of a first request (``Slot.set``)
            slots.append(Slot(key, gen, seen=True))
        else:
            slots.append(Slot(key, gen, packed=stored[1], created=stored[2]))
    return slots
