"""Accessibility in a real browser: axe-core on the main pages (no serious or critical
violation), keyboard navigation with a visible focus ring, and the pages at phone width
(390 px) without horizontal scrolling.

axe-core comes from the npm registry (tests/e2e/package.json, installed by ``make e2e``);
Playwright injects it as a script tag, which the Content-Security-Policy would block, so
the axe journeys bypass the policy (the CSP itself is checked by test_security_csp.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from tests.e2e.conftest import ARTIFACTS, Journey
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + "  " + n.failureSummary.replace(/\\n/g, " ")),
    }));
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    name: el.getAttribute("name") || "",
    type: el.getAttribute("type") || "",
    href: el.getAttribute("href") || "",
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 60),
    testid: el.closest("[data-testid]") ? el.closest("[data-testid]").dataset.testid : "",
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def _log_in(j: Journey, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _world(settings):
    from payments.gateways import local
    from tests.marketplace.world import build_world

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    return build_world()


def _pages(world) -> dict[str, list[tuple[str, str]]]:
    """Who sees which page: (label, path) per visitor."""
    return {
        "visitor": [
            ("home", "/"),
            ("signup", "/accounts/signup/"),
            ("login", "/accounts/login/"),
            ("job-search", "/jobs/search/?q=django"),
            ("job", f"/jobs/{world.job.public_id}/"),
            ("freelancer-search", "/freelancers/"),
            ("freelancer-profile", f"/freelancers/{world.freelancer.freelancer_profile.public_id}/"),
            ("services", "/services/"),
            ("service", f"/services/{world.listing.public_id}/"),
        ],
        "freelancer": [
            ("freelancer-dashboard", "/dashboard/"),
            ("contract", f"/contracts/{world.contract.pk}/"),
            ("messages", "/messages/"),
            ("conversation", f"/messages/{world.conversation.pk}/"),
            ("balance", "/payments/balance/"),
            ("my-proposals", "/proposals/"),
            ("settings", "/me/settings/"),
            ("assessments", "/me/assessments/"),
        ],
        "client": [
            ("client-dashboard", "/dashboard/"),
            ("job-proposals", f"/jobs/{world.job.public_id}/proposals/"),
            ("proposal", f"/proposals/{world.proposal.pk}/"),
            ("contract-client", f"/contracts/{world.hourly_contract.pk}/"),
            ("billing", "/payments/billing/"),
            ("transactions", "/payments/transactions/"),
        ],
        "other_freelancer": [
            ("proposal-form", f"/jobs/{world.job.public_id}/apply/"),
        ],
    }


def _visit(j: Journey, path: str, label: str) -> None:
    response = j.page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    j.page.wait_for_load_state("networkidle")
    j.shot(label)


def _journeys(journey, world, **options) -> list[tuple[Journey, list[tuple[str, str]]]]:
    users = {
        "freelancer": world.freelancer,
        "client": world.client,
        "other_freelancer": world.other_freelancer,
    }
    out = []
    for who, pages in _pages(world).items():
        j = journey(who, **options)
        if who in users:
            _log_in(j, users[who].email)
        out.append((j, pages))
    return out


def _readable(found: dict[str, list[dict]]) -> str:
    lines = []
    for label, violations in found.items():
        for v in violations:
            lines.append(f"{label}: [{v['impact']}] {v['id']}: {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


def test_main_pages_have_no_serious_or_critical_axe_violations(journey, settings):
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` in tests/e2e (make e2e does)"
    world = _world(settings)
    found: dict[str, list[dict]] = {}
    visited = []
    for j, pages in _journeys(journey, world, bypass_csp=True):
        for label, path in pages:
            _visit(j, path, label)
            j.page.add_script_tag(path=str(AXE))
            violations = j.page.evaluate(RUN_AXE)
            visited.append(label)
            if violations:
                found[f"{label} ({path})"] = violations
    assert len(visited) == sum(len(p) for p in _pages(world).values())
    assert found == {}, "axe-core found serious or critical violations:\n" + _readable(found)


def _tab_until(j: Journey, wanted, limit: int = 60) -> list[dict]:
    """Press Tab until ``wanted(focused)`` holds; return every element focused on the way."""
    seen: list[dict] = []
    for _ in range(limit):
        j.page.keyboard.press("Tab")
        focused = j.page.evaluate(FOCUSED)
        if focused is None:
            continue
        seen.append(focused)
        assert focused["outline"], f"no visible focus outline on {focused}"
        if wanted(focused):
            return seen
    raise AssertionError(f"never reached the element after {limit} tabs: {seen}")


def test_axe_reports_what_it_should(browser):
    """The check above is not vacuous: on a page with an unlabelled field, an image without
    alt text and an empty button, axe reports each."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><h1>Bad</h1>'
            '<input type="text" name="q"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            "<button></button></main></body></html>"
        )
        page.add_script_tag(path=str(AXE))
        ids = {v["id"] for v in page.evaluate(RUN_AXE)}
    finally:
        page.close()
    assert {"label", "image-alt", "button-name"} <= ids, ids


