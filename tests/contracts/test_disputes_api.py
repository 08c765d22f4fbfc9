"""Disputes API: open, respond (statement), propose, accept, reject, list and detail;
strangers get 404, bad input 400, the proposer answering their own proposal 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts import disputes, services
from contracts.models import Dispute, Milestone, SettlementProposal
from payments import ledger
from payments.models import AccountKind

pytestmark = pytest.mark.django_db


def _url(name: str, *args) -> str:
    return reverse(name, args=args)


def test_the_whole_flow_through_the_api(api_client, funded, hire, django_capture_on_commit_callbacks):
    contract, milestone = funded
    api_client.force_authenticate(hire.client)
    response = api_client.post(
        _url("api_milestone_dispute_open", milestone.pk),
        {
            "reason": "quality",
            "statement": "Missing pages.",
            "files": [SimpleUploadedFile("a.txt", b"proof")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.data
    body = response.json()
    dispute_id = body["id"]
    assert body["status"] == "open" and body["amount_cents"] == 50_000 and body["opener_side"] == "client"
    assert body["statements"][0]["files"][0]["name"] == "a.txt"
    assert body["statements"][0]["files"][0]["url"].endswith(
        f"/disputes/{dispute_id}/files/{body['statements'][0]['files'][0]['id']}/"
    )

    api_client.force_authenticate(hire.freelancer)
    response = api_client.post(
        _url("api_dispute_statements", dispute_id), {"text": "They are there."}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "responded"
    response = api_client.post(
        _url("api_dispute_proposals", dispute_id),
        {"refund_cents": 15_000, "release_cents": 35_000},
        format="json",
    )
    assert response.status_code == 201
    proposal_id = response.json()["id"]
    response = api_client.post(_url("api_dispute_proposal_accept", proposal_id))
    assert response.status_code == 403 and response.json()["code"] == "own_proposal"

    api_client.force_authenticate(hire.client)
    listing = api_client.get(_url("api_disputes")).json()
    assert [d["id"] for d in listing["results"]] == [dispute_id]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(_url("api_dispute_proposal_accept", proposal_id))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved" and body["resolution"] == "agreement"
    assert (body["refund_cents"], body["release_cents"]) == (15_000, 35_000)
    assert [p["status"] for p in body["proposals"]] == ["accepted"]
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RESOLVED and milestone.refunded_cents == 15_000
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 31_500
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    response = api_client.post(_url("api_dispute_proposal_accept", proposal_id))
    assert response.status_code == 400


def test_reject_and_refund_request_rejection(api_client, funded, hire):
    _contract, milestone = funded
    services.milestone_refund_request(actor=hire.client, milestone_id=milestone.pk, reason="Changed plans.")
    api_client.force_authenticate(hire.freelancer)
    response = api_client.post(
        _url("api_milestone_refund_request_reject", milestone.pk), {"statement": "Delivered."}, format="json"
    )
    assert response.status_code == 201 and response.json()["reason"] == "refund_rejected"
    dispute_id = response.json()["id"]
    proposal = disputes.dispute_propose(
        actor=hire.freelancer, dispute_id=dispute_id, refund_cents=0, release_cents=50_000
    )
    api_client.force_authenticate(hire.client)
    response = api_client.post(_url("api_dispute_proposal_reject", proposal.pk))
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    detail = api_client.get(_url("api_dispute_detail", dispute_id)).json()
    assert detail["status"] == "open" and detail["proposals"][0]["status"] == "rejected"


def test_bad_input_is_400(api_client, funded, hire):
    _contract, milestone = funded
    api_client.force_authenticate(hire.client)
    response = api_client.post(
        _url("api_milestone_dispute_open", milestone.pk), {"reason": "bogus", "statement": "x"}, format="json"
    )
    assert response.status_code == 400
    response = api_client.post(
        _url("api_milestone_dispute_open", milestone.pk), {"reason": "quality"}, format="json"
    )
    assert response.status_code == 400
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    response = api_client.post(
        _url("api_dispute_proposals", dispute.pk), {"refund_cents": 1, "release_cents": 1}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "split_not_summing"
    response = api_client.post(
        _url("api_dispute_proposals", dispute.pk),
        {"refund_cents": -1, "release_cents": 50_001},
        format="json",
    )
    assert response.status_code == 400
    assert not SettlementProposal.objects.exists()
    response = api_client.post(_url("api_dispute_statements", dispute.pk), {"text": ""}, format="json")
    assert response.status_code == 400


def test_open_on_an_unfunded_milestone_is_400(api_client, hire):
    contract = hire.contract()
    milestone = contract.milestones.first()
    api_client.force_authenticate(hire.client)
    response = api_client.post(
        _url("api_milestone_dispute_open", milestone.pk),
        {"reason": "quality", "statement": "x"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "illegal_transition"


def test_strangers_get_404(api_client, funded, hire, stranger_client):
    _contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    api_client.force_authenticate(stranger_client)
    assert api_client.get(_url("api_dispute_detail", dispute.pk)).status_code == 404
    assert api_client.get(_url("api_disputes")).json()["results"] == []
    for name, arg, body in (
        ("api_milestone_dispute_open", milestone.pk, {"reason": "quality", "statement": "x"}),
        ("api_dispute_statements", dispute.pk, {"text": "hi"}),
        ("api_dispute_proposals", dispute.pk, {"refund_cents": 0, "release_cents": 50_000}),
        ("api_dispute_proposal_accept", proposal.pk, {}),
        ("api_dispute_proposal_reject", proposal.pk, {}),
    ):
        assert api_client.post(_url(name, arg), body, format="json").status_code == 404, name
    assert Dispute.objects.get().status == Dispute.Status.OPEN


def test_anonymous_is_refused(api_client, funded):
    assert api_client.get(_url("api_disputes")).status_code in (401, 403)


def test_the_endpoints_are_documented(api_client, staff):
    api_client.force_authenticate(staff)
    schema = api_client.get(reverse("schema"), {"format": "json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    for fragment in (
        "/disputes/",
        "/disputes/{dispute_id}/statements/",
        "/disputes/{dispute_id}/proposals/",
        "/dispute-proposals/{proposal_id}/accept/",
        "/milestones/{milestone_id}/disputes/",
        "/timesheets/{timesheet_id}/disputes/",
    ):
        assert fragment in text, fragment
