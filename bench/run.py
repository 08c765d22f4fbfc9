"""`make bench`: seed the large data set, serve it as deployed (gunicorn with
deploy/gunicorn.conf.py), load it with wrk.

Every figure sits next to floors measured in the same run: a bare Django view returning a
small JSON (the framework's ceiling on this machine) and the raw SQL of the search (the
database's). Results: bench/results/latest.json and latest.md (plus matching.json from
bench/matching.py when it has been run).

The same run measures the owners' list pages (bench/seed_large.py seed_histories: the bench
client's job with 500 proposals, "My jobs", a contract with a long history; the bench
freelancer's contracts, notifications and inbox; the service catalog and a busy forum
board), then runs bench/chat.py (websocket round trips next to a bare echo consumer),
bench/payments.py (escrow cycles under 8 and 16 concurrent clients next to pgbench) and
bench/matching_refresh.py (the nightly matching refresh from a sample, next to the
prefilter alone and PostgreSQL's plain INSERT), with sizes that keep the whole run short
(BENCH_CHAT_MESSAGES, BENCH_PAYMENTS_CYCLES, BENCH_MATCHING_SAMPLE), and folds their
headline figures into the one latest.json and latest.md table: every row next to the floor
it is compared with, measured in the same run.

Needs PostgreSQL (DATABASE_URL; default postgres://postgres@127.0.0.1:5432/marketplace_bench)
and `wrk` (Debian package; installed when missing and possible). With REDIS_URL the cache is
Redis, as deployed (without it, each gunicorn worker has its own in-memory cache: the JSON
says which). Sizes: BENCH_JOBS (100,000),
BENCH_FREELANCERS (20,000), BENCH_CLIENTS (5,000); load: BENCH_DURATION (10s),
BENCH_CONNECTIONS (16); BENCH_ONLY=search,feed runs only the bare-view floor and the rows
whose label has one of those words (chat, money and matching run their scripts only when
one of their rows is asked for).

Cached and uncached figures: the search pages, the search API and the anonymous job page
are cached for a minute per URL and jobs generation (jobs/cache.py), so a target that asks
for one URL over and over measures the cache (after its first request). The "long tail"
targets ask for a different URL on every request (keyword x filters x order x age, or a
job of 20,000; no URL twice in a run, see ``long_tail_script``), so every request misses the
response cache and pays for the search, the rendering and the cache's mark of a first
request (jobs/cache.py): they measure the uncached path. Each is warmed for a few seconds
first on URLs the timed run does not ask for, as a worker of a long run is warm (the
keywords' lexemes, the jobs' card markup). The cached search rows
are anonymous visitors (whole responses from the cache); "logged in" shows the same search
for the benchmark freelancer (results from the cache, the viewer's parts rendered).
"""

from __future__ import annotations

import json
import os
import platform
import re
import runpy
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SIZES = {
    "jobs": int(os.environ.get("BENCH_JOBS", "100000")),
    "freelancers": int(os.environ.get("BENCH_FREELANCERS", "20000")),
    "clients": int(os.environ.get("BENCH_CLIENTS", "5000")),
}


def _server_description() -> str:
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    return f"deploy/gunicorn.conf.py: {conf['workers']} {conf['worker_class']} workers x {conf['threads']} threads"


SERVER = _server_description()


