"""Time tracking of hourly contracts: the web timer, manual entries, the desktop tracker's
segments, the weekly limit and the work diary (services and selectors in one module).

Time is recorded in 10-minute segments (``models.SEGMENT_MINUTES``) aligned to the clock
in UTC; a segment is the slot ``[started_at, started_at + 10 min)``. Weeks are ISO weeks,
Monday 00:00 UTC to the next Monday 00:00 UTC, whatever the viewer's time zone: billing
(``contracts.billing``) closes them, and a user's time zone only changes how times are
displayed, never which week a segment belongs to.

Rules, enforced here under the contract's row lock (``FOR NO KEY UPDATE``, the lock
``contracts.billing.timesheet_close`` takes before it freezes a week, so a segment is never
added to a week while it closes):

- Only the contract's freelancer logs time, and only on an active hourly contract (a paused
  or ended one refuses new time). The client reads the diary; anyone else gets 404.
- Segments never overlap: one per slot (a unique constraint on the aligned start, and a
  check that names the taken slots). They are never in the future (the slot must have
  begun; trackers get ``CLOCK_SKEW`` of slack) and never before the contract started.
- A billed segment (``timesheet`` set) or one in a closed week (a ``Timesheet`` of that
  week whose status is not ``open``) is frozen: it cannot be added, edited or deleted.
  New time is accepted for the current week and for the previous week until it closes.
- Partial slots, for the timer and manual entries: a slot counts when the run covered at
  least ``MIN_COVERED_MINUTES`` (5) of its 10 minutes, i.e. runs are rounded to the nearest
  slot. A run of 10:03-10:26 records 10:00, 10:10 and 10:20 (7, 10 and 6 minutes); a run
  of 10:03-10:07 records nothing. A timer run records at most ``MAX_RUN_HOURS``; time after
  the contract was paused or ended during the run is not recorded.
- Weekly limit: everything is recorded, but only the first ``limit x 6`` segments of the
  week (chronologically) are billable; the rest are marked over the limit.
  ``week_summary`` gives the figures billing uses (billed = min(logged, limit)).

Tracker tokens: the user creates one (the raw key is shown once), only its sha256 is
stored; ``contracts.api.hourly.TrackerTokenAuthentication`` reads
``Authorization: Tracker <key>`` and is accepted by the hourly endpoints only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.services import require_can_act
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from marketplace.uploads import process_image

from .models import (
    SEGMENT_MINUTES,
    Contract,
    ContractEvent,
    ContractType,
    TimerSession,
    TimeSegment,
    Timesheet,
    TrackerToken,
)
from .services import _contract_for_update, _error, _is_int, _pk

SEGMENT = timedelta(minutes=SEGMENT_MINUTES)
SEGMENTS_PER_HOUR = 60 // SEGMENT_MINUTES
MIN_COVERED_MINUTES = 5  # a partial slot counts when a run covered at least this much of it
MAX_RUN_HOURS = 12  # a timer left running longer records its first 12 hours only
MAX_MANUAL_HOURS = 12  # one manual entry spans at most this long
MAX_BATCH = 144  # segments per tracker post (a day's worth of 10-minute slots)
CLOCK_SKEW = timedelta(minutes=2)  # a tracker's clock may run this far ahead of ours
MEMO_MAX = 300
SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
SCREENSHOT_MAX_SIDE = 1920
MAX_ACTIVE_TOKENS = 10
TOKEN_PREFIX = "trk_"
TOKEN_NAME_MAX = 60
TOKEN_TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often


# --- weeks and the 10-minute grid ----------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    if timezone.is_naive(dt):
        raise ValueError("A time zone aware datetime is required.")
    return dt.astimezone(UTC)


def week_start_of(dt: datetime | date) -> date:
    """The Monday of the ISO week ``dt`` falls in, in UTC (a ``date`` is taken as a UTC day)."""
    day = _utc(dt).date() if isinstance(dt, datetime) else dt
    return day - timedelta(days=day.weekday())


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """``[Monday 00:00 UTC, next Monday 00:00 UTC)`` of the week starting ``week_start``."""
    start = datetime.combine(week_start_of(week_start), time.min, tzinfo=UTC)
    return start, start + timedelta(days=7)


def align(dt: datetime) -> datetime:
    """``dt`` in UTC, floored to the 10-minute grid."""
    moment = _utc(dt)
    return moment.replace(minute=moment.minute - moment.minute % SEGMENT_MINUTES, second=0, microsecond=0)


def current_week(now: datetime | None = None) -> date:
    return week_start_of(now or timezone.now())


def parse_week(value: Any, *, now: datetime | None = None) -> date:
    """The week a ``?week=YYYY-MM-DD`` parameter names (any day of it); the current week for
    anything missing or malformed."""
    text = str(value or "").strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    return week_start_of(day) if day else current_week(now)


def slots_covered(start: datetime, end: datetime) -> list[datetime]:
    """The slots a run ``[start, end)`` counts for: those it covered at least
    ``MIN_COVERED_MINUTES`` of (see the module docstring)."""
    start, end = _utc(start), _utc(end)
    need = timedelta(minutes=MIN_COVERED_MINUTES)
    slots, slot = [], align(start)
    while slot < end:
        covered = min(end, slot + SEGMENT) - max(start, slot)
        if covered >= need:
            slots.append(slot)
        slot += SEGMENT
    return slots


def segment_end(segment: TimeSegment) -> datetime:
    return segment.started_at + SEGMENT


# --- weekly limit --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekSummary:
    """A week of a contract in minutes; billing bills ``billable_minutes``."""

    week_start: date
    logged_minutes: int  # everything recorded
    billable_minutes: int  # min(logged, limit)
    limit_minutes: int | None  # None: no weekly limit
    left_minutes: int | None  # limit - logged, never below 0; None: no limit
    over_limit_minutes: int  # recorded beyond the limit: not billed

    @property
    def logged_segments(self) -> int:
        return self.logged_minutes // SEGMENT_MINUTES

    # "h:mm" texts for the pages
    @property
    def logged_hm(self) -> str:
        return hm(self.logged_minutes)

    @property
    def billable_hm(self) -> str:
        return hm(self.billable_minutes)

    @property
    def limit_hm(self) -> str:
        return "" if self.limit_minutes is None else hm(self.limit_minutes)

    @property
    def left_hm(self) -> str:
        return "" if self.left_minutes is None else hm(self.left_minutes)

    @property
    def over_limit_hm(self) -> str:
        return hm(self.over_limit_minutes)

    @property
    def used_percent(self) -> int:
        """Share of the limit logged, 0-100 (0 without a limit)."""
        if not self.limit_minutes:
            return 0
        return min(100, self.logged_minutes * 100 // self.limit_minutes)


def hm(minutes: int) -> str:
    """Minutes as "h:mm" (90 -> "1:30")."""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours}:{rest:02d}"


def limit_segments(contract: Contract) -> int | None:
    hours = contract.weekly_limit_hours
    return None if hours is None else hours * SEGMENTS_PER_HOUR


def _summary(contract: Contract, week_start: date, count: int) -> WeekSummary:
    logged = count * SEGMENT_MINUTES
    limit = None if contract.weekly_limit_hours is None else contract.weekly_limit_hours * 60
    billable = logged if limit is None else min(logged, limit)
    return WeekSummary(
        week_start=week_start,
        logged_minutes=logged,
        billable_minutes=billable,
        limit_minutes=limit,
        left_minutes=None if limit is None else max(limit - logged, 0),
        over_limit_minutes=logged - billable,
    )


def _week_segments(contract: Contract | int, week_start: date) -> QuerySet[TimeSegment]:
    start, end = week_bounds(week_start)
    return TimeSegment.objects.filter(contract=contract, started_at__gte=start, started_at__lt=end)


def week_summary(contract: Contract, week_start: date) -> WeekSummary:
    """Logged, billable and over-limit minutes of ``contract``'s week starting ``week_start``
    (a Monday; any day is taken as its week), under the contract's current limit."""
    week_start = week_start_of(week_start)
    return _summary(contract, week_start, _week_segments(contract, week_start).count())


