"""HTML views of time tracking: the timer on the contract page, manual entries, the work
diary (both parties; the freelancer edits memos and deletes unbilled segments there),
screenshots (parties only) and the tracker tokens page.

Thin: parse a form, call one service of ``contracts.timetracking``, redirect with a
message. Non-parties get 404 everywhere; times are entered and shown in UTC, the zone
billing weeks are counted in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.types import AuthedRequest

from .. import selectors, timetracking
from ..api.hourly import screenshot_response
from ..models import Contract


class TimerStartForm(forms.Form):
    memo = forms.CharField(label="What are you working on?", max_length=timetracking.MEMO_MAX, required=False)


class ManualEntryForm(forms.Form):
    day = forms.DateField(label="Date (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="From (UTC)", widget=forms.TimeInput(attrs={"type": "time", "step": 600}))
    end = forms.TimeField(
        label="To (UTC)",
        widget=forms.TimeInput(attrs={"type": "time", "step": 600}),
        help_text="00:00 means midnight at the end of the day.",
    )
    memo = forms.CharField(label="Memo", max_length=timetracking.MEMO_MAX, required=False)

    def times(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        start = datetime.combine(data["day"], data["start"], tzinfo=UTC)
        end = datetime.combine(data["day"], data["end"], tzinfo=UTC)
        if end <= start and data["end"].hour == 0 and data["end"].minute == 0:
            end += timedelta(days=1)
        return start, end


class MemoForm(forms.Form):
    memo = forms.CharField(label="Memo", max_length=timetracking.MEMO_MAX, required=False)


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=timetracking.TOKEN_NAME_MAX,
        help_text="The computer or tracker it is for, e.g. “Work laptop”.",
    )


def _contract(request: AuthedRequest, contract_id: int) -> Contract:
    contract = selectors.contract_get_for_party(contract_id=contract_id, viewer=request.user)
    if not contract.is_hourly:
        from marketplace.errors import NotFoundError

        raise NotFoundError("This contract has no work diary.")
    return contract


def _back(request: AuthedRequest, contract: Contract) -> HttpResponse:
    """Back to where the form was: the diary (its week) or the contract page."""
    target = request.POST.get("next", "")
    if target.startswith(reverse("contracts:diary", kwargs={"contract_id": contract.pk})):
        return redirect(target)
    return redirect("contracts:detail", contract_id=contract.pk)


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}:{rest:02d} hrs"


@login_required
@require_POST
def timer_start(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = TimerStartForm(request.POST)
    memo = form.cleaned_data["memo"] if form.is_valid() else ""
    try:
        session = timetracking.timer_start(actor=request.user, contract_id=contract.pk, memo=memo)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Timer running since {session.started_at.astimezone(UTC):%H:%M} UTC.")
    return _back(request, contract)


@login_required
@require_POST
def timer_stop(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    try:
        result = timetracking.timer_stop(actor=request.user, contract_id=contract.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(request, contract)
    if result.created:
        messages.success(
            request, f"Timer stopped: {_hours(result.minutes)} recorded in {len(result.created)} segments."
        )
    else:
        messages.info(
            request,
            "Timer stopped. Nothing new was recorded: a 10-minute slot counts once the timer "
            f"covered at least {timetracking.MIN_COVERED_MINUTES} minutes of it.",
        )
    if result.already_logged:
        messages.info(request, f"{result.already_logged} slot(s) of the run were logged already and kept.")
    if result.skipped_closed:
        messages.warning(
            request, f"{result.skipped_closed} slot(s) fell in a week already billed; not recorded."
        )
    if result.cut_at:
        messages.warning(
            request, "The contract was paused or ended during the run; later time was not recorded."
        )
    if result.capped:
        messages.warning(
            request, f"The timer ran over {timetracking.MAX_RUN_HOURS} hours; only the first were recorded."
        )
    return _back(request, contract)


@login_required
@require_POST
def time_entry_add(request: AuthedRequest, contract_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = ManualEntryForm(request.POST)
    if form.is_valid():
        start, end = form.times()
        try:
            segments = timetracking.time_entry_add(
                actor=request.user,
                contract_id=contract.pk,
                started_at=start,
                ended_at=end,
                memo=form.cleaned_data["memo"],
            )
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(
                request,
                f"Recorded {_hours(len(segments) * timetracking.SEGMENT_MINUTES)} "
                f"({segments[0].started_at:%H:%M} to {timetracking.segment_end(segments[-1]):%H:%M} UTC).",
            )
            week = timetracking.week_start_of(segments[0].started_at)
            return redirect(f"{reverse('contracts:diary', kwargs={'contract_id': contract.pk})}?week={week}")
    messages.error(request, "The time was not recorded: see the form for why.")
    return _render_diary(request, contract, status=400, manual_form=form)


def _manual_form(now: datetime) -> ManualEntryForm:
    """The manual entry form, prefilled with the last hour (when it lies within today, UTC)."""
    end = timetracking.align(now)
    start = end - timedelta(hours=1)
    initial: dict[str, object] = {"day": end.date(), "end": end.time()}
    if start.date() == end.date():
        initial["start"] = start.time()
    return ManualEntryForm(initial=initial)


def _render_diary(
    request: AuthedRequest, contract: Contract, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    week = timetracking.parse_week(request.GET.get("week") or request.POST.get("week"))
    diary = timetracking.diary_week(contract=contract, viewer=request.user, week_start=week)
    today = timezone.now().astimezone(UTC)
    context = {
        "contract": contract,
        "diary": diary,
        "panel": timetracking.time_panel(contract=contract, viewer=request.user),
        "manual_form": forms_.get("manual_form") or _manual_form(today),
        "timer_form": TimerStartForm(),
        "min_covered": timetracking.MIN_COVERED_MINUTES,
        "here": request.get_full_path() if request.method == "GET" else "",
    }
    return render(request, "contracts/diary.html", context, status=status)


@login_required
@require_GET
def diary(request: AuthedRequest, contract_id: int) -> HttpResponse:
    return _render_diary(request, _contract(request, contract_id))


@login_required
@require_POST
def segment_memo(request: AuthedRequest, contract_id: int, segment_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = MemoForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"A memo is limited to {timetracking.MEMO_MAX} characters.")
        return _back(request, contract)
    try:
        segment = timetracking.segment_update_memo(
            actor=request.user, contract_id=contract.pk, segment_id=segment_id, memo=form.cleaned_data["memo"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Memo of {segment.started_at.astimezone(UTC):%a %H:%M} UTC saved.")
    return _back(request, contract)


@login_required
@require_POST
def segment_delete(request: AuthedRequest, contract_id: int, segment_id: int) -> HttpResponse:
    contract = _contract(request, contract_id)
    try:
        segment = timetracking.segment_delete(
            actor=request.user, contract_id=contract.pk, segment_id=segment_id
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        start = segment.started_at.astimezone(UTC)
        messages.success(request, f"Removed {start:%a %H:%M} to {start + timetracking.SEGMENT:%H:%M} UTC.")
    return _back(request, contract)


@login_required
@require_GET
def segment_screenshot(request: AuthedRequest, contract_id: int, segment_id: int) -> FileResponse:
    contract = _contract(request, contract_id)
    segment = timetracking.segment_get_for_party(contract=contract, segment_id=segment_id)
    return screenshot_response(segment)


@login_required
def tracker_tokens(request: AuthedRequest) -> HttpResponse:
    """List, create (the raw key is shown once, in this answer only) and revoke tokens."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_key = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, new_key = timetracking.tracker_token_create(
                    actor=request.user, name=form.cleaned_data["name"]
                )
            except ApplicationError as error:
                add_application_error(form, error)
                messages.error(request, error.message)
                status = 400
            else:
                messages.success(
                    request, f"Token “{token.name}” created. Copy the key now: it is shown only once."
                )
                form = TokenForm()
        else:
            messages.error(request, "Name the token.")
            status = 400
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": timetracking.tracker_token_list(user=request.user),
        "contracts": timetracking.tracker_contracts(user=request.user),
        "api_url": request.build_absolute_uri("/")[:-1],
    }
    response = render(request, "contracts/time_tokens.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def tracker_token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    try:
        token = timetracking.tracker_token_revoke(actor=request.user, token_id=token_id)
    except ApplicationError as error:
        if error.status_code == 404:
            raise  # someone else's token: the 404 page, as for every object one cannot see
        messages.error(request, error.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked: trackers using it are signed out.")
    return redirect("contracts:tracker_tokens")
