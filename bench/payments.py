"""Escrow money movement under concurrent clients, next to PostgreSQL's own TPC-B-like floor.

Run: ``python bench/payments.py`` (``make bench`` runs it too, after bench/run.py's HTTP
figures). Needs PostgreSQL and ``pgbench`` (shipped with PostgreSQL).

What is measured, on PostgreSQL with production settings and the local gateway:

- Seeding: fixed-price contracts made through the real services (a client with a card, a
  published freelancer, a job, an invitation, a direct offer of 20 milestones of $100,
  accepted), as many as the run needs (idempotent: only the missing pending milestones are
  added on a database used before). BENCH_PAYMENTS_DATABASE_URL (default
  postgres://postgres@127.0.0.1:5432/marketplace_bench_payments).
- One cycle = the life of a milestone through ``contracts.escrow``: ``milestone_fund``
  (charge reserved, local gateway charged, settled into escrow with the client fee: two
  transactions and ledger entries), ``milestone_submit`` by the freelancer,
  ``milestone_approve`` by the client (escrow released to the freelancer's pending balance
  minus the service fee). For each level of concurrency (BENCH_PAYMENTS_CLIENTS, default
  8,16) that many processes (each its own database connection, opened before the clock
  starts) run BENCH_PAYMENTS_CYCLES cycles in all (default 480), each on its own contracts
  (one client per contract: what contends is what real clients share, the platform's
  ledger accounts). Figures: cycles/s over the wall time, per-cycle p50/p95 latency,
  errors, SQL queries of one cycle.
- The floor: ``pgbench`` TPC-B-like (``-i -s 10`` into a scratch database,
  BENCH_PGBENCH_DATABASE_URL, default .../marketplace_bench_pgbench), ``-c <same clients>
  -j 4 -T 20`` (BENCH_PGBENCH_SECONDS), right after each level, on the same server. The
  ratio cycles/s / pgbench TPS says how many TPC-B transactions one escrow cycle costs.
- Afterwards ``manage.py ledger_audit`` runs on the benchmark database; its exit code is
  recorded (0: the books balance after all the concurrent cycles).

Side effects (notifications, e-mails) are queued to an in-memory broker and not run: the
figure is what the web side of the three actions costs. Writes bench/results/payments.json
and payments.md.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get(
    "BENCH_PAYMENTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marketplace_bench_payments"
)
PGBENCH_DATABASE_URL = os.environ.get(
    "BENCH_PGBENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marketplace_bench_pgbench"
)
LEVELS = [int(n) for n in os.environ.get("BENCH_PAYMENTS_CLIENTS", "8,16").split(",") if n.strip()]
CYCLES = int(os.environ.get("BENCH_PAYMENTS_CYCLES", "480"))
PGBENCH_SCALE = int(os.environ.get("BENCH_PGBENCH_SCALE", "10"))
PGBENCH_SECONDS = int(os.environ.get("BENCH_PGBENCH_SECONDS", "20"))
PGBENCH_THREADS = 4
MILESTONES_PER_CONTRACT = 20  # the most an offer carries
MILESTONE_CENTS = 10_000
DOMAIN = "@paybench.marketplace.local"
CONTRACT_TITLE = "Payments benchmark contract"


def _environment() -> dict[str, str]:
    """Production settings on the benchmark database; the local gateway; tasks go to an
    in-memory broker (nothing runs them; the figure is the web side)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # in-memory cache and channel layer: no Redis round trips
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "DJANGO_SETTINGS_MODULE": "marketplace.settings.production",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "False",
            "PAYMENTS_GATEWAY": "local",
            "CELERY_BROKER_URL": "memory://localhost/",
            "CELERY_RESULT_BACKEND": "cache+memory://",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    return env


def log(text: str) -> None:
    print(text, flush=True)


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def _create_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    subprocess.run(["psql", _admin_url(url), "-qc", f'CREATE DATABASE "{name}"'], capture_output=True)


def _pgbench_bin() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    if not candidates:
        sys.exit("pgbench is required (it ships with PostgreSQL: apt-get install postgresql-client)")
    return str(candidates[-1])


# --- inside Django -----------------------------------------------------------------------------


def _setup_django() -> None:
    os.environ.update(_environment())
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _make_user(email: str, role: str, first: str, last: str) -> Any:
    from allauth.account.models import EmailAddress

    from accounts import services as accounts
    from accounts.models import User

    user = User.objects.create_user(email=email, password=None)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    accounts.user_complete_signup(user=user, role=role, first_name=first, last_name=last)
    return user