def week_summaries(contracts: list[Contract], week_start: date) -> dict[int, WeekSummary]:
    """``week_summary`` of several contracts in one query, by contract id."""
    start, end = week_bounds(week_start)
    counts = dict(
        TimeSegment.objects.filter(contract__in=contracts, started_at__gte=start, started_at__lt=end)
        .values("contract")
        .annotate(n=Count("pk"))
        .values_list("contract", "n")
    )
    return {c.pk: _summary(c, week_start_of(week_start), counts.get(c.pk, 0)) for c in contracts}


def billable_segment_ids(contract: Contract, week_start: date) -> set[int]:
    """The segments of the week that are billable: the first ``limit x 6`` in time order."""
    qs = _week_segments(contract, week_start_of(week_start)).order_by("started_at")
    limit = limit_segments(contract)
    if limit is not None:
        qs = qs[:limit]
    return set(qs.values_list("pk", flat=True))


def mark_billable(contract: Contract, segments: list[TimeSegment]) -> list[TimeSegment]:
    """Set ``billable`` on each of ``segments`` (sorted by time, one week or several)."""
    limit = limit_segments(contract)
    seen: dict[date, int] = {}
    for segment in sorted(segments, key=lambda s: s.started_at):
        week = week_start_of(segment.started_at)
        seen[week] = seen.get(week, 0) + 1
        segment.billable = limit is None or seen[week] <= limit  # type: ignore[attr-defined]
    return segments


