"""The Content-Security-Policy in a real browser: the main pages, the chat (its websocket)
and the Django admin load with no CSP violation and no console error.

Violations are caught twice: the page's ``securitypolicyviolation`` events (recorded by a
script Playwright injects, which the policy does not apply to) and the console errors the
harness already fails on.
"""

from __future__ import annotations

import pytest

from messaging import services as messaging_services
from tests import factories
from tests.contracts.conftest import Hire
from tests.e2e.conftest import Journey
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_migrated(django_db_blocker):
    """A transactional test empties every table when it ends, the taxonomy a data migration
    loaded included: load it again for the modules that follow."""
    yield
    import importlib

    from django.apps import apps

    from accounts.models import Skill

    data = importlib.import_module("accounts.migrations.0002_taxonomy_and_assessments")
    with django_db_blocker.unblock():
        if not Skill.objects.exists():
            data.load(apps, None)


RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def _visit(j: Journey, path: str, label: str) -> None:
    response = j.page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    header = response.headers.get("content-security-policy", "")
    assert (
        "script-src 'self'" in header
        and "'unsafe-inline'" not in header.split("script-src", 1)[1].split(";")[0]
    )
    j.page.wait_for_load_state("networkidle")
    j.shot(label)
    violations = j.page.evaluate("window.__cspViolations")
    assert violations == [], f"{path}: {violations}"


def _log_in(j: Journey, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _journey(journey, name: str) -> Journey:
    j = journey(name)
    j.context.add_init_script(RECORD_VIOLATIONS)
    return j


def test_main_pages_chat_and_admin_run_under_the_policy(journey, settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    hire = Hire()
    contract = hire.contract()
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=contract, participants=[hire.client, hire.freelancer], title="Booking site"
    )
    messaging_services.message_send(
        actor=hire.client, conversation_id=conversation.pk, body="Welcome aboard!"
    )
    open_job = make_job(hire.client)
    applicant = factories.make_published_freelancer()
    staff = factories.make_staff()

    visitor = _journey(journey, "visitor")
    _visit(visitor, "/", "home")
    _visit(visitor, "/jobs/search/?q=django", "search")
    _visit(visitor, f"/jobs/{open_job.public_id}/", "job-detail")
    _visit(visitor, "/accounts/login/", "login")
    _visit(visitor, "/accounts/signup/", "signup")

    client = _journey(journey, "client")
    _log_in(client, hire.client.email)
    _visit(client, "/dashboard/", "dashboard")
    _visit(client, f"/contracts/{contract.pk}/", "contract")
    _visit(client, f"/messages/{conversation.pk}/", "chat")
    # the chat's websocket (connect-src ws://host) answers: a message sent shows up live
    client.page.fill("#chat-form textarea", "Sent under the CSP")
    client.page.click("#chat-send")
    client.page.get_by_text("Sent under the CSP").first.wait_for()
    assert "/messages/" in client.page.url
    assert client.page.evaluate("window.__cspViolations") == []

    freelancer = _journey(journey, "freelancer")
    _log_in(freelancer, applicant.email)
    _visit(freelancer, "/dashboard/", "dashboard")
    _visit(freelancer, "/jobs/search/", "search")
    _visit(freelancer, f"/jobs/{open_job.public_id}/", "job-detail")
    _visit(freelancer, f"/jobs/{open_job.public_id}/apply/", "proposal-form")

    admin = _journey(journey, "staff")
    _log_in(admin, staff.email)
    _visit(admin, "/admin/", "admin-index")
    _visit(admin, "/admin/accounts/user/", "admin-users")
    _visit(admin, f"/admin/accounts/user/{applicant.pk}/change/", "admin-user-change")
    _visit(admin, f"/admin/contracts/contract/{contract.pk}/change/", "admin-contract")
    local.reset()
