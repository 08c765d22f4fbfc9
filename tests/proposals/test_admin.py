"""Staff admin of proposals and Connects: read-only lists, and granting Connects through the
service (logged)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from proposals import services
from proposals.models import ConnectsTransaction
from tests.proposals.conftest import browser

pytestmark = pytest.mark.django_db


def test_staff_browse_proposals_wallets_and_transactions(staff, proposal):
    page = browser(staff)

    proposals = page.get(reverse("admin:proposals_proposal_changelist"), {"status__exact": "submitted"})
    one = page.get(reverse("admin:proposals_proposal_change", args=[proposal.pk]))
    wallets = page.get(reverse("admin:proposals_connectswallet_changelist"))
    transactions = page.get(
        reverse("admin:proposals_connectstransaction_changelist"), {"kind__exact": "spend"}
    )

    assert proposals.status_code == one.status_code == wallets.status_code == transactions.status_code == 200
    assert proposal.job.title in proposals.content.decode()
    assert "$1,200.00" in proposals.content.decode()
    assert page.get(reverse("admin:proposals_connectstransaction_add")).status_code == 403


def test_staff_grant_connects_from_the_wallet_list(staff, pro):
    wallet = services.connects_wallet_for(pro)
    url = reverse("admin:proposals_connectswallet_changelist")
    page = browser(staff)

    asked = page.post(url, {"action": "grant_connects", "_selected_action": [wallet.pk]})
    invalid = page.post(
        url, {"action": "grant_connects", "_selected_action": [wallet.pk], "apply": "1", "amount": "0"}
    )
    done = page.post(
        url,
        {
            "action": "grant_connects",
            "_selected_action": [wallet.pk],
            "apply": "1",
            "amount": "15",
            "note": "Support case 12",
        },
        follow=True,
    )

    assert "Grant Connects" in asked.content.decode()
    assert invalid.status_code == 200 and "errorlist" in invalid.content.decode()
    assert "Granted 15 Connects to 1 freelancer." in done.content.decode()
    wallet.refresh_from_db()
    assert wallet.balance == 25
    grant = ConnectsTransaction.objects.get(kind="admin")
    assert (grant.actor, grant.note) == (staff, "Support case 12")
    assert LogEntry.objects.filter(object_id=str(wallet.pk), change_message__contains="Granted 15").exists()
