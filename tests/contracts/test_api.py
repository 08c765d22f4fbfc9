"""The offers and contracts API: every endpoint, its errors, and 404 for non-parties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import Contract, Milestone, Offer
from tests import factories

from .conftest import Hire

pytestmark = pytest.mark.django_db
API = "/api/v1"


def authed(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == code
    return body


def offer_document(**overrides) -> dict:
    data = {
        "title": "Build the booking site",
        "contract_type": "fixed",
        "start_date": timezone.localdate().isoformat(),
        "milestones": [
            {"description": "Design", "amount_cents": 50_000},
            {"description": "Build", "amount_cents": 100_000, "due_date": None},
        ],
        "expires_in_days": 5,
    }
    data.update(overrides)
    return data


# --- offers -------------------------------------------------------------------------------------------


def test_create_an_offer_from_a_proposal(hire):
    response = authed(hire.client).post(
        f"{API}/offers/", offer_document(proposal_id=hire.proposal.pk), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    offer = Offer.objects.get()
    assert body["id"] == offer.pk
    assert body["status"] == "pending"
    assert body["fixed_amount_cents"] == 150_000
    assert [m["amount_cents"] for m in body["milestones"]] == [50_000, 100_000]
    assert body["freelancer"] == {"id": hire.freelancer.pk, "name": hire.freelancer.display_name}
    assert body["job_public_id"] == hire.job.public_id
    assert body["url"] == f"/contracts/offers/{offer.pk}/"
    assert body["contract_id"] is None


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"milestones": [{"description": "Free", "amount_cents": 0}]}, 400, "milestone_amount_invalid"),
        ({"milestones": []}, 400, "milestones_required"),
        ({"description": "x" * 100_000}, 400, "validation_error"),  # refused by the shape check already
        ({"start_date": "1999-01-01"}, 400, "start_date_in_past"),
        ({"expires_in_days": 30}, 400, "expiry_out_of_range"),
        (
            {"contract_type": "hourly", "milestones": [], "hourly_rate_cents": 4500, "weekly_limit_hours": 0},
            400,
            "weekly_limit_out_of_range",
        ),
        ({"contract_type": "monthly"}, 400, "validation_error"),
        ({"proposal_id": 10**9}, 404, "not_found"),
    ],
)
def test_create_errors_come_in_the_envelope(hire, overrides, status, code):
    document = offer_document(proposal_id=hire.proposal.pk)
    document.update(overrides)
    envelope(authed(hire.client).post(f"{API}/offers/", document, format="json"), status, code)
    assert not Offer.objects.exists()


def test_an_hourly_offer_with_a_bad_weekly_limit(hourly_hire):
    document = offer_document(
        proposal_id=hourly_hire.proposal.pk, contract_type="hourly", milestones=[], hourly_rate_cents=4500
    )
    for hours in (0, 500):
        body = envelope(
            authed(hourly_hire.client).post(
                f"{API}/offers/", {**document, "weekly_limit_hours": hours}, format="json"
            ),
            400,
            "weekly_limit_out_of_range",
        )
        assert body["extra"]["field"] == "weekly_limit_hours"
    response = authed(hourly_hire.client).post(
        f"{API}/offers/", {**document, "weekly_limit_hours": None}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["weekly_limit_hours"] is None


def test_accept_decline_withdraw(hire):
    offer = hire.offer()
    freelancer = authed(hire.freelancer)
    envelope(authed(hire.client).post(f"{API}/offers/{offer.pk}/accept/"), 403, "wrong_party")

    response = freelancer.post(f"{API}/offers/{offer.pk}/accept/")
    assert response.status_code == 200
    contract = Contract.objects.get()
    assert response.json()["id"] == contract.pk
    assert response.json()["status"] == "active"
    assert response.json()["total_cents"] == 150_000
    again = freelancer.post(f"{API}/offers/{offer.pk}/accept/")
    assert again.json()["id"] == contract.pk
    assert freelancer.get(f"{API}/offers/{offer.pk}/").json()["contract_id"] == contract.pk

    envelope(
        freelancer.post(f"{API}/offers/{offer.pk}/decline/", {"reason": "busy"}), 400, "illegal_transition"
    )

    second = Hire()
    offer = second.offer()
    envelope(
        authed(second.freelancer).post(f"{API}/offers/{offer.pk}/decline/", {"reason": "bored"}),
        400,
        "validation_error",
    )
    response = authed(second.freelancer).post(
        f"{API}/offers/{offer.pk}/decline/", {"reason": "rate", "note": "Low"}
    )
    assert response.status_code == 200 and response.json()["decline_reason"] == "rate"

    third = Hire()
    offer = third.offer()
    response = authed(third.client).post(f"{API}/offers/{offer.pk}/withdraw/", {"note": "Sorry"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["withdraw_note"]) == ("withdrawn", "Sorry")


def test_accepting_an_expired_offer_is_an_error_and_expires_it(hire):
    offer = hire.offer()
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    envelope(authed(hire.freelancer).post(f"{API}/offers/{offer.pk}/accept/"), 400, "offer_expired")
    offer.refresh_from_db()
    assert offer.status == "expired"


def test_offer_lists_by_role_and_status(hire):
    offer = hire.offer()
    received = authed(hire.freelancer).get(f"{API}/offers/?role=freelancer")
    assert [o["id"] for o in received.json()["results"]] == [offer.pk]
    sent = authed(hire.client).get(f"{API}/offers/?role=client&status=pending")
    assert [o["id"] for o in sent.json()["results"]] == [offer.pk]
    assert authed(hire.client).get(f"{API}/offers/?role=freelancer").json()["results"] == []
    assert authed(hire.client).get(f"{API}/offers/?role=client&status=declined").json()["results"] == []
    envelope(authed(hire.client).get(f"{API}/offers/?status=nope"), 400, "invalid_filter")
    envelope(authed(hire.client).get(f"{API}/offers/?role=admin"), 400, "invalid_filter")


# --- contracts ----------------------------------------------------------------------------------------


def test_contract_list_detail_and_events(fixed_contract, hourly_contract):
    client = authed(fixed_contract.client)
    listed = client.get(f"{API}/contracts/?role=client").json()["results"]
    assert [c["id"] for c in listed] == [fixed_contract.pk]
    assert listed[0]["milestones"][0]["status"] == "pending"
    assert client.get(f"{API}/contracts/?role=client&status=ended").json()["results"] == []
    assert (
        authed(fixed_contract.freelancer).get(f"{API}/contracts/?role=freelancer").json()["results"][0]["id"]
        == fixed_contract.pk
    )

    detail = client.get(f"{API}/contracts/{fixed_contract.pk}/").json()
    assert detail["conversation_id"] == fixed_contract.conversation_id
    assert detail["offer_id"] == fixed_contract.offer_id
    events = client.get(f"{API}/contracts/{fixed_contract.pk}/events/").json()["results"]
    assert [(e["kind"], e["actor"]["id"]) for e in events] == [("started", fixed_contract.freelancer_id)]
    assert events[0]["text"].startswith("Contract started")


def test_hourly_contract_actions(hourly_contract):
    client = authed(hourly_contract.client)
    url = f"{API}/contracts/{hourly_contract.pk}"
    assert client.post(f"{url}/pause/").json()["status"] == "paused"
    envelope(client.post(f"{url}/pause/"), 400, "illegal_transition")
    assert client.post(f"{url}/resume/").json()["status"] == "active"
    assert (
        client.post(f"{url}/weekly-limit/", {"weekly_limit_hours": 30}, format="json").json()[
            "weekly_limit_hours"
        ]
        == 30
    )
    assert (
        client.post(f"{url}/weekly-limit/", {"weekly_limit_hours": None}, format="json").json()[
            "weekly_limit_hours"
        ]
        is None
    )
    envelope(
        client.post(f"{url}/weekly-limit/", {"weekly_limit_hours": 500}, format="json"),
        400,
        "weekly_limit_out_of_range",
    )
    envelope(authed(hourly_contract.freelancer).post(f"{url}/pause/"), 403, "wrong_party")
    ended = authed(hourly_contract.freelancer).post(f"{url}/end/", {"reason": "completed"})
    assert ended.json()["status"] == "ended" and ended.json()["end_reason"] == "completed"
    envelope(client.post(f"{url}/end/", {"reason": "completed"}), 400, "illegal_transition")


def test_milestones_through_the_api(fixed_contract):
    client = authed(fixed_contract.client)
    url = f"{API}/contracts/{fixed_contract.pk}/milestones/"
    response = client.post(url, {"description": "Extra", "amount_cents": 1500}, format="json")
    assert response.status_code == 201
    milestone_id = response.json()["id"]
    envelope(
        client.post(url, {"description": "Free", "amount_cents": 0}, format="json"),
        400,
        "milestone_amount_invalid",
    )
    envelope(
        client.post(url, {"description": "Negative", "amount_cents": -1}, format="json"),
        400,
        "milestone_amount_invalid",
    )

    patched = client.patch(f"{url}{milestone_id}/", {"amount_cents": 2500}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["description"], patched.json()["amount_cents"]) == ("Extra", 2500)

    envelope(authed(fixed_contract.freelancer).delete(f"{url}{milestone_id}/"), 403, "wrong_party")
    assert client.delete(f"{url}{milestone_id}/").status_code == 204
    assert not Milestone.objects.filter(pk=milestone_id).exists()


# --- non-parties --------------------------------------------------------------------------------------


@pytest.fixture
def targets(hire, hourly_hire):
    contract = hire.contract()
    offer = Hire().offer()
    hourly = hourly_hire.contract()
    milestone = contract.milestones.first()
    c, h = f"{API}/contracts/{contract.pk}", f"{API}/contracts/{hourly.pk}"
    return {
        "offer": offer,
        "contract": contract,
        "calls": [
            ("get", f"{API}/offers/{offer.pk}/", {}),
            ("post", f"{API}/offers/{offer.pk}/accept/", {}),
            ("post", f"{API}/offers/{offer.pk}/decline/", {"reason": "busy"}),
            ("post", f"{API}/offers/{offer.pk}/withdraw/", {}),
            ("get", f"{c}/", {}),
            ("get", f"{c}/events/", {}),
            ("post", f"{h}/pause/", {}),
            ("post", f"{h}/resume/", {}),
            ("post", f"{h}/weekly-limit/", {"weekly_limit_hours": 5}),
            ("post", f"{c}/end/", {"reason": "other"}),
            ("post", f"{c}/milestones/", {"description": "x", "amount_cents": 100}),
            ("patch", f"{c}/milestones/{milestone.pk}/", {"amount_cents": 1}),
            ("delete", f"{c}/milestones/{milestone.pk}/", {}),
        ],
    }


@pytest.mark.parametrize("who", ["other_client", "other_freelancer"])
def test_non_parties_get_404_from_every_endpoint(targets, who):
    user = factories.make_client() if who == "other_client" else factories.make_published_freelancer()
    client = authed(user)
    for method, url, data in targets["calls"]:
        response = getattr(client, method)(url, data, format="json")
        envelope(response, 404, "not_found")
    assert client.get(f"{API}/offers/?role=client").json()["results"] == []
    assert client.get(f"{API}/contracts/?role=freelancer").json()["results"] == []
    targets["offer"].refresh_from_db()
    assert targets["offer"].status == "pending"
    assert targets["contract"].milestones.count() == 2


def test_anonymous_callers_are_refused_everywhere(targets):
    client = APIClient()
    for method, url, data in [
        *targets["calls"],
        ("get", f"{API}/offers/", {}),
        ("get", f"{API}/contracts/", {}),
    ]:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code in (401, 403), url
        assert "title" not in response.json()


def test_the_schema_documents_the_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/offers/",
        "/api/v1/offers/{offer_id}/",
        "/api/v1/offers/{offer_id}/accept/",
        "/api/v1/offers/{offer_id}/decline/",
        "/api/v1/offers/{offer_id}/withdraw/",
        "/api/v1/contracts/",
        "/api/v1/contracts/{contract_id}/",
        "/api/v1/contracts/{contract_id}/events/",
        "/api/v1/contracts/{contract_id}/pause/",
        "/api/v1/contracts/{contract_id}/resume/",
        "/api/v1/contracts/{contract_id}/weekly-limit/",
        "/api/v1/contracts/{contract_id}/end/",
        "/api/v1/contracts/{contract_id}/milestones/",
        "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/",
    ):
        assert path in schema["paths"], path
    assert set(schema["components"]["schemas"]["Offer"]["properties"]) >= {
        "status",
        "milestones",
        "expires_at",
    }


def test_the_schema_has_no_warnings_about_contracts(capsys):
    from drf_spectacular.generators import SchemaGenerator

    capsys.readouterr()
    SchemaGenerator().get_schema(request=None, public=True)
    err = capsys.readouterr().err
    ours = [line for line in err.splitlines() if "contracts" in line or "Offer" in line or "Contract" in line]
    assert ours == []
