"""Hourly disputes: the client disputes a billed week (whole or chosen segments) within the
review period; the freelancer has 3 days; silence refunds the disputed part; staff split in
admin; the split is carried out by ``contracts.billing`` (ledger balanced, totals exact)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from contracts import disputes
from contracts.models import ContractEvent, Dispute, TimeSegment, Timesheet
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from payments import audit, ledger
from payments.models import AccountKind, Refund

from .test_billing import CLOSE_AT, REVIEW_END, close, hourly, log_time, utc

pytestmark = pytest.mark.django_db

DURING_REVIEW = CLOSE_AT + timedelta(days=1)  # Tuesday Nov 10, 2026


def audit_findings() -> list[str]:
    return [f"{f.check}: {f.message}" for f in audit.run_checks()]


@pytest.fixture
def week(local_gateway):
    """5 hours at $45/hr in the week of Nov 2 (the last two segments without a memo),
    closed and charged: $225.00 in escrow."""
    hire, contract = hourly()
    log_time(contract, utc(2026, 11, 3, 10, 0), 280)
    log_time(contract, utc(2026, 11, 3, 14, 40), 20, memo="")
    close()
    timesheet = Timesheet.objects.get(contract=contract)
    assert timesheet.status == Timesheet.Status.IN_REVIEW and timesheet.escrow_cents == 22_500
    return hire, contract, timesheet


def _open(hire, timesheet, segment_ids=None, now=DURING_REVIEW, **kwargs):
    with time_machine.travel(now, tick=False):
        return disputes.timesheet_dispute_open(
            actor=kwargs.pop("actor", hire.client),
            timesheet_id=timesheet.pk,
            reason=kwargs.pop("reason", "hours_inflated"),
            statement=kwargs.pop("statement", "Nobody worked on Tuesday afternoon."),
            segment_ids=segment_ids,
            **kwargs,
        )


def test_the_client_disputes_chosen_segments_and_silence_refunds_their_share(
    week, django_capture_on_commit_callbacks
):
    hire, contract, timesheet = week
    chosen = list(TimeSegment.objects.filter(timesheet=timesheet, memo="").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        dispute = _open(hire, timesheet, chosen)
    assert dispute.disputed_cents == 1_500  # 20 of 300 minutes of $225.00
    assert dispute.amount_cents == 22_500 and dispute.response_due_at == DURING_REVIEW + timedelta(days=3)
    assert set(dispute.segments.values_list("pk", flat=True)) == set(chosen)
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.DISPUTED
    event = ContractEvent.objects.get(kind=ContractEvent.Kind.DISPUTE_OPENED)
    assert event.data["disputed_cents"] == 1_500 and event.to_status == "disputed"
    assert Notification.objects.filter(recipient=hire.freelancer, text__contains="disputes $15.00").exists()
    rows = disputes.dispute_segments(dispute)
    assert sum(r.flagged for r in rows) == 2 and sum(r.disputed for r in rows) == 2
    # not released while disputed, even after the review period
    from contracts import billing

    assert billing.timesheets_release_due(now=REVIEW_END + timedelta(days=1)) == 0
    later = DURING_REVIEW + timedelta(days=3, minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert disputes.disputes_resolve_overdue() == 1
    dispute.refresh_from_db()
    assert dispute.resolution == Dispute.Resolution.SILENCE
    assert (dispute.refund_cents, dispute.release_cents) == (1_500, 21_000)
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RESOLVED
    assert (timesheet.refunded_cents, timesheet.released_cents, timesheet.escrow_cents) == (1_500, 21_000, 0)
    assert Refund.objects.get().amount_cents == 1_500
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 21_000 - 2_100
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    assert audit_findings() == []


def test_the_whole_week_answered_then_split_by_staff_in_admin(
    client, week, staff, django_capture_on_commit_callbacks
):
    hire, contract, timesheet = week
    dispute = _open(hire, timesheet)
    assert dispute.disputed_cents == 22_500
    disputes.dispute_statement_add(actor=hire.freelancer, dispute_id=dispute.pk, text="All of it was work.")
    client.force_login(staff)
    page = client.get(reverse("admin:contracts_dispute_change", args=[dispute.pk])).content.decode()
    assert "(no memo)" in page and "2 flagged" in page
    url = reverse("admin:contracts_dispute_resolve", args=[dispute.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"refund_cents": 7_501, "release_cents": 14_999, "note": "A third."})
    assert response.status_code == 302
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RESOLVED
    assert (timesheet.refunded_cents, timesheet.released_cents) == (7_501, 14_999)
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 14_999 - 1_500
    assert ledger.escrow_balance(f"contract:{contract.pk}") == 0
    assert audit_findings() == []
    # a second resolution is refused and a retried settlement changes nothing
    with pytest.raises(ApplicationError):
        disputes.dispute_resolve_by_staff(
            actor=staff, dispute_id=dispute.pk, refund_cents=0, release_cents=22_500, note="Again"
        )
    disputes.dispute_settle_timesheet(dispute_id=dispute.pk)
    assert Refund.objects.count() == 1


def test_the_dispute_page_highlights_segments(client, week):
    hire, _contract, timesheet = week
    dispute = _open(hire, timesheet)
    client.force_login(hire.freelancer)
    page = client.get(reverse("contracts:dispute_detail", args=[dispute.pk])).content.decode()
    assert page.count('data-flagged="1"') == 2 and "no memo" in page


def test_only_the_client_within_the_review_period(week, stranger_client):
    hire, _contract, timesheet = week
    with pytest.raises(PermissionDeniedError):
        _open(hire, timesheet, actor=hire.freelancer)
    with pytest.raises(NotFoundError):
        _open(hire, timesheet, actor=stranger_client)
    with pytest.raises(ApplicationError) as error:
        _open(hire, timesheet, now=REVIEW_END + timedelta(seconds=1))
    assert error.value.code == "review_period_over"
    with pytest.raises(ApplicationError) as error:
        _open(hire, timesheet, [10**9])
    assert error.value.code == "invalid_segments"
    with pytest.raises(ApplicationError) as error:
        _open(hire, timesheet, reason="quality_bad")
    assert error.value.code == "invalid_reason"
    assert not Dispute.objects.exists()
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.IN_REVIEW


def test_segments_beyond_the_limit_cost_nothing(local_gateway):
    hire, contract = hourly(weekly_limit_hours=1)
    log_time(contract, utc(2026, 11, 4, 8, 0), 80)
    close()
    timesheet = Timesheet.objects.get(contract=contract)
    beyond = list(
        TimeSegment.objects.filter(timesheet=timesheet)
        .order_by("-started_at")
        .values_list("pk", flat=True)[:2]
    )
    with pytest.raises(ApplicationError) as error:
        _open(hire, timesheet, beyond)
    assert error.value.code == "nothing_billed"
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.IN_REVIEW  # the freeze rolled back with the refusal


def test_the_api_opens_an_hourly_dispute(api_client, week):
    hire, _contract, timesheet = week
    api_client.force_authenticate(hire.client)
    with time_machine.travel(DURING_REVIEW, tick=False):
        response = api_client.post(
            reverse("api_timesheet_dispute_open", args=[timesheet.pk]),
            {"reason": "hours_inflated", "statement": "Too many hours."},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["disputed_cents"] == 22_500 and response.json()["timesheet_id"] == timesheet.pk


def test_the_client_disputes_segments_from_the_page(client, week):
    hire, contract, timesheet = week
    url = reverse("contracts:timesheet_dispute_open", args=[contract.pk, timesheet.pk])
    chosen = list(TimeSegment.objects.filter(timesheet=timesheet, memo="").values_list("pk", flat=True))
    with time_machine.travel(DURING_REVIEW, tick=False):
        client.force_login(hire.freelancer)
        page = client.get(url).content.decode()
        assert 'data-testid="cannot-dispute"' in page  # only the client
        client.force_login(hire.client)
        page = client.get(url).content.decode()
        assert page.count("no memo") >= 2 and 'name="segment"' in page
        bad = client.post(url, {"reason": "", "statement": "x", "segment": chosen})
        assert bad.status_code == 400
        # digits that int() refuses ("²") or that overflow are dropped, not a 500
        odd = client.post(url, {"reason": "", "statement": "x", "segment": ["²", "9" * 30]})
        assert odd.status_code == 400
        response = client.post(
            url, {"reason": "hours_inflated", "statement": "Not worked.", "segment": chosen}, follow=True
        )
    dispute = Dispute.objects.get()
    assert response.redirect_chain[-1][0] == reverse("contracts:dispute_detail", args=[dispute.pk])
    assert dispute.disputed_cents == 1_500
    assert any("Dispute opened on $15.00" in str(m) for m in response.context["messages"])