def log(text: str) -> None:
    print(text, flush=True)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk not found: installing Debian's wrk package")
    cmd = ["apt-get", "install", "-y", "-qq", "wrk"]
    if os.geteuid() != 0:
        cmd.insert(0, "sudo")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or sys.exit("wrk is required for make bench")


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marketplace_bench")
    e["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"
    e.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    e["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    e["SECURE_SSL_REDIRECT"] = "False"
    e["LOG_LEVEL"] = "WARNING"
    e["PYTHONPATH"] = str(ROOT)
    return e


def django_py(code: str) -> str:
    """Run ``code`` inside Django (production settings) and return its last stdout line."""
    result = subprocess.run(
        [sys.executable, "-c", "import django;django.setup()\n" + code],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def ensure_database() -> None:
    url = env()["DATABASE_URL"]
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], capture_output=True)


def seed() -> dict:
    log("--- migrate, collectstatic")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env(), check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env(), check=True
    )
    log(f"--- seeding {SIZES} with bulk inserts (idempotent)")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django;django.setup();import sys;sys.path.insert(0,'bench');"
            "from seed_large import seed_large;"
            f"print(seed_large(jobs={SIZES['jobs']}, freelancers={SIZES['freelancers']}, clients={SIZES['clients']}))",
        ],
        cwd=ROOT,
        env=env(),
        check=True,
    )
    # The seed rewrites every job's search vector (one UPDATE of 100,000 rows) on every run,
    # and autovacuum is off on the development machines: without a VACUUM the dead rows
    # pile up run after run (jobs_job grew from 367 MB to 800 MB in three runs, the search
    # indexes five-fold) and the figures drift. Measure a vacuumed, analysed database.
    log("--- vacuum, analyze")
    django_py("from django.db import connection\nconnection.cursor().execute('VACUUM (ANALYZE)')")
    log("--- the owners' histories (proposals, contracts, messages, notifications, services, forum)")
    history = json.loads(
        django_py(
            "import json,sys;sys.path.insert(0,'bench')\nfrom seed_large import seed_histories\nprint(json.dumps(seed_histories()))"
        )
    )
    # A freelancer to browse as: matches materialised, a session for wrk's Cookie header.
    out = django_py(
        "import json\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY\n"
        "from accounts.models import FreelancerProfile, User\n"
        "def session(user):\n"
        "    s = SessionStore(); s[SESSION_KEY] = str(user.pk)\n"
        "    s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    s[HASH_SESSION_KEY] = user.get_session_auth_hash(); s.create(); return s.session_key\n"
        "from jobs.models import Job\n"
        "from jobs import matching\n"
        "p = FreelancerProfile.objects.filter(user__email__endswith='@bench.marketplace.local').order_by('pk').first()\n"
        "n = matching.refresh_for_freelancer(profile_id=p.pk)\n"
        "s = SessionStore(); s[SESSION_KEY] = str(p.user.pk);"
        "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend';"
        "s[HASH_SESSION_KEY] = p.user.get_session_auth_hash(); s.create()\n"
        "job = Job.objects.filter(status='open').order_by('-published_at').first()\n"
        "jobs = list(Job.objects.filter(status='open', visibility='public').order_by('?')"
        ".values_list('public_id', flat=True)[:20000])\n"
        "from accounts.models import Skill\n"
        "words = sorted({w for n in Skill.objects.values_list('name', flat=True) for w in n.lower().split()"
        " if w.isalpha() and len(w) >= 3})\n"
        "from django.db import connection\n"
        "connection.cursor().execute('ANALYZE jobs_jobmatch')  # autovacuum is off here\n"
        f"client_session = session(User.objects.get(pk={history['client']}))\n"
        "print(json.dumps({'session': s.session_key, 'client_session': client_session, 'matches': n,"
        " 'job': job.public_id, 'freelancer': p.public_id, 'jobs': jobs, 'words': words}))"
    )
    return {**json.loads(out), "history": history}


# The CSRF cookie a signed-in browser sends along with its session after its first page:
# without it, every request would make a new CSRF secret and set the cookie again, which
# no browser asks for (one secret per run, as one browser keeps one).
CSRF_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def cookie_header(session: str) -> str:
    """wrk's Cookie header for a signed-in browser: its session and its CSRF cookie."""
    return f"Cookie: sessionid={session}; csrftoken={CSRF_SECRET}"


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port}")


LONG_TAIL_FILTERS = [
    f"{budget}{level}{order}{posted}"
    for budget in ("", "&budget_type=fixed", "&budget_type=hourly")
    for level in ("", "&experience_level=entry", "&experience_level=intermediate", "&experience_level=expert")
    for order in ("", "&sort=newest")
    for posted in ("", "&posted_within=30d")
]
LONG_TAIL_WARMUP = "3s"  # before each long tail, on URLs of its own (see long_tail_script)


