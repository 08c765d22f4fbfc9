"""`make bench`: seed data, serve it as deployed (gunicorn), load it with wrk, write figures.

Every figure is reported next to floors measured in the same run: a bare Django view
returning a small JSON (the framework's ceiling on this machine) and the raw SQL of the
page's main query (the database's). Results: bench/results/latest.json and latest.md.

Uses DATABASE_URL when set (PostgreSQL, as deployed); otherwise a SQLite file under
bench/results/. Needs `wrk` (Debian package `wrk`; the script installs it when it can).
"""

from __future__ import annotations

import json
import os
import platform
import re
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
FREELANCERS = int(os.environ.get("BENCH_FREELANCERS", "2000"))


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
    e.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'bench.sqlite3'}")
    e["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"
    e.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    e["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    e["SECURE_SSL_REDIRECT"] = "False"
    e["LOG_LEVEL"] = "WARNING"
    return e


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env(), check=True)


def seed() -> None:
    log(f"--- seeding: demo data plus {FREELANCERS} freelancers (idempotent)")
    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("seed_demo", "--freelancers", str(FREELANCERS), "--clients", "10")
    # fresh planner statistics after the bulk load, as autovacuum would give a live site
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django;django.setup();from django.db import connection as c;"
            "c.vendor == 'postgresql' and c.cursor().execute('ANALYZE')",
        ],
        cwd=ROOT,
        env=env(),
        check=True,
    )


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port}")


def wrk(wrk_bin: str, path: str) -> dict:
    out = subprocess.run(
        [wrk_bin, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        lat[f"p{pct}_ms"] = round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"path": path, "requests_per_s": rps, **lat, "errors": int(non2xx.group(1)) if non2xx else 0}


def sql_floor(public_id: str) -> dict:
    """Time the raw SQL of the list page's main query, in-process, as a database floor."""
    code = """
import time, django, json
django.setup()
from django.db import connection
from accounts.selectors import freelancer_list_visible
qs = freelancer_list_visible(viewer=None)[:12]
sql, params = qs.query.sql_with_params()
with connection.cursor() as c:
    for _ in range(20): c.execute(sql, params); c.fetchall()
    n = 300; t = time.perf_counter()
    for _ in range(n): c.execute(sql, params); c.fetchall()
    per = (time.perf_counter() - t) / n * 1000
print(json.dumps({"list_query_ms": round(per, 3), "vendor": connection.vendor}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def query_counts(public_id: str) -> dict:
    code = f"""
import django, json
django.setup()
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.db import connection
c = Client(HTTP_HOST="127.0.0.1")
out = {{}}
for path in ["/freelancers/", "/freelancers/?page=3", "/freelancers/{public_id}/", "/api/v1/freelancers/"]:
    with CaptureQueriesContext(connection) as q:
        r = c.get(path, secure=True)
    out[path] = {{"status": r.status_code, "queries": len(q)}}
print(json.dumps(out))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk_bin = ensure_wrk()
    seed()
    public_id = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django;django.setup();from accounts.models import FreelancerProfile as F;"
            "print(F.objects.filter(published_at__isnull=False).order_by('pk').values_list('public_id',flat=True)[0])",
        ],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    log(f"--- serving with gunicorn (2 sync workers) on 127.0.0.1:{PORT}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "marketplace.wsgi:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env(),
    )
    try:
        wait_for_port(PORT)
        targets = [
            ("floor: bare view", "/bench/bare/"),
            ("freelancer list page", "/freelancers/"),
            ("freelancer profile page", f"/freelancers/{public_id}/"),
            ("freelancer list API", "/api/v1/freelancers/"),
        ]
        rows = []
        for label, path in targets:
            log(f"--- wrk {DURATION} x {CONNECTIONS} connections: {label}")
            subprocess.run(
                [wrk_bin, "-t1", "-c2", "-d2s", f"http://127.0.0.1:{PORT}{path}"],
                capture_output=True,
                check=True,
            )  # warm-up
            rows.append({"label": label, **wrk(wrk_bin, path)})
    finally:
        server.terminate()
        server.wait(timeout=20)
    floor = rows[0]["requests_per_s"]
    for row in rows:
        row["share_of_floor"] = round(row["requests_per_s"] / floor, 3) if floor else None
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "server": "gunicorn, 2 sync workers",
            "load": f"wrk -t2 -c{CONNECTIONS} -d{DURATION}",
            "database": env()["DATABASE_URL"].split(":")[0],
            "freelancers": FREELANCERS,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        },
        "http": rows,
        "sql_floor": sql_floor(public_id),
        "queries_per_request": query_counts(public_id),
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"Benchmark {result['when']} ({result['setup']['machine']}; {result['setup']['server']}; "
        f"{result['setup']['load']}; {result['setup']['database']}, {FREELANCERS} freelancers)",
        "",
        "| target | req/s | share of bare-view floor | p50 ms | p90 ms | p99 ms | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['requests_per_s']:.0f} | {row['share_of_floor']:.0%} | "
            f"{row['p50_ms']} | {row['p90_ms']} | {row['p99_ms']} | {row['errors']} |"
        )
    lines += [
        "",
        f"SQL floor: the list page's main query alone takes {result['sql_floor']['list_query_ms']} ms "
        f"({result['sql_floor']['vendor']}).",
        "",
        "| page | SQL queries |",
        "| --- | ---: |",
    ]
    for path, info in result["queries_per_request"].items():
        lines.append(f"| {path} | {info['queries']} |")
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))


if __name__ == "__main__":
    main()
