"""Weekly billing of hourly contracts: close the week, charge the client into escrow,
release after the review period, freeze and split for disputes.

Weeks run Monday 00:00 to Monday 00:00 UTC (no daylight saving in UTC, so every week is
exactly 7 x 24 hours whatever the parties' local clocks do; a week may span two months or
two years: it belongs to the year of its Monday, ``Timesheet.week_start``).

Money:

- ``billed_minutes = min(logged_minutes, weekly limit x 60)`` (no limit: all of it).
- ``amount_cents = round_half_up(billed_minutes x rate_cents / 60)``, computed on the
  week's total (per 10-minute segment it would be exact only for rates divisible by 6:
  $45.01/hr x 10 min = 750.1666 cents). Integers only: ``(minutes * rate + 30) // 60``.
- The client is charged ``amount_cents`` plus the client marketplace fee (one line, as for
  milestones) through ``payments.charge_create`` with purpose ``timesheet_billing``,
  reference ``timesheet:<id>``, into escrow ``contract:<id>`` (transfer group per
  contract). Payments keys each attempt ``charge:timesheet_billing:timesheet:<id>:<n>``,
  so a retried attempt is the same charge and the next attempt a new one.
- Review: the client may dispute until Friday 23:59:59 UTC of the following week (a week
  paid late, after a retry, until the first Friday 23:59:59 UTC after the payment).
- Release: ``escrow_release`` with key ``timesheet-release:<id>`` (service fee to the
  platform, the rest to the freelancer's pending balance for ``SECURITY_HOLD_DAYS``).
- Dispute split: refund part through ``payments.refund_create`` (key
  ``timesheet-refund:<id>:<failed refunds before><suffix>``), release the rest.

States (``Timesheet.TRANSITIONS``): open -> charging -> in_review | payment_failed;
payment_failed -> charging (daily retry); in_review -> released | disputed; disputed ->
resolved; a week without billable time closes as ``empty``.

Exactly once: ``timesheet_close`` locks the contract row, so two runs (sequential or
concurrent) of the weekly task serialise on it; the first creates the timesheet (unique
per contract and week) and moves it to charging, the second finds it past ``open`` and
does nothing. Only the run that moved it charges, and payments allows one live charge per
purpose and reference.

No lock is held while calling the gateway: the week is closed in one transaction, charged
outside it, and the settlement handlers (registered in ``apps.py``) move the timesheet
inside payments' settlement transaction. Lock order: contract, then timesheet, then
segments (by primary key), then (inside ``payments``) ledger accounts; the handlers lock
the timesheet only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from marketplace.errors import ApplicationError, ConflictError, NotFoundError
from marketplace.ids import as_id
from marketplace.money import format_cents
from messaging.models import NotificationKind
from payments import services as payments
from payments.models import Charge, Refund

from .models import Contract, ContractEvent, Dispute, TimeSegment, Timesheet
from .services import _contract_transition, _is_int, _on_commit_notify, _post_system
from .timetracking import week_bounds, week_start_of, week_summary

log = logging.getLogger(__name__)

BILLING_PURPOSE = "timesheet_billing"
RELEASE_PURPOSE = "timesheet_release"
# a timesheet left charging this long (a crash between closing and charging) is charged again
STUCK_CHARGING_AFTER = timedelta(minutes=10)
# a failed payment is retried at most this often (the beat runs daily)
RETRY_EVERY = timedelta(hours=20)
ESCROWED = (Timesheet.Status.IN_REVIEW, Timesheet.Status.DISPUTED)


# --- weeks ----------------------------------------------------------------------------------------


def review_ends_at(week_start: date, charged_at: datetime | None = None) -> datetime:
    """Friday 23:59:59 UTC of the week after the billed week: the last instant to dispute.

    A week charged after that (a payment that succeeded on a late retry) keeps a review
    period all the same: until the first Friday 23:59:59 UTC at or after the charge."""
    friday = week_start + timedelta(days=7 + 4)
    end = datetime.combine(friday, time(23, 59, 59), tzinfo=UTC)
    if charged_at is not None and charged_at > end:
        day = charged_at.astimezone(UTC).date()
        end = datetime.combine(day + timedelta(days=(4 - day.weekday()) % 7), time(23, 59, 59), tzinfo=UTC)
        if end < charged_at:  # charged on a Friday after 23:59:59
            end += timedelta(days=7)
    return end


def amount_for(minutes: int, rate_cents: int) -> int:
    """``minutes`` at ``rate_cents`` per hour, rounded half up to the cent (integers only)."""
    return (minutes * rate_cents + 30) // 60


def limit_minutes(contract: Contract) -> int | None:
    return None if contract.weekly_limit_hours is None else contract.weekly_limit_hours * 60


def timesheet_reference(timesheet_id: int) -> str:
    return f"timesheet:{timesheet_id}"


def release_key(timesheet_id: int) -> str:
    return f"timesheet-release:{timesheet_id}"


def escrow_reference(contract_id: int) -> str:
    return f"contract:{contract_id}"


def timesheet_url(timesheet: Timesheet) -> str:
    return reverse(
        "contracts:timesheet_detail",
        kwargs={"contract_id": timesheet.contract_id, "timesheet_id": timesheet.pk},
    )


def hours_text(minutes: int) -> str:
    """``h:mm`` of a number of minutes (310 -> "5:10")."""
    hours, rest = divmod(minutes, 60)
    return f"{hours}:{rest:02d}"


def _hours(minutes: int) -> str:
    return f"{hours_text(minutes)} hrs"


def _id_from(reference: str, prefix: str) -> int | None:
    head, _, tail = reference.partition(":")
    return as_id(tail) if head == prefix else None


def _grace_days() -> int:
    return int(getattr(settings, "HOURLY_PAYMENT_GRACE_DAYS", 3))


def _transition(timesheet: Timesheet, to: str, *, now: datetime | None = None) -> str:
    """Move ``timesheet`` (locked by the caller) along its table; the caller saves
    ``status`` and ``status_changed_at`` and logs the event."""
    if to not in Timesheet.TRANSITIONS[timesheet.status]:
        raise ApplicationError(
            f"A timesheet that is {timesheet.get_status_display().lower()} cannot become "
            f"{Timesheet.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": timesheet.status, "to": to},
        )
    old = timesheet.status
    timesheet.status = to
    timesheet.status_changed_at = now or timezone.now()
    return old


def _event(timesheet: Timesheet, kind: str, old: str, actor: User | None = None, **data: Any) -> None:
    ContractEvent.objects.create(
        contract_id=timesheet.contract_id,
        actor=actor,
        kind=kind,
        from_status=old,
        to_status=timesheet.status,
        data={"timesheet": timesheet.pk, "week_start": timesheet.week_start.isoformat(), **data},
    )


def _timesheet_for_update(timesheet_id: int) -> Timesheet:
    timesheet = Timesheet.objects.select_for_update(no_key=True).filter(pk=timesheet_id).first()
    if timesheet is None:
        raise NotFoundError("No such timesheet.")
    return timesheet


# --- close the week ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    logged_minutes: int
    billed_minutes: int
    limit_minutes: int | None

    @property
    def logged_hm(self) -> str:
        return hours_text(self.logged_minutes)

    @property
    def billed_hm(self) -> str:
        return hours_text(self.billed_minutes)


def week_figures(contract: Contract, week_start: date) -> WeekFigures:
    """Logged and billable minutes of a week, from the time tracker's summary (its segments
    and the contract's current limit)."""
    summary = week_summary(contract, week_start)
    return WeekFigures(summary.logged_minutes, summary.billable_minutes, summary.limit_minutes)


