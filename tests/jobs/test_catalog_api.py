"""Service catalog API, HTML forms of "My services" and the staff review in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Skill
from jobs.models import ServiceListing, ServiceOrder
from tests import factories
from tests.jobs.catalog_helpers import answers_for, make_listing, save_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def test_api_lists_only_approved_and_filters(client):
    approved = make_listing(title="I will write product descriptions")
    draft = make_listing(approve=False, title="I will keep this one hidden")
    body = client.get(reverse("api_services")).json()
    assert [r["public_id"] for r in body["results"]] == [approved.public_id]
    assert client.get(reverse("api_service", args=[draft.public_id])).status_code == 404
    detail = client.get(reverse("api_service", args=[approved.public_id])).json()
    assert [t["name"] for t in detail["tiers"]] == ["starter", "standard", "advanced"]
    bad = client.get(reverse("api_services"), {"min_price_cents": "cheap"})
    assert bad.status_code == 400 and "message" in bad.json()


def test_api_buy_and_run_the_order(local_gateway):
    listing = make_listing()
    buyer = factories.make_client()
    save_card(buyer)
    api = APIClient()
    api.force_authenticate(buyer)
    response = api.post(
        reverse("api_service_buy", args=[listing.public_id]), {"tier": "standard"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["paid"] is True
    public_id = response.json()["order"]["public_id"]
    assert response.json()["order"]["status"] == "awaiting_requirements"
    bad = api.post(
        reverse("api_service_order_requirements", args=[public_id]), {"answers": []}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "answers_required"
    ok = api.post(
        reverse("api_service_order_requirements", args=[public_id]),
        {"answers": answers_for(listing)},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"
    # the buyer cannot deliver; a stranger cannot see the order
    assert (
        api.post(reverse("api_service_order_deliver", args=[public_id]), {"message": "x"}).status_code == 403
    )
    stranger = APIClient()
    stranger.force_authenticate(factories.make_client())
    assert stranger.get(reverse("api_service_order", args=[public_id])).status_code == 404
    seller = APIClient()
    seller.force_authenticate(listing.freelancer)
    done = seller.post(reverse("api_service_order_deliver", args=[public_id]), {"message": "Here it is."})
    assert done.status_code == 200 and done.json()["status"] == "delivered"
    approved = api.post(reverse("api_service_order_approve", args=[public_id]))
    assert approved.status_code == 200 and approved.json()["status"] == "completed"


def test_api_buy_bad_input(local_gateway):
    listing = make_listing()
    api = APIClient()
    api.force_authenticate(factories.make_client())
    url = reverse("api_service_buy", args=[listing.public_id])
    assert api.post(url, {"tier": "gold"}, format="json").status_code == 400
    response = api.post(url, {"tier": "standard", "addon_ids": [987654]}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "addon_invalid"
    assert api.post(reverse("api_service_buy", args=["~05nope"]), {"tier": "standard"}).status_code == 404
    assert not ServiceOrder.objects.exists()


def test_the_schema_documents_the_catalog_endpoints(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    assert "/api/v1/services/" in schema["paths"]
    assert "/api/v1/services/{public_id}/orders/" in schema["paths"]


def _form_data(**overrides):
    from tests.jobs.conftest import _ensure_taxonomy

    _ensure_taxonomy()
    skill = Skill.objects.get(name="Python")
    data = {
        "title": "I will build your Django site",
        "category": skill.subcategory.category_id,
        "skills": [skill.pk],
        "description": "A complete Django site with tests, deployment and documentation. " * 2,
        "questions": "What is the site for?\nAny examples?",
        "revision_price": "15",
    }
    for i, name in enumerate(["starter", "standard", "advanced"], start=1):
        data.update(
            {
                f"{name}_price": str(50 * i),
                f"{name}_days": 3 + i,
                f"{name}_revisions": i,
                f"{name}_included": f"{name} things",
            }
        )
    data.update(overrides)
    return data


def test_my_services_create_edit_submit(client):
    from tests.jobs.conftest import _ensure_taxonomy

    _ensure_taxonomy()
    seller = factories.make_published_freelancer()
    client.force_login(seller)
    empty = client.get(reverse("jobs:my_services"))
    assert "You have no services yet" in empty.content.decode()
    bad = client.post(reverse("jobs:service_create"), _form_data(standard_price="cheap"))
    assert bad.status_code == 200 and "Enter an amount" in bad.content.decode()
    order_bad = client.post(reverse("jobs:service_create"), _form_data(standard_price="10"))
    assert "at least as much" in order_bad.content.decode()
    assert not ServiceListing.objects.exists()
    response = client.post(reverse("jobs:service_create"), _form_data(), follow=True)
    assert "saved as a draft" in response.content.decode()
    listing = ServiceListing.objects.get()
    assert listing.min_price_cents == 5_000 and listing.requirements.count() == 2
    client.post(
        reverse("jobs:service_edit", args=[listing.pk]), _form_data(title="I will build your Django app")
    )
    listing.refresh_from_db()
    assert listing.title == "I will build your Django app"
    response = client.post(reverse("jobs:service_submit", args=[listing.pk]), follow=True)
    assert "Submitted for review" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == "pending"
    again = client.post(reverse("jobs:service_submit", args=[listing.pk]), follow=True)
    assert "cannot become" in again.content.decode()


def test_admin_approves_and_rejects_with_reason(client):
    staff = factories.make_staff()
    first = make_listing(approve=False, title="I will be approved by staff")
    second = make_listing(approve=False, title="I will be rejected by staff")
    for listing in (first, second):
        from jobs import catalog

        catalog.listing_submit(actor=listing.freelancer, listing_id=listing.pk)
    client.force_login(staff)
    url = reverse("admin:jobs_servicelisting_changelist")
    assert client.get(url).status_code == 200
    client.post(url, {"action": "approve_selected", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.status == "approved"
    confirm = client.post(url, {"action": "reject_selected", "_selected_action": [second.pk]})
    assert confirm.status_code == 200 and "Reason" in confirm.content.decode()
    client.post(
        url,
        {
            "action": "reject_selected",
            "_selected_action": [second.pk],
            "apply": "1",
            "reason": "Stock photos.",
        },
    )
    second.refresh_from_db()
    assert second.status == "rejected" and second.rejection_reason == "Stock photos."
    assert client.get(reverse("admin:jobs_servicelisting_change", args=[second.pk])).status_code == 200