def attach_billable(contract: Contract, segments: list[TimeSegment]) -> list[TimeSegment]:
    """Set ``billable`` on some segments of ``contract`` (any weeks), judged against their
    whole week (one query per week)."""
    weeks = {week_start_of(s.started_at) for s in segments}
    billable: set[int] = set()
    for week in weeks:
        billable |= billable_segment_ids(contract, week)
    for segment in segments:
        segment.billable = segment.pk in billable  # type: ignore[attr-defined]
    return segments


# --- state checks ----------------------------------------------------------------------------------


def closed_weeks(contract: Contract | int, weeks: set[date] | list[date]) -> set[date]:
    """Which of ``weeks`` are closed for time: their timesheet exists and is past ``open``."""
    if not weeks:
        return set()
    return set(
        Timesheet.objects.filter(contract=contract, week_start__in=list(weeks))
        .exclude(status=Timesheet.Status.OPEN)
        .values_list("week_start", flat=True)
    )


def week_is_closed(contract: Contract | int, week_start: date) -> bool:
    return bool(closed_weeks(contract, {week_start_of(week_start)}))


def _freelancer_contract_for_update(actor: User, contract_id: Any, what: str) -> Contract:
    """The hourly contract, locked, if ``actor`` is its freelancer: 404 for non-parties,
    403 for the client."""
    contract = _contract_for_update(actor, contract_id)
    if contract.contract_type != ContractType.HOURLY:
        raise ApplicationError("Time is tracked on hourly contracts only.", code="not_hourly")
    if actor.pk != contract.freelancer_id:
        raise PermissionDeniedError(f"Only the freelancer can {what}.", code="wrong_party")
    return contract


def _require_can_log(contract: Contract) -> None:
    if contract.status == Contract.Status.PAUSED:
        raise ApplicationError(
            "This contract is paused: no time can be logged until the client resumes it.",
            code="contract_paused",
        )
    if contract.status != Contract.Status.ACTIVE:
        raise ApplicationError("This contract has ended: no more time can be logged.", code="contract_ended")


def _clean_memo(memo: Any) -> str:
    text = " ".join(str(memo or "").split())
    if len(text) > MEMO_MAX:
        raise _error(f"A memo is limited to {MEMO_MAX} characters.", "memo_too_long", "memo")
    return text


def _clean_activity(activity: Any) -> int | None:
    if activity is None or activity == "":
        return None
    if not _is_int(activity) or not 0 <= activity <= 10:
        raise _error("Activity is a whole number from 0 to 10.", "invalid_activity", "activity")
    return int(activity)


def _fmt(dt: datetime) -> str:
    return _utc(dt).strftime("%a %b %-d, %H:%M UTC")


def _slot_error(
    contract: Contract, slot: datetime, now: datetime, closed: set[date]
) -> ApplicationError | None:
    """Why ``slot`` cannot take a new segment, or None (overlap is checked by the caller)."""
    if slot > now + CLOCK_SKEW:
        return _error(
            f"{_fmt(slot)} is in the future; time can only be logged once it has begun.",
            "segment_in_future",
            "started_at",
        )
    if slot < align(contract.started_at):
        return _error(
            f"{_fmt(slot)} is before the contract started.", "segment_before_contract", "started_at"
        )
    week = week_start_of(slot)
    if week in closed:
        return _error(
            f"The week of {week:%b %-d, %Y} is closed for billing; its time can no longer change.",
            "week_closed",
            "started_at",
        )
    if week < current_week(now) - timedelta(days=7):
        return _error(
            f"{_fmt(slot)} is too far back: time is logged for this week and, until it is billed, last week.",
            "segment_too_old",
            "started_at",
        )
    return None


