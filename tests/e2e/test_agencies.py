"""Agencies in a real browser: a freelancer founds an agency from "My agency", invites a
colleague by email; the colleague opens the emailed link, accepts and shows on the public
agency page; the apply form then offers "Propose as" the agency."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import AgencyMembership, AgencyRole
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_found_invite_accept_and_propose_as(journey):
    founder = factories.make_published_freelancer()
    colleague = factories.make_published_freelancer()
    job = make_job(factories.make_client())

    # --- the founder creates the agency and invites the colleague
    o = journey("owner")
    _log_in(o, founder.email)
    o.page.goto("/dashboard/")
    o.page.get_by_test_id("my-agency-link").click()
    o.page.wait_for_url("**/agencies/")
    assert "You are not in an agency yet." in o.page.content()
    o.shot("my-agencies-empty")
    o.page.get_by_test_id("create-agency").click()
    o.page.fill("input[name=name]", "Blue Harbor Labs")
    o.page.fill("input[name=tagline]", "Data products for small teams")
    o.shot("create-form")
    o.page.get_by_role("button", name="Create agency").click()
    o.page.wait_for_url("**/agencies/blue-harbor-labs/manage/")
    assert "is created" in o.page.content()
    form = o.page.get_by_test_id("invite-form")
    form.locator("input[name=email]").fill(colleague.email)
    form.get_by_role("button", name="Send invitation").click()
    o.page.wait_for_url("**/agencies/blue-harbor-labs/manage/")
    assert colleague.email in o.page.get_by_test_id("pending-invitations").inner_text()
    o.shot("invitation-pending")

    link = re.search(r"https?://\S+/agencies/invitations/[^/\s]+/", mail.outbox[-1].body)
    assert link is not None and mail.outbox[-1].to == [colleague.email]
    path = "/" + link.group(0).split("/", 3)[3]

    # --- the colleague accepts from the emailed link
    c = journey("colleague")
    _log_in(c, colleague.email)
    c.page.goto(path)
    c.shot("invitation")
    c.page.get_by_test_id("accept-invitation").click()
    c.page.wait_for_url("**/agencies/blue-harbor-labs/")
    members = c.page.get_by_test_id("agency-members").inner_text()
    assert colleague.display_name in members and founder.display_name in members
    c.shot("agency-page")
    assert AgencyMembership.objects.get(user=colleague).role == AgencyRole.MEMBER

    # --- and may now propose as the agency
    c.page.goto(f"/jobs/{job.public_id}/apply/")
    options = c.page.locator("select[name=propose_as] option").all_inner_texts()
    assert options == ["Myself", "Blue Harbor Labs"]
    c.shot("apply-propose-as")

    # --- the owner sees the earnings page (empty)
    o.page.goto("/agencies/blue-harbor-labs/earnings/")
    assert "Nothing distributed yet." in o.page.content()
    o.shot("earnings")
