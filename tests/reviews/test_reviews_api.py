"""The reviews API: submit, the contract's feedback, reply, public lists, pending feedback."""

from __future__ import annotations

import json

import pytest

from reviews import services
from reviews.models import Review
from tests import factories

from .conftest import SECRET_NOTE, about_client, about_freelancer

pytestmark = pytest.mark.django_db

BODY = {
    "rating": 5,
    "categories": {
        "skills": 5,
        "quality": 5,
        "availability": 5,
        "deadlines": 4,
        "communication": 5,
        "cooperation": 5,
    },
    "public_comment": "Excellent.",
    "private_note": SECRET_NOTE,
    "recommend_score": 10,
}


def test_submit_then_read_as_each_side(api_client, ended):
    api_client.force_authenticate(ended.client)
    url = f"/api/v1/contracts/{ended.contract.pk}/reviews/"
    response = api_client.post(url, BODY, format="json")
    assert response.status_code == 201, response.data
    assert response.data["private_note"] == SECRET_NOTE  # the author's own
    assert response.data["revealed_at"] is None

    again = api_client.post(url, BODY, format="json")
    assert again.status_code == 409 and again.data["code"] == "already_reviewed"

    api_client.force_authenticate(ended.freelancer)
    before = api_client.get(url)
    assert before.status_code == 200
    assert before.data["theirs"] is None and before.data["other_submitted"] is True
    assert before.data["can_submit"] is True

    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    after = api_client.get(url)
    assert after.data["theirs"]["rating"] == 5
    assert after.data["theirs"]["public_comment"] == "Excellent."
    assert SECRET_NOTE not in json.dumps(after.data["theirs"], default=str)
    assert "private_note" not in after.data["theirs"] and "recommend_score" not in after.data["theirs"]


@pytest.mark.parametrize(
    "change",
    [
        {"rating": 0},
        {"rating": 6},
        {"categories": {"skills": 5}},
        {"categories": {**BODY["categories"], "deadlines": 0}},
        {"recommend_score": 11},
    ],
)
def test_bad_input_is_400(api_client, ended, change):
    api_client.force_authenticate(ended.client)
    response = api_client.post(
        f"/api/v1/contracts/{ended.contract.pk}/reviews/", {**BODY, **change}, format="json"
    )
    assert response.status_code == 400
    assert response.data["message"]
    assert not Review.objects.exists()


def test_missing_fields_are_400(api_client, ended):
    api_client.force_authenticate(ended.client)
    response = api_client.post(
        f"/api/v1/contracts/{ended.contract.pk}/reviews/", {"rating": 4}, format="json"
    )
    assert response.status_code == 400
    assert response.data["code"] == "validation_error"
    assert set(response.data["extra"]["fields"]) == {"categories", "recommend_score"}


def test_foreign_users_get_404(api_client, ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    api_client.force_authenticate(factories.make_client())
    url = f"/api/v1/contracts/{ended.contract.pk}/reviews/"
    assert api_client.get(url).status_code == 404
    assert api_client.post(url, BODY, format="json").status_code == 404
    assert (
        api_client.post(f"/api/v1/reviews/{review.pk}/reply/", {"reply": "x"}, format="json").status_code
        == 404
    )
    api_client.force_authenticate(None)
    assert api_client.post(url, BODY, format="json").status_code in (401, 403)


def test_public_lists_show_visible_reviews_only_without_private_parts(api_client, ended, staff):
    profile = ended.freelancer.freelancer_profile
    url = f"/api/v1/freelancers/{profile.public_id}/reviews/"
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    assert api_client.get(url).data["results"] == []  # hidden until both or the window

    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    listed = api_client.get(url)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.data["results"]] == [review.pk]
    first = listed.data["results"][0]
    assert first["contract_title"] == ended.contract.title
    assert first["categories"][0] == {"label": "Skills", "score": 5}
    assert SECRET_NOTE not in json.dumps(listed.data, default=str)
    assert "recommend_score" not in first
    assert first["can_report"] is False and first["can_reply"] is False  # a visitor
    api_client.force_authenticate(ended.client)  # its author cannot report it
    assert api_client.get(url).data["results"][0]["can_report"] is False
    api_client.force_authenticate(factories.make_freelancer())
    assert api_client.get(url).data["results"][0]["can_report"] is True
    api_client.force_authenticate(None)

    client_list = api_client.get(f"/api/v1/clients/{ended.client.client_profile.public_id}/reviews/")
    assert client_list.data["count"] == 1
    assert SECRET_NOTE not in json.dumps(client_list.data, default=str)

    services.review_hide(actor=staff, review_id=review.pk, reason="Rules")
    assert api_client.get(url).data["results"] == []
    assert api_client.get("/api/v1/freelancers/nope/reviews/").status_code == 404


def test_reply_once_through_the_api(api_client, ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    api_client.force_authenticate(ended.client)
    refused = api_client.post(f"/api/v1/reviews/{review.pk}/reply/", {"reply": "Me?"}, format="json")
    assert refused.status_code == 403
    api_client.force_authenticate(ended.freelancer)
    done = api_client.post(f"/api/v1/reviews/{review.pk}/reply/", {"reply": "Thanks!"}, format="json")
    assert done.status_code == 200 and done.data["reply"] == "Thanks!"
    twice = api_client.post(f"/api/v1/reviews/{review.pk}/reply/", {"reply": "Again"}, format="json")
    assert twice.status_code == 409


def test_pending_feedback(api_client, ended):
    api_client.force_authenticate(ended.freelancer)
    response = api_client.get("/api/v1/reviews/pending/")
    assert response.status_code == 200
    assert [(i["contract_id"], i["role"]) for i in response.data] == [(ended.contract.pk, "freelancer")]
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    assert api_client.get("/api/v1/reviews/pending/").data == []


def test_the_schema_documents_the_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/contracts/{contract_id}/reviews/",
        "/api/v1/reviews/{review_id}/reply/",
        "/api/v1/reviews/pending/",
        "/api/v1/freelancers/{public_id}/reviews/",
        "/api/v1/clients/{public_id}/reviews/",
    ):
        assert path in schema["paths"], path
