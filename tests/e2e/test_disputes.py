"""Disputes in a real browser: on a funded milestone, the client reports a problem with a
file; the freelancer sees the banner, answers and proposes a split; the client accepts it
in one click; both see the resolution and the money moved (ledger checked)."""

from __future__ import annotations

import pytest

from contracts import services
from contracts.models import Dispute, Milestone
from payments import ledger
from payments.models import AccountKind
from tests import factories
from tests.contracts.conftest import Hire, save_card

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_report_answer_propose_and_accept(journey, settings, tmp_path):
    settings.PAYMENTS_GATEWAY = "local"
    from payments.gateways import local

    local.reset()
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    assert milestone is not None
    services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[milestone.pk])
    evidence = tmp_path / "missing-pages.txt"
    evidence.write_text("The booking and payment pages are missing.")

    # --- the client reports a problem from the milestone page
    c = journey("client")
    _log_in(c, hire.client.email)
    c.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    c.page.get_by_test_id("report-problem").click()
    c.page.select_option("select[name=reason]", "quality")
    c.page.fill("textarea[name=statement]", "Two of the pages we agreed on are missing.")
    c.page.set_input_files("input[name=files]", str(evidence))
    c.shot("open-form")
    c.page.get_by_test_id("open-dispute").click()
    c.page.wait_for_url("**/contracts/disputes/*/")
    assert "Dispute opened" in c.page.content()
    c.shot("dispute-opened")
    dispute = Dispute.objects.get()

    # --- the freelancer sees the banner, answers and proposes a split
    f = journey("freelancer")
    _log_in(f, hire.freelancer.email)
    f.page.goto(f"/contracts/{contract.pk}/")
    f.page.get_by_test_id("dispute-banner").get_by_role("link").click()
    f.page.wait_for_url(f"**/contracts/disputes/{dispute.pk}/")
    assert "missing-pages.txt" in f.page.content()
    f.page.fill("textarea[name=text]", "The pages are in the staging branch; one needs polish.")
    f.page.get_by_role("button", name="Send your response").click()
    f.page.wait_for_load_state()
    assert "Statement added" in f.page.content()
    f.page.fill("input[name=refund]", "100")
    f.page.fill("input[name=release]", "400")
    f.page.fill("textarea[name=note]", "$100 back for the polish.")
    f.page.get_by_role("button", name="Propose this split").click()
    f.page.wait_for_load_state()
    assert "Proposal sent" in f.page.content()
    f.shot("proposed")

    # --- the client accepts in one click
    c.page.goto(f"/contracts/disputes/{dispute.pk}/")
    c.page.once("dialog", lambda dialog: dialog.accept())
    c.page.get_by_test_id("accept-proposal").click()
    c.page.wait_for_load_state()
    assert "Settled" in c.page.content()
    c.shot("settled")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.resolution == Dispute.Resolution.AGREEMENT
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RESOLVED and milestone.escrow_cents == 0
    assert milestone.refunded_cents == 10_000
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 36_000
    f.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    assert "Dispute resolved" in f.page.content()
    f.shot("milestone-after")
