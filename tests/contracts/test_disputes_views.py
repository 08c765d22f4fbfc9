"""Dispute pages: open (report a problem, reject a refund request), the dispute page for the
parties and staff (404 for others), statements with files, proposals accepted or rejected
in one click, messages after every action, the banners on the contract and milestone."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts import disputes, services
from contracts.models import Dispute, Milestone, SettlementProposal

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _open(client, hire, milestone, **data):
    client.force_login(hire.client)
    url = reverse("contracts:milestone_dispute_open", args=[milestone.contract_id, milestone.pk])
    body = {"reason": "quality", "statement": "The site is missing the booking form."}
    body.update(data)
    return client.post(url, body, follow=True)


def test_the_client_reports_a_problem_from_the_milestone_page(client, funded, hire):
    contract, milestone = funded
    client.force_login(hire.client)
    page = client.get(
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    ).content.decode()
    assert 'data-testid="report-problem"' in page
    form = client.get(reverse("contracts:milestone_dispute_open", args=[contract.pk, milestone.pk]))
    assert form.status_code == 200 and "is frozen while the dispute is open" in form.content.decode()
    response = _open(client, hire, milestone, files=[SimpleUploadedFile("shot.txt", b"what I saw")])
    dispute = Dispute.objects.get()
    assert response.redirect_chain[-1][0] == reverse("contracts:dispute_detail", args=[dispute.pk])
    assert any("Dispute opened" in m for m in _messages(response))
    page = response.content.decode()
    assert "Waiting for the freelancer to answer" in page and "shot.txt" in page
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED
    # the milestone and contract pages now point at the dispute
    page = client.get(
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    ).content.decode()
    assert 'data-testid="milestone-dispute"' in page and 'data-testid="report-problem"' not in page
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="dispute-banner"' in page
    # opening again sends them to the open dispute
    again = client.get(reverse("contracts:milestone_dispute_open", args=[contract.pk, milestone.pk]))
    assert again.status_code == 302


def test_bad_input_shows_the_form_again_with_400(client, funded, hire):
    _contract, milestone = funded
    response = _open(client, hire, milestone, statement="")
    assert response.status_code == 400 and not Dispute.objects.exists()
    response = _open(client, hire, milestone, reason="nonsense")
    assert response.status_code == 400


def test_an_unfunded_milestone_shows_a_clear_state(client, hire):
    contract = hire.contract()
    milestone = contract.milestones.first()
    client.force_login(hire.client)
    page = client.get(reverse("contracts:milestone_dispute_open", args=[contract.pk, milestone.pk]))
    assert 'data-testid="cannot-dispute"' in page.content.decode()
    response = client.post(
        reverse("contracts:milestone_dispute_open", args=[contract.pk, milestone.pk]),
        {"reason": "quality", "statement": "x"},
    )
    assert response.status_code == 400 and not Dispute.objects.exists()


def test_the_freelancer_rejects_the_refund_request_from_the_page(client, funded, hire):
    contract, milestone = funded
    services.milestone_refund_request(actor=hire.client, milestone_id=milestone.pk, reason="Changed plans.")
    client.force_login(hire.freelancer)
    page = client.get(
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    ).content.decode()
    assert 'data-testid="reject-refund"' in page
    response = client.post(
        reverse("contracts:milestone_refund_reject", args=[contract.pk, milestone.pk]),
        {"statement": "The work was delivered."},
        follow=True,
    )
    assert any("rejected the refund request" in m for m in _messages(response))
    assert Dispute.objects.get().reason == disputes.REFUND_REJECTED


def test_strangers_get_404_everywhere(client, funded, hire, stranger_client):
    contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    client.force_login(stranger_client)
    for method, url in (
        ("get", reverse("contracts:dispute_detail", args=[dispute.pk])),
        ("post", reverse("contracts:dispute_statement", args=[dispute.pk])),
        ("post", reverse("contracts:dispute_propose", args=[dispute.pk])),
        ("post", reverse("contracts:dispute_proposal_accept", args=[dispute.pk, proposal.pk])),
        ("post", reverse("contracts:dispute_proposal_reject", args=[dispute.pk, proposal.pk])),
        ("get", reverse("contracts:milestone_dispute_open", args=[contract.pk, milestone.pk])),
        ("get", reverse("contracts:dispute_detail", args=[10**8])),
    ):
        assert getattr(client, method)(url).status_code == 404, url
    proposal.refresh_from_db()
    assert proposal.status == SettlementProposal.Status.PENDING


def test_respond_propose_and_accept_in_one_click(client, funded, hire, django_capture_on_commit_callbacks):
    contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    client.force_login(hire.freelancer)
    page = client.get(reverse("contracts:dispute_detail", args=[dispute.pk])).content.decode()
    assert "Answer by" in page and "Send your response" in page
    response = client.post(
        reverse("contracts:dispute_statement", args=[dispute.pk]),
        {"text": "It was delivered on time.", "files": [SimpleUploadedFile("log.txt", b"commits")]},
        follow=True,
    )
    assert any("Statement added" in m for m in _messages(response))
    assert 'data-testid="statement-file"' in response.content.decode()
    response = client.post(
        reverse("contracts:dispute_propose", args=[dispute.pk]),
        {"refund": "100", "release": "400", "note": "Keep 100 for the missing form."},
        follow=True,
    )
    assert any("Proposal sent" in m for m in _messages(response))
    proposal = SettlementProposal.objects.get()
    assert (proposal.refund_cents, proposal.release_cents) == (10_000, 40_000)
    assert 'data-testid="accept-proposal"' not in response.content.decode()  # not for the proposer
    client.force_login(hire.client)
    page = client.get(reverse("contracts:dispute_detail", args=[dispute.pk])).content.decode()
    assert 'data-testid="accept-proposal"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contracts:dispute_proposal_accept", args=[dispute.pk, proposal.pk]), follow=True
        )
    assert any("Settled" in m for m in _messages(response))
    page = response.content.decode()
    assert "Settled by agreement" in page and 'data-testid="proposal-form"' not in page
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED
    # the escrow is gone on the contract page, the milestone shows the outcome
    page = client.get(
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk])
    ).content.decode()
    assert "Dispute resolved" in page
    # a second click is refused with a message, not a 500
    response = client.post(
        reverse("contracts:dispute_proposal_accept", args=[dispute.pk, proposal.pk]), follow=True
    )
    assert response.status_code == 200 and _messages(response)


def test_a_split_not_adding_up_is_a_form_error(client, funded, hire):
    _contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    client.force_login(hire.client)
    response = client.post(
        reverse("contracts:dispute_propose", args=[dispute.pk]), {"refund": "100", "release": "100"}
    )
    assert response.status_code == 400 and "must add up to $500.00" in response.content.decode()
    assert not SettlementProposal.objects.exists()


def test_reject_from_the_page(client, funded, hire):
    _contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client, milestone_id=milestone.pk, reason="quality", statement="x"
    )
    proposal = disputes.dispute_propose(
        actor=hire.client, dispute_id=dispute.pk, refund_cents=50_000, release_cents=0
    )
    client.force_login(hire.freelancer)
    response = client.post(
        reverse("contracts:dispute_proposal_reject", args=[dispute.pk, proposal.pk]), follow=True
    )
    assert any("Proposal rejected" in m for m in _messages(response))
    proposal.refresh_from_db()
    assert proposal.status == SettlementProposal.Status.REJECTED


def test_staff_see_the_page_and_files_parties_list_their_disputes(
    client, funded, hire, staff, stranger_client
):
    _contract, milestone = funded
    dispute = disputes.dispute_open(
        actor=hire.client,
        milestone_id=milestone.pk,
        reason="quality",
        statement="See the file.",
        files=[SimpleUploadedFile("evidence.txt", b"the evidence")],
    )
    item = dispute.statements.get().files.get()
    client.force_login(staff)
    page = client.get(reverse("contracts:dispute_detail", args=[dispute.pk]))
    assert page.status_code == 200 and 'data-testid="proposal-form"' not in page.content.decode()
    download = client.get(reverse("contracts:dispute_file", args=[dispute.pk, item.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"the evidence"
    client.force_login(stranger_client)
    assert client.get(reverse("contracts:dispute_file", args=[dispute.pk, item.pk])).status_code == 404
    client.force_login(hire.freelancer)
    listing = client.get(reverse("contracts:dispute_list")).content.decode()
    assert 'data-testid="dispute-row"' in listing
    client.force_login(stranger_client)
    listing = client.get(reverse("contracts:dispute_list")).content.decode()
    assert 'data-testid="empty-disputes"' in listing
