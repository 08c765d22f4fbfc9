"""A newcomer signs up as a freelancer, verifies the email, completes the wizard and sees
the public profile. Screenshots of every page land in tests/e2e/artifacts/."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from PIL import Image

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _png(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (20, 140, 60)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_freelancer_signs_up_verifies_and_publishes_profile(journey, tmp_path):
    j = journey()
    page = j.page

    page.goto("/")
    j.shot("home")
    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_url("**/accounts/signup/")
    page.check("input[name=role][value=freelancer]")
    page.fill("input[name=first_name]", "Ada")
    page.fill("input[name=last_name]", "Lovelace")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password1]", "analytical-engine-1843")
    page.fill("input[name=password2]", "analytical-engine-1843")
    j.shot("signup-filled")
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")
    j.shot("verification-sent")

    # the verification link from the captured mail
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    j.shot("confirm-email")
    page.locator("main form button[type=submit]").click()

    # straight into the wizard: about your work
    page.wait_for_url("**/me/onboarding/about/")
    j.shot("wizard-about")
    page.fill("input[name=title]", "Analytical engine programmer")
    page.select_option("select[name=category]", label="Web, Mobile & Software Dev")
    page.wait_for_selector("#skill-options label:has-text('Python')")
    page.get_by_label("Python", exact=True).check()
    page.get_by_label("Django", exact=True).check()
    page.select_option("select[name=experience_level]", "expert")
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/me/onboarding/education/")
    page.fill("input[name=school]", "University of London")
    page.fill("input[name=degree]", "BSc")
    page.fill("input[name=start_year]", "2010")
    page.fill("input[name=end_year]", "2014")
    page.get_by_role("button", name="Add education").click()
    page.wait_for_selector("text=University of London")
    j.shot("wizard-education")
    page.get_by_test_id("next-step").click()

    page.wait_for_url("**/me/onboarding/experience/")
    page.fill("input[name=company]", "Babbage & Co")
    page.fill("input[name=title]", "Programmer")
    page.fill("input[name=start_date]", "2015-01-01")
    page.get_by_role("button", name="Add position").click()
    page.wait_for_selector("text=Babbage & Co")
    j.shot("wizard-experience")
    page.get_by_test_id("next-step").click()

    page.wait_for_url("**/me/onboarding/languages/")
    page.get_by_test_id("next-step").click()  # no language yet: refused with a message
    page.wait_for_selector("text=Add at least one language")
    page.select_option("select[name=language]", "en")
    page.select_option("select[name=proficiency]", "native")
    page.get_by_role("button", name="Add language").click()
    page.wait_for_selector("text=Native or bilingual")
    j.shot("wizard-languages")
    page.get_by_test_id("next-step").click()

    page.wait_for_url("**/me/onboarding/rate/")
    page.fill("input[name=hourly_rate]", "80")
    # the fee preview updates live: 10% of $80
    assert page.locator("#net-rate").inner_text() == "$72.00"
    j.shot("wizard-rate")
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/me/onboarding/overview/")
    page.fill("textarea[name=overview]", "I write programs for engines that do not exist yet. " * 4)
    page.set_input_files("input[name=photo]", _png(tmp_path / "ada.png"))
    page.select_option("select[name=country]", "GB")
    page.select_option("select[name=timezone]", "Europe/London")
    j.shot("wizard-overview")
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url("**/me/onboarding/review/")
    j.shot("wizard-review")
    page.get_by_test_id("publish").click()

    page.wait_for_url("**/freelancers/~*/")
    profile_url = page.url
    j.shot("public-profile")
    assert page.locator("h1").inner_text() == "Ada L."
    assert page.get_by_text("Analytical engine programmer").count() >= 1
    assert page.get_by_text("$80.00").count() >= 1
    assert page.locator(".skill-chip", has_text="Python").count() == 1
    assert page.locator("img.avatar").count() == 1

    # the dashboard no longer nags: only the portfolio is missing
    page.goto("/dashboard/")
    j.shot("dashboard")
    assert "90% complete" in page.locator("[data-testid=completeness]").inner_text()

    # and an anonymous visitor sees the same public page
    other = journey("anonymous")
    other.page.goto(profile_url)
    other.shot("public-profile-anonymous")
    assert other.page.locator("h1").inner_text() == "Ada L."
