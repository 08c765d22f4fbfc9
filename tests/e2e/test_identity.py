"""Identity verification and the staff dashboard in a real browser: a freelancer sends an ID
from the settings page; staff open the private document from the admin, approve it with the
admin action and look at the staff dashboard; the freelancer's profile shows the badge."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from accounts.models import IdentityVerification
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_submit_review_and_badge(journey, tmp_path):
    pro = factories.make_published_freelancer()
    staff = factories.make_staff()
    scan = tmp_path / "passport.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 420), (40, 90, 160)).save(buffer, format="JPEG")
    scan.write_bytes(buffer.getvalue())

    # --- the freelancer sends a passport scan from the settings page
    f = journey("freelancer")
    _log_in(f, pro.email)
    f.page.goto("/me/settings/")
    card = f.page.get_by_test_id("identity-card")
    card.locator("select[name=document_type]").select_option("passport")
    card.locator("input[name=legal_name]").fill("Jane Q. Doe")
    card.locator("select[name=country]").select_option("PL")
    card.locator("input[name=document]").set_input_files(str(scan))
    f.shot("identity-form")
    card.get_by_role("button", name="Send for review").click()
    f.page.wait_for_url("**/me/settings/")
    assert "Your document was sent" in f.page.content()
    assert "Waiting for review" in f.page.get_by_test_id("identity-card").inner_text()
    f.shot("identity-pending")
    verification = IdentityVerification.objects.get(user=pro)

    # --- staff open the document and approve it through the admin action
    s = journey("staff")
    _log_in(s, staff.email)
    s.page.goto("/admin/accounts/identityverification/")
    s.shot("admin-changelist")
    document = s.context.request.get(f"/me/identity/{verification.pk}/document/")
    assert document.status == 200
    assert document.headers["content-type"] == "image/jpeg"
    s.page.locator(f"input[name=_selected_action][value='{verification.pk}']").check()
    s.page.select_option("select[name=action]", "approve_selected")
    with s.page.expect_navigation():
        s.page.locator("button[name=index]").click()
    assert "Approved 1 identity document" in s.page.content()
    s.shot("admin-approved")

    # --- the staff dashboard, reached from the admin header
    s.page.goto("/admin/")
    s.page.get_by_role("link", name="Staff dashboard").click()
    s.page.wait_for_url("**/staff/")
    assert s.page.get_by_test_id("chart-signups").is_visible()
    assert s.page.get_by_test_id("fraud-signals").is_visible()
    s.shot("staff-dashboard")

    # --- the badge on the public profile; the document is gone
    f.page.goto(f"/freelancers/{pro.freelancer_profile.public_id}/")
    assert f.page.get_by_test_id("id-verified-badge").is_visible()
    f.shot("profile-badge")
    gone = f.context.request.get(f"/me/identity/{verification.pk}/document/")
    assert gone.status == 404
