"""The figures README.md states about the code, checked against the code: a change that makes
one untrue fails here until the README says the new figure."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
README = " ".join((ROOT / "README.md").read_text().split())  # line breaks as spaces


def test_forum_posting_rate_window():
    from community.forums import RATE_WINDOW

    minutes = int(RATE_WINDOW.total_seconds() // 60)
    assert f"(`COMMUNITY_POST_RATE` per {minutes} minutes)" in README


def test_help_center_article_count():
    articles = sorted(p.name for p in (ROOT / "community" / "help_content").glob("*.md"))
    assert f"{len(articles)} articles explain how this marketplace works" in README


def test_axe_page_count():
    from tests.e2e.test_accessibility import _pages

    pages = sum(len(p) for p in _pages(mock.MagicMock()).values())
    assert f"on {pages} main pages with no serious or critical violation" in README


def test_query_count_cases():
    from tests.marketplace.test_query_counts import PAGES

    stated = re.search(r"for (\d+) list pages in HTML and in the API \((\d+) cases", README)
    assert stated is not None
    assert (int(stated.group(1)) * 2, int(stated.group(2))) == (len(PAGES), len(PAGES))


def test_latest_benchmark_table_is_the_results_file():
    """The README's "Latest run" table is bench/results/latest.md's, row for row (the README
    may add a note in parentheses to a row's name)."""
    latest = ROOT / "bench" / "results" / "latest.md"
    if not latest.exists():  # not committed: only where the benchmark ran
        return
    rows = [line for line in latest.read_text().splitlines() if line.startswith("| ")]
    readme_rows = {
        line.replace("; before the fix below)", ")").replace(" (before the fix below)", "")
        for line in README_LINES
    }
    missing = [row for row in rows if row not in readme_rows]
    assert missing == []


README_LINES = (ROOT / "README.md").read_text().splitlines()