def wait_for_search_index(port: int, timeout: float = 180) -> str:
    """Wait until every gunicorn worker says its job search index is built (each builds its
    own as it starts; until then PostgreSQL answers). Asks /healthz/ on fresh connections
    until 20 answers in a row say ``ready`` (the workers take turns accepting)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    started = time.monotonic()
    in_a_row = 0
    state = "unknown"
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=10) as response:
            state = json.loads(response.read()).get("search_index", "off")
        if state == "off":
            return "off"
        in_a_row = in_a_row + 1 if state == "ready" else 0
        if in_a_row >= 20:
            log(f"    search index ready in every worker after {time.monotonic() - started:.1f} s")
            return "ready"
        time.sleep(0.05 if state == "ready" else 0.5)
    raise SystemExit(f"the search index was not ready after {timeout:.0f} s (last: {state})")


def long_tail_script(name: str, paths: list[str], suffixes: list[str] | None = None) -> Path:
    """A wrk script asking for a different one of ``paths`` x ``suffixes`` on every request:
    each wrk thread takes its own share of the URLs (every n-th of them) in its own fixed
    random order, and no URL is asked twice in a run unless a thread runs out of its share
    (counted and reported as ``REPEATS``, then starting over). Script arguments: ``warm`` or
    ``timed`` (the first or the second half of each thread's order, so the warm-up and the
    timed run never share a URL) and the number of wrk threads."""
    urls = [path + tail for path in paths for tail in (suffixes or [""])]
    if len(set(urls)) != len(urls):  # a URL listed twice would be a cache hit in a "miss" run
        raise ValueError(f"{name}: {len(urls) - len(set(urls))} URLs listed twice")
    quoted = ",".join(json.dumps(p) for p in paths)
    tails = ",".join(json.dumps(t) for t in (suffixes or [""]))
    script = RESULTS / f"{name}.lua"
    script.write_text(
        "-- generated by bench/run.py: a different URL on every request (cache misses)\n"
        f"local paths = {{{quoted}}}\n"
        f"local tails = {{{tails}}}\n"
        "local threads = {}\n"
        "setup = function(thread)\n"
        "  table.insert(threads, thread)\n"
        "  thread:set('id', #threads)\n"
        "end\n"
        "init = function(args)\n"
        "  local nthreads = tonumber(args[2] or '1')\n"
        "  local all = {}\n"
        "  for i = id - 1, #paths * #tails - 1, nthreads do table.insert(all, i) end\n"
        "  math.randomseed(7919 * id)\n"
        "  for i = #all, 2, -1 do local j = math.random(i); all[i], all[j] = all[j], all[i] end\n"
        "  local half = math.floor(#all / 2)\n"
        "  mine = {}\n"
        "  local from = (args[1] == 'timed') and half + 1 or 1\n"
        "  local to = (args[1] == 'timed') and #all or half\n"
        "  for i = from, to do table.insert(mine, all[i]) end\n"
        "  asked = 0\n"
        "  repeats = 0\n"
        "end\n"
        "request = function()\n"
        "  asked = asked + 1\n"
        "  if asked > #mine then repeats = repeats + 1 end\n"
        "  local i = mine[((asked - 1) % #mine) + 1]\n"
        "  local path = paths[math.floor(i / #tails) + 1] .. tails[(i % #tails) + 1]\n"
        "  return wrk.format('GET', path)\n"
        "end\n"
        "report_extra = function()\n"
        "  local total = 0\n"
        "  for _, thread in ipairs(threads) do total = total + (thread:get('repeats') or 0) end\n"
        "  io.write(string.format('REPEATS %d\\n', total))\n"
        "end\n" + (ROOT / "bench" / "latency.lua").read_text()
    )
    return script


def server_cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) used so far by process ``pid`` and its children (the
    gunicorn master and its workers), from /proc; 0.0 where there is no /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # after the command's name, in parentheses: state, ppid, ... utime (14th), stime
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # a process that ended meanwhile
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def wrk(
    wrk_bin: str,
    path: str,
    cookie: str | None,
    script: Path | None = None,
    part: str = "timed",
    duration: str = DURATION,
    server_pid: int | None = None,
) -> dict:
    """One wrk run (2 threads, CONNECTIONS connections) and its figures. ``part``: which
    half of a long-tail script's URLs to ask for (``long_tail_script``). ``server_pid``: the
    server's master process, whose CPU time (its workers' included) per request is then
    part of the figures: what a request costs the web server, whatever else shares the
    machine's cores (wrk, Redis, PostgreSQL)."""
    lua = script or ROOT / "bench" / "latency.lua"
    # a 10 s timeout: the slowest pages take more than wrk's default 2 s under this load, and
    # a timeout is counted as an error and left out of the percentiles
    cmd = [wrk_bin, "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--timeout", "10s", "-s", str(lua)]
    if cookie:
        cmd += ["-H", cookie_header(cookie)]
    cpu_before = server_cpu_seconds(server_pid) if server_pid else None
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{PORT}{path}", "--", part, "2"], capture_output=True, text=True, check=True
    ).stdout
    cpu = server_cpu_seconds(server_pid) - cpu_before if server_pid and cpu_before is not None else None
    values = dict(re.findall(r"^([A-Z0-9_]+) (\d+)$", out, flags=re.M))
    reqs, micros = int(values["REQS"]), int(values["DURATION_US"])
    return {
        **({"server_cpu_ms": round(cpu * 1000 / reqs, 3)} if cpu is not None and reqs else {}),
        "path": path,
        "requests_per_s": round(reqs / (micros / 1e6), 1),
        "p50_ms": round(int(values["P50_US"]) / 1000, 2),
        "p95_ms": round(int(values["P95_US"]) / 1000, 2),
        "p99_ms": round(int(values["P99_US"]) / 1000, 2),
        "non_2xx": int(values["NON2XX"]),
        "socket_errors": int(values["SOCKET_ERRORS"]),
        **({"repeated_urls": int(values["REPEATS"])} if "REPEATS" in values else {}),
    }


