"""``marketplace.cache.RedisCache``: Django's Redis backend, keeping its Redis client
objects (Django's builds one per operation) and otherwise the same."""

from __future__ import annotations

import os
import threading

from marketplace.cache import RedisCache
from tests.conftest import requires_redis

pytestmark = requires_redis


def backend() -> RedisCache:
    return RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-cache-backend"})


def test_one_client_object_per_pool_and_the_cache_works():
    cache = backend()
    client = cache._cache.get_client()

    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share it
    cache.set("answer", {"n": 42}, timeout=30)
    assert cache.get("answer") == {"n": 42}
    assert cache.get_many(["answer", "missing"]) == {"answer": {"n": 42}}
    cache.delete("counter")
    assert cache.add("counter", 1)
    assert cache.incr("counter") == 2
    cache.delete("answer")
    assert cache.get("answer") is None
    cache.delete("counter")


def test_threads_share_the_client_safely():
    cache = backend()
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            for step in range(50):
                cache.set(f"thread-{number}", step, timeout=30)
                assert cache.get(f"thread-{number}") == step
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    cache.delete_many([f"thread-{number}" for number in range(4)])
