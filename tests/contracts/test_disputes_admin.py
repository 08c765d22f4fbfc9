"""Staff mediation in Django admin: the dispute's page (contract, parties, conversation,
statements with files), the "resolve with a split" form and action posted by staff through
the test client, logged (timeline + admin log), both sides notified, the money exact."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from contracts import disputes, escrow
from contracts.models import ContractEvent, Dispute, Milestone
from messaging.models import Notification
from payments import ledger
from payments.models import AccountKind, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispute(funded, hire):
    _contract, milestone = funded
    opened = disputes.dispute_open(
        actor=hire.client,
        milestone_id=milestone.pk,
        reason="quality",
        statement="Half of it is missing.",
        files=[SimpleUploadedFile("missing.txt", b"list of missing pages")],
    )
    disputes.dispute_statement_add(
        actor=hire.freelancer, dispute_id=opened.pk, text="Only one page is missing."
    )
    return opened


def test_staff_see_everything_about_the_dispute(client, staff, dispute, hire):
    client.force_login(staff)
    assert client.get(reverse("admin:contracts_dispute_changelist")).status_code == 200
    assert client.get(reverse("admin:contracts_dispute_changelist") + "?status=responded").status_code == 200
    page = client.get(reverse("admin:contracts_dispute_change", args=[dispute.pk])).content.decode()
    assert hire.client.email in page and hire.freelancer.email in page
    assert "Half of it is missing." in page and "Only one page is missing." in page
    item = dispute.statements.first().files.get()
    assert reverse("contracts:dispute_file", args=[dispute.pk, item.pk]) in page
    assert reverse("admin:contracts_contract_change", args=[dispute.contract_id]) in page
    assert dispute.contract.conversation_id  # every contract has its conversation
    assert reverse("admin:messaging_conversation_change", args=[dispute.contract.conversation_id]) in page
    assert reverse("admin:contracts_dispute_resolve", args=[dispute.pk]) in page
    assert "Dispute opened" in page  # the timeline
    form = client.get(reverse("admin:contracts_dispute_resolve", args=[dispute.pk]))
    assert form.status_code == 200 and "50000 cents" in form.content.decode()


def test_staff_resolve_with_a_split_through_the_admin(
    client, staff, dispute, hire, django_capture_on_commit_callbacks
):
    contract = dispute.contract
    client.force_login(staff)
    # the changelist action leads to the form
    response = client.post(
        reverse("admin:contracts_dispute_changelist"),
        {"action": "resolve_with_split", "_selected_action": [dispute.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:contracts_dispute_resolve", args=[dispute.pk])
    url = reverse("admin:contracts_dispute_resolve", args=[dispute.pk])
    # a split that does not add up is refused on the form
    response = client.post(url, {"refund_cents": 100, "release_cents": 100, "note": "No."})
    assert response.status_code == 400 and "must add up to" in response.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESPONDED
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"refund_cents": 16_667, "release_cents": 33_333, "note": "One page of three was missing."},
            follow=True,
        )
    assert response.status_code == 200
    assert "resolved: $166.67 refunded" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.resolution == Dispute.Resolution.STAFF
    assert dispute.resolved_by == staff and dispute.resolution_note == "One page of three was missing."
    milestone = Milestone.objects.get(pk=dispute.milestone_id)
    assert milestone.status == Milestone.Status.RESOLVED and milestone.escrow_cents == 0
    assert milestone.refunded_cents == 16_667
    assert Refund.objects.get(charge__reference=f"milestone:{milestone.pk}").amount_cents == 16_667
    # 33,333 released minus the 10 % fee (3,333.3 -> 3,333)
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 30_000
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    # logged: the contract's timeline and the admin log; both sides told
    event = ContractEvent.objects.get(kind=ContractEvent.Kind.DISPUTE_RESOLVED)
    assert event.actor == staff and event.data["refund_cents"] == 16_667
    entry = LogEntry.objects.get(object_id=str(dispute.pk), content_type__model="dispute")
    assert entry.user == staff and "refund $166.67" in entry.change_message
    for user in (hire.client, hire.freelancer):
        assert Notification.objects.filter(
            recipient=user, text__contains="is resolved (decided by staff)"
        ).exists()
    assert escrow.audit_escrow() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    # resolving again is refused: the page says so, a forced post changes nothing
    page = client.get(url).content.decode()
    assert "cannot be resolved again" in page
    response = client.post(url, {"refund_cents": 50_000, "release_cents": 0, "note": "Again."})
    assert response.status_code == 400
    assert Refund.objects.filter(charge__reference=f"milestone:{milestone.pk}").count() == 1
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 30_000


def test_non_staff_cannot_reach_the_admin(client, dispute, hire):
    client.force_login(hire.client)
    response = client.get(reverse("admin:contracts_dispute_resolve", args=[dispute.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(
        reverse("admin:contracts_dispute_resolve", args=[dispute.pk]),
        {"refund_cents": 50_000, "release_cents": 0, "note": "Mine."},
    )
    assert response.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESPONDED


def test_the_admin_is_read_only(client, staff, dispute):
    client.force_login(staff)
    assert client.get(reverse("admin:contracts_dispute_add")).status_code == 403
    assert client.get(reverse("admin:contracts_dispute_delete", args=[dispute.pk])).status_code == 403


def test_a_refused_dispute_refund_is_flagged_and_staff_send_it_again(
    client, staff, dispute, hire, django_capture_on_commit_callbacks
):
    from payments import services as payment_services
    from payments.gateways.base import RefundResult

    contract = dispute.contract
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve_by_staff(
            actor=staff, dispute_id=dispute.pk, refund_cents=20_000, release_cents=30_000, note="Split."
        )
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED
    # the card's bank refuses it afterwards: the money is back in the contract's escrow
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.refund_settle(
            refund_id=refund.pk, result=RefundResult(status="failed", failure_message="The card is closed.")
        )
    milestone = Milestone.objects.get(pk=dispute.milestone_id)
    assert milestone.status == Milestone.Status.RESOLVED and milestone.escrow_cents == 20_000
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 20_000
    assert any(f"milestone {milestone.pk} is resolved" in f for f in escrow.audit_escrow())  # staff must act
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:contracts_dispute_changelist"),
            {"action": "retry_refund", "_selected_action": [dispute.pk]},
            follow=True,
        )
    assert "Sent 1 refund(s) again." in response.content.decode()
    milestone.refresh_from_db()
    assert (milestone.escrow_cents, milestone.refund_pending_cents) == (0, 0)
    assert Refund.objects.filter(status=Refund.Status.SUCCEEDED).count() == 1
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    assert escrow.audit_escrow() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    # nothing left to send: a second try is refused with a message
    response = client.post(
        reverse("admin:contracts_dispute_changelist"),
        {"action": "retry_refund", "_selected_action": [dispute.pk]},
        follow=True,
    )
    assert "Nothing of this milestone is waiting to be refunded." in response.content.decode()
    assert Refund.objects.count() == 2


def test_staff_who_may_only_look_cannot_move_money(client, dispute):
    from django.contrib.auth.models import Permission

    from tests import factories

    viewer = factories.make_client(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dispute"))
    client.force_login(viewer)
    assert client.get(reverse("admin:contracts_dispute_change", args=[dispute.pk])).status_code == 200
    url = reverse("admin:contracts_dispute_resolve", args=[dispute.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"refund_cents": 1, "release_cents": dispute.amount_cents - 1}).status_code == 403
    changelist = client.get(reverse("admin:contracts_dispute_changelist")).content.decode()
    assert "resolve_with_split" not in changelist and "retry_refund" not in changelist
    dispute.refresh_from_db()
    assert dispute.status != Dispute.Status.RESOLVED
