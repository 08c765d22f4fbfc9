"""`python bench/chat.py`: chat latency over real websockets, PostgreSQL and Redis.

Serves the ASGI application with uvicorn (one process, as the deployed `ws` service runs
it) and drives it with `websockets` clients on loopback:

- floor: a ping answered by the bare health consumer (/ws/health/), no database;
- one-to-one: client A sends a message, time until client B receives it: the consumer
  parses the frame, the service locks the conversation, writes the message and commits,
  then fans out through Redis (the unread-count push to B's own group included); A's ack
  is timed too;
- fan-out: one sender, 50 subscribed recipients, time until every one has the message;
- the service call alone, in this process (lock, write, commit, publish to Redis).

Messages are sent one at a time (latency, not throughput). The target is p95 < 20 ms for
the one-to-one round trip. Results: bench/results/chat.json.

Needs PostgreSQL (BENCH_CHAT_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/marketplace_bench_chat) and Redis (REDIS_URL, default
redis://127.0.0.1:6379/0). Sizes: BENCH_CHAT_MESSAGES (1000), BENCH_CHAT_FANOUT (200).

The uvicorn application is ``bench.chat:make_application`` (a factory): the project's
HTTP application and websocket routes plus messaging's, behind the same origin check and
session authentication as marketplace/asgi.py, so it runs before and after the routing is
wired in.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = int(os.environ.get("BENCH_CHAT_PORT", "8790"))
MESSAGES = int(os.environ.get("BENCH_CHAT_MESSAGES", "1000"))
FANOUT_MESSAGES = int(os.environ.get("BENCH_CHAT_FANOUT", "200"))
RECIPIENTS = 50
WARMUP = 50
TARGET_P95_MS = 20.0


def log(text: str) -> None:
    print(text, flush=True)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["DATABASE_URL"] = os.environ.get(
        "BENCH_CHAT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marketplace_bench_chat"
    )
    e.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    e["CHANNELS_PREFIX"] = "benchchat"
    e["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"
    e.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    e["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    e["SECURE_SSL_REDIRECT"] = "False"
    e["LOG_LEVEL"] = "WARNING"
    e["PYTHONPATH"] = str(ROOT)
    # one sender sends hundreds of messages a minute here: the per-user message limit
    # (marketplace/ratelimit.py) would refuse them; the figures leave its cache hit out
    e["RATE_LIMIT_ENABLED"] = "False"
    return e


# --- the server's application --------------------------------------------------------------


def make_application():
    """uvicorn --factory bench.chat:make_application"""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.production")
    from django.core.asgi import get_asgi_application

    http = get_asgi_application()
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator

    from marketplace.routing import websocket_urlpatterns as project_routes
    from messaging.routing import websocket_urlpatterns as chat_routes

    wired = any(str(getattr(r, "pattern", "")) == "ws/chat/" for r in project_routes)
    routes = list(project_routes) if wired else [*chat_routes, *project_routes]
    return ProtocolTypeRouter(
        {"http": http, "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routes)))}
    )


# --- data -----------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], capture_output=True)


def prepare() -> dict[str, Any]:
    """Migrate, create the bench people, their sessions and conversations, emptied."""
    os.environ.update(env())
    ensure_database(os.environ["DATABASE_URL"])
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User
    from messaging import services
    from messaging.models import Conversation, Message, Participant

    log("--- migrate")
    call_command("migrate", "--noinput", verbosity=0)

    def person(label: str) -> User:
        email = f"{label}@chat.bench.local"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=None, first_name=label.title(), last_name="Bench"
            )
        return user

    def session(user: User) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key or ""

    a, b, sender = person("alice"), person("bob"), person("sender")
    recipients = [person(f"recipient{n:02d}") for n in range(RECIPIENTS)]
    one = services.conversation_get_or_create_for_subject(participants=[a, b], title="bench one-to-one")
    fan = services.conversation_get_or_create_for_subject(
        participants=[sender, *recipients], title="bench fan-out"
    )
    local = services.conversation_get_or_create_for_subject(
        participants=[a, sender], title="bench in-process"
    )
    ids = [one.pk, fan.pk, local.pk]
    Conversation.objects.filter(pk__in=ids).update(last_message=None, last_message_seq=0)
    Message.objects.filter(conversation_id__in=ids).delete()
    Participant.objects.filter(conversation_id__in=ids).update(last_read_seq=0, emailed_up_to_seq=0)
    return {
        "one": one.pk,
        "fan": fan.pk,
        "local": local.pk,
        "sessions": {
            "a": session(a),
            "b": session(b),
            "sender": session(sender),
            "recipients": [session(r) for r in recipients],
        },
        "users": {"a": a, "sender": sender},
    }


def service_timings(actor, conversation_id: int, count: int) -> list[float]:
    from messaging import services

    timings = []
    for n in range(count + WARMUP):
        started = time.perf_counter()
        services.message_send(
            actor=actor, conversation_id=conversation_id, body=f"in-process {n}", client_msg_id=f"ip-{n}"
        )
        if n >= WARMUP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


# --- websocket clients ------------------------------------------------------------------------


class Client:
    """A websocket connection that timestamps the frames it is waiting for."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.arrived: dict[tuple, float] = {}
        self.waiters: dict[tuple, asyncio.Future] = {}
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, path: str, session_key: str | None = None) -> Client:
        from websockets.asyncio.client import connect

        headers = {"Cookie": f"sessionid={session_key}"} if session_key else {}
        ws = await connect(
            f"ws://127.0.0.1:{PORT}{path}",
            origin=f"http://127.0.0.1:{PORT}",  # type: ignore[arg-type]
            additional_headers=headers,
            max_size=2**20,
        )
        return cls(ws)

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind in ("message", "ack"):
                key: tuple = (kind, frame.get("client_msg_id"))
            elif kind == "pong":
                key = ("pong", frame.get("id"))
            elif kind == "subscribed":
                key = ("subscribed", frame.get("conversation"))
            elif kind == "error":
                raise RuntimeError(frame)
            else:
                continue  # unread counts, presence
            self.arrived[key] = now
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

    def expect(self, key: tuple) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if key in self.arrived:
            future.set_result(self.arrived[key])
        else:
            self.waiters[key] = future
        return future

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def subscribe(self, conversation_id: int) -> None:
        done = self.expect(("subscribed", conversation_id))
        await self.send({"type": "subscribe", "conversation": conversation_id, "last_seq": 0})
        await asyncio.wait_for(done, 30)

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()


