"""Weekly billing of hourly contracts (contracts.billing): the billing math, the weekly limit,
empty weeks, exactly-once closing, declined cards (notify, retry, grace pause), the review
period and its release, dispute freeze and split. Time is set with time-machine; segments
are written directly (the time tracker's services are tested with the diary)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from contracts import billing
from contracts.models import Contract, ContractEvent, TimeSegment, Timesheet
from marketplace.errors import ApplicationError, ConflictError
from messaging.models import Notification
from payments import audit, ledger
from payments.models import AccountKind, Charge, JournalEntry, Posting, Refund

from .conftest import DECLINED, VISA, Hire, save_card

pytestmark = pytest.mark.django_db

# Monday 2 November 2026 (the US left daylight saving time the day before)
WEEK = date(2026, 11, 2)
MONDAY_9AM = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CLOSE_AT = datetime(2026, 11, 9, 0, 30, tzinfo=UTC)  # the beat run after the week
REVIEW_END = datetime(2026, 11, 13, 23, 59, 59, tzinfo=UTC)  # Friday of the following week


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def log_time(contract: Contract, start: datetime, minutes: int, memo: str = "Building the API") -> None:
    """Write ``minutes`` of 10-minute segments from ``start`` (as the time tracker would)."""
    for index in range(minutes // 10):
        at = start + timedelta(minutes=10 * index)
        TimeSegment.objects.create(
            contract=contract,
            started_at=at,
            week_start=at.date() - timedelta(days=at.weekday()),
            memo=memo,
        )


def hourly(when: datetime = MONDAY_9AM, card: str | None = VISA, **overrides) -> tuple[Hire, Contract]:
    """An hourly contract ($45/hr, 20 hrs/week unless overridden) started at ``when``."""
    with time_machine.travel(when, tick=False):
        hire = Hire(hourly=True)
        contract = hire.contract(**overrides)
        if card:
            save_card(hire.client, card)
    return hire, contract


def close(now: datetime = CLOSE_AT) -> dict[str, int]:
    with time_machine.travel(now, tick=False):
        return billing.timesheets_close_week(now=now)


def escrow_of(contract: Contract) -> int:
    return ledger.escrow_balance(f"contract:{contract.pk}")


def audit_findings() -> list[str]:
    return [f"{f.check}: {f.message}" for f in audit.run_checks()]


@pytest.fixture
def billed(local_gateway):
    """A contract with 5 hours logged in the week of Nov 2, closed and charged."""
    hire, contract = hourly()
    log_time(contract, utc(2026, 11, 3, 10, 0), 300)
    close()
    return hire, contract, Timesheet.objects.get(contract=contract)


# --- weeks and money -------------------------------------------------------------------------------------


def test_amount_is_minutes_times_rate_rounded_half_up_on_the_week_total():
    # $45.01/hr: 10 minutes is 750.17 cents, so per-segment rounding would drift
    assert billing.amount_for(10, 4501) == 750
    assert billing.amount_for(30, 4501) == 2251  # 2250.5 -> up
    assert billing.amount_for(6 * 10, 4501) == 4501
    assert billing.amount_for(6 * 10 * 3, 4501) == 13503  # not 18 x 750 = 13500
    assert billing.amount_for(0, 4500) == 0
    assert billing.amount_for(50, 1) == 1  # 0.83 -> 1


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (utc(2026, 11, 8, 23, 59, 59), date(2026, 11, 2)),  # Sunday night, last second
        (utc(2026, 11, 9, 0, 0), date(2026, 11, 9)),  # Monday 00:00 starts the next week
        (utc(2027, 1, 1, 12, 0), date(2026, 12, 28)),  # new year's day belongs to the week of Dec 28
        (utc(2026, 3, 8, 10, 0), date(2026, 3, 2)),  # US clocks spring forward (UTC does not)
        (utc(2026, 10, 25, 1, 30), date(2026, 10, 19)),  # Europe falls back at 01:00 UTC on a Sunday
        (utc(2026, 2, 28, 23, 0), date(2026, 2, 23)),  # across a month end
    ],
)
def test_week_start_is_the_utc_monday(moment, monday):
    assert billing.week_start_of(moment) == monday
    start, end = billing.week_bounds(monday)
    assert start <= moment < end and end - start == timedelta(days=7)


def test_review_ends_friday_235959_utc_of_the_following_week():
    assert billing.review_ends_at(WEEK) == REVIEW_END
    assert billing.review_ends_at(WEEK, CLOSE_AT) == REVIEW_END
    assert billing.review_ends_at(date(2026, 12, 28)) == utc(2027, 1, 8, 23, 59, 59)
    # paid late (a retry after that Friday): until the next Friday 23:59:59
    assert billing.review_ends_at(WEEK, utc(2026, 11, 14, 8, 0)) == utc(2026, 11, 20, 23, 59, 59)
    assert billing.review_ends_at(WEEK, utc(2026, 11, 20, 23, 59, 59, 1)) == utc(2026, 11, 27, 23, 59, 59)


# --- closing a week ----------------------------------------------------------------------------------------


def test_closing_the_week_freezes_figures_and_charges_the_client(
    local_gateway, django_capture_on_commit_callbacks
):
    hire, contract = hourly()
    log_time(contract, utc(2026, 11, 3, 10, 0), 300)  # 5 hours on Tuesday
    log_time(contract, utc(2026, 11, 8, 23, 50), 10)  # the last 10 minutes of Sunday
    log_time(contract, utc(2026, 11, 9, 0, 0), 10)  # Monday 00:00: next week, not billed now

    with django_capture_on_commit_callbacks(execute=True):
        counts = close()

    timesheet = Timesheet.objects.get(contract=contract)
    assert counts["billed"] == 1
    assert timesheet.week_start == WEEK
    assert timesheet.status == Timesheet.Status.IN_REVIEW
    assert (timesheet.logged_minutes, timesheet.billed_minutes) == (310, 310)
    assert timesheet.rate_cents == 4500
    assert timesheet.amount_cents == 23_250  # 310 min x $45 / 60
    assert timesheet.escrow_cents == 23_250
    assert timesheet.closed_at == CLOSE_AT and timesheet.charged_at == CLOSE_AT
    assert timesheet.review_ends_at == REVIEW_END
    assert timesheet.segments.count() == 31
    assert TimeSegment.objects.get(started_at=utc(2026, 11, 9, 0, 0)).timesheet_id is None
    charge = Charge.objects.get(purpose="timesheet_billing")
    assert charge.reference == f"timesheet:{timesheet.pk}"
    assert charge.escrow_reference == charge.transfer_group == f"contract:{contract.pk}"
    assert charge.amount_cents == 23_250 and charge.client_fee_cents == 1163  # 5 % rounded half up
    assert escrow_of(contract) == 23_250
    assert ContractEvent.objects.filter(contract=contract, kind="timesheet_billed").count() == 1
    summaries = Notification.objects.filter(text__startswith="Weekly summary")
    assert {n.recipient_id for n in summaries} == {hire.client.pk, hire.freelancer.pk}
    emailed = {m.to[0]: m.subject for m in mail.outbox if "Weekly summary" in m.subject}
    assert set(emailed) == {hire.client.email, hire.freelancer.email}
    client_text = summaries.get(recipient=hire.client).text
    assert "5:10 hrs" in client_text and "$232.50" in client_text and "Nov 13, 2026 23:59 UTC" in client_text
    assert audit_findings() == []


def test_the_weekly_limit_caps_billed_time(local_gateway):
    _, contract = hourly(weekly_limit_hours=2)
    log_time(contract, utc(2026, 11, 4, 8, 0), 190)

    close()

    timesheet = Timesheet.objects.get(contract=contract)
    assert (timesheet.logged_minutes, timesheet.billed_minutes) == (190, 120)
    assert timesheet.amount_cents == 9000
    assert timesheet.segments.count() == 19  # all logged time is frozen, billed or not


def test_a_week_without_time_closes_empty_and_charges_nothing(local_gateway):
    _, contract = hourly()

    counts = close()

    timesheet = Timesheet.objects.get(contract=contract)
    assert counts == {"closed": 1, "empty": 1, "billed": 0, "failed": 0, "charging": 0, "errors": 0}
    assert timesheet.status == Timesheet.Status.EMPTY and timesheet.amount_cents == 0
    assert not Charge.objects.exists()


def test_running_the_task_twice_bills_once(billed):
    _, contract, timesheet = billed

    again = close()
    later = close(CLOSE_AT + timedelta(hours=5))

    assert again["closed"] == later["closed"] == 0
    assert Timesheet.objects.filter(contract=contract).count() == 1
    assert Charge.objects.filter(purpose="timesheet_billing").count() == 1
    assert JournalEntry.objects.filter(purpose="timesheet_billing").count() == 1
    assert escrow_of(contract) == 22_500
    # closing the same week directly returns it unchanged
    same = billing.timesheet_close(contract_id=contract.pk, week_start=WEEK, now=CLOSE_AT)
    assert same.pk == timesheet.pk and same.status == Timesheet.Status.IN_REVIEW


def test_missed_weeks_are_caught_up_and_each_billed_once(local_gateway):
    _, contract = hourly()
    log_time(contract, utc(2026, 11, 3, 10, 0), 60)
    log_time(contract, utc(2026, 11, 10, 10, 0), 120)
    # nobody ran the task for two weeks
    counts = close(utc(2026, 11, 17, 6, 0))

    sheets = {t.week_start: t for t in Timesheet.objects.filter(contract=contract)}
    assert counts["billed"] == 2
    assert sheets[date(2026, 11, 2)].amount_cents == 4500
    assert sheets[date(2026, 11, 9)].amount_cents == 9000
    assert close(utc(2026, 11, 18, 0, 30))["closed"] == 0


def test_a_week_across_the_new_year_is_one_timesheet(local_gateway):
    _, contract = hourly(utc(2026, 12, 28, 8, 0))
    log_time(contract, utc(2026, 12, 31, 22, 0), 180)  # New Year's Eve into New Year's Day
    log_time(contract, utc(2027, 1, 3, 23, 0), 60)  # Sunday, the last hour of the week

    close(utc(2027, 1, 4, 0, 30))

    timesheet = Timesheet.objects.get(contract=contract)
    assert timesheet.week_start == date(2026, 12, 28)
    assert timesheet.billed_minutes == 240 and timesheet.amount_cents == 18_000
    assert timesheet.review_ends_at == utc(2027, 1, 8, 23, 59, 59)


def test_dst_weekend_splits_on_the_utc_monday(local_gateway):
    # Europe falls back on Sunday 25 October 2026 at 01:00 UTC: UTC weeks are unaffected
    _, contract = hourly(utc(2026, 10, 19, 8, 0))
    log_time(contract, utc(2026, 10, 25, 0, 30), 120)  # Sunday 00:30-02:30 UTC, over the change
    log_time(contract, utc(2026, 10, 26, 0, 0), 60)  # Monday: the next week

    close(utc(2026, 11, 2, 0, 30))

    sheets = {t.week_start: t for t in Timesheet.objects.filter(contract=contract)}
    assert sheets[date(2026, 10, 19)].billed_minutes == 120
    assert sheets[date(2026, 10, 26)].billed_minutes == 60


def test_a_week_not_over_cannot_be_closed(local_gateway):
    _, contract = hourly()
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_close(contract_id=contract.pk, week_start=WEEK, now=utc(2026, 11, 8, 23, 0))
    assert error.value.code == "week_not_over"
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_close(contract_id=contract.pk, week_start=date(2026, 11, 3), now=CLOSE_AT)
    assert error.value.code == "invalid_week"
    assert not Timesheet.objects.exists()


def test_fixed_price_contracts_are_not_billed_weekly(hire, local_gateway):
    contract = hire.contract()
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_close(
            contract_id=contract.pk, week_start=WEEK, now=timezone.now() + timedelta(days=400)
        )
    assert error.value.code in {"not_hourly", "week_not_over"}
    assert close(timezone.now() + timedelta(days=14))["closed"] == 0


# --- payment failures --------------------------------------------------------------------------------------


@pytest.fixture
def declined(local_gateway, django_capture_on_commit_callbacks):
    """A week whose charge was declined."""
    hire, contract = hourly(card=DECLINED)
    log_time(contract, utc(2026, 11, 3, 10, 0), 120)
    with django_capture_on_commit_callbacks(execute=True):
        close()
    return hire, contract, Timesheet.objects.get(contract=contract)


def test_a_declined_card_leaves_the_week_payment_failed_and_tells_both(declined):
    hire, contract, timesheet = declined
    assert timesheet.status == Timesheet.Status.PAYMENT_FAILED
    assert timesheet.charge_failure_message == "Your card was declined."
    assert timesheet.escrow_cents == 0 and escrow_of(contract) == 0
    assert Charge.objects.get(purpose="timesheet_billing").status == Charge.Status.FAILED
    assert ContractEvent.objects.filter(contract=contract, kind="timesheet_payment_failed").count() == 1
    told = Notification.objects.filter(text__contains="failed")
    assert {n.recipient_id for n in told} == {hire.client.pk, hire.freelancer.pk}
    assert "Your card was declined." in told.get(recipient=hire.client).text
    assert audit_findings() == []


def test_no_card_on_file_is_a_failed_payment_too(local_gateway):
    _, contract = hourly(card=None)
    log_time(contract, utc(2026, 11, 3, 10, 0), 60)
    close()
    timesheet = Timesheet.objects.get(contract=contract)
    assert timesheet.status == Timesheet.Status.PAYMENT_FAILED
    assert "add one on the Billing page" in timesheet.charge_failure_message


def test_the_daily_retry_charges_the_new_card(declined):
    hire, contract, timesheet = declined
    with time_machine.travel(CLOSE_AT + timedelta(hours=2), tick=False):
        save_card(hire.client, VISA)
        early = billing.timesheets_retry_failed()  # too soon after the failure: not retried
    assert early["retried"] == 0

    with time_machine.travel(CLOSE_AT + timedelta(days=1), tick=False):
        counts = billing.timesheets_retry_failed()

    timesheet.refresh_from_db()
    assert counts["retried"] == 1 and counts["paid"] == 1
    assert timesheet.status == Timesheet.Status.IN_REVIEW
    assert timesheet.charge_attempts == 2 and timesheet.charge_failure_message == ""
    charges = list(Charge.objects.filter(purpose="timesheet_billing").order_by("attempt"))
    assert [c.status for c in charges] == [Charge.Status.FAILED, Charge.Status.SUCCEEDED]
    assert charges[0].idempotency_key != charges[1].idempotency_key
    assert escrow_of(contract) == timesheet.amount_cents == 9000
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE
    assert audit_findings() == []


def test_the_client_retries_from_the_page(declined):
    hire, _contract, timesheet = declined
    save_card(hire.client, VISA)
    with pytest.raises(ApplicationError):
        billing.timesheet_retry_charge(timesheet_id=timesheet.pk, actor=hire.freelancer)

    result = billing.timesheet_retry_charge(timesheet_id=timesheet.pk, actor=hire.client)

    assert result.status == Timesheet.Status.IN_REVIEW
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_retry_charge(timesheet_id=timesheet.pk, actor=hire.client)
    assert error.value.code == "illegal_transition"


def test_the_contract_is_paused_after_the_grace_period(declined, settings):
    _hire, contract, timesheet = declined
    settings.HOURLY_PAYMENT_GRACE_DAYS = 3
    for day in (1, 2):
        with time_machine.travel(CLOSE_AT + timedelta(days=day), tick=False):
            counts = billing.timesheets_retry_failed()
        assert counts["paused"] == 0
        assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE

    with time_machine.travel(CLOSE_AT + timedelta(days=3), tick=False):
        counts = billing.timesheets_retry_failed()

    contract.refresh_from_db()
    timesheet.refresh_from_db()
    assert counts["paused"] == 1 and contract.status == Contract.Status.PAUSED
    assert timesheet.status == Timesheet.Status.PAYMENT_FAILED and timesheet.charge_attempts == 4
    event = ContractEvent.objects.get(contract=contract, kind="paused")
    assert event.actor_id is None and event.data["reason"] == "payment_failed"
    assert "unpaid after 3 days" in event.data["note"]
    with time_machine.travel(CLOSE_AT + timedelta(days=4), tick=False):
        assert billing.timesheets_retry_failed()["paused"] == 0  # once


# --- review period and release -----------------------------------------------------------------------------


def test_release_waits_until_after_friday_235959_of_the_following_week(billed):
    hire, contract, timesheet = billed

    assert billing.timesheets_release_due(now=REVIEW_END - timedelta(days=1)) == 0
    assert billing.timesheets_release_due(now=REVIEW_END) == 0  # the last second to dispute
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.IN_REVIEW

    release_at = REVIEW_END + timedelta(seconds=1)
    with time_machine.travel(release_at, tick=False):
        assert billing.timesheets_release_due() == 1
        assert billing.timesheets_release_due() == 0  # twice: once

    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RELEASED
    assert timesheet.escrow_cents == 0 and timesheet.released_cents == 22_500
    assert timesheet.released_at == release_at
    assert escrow_of(contract) == 0
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 20_250  # 10 % fee
    posting = Posting.objects.get(
        entry__idempotency_key=f"timesheet-release:{timesheet.pk}",
        account__kind=AccountKind.FREELANCER_PENDING,
    )
    assert posting.available_at == release_at + timedelta(days=5)  # the security hold
    assert ContractEvent.objects.filter(contract=contract, kind="timesheet_released").count() == 1
    assert audit_findings() == []


def test_the_money_timeline_shows_every_date(billed):
    _, _, timesheet = billed
    with time_machine.travel(CLOSE_AT + timedelta(hours=1), tick=False):
        steps = billing.money_timeline(timesheet)
    labels = [(s.label, s.at, s.done) for s in steps]
    assert labels == [
        ("Week closed: 5:00 hrs billable", CLOSE_AT, True),
        ("Charged $225.00", CLOSE_AT, True),
        ("Review period ends (dispute until)", REVIEW_END, False),
        ("Auto-release to the freelancer", REVIEW_END + timedelta(seconds=1), False),
        ("Available to withdraw", REVIEW_END + timedelta(seconds=1, days=5), False),
    ]


def test_a_disputed_week_is_not_released(billed):
    _, contract, timesheet = billed
    with time_machine.travel(REVIEW_END - timedelta(hours=1), tick=False):
        frozen = billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk)
    assert frozen.status == Timesheet.Status.DISPUTED

    assert billing.timesheets_release_due(now=REVIEW_END + timedelta(days=3)) == 0
    assert billing.timesheet_release(timesheet_id=timesheet.pk, now=REVIEW_END + timedelta(days=3)) is False
    assert escrow_of(contract) == 22_500


def test_freezing_is_refused_after_the_review_period_or_twice(billed):
    _, _, timesheet = billed
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=REVIEW_END + timedelta(seconds=1))
    assert error.value.code == "review_period_over"
    billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=REVIEW_END)
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=REVIEW_END)
    assert error.value.code == "illegal_transition"


# --- dispute split ----------------------------------------------------------------------------------------


def test_settling_a_dispute_splits_the_escrow_exactly(billed, django_capture_on_commit_callbacks):
    hire, contract, timesheet = billed
    billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=CLOSE_AT + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = billing.timesheet_settle_split(
            timesheet_id=timesheet.pk, refund_cents=7_501, release_cents=14_999, actor=None
        )

    result.refresh_from_db()
    assert result.status == Timesheet.Status.RESOLVED
    assert (result.refunded_cents, result.released_cents, result.escrow_cents) == (7_501, 14_999, 0)
    assert result.refunded_cents + result.released_cents == result.amount_cents
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED and refund.amount_cents == 7_501
    assert refund.fee_cents == 375  # the client fee refunded in proportion (5 % of 75.01)
    assert escrow_of(contract) == 0
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.freelancer) == 14_999 - 1_500
    assert audit_findings() == []
    # a retry with the same split is a no-op; a different one is refused
    again = billing.timesheet_settle_split(
        timesheet_id=timesheet.pk, refund_cents=7_501, release_cents=14_999
    )
    assert again.status == Timesheet.Status.RESOLVED and Refund.objects.count() == 1
    with pytest.raises(ConflictError):
        billing.timesheet_settle_split(timesheet_id=timesheet.pk, refund_cents=0, release_cents=22_500)


@pytest.mark.parametrize(("refund", "release"), [(22_500, 0), (0, 22_500)])
def test_all_to_one_side(billed, refund, release, django_capture_on_commit_callbacks):
    _hire, contract, timesheet = billed
    billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=CLOSE_AT)
    with django_capture_on_commit_callbacks(execute=True):
        billing.timesheet_settle_split(timesheet_id=timesheet.pk, refund_cents=refund, release_cents=release)
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.RESOLVED
    assert (timesheet.refunded_cents, timesheet.released_cents) == (refund, release)
    assert escrow_of(contract) == 0
    assert Refund.objects.count() == (1 if refund else 0)
    assert audit_findings() == []


def test_a_split_must_add_up_and_needs_a_dispute(billed):
    _, contract, timesheet = billed
    with pytest.raises(ApplicationError) as error:
        billing.timesheet_settle_split(timesheet_id=timesheet.pk, refund_cents=100, release_cents=22_400)
    assert error.value.code == "illegal_transition"
    billing.timesheet_freeze_for_dispute(timesheet_id=timesheet.pk, now=CLOSE_AT)
    for refund, release in [(100, 100), (-1, 22_501), (22_501, 0)]:
        with pytest.raises(ApplicationError) as error:
            billing.timesheet_settle_split(
                timesheet_id=timesheet.pk, refund_cents=refund, release_cents=release
            )
        assert error.value.code in {"split_mismatch", "invalid_split"}
    with pytest.raises(ApplicationError):
        billing.timesheet_settle_split(timesheet_id=timesheet.pk, refund_cents="5", release_cents=22_495)  # type: ignore[arg-type]
    timesheet.refresh_from_db()
    assert timesheet.status == Timesheet.Status.DISPUTED and escrow_of(contract) == 22_500
    assert not Refund.objects.exists()


def test_the_transition_table_is_enforced(billed):
    _, _, timesheet = billed
    for status in Timesheet.Status.values:
        allowed = Timesheet.TRANSITIONS[status]
        for target in Timesheet.Status.values:
            timesheet.status = status
            if target in allowed:
                billing._transition(timesheet, target)
                assert timesheet.status == target
            else:
                with pytest.raises(ApplicationError):
                    billing._transition(timesheet, target)
