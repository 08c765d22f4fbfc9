"""gunicorn settings for the web service (HTTP only; websockets go to the ASGI server).

    gunicorn marketplace.wsgi:application -c deploy/gunicorn.conf.py

Every value can be overridden from the environment (GUNICORN_WORKERS, GUNICORN_THREADS,
GUNICORN_BIND, ...) or on the command line. bench/run.py serves the benchmark with this
file, so the figures in the README are those of this configuration.

Why threads (``gthread``) on these 2-core machines, measured with bench/run.py and wrk:

- A sync worker serves one request at a time and closes the connection after it. While it
  writes a 50 kB search page to a client that reads slowly (or waits on PostgreSQL or
  Redis) the process sits idle; a cached search page reached about a quarter of the
  bare-view floor that way. With 4 threads per worker one thread writes or waits while
  another runs Python, and keep-alive saves a TCP handshake per request.
- Python code runs one thread at a time per process (the GIL), so more threads do not add
  CPU: 2 processes (one per core) x 4 threads. More processes than cores only added
  context switches (4 sync workers were slower than 2 on every target).
- Behind nginx (docker-compose) the proxy buffers responses, so slow clients cost even
  less; the threads still overlap the database and cache round trips.
- Each worker holds at most ``worker_connections`` = 2 x threads connections (8). Without
  a cap a gthread worker accepts whatever arrives while it polls: under wrk one worker
  once took all 16 keep-alive connections and ran at 100% CPU while the other idled, which
  halved the throughput of the search rows. With the cap a request beyond 2 x 8 waits in
  the shared listen backlog for whichever worker frees up first instead of queueing behind
  a busy worker's requests (measured: long-tail search page 443-488 req/s, p95 52-74 ms
  uncapped, 459-516 req/s, p95 48-60 ms capped; a keep-alive-off variant was slower on
  every row). nginx opens a connection per request, so behind it the cap only bounds
  each worker's queue; a deployment where gunicorn faces many keep-alive clients itself
  should raise it (GUNICORN_WORKER_CONNECTIONS), since an idle keep-alive connection
  keeps its place until ``keepalive`` seconds pass.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))  # one per core
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", str(2 * threads)))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # seconds an idle connection is kept
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # nginx gives up at 35 s (deploy/nginx.conf)
graceful_timeout = 20
# Off by default: a cached page takes ~1 ms, so a limit of 20,000 requests restarted each
# worker every 10-20 s under load (a second of start-up CPU each, and its in-process caches
# lost). Set GUNICORN_MAX_REQUESTS (e.g. 1000000) if a dependency ever leaks memory.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # nginx logs the requests
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker) -> None:
    """Each worker builds its job search index in the background as it starts (about 10 s
    at 100,000 jobs; searches go through PostgreSQL until it is ready)."""
    from jobs import search_index

    search_index.warm_up()