def _overlap_error(slots: list[datetime]) -> ConflictError:
    shown = ", ".join(_fmt(s) for s in slots[:3]) + (" and more" if len(slots) > 3 else "")
    return ConflictError(
        f"Time is already logged for {shown}: segments cannot overlap.",
        code="segment_overlap",
        extra={"field": "started_at", "started_at": [s.isoformat() for s in slots]},
    )


def _log_event(contract: Contract, actor: User, kind: str, **data: Any) -> None:
    ContractEvent.objects.create(
        contract=contract,
        actor=actor,
        kind=kind,
        from_status=contract.status,
        to_status=contract.status,
        data=data,
    )


# --- adding segments (tracker, API) --------------------------------------------------------------


@dataclass
class SegmentInput:
    """One segment as a tracker or the API sends it; ``started_at`` is floored to the grid."""

    started_at: datetime
    memo: str = ""
    activity: int | None = None  # 0-10, from a tracker
    screenshot: UploadedFile | None = None


@dataclass
class SegmentRejection:
    index: int
    started_at: datetime | None
    error: ApplicationError


@dataclass
class BatchResult:
    created: list[TimeSegment] = field(default_factory=list)
    rejected: list[SegmentRejection] = field(default_factory=list)


@transaction.atomic
def segments_add(
    *,
    actor: User,
    contract_id: int,
    items: list[SegmentInput],
    source: str = TimeSegment.Source.TRACKER,
    screenshots_allowed: bool = False,
    now: datetime | None = None,
) -> BatchResult:
    """Record segments posted by a tracker (or the API). Each item stands alone: valid ones
    are recorded, the others come back in ``rejected`` with the reason (overlap, future,
    closed week, bad memo or activity). The contract-level checks (party, hourly, active)
    refuse the whole batch. A screenshot is accepted only when ``screenshots_allowed``
    (the request opted in) and is stored, re-encoded, in private storage."""
    now = now or timezone.now()
    if not items:
        raise _error("Send at least one segment.", "no_segments", "segments")
    if len(items) > MAX_BATCH:
        raise _error(f"Send at most {MAX_BATCH} segments at a time.", "too_many_segments", "segments")
    if source not in TimeSegment.Source.values:
        raise _error("Unknown source.", "invalid_source", "source")
    contract = _freelancer_contract_for_update(actor, contract_id, "log time")
    _require_can_log(contract)
    aligned = [
        align(item.started_at)
        if isinstance(item.started_at, datetime) and not timezone.is_naive(item.started_at)
        else None
        for item in items
    ]
    valid_slots = [s for s in aligned if s is not None]
    closed = closed_weeks(contract, {week_start_of(s) for s in valid_slots})
    taken = set(
        TimeSegment.objects.filter(contract=contract, started_at__in=valid_slots).values_list(
            "started_at", flat=True
        )
    )
    result = BatchResult()
    for index, (item, slot) in enumerate(zip(items, aligned, strict=True)):
        try:
            if slot is None:
                raise _error(
                    "started_at must be a date and time with a time zone.", "invalid_started_at", "started_at"
                )
            error = _slot_error(contract, slot, now, closed)
            if error is not None:
                raise error
            if slot in taken:
                raise _overlap_error([slot])
            memo = _clean_memo(item.memo)
            activity = _clean_activity(item.activity)
            if item.screenshot is not None and not screenshots_allowed:
                raise _error(
                    "Screenshots are off: send screenshots=true with the request to opt in.",
                    "screenshots_off",
                    "screenshot",
                )
            segment = TimeSegment(
                contract=contract,
                started_at=slot,
                week_start=week_start_of(slot),
                memo=memo,
                activity=activity,
                source=source,
                created_at=now,
            )
            if item.screenshot is not None:
                content = process_image(
                    item.screenshot, max_bytes=SCREENSHOT_MAX_BYTES, max_side=SCREENSHOT_MAX_SIDE
                )
                segment.screenshot.save(content.name or "shot.png", content, save=False)
            _insert(segment)
        except ApplicationError as error:
            result.rejected.append(SegmentRejection(index=index, started_at=slot, error=error))
        else:
            taken.add(slot)
            result.created.append(segment)
    return result


def _insert(segment: TimeSegment) -> None:
    """Save a new segment in a savepoint; a slot taken meanwhile is an overlap error."""
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        if segment.screenshot:
            segment.screenshot.storage.delete(segment.screenshot.name or "")
        raise _overlap_error([segment.started_at])


