"""Service catalog in a real browser: a client saves the test card, buys the Standard tier
of an approved service, answers the requirements; the freelancer delivers; the client asks
for one revision; the freelancer delivers again; the client approves and the money is
released (through the contracts escrow, so the contract's milestone is released too)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contracts.models import Contract, Milestone
from jobs.models import ServiceOrder
from payments.audit import run_checks
from tests import factories
from tests.jobs.catalog_helpers import make_listing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_buy_standard_answer_deliver_revise_approve(journey, settings):
    settings.PAYMENTS_GATEWAY = "local"
    from payments.gateways import local

    local.reset()
    listing = make_listing(title="I will build your Django booking site")
    buyer = factories.make_client()

    # --- the client saves the test card on Billing
    c = journey("client")
    _log_in(c, buyer.email)
    c.page.goto("/payments/billing/")
    c.page.fill("input[name=number]", "4242 4242 4242 4242")
    c.page.fill("input[name=exp_month]", "12")
    c.page.fill("input[name=exp_year]", str(timezone.now().year + 2))
    c.page.fill("input[name=cvc]", "123")
    c.page.get_by_role("button", name="Save card").click()
    c.page.wait_for_load_state()

    # --- finds the service from the nav and buys the Standard tier
    c.page.goto("/")
    c.page.get_by_role("link", name="Services", exact=True).first.click()
    c.page.wait_for_url("**/services/")
    c.page.get_by_role("link", name="I will build your Django booking site").click()
    c.page.wait_for_url(f"**/services/{listing.public_id}/")
    assert c.page.get_by_test_id("tiers").locator("form").count() == 3
    c.shot("service-page")
    c.page.get_by_test_id("tier-standard").get_by_role("button").click()
    c.page.wait_for_url("**/services/orders/*/")
    assert "Payment received" in c.page.content()
    assert c.page.get_by_test_id("order-status").inner_text() == "Awaiting requirements"
    c.shot("paid")

    # --- answers the requirements
    c.page.fill("#answer_1", "A booking site for a yoga studio.")
    c.page.fill("#answer_2", "https://example.com/inspiration")
    c.page.get_by_role("button", name="Send requirements").click()
    c.page.wait_for_load_state()
    assert "delivery clock has started" in c.page.content()
    assert c.page.get_by_test_id("order-status").inner_text() == "In progress"
    order = ServiceOrder.objects.get()
    order_url = f"/services/orders/{order.public_id}/"

    # --- the freelancer delivers
    f = journey("freelancer")
    _log_in(f, listing.freelancer.email)
    f.page.goto(order_url)
    assert "A booking site for a yoga studio." in f.page.get_by_test_id("requirements").inner_text()
    f.page.fill("#deliver-message", "First version: the booking pages are live on staging.")
    f.page.get_by_role("button", name="Deliver").click()
    f.page.wait_for_load_state()
    assert "Delivered:" in f.page.content()
    f.shot("delivered")

    # --- the client asks for one revision
    c.page.goto(order_url)
    c.page.fill("#revision-note", "Please add a calendar view.")
    c.page.get_by_role("button", name="Request a revision").click()
    c.page.wait_for_load_state()
    assert "Revision requested" in c.page.content()
    assert c.page.get_by_test_id("revisions").inner_text() == "1 of 2 used"
    c.shot("revision-requested")

    # --- the freelancer delivers again
    f.page.goto(order_url)
    f.page.fill("#deliver-message", "Added the calendar view.")
    f.page.get_by_role("button", name="Deliver").click()
    f.page.wait_for_load_state()
    assert f.page.get_by_test_id("order-status").inner_text() == "Delivered"

    # --- the client approves
    c.page.goto(order_url)
    c.page.get_by_role("button", name="Approve and pay").click()
    c.page.wait_for_load_state()
    assert "payment is released" in c.page.content()
    assert c.page.get_by_test_id("order-status").inner_text() == "Completed"
    assert "Payment released" in c.page.get_by_test_id("money-timeline").inner_text()
    c.shot("approved")

    order.refresh_from_db()
    assert order.status == ServiceOrder.Status.COMPLETED and order.revisions_used == 1
    milestone = Milestone.objects.get(contract_id=order.contract_id)
    assert milestone.status == Milestone.Status.RELEASED
    assert Contract.objects.get(pk=order.contract_id).status == Contract.Status.ENDED
    assert [f.message for f in run_checks()] == []
