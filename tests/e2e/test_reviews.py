"""Reviews in a real browser: the client ends a contract and leaves feedback (hidden from
the freelancer until they leave theirs); the freelancer finds "Feedback to give" on the
dashboard and leaves theirs, which reveals both; the freelancer's public profile shows the
review, the rating and the Job Success Score that this second client's contract brings
(100 %: two paid contracts rated 5 stars), and the client's next job shows what the
freelancer said."""

from __future__ import annotations

import pytest

from contracts import escrow
from contracts import services as contract_services
from contracts.models import Contract
from reviews.models import Review
from reviews.services import ReviewInput, review_submit
from tests import factories
from tests.contracts.conftest import Hire, make_proposal, offer_from_proposal
from tests.jobs.conftest import make_job
from tests.payments.conftest import add_card

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def _fill_feedback(page, ratings: dict[str, str], comment: str, note: str, recommend: str) -> None:
    for name, value in ratings.items():
        page.select_option(f"select[name={name}]", value)
    page.fill("textarea[name=public_comment]", comment)
    page.fill("textarea[name=private_note]", note)
    page.select_option("select[name=recommend_score]", recommend)


def _pay_all(contract: Contract) -> None:
    """Fund, deliver and approve every milestone (the work was done and paid)."""
    add_card(contract.client)
    ids = list(contract.milestones.values_list("pk", flat=True))
    escrow.milestone_fund(actor=contract.client, contract_id=contract.pk, milestone_ids=ids)
    for pk in ids:
        escrow.milestone_submit(actor=contract.freelancer, milestone_id=pk, message="Delivered as agreed.")
        escrow.milestone_approve(actor=contract.client, milestone_id=pk)


def _earlier_contract_with_another_client(freelancer) -> None:
    """A finished, paid and well-reviewed contract for a first client, so that the contract of
    the test brings the freelancer to two clients: the Job Success Score appears with it."""
    other = factories.make_client()
    job = make_job(other, title="An earlier landing page")
    contract = contract_services.offer_accept(
        actor=freelancer, offer_id=offer_from_proposal(make_proposal(job, freelancer)).pk
    )
    _pay_all(contract)
    contract_services.contract_end(actor=other, contract_id=contract.pk, reason="completed", note="")
    ratings = dict.fromkeys([k for k, _ in Review.FREELANCER_CATEGORIES], 5)
    review_submit(
        actor=other,
        contract_id=contract.pk,
        data=ReviewInput(rating=5, categories=ratings, public_comment="Great.", recommend_score=10),
    )
    back = dict.fromkeys([k for k, _ in Review.CLIENT_CATEGORIES], 5)
    review_submit(  # the second review reveals both (double-blind)
        actor=freelancer,
        contract_id=contract.pk,
        data=ReviewInput(rating=5, categories=back, public_comment="Clear brief.", recommend_score=10),
    )