def _insert_slots(contract: Contract, slots: list[datetime], *, memo: str, source: str) -> list[TimeSegment]:
    now = timezone.now()
    segments = [
        TimeSegment(
            contract=contract,
            started_at=slot,
            week_start=week_start_of(slot),
            memo=memo,
            source=source,
            created_at=now,
        )
        for slot in slots
    ]
    try:
        with transaction.atomic():
            TimeSegment.objects.bulk_create(segments)
    except IntegrityError:
        raise _overlap_error(slots)
    return segments


@transaction.atomic
def time_entry_add(
    *, actor: User, contract_id: int, started_at: datetime, ended_at: datetime, memo: str = ""
) -> list[TimeSegment]:
    """A manual time entry (contracts that allow it): the slots ``[started_at, ended_at)``
    covers (the partial-slot rule of the module docstring), all or nothing."""
    contract = _freelancer_contract_for_update(actor, contract_id, "log time")
    if not contract.manual_time_allowed:
        raise PermissionDeniedError(
            "This contract does not allow manual time: use the timer or the desktop tracker.",
            code="manual_time_not_allowed",
        )
    _require_can_log(contract)
    now = timezone.now()
    if not isinstance(started_at, datetime) or not isinstance(ended_at, datetime):
        raise _error("Give the start and the end of the work.", "invalid_time", "started_at")
    if timezone.is_naive(started_at) or timezone.is_naive(ended_at):
        raise _error("Times need a time zone.", "invalid_time", "started_at")
    if ended_at <= started_at:
        raise _error("The end must be after the start.", "end_before_start", "ended_at")
    if ended_at > now + CLOCK_SKEW:
        raise _error(
            "Time cannot be logged in the future: the end is later than now.", "segment_in_future", "ended_at"
        )
    if ended_at - started_at > timedelta(hours=MAX_MANUAL_HOURS):
        raise _error(
            f"One entry spans at most {MAX_MANUAL_HOURS} hours; add longer work as several entries.",
            "entry_too_long",
            "ended_at",
        )
    memo = _clean_memo(memo)
    slots = slots_covered(started_at, ended_at)
    if not slots:
        raise _error(
            f"That is less than {MIN_COVERED_MINUTES} minutes of any 10-minute slot; nothing to record.",
            "entry_too_short",
            "ended_at",
        )
    closed = closed_weeks(contract, {week_start_of(s) for s in slots})
    for slot in slots:
        error = _slot_error(contract, slot, now, closed)
        if error is not None:
            raise error
    taken = sorted(
        TimeSegment.objects.filter(contract=contract, started_at__in=slots).values_list(
            "started_at", flat=True
        )
    )
    if taken:
        raise _overlap_error(taken)
    segments = _insert_slots(contract, slots, memo=memo, source=TimeSegment.Source.MANUAL)
    _log_event(
        contract,
        actor,
        ContractEvent.Kind.TIME_LOGGED,
        source="manual",
        segments=len(segments),
        started_at=slots[0].isoformat(),
        ended_at=(slots[-1] + SEGMENT).isoformat(),
    )
    return segments


# --- the timer ---------------------------------------------------------------------------------------


def timer_running(contract: Contract | int) -> TimerSession | None:
    return TimerSession.objects.filter(contract=contract, stopped_at__isnull=True).first()


@transaction.atomic
def timer_start(
    *, actor: User, contract_id: int, memo: str = "", source: str = TimeSegment.Source.TIMER
) -> TimerSession:
    """Start the timer (the server keeps the start time). Starting a running timer returns
    it unchanged (a double click, a second tab), with the memo updated if one is given."""
    contract = _freelancer_contract_for_update(actor, contract_id, "run the timer")
    _require_can_log(contract)
    memo = _clean_memo(memo)
    running = timer_running(contract)
    if running is not None:
        if memo and memo != running.memo:
            running.memo = memo
            running.save(update_fields=["memo"])
        return running
    return TimerSession.objects.create(contract=contract, memo=memo, source=source, started_at=timezone.now())


@dataclass
class TimerStopResult:
    session: TimerSession
    created: list[TimeSegment]
    already_logged: int = 0  # slots the run covered that had a segment already
    skipped_closed: int = 0  # slots in a week closed while the timer ran
    capped: bool = False  # the run was longer than MAX_RUN_HOURS
    cut_at: datetime | None = None  # the contract was paused or ended during the run

    @property
    def minutes(self) -> int:
        return len(self.created) * SEGMENT_MINUTES


