"""Escrow through the API (Idempotency-Key replays, errors, 404 for non-parties) and the
HTML pages (fund, milestone page with the money timeline, submit, approve, refund, bonus)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from contracts import services
from contracts.models import Milestone
from payments import ledger
from payments.models import Charge
from tests import factories

from .conftest import DECLINED, save_card

pytestmark = pytest.mark.django_db
API = "/api/v1"


def authed(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def browser(client, user):
    client.force_login(user)
    return client


# --- API --------------------------------------------------------------------------------------------------


def test_fund_endpoint_replays_with_the_same_key(hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    api = authed(hire.client)
    url = f"{API}/contracts/{contract.pk}/fund/"
    body = {"milestone_ids": [milestone.pk]}
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert first.status_code == 200, first.content
    assert first.json()["funded"][0]["status"] == "funded"
    assert first.json()["escrow_cents"] == 50_000
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(reference=f"milestone:{milestone.pk}").count() == 1
    other = api.post(url, {"milestone_ids": [milestone.pk + 1]}, format="json", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert other.status_code == 422
    # without the key, a second funding is an illegal move
    assert api.post(url, body, format="json").json()["code"] == "illegal_transition"
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 50_000


def test_fund_endpoint_declined_and_foreign(hire, local_gateway, stranger_client):
    contract = hire.contract()
    save_card(hire.client, DECLINED)
    milestone = contract.milestones.first()
    url = f"{API}/contracts/{contract.pk}/fund/"
    response = authed(hire.client).post(url, {"milestone_ids": [milestone.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["failed"][0]["message"]
    response = authed(stranger_client).post(url, {"milestone_ids": [milestone.pk]}, format="json")
    assert response.status_code == 404
    response = authed(hire.client).post(url, {"milestone_ids": []}, format="json")
    assert response.status_code == 400


def test_api_lifecycle_submit_changes_approve(funded, hire, stranger_client):
    _contract, milestone = funded
    freelancer, client = authed(hire.freelancer), authed(hire.client)
    base = f"{API}/milestones/{milestone.pk}"
    assert authed(stranger_client).post(f"{base}/approve/").status_code == 404
    r = freelancer.post(f"{base}/submit/", {"message": "Done."}, format="multipart")
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["auto_approve_at"]
    r = client.post(f"{base}/request-changes/", {"note": "More tests."}, format="json")
    assert r.json()["status"] == "changes_requested"
    freelancer.post(f"{base}/submit/", {"message": "Again."}, format="multipart")
    assert freelancer.post(f"{base}/approve/").status_code == 403
    r = client.post(f"{base}/approve/", HTTP_IDEMPOTENCY_KEY="approve-1")
    assert r.json()["status"] == "released"
    assert client.post(f"{base}/approve/", HTTP_IDEMPOTENCY_KEY="approve-1").json()["status"] == "released"
    r = client.post(f"{base}/approve/")
    assert r.status_code == 400 and r.json()["code"] == "illegal_transition"


def test_api_refund_and_request(funded, hire):
    _contract, milestone = funded
    base = f"{API}/milestones/{milestone.pk}"
    r = authed(hire.client).post(f"{base}/refund-request/", {"reason": "Plans changed."}, format="json")
    assert r.status_code == 200
    assert authed(hire.client).post(f"{base}/refund/", {}, format="json").status_code == 403
    r = authed(hire.freelancer).post(f"{base}/refund/", {"amount_cents": 10_000}, format="json")
    assert r.json()["escrow_cents"] == 40_000 and r.json()["status"] == "funded"
    r = authed(hire.freelancer).post(f"{base}/refund/", {}, format="json")
    assert r.json()["status"] == "refunded"


def test_api_bonus(hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client)
    url = f"{API}/contracts/{contract.pk}/bonus/"
    r = authed(hire.client).post(url, {"amount_cents": 2_500, "note": "Thanks"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "paid"
    assert authed(hire.client).post(url, {"amount_cents": 5}, format="json").status_code == 400


# --- HTML ------------------------------------------------------------------------------------------------


def test_contract_page_without_card_links_to_billing(client, hire, local_gateway):
    contract = hire.contract()
    response = browser(client, hire.client).get(reverse("contracts:detail", args=[contract.pk]))
    assert 'data-testid="no-card"' in response.content.decode()
    milestone = contract.milestones.first()
    response = client.post(
        reverse("contracts:milestone_fund", args=[contract.pk]), {"milestone": [milestone.pk]}
    )
    message = next(str(m) for m in get_messages(response.wsgi_request))
    assert "Billing" in message and "/payments/billing/" in message


def test_fund_page_declined_message(client, hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client, DECLINED)
    milestone = contract.milestones.first()
    browser(client, hire.client)
    response = client.post(
        reverse("contracts:milestone_fund", args=[contract.pk]), {"milestone": [milestone.pk]}
    )
    assert response.status_code == 302
    message = next(str(m) for m in get_messages(response.wsgi_request))
    assert "was not funded" in message and "declined" in message.lower()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.PENDING


def test_html_full_cycle_and_timeline(client, hire, local_gateway):
    contract = hire.contract()
    save_card(hire.client)
    milestone = contract.milestones.order_by("pk").first()
    browser(client, hire.client)
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="fund"' in page
    client.post(reverse("contracts:milestone_fund", args=[contract.pk]), {"milestone": [milestone.pk]})
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert "Funded $500.00 on" in page and "$500.00" in page
    detail = reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    browser(client, hire.freelancer)
    response = client.post(
        reverse("contracts:milestone_submit", args=[contract.pk, milestone.pk]), {"message": ""}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("contracts:milestone_submit", args=[contract.pk, milestone.pk]), {"message": "Done."}
    )
    assert response.status_code == 302
    page = client.get(detail).content.decode()
    assert "Auto-release unless approved" in page and 'data-testid="auto-release"' in page
    browser(client, hire.client)
    client.post(reverse("contracts:milestone_approve", args=[contract.pk, milestone.pk]))
    page = client.get(detail).content.decode()
    assert "Released on" in page and "Available to withdraw on" in page
    # a second approval is refused with a message, not a 500
    response = client.post(reverse("contracts:milestone_approve", args=[contract.pk, milestone.pk]))
    assert response.status_code == 302
    assert "cannot be approved" in [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_html_refund_and_bonus(client, funded, hire):
    contract, milestone = funded
    browser(client, hire.freelancer)
    response = client.post(
        reverse("contracts:milestone_refund", args=[contract.pk, milestone.pk]),
        {"amount": "100", "reason": ""},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.refunded_cents == 10_000
    browser(client, hire.client)
    assert client.get(reverse("contracts:bonus", args=[contract.pk])).status_code == 200
    response = client.post(reverse("contracts:bonus", args=[contract.pk]), {"amount": "25", "note": "Thanks"})
    assert response.status_code == 302
    response = client.post(reverse("contracts:bonus", args=[contract.pk]), {"amount": "0.5"})
    assert response.status_code == 400


def test_foreign_users_get_404_on_pages(client, funded, hire):
    contract, milestone = funded
    browser(client, factories.make_client())
    assert (
        client.get(reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])).status_code == 404
    )
    assert (
        client.post(reverse("contracts:milestone_approve", args=[contract.pk, milestone.pk])).status_code
        == 404
    )
    assert client.post(reverse("contracts:milestone_fund", args=[contract.pk])).status_code == 404
    assert client.get(reverse("contracts:bonus", args=[contract.pk])).status_code == 404
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="x")


def test_staff_see_escrow_in_admin(client, staff, funded, hire):
    contract, milestone = funded
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
    client.force_login(staff)
    for name in ("admin:contracts_milestone_changelist", "admin:contracts_milestonesubmission_changelist"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("admin:contracts_milestone_change", args=[milestone.pk])).status_code == 200
    assert client.get(reverse("admin:contracts_contract_change", args=[contract.pk])).status_code == 200
    response = client.post(
        reverse("admin:contracts_milestone_changelist"),
        {"action": "run_auto_approval", "_selected_action": [milestone.pk]},
    )
    assert response.status_code == 302


def test_submission_files_on_the_milestone_page(client, funded, hire):
    from django.core.files.uploadedfile import SimpleUploadedFile

    contract, milestone = funded
    browser(client, hire.freelancer)
    upload = SimpleUploadedFile("notes.txt", b"the notes", content_type="text/plain")
    response = client.post(
        reverse("contracts:milestone_submit", args=[contract.pk, milestone.pk]),
        {"message": "Done, notes attached.", "files": [upload]},
    )
    assert response.status_code == 302
    browser(client, hire.client)
    page = client.get(
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    ).content.decode()
    assert "notes.txt" in page and "Done, notes attached." in page
    item = milestone.submissions.get().files.get()
    download = client.get(reverse("contracts:file_download", args=[contract.pk, item.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"the notes"