def sql_floor() -> dict:
    """The search's own SQL timed in-process: what the database alone costs per page."""
    return json.loads(
        django_py(
            "import json, time\n"
            "from django.db import connection\n"
            "from jobs.selectors import job_search\n"
            "out = {}\n"
            "for label, params in [('keyword', {'q': 'python'}), ('newest', {'sort': 'newest'})]:\n"
            "    page = job_search(params=params, viewer=None)\n"
            "    qs = getattr(page, 'queryset', page)\n"
            "    sql, args = qs[:20].query.sql_with_params() if hasattr(qs, 'query') else (None, None)\n"
            "    if sql is None: continue\n"
            "    with connection.cursor() as c:\n"
            "        for _ in range(5): c.execute(sql, args); c.fetchall()\n"
            "        t = time.perf_counter()\n"
            "        for _ in range(50): c.execute(sql, args); c.fetchall()\n"
            "        out[label + '_ms'] = round((time.perf_counter() - t) / 50 * 1000, 3)\n"
            "print(json.dumps(out))"
        )
        or "{}"
    )


def query_counts(paths: list[tuple[str, str | None]]) -> list[dict]:
    """SQL queries of one request to each (path, session key), a miss then a hit."""
    code = (
        "import json\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "from django.db import connection\n"
        "try:\n"
        "    from jobs.cache import bump_generation\n"
        "except ImportError:  # code without the jobs cache\n"
        "    bump_generation = lambda: None\n"
        "out = []\n"
        f"for path, cookie in {paths!r}:\n"
        "    c = Client(HTTP_HOST='127.0.0.1')\n"
        "    if cookie: c.cookies['sessionid'] = cookie\n"
        "    bump_generation()  # a miss first, then a hit\n"
        "    counts = []\n"
        "    for _ in range(2):\n"
        "        with CaptureQueriesContext(connection) as q:\n"
        "            r = c.get(path, secure=True)\n"
        "        counts.append(len(q))\n"
        "    out.append({'status': r.status_code, 'queries': counts[0], 'queries_cached': counts[1]})\n"
        "print(json.dumps(out))"
    )
    return json.loads(django_py(code))


# the words of the rows each other script adds (BENCH_ONLY=chat runs chat.py, and so on)
SCRIPT_LABELS = {
    "chat": "chat: websocket round trip, fan-out, message_send",
    "payments": "money: escrow cycle payments pgbench",
    "matching_refresh": "matching refresh: prefilter scoring writing",
}


def wanted(label: str, only: list[str]) -> bool:
    """BENCH_ONLY: the floors always, other rows when their label has one of the words."""
    return not only or label.startswith("floor") or any(word in label for word in only)


def http_targets(ctx: dict) -> list[tuple[str, str, str | None]]:
    """(label, path, who): who is None (a visitor), "freelancer" or "client" (the bench
    freelancer0 and client0, the owners of the seeded histories)."""
    h = ctx["history"]
    return [
        ("floor: bare view", "/bench/bare/", None),
        ("search page: keyword (cached)", "/jobs/search/?q=python", None),
        (
            "search page: keyword + filters (cached)",
            "/jobs/search/?q=design&budget_type=fixed&experience_level=expert",
            None,
        ),
        ("search page: newest first (cached)", "/jobs/search/?sort=newest", None),
        ("search API: keyword (cached)", "/api/v1/jobs/?q=python", None),
        ("search API: newest first (cached)", "/api/v1/jobs/?sort=newest", None),
        ("search page: keyword, logged in (cached results)", "/jobs/search/?q=python", "freelancer"),
        ("job detail (cached)", f"/jobs/{ctx['job']}/", None),
        ("matches feed", "/jobs/feed/", "freelancer"),
        ("freelancer profile", f"/freelancers/{ctx['freelancer']}/", None),
        (
            f"proposals for a job, client ({h['big_job_proposals']} proposals)",
            f"/jobs/{h['big_job']}/proposals/",
            "client",
        ),
        (
            f"proposals API for a job, client ({h['big_job_proposals']} proposals)",
            f"/api/v1/jobs/{h['big_job']}/proposals/",
            "client",
        ),
        (
            f"contract page, client ({h['long_contract_milestones']} milestones, "
            f"{h['long_contract_events']} events, {h['long_contract_messages']} messages)",
            f"/contracts/{h['long_contract']}/",
            "client",
        ),
        ("my jobs list, client", "/jobs/mine/", "client"),
        ("contracts list, freelancer", "/contracts/", "freelancer"),
        ("contracts list API, freelancer", "/api/v1/contracts/", "freelancer"),
        ("notifications list, freelancer", "/notifications/", "freelancer"),
        ("inbox (conversations list), freelancer", "/messages/", "freelancer"),
        ("service catalog list", "/services/", None),
        ("forum board thread list", f"/community/boards/{h['board']}/", None),
    ]


