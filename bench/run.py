"""`make bench`: seed the large data set, serve it as deployed (gunicorn with
deploy/gunicorn.conf.py), load it with wrk.

Every figure sits next to floors measured in the same run: a bare Django view returning a
small JSON (the framework's ceiling on this machine) and the raw SQL of the search (the
database's). Results: bench/results/latest.json and latest.md (plus matching.json from
bench/matching.py when it has been run). At the end it runs bench/payments.py (escrow
cycles under 8 and 16 concurrent clients next to pgbench: payments.json and payments.md).

Needs PostgreSQL (DATABASE_URL; default postgres://postgres@127.0.0.1:5432/marketplace_bench)
and `wrk` (Debian package; installed when missing and possible). With REDIS_URL the cache is
Redis, as deployed (without it, each gunicorn worker has its own in-memory cache: the JSON
says which). Sizes: BENCH_JOBS (100,000),
BENCH_FREELANCERS (20,000), BENCH_CLIENTS (5,000); load: BENCH_DURATION (10s),
BENCH_CONNECTIONS (16); BENCH_ONLY=search,feed runs only the floor and the rows whose label
has one of those words.

Cached and uncached figures: the search pages, the search API and the anonymous job page
are cached for a minute per URL and jobs generation (jobs/cache.py), so a target that asks
for one URL over and over measures the cache (after its first request). The "long tail"
targets ask for a different URL on every request (random keyword x filters x order, or a
random job of 20,000), so nearly every request misses the cache and pays for the search,
the rendering and the cache write: they measure the uncached path. The cached search rows
are anonymous visitors (whole responses from the cache); "logged in" shows the same search
for the benchmark freelancer (results from the cache, the viewer's parts rendered).
"""

from __future__ import annotations

import json
import os
import platform
import re
import runpy
import shutil
import socket
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
    # A freelancer to browse as: matches materialised, a session for wrk's Cookie header.
    out = django_py(
        "import json\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY\n"
        "from accounts.models import FreelancerProfile\n"
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
        "print(json.dumps({'session': s.session_key, 'matches': n, 'job': job.public_id,"
        " 'freelancer': p.public_id, 'jobs': jobs, 'words': words}))"
    )
    return json.loads(out)


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port}")


LONG_TAIL_FILTERS = [
    f"{budget}{level}{order}"
    for budget in ("", "&budget_type=fixed", "&budget_type=hourly")
    for level in ("", "&experience_level=entry", "&experience_level=intermediate", "&experience_level=expert")
    for order in ("", "&sort=newest")
]


def long_tail_script(name: str, paths: list[str], suffixes: list[str] | None = None) -> Path:
    """A wrk script asking for a random one of ``paths`` (+ one of ``suffixes``) on every
    request, each wrk thread with its own random sequence, and reporting as latency.lua."""
    quoted = ",".join(json.dumps(p) for p in paths)
    tails = ",".join(json.dumps(t) for t in (suffixes or [""]))
    script = RESULTS / f"{name}.lua"
    script.write_text(
        "-- generated by bench/run.py: a different URL on every request (cache misses)\n"
        f"local paths = {{{quoted}}}\n"
        f"local tails = {{{tails}}}\n"
        "local threads = 0\n"
        "setup = function(thread) threads = threads + 1; thread:set('id', threads) end\n"
        "init = function(args) math.randomseed(os.time() * 100 + (id or 0)) end\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)] .. tails[math.random(#tails)])\n"
        "end\n" + (ROOT / "bench" / "latency.lua").read_text()
    )
    return script


