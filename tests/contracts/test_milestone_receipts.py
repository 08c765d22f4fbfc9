"""The milestone page links each party to its receipt of the milestone's money: the client
to the invoice of the funding payment, the freelancer to the earnings receipt of the
release (once there is one); nobody else reaches either."""

from __future__ import annotations

import pytest

from contracts import escrow, services
from payments.models import Charge, Invoice

pytestmark = pytest.mark.django_db


def page(client, user, contract, milestone):
    client.force_login(user)
    return client.get(f"/contracts/{contract.pk}/milestones/{milestone.pk}/")


def test_client_gets_the_invoice_and_the_freelancer_waits_for_the_release(client, funded, hire):
    contract, milestone = funded
    charge = Charge.objects.get(reference=f"milestone:{milestone.pk}")
    response = page(client, hire.client, contract, milestone)
    assert f'href="/payments/receipts/payment/{charge.pk}/"' in response.content.decode()
    assert escrow.milestone_receipt(milestone, "freelancer") is None
    response = page(client, hire.freelancer, contract, milestone)
    assert 'data-testid="invoice-link"' not in response.content.decode()

    # the client opens it: a numbered payment receipt of theirs
    client.force_login(hire.client)
    opened = client.get(f"/payments/receipts/payment/{charge.pk}/", follow=True)
    assert opened.status_code == 200 and "$525.00" in opened.content.decode()
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.recipient_id, invoice.charge_id) == ("payment", hire.client.pk, charge.pk)


def test_freelancer_gets_the_earnings_receipt_after_approval(client, funded, hire, stranger_client):
    contract, milestone = funded
    services.milestone_submit(actor=hire.freelancer, milestone_id=milestone.pk, message="Done.")
    services.milestone_approve(actor=hire.client, milestone_id=milestone.pk)
    url, label = escrow.milestone_receipt(milestone, "freelancer") or ("", "")
    assert label == "Earnings receipt" and url.startswith("/payments/receipts/earnings/")
    assert url in page(client, hire.freelancer, contract, milestone).content.decode()
    opened = client.get(url, follow=True)
    assert opened.status_code == 200 and "$450.00" in opened.content.decode()
    # the other party and a stranger cannot open it
    client.force_login(hire.client)
    assert client.get(url).status_code == 404
    client.force_login(stranger_client)
    assert client.get(url).status_code == 404
    assert page(client, stranger_client, contract, milestone).status_code == 404
