"""The reference desktop tracker, as a management command: it logs time on an hourly
contract through the tracker API (``Authorization: Tracker <key>``) like a desktop app would.

    manage.py track_time --url http://127.0.0.1:8000 --token <key> --list
    manage.py track_time --url ... --token <key> --contract 12 --minutes 60 --memo "Checkout page"
    manage.py track_time --url ... --token <key> --contract 12 --minutes 30 --simulate

Session mode (the default) runs for ``--minutes`` and posts one segment at the end of each
10-minute slot of the clock (UTC) it covered at least 5 minutes of, with an activity level:
every line typed in the terminal counts as activity (10 lines or more: 10), and a line with
text becomes the memo from then on. Ctrl-C ends the session and posts the slot under way if
it qualifies. ``--activity N`` fixes the level instead (for a session with no one typing).

``--simulate`` posts the ``--minutes`` that ended at the last full slot at once (past
segments, for demos and tests), with ``--activity`` or a varied level. ``--screenshot FILE``
attaches that image to every posted segment (it opts the request in to screenshots).

Only the standard library and ``requests``; it knows nothing of the server's code, so it is
also the example for writing a tracker in another language.
"""

from __future__ import annotations

import json
import select
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

SLOT = timedelta(minutes=10)
MIN_COVERED = timedelta(minutes=5)
TIMEOUT = 15  # seconds per HTTP request
RETRIES = 3
VARIED_ACTIVITY = (6, 8, 7, 9, 5, 8, 4, 7)


def floor_slot(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)