def wrk(wrk_bin: str, path: str, cookie: str | None, script: Path | None = None) -> dict:
    lua = script or ROOT / "bench" / "latency.lua"
    cmd = [wrk_bin, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(lua)]
    if cookie:
        cmd += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True, check=True
    ).stdout
    values = dict(re.findall(r"^([A-Z0-9_]+) (\d+)$", out, flags=re.M))
    reqs, micros = int(values["REQS"]), int(values["DURATION_US"])
    return {
        "path": path,
        "requests_per_s": round(reqs / (micros / 1e6), 1),
        "p50_ms": round(int(values["P50_US"]) / 1000, 2),
        "p95_ms": round(int(values["P95_US"]) / 1000, 2),
        "p99_ms": round(int(values["P99_US"]) / 1000, 2),
        "non_2xx": int(values["NON2XX"]),
        "socket_errors": int(values["SOCKET_ERRORS"]),
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


def query_counts(paths: list[str], cookie: str | None) -> dict:
    code = (
        "import json\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "from django.db import connection\n"
        f"c = Client(HTTP_HOST='127.0.0.1')\n"
        f"c.cookies['sessionid'] = {cookie!r}\n"
        "try:\n"
        "    from jobs.cache import bump_generation\n"
        "except ImportError:  # code without the jobs cache\n"
        "    bump_generation = lambda: None\n"
        "out = {}\n"
        f"for path in {paths!r}:\n"
        "    bump_generation()  # a miss first, then a hit\n"
        "    counts = []\n"
        "    for _ in range(2):\n"
        "        with CaptureQueriesContext(connection) as q:\n"
        "            r = c.get(path, secure=True)\n"
        "        counts.append(len(q))\n"
        "    out[path] = {'status': r.status_code, 'queries': counts[0], 'queries_cached': counts[1]}\n"
        "print(json.dumps(out))"
    )
    return json.loads(django_py(code))


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk_bin = ensure_wrk()
    ensure_database()
    ctx = seed()
    targets = [
        ("floor: bare view", "/bench/bare/", False),
        ("search page: keyword (cached)", "/jobs/search/?q=python", False),
        (
            "search page: keyword + filters (cached)",
            "/jobs/search/?q=design&budget_type=fixed&experience_level=expert",
            False,
        ),
        ("search page: newest first (cached)", "/jobs/search/?sort=newest", False),
        ("search API: keyword (cached)", "/api/v1/jobs/?q=python", False),
        ("search API: newest first (cached)", "/api/v1/jobs/?sort=newest", False),
        ("search page: keyword, logged in (cached results)", "/jobs/search/?q=python", True),
        ("job detail (cached)", f"/jobs/{ctx['job']}/", False),
        ("matches feed", "/jobs/feed/", True),
        ("freelancer profile", f"/freelancers/{ctx['freelancer']}/", False),
    ]
    only = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
    if only:  # e.g. BENCH_ONLY=search: the floor and the rows whose label has one of these words
        targets = [t for t in targets if t[0].startswith("floor") or any(word in t[0] for word in only)]
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
    if only:
        long_tail = [t for t in long_tail if any(word in t[0] for word in only)]
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
    try:
        wait_for_port(PORT)
        for label, path, auth in targets:
            log(f"--- wrk {DURATION} x {CONNECTIONS} connections: {label}")
            cookie = ctx["session"] if auth else None
            subprocess.run(
                [
                    wrk_bin,
                    "-t1",
                    "-c2",
                    "-d2s",
                    f"http://127.0.0.1:{PORT}{path}",
                    *(["-H", f"Cookie: sessionid={cookie}"] if cookie else []),
                ],
                capture_output=True,
                check=True,
            )  # warm-up
            rows.append({"label": label, **wrk(wrk_bin, path, cookie)})
        for label, path, script in long_tail:
            log(f"--- wrk {DURATION} x {CONNECTIONS} connections: {label}")
            rows.append({"label": label, **wrk(wrk_bin, path, None, script)})
        # the floor again: on a machine shared with other work one measurement can land in a
        # busy moment; shares are taken of the higher of the two (the conservative choice)
        log(f"--- wrk {DURATION} x {CONNECTIONS} connections: floor again")
        rows.append({"label": "floor: bare view (again, at the end)", **wrk(wrk_bin, "/bench/bare/", None)})
    finally:
        server.terminate()
        server.wait(timeout=20)
    floor = max(rows[0]["requests_per_s"], rows[-1]["requests_per_s"])
    for row in rows:
        row["share_of_floor"] = round(row["requests_per_s"] / floor, 3) if floor else None
    counts = query_counts([path for _, path, _ in targets[1:]], ctx["session"])
    for row in rows[1:]:
        found = counts.get(row["path"], {})  # nothing for the long tails
        row["sql_queries"] = found.get("queries")
        row["sql_queries_cached"] = found.get("queries_cached")
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "server": f"gunicorn, {SERVER} (HTTP as deployed)",
            "cache": "redis" if env().get("REDIS_URL") else "in-memory, per worker (no REDIS_URL)",
            "load": f"wrk -t2 -c{CONNECTIONS} -d{DURATION}",
            "database": "postgresql" if env()["DATABASE_URL"].startswith("postgres") else "sqlite",
            **SIZES,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "bench_freelancer_matches": ctx["matches"],
        },
        "targets": {"search_p95_ms": 50, "search_share_of_floor": 0.4},
        "http": rows,
        "sql_floor": sql_floor(),
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    s = result["setup"]
    lines = [
        f"Benchmark {result['when']}: {s['machine']}; {s['server']}; cache {s['cache']}; {s['load']}; "
        f"{s['database']} with {s['jobs']:,} jobs, {s['freelancers']:,} freelancers, {s['clients']:,} clients.",
        "",
        "Shares are of the higher of the two floor measurements (start and end of the run). "
        "(cached): one URL over and over, served from the cache after its first request. "
        "(uncached): a different URL on every request (see bench/run.py). "
        "SQL queries: one request as the logged-in benchmark freelancer after the load, "
        "uncached / cached where they differ.",
        "",
        "| target | req/s | share of bare-view floor | p50 ms | p95 ms | p99 ms | SQL queries | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        queries = "-" if row.get("sql_queries") is None else str(row["sql_queries"])
        if row.get("sql_queries_cached") not in (None, row.get("sql_queries")):
            queries += f" / {row['sql_queries_cached']}"
        lines.append(
            f"| {row['label']} | {row['requests_per_s']:.0f} | {row['share_of_floor']:.0%} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['p99_ms']} | {queries} | {row['non_2xx']} |"
        )
    floor_sql = result["sql_floor"]
    lines += [
        "",
        "SQL floor (the search selector's SQL alone, in-process): "
        + ", ".join(f"{k.removesuffix('_ms')} {v} ms" for k, v in floor_sql.items()),
    ]
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))
    # Escrow cycles under concurrent clients next to pgbench (own databases; payments.json/.md).
    log("--- payments: bench/payments.py")
    subprocess.run([sys.executable, str(ROOT / "bench" / "payments.py")], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
