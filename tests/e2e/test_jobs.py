"""A client posts a job through the wizard; a freelancer finds it by keyword and filter,
saves it, and sees it in Best matches with the reasons it was suggested."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from accounts import services as account_services
from accounts.models import Skill
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url("**/dashboard/")


def test_client_posts_a_job_and_a_freelancer_finds_saves_and_is_matched(journey):
    python = Skill.objects.get(name="Python")
    django_skill = Skill.objects.get(name="Django")
    client = factories.make_client(email="hiring@example.com")
    freelancer = factories.make_published_freelancer(email="dev@example.com")
    account_services.freelancer_profile_update(
        actor=freelancer,
        category_id=python.subcategory.category_id,
        subcategory_id=python.subcategory_id,
        title="Python and Django developer",
        hourly_rate_cents=4500,
    )
    account_services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[python.pk, django_skill.pk])

    # --- the client posts a job through the wizard
    c = journey("client")
    _log_in(c, client.email)
    c.shot("client-dashboard")
    c.page.get_by_role("link", name="Post a job").first.click()
    c.page.wait_for_url("**/jobs/new/")
    c.page.fill("input[name=title]", "Django developer for a booking platform")
    c.page.select_option("select[name=category]", label="Web, Mobile & Software Dev")
    c.shot("wizard-title")
    c.page.get_by_test_id("continue").click()

    c.page.wait_for_url("**/edit/skills/")
    c.page.get_by_label("Python", exact=True).check()
    c.page.get_by_label("Django", exact=True).check()
    c.shot("wizard-skills")
    c.page.get_by_test_id("continue").click()

    c.page.wait_for_url("**/edit/scope/")
    c.shot("wizard-scope")
    c.page.get_by_test_id("continue").click()

    c.page.wait_for_url("**/edit/budget/")
    c.page.check("input[name=budget_type][value=fixed]")
    c.page.fill("input[name=fixed_budget]", "1500")
    c.shot("wizard-budget")
    c.page.get_by_test_id("continue").click()

    c.page.wait_for_url("**/edit/details/")
    c.page.fill(
        "textarea[name=description]",
        "We run a small travel agency and need a booking platform built with Django and PostgreSQL. "
        "You will design the data model, build the booking flow and deploy it.",
    )
    c.shot("wizard-details")
    c.page.get_by_test_id("continue").click()

    c.page.wait_for_url("**/preview/")
    c.shot("wizard-preview")
    c.page.get_by_test_id("publish").click()
    c.page.wait_for_url("**/jobs/~*/")
    c.shot("job-published")
    assert c.page.locator("h1").first.inner_text() == "Django developer for a booking platform"

    # --- the freelancer finds it by keyword and filter
    f = journey("freelancer")
    _log_in(f, freelancer.email)
    f.page.goto("/jobs/search/")
    f.shot("search-empty-query")
    f.page.fill("input[name=q]", "booking django")
    f.page.check("input[name=budget_type][value=fixed]")
    f.page.get_by_test_id("apply-filters").click()
    f.page.wait_for_url(lambda url: "budget_type=fixed" in url)
    f.page.wait_for_load_state("networkidle")
    f.page.wait_for_selector("text=Django developer for a booking platform")
    query = parse_qs(urlparse(f.page.url).query)
    assert query["q"] == ["booking django"]
    assert query["budget_type"] == ["fixed"]
    f.shot("search-results")

    # a filter that excludes it
    f.page.goto("/jobs/search/?q=booking+django&budget_type=hourly")
    assert f.page.get_by_text("Django developer for a booking platform").count() == 0
    f.shot("search-filtered-out")

    # save it from the results
    f.page.goto("/jobs/search/?q=booking+django&budget_type=fixed")
    card = f.page.locator("article.job-card", has_text="Django developer for a booking platform")
    card.get_by_role("button", name="Save job").click()
    card.get_by_role("button", name="Saved").wait_for()
    f.page.goto("/jobs/saved/")
    f.shot("saved-jobs")
    assert f.page.get_by_text("Django developer for a booking platform").count() == 1

    # Best matches shows it with its reasons
    f.page.goto("/jobs/feed/")
    f.shot("best-matches")
    match = f.page.locator("article.job-card", has_text="Django developer for a booking platform")
    reasons = match.get_by_test_id("match-reasons").inner_text()
    assert "2 of 2 skills" in reasons
