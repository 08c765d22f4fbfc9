"""HTML views of payments: the freelancer's Balance page, the client's Billing page, the
transaction history (with streamed CSV export), numbered receipts, monthly statements and
the Stripe webhook endpoint.

Thin: parse a form, call one service, redirect with a message. Adding or removing a payout
method asks for the password again (allauth's reauthentication flow).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from marketplace.errors import ApplicationError
from marketplace.forms import add_application_error
from marketplace.money import format_cents
from marketplace.types import AuthedRequest

from . import history, selectors, services
from .forms import BankAccountForm, CardForm, ScheduleForm, TransactionFilterForm, WithdrawForm
from .gateways import get_gateway
from .gateways.base import CardInput
from .webhooks import WebhookRejected, webhook_receive

log = logging.getLogger(__name__)


# --- freelancer: balance, payout methods, withdrawals ------------------------------------------


def _balance_context(request: AuthedRequest, **forms_: object) -> dict[str, object]:
    user = request.user
    methods = list(selectors.payout_methods_for(user))
    usable = [m for m in methods if m.is_usable()]
    schedule = selectors.payout_schedule_for(user)
    context: dict[str, object] = {
        "summary": selectors.balance_summary(user),
        "methods": methods,
        "usable_methods": usable,
        "payouts": list(selectors.payouts_for(user)[:10]),
        "schedule": schedule,
        "gateway": get_gateway(),
        "delay_days": settings.NEW_PAYOUT_METHOD_DELAY_DAYS,
        "withdraw_form": WithdrawForm(methods=usable),
        "schedule_form": ScheduleForm(
            methods=usable, initial={"frequency": schedule.frequency, "method": schedule.method_id}
        ),
    }
    context.update(forms_)
    return context


@login_required
@require_GET
def balance(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_freelancer:
        messages.info(request, "Balances are for freelancers; here are your payments as a client.")
        return redirect("payments:billing")
    return render(request, "payments/balance.html", _balance_context(request))


@login_required
@require_POST
def withdraw(request: AuthedRequest) -> HttpResponse:
    usable = selectors.usable_payout_methods(request.user)
    form = WithdrawForm(request.POST, methods=usable)
    if form.is_valid():
        try:
            payout = services.payout_request(
                actor=request.user,
                amount_cents=form.cleaned_data["amount"],
                method_id=form.cleaned_data["method"],
                idempotency_key=f"form:{form.cleaned_data['request_token']}",
            )
            messages.success(
                request, f"Withdrawal of {format_cents(payout.amount_cents)} requested to {payout.method}."
            )
            return redirect("payments:balance")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(request, "payments/balance.html", _balance_context(request, withdraw_form=form), status=400)


@login_required
@require_POST
def schedule(request: AuthedRequest) -> HttpResponse:
    usable = selectors.usable_payout_methods(request.user)
    form = ScheduleForm(request.POST, methods=usable)
    if form.is_valid():
        try:
            saved = services.payout_schedule_set(
                actor=request.user,
                frequency=form.cleaned_data["frequency"],
                method_id=form.cleaned_data["method"],
            )
            messages.success(request, f"Automatic withdrawals: {saved.get_frequency_display()}.")
            return redirect("payments:balance")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(request, "payments/balance.html", _balance_context(request, schedule_form=form), status=400)


@login_required
@reauthentication_required
def payout_method_add_bank(request: AuthedRequest) -> HttpResponse:
    form = BankAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            method = services.payout_method_add_bank_account(actor=request.user, **form.cleaned_data)
            messages.success(
                request, f"Added {method}. It can receive withdrawals from {method.usable_after:%b %d, %Y}."
            )
            return redirect("payments:balance")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(
        request,
        "payments/payout_method_bank.html",
        {"form": form, "delay_days": settings.NEW_PAYOUT_METHOD_DELAY_DAYS},
    )


@login_required
@require_POST
@reauthentication_required
def payout_method_connect_stripe(request: AuthedRequest) -> HttpResponse:
    try:
        _, url = services.payout_method_connect_stripe(
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("payments:stripe_return")),
            refresh_url=request.build_absolute_uri(reverse("payments:balance")),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("payments:balance")
    messages.success(request, "Finish setting up your Stripe account to receive withdrawals.")
    return redirect(url)


@login_required
@require_GET
def payout_method_stripe_return(request: AuthedRequest) -> HttpResponse:
    """Back from Stripe's onboarding: ask Stripe for the account's state (the webhook will
    tell us too)."""
    method = selectors.payout_methods_for(request.user).filter(kind="stripe_connect").first()
    if method is None:
        messages.info(request, "No Stripe account is connected yet.")
        return redirect("payments:balance")
    try:
        account = get_gateway(method.gateway).connected_account_retrieve(account_id=method.gateway_account_id)
        services.payout_method_sync_account(
            account_id=account.account_id,
            details_submitted=account.details_submitted,
            payouts_enabled=account.payouts_enabled,
        )
    except Exception as error:  # the webhook will bring the state later
        log.warning("stripe account retrieve failed: %s", error)
    method.refresh_from_db()
    if method.status == "active":
        messages.success(request, "Your Stripe account is ready to receive withdrawals.")
    else:
        messages.info(
            request, "Stripe is still checking your details; we will tell you when payouts are enabled."
        )
    return redirect("payments:balance")


@login_required
@require_POST
@reauthentication_required
def payout_method_remove(request: AuthedRequest, method_id: int) -> HttpResponse:
    method = services.payout_method_remove(actor=request.user, method_id=method_id)
    messages.success(request, f"Removed {method}.")
    return redirect("payments:balance")


# --- client: cards and payments -----------------------------------------------------------------


def _billing_context(request: AuthedRequest, **extra: object) -> dict[str, object]:
    charges = Paginator(selectors.charges_for(request.user), 20).get_page(request.GET.get("page"))
    context: dict[str, object] = {
        "cards": list(selectors.cards_for(request.user)),
        "page": charges,
        "card_form": CardForm(),
        "gateway": get_gateway(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def billing(request: AuthedRequest) -> HttpResponse:
    return render(request, "payments/billing.html", _billing_context(request))


@login_required
@require_POST
def card_add(request: AuthedRequest) -> HttpResponse:
    form = CardForm(request.POST)
    if form.is_valid():
        try:
            card = services.payment_method_add(
                actor=request.user,
                card=CardInput(
                    number=form.cleaned_data["number"],
                    exp_month=form.cleaned_data["exp_month"],
                    exp_year=form.cleaned_data["exp_year"],
                    cvc=form.cleaned_data["cvc"],
                ),
            )
            messages.success(request, f"Saved your {card}. You are now payment verified.")
            return redirect("payments:billing")
        except ApplicationError as error:
            add_application_error(form, error)
    return render(request, "payments/billing.html", _billing_context(request, card_form=form), status=400)


@login_required
@require_POST
def card_remove(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = services.payment_method_remove(actor=request.user, method_id=card_id)
    messages.success(request, f"Removed your {card}.")
    return redirect("payments:billing")


@login_required
@require_POST
def card_default(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = services.payment_method_set_default(actor=request.user, method_id=card_id)
    messages.success(request, f"Your {card} is now the default card.")
    return redirect("payments:billing")


# --- history ---------------------------------------------------------------------------------------


def _filters(form: TransactionFilterForm) -> history.Filters:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return history.Filters(
        type=data.get("type") or "",
        account=data.get("account") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming csv.writer)."""

    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["date", "balance", "description", "reference", "amount", "available_at", "type"]


