"""jobs.search_index.settle_heap: what a worker holds for good is frozen out of the garbage
collector's way, and what was frozen the time before is collected if it became garbage."""

from __future__ import annotations

import gc
import weakref

import pytest

from jobs.search_index import settle_heap


class _Node:
    pass


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_settling_freezes_what_is_alive_and_frees_what_was_frozen_before():
    kept, dropped = _Node(), _Node()
    kept.me = kept  # cycles: only the collector can free them
    dropped.me = dropped
    dropped_ref = weakref.ref(dropped)

    settle_heap()
    assert gc.get_freeze_count() > 0
    gc.collect()
    del dropped  # garbage now, but frozen: collections skip it
    gc.collect()
    assert dropped_ref() is not None

    settle_heap()  # the next build: unfrozen and collected first

    assert dropped_ref() is None
    assert kept.me is kept