def _seed_contract(index: int) -> None:
    """One fixed-price contract of 20 pending milestones, its client with a card, built
    through the services a real hire goes through."""
    from django.utils import timezone

    from accounts import services as accounts
    from accounts.models import Role, Skill
    from contracts import services as contracts
    from contracts.models import ContractType
    from jobs import services as jobs
    from jobs.models import Job
    from payments import services as payments
    from payments.gateways.base import CardInput

    skill = Skill.objects.select_related("subcategory").order_by("pk").first()
    assert skill is not None, "the taxonomy is loaded by the migrations"
    client = _make_user(f"client{index}{DOMAIN}", Role.CLIENT, "Bench", f"Client {index}")
    freelancer = _make_user(f"freelancer{index}{DOMAIN}", Role.FREELANCER, "Bench", f"Freelancer {index}")
    accounts.freelancer_profile_update(
        actor=freelancer,
        title="Django developer",
        category_id=skill.subcategory.category_id,
        subcategory_id=skill.subcategory_id,
        hourly_rate_cents=5000,
        overview="I build Django applications for small companies. " * 4,
        country="PL",
    )
    accounts.freelancer_profile_set_skills(actor=freelancer, skill_ids=[skill.pk])
    accounts.language_set(actor=freelancer, language="en", proficiency="fluent")
    accounts.freelancer_profile_publish(actor=freelancer)
    job = jobs.job_create(
        actor=client,
        data=jobs.JobInput(
            title=f"Benchmark project {index}",
            description="A fixed-price project paid milestone by milestone, for the benchmark. " * 2,
            category_id=skill.subcategory.category_id,
            subcategory_id=skill.subcategory_id,
            skill_ids=[skill.pk],
            budget_type=Job.BudgetType.FIXED,
            fixed_budget_cents=MILESTONES_PER_CONTRACT * MILESTONE_CENTS,
        ),
    )
    jobs.job_publish(actor=client, job_id=job.pk)
    jobs.invitation_send(
        actor=client, job_id=job.pk, freelancer_id=freelancer.pk, message="Would you take this on?"
    )
    offer = contracts.offer_create(
        actor=client,
        data=contracts.OfferInput(
            title=CONTRACT_TITLE,
            contract_type=ContractType.FIXED,
            start_date=timezone.localdate(),
            freelancer_id=freelancer.pk,
            milestones=[
                contracts.MilestoneInput(description=f"Part {n + 1}", amount_cents=MILESTONE_CENTS)
                for n in range(MILESTONES_PER_CONTRACT)
            ],
            description="Paid milestone by milestone.",
        ),
    )
    contracts.offer_accept(actor=freelancer, offer_id=offer.pk)
    payments.payment_method_add(
        actor=client,
        card=CardInput(
            number="4242424242424242",
            exp_month=12,
            exp_year=(timezone.now() + timedelta(days=800)).year,
            cvc="123",
        ),
    )


@dataclass(frozen=True)
class Step:
    contract_id: int
    milestone_id: int
    client_id: int
    freelancer_id: int


def _pending_by_contract() -> dict[int, list[Step]]:
    from contracts.models import Milestone

    rows = (
        Milestone.objects.filter(contract__title=CONTRACT_TITLE, status=Milestone.Status.PENDING)
        .order_by("contract_id", "pk")
        .values_list("contract_id", "pk", "contract__client_id", "contract__freelancer_id")
    )
    out: dict[int, list[Step]] = {}
    for contract_id, milestone_id, client_id, freelancer_id in rows:
        out.setdefault(contract_id, []).append(Step(contract_id, milestone_id, client_id, freelancer_id))
    return out


def _plan(clients: int, cycles: int, pending: dict[int, list[Step]] | None = None) -> list[list[Step]] | None:
    """Each process's milestones: its own contracts (contract j goes to process j % clients),
    taken round-robin so contracts drain evenly. None when the seed is too small."""
    pending = _pending_by_contract() if pending is None else pending
    per_process = [[] for _ in range(clients)]  # type: list[list[list[Step]]]
    for j, contract_id in enumerate(sorted(pending)):
        per_process[j % clients].append(pending[contract_id])
    quota = math.ceil(cycles / clients)
    plans: list[list[Step]] = []
    for contract_lists in per_process:
        plan: list[Step] = []
        depth = 0
        while len(plan) < quota and any(depth < len(steps) for steps in contract_lists):
            plan.extend(steps[depth] for steps in contract_lists if depth < len(steps))
            depth += 1
        if len(plan) < quota:
            return None
        plans.append(plan[:quota])
    return plans