def run_script(name: str, args: list[str], extra_env: dict[str, str]) -> bool:
    """Run one of the other benchmark scripts with this run's database server; False (and
    the row left out) when it fails, so that one broken part does not lose the rest."""
    log(f"--- {name}")
    base = env()["DATABASE_URL"]
    child = dict(os.environ)
    child.update(extra_env)
    if base.startswith("postgres"):  # the other scripts' databases beside this run's
        child.setdefault("BENCH_CHAT_DATABASE_URL", base + "_chat")
        child.setdefault("BENCH_PAYMENTS_DATABASE_URL", base + "_payments")
        child.setdefault("BENCH_PGBENCH_DATABASE_URL", base + "_pgbench")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], cwd=ROOT, env=child)
    if result.returncode != 0:
        log(f"!!! {name} exited with {result.returncode}: its rows are left out")
    return result.returncode == 0


def _read(name: str) -> dict:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else {}


def chat_rows() -> list[dict]:
    """bench/chat.py: messages go one at a time, so throughput is 1000 / mean ms."""
    data = _read("chat.json")
    if not data:
        return []
    floor = data["floor_echo_consumer"]

    def row(label: str, part: dict, floor_row: dict | None) -> dict:
        rate = round(1000 / part["mean_ms"], 1) if part["mean_ms"] else 0.0
        floor_rate = round(1000 / floor_row["mean_ms"], 1) if floor_row and floor_row["mean_ms"] else None
        return {
            "label": label,
            "group": "chat",
            "throughput": rate,
            "unit": "msg/s",
            "floor": "websocket echo" if floor_row else None,
            "floor_throughput": floor_rate,
            "share_of_floor": round(rate / floor_rate, 3) if floor_rate else None,
            "p50_ms": part["p50_ms"],
            "p95_ms": part["p95_ms"],
            "p99_ms": part["p99_ms"],
            "sql_queries": None,
            "errors": 0,
            "n": part["n"],
        }

    stored = data["messages_stored"] == data["messages_expected"]
    rows = [
        row("floor: websocket echo (bare consumer, no database)", floor, None),
        row(
            "chat: one-to-one round trip, A sends to B (websocket, PostgreSQL, Redis)",
            data["one_to_one_round_trip"],
            floor,
        ),
        row("chat: fan-out, 50 recipients all received", data["fan_out_50_all_received"], floor),
        row("chat: message_send service call in process", data["service_call_in_process"], floor),
    ]
    for r in rows[1:3]:
        r["errors"] = 0 if stored else 1
    return rows


def payments_rows() -> list[dict]:
    data = _read("payments.json")
    rows: list[dict] = []
    for level in data.get("levels", []):
        clients = level["clients"]
        rows.append(
            {
                "label": f"floor: pgbench TPC-B-like, {clients} clients",
                "group": "money",
                "throughput": level["pgbench_tps"],
                "unit": "TPS",
                "floor": None,
                "p50_ms": None,
                "p95_ms": None,
                "p99_ms": None,
                "sql_queries": None,
                "errors": 0,
            }
        )
        rows.append(
            {
                "label": f"money: escrow cycle (fund, submit, approve), {clients} concurrent clients",
                "group": "money",
                "throughput": level["cycles_per_s"],
                "unit": "cycles/s",
                "floor": f"pgbench {clients} clients",
                "floor_throughput": level["pgbench_tps"],
                "floor_unit": "TPS",
                "share_of_floor": level["cycles_per_pgbench_tps"],
                "p50_ms": level["p50_ms"],
                "p95_ms": level["p95_ms"],
                "p99_ms": level.get("p99_ms"),
                "sql_queries": data["setup"]["sql_queries_per_cycle"],
                "errors": level["errors"],
                "ledger_audit_exit_code": data["ledger_audit"]["exit_code"],
            }
        )
    return rows