def _run_cut(contract: Contract, started_at: datetime) -> datetime | None:
    """When the contract was first paused or ended after ``started_at``, if it was."""
    event = (
        ContractEvent.objects.filter(
            contract=contract,
            kind__in=[ContractEvent.Kind.PAUSED, ContractEvent.Kind.ENDED],
            created_at__gt=started_at,
        )
        .order_by("created_at")
        .first()
    )
    return event.created_at if event else None


@transaction.atomic
def timer_stop(*, actor: User, contract_id: int, memo: str | None = None) -> TimerStopResult:
    """Stop the running timer and record the slots the run covered (partial-slot rule of the
    module docstring). Slots already logged are kept as they are; slots in a week that
    closed meanwhile are dropped; time after a pause or the end of the contract, or beyond
    ``MAX_RUN_HOURS``, is not recorded. Works on a paused or ended contract too."""
    contract = _freelancer_contract_for_update(actor, contract_id, "run the timer")
    session = (
        TimerSession.objects.select_for_update().filter(contract=contract, stopped_at__isnull=True).first()
    )
    if session is None:
        raise ApplicationError("The timer is not running.", code="timer_not_running")
    now = timezone.now()
    if memo is not None and str(memo).strip():
        session.memo = _clean_memo(memo)
    end = now
    cut = _run_cut(contract, session.started_at)
    if cut is not None:
        end = min(end, cut)
    capped = end - session.started_at > timedelta(hours=MAX_RUN_HOURS)
    if capped:
        end = session.started_at + timedelta(hours=MAX_RUN_HOURS)
    session.stopped_at = now
    session.save(update_fields=["stopped_at", "memo"])
    slots = slots_covered(session.started_at, end) if end > session.started_at else []
    closed = closed_weeks(contract, {week_start_of(s) for s in slots})
    open_slots = [s for s in slots if week_start_of(s) not in closed]
    taken = set(
        TimeSegment.objects.filter(contract=contract, started_at__in=open_slots).values_list(
            "started_at", flat=True
        )
    )
    new = [s for s in open_slots if s not in taken and s >= align(contract.started_at)]
    created = _insert_slots(contract, new, memo=session.memo, source=session.source) if new else []
    if created:
        _log_event(
            contract,
            actor,
            ContractEvent.Kind.TIME_LOGGED,
            source=session.source,
            segments=len(created),
            started_at=created[0].started_at.isoformat(),
            ended_at=(created[-1].started_at + SEGMENT).isoformat(),
        )
    return TimerStopResult(
        session=session,
        created=created,
        already_logged=len(taken),
        skipped_closed=len(slots) - len(open_slots),
        capped=capped,
        cut_at=cut,
    )


# --- editing and deleting segments -------------------------------------------------------------------


def _segment_for_update(
    actor: User, contract_id: Any, segment_id: Any, what: str
) -> tuple[Contract, TimeSegment]:
    contract = _freelancer_contract_for_update(actor, contract_id, what)
    segment = (
        TimeSegment.objects.select_for_update(no_key=True)
        .filter(pk=_pk(segment_id), contract=contract)
        .first()
    )
    if segment is None:
        raise NotFoundError("No such time segment.")
    if contract.is_ended:
        raise ApplicationError("This contract has ended; its work diary is read-only.", code="contract_ended")
    if segment.timesheet_id is not None or week_is_closed(contract, week_start_of(segment.started_at)):
        raise ApplicationError(
            "This time is billed (its week is closed); it can no longer change.", code="segment_billed"
        )
    return contract, segment


@transaction.atomic
def segment_update_memo(*, actor: User, contract_id: int, segment_id: int, memo: str) -> TimeSegment:
    """The freelancer changes the memo of an unbilled segment."""
    contract, segment = _segment_for_update(actor, contract_id, segment_id, "edit time")
    memo = _clean_memo(memo)
    if memo == segment.memo:
        return segment
    old = segment.memo
    segment.memo = memo
    segment.save(update_fields=["memo", "updated_at"])
    _log_event(
        contract,
        actor,
        ContractEvent.Kind.TIME_EDITED,
        segment=segment.pk,
        started_at=segment.started_at.isoformat(),
        old_memo=old,
        memo=memo,
    )
    return segment


