"""Browser tests: Playwright (Python) driving Debian's Chromium against a live server.

Every page visited is saved as a screenshot under tests/e2e/artifacts/<test>/, and a test
fails on any console error, failed request or 5xx response.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _poll_functions_not_strings() -> None:
    """The site's Content-Security-Policy has no 'unsafe-eval'. Playwright polls a
    ``wait_for_function("<expression>")`` by evaluating the string in the page, which the
    policy blocks once the predicate is not true at first; a function it can poll. Turn a
    bare expression into ``() => (expression)`` for every test."""
    from playwright.sync_api import Frame, Page

    def wrap(original):
        def wait_for_function(self, expression: str, *args, **kwargs):
            text = expression.strip()
            if not (text.startswith(("function", "async ")) or "=>" in text):
                expression = f"() => ({expression})"
            return original(self, expression, *args, **kwargs)

        return wait_for_function

    for cls in (Page, Frame):
        if not getattr(cls.wait_for_function, "_csp_safe", False):
            cls.wait_for_function = wrap(cls.wait_for_function)  # type: ignore[method-assign]
            cls.wait_for_function._csp_safe = True  # type: ignore[attr-defined]


_poll_functions_not_strings()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself (and the live server's teardown) are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class PageProblems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def _request_failed(self, request) -> None:
        # The browser cancels pending subresources (a favicon, say) when the page navigates
        # away; that is ERR_ABORTED and not a failure. Cancelled fetch/XHR calls still count.
        if "ERR_ABORTED" in str(request.failure) and request.resource_type not in ("fetch", "xhr"):
            return
        self.items.append(f"request failed: {request.url} {request.failure}")

    def attach(self, page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.items.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.items.append(f"page error: {exc}"))
        page.on("requestfailed", self._request_failed)
        page.on(
            "response", lambda resp: resp.status >= 500 and self.items.append(f"{resp.status}: {resp.url}")
        )


class Journey:
    """A browser context plus screenshots named in visiting order."""

    def __init__(self, browser, base_url: str, name: str, width: int = 1280, **context_options):
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": 900}, **context_options
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems = PageProblems()
        self.problems.attach(self.page)
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shot(self, label: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def asgi_live_server(settings, tmp_path, transactional_db):
    """The project's ASGI app (HTTP and websockets) served by uvicorn in a thread against
    the test database: every page opens the notifications websocket."""
    from tests.messaging.live_server import serve

    yield from serve(settings, tmp_path)


@pytest.fixture
def journey(browser, asgi_live_server, request):
    journeys: list[Journey] = []

    def make(name: str = "", width: int = 1280, **context_options) -> Journey:
        j = Journey(
            browser,
            asgi_live_server.url,
            f"{request.node.name}{('-' + name) if name else ''}",
            width,
            **context_options,
        )
        journeys.append(j)
        return j

    yield make
    problems = [p for j in journeys for p in j.problems.items]
    for j in journeys:
        j.close()
    assert problems == [], "browser reported problems:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db):
    """Browser tests run in transactional mode, whose teardown empties every table,
    including the taxonomy and skill tests loaded by a data migration: load them again."""
    from accounts.models import (
        AssessmentChoice,
        AssessmentQuestion,
        Category,
        Skill,
        SkillAssessment,
        Subcategory,
    )
    from accounts.taxonomy import sync_assessments, sync_taxonomy

    if not Skill.objects.exists():
        sync_taxonomy(Category, Subcategory, Skill)
        sync_assessments(Skill, SkillAssessment, AssessmentQuestion, AssessmentChoice)
