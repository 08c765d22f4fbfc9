"""The reference tracker (``manage.py track_time``) against a live server: it lists the
contracts, posts simulated segments through the tracker API, and reports refusals."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from contracts import timetracking
from contracts.models import TimeSegment
from tests.conftest import image_bytes
from tests.contracts.conftest import Hire

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(live_server):
    """An hourly contract that started three hours ago, and its freelancer's tracker key."""
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=3), tick=False):
        hire = Hire(hourly=True)
        contract = hire.contract(weekly_limit_hours=None)
    key = timetracking.tracker_token_create(actor=hire.freelancer, name="Terminal")[1]
    return live_server.url, key, contract


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("track_time", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_list_shows_the_contracts(setup):
    url, key, contract = setup
    out, _ = run("--url", url, "--token", key, "--list")
    assert f"{contract.pk:>6}  {contract.title}" in out
    assert "0:00 hrs this week" in out


def test_simulate_posts_segments_with_memo_and_activity(setup):
    url, key, contract = setup
    out, err = run(
        "--url",
        url,
        "--token",
        key,
        "--contract",
        str(contract.pk),
        "--minutes",
        "30",
        "--memo",
        "Search page",
        "--simulate",
    )
    assert "Posted 3 segment(s)" in out and err == ""
    segments = list(TimeSegment.objects.filter(contract=contract).order_by("started_at"))
    assert len(segments) == 3
    assert {s.memo for s in segments} == {"Search page"}
    assert {s.source for s in segments} == {"tracker"}
    assert [s.activity for s in segments] == [6, 8, 7]
    newest = timetracking.align(datetime.now(UTC)) - timetracking.SEGMENT
    assert segments[-1].started_at in (newest, newest - timetracking.SEGMENT)  # the last full slot
    assert all(b.started_at - a.started_at == timetracking.SEGMENT for a, b in itertools.pairwise(segments))

    # the same slots again overlap: the command says why and fails
    with pytest.raises(CommandError, match="409"):
        run("--url", url, "--token", key, "--contract", str(contract.pk), "--minutes", "30", "--simulate")
    assert TimeSegment.objects.filter(contract=contract).count() == 3


def test_simulate_with_a_screenshot_and_fixed_activity(setup, tmp_path):
    url, key, contract = setup
    shot = tmp_path / "screen.png"
    shot.write_bytes(image_bytes("PNG", (80, 60)))
    run(
        "--url", url, "--token", key, "--contract", str(contract.pk), "--minutes", "20",
        "--activity", "9", "--simulate", "--screenshot", str(shot),
    )  # fmt: skip
    segments = list(TimeSegment.objects.filter(contract=contract))
    assert len(segments) == 2
    assert all(s.screenshot and s.activity == 9 for s in segments)


def test_wrong_token_and_foreign_contract_fail_clearly(setup):
    url, key, _ = setup
    with pytest.raises(CommandError, match="401"):
        run("--url", url, "--token", "trk_wrong", "--list")
    other = Hire(hourly=True).contract()
    with pytest.raises(CommandError, match="404"):
        run("--url", url, "--token", key, "--contract", str(other.pk), "--minutes", "10", "--simulate")
    assert TimeSegment.objects.count() == 0