@transaction.atomic
def segment_delete(*, actor: User, contract_id: int, segment_id: int) -> TimeSegment:
    """The freelancer removes an unbilled segment (and its screenshot)."""
    contract, segment = _segment_for_update(actor, contract_id, segment_id, "delete time")
    shot = segment.screenshot.name if segment.screenshot else ""
    storage = segment.screenshot.storage
    started = segment.started_at
    segment.delete()
    _log_event(
        contract,
        actor,
        ContractEvent.Kind.TIME_DELETED,
        started_at=started.isoformat(),
        memo=segment.memo,
    )
    if shot:
        transaction.on_commit(lambda: storage.delete(shot))
    segment.started_at = started
    return segment


# --- reads: diary, contract page, tracker -------------------------------------------------------------


def segment_get_for_party(*, contract: Contract, segment_id: Any) -> TimeSegment:
    segment = TimeSegment.objects.filter(pk=_pk(segment_id), contract=contract).first()
    if segment is None:
        raise NotFoundError("No such time segment.")
    return segment


def week_segment_list(contract: Contract, week_start: date) -> list[TimeSegment]:
    """The week's segments in time order, each with ``billable``, ``ended_at``, ``billed``."""
    segments = list(_week_segments(contract, week_start_of(week_start)).order_by("started_at"))
    mark_billable(contract, segments)
    for s in segments:
        s.ended_at = s.started_at + SEGMENT  # type: ignore[attr-defined]
    return segments


@dataclass
class DiaryDay:
    day: date
    segments: list[TimeSegment]

    @property
    def minutes(self) -> int:
        return len(self.segments) * SEGMENT_MINUTES

    @property
    def minutes_hm(self) -> str:
        return hm(self.minutes)


@dataclass
class DiaryWeek:
    contract: Contract
    role: str
    week_start: date
    days: list[DiaryDay]
    summary: WeekSummary
    closed: bool  # the week's timesheet is past open: nothing changes any more
    timesheet: Timesheet | None
    is_current: bool
    previous_week: date
    next_week: date | None  # None: this is the current week

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def is_freelancer(self) -> bool:
        return self.role == "freelancer"

    @property
    def can_edit(self) -> bool:
        return self.is_freelancer and not self.closed and not self.contract.is_ended

    @property
    def segment_count(self) -> int:
        return sum(len(d.segments) for d in self.days)

    @property
    def with_screenshots(self) -> int:
        return sum(1 for d in self.days for s in d.segments if s.screenshot)


def diary_week(
    *, contract: Contract, viewer: User, week_start: date, now: datetime | None = None
) -> DiaryWeek:
    """The work diary of one UTC week for a party of ``contract`` (404 for anyone else)."""
    role = contract.party_role(viewer)
    if role is None or not contract.is_hourly:
        raise NotFoundError("No such work diary.")
    week_start = week_start_of(week_start)
    segments = week_segment_list(contract, week_start)
    by_day: dict[date, list[TimeSegment]] = {week_start + timedelta(days=i): [] for i in range(7)}
    for s in segments:
        by_day[_utc(s.started_at).date()].append(s)
    timesheet = Timesheet.objects.filter(contract=contract, week_start=week_start).first()
    this_week = current_week(now)
    return DiaryWeek(
        contract=contract,
        role=role,
        week_start=week_start,
        days=[DiaryDay(day, items) for day, items in by_day.items()],
        summary=_summary(contract, week_start, len(segments)),
        closed=timesheet is not None and timesheet.status != Timesheet.Status.OPEN,
        timesheet=timesheet,
        is_current=week_start == this_week,
        previous_week=week_start - timedelta(days=7),
        next_week=week_start + timedelta(days=7) if week_start < this_week else None,
    )


@dataclass
class TimePanel:
    """What the contract page shows of time: the timer (freelancer) and this week."""

    contract: Contract
    role: str
    summary: WeekSummary
    timer: TimerSession | None
    now: datetime

    @property
    def can_log(self) -> bool:
        return self.role == "freelancer" and self.contract.status == Contract.Status.ACTIVE

    @property
    def can_add_manual(self) -> bool:
        return self.can_log and self.contract.manual_time_allowed

    @property
    def elapsed_seconds(self) -> int:
        return max(int((self.now - self.timer.started_at).total_seconds()), 0) if self.timer else 0

    @property
    def elapsed_hms(self) -> str:
        minutes, seconds = divmod(self.elapsed_seconds, 60)
        return f"{hm(minutes)}:{seconds:02d}"

    min_covered_minutes = MIN_COVERED_MINUTES


