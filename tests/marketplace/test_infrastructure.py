"""Celery, Channels, health endpoints and deployment settings."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection

from marketplace.asgi import application
from marketplace.celery import app as celery_app
from marketplace.tasks import health_ping
from tests.conftest import requires_redis

ROOT = Path(__file__).resolve().parents[2]


def test_health_task_runs_eagerly_without_a_broker():
    assert health_ping.delay("abc").get(timeout=5) == {"status": "ok", "token": "abc"}


@requires_redis
def test_health_task_runs_on_a_real_worker_over_redis():
    """Starts a real Celery worker on a private queue and sends it the task through Redis."""
    queue = f"health-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.local",
        "DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketplace",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        result = health_ping.apply_async(args=["from-test"], queue=queue)
        assert result.get(timeout=60) == {"status": "ok", "token": "from-test"}
    finally:
        celery_app.conf.task_always_eager = previous
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


async def _ws_roundtrip(origin: bytes) -> tuple[bool, dict | None]:
    communicator = WebsocketCommunicator(
        application, "/ws/health/", headers=[(b"origin", origin), (b"host", b"testserver")]
    )
    connected, _ = await communicator.connect()
    reply = None
    if connected:
        await communicator.send_to(text_data=json.dumps({"type": "ping", "id": 7}))
        reply = json.loads(await communicator.receive_from(timeout=5))
    await communicator.disconnect()
    return connected, reply


@pytest.mark.django_db(transaction=True)
def test_health_websocket_answers_ping_from_an_allowed_origin():
    from asgiref.sync import async_to_sync

    connected, reply = async_to_sync(_ws_roundtrip)(b"http://testserver")
    assert connected is True
    assert reply == {"type": "pong", "id": 7}


@pytest.mark.django_db(transaction=True)
def test_health_websocket_refuses_a_foreign_origin():
    from asgiref.sync import async_to_sync

    connected, reply = async_to_sync(_ws_roundtrip)(b"https://evil.example")
    assert connected is False
    assert reply is None


@pytest.mark.django_db(transaction=True)
def test_health_websocket_explains_bad_input():
    from asgiref.sync import async_to_sync

    async def run():
        communicator = WebsocketCommunicator(
            application, "/ws/health/", headers=[(b"origin", b"http://testserver")]
        )
        await communicator.connect()
        await communicator.send_to(text_data="not json")
        reply = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return reply

    assert async_to_sync(run)()["type"] == "error"


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "search_index": "off"}


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.production",
        "SECRET_KEY": "x" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "marketplace.example",
        "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert time.monotonic() - started < 120


def test_settings_switch_to_postgres_and_redis_from_the_environment():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://u@db.internal:5432/mk",
        "REDIS_URL": "redis://cache:6379/1",
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.local",
    }
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['CONN_MAX_AGE'],"
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER,"
        "s.CACHES['default']['BACKEND'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "marketplace.db.postgresql",
        "600",
        "channels_redis.core.RedisChannelLayer",
        "redis://cache:6379/1",
        "False",
        "marketplace.cache.RedisCache",
    ]


def test_defaults_need_nothing_installed():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.local"
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
        "django.core.mail.backends.console.EmailBackend",
    ]


@pytest.mark.django_db
def test_an_id_too_large_for_the_database_is_a_clear_answer_never_a_500(client, api_client, client_user):
    """PostgreSQL compares a 30-digit id and finds nothing (404); SQLite's driver raises
    OverflowError, which becomes a 400 with its own code. Either way, no 500."""
    huge = "9" * 30
    api_client.force_authenticate(client_user)

    api = api_client.delete(f"/api/v1/teams/{huge}/members/{huge}/")
    page = client.get(f"/community/threads/{huge}/")

    assert api.status_code in (400, 404)
    assert api.json()["code"] in ("number_too_large", "not_found")
    assert page.status_code in (302, 404)
    if connection.vendor == "sqlite":
        assert (api.status_code, api.json()["code"]) == (400, "number_too_large")
