"""The proposals API: sending (JSON and multipart), reading, changing and withdrawing as the
freelancer; listing, shortlisting, archiving, declining and messaging as the client;
Connects. Strangers get 404 on every proposal endpoint, anonymous callers 401/403."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobs.models import Job
from proposals import services
from proposals.models import Proposal
from tests import factories
from tests.jobs.conftest import make_job
from tests.proposals.conftest import COVER_LETTER, authed, set_balance

pytestmark = pytest.mark.django_db


def create_body(job: Job, **overrides) -> dict:
    body = {
        "job": job.public_id,
        "cover_letter": COVER_LETTER,
        "duration": "1to3",
        "fixed_amount_cents": 120_000,
        "milestones": [
            {"description": "Design", "amount_cents": 40_000},
            {"description": "Build", "amount_cents": 80_000, "due_date": None},
        ],
    }
    body.update(overrides)
    return body


def test_send_a_proposal_as_json(pro, job):
    response = authed(pro).post("/api/v1/proposals/", create_body(job), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    proposal = Proposal.objects.get()
    assert data["id"] == proposal.pk and data["status"] == "submitted"
    assert data["connects_spent"] == 4 and data["you_receive_cents"] == 108_000
    assert data["match_score"] is None and data["archived"] is None  # the client's
    assert [m["amount_cents"] for m in data["milestones"]] == [40_000, 80_000]
    assert data["events"][0]["kind"] == "submitted"
    assert data["job"]["url"] == f"/jobs/{job.public_id}/"


def test_send_a_proposal_as_multipart_with_files(pro, client_owner):
    job = make_job(client_owner, questions=["Which sites?"])
    question = job.questions.get()
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")

    response = authed(pro).post(
        "/api/v1/proposals/",
        {
            "job": job.public_id,
            "cover_letter": COVER_LETTER,
            "duration": "lt1",
            "fixed_amount_cents": 120_000,
            "answers": json.dumps([{"question_id": question.pk, "text": "Two."}]),
            "attachments": [upload],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["answers"] == [{"question_id": question.pk, "question": "Which sites?", "text": "Two."}]
    assert data["attachments"][0]["name"] == "plan.pdf"
    assert data["attachments"][0]["url"].startswith(f"/proposals/{data['id']}/files/")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"cover_letter": "x" * 100_000}, "validation_error"),
        ({"cover_letter": "Too short"}, "cover_letter_too_short"),
        ({"hourly_rate_cents": 5000, "fixed_amount_cents": None, "milestones": []}, "bid_wrong_type"),
        ({"fixed_amount_cents": -1}, "bid_out_of_range"),
        ({"milestones": [{"description": "All", "amount_cents": 1}]}, "milestones_sum_mismatch"),
        (
            {"milestones": [{"description": "All", "amount_cents": 120_000, "due_date": "2001-01-01"}]},
            "milestone_due_date_invalid",
        ),
        ({"portfolio_item_ids": [123456]}, "invalid_portfolio_item"),
        ({"duration": "ages"}, "validation_error"),
    ],
)
def test_bad_proposals_get_a_clear_400(pro, job, overrides, code):
    response = authed(pro).post("/api/v1/proposals/", create_body(job, **overrides), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Proposal.objects.exists()


def test_not_enough_connects_and_already_applied(pro, job):
    set_balance(pro, 4)
    api = authed(pro)

    first = api.post("/api/v1/proposals/", create_body(job), format="json")
    again = api.post("/api/v1/proposals/", create_body(job), format="json")
    other = api.post(
        "/api/v1/proposals/", create_body(make_job(job.client, title="Another Django site")), format="json"
    )

    assert first.status_code == 201
    assert (again.status_code, again.json()["code"]) == (400, "already_applied")
    assert (other.status_code, other.json()["code"]) == (400, "not_enough_connects")
    assert other.json()["extra"] == {"needed": 4, "balance": 0}


def test_an_invisible_job_is_not_found(pro, client_owner):
    hidden = make_job(client_owner, visibility=Job.Visibility.INVITE_ONLY)

    response = authed(pro).post("/api/v1/proposals/", create_body(hidden), format="json")

    assert response.status_code == 404


def test_list_own_proposals_by_tab(pro, job, proposal):
    api = authed(pro)

    everything = api.get("/api/v1/proposals/")
    archived = api.get("/api/v1/proposals/", {"tab": "archived"})
    bad = api.get("/api/v1/proposals/", {"tab": "nope"})

    assert [p["id"] for p in everything.json()["results"]] == [proposal.pk]
    assert archived.json()["results"] == []
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_choice")


def test_change_the_bid_and_withdraw(pro, proposal):
    api = authed(pro)

    changed = api.post(
        f"/api/v1/proposals/{proposal.pk}/bid/",
        {"duration": "lt1", "fixed_amount_cents": 90_000},
        format="json",
    )
    bad = api.post(
        f"/api/v1/proposals/{proposal.pk}/bid/", {"duration": "lt1", "hourly_rate_cents": 9000}, format="json"
    )
    withdrawn = api.post(
        f"/api/v1/proposals/{proposal.pk}/withdraw/", {"withdraw_reason": "rate"}, format="json"
    )
    twice = api.post(f"/api/v1/proposals/{proposal.pk}/withdraw/", {"withdraw_reason": "rate"}, format="json")

    assert changed.status_code == 200 and changed.json()["fixed_amount_cents"] == 90_000
    assert (bad.status_code, bad.json()["code"]) == (400, "bid_wrong_type")
    assert withdrawn.json()["status"] == "withdrawn"
    assert (twice.status_code, twice.json()["code"]) == (400, "illegal_transition")


def test_the_clients_actions(proposal):
    api = authed(proposal.job.client)
    base = f"/api/v1/proposals/{proposal.pk}"

    listed = api.get(f"/api/v1/jobs/{proposal.job.public_id}/proposals/")
    shortlisted = api.post(f"{base}/shortlist/")
    again = api.post(f"{base}/shortlist/")
    unshortlisted = api.post(f"{base}/unshortlist/")
    archived = api.post(f"{base}/archive/")
    unarchived = api.post(f"{base}/unarchive/")
    messaged = api.post(f"{base}/message/", {"text": "Hello there"}, format="json")
    declined = api.post(f"{base}/decline/", {"decline_reason": "budget", "note": "Sorry"}, format="json")
    closed_reason = api.post(f"{base}/decline/", {"decline_reason": "job_closed"}, format="json")

    assert listed.status_code == 200
    card = listed.json()["results"][0]
    assert card["id"] == proposal.pk and card["connects_spent"] is None and card["match_score"] is not None
    assert card["freelancer"]["job_success_score"] is None
    assert shortlisted.json()["status"] == "shortlisted"
    assert (again.status_code, again.json()["code"]) == (400, "illegal_transition")
    assert unshortlisted.json()["status"] == "submitted"
    assert archived.json()["archived"] is True and unarchived.json()["archived"] is False
    assert messaged.json()["conversation_id"] is not None
    assert declined.json()["status"] == "declined" and declined.json()["decline_note"] == "Sorry"
    assert closed_reason.status_code == 400


def test_the_review_list_filters_and_checks_its_parameters(proposal):
    api = authed(proposal.job.client)
    url = f"/api/v1/jobs/{proposal.job.public_id}/proposals/"

    assert api.get(url, {"filter": "declined"}).json()["results"] == []
    assert api.get(url, {"filter": "nope"}).json()["code"] == "invalid_choice"
    assert api.get(url, {"sort": "random"}).status_code == 400
    assert api.get(url, {"rate_min_cents": "cheap"}).status_code == 400
    assert len(api.get(url, {"sort": "newest", "rate_max_cents": "999999"}).json()["results"]) == 1


ENDPOINTS = [
    ("get", ""),
    ("post", "bid/"),
    ("post", "withdraw/"),
    ("post", "shortlist/"),
    ("post", "unshortlist/"),
    ("post", "archive/"),
    ("post", "unarchive/"),
    ("post", "decline/"),
    ("post", "message/"),
]


@pytest.mark.parametrize(("method", "suffix"), ENDPOINTS)
def test_strangers_get_404_and_anonymous_callers_are_refused(proposal, other_pro, method, suffix):
    url = f"/api/v1/proposals/{proposal.pk}/{suffix}"
    body = {
        "duration": "lt1",
        "fixed_amount_cents": 1,
        "withdraw_reason": "rate",
        "decline_reason": "budget",
        "text": "Hi",
    }

    for user in (other_pro, factories.make_client()):
        response = getattr(authed(user), method)(url, body, format="json")
        assert response.status_code == 404, (user, response.json())
        assert response.json()["code"] == "not_found"
    assert getattr(APIClient(), method)(url, body, format="json").status_code in (401, 403)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.archived) == ("submitted", False)


@pytest.mark.parametrize(
    "suffix", ["shortlist/", "unshortlist/", "archive/", "unarchive/", "decline/", "message/"]
)
def test_the_freelancer_cannot_use_the_clients_endpoints(proposal, pro, suffix):
    response = authed(pro).post(
        f"/api/v1/proposals/{proposal.pk}/{suffix}", {"decline_reason": "budget", "text": "Hi"}, format="json"
    )

    assert response.status_code == 404


def test_the_review_list_is_the_owners_only(proposal, other_pro):
    url = f"/api/v1/jobs/{proposal.job.public_id}/proposals/"

    assert authed(factories.make_client()).get(url).status_code == 404
    assert authed(other_pro).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)


def test_connects_balance_and_history(pro, job, proposal):
    api = authed(pro)

    balance = api.get("/api/v1/connects/")
    history = api.get("/api/v1/connects/history/")

    assert balance.json()["balance"] == 6
    assert balance.json()["costs"] == {"small": 2, "medium": 4, "large": 6}
    assert balance.json()["purchase_available"] is True
    assert balance.json()["packs"][0] == {"quantity": 10, "price_cents": 150}
    rows = history.json()["results"]
    assert [(r["kind"], r["amount"]) for r in rows] == [("spend", -4), ("monthly", 10)]
    assert rows[0]["job"]["public_id"] == job.public_id and rows[0]["proposal_id"] == proposal.pk


def test_connects_are_for_freelancers(client_owner):
    api = authed(client_owner)

    assert api.get("/api/v1/connects/").status_code == 403
    assert api.get("/api/v1/connects/history/").status_code == 403
    assert APIClient().get("/api/v1/connects/").status_code in (401, 403)


def test_the_schema_documents_the_endpoints(client):
    response = client.get("/api/schema/")

    body = response.content.decode()
    for path in (
        "/api/v1/proposals/",
        "/api/v1/proposals/{proposal_id}/decline/",
        "/api/v1/connects/history/",
    ):
        assert path in body


def test_the_api_and_the_services_agree_on_withdrawn_proposals(pro, proposal):
    services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="rate")

    assert authed(proposal.job.client).get(f"/api/v1/proposals/{proposal.pk}/").status_code == 404
    assert authed(pro).get(f"/api/v1/proposals/{proposal.pk}/").json()["status"] == "withdrawn"