def test_both_sides_leave_feedback_and_the_profile_shows_it(journey):
    hire = Hire()
    _earlier_contract_with_another_client(hire.freelancer)
    contract = hire.contract()
    _pay_all(contract)
    profile = hire.freelancer.freelancer_profile
    profile.refresh_from_db()
    assert profile.job_success_score is None  # one client so far: no score yet

    # --- the client ends the contract and is asked for feedback on the contract page
    c = journey("client")
    _log_in(c, hire.client.email)
    c.page.goto(f"/contracts/{contract.pk}/")
    c.page.get_by_label("The work is completed").check()
    c.page.once("dialog", lambda dialog: dialog.accept())
    c.page.get_by_test_id("end").click()
    c.page.get_by_test_id("contract-ended").wait_for()
    c.page.get_by_test_id("leave-feedback").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/feedback/")
    assert "final once submitted" in c.page.get_by_test_id("double-blind-note").inner_text()
    c.shot("feedback-form")

    _fill_feedback(
        c.page,
        {
            "rating": "5",
            "cat_skills": "5",
            "cat_quality": "5",
            "cat_availability": "4",
            "cat_deadlines": "5",
            "cat_communication": "5",
            "cat_cooperation": "5",
        },
        "Built our booking site ahead of schedule. Would hire again.",
        "Client-private: slightly slow on weekends.",
        "10",
    )
    c.page.get_by_test_id("submit-feedback").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/")
    assert "stays hidden" in c.page.content()
    c.page.get_by_test_id("my-review-pending").wait_for()
    c.shot("client-submitted")

    # --- the freelancer does not see it yet, and is asked for theirs on the dashboard
    f = journey("freelancer")
    _log_in(f, hire.freelancer.email)
    f.page.get_by_test_id("feedback-to-give").wait_for()
    assert contract.title in f.page.get_by_test_id("feedback-to-give").inner_text()
    assert "they have left theirs" in f.page.get_by_test_id("feedback-to-give").inner_text()
    f.shot("dashboard-feedback-to-give")
    f.page.goto(f"/freelancers/{profile.public_id}/")
    assert "Built our booking site" not in f.page.content()
    f.page.goto(f"/contracts/{contract.pk}/")
    assert "Built our booking site" not in f.page.content()
    f.page.get_by_test_id("leave-feedback").click()
    f.page.wait_for_url(f"**/contracts/{contract.pk}/feedback/")
    _fill_feedback(
        f.page,
        {
            "rating": "4",
            "cat_clarity": "4",
            "cat_communication": "5",
            "cat_payment": "5",
            "cat_cooperation": "4",
        },
        "Clear brief and paid promptly.",
        "Freelancer-private: the scope grew a bit.",
        "9",
    )
    f.page.get_by_test_id("submit-feedback").click()
    f.page.wait_for_url(f"**/contracts/{contract.pk}/")
    assert "it is now public" in f.page.content()
    feedback_box = f.page.get_by_test_id("contract-feedback").inner_text()
    assert "Built our booking site ahead of schedule" in feedback_box
    assert "slightly slow on weekends" not in f.page.content()  # the client's private note
    f.shot("both-revealed")

    # the freelancer replies publicly
    f.page.get_by_test_id("reply-box").locator("summary").click()
    f.page.fill(f"#reply-{Review.objects.get(reviewer=hire.client).pk}", "Thank you, it was a pleasure!")
    f.page.get_by_test_id("reply-submit").click()
    f.page.wait_for_load_state()
    f.page.get_by_test_id("review-reply").wait_for()

    # --- the public profile shows the review, the rating and the reply (a visitor's view)
    v = journey("visitor")
    v.page.goto(f"/freelancers/{profile.public_id}/")
    reviews = v.page.get_by_test_id("profile-reviews")
    text = reviews.inner_text()
    assert "Built our booking site ahead of schedule" in text
    assert contract.title in text
    assert "Thank you, it was a pleasure!" in text
    assert "5.00" in v.page.get_by_test_id("profile-rating").inner_text()
    assert "slightly slow on weekends" not in v.page.content()
    # two clients, two paid contracts rated 5 stars: both good outcomes, so 100 %
    profile.refresh_from_db()
    assert profile.job_success_score == 100
    assert "100% Job Success" in v.page.content()
    v.shot("profile")

    # --- the client's next job shows the freelancer's review and the client's rating
    job = make_job(hire.client, title="A second booking site with payments")
    f.page.goto(f"/jobs/{job.public_id}/")
    client_reviews = f.page.get_by_test_id("client-reviews").inner_text()
    assert "Clear brief and paid promptly." in client_reviews
    assert "4.00 of 5" in client_reviews
    assert "4.00 of 5" in f.page.get_by_test_id("about-client").inner_text()  # the client's figures
    assert "the scope grew a bit" not in f.page.content()
    f.shot("client-next-job")
    f.page.get_by_test_id("client-reviews-link").click()
    f.page.wait_for_url(f"**/clients/{hire.client.client_profile.public_id}/reviews/")
    assert "Clear brief and paid promptly." in f.page.get_by_test_id("client-reviews-page").inner_text()
    f.shot("client-page")

    # --- the feedback page: what the client received, with the freelancer's reply under theirs
    c.page.goto("/feedback/")
    assert "Clear brief and paid promptly." in c.page.get_by_test_id("received").inner_text()
    given = c.page.get_by_test_id("given").inner_text()
    assert contract.title in given and f"5 of 5 for {hire.freelancer.display_name}" in given
    c.shot("feedback-page")
