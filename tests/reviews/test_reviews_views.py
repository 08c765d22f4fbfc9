"""HTML pages of reviews: the contract page's call to action, the feedback form, replies,
the profile, the job page, the client's page, the dashboard list, and the admin action."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from reviews import services
from reviews.models import Review
from tests import factories

from .conftest import SECRET_NOTE, about_client, about_freelancer

pytestmark = pytest.mark.django_db

FORM = {
    "rating": "5",
    "cat_skills": "5",
    "cat_quality": "4",
    "cat_availability": "5",
    "cat_deadlines": "5",
    "cat_communication": "5",
    "cat_cooperation": "5",
    "public_comment": "Great work, on time.",
    "private_note": SECRET_NOTE,
    "recommend_score": "9",
}


def _login(client, user):
    client.force_login(user)
    return client


def test_contract_page_and_dashboard_ask_for_feedback(client, ended):
    _login(client, ended.client)
    page = client.get(reverse("contracts:detail", args=[ended.contract.pk])).content.decode()
    assert 'data-testid="leave-feedback"' in page
    assert reverse("reviews:leave", args=[ended.contract.pk]) in page
    lists = client.get(reverse("contracts:list") + "?role=client").content.decode()
    assert 'data-testid="feedback-to-give-item"' in lists
    overview = client.get(reverse("reviews:overview")).content.decode()
    assert ended.contract.title in overview


def test_active_contract_page_has_no_feedback_box(client, db):
    from tests.contracts.conftest import Hire

    hire = Hire()
    contract = hire.contract()
    _login(client, hire.client)
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="contract-feedback"' not in page
    response = client.get(reverse("reviews:leave", args=[contract.pk]))
    assert response.status_code == 302


def test_client_leaves_feedback_through_the_form(client, ended):
    _login(client, ended.client)
    form_page = client.get(reverse("reviews:leave", args=[ended.contract.pk]))
    assert form_page.status_code == 200
    assert "final once submitted" in form_page.content.decode()
    assert "Availability" in form_page.content.decode()

    response = client.post(reverse("reviews:leave", args=[ended.contract.pk]), FORM, follow=True)

    assert response.redirect_chain[-1][0] == reverse("contracts:detail", args=[ended.contract.pk])
    assert "stays hidden" in response.content.decode()
    review = Review.objects.get(contract=ended.contract, reviewer=ended.client)
    assert (review.rating, review.categories["quality"], review.recommend_score) == (5, 4, 9)
    assert 'data-testid="my-review-pending"' in response.content.decode()
    # a second visit to the form goes back to the contract
    again = client.get(reverse("reviews:leave", args=[ended.contract.pk]))
    assert again.status_code == 302


@pytest.mark.parametrize(
    ("field", "value"), [("rating", "0"), ("rating", "6"), ("cat_skills", ""), ("recommend_score", "11")]
)
def test_bad_form_input_is_shown_again_with_the_error(client, ended, field, value):
    _login(client, ended.client)
    response = client.post(reverse("reviews:leave", args=[ended.contract.pk]), {**FORM, field: value})
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not Review.objects.exists()


def test_foreign_user_gets_404_on_the_form_and_reply(client, ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    _login(client, factories.make_client())
    assert client.get(reverse("reviews:leave", args=[ended.contract.pk])).status_code == 404
    assert client.post(reverse("reviews:leave", args=[ended.contract.pk]), FORM).status_code == 404
    assert client.post(reverse("reviews:reply", args=[review.pk]), {"reply": "Hi"}).status_code == 404
    assert Review.objects.count() == 1


def test_reviews_show_on_profile_job_and_client_page_without_private_parts(client, ended):
    services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    profile = ended.freelancer.freelancer_profile
    hidden_page = client.get(reverse("accounts:freelancer_detail", args=[profile.public_id])).content.decode()
    assert "Delivered the booking site early" not in hidden_page  # not revealed yet
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())

    page = client.get(reverse("accounts:freelancer_detail", args=[profile.public_id])).content.decode()
    assert "Delivered the booking site early" in page
    assert ended.contract.title in page
    assert 'data-testid="profile-rating"' in page

    job = ended.next_job()
    job_page = client.get(reverse("jobs:detail", args=[job.public_id])).content.decode()
    assert "Clear brief, paid on time." in job_page
    client_page = client.get(
        reverse("reviews:client", args=[ended.client.client_profile.public_id])
    ).content.decode()
    assert "Clear brief, paid on time." in client_page

    _login(client, ended.freelancer)
    contract_page = client.get(reverse("contracts:detail", args=[ended.contract.pk])).content.decode()
    assert "Delivered the booking site early" in contract_page


def test_private_note_never_reaches_the_other_side(client, ended):
    services.review_submit(
        actor=ended.client,
        contract_id=ended.contract.pk,
        data=about_freelancer(private_note="CLIENT-ONLY-NOTE"),
    )
    services.review_submit(
        actor=ended.freelancer,
        contract_id=ended.contract.pk,
        data=about_client(private_note="FREELANCER-ONLY-NOTE"),
    )
    profile = ended.freelancer.freelancer_profile
    job = ended.next_job()
    anonymous = [
        client.get(reverse("accounts:freelancer_detail", args=[profile.public_id])),
        client.get(reverse("jobs:detail", args=[job.public_id])),
        client.get(reverse("reviews:client", args=[ended.client.client_profile.public_id])),
    ]
    for response in anonymous:
        assert response.status_code == 200
        body = response.content.decode()
        assert "CLIENT-ONLY-NOTE" not in body and "FREELANCER-ONLY-NOTE" not in body

    _login(client, ended.freelancer)
    for url in (
        reverse("contracts:detail", args=[ended.contract.pk]),
        reverse("reviews:overview"),
        reverse("accounts:freelancer_detail", args=[profile.public_id]),
        reverse("jobs:detail", args=[job.public_id]),
    ):
        body = client.get(url).content.decode()
        assert "CLIENT-ONLY-NOTE" not in body, url
    _login(client, ended.client)
    for url in (
        reverse("contracts:detail", args=[ended.contract.pk]),
        reverse("reviews:overview"),
        reverse("jobs:detail", args=[job.public_id]),
    ):
        body = client.get(url).content.decode()
        assert "FREELANCER-ONLY-NOTE" not in body, url
    # the author sees their own note on the contract page
    assert (
        "CLIENT-ONLY-NOTE"
        in client.get(reverse("contracts:detail", args=[ended.contract.pk])).content.decode()
    )


def test_reviewee_replies_from_the_contract_page(client, ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    _login(client, ended.freelancer)
    page = client.get(reverse("contracts:detail", args=[ended.contract.pk])).content.decode()
    assert 'data-testid="reply-box"' in page
    response = client.post(
        reverse("reviews:reply", args=[review.pk]), {"reply": "Thanks, a pleasure!"}, follow=True
    )
    assert "Your reply is posted" in response.content.decode()
    assert "Thanks, a pleasure!" in response.content.decode()
    again = client.post(reverse("reviews:reply", args=[review.pk]), {"reply": "Twice"}, follow=True)
    assert "already replied" in again.content.decode()
    review.refresh_from_db()
    assert review.reply == "Thanks, a pleasure!"


def test_report_link_only_for_those_the_report_page_takes(client, ended):
    """Its author sees no "Report" on their own review (the report page refuses them with a
    403); the reviewee sees the reply box first, then "Report"; anyone else signed in sees
    "Report"; a visitor does not. Each link shown opens the report form."""
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    profile_url = reverse("accounts:freelancer_detail", args=[ended.freelancer.freelancer_profile.public_id])
    report_url = reverse("accounts:report", args=["reviews.review", review.pk])
    link = f'href="{report_url}"'

    assert link not in client.get(profile_url).content.decode()  # a visitor
    _login(client, ended.client)  # the author
    assert "Delivered the booking site early" in (page := client.get(profile_url).content.decode())
    assert link not in page
    assert client.get(report_url).status_code == 403

    _login(client, ended.freelancer)  # the reviewee: reply first
    page = client.get(profile_url).content.decode()
    assert 'data-testid="reply-box"' in page and link not in page
    services.review_reply(actor=ended.freelancer, review_id=review.pk, text="Thanks!")
    assert link in client.get(profile_url).content.decode()
    assert client.get(report_url).status_code == 200

    _login(client, factories.make_freelancer())  # anyone else
    assert link in client.get(profile_url).content.decode()
    assert client.get(report_url).status_code == 200


def test_hidden_review_is_gone_from_the_profile(client, ended, staff):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    services.review_hide(actor=staff, review_id=review.pk, reason="Off-platform contact details")
    profile = ended.freelancer.freelancer_profile
    page = client.get(reverse("accounts:freelancer_detail", args=[profile.public_id])).content.decode()
    assert "Delivered the booking site early" not in page
    _login(client, ended.client)
    page = client.get(reverse("contracts:detail", args=[ended.contract.pk])).content.decode()
    assert "Off-platform contact details" in page  # the author is told why


def test_admin_hides_with_a_reason_and_logs_it(client, ended, staff):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    _login(client, staff)
    url = reverse("admin:reviews_review_changelist")
    detail = client.get(reverse("admin:reviews_review_change", args=[review.pk])).content.decode()
    assert SECRET_NOTE in detail  # staff read the private note

    ask = client.post(url, {"action": "hide_reviews", "_selected_action": [review.pk]})
    assert ask.status_code == 200 and "Hide these reviews" in ask.content.decode()
    done = client.post(
        url,
        {"action": "hide_reviews", "_selected_action": [review.pk], "apply": "1", "reason": "Insults"},
        follow=True,
    )
    assert "Hid 1 review." in done.content.decode()
    review.refresh_from_db()
    assert review.hidden_reason == "Insults" and review.hidden_by == staff
    assert LogEntry.objects.filter(object_id=str(review.pk), change_message="Hidden: Insults").exists()

    client.post(url, {"action": "unhide_reviews", "_selected_action": [review.pk]}, follow=True)
    review.refresh_from_db()
    assert review.hidden_at is None
