"""Time (and optionally profile) one URL through the whole WSGI stack, in one process.

Cheaper than a wrk run on a shared machine and precise enough to compare two versions of
the code: it calls the project's WSGI application the way gunicorn does (same settings,
same middleware, same cache and database), N times in a row, and prints the mean and the
percentiles of the time per request, and the CPU time of this process per request (which
leaves out the database's and the cache's own work, and most of the noise of a shared
machine). With ``--profile`` it prints the cProfile top
functions by cumulative time (``PROFILE_SORT=tottime`` for time spent in each function itself;
``PROFILE_CLOCK=cpu`` to count this process's CPU time instead of the wall clock).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marketplace_large \\
    REDIS_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python bench/wsgi_timer.py /jobs/search/?q=python -n 500 [--cookie SESSIONID] \\
        [--vary q=word1,word2,... [--warm '&sort=newest']] [--profile]

``--miss`` bumps the jobs generation before each request (every request a cache miss).
``--vary key=v1,v2,...`` (or ``key=@FILE``, a value per line) appends ``&key=vi`` with a different value on each request (the
uncached long tail). The settings are the production ones (as bench/run.py serves them).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.production"
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marketplace_bench")


def environ_for(path: str, cookie: str | None) -> dict:
    path_info, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        # and the CSRF cookie a browser has after its first page (bench/run.py, cookie_header)
        env["HTTP_COOKIE"] = f"sessionid={cookie}; csrftoken={'c' * 32}"
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--cookie")
    parser.add_argument(
        "--vary", help="key=v1,v2,... or key=@FILE (one value per line): a different value per request"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="requests before the timed ones (other URLs when varying)"
    )
    parser.add_argument("--miss", action="store_true", help="bump the jobs generation before each request")
    parser.add_argument(
        "--warm",
        metavar="SUFFIX",
        help="first ask for every --vary URL with SUFFIX appended (other URLs, so the timed ones "
        "still miss the response cache), as a worker of a long run is warm (card markup, lexemes)",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    from jobs import cache as jobs_cache
    from jobs import search_index

    if search_index.enabled():  # as a gunicorn worker has it once warmed up
        started = time.perf_counter()
        search_index.build_now(jobs_cache.generation())
        search_index.settle_heap()  # as a worker does after its build
        print(f"search index built in {time.perf_counter() - started:.1f} s")
    statuses: dict[str, int] = {}
    sizes: list[int] = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    values: list[str] = []
    key = ""
    if args.vary:
        key, _, raw = args.vary.partition("=")
        values = Path(raw[1:]).read_text().split() if raw.startswith("@") else raw.split(",")

    if key == "q" and search_index.enabled():
        # a worker of a long run has met every keyword of the long tail already and keeps
        # their lexemes (one query each the first time): as it has them
        for word in dict.fromkeys(value.partition("&")[0] for value in values):
            search_index.lexemes(word)

    def url(i: int) -> str:
        if not values:
            return args.path
        sep = "&" if "?" in args.path else "?"
        return f"{args.path}{sep}{key}={values[i % len(values)]}"

    def one(i: int) -> None:
        body = app(environ_for(url(i), args.cookie), start_response)
        sizes.append(sum(len(chunk) for chunk in body))
        if hasattr(body, "close"):
            body.close()

    for i in range(args.warmup if values else min(args.warmup, args.n)):  # templates, connections, caches
        one(i if not values else -1 - i)
    if args.warm and values:
        for i in range(min(args.n, len(values))):
            body = app(environ_for(url(i) + args.warm, args.cookie), start_response)
            if hasattr(body, "close"):
                body.close()
    statuses.clear()
    sizes.clear()
    times = []
    cpu_start = time.process_time()
    # PROFILE_CLOCK=cpu: this process's CPU time instead of the wall clock (leaves out the
    # waits on the database and the cache, which the wall clock puts on their calls)
    clock = time.process_time if os.environ.get("PROFILE_CLOCK") == "cpu" else None
    profiler = (cProfile.Profile(clock) if clock else cProfile.Profile()) if args.profile else None
    bump = None
    if args.miss:
        from jobs.cache import bump_generation as bump
    for i in range(args.n):
        if bump:
            bump()
        t = time.perf_counter()
        if profiler:
            profiler.enable()
        one(i)
        if profiler:
            profiler.disable()
        times.append((time.perf_counter() - t) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / args.n
    times.sort()
    q = statistics.quantiles(times, n=100)
    print(
        f"{args.path}: n={args.n} mean {statistics.fmean(times):.3f} ms, p50 {q[49]:.3f}, p95 {q[94]:.3f}, "
        f"max {times[-1]:.3f}; this process's CPU {cpu_ms:.3f} ms/request; {statuses}; "
        f"body {statistics.fmean(sizes):.0f} bytes"
    )
    if profiler:
        if os.environ.get("PROFILE_DUMP"):  # for pstats or a viewer of one's choice
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        ).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
