"""A real Celery worker is SIGKILLed in the middle of a Stripe payout: the money still moves
exactly once.

The worker (``celery -A marketplace worker``, a subprocess on a private queue, over Redis)
runs ``payments.process_payout`` against the fake Stripe server on loopback, with the test
database (committed data: ``transaction=True``). The fake holds the worker's
``POST /v1/transfers``; the test kills the worker with SIGKILL while the request is in
flight, then:

- the sweeper runs (with ``now`` past the lease) while the dead worker's request is still
  held by Stripe: Stripe answers 409 ``idempotency_key_in_use``, nothing moves, the payout
  stays processing for the next sweep;
- the held request lands at Stripe (the transfer happens after its client died);
- a new worker starts and gets the unacknowledged message again (``task_acks_late``); the
  refused sweep gave the lease back, so it takes the payout over: the transfer is replayed
  with the same key (no second transfer) and the payout is created at Stripe;
- ``payout.paid`` comes by webhook and the new worker processes it.

The variant ``answer-lost`` kills the worker after Stripe made the transfer, while its
answer is on the way (the ``timeout`` fault): the redelivered task finds the dead worker's
lease and does nothing; the sweeper takes over when the lease has expired.

At the end: one transfer at Stripe (one non-replayed POST for the payout's key), one ledger
entry per step of the payout (requested, paid; no failed/returned), the payout paid, the
audit clean.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from kombu import Exchange
from kombu import Queue as KombuQueue

from marketplace.celery import app as celery_app
from payments import audit, services
from payments.models import JournalEntry, Payout, Transfer, WebhookEvent
from tests.conftest import requires_postgres, requires_redis
from tests.fakes.stripe_server import FakeStripe

from .conftest import deliver, stripe_ready_freelancer

pytestmark = [
    requires_postgres,
    requires_redis,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T], timeout: float = 20.0, *, worker: Worker | None = None) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- {worker.name} worker's log:\n{worker.log()[-4000:]}" if worker else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{tail}")
        time.sleep(0.05)


class Worker:
    """``celery -A marketplace worker`` (solo pool: the process that runs the task is the
    one we kill) on ``queue``, logging to a file."""

    def __init__(self, name: str, queue: str, env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.log_path = directory / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "marketplace",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{name}-{queue}@%h",
                "--pool",
                "solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # cold shutdown: it is idle by now
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Workers on a private queue; ``route_tasks()`` sends this process's tasks there (for
    real, not eagerly) from then on."""

    def __init__(self, queue: str, env: dict[str, str], directory: Path) -> None:
        self.queue, self.env, self.directory = queue, env, directory
        self.started: list[Worker] = []

    def start(self, name: str) -> Worker:
        worker = Worker(name, self.queue, self.env, self.directory)
        self.started.append(worker)
        return worker

    def route_tasks(self) -> None:
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_default_queue = self.queue


@pytest.fixture
def workers(fake_stripe: FakeStripe, tmp_path: Path) -> Iterator[Workers]:
    """Stops the workers left at the end, puts Celery back and empties the queue."""
    queue = f"payout-kill-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.payments.worker_settings",
        "DATABASE_URL": _database_url(),
        "PAYMENTS_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": fake_stripe.api_key,
        "STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
        "STRIPE_API_BASE": fake_stripe.url,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "STRIPE_TIMEOUT_SECONDS": "60",  # the worker waits on the held request until killed
        "PYTHONPATH": str(ROOT),
        "TEST_WORKER_QUEUE": queue,
        "CELERY_SKIP_CHECKS": "1",  # the system checks run elsewhere; they double the start-up time
    }
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    pool = Workers(queue, env, tmp_path)
    try:
        yield pool
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        for worker in pool.started:
            worker.stop()
        # Leave nothing in Redis: the queue (Celery made it with an exchange of its name) and
        # its bindings (deleted through a declared binding, which kombu then knows of).
        with celery_app.connection_for_write() as conn, conn.channel() as channel:
            bound = KombuQueue(queue, Exchange(queue, type="direct"), routing_key=queue)(channel)
            bound.declare()
            bound.purge()
            bound.delete()


def _transfer_posts(fake: FakeStripe, key: str) -> list[Any]:
    with fake.lock:
        return [
            r
            for r in fake.requests
            if r.method == "POST" and r.path == "/v1/transfers" and r.idempotency_key == key
        ]


def _sweep_later() -> int:
    return services.payouts_sweep_stuck(now=timezone.now() + services.PAYOUT_LEASE + timedelta(minutes=1))


