"""Harness of the whole-journey browser tests (tests/e2e/test_journeys.py).

Each journey has several actors (client, freelancer, staff...), each a browser context of
its own. Every page listens for console errors, page errors, failed requests and 5xx
responses (conftest.PageProblems); the journey fails at the end listing them. Screenshots
of every page visited land in tests/e2e/artifacts/journeys/<journey>/NN-<actor>-<slug>.png,
numbered in the order of the whole journey (all actors share the counter), and every
main-frame navigation is recorded so that the report can say how many pages were visited.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

from tests import factories
from tests.e2e.conftest import ARTIFACTS, Journey

JOURNEYS = ARTIFACTS / "journeys"


def slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-").lower()[:60] or "page"


@dataclass
class Run:
    """One journey: its screenshot folder, the shared counter and the pages visited."""

    name: str
    count: int = 0
    visited: list[str] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder = JOURNEYS / slug(self.name)
        shutil.rmtree(self.folder, ignore_errors=True)  # only this run's pictures
        self.folder.mkdir(parents=True, exist_ok=True)

    def problems(self) -> list[str]:
        return [f"[{a.actor}] {p}" for a in self.actors for p in a.problems.items]

    def write_summary(self) -> None:
        """pages.txt next to the pictures: every page visited, in order."""
        (self.folder / "pages.txt").write_text("\n".join(self.visited) + "\n")


class Actor(Journey):
    """A person of the journey: a browser context whose pages are watched and shot."""

    def __init__(self, browser, base_url: str, run: Run, actor: str, **context_options):
        super().__init__(browser, base_url, f"journeys-{run.name}-{actor}", **context_options)
        stray, self.folder = self.folder, run.folder  # the pictures go to the journey's folder
        if stray.exists() and not any(stray.iterdir()):
            stray.rmdir()
        self.run = run
        self.actor = actor
        self._label: str | None = None  # the name of the next page's picture, if given
        self._last_auto = ""
        self._last_number = 0
        self._busy = False
        self.page.on("framenavigated", self._navigated)
        # every page that finishes loading is shot as it is (the explicit shots add the
        # states after an action on the same page)
        self.page.on("load", self._auto_shot)
        run.actors.append(self)

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.run.visited.append(f"{self.actor} {frame.url}")

    def _auto_shot(self, page) -> None:
        label, self._label = self._label or f"page{urlsplit(page.url).path}", None
        self._busy = True
        try:
            self.shot(label)
        except PlaywrightError:  # the page went on to the next one before the picture
            self.run.count -= 1
        else:
            self._last_auto, self._last_number = page.url, self.run.count
        finally:
            self._busy = False

    def _wait_for_picture(self) -> None:
        """The picture of a page is taken in the event handler while the test goes on."""
        for _ in range(100):
            if not self._busy:
                return
            self.page.wait_for_timeout(20)  # lets the handler run

    def shot(self, label: str) -> None:
        self.run.count += 1
        self.page.screenshot(path=str(self._path(self.run.count, label)), full_page=True)

    def _path(self, number: int, label: str) -> Path:
        return self.folder / f"{number:02d}-{self.actor}-{slug(label)}.png"

    def name_page(self, label: str) -> None:
        """Names the picture taken when the current page loaded (after a click that went
        to a new page), or shoots the page if it has none."""
        self._wait_for_picture()
        shot = self._path(self._last_number, f"page{urlsplit(self._last_auto).path}")
        if self._last_auto == self.page.url and shot.exists():
            shot.rename(self._path(self._last_number, label))
            self._last_auto = ""
        else:
            self.shot(label)

    def go(self, path: str, label: str) -> None:
        """Navigate; the page's picture (taken when it loads) is named ``label``."""
        self._label = label
        self.page.goto(path)
        self.page.wait_for_load_state()
        self._wait_for_picture()
        if self._label is not None:  # the load handler did not take the picture: take it now
            self._label = None
            self.shot(label)

    def log_in(self, email: str, password: str = factories.PASSWORD) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        self.page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def alerts(self) -> str:
        return " ".join(self.page.locator(".alert, .messagelist li").all_inner_texts())

    def confirm_next_dialog(self) -> None:
        self.page.once("dialog", lambda dialog: dialog.accept())
