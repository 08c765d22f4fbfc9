from __future__ import annotations

import io
import os
import shutil

import pytest
from django.conf import settings
from django.db import connection
from PIL import Image

from tests import factories


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The local-memory cache and the local payment gateway outlive a test: start each with
    empty ones, so one test's cached pages, counters, allauth rate limits (one confirmation
    mail per address every few minutes) and gateway operations cannot leak into the next."""
    from django.core.cache import caches

    from payments.gateways import local as local_gateway

    for cache in caches.all():
        cache.clear()
    # the local gateway remembers idempotency keys per process; on SQLite a rolled-back
    # test's ids (and so its keys) come back in the next test with other amounts
    local_gateway.reset()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Each test writes uploads into its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture
def freelancer(db):
    return factories.make_freelancer()


@pytest.fixture
def client_user(db):
    return factories.make_client()


@pytest.fixture
def staff(db):
    return factories.make_staff()


@pytest.fixture
def published_freelancer(db):
    return factories.make_published_freelancer()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (300, 200), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def png_bytes() -> bytes:
    return image_bytes("PNG")


@pytest.fixture
def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="needs PostgreSQL (set DATABASE_URL)",
)
requires_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Eager tasks run from several threads at once (the concurrency tests) race on Celery's
    process-wide "a task is running" flag: each saves and restores it, so the last one out
    can leave it set, and a later ``result.get()`` in the same process is then refused as a
    join inside a task. Reset it after every test (workers never run eager tasks in threads)."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
