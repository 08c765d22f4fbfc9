"""Time tracking: the week helpers, the segment rules (overlap, future, paused/ended, foreign
users, closed weeks), the weekly limit, the timer, manual entries, the work diary and the
tracker tokens page. State is built through the real services; time is moved with
time-machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contracts import services, timetracking
from contracts.models import ContractEvent, TimerSession, TimeSegment, Timesheet, TrackerToken
from contracts.timetracking import SegmentInput
from marketplace.errors import ConflictError, NotFoundError, PermissionDeniedError
from tests.conftest import requires_postgres
from tests.contracts.conftest import Hire

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; the contract starts then


def at(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hire(db, clock) -> Hire:
    return Hire(hourly=True)


@pytest.fixture
def contract(hire):
    return hire.contract(weekly_limit_hours=20, manual_time_allowed=True)


def add(contract, *starts: datetime, memo: str = "Work", activity: int | None = 5):
    return timetracking.segments_add(
        actor=contract.freelancer,
        contract_id=contract.pk,
        items=[SegmentInput(started_at=s, memo=memo, activity=activity) for s in starts],
    )


def only_error(result):
    assert not result.created
    assert len(result.rejected) == 1
    return result.rejected[0].error


# --- weeks and the grid -------------------------------------------------------------------------------


def test_week_start_of_is_the_utc_monday():
    assert timetracking.week_start_of(at(2, 0)) == date(2026, 3, 2)
    assert timetracking.week_start_of(at(8, 23, 59)) == date(2026, 3, 2)
    assert timetracking.week_start_of(at(9, 0)) == date(2026, 3, 9)
    # 00:30 on Monday in Warsaw (UTC+1) is still Sunday in UTC: the previous week
    warsaw = datetime(2026, 3, 9, 0, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
    assert timetracking.week_start_of(warsaw) == date(2026, 3, 2)


def test_new_year_week_spans_december_31_and_january_1():
    assert timetracking.week_start_of(at(31, 12, month=12, year=2025)) == date(2025, 12, 29)
    assert timetracking.week_start_of(at(1, 12, month=1, year=2026)) == date(2025, 12, 29)
    assert timetracking.week_start_of(at(4, 23, 59, month=1, year=2026)) == date(2025, 12, 29)
    assert timetracking.week_start_of(at(5, 0, month=1, year=2026)) == date(2026, 1, 5)
    start, end = timetracking.week_bounds(date(2025, 12, 29))
    assert (start, end) == (at(29, 0, month=12, year=2025), at(5, 0, month=1, year=2026))


def test_dst_change_does_not_move_the_week():
    # Europe moves its clocks on Sunday 2026-03-29: the UTC week is still 7 x 24 hours
    start, end = timetracking.week_bounds(date(2026, 3, 23))
    assert end - start == timedelta(days=7)
    local_monday_1am = datetime(2026, 3, 30, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 23:30 UTC Sunday
    assert timetracking.week_start_of(local_monday_1am) == date(2026, 3, 23)
    assert timetracking.week_bounds(date(2026, 3, 25)) == (start, end)  # any day names its week


def test_align_floors_to_the_ten_minute_grid():
    assert timetracking.align(datetime(2026, 3, 2, 9, 19, 59, 999, tzinfo=UTC)) == at(2, 9, 10)
    assert timetracking.align(at(2, 9, 20)) == at(2, 9, 20)
    assert timetracking.align(datetime(2026, 3, 2, 11, 5, tzinfo=ZoneInfo("Europe/Warsaw"))) == at(2, 10, 0)
    with pytest.raises(ValueError):
        timetracking.align(datetime(2026, 3, 2, 9, 5))  # naive


def test_parse_week_takes_any_day_and_falls_back_to_this_week(clock):
    assert timetracking.parse_week("2026-02-26") == date(2026, 2, 23)
    assert timetracking.parse_week("nonsense") == date(2026, 3, 2)
    assert timetracking.parse_week("2026-02-30") == date(2026, 3, 2)
    assert timetracking.parse_week(None) == date(2026, 3, 2)


def test_partial_slot_rule_counts_slots_covered_for_five_minutes():
    assert timetracking.slots_covered(at(2, 10, 3), at(2, 10, 26)) == [
        at(2, 10, 0),
        at(2, 10, 10),
        at(2, 10, 20),
    ]
    assert timetracking.slots_covered(at(2, 10, 3), at(2, 10, 7)) == []
    assert timetracking.slots_covered(at(2, 10, 6), at(2, 10, 14)) == []  # 4 + 4 minutes
    assert timetracking.slots_covered(at(2, 10, 5), at(2, 10, 15)) == [at(2, 10, 0), at(2, 10, 10)]


# --- adding segments ----------------------------------------------------------------------------------


def test_segments_are_recorded_aligned_with_their_week(contract, clock):
    clock.move_to(at(2, 12))
    result = add(contract, at(2, 10, 4), at(2, 10, 10), activity=7)
    assert [s.started_at for s in result.created] == [at(2, 10, 0), at(2, 10, 10)]
    assert all(s.week_start == date(2026, 3, 2) and s.activity == 7 for s in result.created)
    assert TimeSegment.objects.filter(contract=contract, source="tracker").count() == 2


def test_overlapping_segments_are_refused(contract, clock):
    clock.move_to(at(2, 12))
    add(contract, at(2, 10, 0))
    error = only_error(add(contract, at(2, 10, 9)))  # the same slot, floored
    assert isinstance(error, ConflictError)
    assert error.code == "segment_overlap"
    assert "already logged" in error.message
    # the database refuses it too, whatever the service does
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeSegment.objects.create(contract=contract, started_at=at(2, 10, 0), week_start=date(2026, 3, 2))
    # the same slot twice in one batch: the second is the overlap
    result = add(contract, at(2, 11, 0), at(2, 11, 5))
    assert len(result.created) == 1 and result.rejected[0].error.code == "segment_overlap"


def test_future_segments_are_refused(contract, clock):
    clock.move_to(at(2, 12, 0))
    error = only_error(add(contract, at(2, 12, 10)))
    assert error.code == "segment_in_future"
    assert TimeSegment.objects.count() == 0
    # the slot under way (begun, not over) is accepted: a tracker posts it when it ends
    assert len(add(contract, at(2, 12, 0)).created) == 1


def test_segments_before_the_contract_started_are_refused(contract, clock):
    clock.move_to(at(2, 12))
    assert only_error(add(contract, at(2, 8, 50))).code == "segment_before_contract"
    assert len(add(contract, at(2, 9, 0)).created) == 1


def test_old_weeks_are_refused(contract, clock):
    clock.move_to(at(23, 12))  # three weeks on
    assert only_error(add(contract, at(9, 10))).code == "segment_too_old"
    assert len(add(contract, at(16, 10)).created) == 1  # last week, not closed: accepted


def test_paused_and_ended_contracts_refuse_time(contract, hire, clock):
    clock.move_to(at(2, 12))
    services.contract_pause(actor=hire.client, contract_id=contract.pk)
    with pytest.raises(Exception) as paused:
        add(contract, at(2, 10))
    assert getattr(paused.value, "code", "") == "contract_paused"
    with pytest.raises(Exception) as timer_paused:
        timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk)
    assert getattr(timer_paused.value, "code", "") == "contract_paused"
    services.contract_end(actor=hire.client, contract_id=contract.pk, reason="completed")
    with pytest.raises(Exception) as ended:
        add(contract, at(2, 10))
    assert getattr(ended.value, "code", "") == "contract_ended"
    assert TimeSegment.objects.count() == 0


def test_only_the_freelancer_logs_time(contract, hire, clock, stranger_freelancer):
    clock.move_to(at(2, 12))
    item = [SegmentInput(started_at=at(2, 10))]
    with pytest.raises(PermissionDeniedError):
        timetracking.segments_add(actor=hire.client, contract_id=contract.pk, items=item)
    with pytest.raises(NotFoundError):
        timetracking.segments_add(actor=stranger_freelancer, contract_id=contract.pk, items=item)
    with pytest.raises(NotFoundError):
        timetracking.timer_start(actor=stranger_freelancer, contract_id=contract.pk)
    assert TimeSegment.objects.count() == 0


def test_fixed_price_contracts_have_no_time(db, clock):
    fixed = Hire().contract()
    with pytest.raises(Exception) as refused:
        timetracking.segments_add(
            actor=fixed.freelancer, contract_id=fixed.pk, items=[SegmentInput(started_at=at(2, 9))]
        )
    assert getattr(refused.value, "code", "") == "not_hourly"


def test_bad_activity_and_long_memo_are_rejected(contract, clock):
    clock.move_to(at(2, 12))
    assert only_error(add(contract, at(2, 10), activity=11)).code == "invalid_activity"
    assert only_error(add(contract, at(2, 10), memo="x" * 301)).code == "memo_too_long"
    with pytest.raises(Exception) as empty:
        timetracking.segments_add(actor=contract.freelancer, contract_id=contract.pk, items=[])
    assert getattr(empty.value, "code", "") == "no_segments"


# --- weekly limit -------------------------------------------------------------------------------------


def test_time_beyond_the_limit_is_recorded_but_not_billable(hire, clock):
    contract = hire.contract(weekly_limit_hours=1)
    clock.move_to(at(3, 18))
    starts = [at(3, 10) + timedelta(minutes=10 * i) for i in range(9)]  # 1.5 hours
    add(contract, *reversed(starts))  # posted in any order: billable is chronological
    summary = timetracking.week_summary(contract, date(2026, 3, 2))
    assert summary.logged_minutes == 90
    assert summary.billable_minutes == 60
    assert summary.limit_minutes == 60
    assert summary.left_minutes == 0
    assert summary.over_limit_minutes == 30
    billable = timetracking.billable_segment_ids(contract, date(2026, 3, 2))
    by_start = {s.started_at: s.pk for s in TimeSegment.objects.filter(contract=contract)}
    assert billable == {by_start[s] for s in starts[:6]}
    # removing an early segment lets the next one in
    timetracking.segment_delete(
        actor=hire.freelancer, contract_id=contract.pk, segment_id=by_start[starts[0]]
    )
    assert by_start[starts[6]] in timetracking.billable_segment_ids(contract, date(2026, 3, 2))
    assert timetracking.week_summary(contract, date(2026, 3, 2)).over_limit_minutes == 20


def test_week_summary_without_limit_and_left_before_the_limit(hire, clock):
    contract = hire.contract(weekly_limit_hours=None)
    clock.move_to(at(2, 12))
    add(contract, at(2, 10), at(2, 10, 10))
    summary = timetracking.week_summary(contract, date(2026, 3, 2))
    assert (summary.logged_minutes, summary.billable_minutes) == (20, 20)
    assert summary.limit_minutes is None and summary.left_minutes is None
    limited = Hire(hourly=True).contract(weekly_limit_hours=2)
    timetracking.segments_add(
        actor=limited.freelancer, contract_id=limited.pk, items=[SegmentInput(started_at=at(2, 12))]
    )
    assert timetracking.week_summary(limited, date(2026, 3, 2)).left_minutes == 110


def test_new_year_week_sums_both_years(db):
    with time_machine.travel(at(29, 9, month=12, year=2025), tick=False) as clock:
        contract = Hire(hourly=True).contract(weekly_limit_hours=None)
        clock.move_to(at(1, 12, month=1, year=2026))
        add(contract, at(31, 23, 50, month=12, year=2025), at(1, 0, 0, month=1, year=2026))
        summary = timetracking.week_summary(contract, date(2025, 12, 29))
        assert summary.logged_minutes == 20
        segments = TimeSegment.objects.filter(contract=contract).order_by("started_at")
        assert [s.week_start for s in segments] == [date(2025, 12, 29)] * 2
        assert timetracking.week_summary(contract, date(2026, 1, 5)).logged_minutes == 0


# --- closed weeks and billed segments ---------------------------------------------------------------------


def test_a_closed_week_is_frozen(contract, hire, clock):
    clock.move_to(at(3, 12))
    segment = add(contract, at(3, 10)).created[0]
    clock.move_to(at(9, 9))
    Timesheet.objects.create(
        contract=contract, week_start=date(2026, 3, 2), status=Timesheet.Status.IN_REVIEW
    )
    assert only_error(add(contract, at(8, 10))).code == "week_closed"
    with pytest.raises(Exception) as deleting:
        timetracking.segment_delete(actor=hire.freelancer, contract_id=contract.pk, segment_id=segment.pk)
    assert getattr(deleting.value, "code", "") == "segment_billed"
    with pytest.raises(Exception) as editing:
        timetracking.segment_update_memo(
            actor=hire.freelancer, contract_id=contract.pk, segment_id=segment.pk, memo="new"
        )
    assert getattr(editing.value, "code", "") == "segment_billed"
    # an open timesheet does not close the week
    assert len(add(contract, at(9, 8, 0)).created) == 1


def test_a_billed_segment_is_frozen(contract, hire, clock):
    clock.move_to(at(3, 12))
    segment = add(contract, at(3, 10)).created[0]
    sheet = Timesheet.objects.create(contract=contract, week_start=date(2026, 3, 2))
    TimeSegment.objects.filter(pk=segment.pk).update(timesheet=sheet)
    with pytest.raises(Exception) as deleting:
        timetracking.segment_delete(actor=hire.freelancer, contract_id=contract.pk, segment_id=segment.pk)
    assert getattr(deleting.value, "code", "") == "segment_billed"
    assert TimeSegment.objects.filter(pk=segment.pk).exists()


def test_memo_edit_and_delete_of_the_current_week(contract, hire, clock):
    clock.move_to(at(3, 12))
    segment = add(contract, at(3, 10), memo="first").created[0]
    timetracking.segment_update_memo(
        actor=hire.freelancer, contract_id=contract.pk, segment_id=segment.pk, memo="  better   memo "
    )
    segment.refresh_from_db()
    assert segment.memo == "better memo"
    with pytest.raises(PermissionDeniedError):
        timetracking.segment_delete(actor=hire.client, contract_id=contract.pk, segment_id=segment.pk)
    timetracking.segment_delete(actor=hire.freelancer, contract_id=contract.pk, segment_id=segment.pk)
    assert not TimeSegment.objects.filter(pk=segment.pk).exists()
    kinds = list(ContractEvent.objects.filter(contract=contract).values_list("kind", flat=True))
    assert ContractEvent.Kind.TIME_EDITED in kinds and ContractEvent.Kind.TIME_DELETED in kinds
    from contracts.selectors import contract_events, event_text

    texts = [event_text(e) for e in contract_events(contract=contract)]
    assert "Memo of Tue Mar 3, 10:00 UTC changed to “better memo”." in texts
    assert "Time removed: Tue Mar 3, 10:00 UTC (10 minutes)." in texts


# --- the timer -----------------------------------------------------------------------------------------


def test_timer_start_stop_and_resume_after_reload(contract, hire, client, clock):
    clock.move_to(at(2, 10, 3))
    session = timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk, memo="Checkout page")
    assert session.started_at == at(2, 10, 3)
    # a second start (another tab) returns the running timer
    assert timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk).pk == session.pk

    clock.move_to(
        at(
            2,
            10,
            20,
        )
    )  # the tab was closed; the page is opened again
    client.force_login(hire.freelancer)
    page = client.get(reverse("contracts:detail", args=[contract.pk]))
    html = page.content.decode()
    assert 'data-testid="timer-running"' in html
    assert 'data-timer-elapsed="1020"' in html  # 17 minutes, from the server's clock
    assert "0:17:00" in html

    clock.move_to(at(2, 10, 26))
    result = timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk)
    assert [s.started_at for s in result.created] == [at(2, 10, 0), at(2, 10, 10), at(2, 10, 20)]
    assert {s.memo for s in result.created} == {"Checkout page"}
    assert {s.source for s in result.created} == {"timer"}
    assert timetracking.timer_running(contract) is None

    # resume: a new run; the 10:20 slot is logged already and kept
    clock.move_to(at(2, 10, 27))
    timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk)
    clock.move_to(at(2, 10, 46))
    result = timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk)
    assert [s.started_at for s in result.created] == [at(2, 10, 30), at(2, 10, 40)]
    assert TimeSegment.objects.filter(contract=contract).count() == 5
    assert TimerSession.objects.filter(contract=contract).count() == 2

    with pytest.raises(Exception) as not_running:
        timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk)
    assert getattr(not_running.value, "code", "") == "timer_not_running"


def test_a_short_run_records_nothing(contract, hire, clock):
    clock.move_to(at(2, 10, 3))
    timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk)
    clock.move_to(at(2, 10, 7))
    assert timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk).created == []


def test_timer_time_after_a_pause_is_not_recorded(contract, hire, clock):
    clock.move_to(at(2, 10, 0))
    timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk)
    clock.move_to(at(2, 10, 30))
    services.contract_pause(actor=hire.client, contract_id=contract.pk)
    clock.move_to(at(2, 12, 0))
    result = timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk)
    assert [s.started_at for s in result.created] == [at(2, 10, 0), at(2, 10, 10), at(2, 10, 20)]
    assert result.cut_at == at(2, 10, 30)


def test_timer_run_is_capped(contract, hire, clock):
    clock.move_to(at(2, 9, 0))
    timetracking.timer_start(actor=hire.freelancer, contract_id=contract.pk)
    clock.move_to(at(3, 9, 0))  # forgotten for a day
    result = timetracking.timer_stop(actor=hire.freelancer, contract_id=contract.pk)
    assert result.capped
    assert len(result.created) == timetracking.MAX_RUN_HOURS * 6


# --- manual entries --------------------------------------------------------------------------------------


def test_manual_entries_only_when_allowed(hire, clock):
    contract = hire.contract(manual_time_allowed=False)
    clock.move_to(at(2, 15))
    with pytest.raises(PermissionDeniedError) as refused:
        timetracking.time_entry_add(
            actor=hire.freelancer, contract_id=contract.pk, started_at=at(2, 10), ended_at=at(2, 11)
        )
    assert refused.value.code == "manual_time_not_allowed"


def test_manual_entry_records_slots_and_refuses_overlap_and_future(contract, hire, clock):
    clock.move_to(at(2, 15))
    segments = timetracking.time_entry_add(
        actor=hire.freelancer, contract_id=contract.pk, started_at=at(2, 10), ended_at=at(2, 11), memo="Specs"
    )
    assert len(segments) == 6 and {s.source for s in segments} == {"manual"}
    with pytest.raises(ConflictError) as overlap:
        timetracking.time_entry_add(
            actor=hire.freelancer, contract_id=contract.pk, started_at=at(2, 10, 50), ended_at=at(2, 11, 30)
        )
    assert "10:50" in overlap.value.message
    assert TimeSegment.objects.filter(contract=contract).count() == 6  # all or nothing
    with pytest.raises(Exception) as future:
        timetracking.time_entry_add(
            actor=hire.freelancer, contract_id=contract.pk, started_at=at(2, 14), ended_at=at(2, 16)
        )
    assert getattr(future.value, "code", "") == "segment_in_future"
    with pytest.raises(Exception) as backwards:
        timetracking.time_entry_add(
            actor=hire.freelancer, contract_id=contract.pk, started_at=at(2, 14), ended_at=at(2, 13)
        )
    assert getattr(backwards.value, "code", "") == "end_before_start"


# --- HTML: contract page, diary, manual form, tokens -------------------------------------------------------


def test_contract_page_shows_the_timer_to_the_freelancer_and_the_week_to_the_client(
    contract, hire, client, clock
):
    clock.move_to(at(2, 12))
    add(contract, at(2, 10), at(2, 10, 10))
    client.force_login(hire.freelancer)
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="timer-start"' in html
    form = html[html.index('data-testid="timer-start-form"') :]
    assert 'name="csrfmiddlewaretoken" value="' in form[: form.index("</form>")]
    assert "at least 5 minutes" in html
    client.force_login(hire.client)
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="timer-start"' not in html
    assert 'data-testid="week-logged">0:20<' in html
    assert 'data-testid="week-left">19:40<' in html


def test_timer_buttons_on_the_page(contract, hire, client, clock):
    client.force_login(hire.freelancer)
    clock.move_to(at(2, 10, 0))
    response = client.post(
        reverse("contracts:timer_start", args=[contract.pk]), {"memo": "Login form"}, follow=True
    )
    assert "Timer running since 10:00 UTC" in response.content.decode()
    clock.move_to(at(2, 10, 32))
    response = client.post(reverse("contracts:timer_stop", args=[contract.pk]), follow=True)
    assert "0:30 hrs recorded in 3 segments" in response.content.decode()
    assert "Time logged with the timer: 0:30 hrs from Mon Mar 2, 10:00 UTC." in response.content.decode()
    response = client.post(reverse("contracts:timer_stop", args=[contract.pk]), follow=True)
    assert "The timer is not running." in response.content.decode()


def test_diary_for_both_parties_and_404_for_others(contract, hire, client, clock, stranger_client):
    clock.move_to(at(4, 12))
    add(contract, at(2, 10), at(3, 11), at(3, 11, 10), memo="API work")
    url = reverse("contracts:diary", args=[contract.pk])
    client.force_login(hire.freelancer)
    html = client.get(url).content.decode()
    assert html.count('data-testid="diary-day"') == 2
    assert html.count('data-testid="segment"') == 3
    assert 'data-testid="diary-logged">0:30 hrs' in html
    assert 'data-testid="segment-delete"' in html and 'data-testid="memo-save"' in html
    client.force_login(hire.client)
    html = client.get(url).content.decode()
    assert html.count('data-testid="segment"') == 3 and "API work" in html
    assert 'data-testid="segment-delete"' not in html
    assert (
        client.post(
            reverse("contracts:segment_delete", args=[contract.pk, TimeSegment.objects.first().pk])
        ).status_code
        == 302
    )
    assert TimeSegment.objects.count() == 3  # the client cannot delete
    client.force_login(stranger_client)
    assert client.get(url).status_code == 404
    segment = TimeSegment.objects.first()
    assert client.post(reverse("contracts:segment_delete", args=[contract.pk, segment.pk])).status_code == 404


def test_diary_week_navigation_and_empty_state(contract, hire, client, clock):
    clock.move_to(at(10, 12))
    client.force_login(hire.freelancer)
    url = reverse("contracts:diary", args=[contract.pk])
    html = client.get(url).content.decode()
    assert 'data-testid="diary-empty"' in html
    assert "?week=2026-03-02" in html  # previous week
    assert 'data-testid="next-week"' not in html  # this is the current week
    html = client.get(url + "?week=2026-03-04").content.decode()
    assert "Week of Mon Mar 2" in html
    assert "?week=2026-03-09" in html


def test_diary_over_limit_marking(hire, client, clock):
    contract = hire.contract(weekly_limit_hours=1)
    clock.move_to(at(2, 18))
    add(contract, *[at(2, 10) + timedelta(minutes=10 * i) for i in range(8)])
    client.force_login(hire.client)
    html = client.get(reverse("contracts:diary", args=[contract.pk])).content.decode()
    assert html.count('data-testid="over-limit-badge"') == 2
    assert 'data-testid="diary-over">0:20 hrs' in html
    assert 'data-testid="diary-billable">1:00 hrs' in html


def test_diary_in_a_user_time_zone_keeps_the_utc_week(db):
    # the US moves its clocks on 2026-03-08; a viewer in New York still sees UTC weeks and days
    with time_machine.travel(at(6, 9), tick=False) as clock:
        hire = Hire(hourly=True)
        contract = hire.contract(weekly_limit_hours=None)
        clock.move_to(at(9, 12))
        add(contract, at(8, 23, 50), at(9, 0, 10))  # Sunday night and Monday just after midnight (UTC)
        hire.freelancer.freelancer_profile.timezone = "America/New_York"
        hire.freelancer.freelancer_profile.save(update_fields=["timezone"])
        from django.test import Client

        browser = Client()
        browser.force_login(hire.freelancer)
        with timezone.override(ZoneInfo("America/New_York")):
            html = browser.get(
                reverse("contracts:diary", args=[contract.pk]) + "?week=2026-03-09"
            ).content.decode()
        assert 'data-day="2026-03-09"' in html and 'data-day="2026-03-08"' not in html
        assert "00:10\u201300:20" in html  # en dash
        assert html.count('data-testid="segment"') == 1


def test_diary_memo_edit_and_delete_with_messages(contract, hire, client, clock):
    clock.move_to(at(2, 12))
    segment = add(contract, at(2, 10)).created[0]
    client.force_login(hire.freelancer)
    diary = reverse("contracts:diary", args=[contract.pk]) + "?week=2026-03-02"
    response = client.post(
        reverse("contracts:segment_memo", args=[contract.pk, segment.pk]),
        {"memo": "Fixed bug", "next": diary},
    )
    assert response.status_code == 302 and response["Location"] == diary
    assert "Memo of Mon 10:00 UTC saved." in client.get(diary).content.decode()
    response = client.post(
        reverse("contracts:segment_delete", args=[contract.pk, segment.pk]), {"next": diary}, follow=True
    )
    assert "Removed Mon 10:00 to 10:10 UTC." in response.content.decode()
    assert not TimeSegment.objects.filter(pk=segment.pk).exists()
    # a foreign "next" is ignored
    response = client.post(
        reverse("contracts:segment_delete", args=[contract.pk, 999]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("contracts:detail", args=[contract.pk])


def test_manual_entry_form(contract, hire, client, clock):
    clock.move_to(at(2, 15))
    client.force_login(hire.freelancer)
    url = reverse("contracts:time_entry_add", args=[contract.pk])
    response = client.post(
        url, {"day": "2026-03-02", "start": "10:00", "end": "11:30", "memo": "Specs"}, follow=True
    )
    assert "Recorded 1:30 hrs" in response.content.decode()
    assert TimeSegment.objects.filter(contract=contract, source="manual").count() == 9
    response = client.post(url, {"day": "2026-03-02", "start": "11:00", "end": "12:00"})
    assert response.status_code == 400
    assert "segments cannot overlap" in response.content.decode()
    response = client.post(url, {"day": "not a date", "start": "11:00", "end": "12:00"})
    assert response.status_code == 400


def test_manual_form_hidden_when_not_allowed(hire, client, clock):
    contract = hire.contract(manual_time_allowed=False)
    client.force_login(hire.freelancer)
    html = client.get(reverse("contracts:diary", args=[contract.pk])).content.decode()
    assert 'data-testid="manual-form"' not in html
    clock.move_to(at(2, 15))
    response = client.post(
        reverse("contracts:time_entry_add", args=[contract.pk]),
        {"day": "2026-03-02", "start": "10:00", "end": "11:00"},
    )
    assert response.status_code == 400
    assert TimeSegment.objects.count() == 0


def test_tracker_tokens_page_shows_the_key_once_and_revokes(hire, client, clock):
    client.force_login(hire.freelancer)
    url = reverse("contracts:tracker_tokens")
    assert 'data-testid="no-tokens"' in client.get(url).content.decode()
    response = client.post(url, {"name": "Work laptop"})
    html = response.content.decode()
    token = TrackerToken.objects.get(user=hire.freelancer)
    start = html.index('data-testid="new-key-value">') + len('data-testid="new-key-value">')
    raw = html[start : html.index("<", start)]
    assert raw.startswith("trk_") and token.key_hash == timetracking.token_hash(raw)
    assert raw not in str(TrackerToken.objects.values().get())  # only the hash is stored
    assert response["Cache-Control"] == "no-store"
    assert raw not in client.get(url).content.decode()  # shown once
    response = client.post(reverse("contracts:tracker_token_revoke", args=[token.pk]), follow=True)
    assert "revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert timetracking.tracker_token_authenticate(raw) is None
    client.force_login(hire.client)  # someone else's token: 404-like message, nothing revoked
    other, _ = timetracking.tracker_token_create(actor=hire.freelancer, name="Desktop")
    response = client.post(reverse("contracts:tracker_token_revoke", args=[other.pk]), follow=True)
    other.refresh_from_db()
    assert other.revoked_at is None


def test_admin_lists_time_and_revokes_tokens(contract, hire, client, clock, staff):
    clock.move_to(at(2, 12))
    add(contract, at(2, 10))
    token, _ = timetracking.tracker_token_create(actor=hire.freelancer, name="Laptop")
    client.force_login(staff)
    for name in ("timesegment", "timersession", "trackertoken"):
        assert client.get(reverse(f"admin:contracts_{name}_changelist")).status_code == 200
    segment = TimeSegment.objects.get()
    assert client.get(reverse("admin:contracts_timesegment_change", args=[segment.pk])).status_code == 200
    response = client.post(
        reverse("admin:contracts_trackertoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_the_same_slot_record_it_once():
    import threading

    from django.db import connection

    with time_machine.travel(T0, tick=False) as clock:
        contract = Hire(hourly=True).contract()
        clock.move_to(at(2, 12))
        barrier = threading.Barrier(4)
        results: list[str] = []

        def post() -> None:
            try:
                barrier.wait()
                result = add(contract, at(2, 10), at(2, 10, 10))
                results.append(f"{len(result.created)}/{len(result.rejected)}")
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["0/2", "0/2", "0/2", "2/0"]
        assert TimeSegment.objects.filter(contract=contract).count() == 2
