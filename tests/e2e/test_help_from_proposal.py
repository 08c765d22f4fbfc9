"""A freelancer on the proposal form follows the fee line's help link to the fees article,
searches the help center, and says the article helped."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from community.models import Article
from jobs.models import Job
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_fees_article_from_the_proposal_form(journey):
    # transactional tests empty every table: load the articles as the migration does
    call_command("seed_help_center", stdout=io.StringIO())
    client = factories.make_client(email="owner@example.com")
    freelancer = factories.make_published_freelancer(email="talent@example.com")
    job = make_job(client, title="Logo design for a bakery", size=Job.Size.SMALL)

    f = journey("freelancer")
    _log_in(f, freelancer.email)
    f.page.goto(f"/jobs/{job.public_id}/apply/")
    fee_line = f.page.get_by_test_id("fee-preview")
    link = fee_line.get_by_role("link", name="How fees work")
    link.wait_for()
    f.shot("proposal-form")
    link.click()
    f.page.wait_for_url("**/help/articles/fees/")
    assert f.page.get_by_test_id("article-title").inner_text() == "Marketplace fees explained"
    body = f.page.get_by_test_id("article-body").inner_text()
    assert "10 %" in body and "$450.00" in body
    f.shot("fees-article")

    f.page.get_by_test_id("feedback-yes").click()
    f.page.get_by_test_id("feedback-thanks").wait_for()
    assert "Thank you for your feedback" in f.page.locator("#messages").inner_text()
    f.shot("feedback-thanks")
    assert Article.objects.get(slug="fees").helpful_yes == 1

    f.page.locator("#help-q").first.fill("security hold")
    f.page.locator("form[role=search] button[type=submit]").first.click()
    f.page.wait_for_url("**/help/search/?q=security+hold")
    first_hit = f.page.get_by_test_id("help-hit").first
    assert "Escrow and the security hold" in first_hit.inner_text()
    assert first_hit.locator("mark").count() >= 1
    f.shot("search-results")
