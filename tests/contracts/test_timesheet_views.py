"""Timesheet pages and API: both parties see the weeks and the billed figures, segments,
money timeline and receipts; everyone else gets 404; the client retries a failed payment."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from contracts import billing
from contracts.models import Timesheet
from payments.models import Charge

from .conftest import VISA, save_card
from .test_billing import CLOSE_AT, REVIEW_END, close, hourly, log_time, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed(local_gateway):
    hire, contract = hourly(weekly_limit_hours=4)
    log_time(contract, utc(2026, 11, 3, 10, 0), 290, memo="Checkout API")
    log_time(contract, utc(2026, 11, 5, 10, 0), 10, memo="")
    close()
    return hire, contract, Timesheet.objects.get(contract=contract)


def _urls(contract, timesheet) -> tuple[str, str]:
    return (
        reverse("contracts:timesheet_list", kwargs={"contract_id": contract.pk}),
        reverse(
            "contracts:timesheet_detail", kwargs={"contract_id": contract.pk, "timesheet_id": timesheet.pk}
        ),
    )


def test_both_parties_see_the_list_with_the_week(client, billed):
    hire, contract, timesheet = billed
    list_url, detail_url = _urls(contract, timesheet)
    for user in (hire.client, hire.freelancer):
        client.force_login(user)
        with time_machine.travel(CLOSE_AT + timedelta(hours=1), tick=False):
            response = client.get(list_url)
        assert response.status_code == 200
        body = response.content.decode()
        assert body.count('data-testid="timesheet-row"') == 1
        assert detail_url in body
        assert "5:00" in body and "4:00" in body and "$180.00" in body  # logged, billed (limit 4 h)
        assert 'data-testid="current-week"' in body  # the open week with its figures so far


def test_the_detail_page_shows_figures_segments_timeline_and_invoice(client, billed):
    hire, contract, timesheet = billed
    _, detail_url = _urls(contract, timesheet)
    client.force_login(hire.client)
    with time_machine.travel(CLOSE_AT + timedelta(hours=1), tick=False):
        response = client.get(detail_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="segment-row"') == 30
    assert "over the limit" in body and "no memo" in body
    assert "Review period ends (dispute until) on Fri, Nov 13, 2026, 23:59 UTC" in body
    assert "Auto-release to the freelancer on Sat, Nov 14, 2026" in body
    assert "/diary/?week=2026-11-02" in body
    charge = Charge.objects.get(purpose="timesheet_billing")
    assert reverse("payments:receipt", kwargs={"kind": "payment", "source_id": charge.pk}) in body
    assert "$9.00" in body  # the client's marketplace fee on $180

    # the receipt link issues the client's invoice
    response = client.get(reverse("payments:receipt", kwargs={"kind": "payment", "source_id": charge.pk}))
    assert response.status_code == 302


def test_the_freelancer_gets_an_earnings_receipt_after_release(client, billed):
    hire, contract, timesheet = billed
    billing.timesheets_release_due(now=REVIEW_END + timedelta(seconds=1))
    _, detail_url = _urls(contract, timesheet)
    client.force_login(hire.freelancer)
    body = client.get(detail_url).content.decode()
    entry_id = billing.release_entry_id(timesheet)
    assert entry_id is not None
    assert reverse("payments:receipt", kwargs={"kind": "earnings", "source_id": entry_id}) in body
    assert "Available to withdraw" in body and "Released $180.00" in body


def test_strangers_get_404_everywhere(client, billed, stranger_client, stranger_freelancer, api_client):
    _, contract, timesheet = billed
    list_url, detail_url = _urls(contract, timesheet)
    retry_url = reverse(
        "contracts:timesheet_retry", kwargs={"contract_id": contract.pk, "timesheet_id": timesheet.pk}
    )
    for user in (stranger_client, stranger_freelancer):
        client.force_login(user)
        assert client.get(list_url).status_code == 404
        assert client.get(detail_url).status_code == 404
        assert client.post(retry_url).status_code == 404
        api_client.force_authenticate(user)
        assert api_client.get(f"/api/v1/contracts/{contract.pk}/timesheets/").status_code == 404
        assert api_client.get(f"/api/v1/timesheets/{timesheet.pk}/").status_code == 404
    client.logout()
    assert client.get(list_url).status_code == 302  # to the login page


def test_a_timesheet_of_another_contract_is_404(client, billed, local_gateway):
    hire, _contract, timesheet = billed
    _, other = hourly(utc(2026, 11, 2, 9, 0))
    url = reverse(
        "contracts:timesheet_detail", kwargs={"contract_id": other.pk, "timesheet_id": timesheet.pk}
    )
    client.force_login(hire.client)
    assert client.get(url).status_code == 404


def test_empty_states(client, local_gateway):
    hire, contract = hourly()
    client.force_login(hire.freelancer)
    body = client.get(
        reverse("contracts:timesheet_list", kwargs={"contract_id": contract.pk})
    ).content.decode()
    assert 'data-testid="no-timesheets"' in body
    body = client.get(reverse("contracts:detail", kwargs={"contract_id": contract.pk})).content.decode()
    assert 'data-testid="timesheets-link"' in body and 'data-testid="no-timesheets"' in body


def test_the_contract_page_lists_the_latest_weeks(client, billed):
    hire, contract, _timesheet = billed
    client.force_login(hire.freelancer)
    body = client.get(reverse("contracts:detail", kwargs={"contract_id": contract.pk})).content.decode()
    assert body.count('data-testid="timesheet-summary"') == 1
    assert "Week of Nov 2, 2026" in body
    assert "Week of Nov 2 billed: $180.00 in escrow." in body  # the contract's timeline


def test_the_client_retries_a_failed_payment_from_the_page(client, local_gateway):
    from .conftest import DECLINED

    hire, contract = hourly(card=DECLINED)
    log_time(contract, utc(2026, 11, 3, 10, 0), 60)
    close()
    timesheet = Timesheet.objects.get(contract=contract)
    _, detail_url = _urls(contract, timesheet)
    retry_url = reverse(
        "contracts:timesheet_retry", kwargs={"contract_id": contract.pk, "timesheet_id": timesheet.pk}
    )

    client.force_login(hire.freelancer)
    assert 'data-testid="retry-payment"' not in client.get(detail_url).content.decode()
    assert client.post(retry_url).status_code == 404

    client.force_login(hire.client)
    body = client.get(detail_url).content.decode()
    assert 'data-testid="payment-failed"' in body and "Your card was declined." in body
    response = client.post(retry_url, follow=True)
    assert "The payment failed again: Your card was declined." in response.content.decode()
    save_card(hire.client, VISA)
    response = client.post(retry_url, follow=True)
    assert "Payment received." in response.content.decode()
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.IN_REVIEW and timesheet.charge_attempts == 3
    response = client.post(retry_url, follow=True)  # nothing left to retry: a message, no 500
    assert response.status_code == 200 and "Only a failed payment can be retried" in response.content.decode()
    assert client.get(f"{detail_url}x").status_code == 404


def test_the_api_lists_and_details_for_parties(api_client, billed):
    hire, contract, timesheet = billed
    api_client.force_authenticate(hire.client)
    response = api_client.get(f"/api/v1/contracts/{contract.pk}/timesheets/")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == timesheet.pk and row["week_start"] == "2026-11-02" and row["week_end"] == "2026-11-08"
    assert (row["logged_minutes"], row["billed_minutes"], row["amount_cents"]) == (300, 240, 18_000)
    assert row["status"] == "in_review" and row["review_ends_at"].startswith("2026-11-13T23:59:59")

    api_client.force_authenticate(hire.freelancer)
    response = api_client.get(f"/api/v1/timesheets/{timesheet.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert len(body["segments"]) == 30
    assert [step["label"] for step in body["timeline"]][:2] == [
        "Week closed: 4:00 hrs billable",
        "Charged $180.00",
    ]
    assert api_client.get("/api/v1/timesheets/999999/").status_code == 404


def test_the_api_retry_is_for_the_client_only(api_client, billed):
    hire, _, timesheet = billed
    api_client.force_authenticate(hire.freelancer)
    assert api_client.post(f"/api/v1/timesheets/{timesheet.pk}/retry-payment/").status_code == 404
    api_client.force_authenticate(hire.client)
    response = api_client.post(f"/api/v1/timesheets/{timesheet.pk}/retry-payment/")
    assert response.status_code == 400 and response.json()["code"] == "illegal_transition"


def test_staff_browse_timesheets_and_release_due_weeks_from_admin(client, staff, billed):
    _, _, timesheet = billed
    client.force_login(staff)
    assert client.get(reverse("admin:contracts_timesheet_changelist")).status_code == 200
    page = client.get(reverse("admin:contracts_timesheet_change", args=[timesheet.pk])).content.decode()
    assert "Checkout API" in page  # the segments inline
    changelist = reverse("admin:contracts_timesheet_changelist")
    with time_machine.travel(REVIEW_END - timedelta(minutes=1), tick=False):
        client.force_login(staff)
        client.post(changelist, {"action": "release_due", "_selected_action": [timesheet.pk]})
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.IN_REVIEW  # the review period is not over
    with time_machine.travel(REVIEW_END + timedelta(minutes=1), tick=False):
        client.force_login(staff)
        client.post(changelist, {"action": "release_due", "_selected_action": [timesheet.pk]})
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RELEASED