def test_keyboard_reaches_the_login_form_and_search_results_in_order(journey):
    freelancer = factories.make_published_freelancer(email="keys@example.com")
    job = make_job(factories.make_client(), title="Django booking site")
    j = journey()
    j.page.goto("/accounts/login/")
    seen = _tab_until(j, lambda f: f["name"] == "login")
    # the skip link comes first, before the navigation
    assert seen[0]["href"] == "#main", seen[0]
    j.page.keyboard.type(freelancer.email)
    j.page.keyboard.press("Tab")
    assert j.page.evaluate(FOCUSED)["name"] == "password"
    j.page.keyboard.type(factories.PASSWORD)
    _tab_until(j, lambda f: f["tag"] == "button" and f["type"] == "submit", limit=10)
    j.shot("login-focus-on-submit")
    j.page.keyboard.press("Enter")
    j.page.wait_for_url("**/dashboard/")

    j.page.goto("/jobs/search/")
    seen = _tab_until(j, lambda f: f["tag"] == "input" and f["name"] == "q")
    j.page.keyboard.type("django")
    j.page.keyboard.press("Enter")
    j.page.wait_for_url("**/jobs/search/?*q=django*")
    seen = _tab_until(j, lambda f: f["href"] == f"/jobs/{job.public_id}/", limit=120)
    j.shot("search-focus-on-result")
    # the search box, then its filters, then the results
    names = [f["name"] for f in seen]
    assert "sort" in names and "category" in names, seen
    j.page.keyboard.press("Enter")
    j.page.wait_for_url(f"**/jobs/{job.public_id}/")


def test_main_pages_fit_a_phone_screen(journey, settings):
    world = _world(settings)
    overflowing = _wider_than(journey, world, ARTIFACTS / "phone", PHONE_WIDTH)
    assert overflowing == {}, f"pages wider than {PHONE_WIDTH}px: {overflowing}"


# a word longer than a phone screen is wide (as a pasted link or a name without spaces is)
LONG_WORD = "Supercalifragilisticexpialidocious" * 3


def test_words_longer_than_the_screen_wrap_on_a_phone(journey, settings):
    """What people write (titles, names, descriptions, messages, cover letters) may hold a
    word wider than the screen: it wraps, the page does not scroll sideways (a job title
    once pushed the search results to 1,088 px, a profile title the talent search to 762)."""
    from accounts.models import ClientProfile, FreelancerProfile, SkillAssessment, User
    from contracts.models import Contract
    from jobs.models import Job, ServiceListing
    from messaging.models import Message
    from proposals.models import Proposal

    world = _world(settings)
    Job.objects.update(title=f"Django {LONG_WORD}"[:120], description=f"See {LONG_WORD * 3} first")
    FreelancerProfile.objects.update(title=LONG_WORD[:100], overview=LONG_WORD * 3)
    ClientProfile.objects.update(company_name=LONG_WORD[:120])
    User.objects.update(first_name=LONG_WORD[:60])
    Contract.objects.update(title=LONG_WORD[:120], description=LONG_WORD * 3)
    Proposal.objects.update(cover_letter=LONG_WORD * 3)
    ServiceListing.objects.update(title=LONG_WORD[:120], description=LONG_WORD * 3)
    Message.objects.update(body=f"https://example.com/{LONG_WORD * 3}")
    SkillAssessment.objects.update(title=(LONG_WORD * 2)[:120])  # staff's, in a table
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        overflowing = _wider_than(journey, world, ARTIFACTS / f"long-words-{width}", width)
        assert overflowing == {}, f"pages wider than {width}px: {overflowing}"


def _wider_than(journey, world, folder: Path, width: int) -> dict[str, tuple[int, list[str]]]:
    """The main pages wider than the window (``width``), with the elements that stick out;
    each page's screenshot in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    overflowing = {}
    for j, pages in _journeys(journey, world, width=width):
        for label, path in pages:
            j.page.goto(path)
            j.page.wait_for_load_state("networkidle")
            j.page.screenshot(path=str(folder / f"{label}.png"), full_page=True)
            scrolled = j.page.evaluate("document.documentElement.scrollWidth")
            if scrolled > width:
                wide = j.page.evaluate(
                    """(limit) => [...document.querySelectorAll("body *")]
                      .filter((el) => el.getBoundingClientRect().right > limit + 1)
                      .slice(0, 5)
                      .map((el) => el.tagName.toLowerCase() + "." + [...el.classList].join("."))""",
                    width,
                )
                overflowing[label] = (scrolled, wide)
    return overflowing