class TrackerClient:
    """A small client of the tracker API."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Tracker {key}"
        self.session.headers["User-Agent"] = "marketplace-track-time/1.0"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        last: Exception | None = None
        for attempt in range(RETRIES):
            try:
                response = self.session.request(method, self.base + path, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as error:  # the network: try again a little later
                last = error
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code >= 500:
                last = CommandError(f"The server answered {response.status_code}.")
                time.sleep(0.5 * (attempt + 1))
                continue
            return response
        raise CommandError(f"Could not reach {self.base}: {last}")

    @staticmethod
    def _error(response: requests.Response) -> CommandError:
        try:
            body = response.json()
            message = body.get("message") or json.dumps(body)
        except ValueError:
            message = response.text[:200]
        return CommandError(f"{response.status_code}: {message}")

    def contracts(self) -> list[dict[str, Any]]:
        response = self._call("GET", "/tracker/contracts/")
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def post_segments(
        self,
        contract_id: int,
        segments: list[dict[str, Any]],
        screenshot: bytes | None = None,
        name: str = "",
    ) -> dict[str, Any]:
        path = f"/contracts/{contract_id}/segments/"
        if screenshot is None:
            response = self._call("POST", path, json={"segments": segments})
        else:
            files = {f"screenshot_{i}": (name or "screen.png", screenshot) for i in range(len(segments))}
            data = {"segments": json.dumps(segments), "screenshots": "true"}
            response = self._call("POST", path, data=data, files=files)
        if response.status_code not in (200, 201):
            raise self._error(response)
        return response.json()


class Command(BaseCommand):
    help = "Reference time tracker: log time on an hourly contract through the tracker API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="The marketplace, e.g. http://127.0.0.1:8000")
        parser.add_argument("--token", required=True, help="A tracker key (Tracker tokens page)")
        parser.add_argument("--list", action="store_true", help="List the contracts you can track and exit")
        parser.add_argument("--contract", type=int, help="The hourly contract's id")
        parser.add_argument("--minutes", type=int, default=30, help="How long to track (default 30)")
        parser.add_argument("--memo", default="", help="What you work on (shown to the client)")
        parser.add_argument(
            "--activity", type=int, choices=range(11), metavar="0-10", help="Fixed activity level"
        )
        parser.add_argument(
            "--simulate", action="store_true", help="Post past segments at once (demos, tests)"
        )
        parser.add_argument(
            "--screenshot", help="An image to attach to each segment (opts in to screenshots)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client = TrackerClient(options["url"], options["token"])
        if options["list"]:
            self._list(client)
            return
        if not options["contract"]:
            raise CommandError("Give --contract <id> (see --list).")
        if not 1 <= options["minutes"] <= 24 * 60:
            raise CommandError("--minutes is from 1 to 1440.")
        screenshot = None
        if options["screenshot"]:
            try:
                with open(options["screenshot"], "rb") as handle:
                    screenshot = handle.read()
            except OSError as error:
                raise CommandError(f"Cannot read the screenshot: {error}")
        self.client, self.screenshot = client, screenshot
        self.screenshot_name = (options["screenshot"] or "").rsplit("/", 1)[-1]
        if options["simulate"]:
            self._simulate(options)
        else:
            self._session(options)

    # --- modes -------------------------------------------------------------------------------

    def _list(self, client: TrackerClient) -> None:
        contracts = client.contracts()
        if not contracts:
            self.stdout.write("No active hourly contracts.")
        for c in contracts:
            week = c["week"]
            left = (
                "no limit"
                if week["left_minutes"] is None
                else f"{week['left_minutes'] // 60}:{week['left_minutes'] % 60:02d} left"
            )
            timer = " · timer running" if c.get("timer") else ""
            self.stdout.write(
                f"{c['id']:>6}  {c['title']}  ({c['status']}, client {c['client_name']}) · "
                f"{week['logged_minutes'] // 60}:{week['logged_minutes'] % 60:02d} hrs this week, {left}{timer}"
            )

    def _post(self, contract_id: int, segments: list[dict[str, Any]]) -> dict[str, Any]:
        result = self.client.post_segments(contract_id, segments, self.screenshot, self.screenshot_name)
        for item in result.get("rejected", []):
            self.stderr.write(f"Rejected {item['started_at']}: {item['message']}")
        week = result.get("week") or {}
        if result.get("created"):
            logged = week.get("logged_minutes", 0)
            left = week.get("left_minutes")
            self.stdout.write(
                f"Posted {len(result['created'])} segment(s); this week {logged // 60}:{logged % 60:02d} hrs"
                + ("" if left is None else f", {left // 60}:{left % 60:02d} left of the limit")
            )
        return result

    def _simulate(self, options: dict[str, Any]) -> None:
        end = floor_slot(datetime.now(UTC))
        count = max(options["minutes"] // 10, 1)
        first_slot = end - SLOT * count
        contract = next((c for c in self.client.contracts() if c["id"] == options["contract"]), None)
        if contract and contract.get("started_at"):  # no time before the contract started
            began = floor_slot(datetime.fromisoformat(contract["started_at"].replace("Z", "+00:00")))
            if began > first_slot:
                first_slot = began
                count = int((end - first_slot) / SLOT)
                self.stdout.write(
                    f"The contract started at {began:%H:%M} UTC: simulating {count * 10} minutes."
                )
        if count < 1:
            raise CommandError("The contract started less than 10 minutes ago: nothing to simulate yet.")
        segments = []
        for i in range(count):
            started = first_slot + SLOT * i
            activity = options["activity"] if options["activity"] is not None else VARIED_ACTIVITY[i % 8]
            segments.append(
                {"started_at": started.isoformat(), "memo": options["memo"], "activity": activity}
            )
        created = 0
        for first in range(0, len(segments), 144):
            created += len(self._post(options["contract"], segments[first : first + 144]).get("created", []))
        self.stdout.write(
            self.style.SUCCESS(f"Simulated {created * 10} minutes on contract {options['contract']}.")
        )

    def _session(self, options: dict[str, Any]) -> None:
        state = {"lines": 0, "memo": options["memo"]}
        lock = threading.Lock()
        stop = threading.Event()

        def read_stdin() -> None:  # each line typed is activity; a line with text is the new memo
            while not stop.is_set():
                try:
                    ready, _, _ = select.select([sys.stdin], [], [], 0.5)
                except (OSError, ValueError):
                    return
                if not ready:
                    continue
                line = sys.stdin.readline()
                if not line:
                    return
                with lock:
                    state["lines"] += 1
                    if line.strip():
                        state["memo"] = line.strip()[:300]

        if options["activity"] is None and sys.stdin.isatty():
            threading.Thread(target=read_stdin, daemon=True).start()
            self.stdout.write(
                "Tracking. Type a line to set the memo (each Enter counts as activity); Ctrl-C stops."
            )
        else:
            self.stdout.write("Tracking. Ctrl-C stops.")
        started = datetime.now(UTC)
        finish = started + timedelta(minutes=options["minutes"])
        slot = floor_slot(started)
        try:
            while slot < finish:
                slot_end = min(slot + SLOT, finish)
                self._sleep_until(slot_end)
                self._post_slot(options, slot, started, slot_end, state, lock)
                slot += SLOT
        except KeyboardInterrupt:
            now = datetime.now(UTC)
            if now > slot:
                self._post_slot(options, slot, started, now, state, lock)
            self.stdout.write("Stopped.")
        finally:
            stop.set()

    def _post_slot(
        self,
        options: dict[str, Any],
        slot: datetime,
        started: datetime,
        until: datetime,
        state: dict[str, Any],
        lock: threading.Lock,
    ) -> None:
        covered = min(until, slot + SLOT) - max(started, slot)
        with lock:
            lines, memo = state["lines"], state["memo"]
            state["lines"] = 0
        if covered < MIN_COVERED:
            self.stdout.write(f"{slot:%H:%M} UTC: less than 5 minutes tracked, not posted.")
            return
        activity = options["activity"] if options["activity"] is not None else min(lines, 10)
        try:
            self._post(
                options["contract"], [{"started_at": slot.isoformat(), "memo": memo, "activity": activity}]
            )
        except CommandError as error:  # keep tracking: the next slot may get through
            self.stderr.write(f"{slot:%H:%M} UTC not posted: {error}")

    @staticmethod
    def _sleep_until(moment: datetime) -> None:
        while True:
            left = (moment - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))