def _csv_lines(request: AuthedRequest, filters: history.Filters) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in history.iter_movements(request.user, filters):
        yield writer.writerow(
            [
                row.at.isoformat(),
                row.account_label,
                _csv_safe(row.description),
                _csv_safe(row.reference),
                _decimal(row.amount_cents),
                row.available_at.isoformat() if row.available_at else "",
                row.type,
            ]
        )


@login_required
@require_GET
def transactions(request: AuthedRequest) -> HttpResponse | StreamingHttpResponse:
    """Every money movement of the user (both roles), filtered, paginated; ``format=csv``
    streams the same rows as decimal amounts."""
    form = TransactionFilterForm(request.GET or None)
    filters = _filters(form)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(_csv_lines(request, filters), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
        return response
    page = Paginator(history.movement_keys(request.user, filters), 25).get_page(request.GET.get("page"))
    rows = history.hydrate(request.user, page.object_list, filters)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/transactions.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


# --- invoices and statements -------------------------------------------------------------------


@login_required
@require_GET
def invoice_list(request: AuthedRequest) -> HttpResponse:
    page = Paginator(history.invoices_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "payments/invoice_list.html", {"page": page})


@login_required
@require_GET
def receipt(request: AuthedRequest, kind: str, source_id: int) -> HttpResponse:
    """Issue (once) the numbered invoice of a payment, release or withdrawal and show it.
    Someone else's record is a 404."""
    invoice = services.invoice_issue(actor=request.user, kind=kind, source_id=source_id)
    return redirect("payments:invoice", number=invoice.number)


@login_required
@require_GET
def invoice_detail(request: AuthedRequest, number: str) -> HttpResponse:
    invoice = selectors.invoice_get_for_user(request.user, number)
    if invoice is None:
        raise Http404("No such invoice.")
    return render(
        request,
        "payments/invoice.html",
        {"invoice": invoice, "doc": selectors.invoice_document(invoice), "site_name": settings.SITE_NAME},
    )


@login_required
@require_GET
def statement_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "payments/statement_list.html", {"months": history.statement_months(request.user)})


@login_required
@require_GET
def statement(request: AuthedRequest, year: int, month: int) -> HttpResponse:
    if not (1 <= month <= 12 and 2000 <= year <= 2999):
        raise Http404("No such month.")
    data = history.statement_for(request.user, year, month)
    return render(request, "payments/statement.html", {"statement": data, "site_name": settings.SITE_NAME})


def _decimal(cents: int) -> str:
    """``-1234`` -> ``-12.34`` without floats."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _csv_safe(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


# --- Stripe webhooks -----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature, store the event once, answer fast; processing is a task."""
    try:
        event, created = webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except WebhookRejected as error:
        log.warning("stripe webhook rejected: %s", error)
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"received": event.event_id, "duplicate": not created})