def _fits(levels: list[int], cycles: int) -> bool:
    """Whether every level gets its plan after the earlier ones (and the query-count cycle)
    took their milestones."""
    pending = {
        k: v[1:] if i == 0 else list(v) for i, (k, v) in enumerate(sorted(_pending_by_contract().items()))
    }
    for clients in levels:
        plans = _plan(clients, cycles, pending)
        if plans is None:
            return False
        taken = {step.milestone_id for plan in plans for step in plan}
        pending = {k: [s for s in v if s.milestone_id not in taken] for k, v in pending.items()}
    return True


def seed(levels: list[int], cycles: int) -> int:
    """Add contracts until every level's plan fits (after the earlier levels took theirs)."""
    from accounts.models import User
    from marketplace.progress import Progress

    made = 0
    while not _fits(levels, cycles):
        pending = sum(len(v) for v in _pending_by_contract().values())
        short = cycles * len(levels) + 1 - pending
        missing = max(math.ceil(short * 1.25 / MILESTONES_PER_CONTRACT), max(levels))
        start = User.objects.filter(email__endswith=DOMAIN, email__startswith="client").count()
        bar = Progress(missing, "seeding contracts")
        for index in range(start, start + missing):
            _seed_contract(index)
            bar.advance()
        bar.finish()
        made += missing
    return made


def _run_cycle(step: Step, client: Any, freelancer: Any) -> None:
    from contracts import escrow

    result = escrow.milestone_fund(
        actor=client, contract_id=step.contract_id, milestone_ids=[step.milestone_id]
    )
    if not result.funded:
        raise RuntimeError(f"milestone {step.milestone_id} not funded: {result}")
    escrow.milestone_submit(
        actor=freelancer, milestone_id=step.milestone_id, message="Delivered, see the notes."
    )
    escrow.milestone_approve(actor=client, milestone_id=step.milestone_id)


def _client_process(plan: list[Step], ready: Any, go: Any, done: Any, out: Any) -> None:
    """One concurrent client: its own connection, opened before the start signal."""
    from django.db import connection

    from accounts.models import User

    try:
        ids = {s.client_id for s in plan} | {s.freelancer_id for s in plan}
        users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
        connection.ensure_connection()
        ready.put(os.getpid())
        go.wait()
        latencies: list[float] = []
        errors: list[str] = []
        for step in plan:
            started = time.perf_counter()
            try:
                _run_cycle(step, users[step.client_id], users[step.freelancer_id])
                latencies.append(time.perf_counter() - started)
            except Exception as error:  # counted and shown in the results
                errors.append(f"{type(error).__name__}: {error}"[:300])
            with done.get_lock():
                done.value += 1
        out.put({"latencies": latencies, "errors": errors})
    except Exception as error:
        out.put({"latencies": [], "errors": [f"process failed: {type(error).__name__}: {error}"]})
    finally:
        connection.close()


def queries_per_cycle() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    step = next(iter(_pending_by_contract().values()))[0]
    client, freelancer = User.objects.get(pk=step.client_id), User.objects.get(pk=step.freelancer_id)
    with CaptureQueriesContext(connection) as captured:
        _run_cycle(step, client, freelancer)
    return len(captured)