def timesheet_close(*, contract_id: int, week_start: date, now: datetime | None = None) -> Timesheet:
    """Close one finished week of an hourly contract: freeze its figures and segments and
    charge the client (outside any transaction). Idempotent: a week already closed is
    returned as it is (see the module docstring for why it bills once)."""
    now = now or timezone.now()
    if not isinstance(week_start, date) or week_start.weekday() != 0:
        raise ApplicationError("A week starts on a Monday.", code="invalid_week")
    start, end = week_bounds(week_start)
    if end > now:
        raise ApplicationError("This week is not over yet.", code="week_not_over")
    with transaction.atomic():
        contract = Contract.objects.select_for_update(no_key=True).filter(pk=contract_id).first()
        if contract is None:
            raise NotFoundError("No such contract.")
        if not contract.is_hourly:
            raise ApplicationError("Only hourly contracts are billed weekly.", code="not_hourly")
        timesheet, _ = Timesheet.objects.get_or_create(
            contract=contract, week_start=week_start, defaults={"created_at": now}
        )
        if timesheet.status != Timesheet.Status.OPEN:
            return timesheet  # closed before: by an earlier or a concurrent run
        segment_ids = list(
            TimeSegment.objects.select_for_update(no_key=True)
            .filter(contract=contract, started_at__gte=start, started_at__lt=end, timesheet__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        figures = week_figures(contract, week_start)
        rate = contract.hourly_rate_cents or 0
        amount = amount_for(figures.billed_minutes, rate)
        TimeSegment.objects.filter(pk__in=segment_ids).update(timesheet=timesheet, updated_at=now)
        timesheet.logged_minutes = figures.logged_minutes
        timesheet.billed_minutes = figures.billed_minutes
        timesheet.rate_cents = rate
        timesheet.amount_cents = amount
        timesheet.closed_at = now
        billable = amount > 0
        to = Timesheet.Status.CHARGING if billable else Timesheet.Status.EMPTY
        _transition(timesheet, to, now=now)  # the timeline logs the outcome (billed or failed)
        if billable:
            timesheet.charge_attempts += 1
        timesheet.save(
            update_fields=[
                "logged_minutes",
                "billed_minutes",
                "rate_cents",
                "amount_cents",
                "closed_at",
                "status",
                "status_changed_at",
                "charge_attempts",
            ]
        )
        log.info(
            "timesheet %s closed: contract %s week %s logged %s billed %s min, %s cents",
            timesheet.pk,
            contract.pk,
            week_start,
            figures.logged_minutes,
            figures.billed_minutes,
            amount,
        )
    if billable:
        return _charge(timesheet.pk)
    return timesheet


def _weeks_to_close(now: datetime) -> list[tuple[int, date]]:
    """(contract id, Monday) of every finished week of an hourly contract without a closed
    timesheet: the weeks since the latest timesheet (or the start), up to the last finished
    week (or the week the contract ended), and any older week with unbilled segments."""
    last_finished = week_start_of(now) - timedelta(days=7)
    todo: set[tuple[int, date]] = set()
    contracts = Contract.objects.filter(contract_type="hourly").annotate(
        last_week=Max("timesheets__week_start", filter=~Q(timesheets__status=Timesheet.Status.OPEN))
    )
    for contract_id, started_at, ended_at, last_week in contracts.values_list(
        "pk", "started_at", "ended_at", "last_week"
    ):
        first = last_week + timedelta(days=7) if last_week else week_start_of(started_at)
        last = last_finished if ended_at is None else min(last_finished, week_start_of(ended_at))
        week = first
        while week <= last:
            todo.add((contract_id, week))
            week += timedelta(days=7)
    start_of_current, _ = week_bounds(week_start_of(now))
    stragglers = (
        TimeSegment.objects.filter(
            timesheet__isnull=True, started_at__lt=start_of_current, contract__contract_type="hourly"
        )
        .values_list("contract_id", "started_at")
        .distinct()
    )
    for contract_id, started_at in stragglers:
        todo.add((contract_id, week_start_of(started_at)))
    return sorted(todo, key=lambda item: (item[1], item[0]))


def timesheets_close_week(*, now: datetime | None = None) -> dict[str, int]:
    """Beat (Monday 00:30 UTC, and daily as a catch-up): close every finished week of every
    hourly contract that has no closed timesheet. Returns counts by outcome."""
    now = now or timezone.now()
    counts = {"closed": 0, "empty": 0, "billed": 0, "failed": 0, "charging": 0, "errors": 0}
    for contract_id, week in _weeks_to_close(now):
        try:
            timesheet = timesheet_close(contract_id=contract_id, week_start=week, now=now)
        except ApplicationError:
            log.exception("closing week %s of contract %s failed", week, contract_id)
            counts["errors"] += 1
            continue
        counts["closed"] += 1
        key = {
            Timesheet.Status.EMPTY: "empty",
            Timesheet.Status.IN_REVIEW: "billed",
            Timesheet.Status.PAYMENT_FAILED: "failed",
        }.get(timesheet.status, "charging")  # type: ignore[call-overload]
        counts[key] += 1
    return counts


# --- charge -----------------------------------------------------------------------------------------


def _charge(timesheet_id: int) -> Timesheet:
    """Charge a timesheet that is ``charging`` (outside any transaction). A decline settles
    through ``on_billing_failed``; a refusal before any charge (no card, suspended client)
    is recorded here the same way."""
    timesheet = Timesheet.objects.select_related("contract", "contract__client").get(pk=timesheet_id)
    if timesheet.status != Timesheet.Status.CHARGING:
        return timesheet
    contract = timesheet.contract
    try:
        payments.charge_create(
            actor=contract.client,
            amount_cents=timesheet.amount_cents,
            purpose=BILLING_PURPOSE,
            reference=timesheet_reference(timesheet.pk),
            escrow_reference=escrow_reference(contract.pk),
            transfer_group=escrow_reference(contract.pk),
            description=f"{contract.title}: week of {timesheet.week_start:%b %d, %Y}, "
            f"{_hours(timesheet.billed_minutes)}",
        )
    except ApplicationError as error:
        message = (
            "No card on file: add one on the Billing page."
            if error.code == "no_payment_method"
            else error.message
        )
        with transaction.atomic():
            locked = _timesheet_for_update(timesheet.pk)
            if locked.status == Timesheet.Status.CHARGING:
                _payment_failed(locked, message)
    timesheet.refresh_from_db()
    return timesheet


def _timesheet_of(reference: str) -> Timesheet | None:
    timesheet_id = _id_from(reference, "timesheet")
    if timesheet_id is None:
        return None
    return Timesheet.objects.select_for_update(no_key=True).filter(pk=timesheet_id).first()


def on_billing_succeeded(charge: Charge) -> None:
    """payments handler (inside the settlement transaction): charging -> in_review."""
    timesheet = _timesheet_of(charge.reference)
    if timesheet is None or timesheet.status != Timesheet.Status.CHARGING:
        log.warning("billing of %s settled but the timesheet is not charging", charge.reference)
        return
    now = timezone.now()
    old = _transition(timesheet, Timesheet.Status.IN_REVIEW, now=now)
    timesheet.escrow_cents = charge.amount_cents
    timesheet.charged_at = now
    timesheet.review_ends_at = review_ends_at(timesheet.week_start, now)
    timesheet.charge_failure_message = ""
    timesheet.save(
        update_fields=[
            "status",
            "status_changed_at",
            "escrow_cents",
            "charged_at",
            "review_ends_at",
            "charge_failure_message",
        ]
    )
    _event(
        timesheet,
        ContractEvent.Kind.TIMESHEET_BILLED,
        old,
        charge.payer,
        amount_cents=timesheet.amount_cents,
        billed_minutes=timesheet.billed_minutes,
        charge_id=charge.pk,
        client_fee_cents=charge.client_fee_cents,
    )
    contract = Contract.objects.get(pk=timesheet.contract_id)
    week = f"{timesheet.week_start:%b %d}"
    due = f"{timesheet.review_ends_at:%b %d, %Y} 23:59 UTC"
    url = timesheet_url(timesheet)
    _on_commit_notify(
        contract.client_id,
        NotificationKind.PAYMENT,
        f"Weekly summary, week of {week} on “{contract.title}”: {_hours(timesheet.billed_minutes)} billed "
        f"at {format_cents(timesheet.rate_cents)}/hr = {format_cents(timesheet.amount_cents)} "
        f"(+ {format_cents(charge.client_fee_cents)} fee, {format_cents(charge.total_cents)} charged). "
        f"Review the work diary; you can dispute until {due}.",
        url,
        contract,
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"Weekly summary, week of {week} on “{contract.title}”: {_hours(timesheet.billed_minutes)} billed "
        f"of {_hours(timesheet.logged_minutes)} logged, {format_cents(timesheet.amount_cents)} in escrow. "
        f"Released to you after the review period ends {due} unless disputed.",
        url,
        contract,
    )


def _payment_failed(timesheet: Timesheet, message: str, actor: User | None = None) -> None:
    """charging -> payment_failed (timesheet locked by the caller); both sides are told."""
    old = _transition(timesheet, Timesheet.Status.PAYMENT_FAILED)
    timesheet.charge_failure_message = (message or "The payment failed.")[:300]
    timesheet.save(update_fields=["status", "status_changed_at", "charge_failure_message"])
    _event(
        timesheet,
        ContractEvent.Kind.TIMESHEET_PAYMENT_FAILED,
        old,
        actor,
        message=timesheet.charge_failure_message,
        attempt=timesheet.charge_attempts,
    )
    contract = Contract.objects.get(pk=timesheet.contract_id)
    assert timesheet.closed_at is not None
    pause_on = timesheet.closed_at + timedelta(days=_grace_days())
    _on_commit_notify(
        contract.client_id,
        NotificationKind.PAYMENT,
        f"The payment for the week of {timesheet.week_start:%b %d} on “{contract.title}” "
        f"({format_cents(timesheet.amount_cents)}) failed: {timesheet.charge_failure_message} "
        f"Update your card; we retry daily and pause the contract on {pause_on:%b %d} if it is still unpaid.",
        reverse("payments:billing"),
        contract,
    )
    _on_commit_notify(
        contract.freelancer_id,
        NotificationKind.PAYMENT,
        f"The client's payment for the week of {timesheet.week_start:%b %d} on “{contract.title}” "
        f"failed. We retry daily; the contract is paused on {pause_on:%b %d} if it is still unpaid.",
        timesheet_url(timesheet),
        contract,
    )


def on_billing_failed(charge: Charge) -> None:
    """payments handler: charging -> payment_failed with the gateway's message."""
    timesheet = _timesheet_of(charge.reference)
    if timesheet is None or timesheet.status != Timesheet.Status.CHARGING:
        return
    _payment_failed(timesheet, charge.failure_message, charge.payer)


def timesheet_retry_charge(
    *, timesheet_id: int, actor: User | None = None, now: datetime | None = None
) -> Timesheet:
    """Charge a failed week again (a new attempt, a new key): the daily task, or the client
    from the timesheet page (``actor``: must be the contract's client). Outside any
    transaction."""
    with transaction.atomic():
        timesheet = _timesheet_for_update(timesheet_id)
        contract = Contract.objects.get(pk=timesheet.contract_id)
        if actor is not None and actor.pk != contract.client_id:
            raise NotFoundError("No such timesheet.")
        if timesheet.status != Timesheet.Status.PAYMENT_FAILED:
            raise ApplicationError(
                f"Only a failed payment can be retried; this week is "
                f"{timesheet.get_status_display().lower()}.",
                code="illegal_transition",
                extra={"from": timesheet.status, "to": Timesheet.Status.CHARGING},
            )
        _transition(timesheet, Timesheet.Status.CHARGING, now=now)
        timesheet.charge_attempts += 1
        timesheet.save(update_fields=["status", "status_changed_at", "charge_attempts"])
    return _charge(timesheet.pk)


def _pause_for_nonpayment(timesheet_id: int, now: datetime) -> bool:
    """Pause the contract of a week still unpaid after the grace period (once; logged)."""
    with transaction.atomic():
        contract_id = Timesheet.objects.filter(pk=timesheet_id).values_list("contract_id", flat=True).first()
        if contract_id is None:
            return False
        contract = Contract.objects.select_for_update(no_key=True).get(pk=contract_id)
        timesheet = _timesheet_for_update(timesheet_id)
        if (
            timesheet.status != Timesheet.Status.PAYMENT_FAILED
            or contract.status != Contract.Status.ACTIVE
            or timesheet.closed_at is None
            or timesheet.closed_at + timedelta(days=_grace_days()) > now
        ):
            return False
        reason = (
            f"The payment for the week of {timesheet.week_start:%b %d, %Y} "
            f"({format_cents(timesheet.amount_cents)}) is unpaid after {_grace_days()} days: "
            f"{timesheet.charge_failure_message}"
        )
        _contract_transition(
            contract,
            to=Contract.Status.PAUSED,
            actor=None,
            kind=ContractEvent.Kind.PAUSED,
            data={"reason": "payment_failed", "timesheet": timesheet.pk, "note": reason},
        )
        contract.paused_at = now
        contract.save(update_fields=["status", "paused_at", "updated_at"])
        log.warning("contract %s paused for non-payment: %s", contract.pk, reason)
        _post_system(contract.conversation_id, f"The contract was paused: {reason}")
        for user_id in (contract.client_id, contract.freelancer_id):
            _on_commit_notify(
                user_id,
                NotificationKind.CONTRACT,
                f"“{contract.title}” is paused: {reason} No time can be logged until the client "
                "pays and resumes it.",
                timesheet_url(timesheet),
                contract,
            )
        return True


def timesheets_retry_failed(*, now: datetime | None = None) -> dict[str, int]:
    """Beat (daily): retry failed weekly payments (at most once a day each), charge weeks
    left charging by a crash, and pause contracts still unpaid after
    ``HOURLY_PAYMENT_GRACE_DAYS``."""
    now = now or timezone.now()
    counts = {"retried": 0, "paid": 0, "resumed": 0, "paused": 0}
    # ended contracts too: the client still owes the time worked before the end
    failed = Timesheet.objects.filter(
        status=Timesheet.Status.PAYMENT_FAILED, status_changed_at__lte=now - RETRY_EVERY
    )
    for timesheet_id in failed.order_by("pk").values_list("pk", flat=True)[:500]:
        try:
            timesheet = timesheet_retry_charge(timesheet_id=timesheet_id, now=now)
        except ApplicationError:
            continue  # moved meanwhile (paid by the client's own retry)
        counts["retried"] += 1
        counts["paid"] += timesheet.status == Timesheet.Status.IN_REVIEW
    stuck = Timesheet.objects.filter(
        status=Timesheet.Status.CHARGING, status_changed_at__lte=now - STUCK_CHARGING_AFTER
    )
    for timesheet_id in stuck.order_by("pk").values_list("pk", flat=True)[:500]:
        _charge(timesheet_id)  # resumes the live charge (same key) or makes the first one
        counts["resumed"] += 1
    overdue = Timesheet.objects.filter(
        status=Timesheet.Status.PAYMENT_FAILED,
        closed_at__lte=now - timedelta(days=_grace_days()),
        contract__status=Contract.Status.ACTIVE,
    )
    for timesheet_id in overdue.order_by("pk").values_list("pk", flat=True)[:500]:
        counts["paused"] += _pause_for_nonpayment(timesheet_id, now)
    return counts


# --- release after the review period ------------------------------------------------------------------


def _has_open_dispute(timesheet: Timesheet) -> bool:
    return Dispute.objects.filter(timesheet=timesheet).exclude(status=Dispute.Status.RESOLVED).exists()


def timesheet_release(*, timesheet_id: int, now: datetime | None = None) -> bool:
    """Release one week whose review period is over (task; safe to run twice): in_review ->
    released, escrow to the freelancer minus the service fee, then the security hold."""
    now = now or timezone.now()
    with transaction.atomic():
        timesheet = _timesheet_for_update(timesheet_id)
        if (
            timesheet.status != Timesheet.Status.IN_REVIEW
            or timesheet.review_ends_at is None
            or timesheet.review_ends_at >= now
            or _has_open_dispute(timesheet)
        ):
            return False
        contract = Contract.objects.select_related("freelancer").get(pk=timesheet.contract_id)
        amount = timesheet.escrow_cents
        old = _transition(timesheet, Timesheet.Status.RELEASED, now=now)
        if amount > 0:
            payments.escrow_release(
                escrow_reference=escrow_reference(contract.pk),
                payee=contract.freelancer,
                amount_cents=amount,
                idempotency_key=release_key(timesheet.pk),
                purpose=RELEASE_PURPOSE,
                reference=timesheet_reference(timesheet.pk),
                memo=f"Released week of {timesheet.week_start} on contract {contract.pk}",
                agency_id=contract.agency_id,
            )
        timesheet.escrow_cents = 0
        timesheet.released_cents += amount
        timesheet.released_at = now
        timesheet.save(
            update_fields=["status", "status_changed_at", "escrow_cents", "released_cents", "released_at"]
        )
        _event(timesheet, ContractEvent.Kind.TIMESHEET_RELEASED, old, None, released_cents=amount)
        _on_commit_notify(
            contract.freelancer_id,
            NotificationKind.PAYMENT,
            f"{format_cents(amount)} for the week of {timesheet.week_start:%b %d} on “{contract.title}” "
            f"was released. It is available after the {settings.SECURITY_HOLD_DAYS}-day security hold.",
            timesheet_url(timesheet),
            contract,
        )
        return True


def timesheets_release_due(*, now: datetime | None = None) -> int:
    """Beat (hourly): release every week in review whose review period has passed and that
    is not disputed. Returns how many were released."""
    now = now or timezone.now()
    due = (
        Timesheet.objects.filter(status=Timesheet.Status.IN_REVIEW, review_ends_at__lt=now)
        .exclude(disputes__status__in=[Dispute.Status.OPEN, Dispute.Status.RESPONDED])
        .order_by("review_ends_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    released = 0
    for timesheet_id in list(due):
        try:
            released += timesheet_release(timesheet_id=timesheet_id, now=now)
        except ApplicationError:
            log.exception("releasing timesheet %s failed", timesheet_id)
    return released


# --- disputes (called by contracts.disputes) ---------------------------------------------------------


@transaction.atomic
def timesheet_freeze_for_dispute(*, timesheet_id: int, now: datetime | None = None) -> Timesheet:
    """in_review -> disputed under the timesheet's lock: the escrow stays where it is until
    ``timesheet_settle_split``. Only within the review period. The caller (the dispute
    service) logs the dispute on the contract's timeline."""
    now = now or timezone.now()
    timesheet = _timesheet_for_update(timesheet_id)
    if timesheet.status != Timesheet.Status.IN_REVIEW:
        raise ApplicationError(
            f"Only a week in review can be disputed; this one is {timesheet.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": timesheet.status, "to": Timesheet.Status.DISPUTED},
        )
    if timesheet.review_ends_at is None or timesheet.review_ends_at < now:
        raise ApplicationError(
            "The review period of this week is over; it can no longer be disputed.",
            code="review_period_over",
            extra={
                "review_ends_at": timesheet.review_ends_at.isoformat() if timesheet.review_ends_at else None
            },
        )
    _transition(timesheet, Timesheet.Status.DISPUTED, now=now)
    timesheet.save(update_fields=["status", "status_changed_at"])
    return timesheet


def _billing_charge(timesheet: Timesheet) -> Charge | None:
    return Charge.objects.filter(
        purpose=BILLING_PURPOSE, reference=timesheet_reference(timesheet.pk), status=Charge.Status.SUCCEEDED
    ).first()


def _send_split_refund(
    timesheet: Timesheet, charge: Charge, amount: int, actor: User | None, key_suffix: str
) -> Refund:
    """Refund ``amount`` of the week's charge (outside any transaction). The key counts the
    refunds the provider refused before, so a retry is the same refund and a new try after
    a refusal is a new one; two settlements at once share the key and get one refund."""
    refused = Refund.objects.filter(charge=charge, status=Refund.Status.FAILED).count()
    key = f"timesheet-refund:{timesheet.pk}:{refused}{key_suffix}"
    reason = f"Dispute over the week of {timesheet.week_start:%b %d, %Y}"
    try:
        return payments.refund_create(
            actor=actor, idempotency_key=key, charge_id=charge.pk, amount_cents=amount, reason=reason
        )
    except IntegrityError:  # a concurrent settlement reserved the same key first
        return payments.refund_create(
            actor=actor, idempotency_key=key, charge_id=charge.pk, amount_cents=amount, reason=reason
        )


def timesheet_settle_split(
    *,
    timesheet_id: int,
    refund_cents: int,
    release_cents: int,
    actor: User | None = None,
    key_suffix: str = "",
) -> Timesheet:
    """disputed -> resolved: refund ``refund_cents`` of the escrow to the client's card and
    release ``release_cents`` to the freelancer (minus the service fee, then the security
    hold). ``refund_cents + release_cents`` must equal what the week holds in escrow.

    Call outside any transaction: the refund goes through the gateway with no lock held;
    the release and the status change follow when it settles (here, or from the
    ``on_refunded`` handler when the provider answers later). Safe to call again with the
    same split (a retry); a resolved week cannot be settled differently."""
    if not (_is_int(refund_cents) and _is_int(release_cents)) or refund_cents < 0 or release_cents < 0:
        raise ApplicationError(
            "Split the amount into whole, non-negative cents.",
            code="invalid_split",
            extra={"field": "refund"},
        )
    with transaction.atomic():
        timesheet = _timesheet_for_update(timesheet_id)
        if timesheet.status == Timesheet.Status.RESOLVED:
            if timesheet.refunded_cents == refund_cents and timesheet.released_cents == release_cents:
                return timesheet
            raise ConflictError("This dispute was already resolved.", code="already_resolved")
        if timesheet.status != Timesheet.Status.DISPUTED:
            raise ApplicationError(
                f"Only a disputed week can be settled; this one is {timesheet.get_status_display().lower()}.",
                code="illegal_transition",
                extra={"from": timesheet.status, "to": Timesheet.Status.RESOLVED},
            )
        total = timesheet.escrow_cents + timesheet.refunded_cents
        if refund_cents + release_cents != total or refund_cents < timesheet.refunded_cents:
            raise ApplicationError(
                f"The refund and the release must add up to {format_cents(total)}.",
                code="split_mismatch",
                extra={"field": "refund", "total_cents": total},
            )
        to_refund = refund_cents - timesheet.refunded_cents
        charge = _billing_charge(timesheet)
    if to_refund > 0:
        if charge is None:
            raise ApplicationError("The week's payment was not found.", code="charge_missing")
        refund = _send_split_refund(timesheet, charge, to_refund, actor, key_suffix)
        if refund.status == Refund.Status.FAILED:
            raise ApplicationError(refund.failure_message or "The refund failed.", code="refund_failed")
        if refund.status != Refund.Status.SUCCEEDED:
            timesheet.refresh_from_db()
            return timesheet  # the provider answers later; on_billing_refunded finishes it
    return timesheet_finish_split(
        timesheet_id=timesheet_id, actor=actor, expected_release_cents=release_cents
    )


@transaction.atomic
def timesheet_finish_split(
    *, timesheet_id: int, actor: User | None = None, expected_release_cents: int | None = None
) -> Timesheet:
    """Second half of a settlement, once no refund of the week is in flight: release what
    the week still holds to the freelancer and mark it resolved (idempotent)."""
    timesheet = _timesheet_for_update(timesheet_id)
    if timesheet.status != Timesheet.Status.DISPUTED:
        return timesheet
    charge = _billing_charge(timesheet)
    if charge is not None and charge.refunds.filter(status=Refund.Status.RESERVED).exists():
        return timesheet  # a refund is at the provider: its handler calls this again
    amount = timesheet.escrow_cents
    if expected_release_cents is not None and amount != expected_release_cents:
        raise ConflictError(
            "The week's escrow changed while it was being settled; try again.", code="split_changed"
        )
    contract = Contract.objects.select_related("freelancer").get(pk=timesheet.contract_id)
    old = _transition(timesheet, Timesheet.Status.RESOLVED)
    if amount > 0:
        payments.escrow_release(
            escrow_reference=escrow_reference(contract.pk),
            payee=contract.freelancer,
            amount_cents=amount,
            idempotency_key=release_key(timesheet.pk),
            purpose=RELEASE_PURPOSE,
            reference=timesheet_reference(timesheet.pk),
            memo=f"Released week of {timesheet.week_start} on contract {contract.pk} (dispute settled)",
            actor=actor,
            agency_id=contract.agency_id,
        )
    now = timezone.now()
    timesheet.escrow_cents = 0
    timesheet.released_cents += amount
    timesheet.released_at = now if amount else timesheet.released_at
    timesheet.save(
        update_fields=["status", "status_changed_at", "escrow_cents", "released_cents", "released_at"]
    )
    _event(
        timesheet,
        ContractEvent.Kind.TIMESHEET_RELEASED,
        old,
        actor,
        released_cents=amount,
        refunded_cents=timesheet.refunded_cents,
        settled=True,
    )
    if amount:
        _on_commit_notify(
            contract.freelancer_id,
            NotificationKind.PAYMENT,
            f"The dispute over the week of {timesheet.week_start:%b %d} on “{contract.title}” is settled: "
            f"{format_cents(amount)} released to you (available after the security hold).",
            timesheet_url(timesheet),
            contract,
        )
    return timesheet


def on_billing_refunded(refund: Refund) -> None:
    """payments handler (inside the refund's settlement): less in escrow, more refunded;
    a settlement's refund then queues the rest of the settlement after commit."""
    timesheet = _timesheet_of(refund.charge.reference)
    if timesheet is None:
        return
    amount = refund.amount_cents
    timesheet.escrow_cents = max(0, timesheet.escrow_cents - amount)
    timesheet.refunded_cents += amount
    timesheet.save(update_fields=["escrow_cents", "refunded_cents"])
    contract = Contract.objects.get(pk=timesheet.contract_id)
    _on_commit_notify(
        contract.client_id,
        NotificationKind.PAYMENT,
        f"{format_cents(amount)} of the week of {timesheet.week_start:%b %d} on “{contract.title}” "
        "is refunded to your card.",
        timesheet_url(timesheet),
        contract,
    )
    if timesheet.status == Timesheet.Status.DISPUTED:
        timesheet_id, actor_id = timesheet.pk, refund.requested_by_id

        def send() -> None:
            from .tasks import finish_timesheet_split

            finish_timesheet_split.delay(timesheet_id, actor_id)

        transaction.on_commit(send)


# --- audit ----------------------------------------------------------------------------------------------


def audit_timesheets() -> list[str]:
    """Weeks in review or in dispute hold money; every other week holds none; a held
    week's escrow never exceeds what was charged minus what was refunded and released."""
    findings = []
    wrong = Timesheet.objects.filter(
        (Q(status=Timesheet.Status.IN_REVIEW) & Q(escrow_cents__lte=0))
        | (~Q(status__in=ESCROWED) & ~Q(escrow_cents=0))
        | Q(escrow_cents__gt=F("amount_cents") - F("refunded_cents") - F("released_cents"))
    ).values_list("pk", "status", "escrow_cents")[:200]
    for pk, status, cents in wrong:
        findings.append(f"timesheet {pk} is {status} but holds {cents} cents of escrow")
    return findings


# --- reads (timesheet pages and API) ---------------------------------------------------------------


def timesheets_for_contract(contract: Contract) -> list[Timesheet]:
    """The contract's closed weeks, newest first (the caller checked the viewer is a party)."""
    return list(Timesheet.objects.filter(contract=contract).order_by("-week_start", "-id"))


def timesheet_get_for_party(*, contract: Contract, timesheet_id: Any) -> Timesheet:
    pk = timesheet_id if _is_int(timesheet_id) else 0
    timesheet = Timesheet.objects.filter(pk=pk, contract=contract).first()
    if timesheet is None:
        raise NotFoundError("No such timesheet.")
    return timesheet


@dataclass(frozen=True)
class OpenWeek:
    """The week in progress: not billed yet, figures so far."""

    week_start: date
    figures: WeekFigures
    amount_cents: int
    closes_at: datetime


def open_week(contract: Contract, now: datetime | None = None) -> OpenWeek | None:
    if not contract.is_hourly or contract.is_ended:
        return None
    now = now or timezone.now()
    week = week_start_of(now)
    figures = week_figures(contract, week)
    return OpenWeek(
        week_start=week,
        figures=figures,
        amount_cents=amount_for(figures.billed_minutes, contract.hourly_rate_cents or 0),
        closes_at=week_bounds(week)[1],
    )


def billing_charge(timesheet: Timesheet) -> Charge | None:
    """The week's succeeded charge (its payment receipt is the client's invoice)."""
    return _billing_charge(timesheet)


def release_entry_id(timesheet: Timesheet) -> int | None:
    """The ledger entry that paid the freelancer (their earnings receipt)."""
    from payments.models import JournalEntry

    return (
        JournalEntry.objects.filter(idempotency_key=release_key(timesheet.pk))
        .values_list("pk", flat=True)
        .first()
    )


@dataclass
class Step:
    label: str
    at: datetime
    done: bool  # False: a date to come, computed from the rules


def money_timeline(timesheet: Timesheet, now: datetime | None = None) -> list[Step]:
    """Every date of the week's money, from its fields, the rules (review period, grace
    period, security hold) and the ledger's release date."""
    from payments.models import AccountKind, Posting

    now = now or timezone.now()
    steps: list[Step] = []
    if timesheet.closed_at:
        steps.append(
            Step(f"Week closed: {_hours(timesheet.billed_minutes)} billable", timesheet.closed_at, True)
        )
    if timesheet.status == Timesheet.Status.EMPTY:
        return steps
    if timesheet.status == Timesheet.Status.PAYMENT_FAILED and timesheet.closed_at:
        steps.append(Step("Payment failed", timesheet.status_changed_at, True))
        steps.append(
            Step(
                "Contract paused if still unpaid",
                timesheet.closed_at + timedelta(days=_grace_days()),
                False,
            )
        )
    if timesheet.charged_at:
        steps.append(Step(f"Charged {format_cents(timesheet.amount_cents)}", timesheet.charged_at, True))
    review_end = timesheet.review_ends_at
    if review_end:
        steps.append(Step("Review period ends (dispute until)", review_end, review_end < now))
    if timesheet.status in (Timesheet.Status.DISPUTED, Timesheet.Status.RESOLVED):
        disputed_at = (
            Dispute.objects.filter(timesheet=timesheet)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        steps.append(Step("Disputed", disputed_at or timesheet.status_changed_at, True))
    if timesheet.refunded_cents:
        steps.append(
            Step(
                f"Refunded {format_cents(timesheet.refunded_cents)} to the client",
                timesheet.status_changed_at,
                True,
            )
        )
    hold = timedelta(days=settings.SECURITY_HOLD_DAYS)
    if timesheet.released_at and timesheet.released_cents:
        steps.append(Step(f"Released {format_cents(timesheet.released_cents)}", timesheet.released_at, True))
        available = (
            Posting.objects.filter(
                entry__idempotency_key=release_key(timesheet.pk),
                account__kind=AccountKind.FREELANCER_PENDING,
                amount_cents__gt=0,
            )
            .values_list("available_at", flat=True)
            .first()
        )
        if available is not None:
            steps.append(Step("Available to withdraw", available, available <= now))
    elif timesheet.status == Timesheet.Status.IN_REVIEW and review_end:
        release_at = review_end + timedelta(seconds=1)
        steps.append(Step("Auto-release to the freelancer", release_at, False))
        steps.append(Step("Available to withdraw", release_at + hold, False))
    return steps