def matching_rows() -> list[dict]:
    data = _read("matching_refresh.json")
    if not data or "per_freelancer" not in data:
        return []
    scoring, floor = data["per_freelancer"]["scoring"], data["per_freelancer"]["floor_prefilter_only"]
    floors = data["floors"]
    sample = data["sample_freelancers"]
    return [
        {
            "label": f"floor: matching prefilter only, per freelancer ({data['open_jobs']:,} open jobs)",
            "group": "matching",
            "throughput": floor["per_s"],
            "unit": "freelancers/s",
            "floor": None,
            "p50_ms": floor["p50_ms"],
            "p95_ms": floor["p95_ms"],
            "p99_ms": floor["p99_ms"],
            "sql_queries": None,
            "errors": 0,
        },
        {
            "label": f"matching refresh: prefilter + scoring, per freelancer (sample of {sample})",
            "group": "matching",
            "throughput": scoring["per_s"],
            "unit": "freelancers/s",
            "floor": "prefilter only",
            "floor_throughput": floor["per_s"],
            "share_of_floor": round(scoring["per_s"] / floor["per_s"], 3) if floor["per_s"] else None,
            "p50_ms": scoring["p50_ms"],
            "p95_ms": scoring["p95_ms"],
            "p99_ms": scoring["p99_ms"],
            "sql_queries": None,
            "errors": 0,
        },
        {
            "label": "floor: PostgreSQL plain INSERT into a temporary table",
            "group": "matching",
            "throughput": floors["insert_floor_rows_per_s"],
            "unit": "rows/s",
            "floor": None,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "sql_queries": None,
            "errors": 0,
        },
        {
            "label": f"matching refresh: writing the sample's {data['sample_rows']:,} rows (upsert)",
            "group": "matching",
            "throughput": floors["write_rows_per_s"],
            "unit": "rows/s",
            "floor": "plain INSERT",
            "floor_throughput": floors["insert_floor_rows_per_s"],
            "share_of_floor": round(floors["write_rows_per_s"] / floors["insert_floor_rows_per_s"], 3)
            if floors["insert_floor_rows_per_s"]
            else None,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "sql_queries": None,
            "errors": 0,
        },
    ]