def run_level(clients: int, cycles: int) -> dict[str, Any]:
    from django.db import connections

    from marketplace.progress import Progress

    plans = _plan(clients, cycles)
    if plans is None:
        raise RuntimeError("not enough pending milestones: the seed is too small")
    connections.close_all()  # the children must not share the parent's connection
    ctx = multiprocessing.get_context("fork")
    ready, out = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    done = ctx.Value("i", 0)
    processes = [ctx.Process(target=_client_process, args=(plan, ready, go, done, out)) for plan in plans]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    total = sum(len(plan) for plan in plans)
    bar = Progress(total, f"{clients} clients: cycles")
    started = time.perf_counter()
    go.set()
    results: list[dict[str, Any]] = []
    while len(results) < len(processes):
        while not out.empty():
            results.append(out.get())
        if min(total, done.value) > bar.done:
            bar.advance(min(total, done.value) - bar.done)
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    bar.finish()
    for process in processes:
        process.join(timeout=30)
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = [e for r in results for e in r["errors"]]
    ok = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(ok - 1, int(p * ok))] * 1000, 1) if ok else 0.0

    return {
        "clients": clients,
        "cycles": ok,
        "errors": len(errors),
        "error_examples": errors[:5],
        "seconds": round(elapsed, 2),
        "cycles_per_s": round(ok / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if ok else 0.0,
    }


# --- outside Django -------------------------------------------------------------------------------


def pgbench_init(binary: str) -> None:
    _create_database(PGBENCH_DATABASE_URL)
    log(f"--- pgbench -i -s {PGBENCH_SCALE} (scratch database {PGBENCH_DATABASE_URL.rsplit('/', 1)[1]})")
    subprocess.run(
        [binary, "-i", "-s", str(PGBENCH_SCALE), "-q", PGBENCH_DATABASE_URL], check=True, capture_output=True
    )


def pgbench_run(binary: str, clients: int) -> float:
    from marketplace.progress import Progress

    proc = subprocess.Popen(
        [
            binary,
            "-c",
            str(clients),
            "-j",
            str(min(PGBENCH_THREADS, clients)),
            "-T",
            str(PGBENCH_SECONDS),
            PGBENCH_DATABASE_URL,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    bar = Progress(PGBENCH_SECONDS, f"{clients} clients: pgbench")
    while proc.poll() is None:
        time.sleep(1)
        if bar.done < bar.total - 1:
            bar.advance()
    bar.finish()
    stdout, stderr = proc.communicate()
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", stdout) or re.search(
        r"tps = ([\d.]+)", stdout
    )
    if proc.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {stderr[-2000:]}")
    return float(found.group(1))


def ledger_audit() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "manage.py", "ledger_audit", "--no-progress"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    output = (result.stdout + result.stderr).strip()
    return {"exit_code": result.returncode, "output": output[-1500:]}


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    binary = _pgbench_bin()
    _create_database(DATABASE_URL)
    log(f"--- migrate ({DATABASE_URL.rsplit('/', 1)[1]})")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=_environment(), check=True
    )
    _setup_django()
    load_before = os.getloadavg()
    log(
        f"--- seeding: contracts of {MILESTONES_PER_CONTRACT} milestones for {CYCLES} cycles x {LEVELS} clients"
    )
    seeded = seed(LEVELS, CYCLES)
    queries = queries_per_cycle()
    pgbench_init(binary)
    levels = []
    for clients in LEVELS:
        log(f"--- {clients} concurrent clients: {CYCLES} fund -> submit -> approve cycles")
        row = run_level(clients, CYCLES)
        log(f"--- pgbench -c {clients} -j {min(PGBENCH_THREADS, clients)} -T {PGBENCH_SECONDS}")
        row["pgbench_tps"] = round(pgbench_run(binary, clients), 1)
        row["cycles_per_pgbench_tps"] = round(row["cycles_per_s"] / row["pgbench_tps"], 5)
        row["pgbench_transactions_per_cycle"] = round(row["pgbench_tps"] / max(row["cycles_per_s"], 0.001))
        levels.append(row)
    log("--- manage.py ledger_audit")
    audit = ledger_audit()
    load_after = os.getloadavg()
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "postgresql": _server_version(),
            "settings": "marketplace.settings.production, local gateway, tasks to an in-memory broker",
            "cycle": "milestone_fund (local gateway) -> milestone_submit -> milestone_approve",
            "milestone_cents": MILESTONE_CENTS,
            "cycles_per_level": CYCLES,
            "contracts_seeded_this_run": seeded,
            "sql_queries_per_cycle": queries,
            "pgbench": f"-i -s {PGBENCH_SCALE}; -c <clients> -j {PGBENCH_THREADS} -T {PGBENCH_SECONDS}",
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "levels": levels,
        "ledger_audit": audit,
    }
    (RESULTS / "payments.json").write_text(json.dumps(result, indent=2) + "\n")
    s = result["setup"]
    lines = [
        f"Payments benchmark {result['when']}: {s['machine']}; PostgreSQL {s['postgresql']}; {s['settings']}.",
        f"One cycle = {s['cycle']} ({s['sql_queries_per_cycle']} SQL queries); {CYCLES} cycles per level, "
        "each client process on its own contracts. Floor: pgbench TPC-B-like on the same server "
        f"({s['pgbench']}). Load average before/after: {s['load_average_before']} / {s['load_average_after']}.",
        "",
        "| clients | cycles/s | p50 ms | p95 ms | p99 ms | errors | pgbench TPS | cycles/s / pgbench TPS "
        "| pgbench transactions per cycle |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in levels:
        lines.append(
            f"| {row['clients']} | {row['cycles_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"{row['errors']} | "
            f"{row['pgbench_tps']} | {row['cycles_per_pgbench_tps']:.4f} | {row['pgbench_transactions_per_cycle']} |"
        )
    verdict = "clean" if audit["exit_code"] == 0 else "FINDINGS"
    lines += ["", f"`manage.py ledger_audit` afterwards: exit code {audit['exit_code']} ({verdict})."]
    (RESULTS / "payments.md").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))
    if audit["exit_code"] != 0 or any(row["errors"] for row in levels):
        log(audit["output"])
        sys.exit(1)


if __name__ == "__main__":
    main()
