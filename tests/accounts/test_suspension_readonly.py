"""A suspended account is read-only: it stays signed in and reads its pages, every write is
refused except handing over work on its contracts, and the escrow of its contracts follows
the dispute rules (the client's one click, then silence)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from contracts import disputes, escrow
from contracts import services as contract_services
from contracts.models import Contract, Dispute, Milestone
from contracts.suspension import FREELANCER_SUSPENDED, milestone_dispute_for_suspension
from marketplace.errors import ApplicationError, PermissionDeniedError
from messaging import services as messaging
from messaging.models import Attachment, Message, Notification
from payments import ledger
from tests.contracts.conftest import Hire, save_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


@pytest.fixture
def funded(local_gateway):
    """A fixed contract whose first milestone is funded ($500 in escrow)."""
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    first = contract.milestones.order_by("pk").first()
    contract_services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk])
    first.refresh_from_db()
    assert first.status == Milestone.Status.FUNDED
    return hire, contract, first


def suspend(user, staff, capture, reason: str = "off_platform") -> None:
    with capture(execute=True):
        account_services.user_suspend(actor=staff, user_id=user.pk, reason=reason, note="Asked for a wire")
    user.refresh_from_db()


def pdf(name: str = "delivery.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"0" * 2000, content_type="application/pdf")


def text(response) -> str:
    return response.content.decode()


# --- reading ------------------------------------------------------------------------------------


def test_suspended_freelancer_reads_contract_messages_and_dashboard(
    client, funded, staff, django_capture_on_commit_callbacks
):
    hire, contract, milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    client.force_login(hire.freelancer)

    for url in (
        "/dashboard/",
        reverse("contracts:detail", kwargs={"contract_id": contract.pk}),
        reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk]),
        reverse("messaging:conversation", args=[contract.conversation_id]),
        reverse("messaging:inbox"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Your account is suspended: Taking payments off the platform" in text(response), url
    assert client.head("/dashboard/").status_code == 200


# --- refused writes -----------------------------------------------------------------------------


def test_suspended_freelancer_cannot_post_messages_proposals_or_withdraw(
    client, funded, staff, django_capture_on_commit_callbacks
):
    from tests.jobs.conftest import make_job

    hire, contract, _milestone = funded
    other_job = make_job()
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    client.force_login(hire.freelancer)
    before = Message.objects.count()

    chat = client.post(
        reverse("messaging:send", args=[contract.conversation_id]), {"body": "Pay me by wire"}, follow=True
    )
    proposal = client.post(
        reverse("proposals:apply", args=[other_job.public_id]), {"cover_letter": "Hire me"}
    )
    withdraw = client.post(reverse("payments:withdraw"), {"amount": "10"})
    api = client.post(
        f"/api/v1/conversations/{contract.conversation_id}/messages/",
        {"body": "x"},
        content_type="application/json",
    )

    assert "Your account is suspended; you can read but not send anything." in text(chat)
    assert Message.objects.count() == before
    for response in (proposal, withdraw):
        assert response.status_code == 403
        assert "This is not possible while your account is suspended" in text(response)
    assert (api.status_code, api.json()["code"]) == (403, "account_suspended")
    assert "_auth_user_id" in client.session


def test_services_refuse_text_messages_but_not_contract_files(
    funded, staff, django_capture_on_commit_callbacks
):
    hire, contract, _milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    freelancer = hire.freelancer

    with pytest.raises(PermissionDeniedError) as chat:
        messaging.message_send(actor=freelancer, conversation_id=contract.conversation_id, body="Hello")
    assert chat.value.code == "account_suspended"
    with pytest.raises(PermissionDeniedError):
        account_services.user_update_name(actor=freelancer, first_name="New", last_name="Name")
    # a conversation without a contract: nothing at all, files included
    other = messaging.conversation_get_or_create_for_subject(
        subject=hire.job, participants=[freelancer, hire.client], title="Pre-contract chat"
    )
    assert not other.has_contract
    with pytest.raises(PermissionDeniedError):
        messaging.attachment_upload(actor=freelancer, conversation_id=other.pk, upload=pdf())
    # in the contract's conversation: files yes, with text no
    attachment = messaging.attachment_upload(
        actor=freelancer, conversation_id=contract.conversation_id, upload=pdf()
    )
    with pytest.raises(PermissionDeniedError) as with_text:
        messaging.message_send(
            actor=freelancer,
            conversation_id=contract.conversation_id,
            body="Pay me",
            attachment_ids=[attachment.pk],
        )
    assert (
        with_text.value.message
        == "Your account is suspended: you can send files on your contracts, without text."
    )


# --- handing over work --------------------------------------------------------------------------


def test_suspended_freelancer_uploads_files_to_the_contract_conversation(
    client, funded, staff, django_capture_on_commit_callbacks
):
    hire, contract, _milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    client.force_login(hire.freelancer)

    upload = client.post(
        reverse("messaging:attachment_upload", args=[contract.conversation_id]), {"file": pdf()}
    )
    sent = client.post(
        reverse("messaging:send", args=[contract.conversation_id]),
        {"body": "", "attachments": [pdf("final.pdf")], "client_msg_id": "handover-1"},
        follow=True,
    )

    assert upload.status_code == 201
    assert "Message sent." in text(sent)
    message = Message.objects.filter(conversation_id=contract.conversation_id, sender=hire.freelancer).get()
    assert [a.original_name for a in message.attachments.all()] == ["final.pdf"]
    assert Attachment.objects.filter(uploader=hire.freelancer).count() == 2


def test_suspended_freelancer_submits_work_on_a_funded_milestone(
    client, funded, staff, django_capture_on_commit_callbacks
):
    hire, contract, milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    client.force_login(hire.freelancer)

    response = client.post(
        reverse("contracts:milestone_submit", args=[contract.pk, milestone.pk]),
        {"message": "Here is everything we agreed.", "files": [pdf()]},
    )
    shared = client.post(reverse("contracts:file_upload", args=[contract.pk]), {"file": pdf("notes.pdf")})

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.SUBMITTED
    assert shared.status_code == 302
    assert contract.files.filter(original_name="notes.pdf").exists()
    # the exception is narrow: the same freelancer still cannot ask for changes to the terms
    with pytest.raises(PermissionDeniedError):
        contract_services.contract_set_weekly_limit(
            actor=hire.freelancer, contract_id=contract.pk, weekly_limit_hours=10
        )


def test_reinstated_freelancer_can_write_again(client, funded, staff, django_capture_on_commit_callbacks):
    hire, contract, _milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    account_services.user_reinstate(actor=staff, user_id=hire.freelancer.pk)
    client.force_login(hire.freelancer)

    response = client.post(
        reverse("messaging:send", args=[contract.conversation_id]), {"body": "Back again"}, follow=True
    )

    assert "Message sent." in text(response)
    assert "Your account is suspended" not in text(response)


# --- escrow follows the dispute rules -----------------------------------------------------------


def test_suspension_pauses_hourly_contracts_and_tells_the_clients(staff, django_capture_on_commit_callbacks):
    hourly = Hire(hourly=True)
    contract = hourly.contract()

    suspend(hourly.freelancer, staff, django_capture_on_commit_callbacks)

    contract.refresh_from_db()
    assert contract.status == Contract.Status.PAUSED
    note = Notification.objects.filter(recipient=hourly.client).order_by("pk").last()
    assert note.text.startswith("The marketplace suspended the account of the freelancer on")
    assert "The contract is paused" in note.text


def test_client_gets_the_escrow_back_through_a_dispute_and_silence(
    client, funded, staff, django_capture_on_commit_callbacks
):
    hire, contract, milestone = funded
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(recipient=hire.client).order_by("pk").last()
    assert "$500.00 is in escrow" in note.text
    client.force_login(hire.client)
    page = client.get(reverse("contracts:milestone_detail", args=[contract.pk, milestone.pk]))
    assert 'data-testid="suspension-refund"' in text(page)

    response = client.post(reverse("contracts:milestone_suspension_refund", args=[contract.pk, milestone.pk]))

    dispute = Dispute.objects.get()
    assert response["Location"] == reverse("contracts:dispute_detail", kwargs={"dispute_id": dispute.pk})
    assert (dispute.opened_by, dispute.reason, dispute.status) == (hire.client, FREELANCER_SUSPENDED, "open")
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DISPUTED
    # the suspended freelancer cannot answer; when the time is up the client is refunded
    with pytest.raises(PermissionDeniedError):
        disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="Unfair")
    with (
        time_machine.travel(
            timezone.now() + timedelta(days=disputes.FIXED_RESPONSE_DAYS, minutes=1), tick=False
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert disputes.disputes_resolve_overdue() == 1
    dispute.refresh_from_db()
    assert (dispute.resolution, dispute.refund_cents, dispute.release_cents) == ("silence", 50_000, 0)
    milestone.refresh_from_db()
    assert milestone.refunded_cents == 50_000
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    assert escrow.audit_escrow() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def test_one_click_refund_is_for_the_client_of_a_suspended_freelancer_only(
    funded, staff, django_capture_on_commit_callbacks
):
    hire, _contract, milestone = funded
    with pytest.raises(ApplicationError) as not_suspended:
        milestone_dispute_for_suspension(actor=hire.client, milestone_id=milestone.pk)
    assert not_suspended.value.code == "not_suspended"
    suspend(hire.freelancer, staff, django_capture_on_commit_callbacks)
    hire.freelancer.refresh_from_db()
    with pytest.raises(ApplicationError):
        milestone_dispute_for_suspension(actor=hire.freelancer, milestone_id=milestone.pk)
    from tests import factories

    with pytest.raises(ApplicationError) as stranger:
        milestone_dispute_for_suspension(actor=factories.make_client(), milestone_id=milestone.pk)
    assert stranger.value.status_code == 404
    with pytest.raises(ApplicationError) as missing:
        milestone_dispute_for_suspension(actor=hire.client, milestone_id="nope")
    assert missing.value.status_code in (400, 404)
    assert Dispute.objects.count() == 0


def test_suspended_user_can_still_sign_out(client, staff, django_capture_on_commit_callbacks):
    from tests import factories

    user = factories.make_freelancer()
    suspend(user, staff, django_capture_on_commit_callbacks)
    client.force_login(user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
