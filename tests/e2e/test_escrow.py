"""Fixed-price escrow in a real browser: the client saves the local gateway's test card on
Billing and funds a milestone, the freelancer submits the work, the client approves; after
the security hold (the clock moved forward with time-machine: the live server runs in a
thread of this process, so it sees the same clock) the freelancer withdraws on the Balance
page. Both see the money timeline on the milestone page and open their receipt from it:
the client the invoice of the payment, the freelancer the earnings receipt of the release."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contracts.models import Milestone
from payments import ledger
from payments import services as payment_services
from payments.models import AccountKind, Payout, PayoutMethod
from tests import factories
from tests.contracts.conftest import Hire

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_fund_submit_approve_and_withdraw(journey, settings):
    settings.PAYMENTS_GATEWAY = "local"
    from payments.gateways import local

    local.reset()
    hire = Hire()
    contract = hire.contract()
    milestone = contract.milestones.order_by("pk").first()
    assert milestone is not None
    start = timezone.now()

    # --- the client saves the test card on Billing and funds the first milestone
    c = journey("client")
    _log_in(c, hire.client.email)
    c.page.goto(f"/contracts/{contract.pk}/")
    c.page.get_by_test_id("no-card").get_by_role("link").click()
    c.page.wait_for_url("**/payments/billing/")
    c.page.fill("input[name=number]", "4242 4242 4242 4242")
    c.page.fill("input[name=exp_month]", "12")
    c.page.fill("input[name=exp_year]", str(start.year + 2))
    c.page.fill("input[name=cvc]", "123")
    c.page.get_by_role("button", name="Save card").click()
    c.page.wait_for_load_state()
    c.shot("card-saved")
    c.page.goto(f"/contracts/{contract.pk}/")
    c.page.check(f"#fund-{milestone.pk}")
    # $500 + the 5% client marketplace fee, shown before paying
    assert "$525.00" in c.page.locator("[data-fund-summary]").inner_text()
    c.page.get_by_test_id("fund").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/")
    assert "is in escrow" in c.page.content()
    assert c.page.get_by_test_id("escrow-balance").inner_text() == "$500.00"
    assert "Funded $500.00 on" in c.page.get_by_test_id("money-timeline").first.inner_text()
    c.shot("funded")
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.FUNDED

    # --- the freelancer submits the work
    f = journey("freelancer")
    _log_in(f, hire.freelancer.email)
    f.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    f.page.fill("textarea[name=message]", "The design and the models are done; see the notes.")
    f.page.get_by_test_id("submit-work").click()
    f.page.wait_for_load_state()
    assert "Work submitted" in f.page.content()
    assert "Auto-release unless approved" in f.page.get_by_test_id("money-timeline").inner_text()
    assert f.page.get_by_test_id("invoice-link").count() == 0  # nothing released to them yet
    f.shot("submitted")

    # --- the client approves
    c.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    assert "Released automatically on" in c.page.get_by_test_id("auto-release").inner_text()
    c.page.once("dialog", lambda dialog: dialog.accept())
    c.page.get_by_test_id("approve").click()
    c.page.wait_for_load_state()
    c.page.get_by_text("the payment is released").wait_for()
    timeline = c.page.get_by_test_id("money-timeline").inner_text()
    assert "Released on" in timeline and "Available to withdraw on" in timeline
    c.shot("approved")
    available_step = c.page.get_by_test_id("money-timeline").locator("li").last
    assert available_step.get_attribute("data-done") == "false"  # still in the security hold
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 45_000

    # --- both open the receipt of the money from the milestone page: the client the
    # invoice of the payment ($500 + the 5% fee), the freelancer the earnings receipt of
    # the release ($500 less the 10% service fee); each numbered, each their own
    c.page.get_by_test_id("invoice-link").click()
    c.page.wait_for_url("**/payments/invoices/*/")
    client_invoice = c.page.get_by_test_id("invoice").inner_text()
    assert "Payment receipt" in client_invoice and contract.title in client_invoice
    assert c.page.get_by_test_id("invoice-total").inner_text() == "$525.00"
    client_number = c.page.get_by_test_id("invoice-number").inner_text()
    c.shot("client-invoice")
    f.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    timeline = f.page.get_by_test_id("money-timeline").inner_text()
    assert "Funded $500.00 on" in timeline and "Released on" in timeline
    f.page.get_by_test_id("invoice-link").click()
    f.page.wait_for_url("**/payments/invoices/*/")
    assert "Earnings receipt" in f.page.get_by_test_id("invoice").inner_text()
    assert f.page.get_by_test_id("invoice-total").inner_text() == "$450.00"
    freelancer_number = f.page.get_by_test_id("invoice-number").inner_text()
    assert freelancer_number != client_number
    f.shot("freelancer-receipt")
    f.page.goto("/payments/invoices/")
    assert freelancer_number in f.page.content() and client_number not in f.page.content()
    # opening the receipt again shows the same invoice (issued once)
    c.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
    c.page.get_by_test_id("invoice-link").click()
    c.page.wait_for_url("**/payments/invoices/*/")
    assert c.page.get_by_test_id("invoice-number").inner_text() == client_number

    # --- after the security hold, the freelancer withdraws
    method = payment_services.payout_method_add_bank_account(
        actor=hire.freelancer,
        holder_name="Free Lancer",
        routing_number="110000000",
        account_number="000123456789",
    )
    PayoutMethod.objects.filter(pk=method.pk).update(usable_after=start)
    with time_machine.travel(start + timedelta(days=settings.SECURITY_HOLD_DAYS, hours=1), tick=True):
        payment_services.release_matured_holds()  # the beat task
        assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=hire.freelancer) == 45_000
        f.page.goto(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")
        timeline = f.page.get_by_test_id("money-timeline").inner_text()
        assert "Funded $500.00 on" in timeline and "Available to withdraw on" in timeline
        # the live server (a thread of this process) sees the moved clock: the hold is over
        assert f.page.get_by_test_id("money-timeline").locator("li").last.get_attribute("data-done") == "true"
        f.shot("timeline-after-hold")
        f.page.goto("/payments/balance/")
        assert f.page.get_by_test_id("available").inner_text() == "$450.00"
        f.page.fill("input[name=amount]", "450")
        f.page.get_by_role("button", name="Withdraw", exact=True).click()
        f.page.wait_for_load_state()
        f.shot("withdrawn")
        payout = Payout.objects.get(user=hire.freelancer)
        assert payout.amount_cents == 45_000
        assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=hire.freelancer) == 0
    local.reset()
