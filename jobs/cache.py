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

The cache is an optimisation: when it fails, pages are computed as if it were empty.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import Job

log = logging.getLogger(__name__)

TTL_SECONDS = 60
GENERATION_KEY = "jobs:generation"
# What a rendered CSRF token looks like ({% csrf_token %}, or the hx-headers of base.html).
CSRF_MARKERS = ("csrfmiddlewaretoken", "X-CSRFToken")


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


@dataclass
class Slot:
    """Where one page or fragment is cached, and what was found there.

    An entry is kept with the generation it was computed under and counts only while that
    is still the current one. (A key without the generation, and the generation read in
    the same round trip as the entry: one cache read per page, and a replaced page
    overwrites its predecessor instead of leaving it to expire.) Entries are compressed
    (zlib level 1: a 58 kB search page keeps as 9 kB, for ~0.1 ms to pack and ~0.05 ms
    to unpack), so that a minute of long-tail searches stays small in the cache.
    """

    key: str
    generation: int | None  # None when the cache is unavailable: nothing is read or kept
    entry: Any = None  # the cached entry, None on a miss

    def set(self, entry: Any, *, html: str = "") -> None:
        """Keep ``entry`` for ``TTL_SECONDS``. ``html``: the fragment it holds, checked to
        be free of CSRF tokens (which would hand one visitor's token to the next)."""
        if self.generation is None:
            return
        if any(marker in html for marker in CSRF_MARKERS):
            log.error("jobs cache: refusing to keep a fragment with a CSRF token (%s)", self.key)
            return
        try:
            packed = zlib.compress(pickle.dumps(entry, pickle.HIGHEST_PROTOCOL), 1)
            cache.set(self.key, (self.generation, packed), timeout=TTL_SECONDS)
        except Exception:
            log.warning("jobs cache: cannot keep %s", self.key, exc_info=True)


def lookup(kind: str, parts: Iterable[tuple[str, str]]) -> Slot:
    """The slot of ``kind`` (a page or fragment) for these parameters, with its entry if
    one is cached under the current generation (one cache read).

    The database's name is part of the key, so that two databases sharing one cache (a
    benchmark and a development database, say) never see each other's pages.
    """
    # urlencoded: one unambiguous string per parameter list (no crafted value can make
    # two different searches share a key and poison each other's page)
    raw = f"{settings.DATABASES['default'].get('NAME', '')}\n{urlencode(list(parts))}"
    key = f"jobs:{kind}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except Exception:  # the cache is down: pages are computed every time
        log.warning("jobs cache: cannot read %s", key, exc_info=True)
        return Slot(key, None)
    gen = found.get(GENERATION_KEY)
    if gen is None:
        return Slot(key, generation())
    stored = found.get(key)
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == gen):
        return Slot(key, gen)
    try:
        return Slot(key, gen, pickle.loads(zlib.decompress(stored[1])))  # noqa: S301 - our own entry
    except Exception:  # written by another version of the code: computed again
        log.warning("jobs cache: cannot unpack %s", key, exc_info=True)
        return Slot(key, gen)
