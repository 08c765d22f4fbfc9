"""The benchmark's long tails ask for distinct URLs: a URL listed twice would be served from
the response cache in a run that claims every request misses it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_long_tail_filters_are_distinct_and_each_option_is_used(bench_run):
    filters = bench_run.LONG_TAIL_FILTERS

    assert len(filters) == len(set(filters)) == 48
    # each option in its share of the combinations (budget types 3, levels 4, orders 2, ages 2)
    shares = {
        "&budget_type=fixed": 3,
        "&experience_level=expert": 4,
        "&sort=newest": 2,
        "&posted_within=30d": 2,
    }
    for option, ways in shares.items():
        assert sum(option in f for f in filters) == len(filters) // ways


def test_a_long_tail_script_lists_every_url_once(bench_run, tmp_path, monkeypatch):
    monkeypatch.setattr(bench_run, "RESULTS", tmp_path)

    script = bench_run.long_tail_script("t", ["/a/?q=x", "/a/?q=y"], ["", "&sort=newest"])

    text = script.read_text()
    assert re.search(r'local paths = \{"/a/\?q=x","/a/\?q=y"\}', text)
    assert 'local tails = {"","&sort=newest"}' in text
    with pytest.raises(ValueError, match="listed twice"):
        bench_run.long_tail_script("t", ["/a/?q=x", "/a/?q=x"], [""])
    with pytest.raises(ValueError, match="listed twice"):
        bench_run.long_tail_script("t", ["/a/?q=x"], ["&sort=newest", "&sort=newest"])


@pytest.mark.django_db
def test_the_signed_in_rows_send_a_csrf_cookie_django_keeps(bench_run, client):
    """wrk's signed-in requests carry a CSRF cookie, as a browser's do after its first page,
    and Django keeps its secret (without it, every response makes a new one)."""
    from django.urls import reverse

    from tests import factories

    header = bench_run.cookie_header("abc123")
    assert header == f"Cookie: sessionid=abc123; csrftoken={bench_run.CSRF_SECRET}"
    assert re.fullmatch(r"[A-Za-z0-9]{32}", bench_run.CSRF_SECRET)

    client.force_login(factories.make_freelancer())
    first = client.get(reverse("jobs:search"))
    assert first.cookies["csrftoken"].value != bench_run.CSRF_SECRET  # none sent: a new secret
    client.cookies["csrftoken"] = bench_run.CSRF_SECRET
    second = client.get(reverse("jobs:search"))
    assert second.status_code == 200
    # sent again to renew its expiry, as Django does, but the same secret
    assert second.cookies["csrftoken"].value == bench_run.CSRF_SECRET


def test_the_server_cpu_counts_the_workers(bench_run):
    """The server CPU column sums the gunicorn master and its workers: here a parent that
    only sleeps, whose child burns CPU; the figure grows only if the child is counted."""
    import subprocess
    import sys
    import time

    child = "x = 0\nfor i in range(4 * 10**7):\n    x += i\n"  # about 2 s of CPU, then it ends
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(30)",
        ]
    )
    try:
        before = bench_run.server_cpu_seconds(parent.pid)
        deadline = time.monotonic() + 20
        while bench_run.server_cpu_seconds(parent.pid) < before + 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bench_run.server_cpu_seconds(parent.pid) >= before + 0.3
        assert bench_run.server_cpu_seconds(2**22 + 12345) == 0  # no such process
    finally:
        parent.kill()
        parent.wait()