def _cell(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def markdown(result: dict) -> str:
    s = result["setup"]
    lines = [
        f"Benchmark {result['when']}: {s['machine']}; {s['server']}; cache {s['cache']}; {s['load']}; "
        f"{s['database']} with {s['jobs']:,} jobs, {s['freelancers']:,} freelancers, {s['clients']:,} clients; "
        f"load average {s['load_average_start']} at the start, {s['load_average_end']} at the end.",
        "",
        "Every row is next to the floor it is compared with, measured in the same run (the floor rows "
        "themselves have no share). HTTP rows: wrk as described, shares of the higher of the two "
        "bare-view measurements (start and end of the run); (cached): one URL over and over, served "
        "from the cache after its first request; (uncached): a different URL on every request; "
        "client/freelancer: logged in as the owner of the seeded history. Server CPU: the gunicorn "
        "master's and workers' CPU time over the timed run, per request (what a request costs the web "
        "server; wrk, Redis and PostgreSQL share the same 2 cores). SQL queries: one request "
        "after the load, uncached / cached where they differ. Chat: one message in flight at a time "
        "(msg/s = 1000 / mean ms), against a bare echo consumer. Money: concurrent escrow cycles "
        "against pgbench with as many clients (SQL queries: one whole cycle). Matching: the nightly "
        "refresh's work per freelancer against its prefilter alone, its writing against a plain INSERT.",
        "",
        "| target | throughput | floor (same run) | share of floor | p50 ms | p95 ms | p99 ms | server CPU ms/req | SQL queries | errors |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        digits = 1 if row["throughput"] < 100 else 0
        queries = _cell(row.get("sql_queries"))
        if row.get("sql_queries_cached") not in (None, row.get("sql_queries")):
            queries += f" / {row['sql_queries_cached']}"
        floor = "-"
        if row.get("floor"):
            floor_digits = 1 if (row.get("floor_throughput") or 0) < 100 else 0
            unit = row.get("floor_unit", row["unit"])
            floor = f"{row['floor']} {_cell(row.get('floor_throughput'), floor_digits)} {unit}"
        share = "-" if row.get("share_of_floor") is None else f"{row['share_of_floor']:.1%}"
        if row.get("share_of_floor") is not None and row["share_of_floor"] >= 0.1:
            share = f"{row['share_of_floor']:.0%}"
        lines.append(
            f"| {row['label']} | {_cell(row['throughput'], digits)} {row['unit']} | {floor} | {share} | "
            f"{_cell(row.get('p50_ms'), 1)} | {_cell(row.get('p95_ms'), 1)} | {_cell(row.get('p99_ms'), 1)} | "
            f"{_cell(row.get('server_cpu_ms'), 2)} | {queries} | {row['errors']} |"
        )
    tails = [row for row in result["rows"] if "repeated_urls" in row]
    if tails:
        lines += [
            "",
            f"Long tails: each after a {LONG_TAIL_WARMUP} warm-up on other URLs (as a worker of a long run "
            "is warm: the keywords' lexemes, the jobs' card markup); URLs asked twice in the timed run: "
            + ", ".join(f"{row['label'].split(':')[0]} {row['repeated_urls']}" for row in tails)
            + " (0: every request missed the response cache).",
        ]
    floor_sql = result["sql_floor"]
    if floor_sql:
        lines += [
            "",
            "SQL floor (the search selector's SQL alone, in-process): "
            + ", ".join(f"{k.removesuffix('_ms')} {v} ms" for k, v in floor_sql.items()),
        ]
    money = [r for r in result["rows"] if "ledger_audit_exit_code" in r]
    if money:
        code = money[0]["ledger_audit_exit_code"]
        lines += [
            "",
            f"`manage.py ledger_audit` after the escrow cycles: exit code {code} ({'clean' if code == 0 else 'FINDINGS'}).",
        ]
    refresh = result.get("matching_refresh", {}).get("extrapolated_one_process_run")
    if refresh:
        lines += [
            "",
            f"Matching refresh extrapolated to every freelancer in one process: {refresh['total_min']} min "
            f"({refresh['scoring_min']} of scoring, {refresh['writing_min']} of writing {refresh['rows']:,} rows).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_start = [round(x, 2) for x in os.getloadavg()]
    wrk_bin = ensure_wrk()
    ensure_database()
    ctx = seed()
    only = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
    targets = [t for t in http_targets(ctx) if wanted(t[0], only)]
    sessions = {None: None, "freelancer": ctx["session"], "client": ctx["client_session"]}
    keywords = [f"?q={word}" for word in ctx["words"]]
    long_tail = [
        (
            f"search page: long tail, {len(keywords)} keywords x {len(LONG_TAIL_FILTERS)} filters (uncached)",
            "/jobs/search/?q=<random>",
            long_tail_script("search_long_tail", [f"/jobs/search/{k}" for k in keywords], LONG_TAIL_FILTERS),
        ),
        (
            f"search API: long tail, {len(keywords)} keywords x {len(LONG_TAIL_FILTERS)} filters (uncached)",
            "/api/v1/jobs/?q=<random>",
            long_tail_script("api_long_tail", [f"/api/v1/jobs/{k}" for k in keywords], LONG_TAIL_FILTERS),
        ),
        (
            f"job detail: long tail, {len(ctx['jobs']):,} jobs (uncached)",
            "/jobs/<random>/",
            long_tail_script("detail_long_tail", [f"/jobs/{public_id}/" for public_id in ctx["jobs"]]),
        ),
    ]
    long_tail = [t for t in long_tail if wanted(t[0], only)]
    log(f"--- serving with gunicorn ({SERVER}) on 127.0.0.1:{PORT}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "marketplace.wsgi:application",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env(),
    )
    rows = []
    search_index_state = "unknown"
    try:
        wait_for_port(PORT)
        search_index_state = wait_for_search_index(PORT)
        for label, path, who in targets:
            log(f"--- wrk {DURATION} x {CONNECTIONS} connections: {label}")
            cookie = sessions[who]
            subprocess.run(
                [
                    wrk_bin,
                    "-t1",
                    "-c2",
                    "-d2s",
                    f"http://127.0.0.1:{PORT}{path}",
                    *(["-H", cookie_header(cookie)] if cookie else []),
                ],
                capture_output=True,
                check=True,
            )  # warm-up
            rows.append({"label": label, "who": who, **wrk(wrk_bin, path, cookie, server_pid=server.pid)})
        for label, path, script in long_tail:
            # warmed as a worker of a long run is (the keywords' lexemes, the jobs' card
            # markup, connections) on the other half of the URLs: the timed run asks for
            # none of them, so every one of its requests still misses the response cache
            log(f"--- wrk {LONG_TAIL_WARMUP} (warm-up, other URLs), then {DURATION} x {CONNECTIONS}: {label}")
            wrk(wrk_bin, path, None, script, part="warm", duration=LONG_TAIL_WARMUP)
            rows.append(
                {"label": label, "who": None, **wrk(wrk_bin, path, None, script, server_pid=server.pid)}
            )
        # the floor again: on a machine shared with other work one measurement can land in a
        # busy moment; shares are taken of the higher of the two (the conservative choice)
        log(f"--- wrk {DURATION} x {CONNECTIONS} connections: floor again")
        rows.append(
            {
                "label": "floor: bare view (again, at the end)",
                "who": None,
                **wrk(wrk_bin, "/bench/bare/", None, server_pid=server.pid),
            }
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    floor = max(rows[0]["requests_per_s"], rows[-1]["requests_per_s"])
    for row in rows:
        row["share_of_floor"] = round(row["requests_per_s"] / floor, 3) if floor else None
    measured = [(row["path"], sessions[row["who"]]) for row in rows[1:-1] if "<random>" not in row["path"]]
    counts = iter(query_counts(measured))
    for row in rows[1:-1]:
        found = next(counts) if "<random>" not in row["path"] else {}  # nothing for the long tails
        row["sql_queries"] = found.get("queries")
        row["sql_queries_cached"] = found.get("queries_cached")
    http_floor_sql = sql_floor()

    # the other benchmarks, each with its own floor, on the same database server
    scripts = [
        (
            "chat",
            "chat.py",
            [],
            {
                "BENCH_CHAT_MESSAGES": os.environ.get("BENCH_CHAT_MESSAGES", "400"),
                "BENCH_CHAT_FANOUT": os.environ.get("BENCH_CHAT_FANOUT", "80"),
            },
        ),
        (
            "payments",
            "payments.py",
            [],
            {
                "BENCH_PAYMENTS_CYCLES": os.environ.get("BENCH_PAYMENTS_CYCLES", "320"),
                "BENCH_PGBENCH_SECONDS": os.environ.get("BENCH_PGBENCH_SECONDS", "15"),
            },
        ),
        (
            "matching_refresh",
            "matching_refresh.py",
            ["--sample", os.environ.get("BENCH_MATCHING_SAMPLE", "200")],
            {**env(), "PYTHONPATH": str(ROOT)},
        ),
    ]
    extra: dict[str, dict] = {}
    for key, script, args, script_env in scripts:
        if only and not any(word in SCRIPT_LABELS[key] for word in only):
            continue
        if run_script(script, args, script_env):
            extra[key] = _read(f"{key}.json")

    http_rows = [
        {
            **row,
            "group": "http",
            "throughput": row["requests_per_s"],
            "unit": "req/s",
            "floor": None if row["label"].startswith("floor") else "bare view",
            "floor_throughput": floor,
            "share_of_floor": None if row["label"].startswith("floor") else row["share_of_floor"],
            "errors": row["non_2xx"] + row["socket_errors"],
        }
        for row in rows
    ]
    all_rows = http_rows
    if "chat" in extra:
        all_rows += chat_rows()
    if "payments" in extra:
        all_rows += payments_rows()
    if "matching_refresh" in extra:
        all_rows += matching_rows()
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "server": f"gunicorn, {SERVER} (HTTP as deployed)",
            "cache": "redis" if env().get("REDIS_URL") else "in-memory, per worker (no REDIS_URL)",
            "search_index": search_index_state,
            "load": f"wrk -t2 -c{CONNECTIONS} -d{DURATION}",
            "database": "postgresql" if env()["DATABASE_URL"].startswith("postgres") else "sqlite",
            **SIZES,
            "history": ctx["history"],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "bench_freelancer_matches": ctx["matches"],
            "load_average_start": load_start,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": {"search_p95_ms": 50, "search_share_of_floor": 0.4, "chat_one_to_one_p95_ms": 20},
        "rows": all_rows,
        "http": rows,
        "sql_floor": http_floor_sql,
        **extra,
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (RESULTS / "latest.md").write_text(text)
    log(text)


if __name__ == "__main__":
    main()
