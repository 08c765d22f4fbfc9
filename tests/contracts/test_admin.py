"""Staff pages of offers and contracts: lists, details with inlines, the expiry action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import ContractFile, Offer

pytestmark = pytest.mark.django_db


def test_staff_browse_offers_contracts_and_files(client, staff, fixed_contract, hourly_hire):
    hourly_hire.offer()
    services.contract_file_add(
        actor=fixed_contract.client,
        contract_id=fixed_contract.pk,
        upload=SimpleUploadedFile("a.txt", b"notes"),
    )
    client.force_login(staff)
    for name in (
        "admin:contracts_offer_changelist",
        "admin:contracts_contract_changelist",
        "admin:contracts_contractfile_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    page = client.get(reverse("admin:contracts_contract_change", args=[fixed_contract.pk])).content.decode()
    assert "Design and models" in page and "started" in page
    page = client.get(
        reverse("admin:contracts_offer_change", args=[fixed_contract.offer_id])
    ).content.decode()
    assert "accepted" in page
    item = ContractFile.objects.get()
    assert client.get(reverse("admin:contracts_contractfile_change", args=[item.pk])).status_code == 200
    assert client.get(reverse("admin:contracts_offer_changelist") + "?q=booking").status_code == 200


def test_the_admin_action_expires_overdue_offers(client, staff, hire):
    offer = hire.offer()
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(staff)
    response = client.post(
        reverse("admin:contracts_offer_changelist"),
        {"action": "expire_overdue", "_selected_action": [offer.pk]},
        follow=True,
    )
    assert "Expired 1 overdue offer." in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == "expired"


def test_the_admin_is_read_only(client, staff, fixed_contract):
    client.force_login(staff)
    assert client.get(reverse("admin:contracts_offer_add")).status_code == 403
    assert client.get(reverse("admin:contracts_contract_delete", args=[fixed_contract.pk])).status_code == 403