async def measure(plan: dict[str, Any]) -> dict[str, list[float]]:
    sessions = plan["sessions"]
    out: dict[str, list[float]] = {"echo": [], "one_to_one": [], "ack": [], "fan_all": [], "fan_each": []}

    log(f"--- floor: {MESSAGES} pings to the bare health consumer")
    echo = await Client.open("/ws/health/")
    for n in range(MESSAGES + WARMUP):
        pong = echo.expect(("pong", n))
        started = time.perf_counter()
        await echo.send({"type": "ping", "id": n})
        arrived = await asyncio.wait_for(pong, 10)
        if n >= WARMUP:
            out["echo"].append((arrived - started) * 1000)
    await echo.close()

    log(f"--- one-to-one: {MESSAGES} messages from A to B")
    a = await Client.open("/ws/chat/", sessions["a"])
    b = await Client.open("/ws/chat/", sessions["b"])
    await a.subscribe(plan["one"])
    await b.subscribe(plan["one"])
    for n in range(MESSAGES + WARMUP):
        key = f"rt-{n}"
        received = b.expect(("message", key))
        acked = a.expect(("ack", key))
        started = time.perf_counter()
        await a.send(
            {"type": "send", "conversation": plan["one"], "client_msg_id": key, "body": f"Message number {n}"}
        )
        got = await asyncio.wait_for(received, 10)
        ack = await asyncio.wait_for(acked, 10)
        if n >= WARMUP:
            out["one_to_one"].append((got - started) * 1000)
            out["ack"].append((ack - started) * 1000)
    await a.close()
    await b.close()

    log(f"--- fan-out: {FANOUT_MESSAGES} messages to {RECIPIENTS} recipients")
    sender = await Client.open("/ws/chat/", sessions["sender"])
    await sender.subscribe(plan["fan"])
    recipients = [await Client.open("/ws/chat/", key) for key in sessions["recipients"]]
    for client in recipients:
        await client.subscribe(plan["fan"])
    for n in range(FANOUT_MESSAGES + WARMUP // 5):
        key = f"fan-{n}"
        waits = [client.expect(("message", key)) for client in recipients]
        started = time.perf_counter()
        await sender.send(
            {"type": "send", "conversation": plan["fan"], "client_msg_id": key, "body": f"Update {n}"}
        )
        times = await asyncio.wait_for(asyncio.gather(*waits), 30)
        if n >= WARMUP // 5:
            out["fan_all"].append((max(times) - started) * 1000)
            out["fan_each"].extend((t - started) * 1000 for t in times)
    for client in [sender, *recipients]:
        await client.close()
    return out


# --- reporting -------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[index], 2)

    return {
        "n": len(ordered),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(sum(ordered) / len(ordered), 2),
        "max_ms": round(ordered[-1], 2),
    }


def versions() -> dict[str, str]:
    import channels
    import channels_redis
    import redis
    import uvicorn
    import websockets
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")
    return {
        "postgresql": pg,
        "redis": str(info.get("redis_version")),
        "uvicorn": uvicorn.__version__,
        "channels": channels.__version__,
        "channels_redis": channels_redis.__version__,
        "websockets": websockets.__version__,
    }


def wait_for_port(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("uvicorn exited: " + (server.stderr.read().decode() if server.stderr else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not listen on {port}")


def main() -> int:
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    plan = prepare()
    log(f"--- service call in this process: {MESSAGES} sends")
    in_process = service_timings(plan["users"]["a"], plan["local"], MESSAGES)

    log(f"--- uvicorn on 127.0.0.1:{PORT}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.chat:make_application",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ],
        cwd=ROOT,
        env=env(),
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(PORT, server)
        figures = asyncio.run(measure(plan))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    from messaging.models import Message

    stored = {
        "one_to_one": Message.objects.filter(conversation_id=plan["one"]).count(),
        "fan_out": Message.objects.filter(conversation_id=plan["fan"]).count(),
    }
    expected = {"one_to_one": MESSAGES + WARMUP, "fan_out": FANOUT_MESSAGES + WARMUP // 5}
    one_to_one = summary(figures["one_to_one"])
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "server": "uvicorn, 1 process (bench.chat:make_application: the project's ASGI app plus messaging's routes)",
            "channel_layer": "channels_redis.core.RedisChannelLayer",
            "database": "postgresql, CONN_MAX_AGE 600",
            "clients": "python websockets on loopback, one message in flight at a time",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "versions": versions(),
            "warmup_messages": WARMUP,
            "load_average_at_start": load_at_start,
            "notes": [
                "one-to-one: A's send frame -> consumer -> message_send (row lock, insert, commit) -> "
                "Redis group -> B's consumer -> B; B's badge count follows through B's user group",
                "fan-out: every recipient is online, so each message is 100 frames: the message through "
                "the conversation group and an unread-count update through each recipient's own group; "
                "all 51 connections are served by one uvicorn process and the clients share the 2 cores",
            ],
        },
        "floor_echo_consumer": summary(figures["echo"]),
        "one_to_one_round_trip": one_to_one,
        "one_to_one_sender_ack": summary(figures["ack"]),
        "fan_out_50_all_received": summary(figures["fan_all"]),
        "fan_out_50_each_recipient": summary(figures["fan_each"]),
        "service_call_in_process": summary(in_process),
        "messages_stored": stored,
        "messages_expected": expected,
        "target": {"one_to_one_p95_ms": TARGET_P95_MS, "met": one_to_one["p95_ms"] < TARGET_P95_MS},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chat.json").write_text(json.dumps(result, indent=2) + "\n")
    for label in (
        "floor_echo_consumer",
        "one_to_one_round_trip",
        "one_to_one_sender_ack",
        "fan_out_50_all_received",
        "fan_out_50_each_recipient",
        "service_call_in_process",
    ):
        row = result[label]
        log(
            f"{label:<28} p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  p99 {row['p99_ms']:>7} ms  (n={row['n']})"
        )
    log(
        f"stored {stored}, expected {expected}; target p95 < {TARGET_P95_MS} ms met: {result['target']['met']}"
    )
    log(f"written: {RESULTS / 'chat.json'}")
    return 0 if stored == expected else 1


if __name__ == "__main__":
    sys.exit(main())
