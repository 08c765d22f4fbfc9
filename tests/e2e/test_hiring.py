"""Hiring in a real browser: a freelancer sends a proposal (seeing the fee and Connects), the
client shortlists it, interviews by message and hires; the freelancer accepts the offer and
both see the contract with its timeline."""

from __future__ import annotations

import pytest

from contracts.models import Contract, Offer
from jobs.models import Job
from proposals.models import ConnectsWallet, Proposal
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_proposal_shortlist_interview_offer_and_contract(journey):
    client = factories.make_client(email="owner@example.com", first_name="Olivia")
    freelancer = factories.make_published_freelancer(email="talent@example.com", first_name="Tariq")
    job = make_job(
        client,
        title="Django developer for a booking platform",
        size=Job.Size.MEDIUM,
        questions=["Which booking sites have you built?"],
    )
    question = job.questions.get()

    # --- the freelancer applies: cost in Connects and the fee are shown before sending
    f = journey("freelancer")
    _log_in(f, freelancer.email)
    f.page.goto(f"/jobs/{job.public_id}/")
    assert "Costs 4 Connects" in f.page.get_by_test_id("apply-cost").inner_text()
    f.shot("job-page")
    f.page.get_by_test_id("apply-button").click()
    f.page.wait_for_url(f"**/jobs/{job.public_id}/apply/")
    f.page.fill(
        "textarea[name=cover_letter]",
        "Hello Olivia, I have built three booking platforms with Django and PostgreSQL, "
        "including payments and calendars. I can start on Monday.",
    )
    f.page.fill(f"textarea[name=question_{question.pk}]", "A hotel booking site and a clinic scheduler.")
    f.page.fill("input[name=fixed_amount]", "1200")
    f.page.select_option("select[name=duration]", value=Job.Duration.LESS_THAN_1_MONTH)
    f.page.locator("input[name=fixed_amount]").dispatch_event("input")
    f.page.wait_for_function("document.getElementById('you-receive').textContent.includes('1,080')")
    f.shot("apply-form")
    f.page.get_by_test_id("send-proposal").click()
    f.page.wait_for_url("**/proposals/*/")
    f.shot("proposal-sent")
    proposal = Proposal.objects.get(job=job, freelancer=freelancer)
    assert (proposal.fixed_amount_cents, proposal.connects_spent) == (120_000, 4)
    assert ConnectsWallet.objects.get(user=freelancer).balance == 6

    # --- the client reviews: shortlist, interview, hire
    c = journey("client")
    _log_in(c, client.email)
    c.page.goto(f"/jobs/{job.public_id}/proposals/")
    card = c.page.get_by_test_id("proposal-card").filter(has_text="Tariq")
    assert "$1,200.00" in card.get_by_test_id("card-bid").inner_text()
    c.shot("review-proposals")
    card.get_by_role("button", name="Shortlist").click()
    c.page.wait_for_load_state()
    c.page.get_by_text("Shortlisted").first.wait_for()
    c.shot("shortlisted")

    c.page.goto(f"/proposals/{proposal.pk}/")
    c.page.get_by_test_id("message-form").locator("textarea").fill(
        "Thanks Tariq! Could you start with the booking calendar?"
    )
    c.page.get_by_test_id("message-form").get_by_role("button", name="Send message").click()
    c.page.wait_for_url("**/messages/*/")  # the interview opens in the chat
    c.page.get_by_text("Could you start with the booking calendar?").first.wait_for()
    c.shot("interview-started")

    # the freelancer sees the interview in the chat
    proposal.refresh_from_db()
    f.page.goto(f"/messages/{proposal.conversation_id}/")
    f.page.get_by_text("Could you start with the booking calendar?").first.wait_for()
    f.shot("interview-chat")

    c.page.goto(f"/proposals/{proposal.pk}/")
    c.page.get_by_test_id("hire").click()
    c.page.wait_for_url("**/contracts/offers/new/?proposal=*")
    assert c.page.locator("input[name=title]").input_value() == job.title
    c.shot("offer-form")
    c.page.get_by_test_id("send-offer").click()
    c.page.wait_for_url("**/contracts/offers/*/")
    c.shot("offer-sent")
    offer = Offer.objects.get(proposal=proposal)
    assert offer.status == Offer.Status.PENDING

    # --- the freelancer accepts; both see the contract and its timeline
    f.page.goto("/contracts/offers/?role=freelancer")
    f.page.get_by_role("link", name=job.title).first.click()
    f.page.wait_for_url(f"**/contracts/offers/{offer.pk}/")
    assert "$1,080.00" in f.page.get_by_test_id("freelancer-net").inner_text()
    f.shot("offer-received")
    f.page.get_by_test_id("accept").click()
    f.page.wait_for_url("**/contracts/*/")
    contract = Contract.objects.get(offer=offer)
    assert contract.status == Contract.Status.ACTIVE
    f.page.get_by_text("Contract started").first.wait_for()
    f.shot("contract-freelancer")

    c.page.goto("/contracts/?role=client")
    c.page.get_by_role("link", name=job.title).first.click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/")
    c.page.get_by_text("Contract started").first.wait_for()
    c.shot("contract-client")
    proposal.refresh_from_db()
    job.refresh_from_db()
    assert proposal.status == Proposal.Status.HIRED
    assert (job.status, job.hires_count) == (Job.Status.FILLED, 1)