@pytest.mark.parametrize("moment", ["in-flight", "answer-lost"])
def test_worker_killed_mid_payout_pays_once(moment, fake_stripe, workers, freelancer, client_user):
    first = workers.start("first")  # starts up while the set-up runs (eagerly, in this process)
    method, amount = stripe_ready_freelancer(fake_stripe, freelancer, client_user)
    workers.route_tasks()
    if moment == "in-flight":
        fake_stripe.fail_next("hang", path="/v1/transfers", delay=30)
    else:
        fake_stripe.fail_next("timeout", path="/v1/transfers", delay=60)

    payout = services.payout_request(actor=freelancer, amount_cents=amount, method_id=method.pk)
    key = f"payout:{payout.pk}:transfer"

    # The first worker took the task and its transfer request reached Stripe.
    wait_for(
        "the worker's transfer request at Stripe", lambda: _transfer_posts(fake_stripe, key), 30, worker=first
    )
    first.kill()
    assert "payments.process_payout" in first.log()
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("processing", 1)
    [transfer] = Transfer.objects.filter(payout=payout)
    assert transfer.status == "reserved"  # the answer never came back
    if moment == "in-flight":
        assert fake_stripe.state.transfers == {}  # Stripe has not made it yet
        # The sweeper comes while Stripe still works on the dead worker's request.
        assert _sweep_later() == 1
        assert [r.status for r in _transfer_posts(fake_stripe, key)] == [0, 409]
        payout.refresh_from_db()
        assert payout.status == "processing" and payout.last_error
        # The held request goes through although its client is gone.
        fake_stripe.release_held()
        wait_for("the held transfer", lambda: fake_stripe.state.transfers, 10)
    assert len(fake_stripe.state.transfers) == 1

    # A new worker gets the unacknowledged task again (acks_late).
    posts_before = len(fake_stripe.requests)
    second = workers.start("second")
    wait_for(
        "the task delivered again to the new worker",
        lambda: "payments.process_payout" in second.log() and "succeeded" in second.log(),
        30,
        worker=second,
    )
    payout.refresh_from_db()
    if moment == "in-flight":
        # The refused sweep gave the lease back: the redelivered task takes the payout over,
        # replays the transfer with the same key and creates the payout at Stripe.
        assert payout.gateway_payout_id and not payout.last_error
        assert _transfer_posts(fake_stripe, key)[-1].replayed
    else:
        # The dead worker's lease still holds: the redelivered task leaves the payout alone
        # (nothing sent to Stripe); the sweeper takes over once the lease has expired and
        # replays the transfer with the same key.
        assert len(fake_stripe.requests) == posts_before
        assert payout.status == "processing" and not payout.gateway_payout_id
        assert _sweep_later() == 1
        payout.refresh_from_db()
        assert _transfer_posts(fake_stripe, key)[-1].replayed
    assert payout.status == "processing" and payout.gateway_payout_id and not payout.last_error
    transfer.refresh_from_db()
    assert transfer.status == "succeeded"
    [made] = fake_stripe.state.transfers.values()
    assert transfer.gateway_transfer_id == made["id"] == payout.gateway_transfer_id
    assert made["amount"] == amount and made["destination"] == method.gateway_account_id

    # The bank pays; the webhook's processing task runs on the new worker.
    event = fake_stripe.settle_payout(payout.gateway_payout_id, "paid")
    assert deliver(Client(), fake_stripe, event).status_code == 200
    wait_for(
        "the payout.paid webhook processed by the worker",
        lambda: WebhookEvent.objects.filter(event_id=event["id"], processed_at__isnull=False).exists(),
        20,
        worker=second,
    )
    payout.refresh_from_db()
    assert payout.status == "paid"

    # Exactly one transfer at Stripe, made by one request (the others were refused or replayed).
    posts = _transfer_posts(fake_stripe, key)
    assert len([r for r in posts if r.status == 200 and not r.replayed]) == 1
    assert len(fake_stripe.state.transfers) == 1 and len(fake_stripe.state.payouts) == 1
    assert {r.idempotency_key for r in fake_stripe.requests if r.path == "/v1/transfers"} == {key}
    assert Transfer.objects.filter(payout=payout).count() == 1
    # The ledger: withdrawal requested once, paid once, never failed or returned.
    keys = sorted(
        JournalEntry.objects.filter(idempotency_key__startswith=f"payout:{payout.pk}:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == [f"payout:{payout.pk}:paid", f"payout:{payout.pk}:requested"]
    assert Payout.objects.get(pk=payout.pk).attempts >= 2
    assert audit.run_checks() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