def time_panel(*, contract: Contract, viewer: User) -> TimePanel | None:
    role = contract.party_role(viewer)
    if role is None or not contract.is_hourly:
        return None
    now = timezone.now()
    return TimePanel(
        contract=contract,
        role=role,
        summary=week_summary(contract, current_week(now)),
        timer=timer_running(contract) if role == "freelancer" else None,
        now=now,
    )


def tracker_contracts(*, user: User) -> list[Contract]:
    """The hourly contracts ``user`` works on (active or paused), with ``week`` (this
    week's summary) and ``timer`` (the running session or None) attached."""
    contracts = list(
        Contract.objects.filter(
            freelancer=user,
            contract_type=ContractType.HOURLY,
            status__in=[Contract.Status.ACTIVE, Contract.Status.PAUSED],
        )
        .select_related("client")
        .order_by("-started_at", "-id")
    )
    summaries = week_summaries(contracts, current_week())
    timers = {
        t.contract_id: t for t in TimerSession.objects.filter(contract__in=contracts, stopped_at__isnull=True)
    }
    for c in contracts:
        c.week = summaries[c.pk]  # type: ignore[attr-defined]
        c.timer = timers.get(c.pk)  # type: ignore[attr-defined]
    return contracts


# --- tracker tokens -------------------------------------------------------------------------------------


def token_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def tracker_token_create(*, actor: User, name: str) -> tuple[TrackerToken, str]:
    """A new tracker token for ``actor``; returns it with the raw key, which is shown once
    and never stored (only its sha256)."""
    require_can_act(actor)
    name = " ".join(str(name or "").split())
    if not name:
        raise _error("Name the token (the computer or tracker it is for).", "name_required", "name")
    if len(name) > TOKEN_NAME_MAX:
        raise _error(f"A token name is limited to {TOKEN_NAME_MAX} characters.", "name_too_long", "name")
    User.objects.select_for_update().filter(pk=actor.pk).first()  # one creation at a time per user
    active = TrackerToken.objects.filter(user=actor, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise _error(
            f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.", "too_many_tokens", "name"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = TrackerToken.objects.create(user=actor, name=name, key_prefix=raw[:8], key_hash=token_hash(raw))
    return token, raw


@transaction.atomic
def tracker_token_revoke(*, actor: User, token_id: int) -> TrackerToken:
    """Revoke a token (its owner, or staff). Revoking twice is harmless."""
    qs = TrackerToken.objects.select_for_update().filter(pk=_pk(token_id))
    if not actor.is_staff:
        qs = qs.filter(user=actor)
    token = qs.first()
    if token is None:
        raise NotFoundError("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def tracker_token_list(*, user: User) -> QuerySet[TrackerToken]:
    return TrackerToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def tracker_token_authenticate(raw_key: str) -> TrackerToken | None:
    """The live token whose key is ``raw_key``, with its user; None for anything else.
    Marks it used (at most every ``TOKEN_TOUCH_EVERY``)."""
    if not raw_key or len(raw_key) > 200:
        return None
    token = (
        TrackerToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw_key), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_EVERY:
        TrackerToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- the contract's timeline ------------------------------------------------------------------------------


def time_event_text(event: ContractEvent) -> str:
    """One timeline line for a time event (``contracts.selectors.event_text`` calls this)."""
    data = event.data or {}

    def when(key: str) -> str:
        try:
            return _utc(datetime.fromisoformat(str(data.get(key)))).strftime("%a %b %-d, %H:%M UTC")
        except (TypeError, ValueError):
            return ""

    if event.kind == ContractEvent.Kind.TIME_LOGGED:
        count = int(data.get("segments") or 0)
        how = {"manual": "by hand", "timer": "with the timer", "tracker": "with the tracker"}.get(
            str(data.get("source")), ""
        )
        label = f"Time logged {how}" if how else "Time logged"
        return f"{label}: {hm(count * SEGMENT_MINUTES)} hrs from {when('started_at')}."
    if event.kind == ContractEvent.Kind.TIME_EDITED:
        return f"Memo of {when('started_at')} changed to “{data.get('memo', '')}”."
    if event.kind == ContractEvent.Kind.TIME_DELETED:
        return f"Time removed: {when('started_at')} (10 minutes)."
    return (
        ContractEvent.Kind(event.kind).label + "." if event.kind in ContractEvent.Kind.values else event.kind
    )
