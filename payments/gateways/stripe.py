"""The Stripe gateway: the official SDK through a ``StripeClient``.

Connect with separate charges and transfers: the client's card is charged on the
platform (a PaymentIntent confirmed off-session with a saved card, metadata purpose and
reference, a transfer group chosen by the caller); freelancers get Express connected
accounts; withdrawals are a Transfer to the connected account and a Payout from it.

Every POST carries the caller's deterministic idempotency key (the SDK reuses it for its
own network retries). ``STRIPE_API_BASE`` points the SDK at the fake server in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import stripe
from django.conf import settings

from .base import (
    CardInput,
    ChargeResult,
    ConnectedAccount,
    Gateway,
    GatewayError,
    PayoutDestination,
    PayoutResult,
    RefundResult,
    ReversalResult,
    SavedCard,
    TransferResult,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_LATER = "We could not reach the payment provider. Nothing was charged twice; try again in a moment."


def map_error(error: stripe.StripeError) -> GatewayError:
    """A user-readable ``GatewayError`` for an SDK exception, with whether to retry."""
    status = error.http_status
    if isinstance(error, stripe.CardError):
        return GatewayError(
            error.user_message or "Your card was declined.",
            retryable=False,
            code=error.code or "card_error",
            http_status=status,
        )
    if isinstance(error, stripe.IdempotencyError):
        return GatewayError(
            "This payment request conflicts with an earlier one; it was not sent again.",
            retryable=False,
            code="idempotency_error",
            http_status=status,
        )
    if isinstance(error, stripe.RateLimitError):
        return GatewayError(
            "The payment provider is busy; try again in a moment.",
            retryable=True,
            code="rate_limited",
            http_status=status,
        )
    if isinstance(error, stripe.APIConnectionError):
        return GatewayError(RETRY_LATER, retryable=True, code="provider_unreachable", http_status=status)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        log.error("stripe configuration error: %s", error)
        return GatewayError(
            "Payments are not configured correctly; our team has been told.",
            retryable=False,
            code="provider_configuration",
            http_status=status,
        )
    if isinstance(error, stripe.InvalidRequestError):
        detail = error.user_message or str(getattr(error.error, "message", "") or "") or "invalid request"
        return GatewayError(
            f"The payment provider refused the request: {detail}",
            retryable=False,
            code=str(error.code or "invalid_request"),
            http_status=status,
        )
    if isinstance(error, stripe.APIError) or (status is not None and status >= 500):
        return GatewayError(
            "The payment provider had a problem; try again in a moment.",
            retryable=True,
            code="provider_error",
            http_status=status,
        )
    return GatewayError(
        "The payment provider refused the request.",
        retryable=False,
        code="provider_error",
        http_status=status,
    )


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except stripe.StripeError as error:
        raise map_error(error) from error


def _opts(key: str, **extra: Any) -> Any:
    if not key:
        raise ValueError("every Stripe POST needs our idempotency key")
    return {"idempotency_key": key, **extra}


def _payout_result(payout: Any) -> PayoutResult:
    status = str(payout.status)
    if status == "paid":
        return PayoutResult(status="paid", payout_id=payout.id)
    if status in ("failed", "canceled"):
        return PayoutResult(
            status="failed",
            payout_id=payout.id,
            failure_message=str(getattr(payout, "failure_message", "") or "The bank refused the payout."),
        )
    return PayoutResult(status="pending", payout_id=payout.id)


def _account(account: Any) -> ConnectedAccount:
    return ConnectedAccount(
        account_id=account.id,
        details_submitted=bool(getattr(account, "details_submitted", False)),
        payouts_enabled=bool(getattr(account, "payouts_enabled", False)),
        charges_enabled=bool(getattr(account, "charges_enabled", False)),
    )


class StripeGateway(Gateway):
    name = "stripe"
    accepts_card_numbers = False
    supports_bank_accounts = False

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout_seconds: float | None = None,
        max_network_retries: int | None = None,
    ):
        key = api_key if api_key is not None else settings.STRIPE_SECRET_KEY
        if not key:
            raise GatewayError(
                "Payments are not configured (STRIPE_SECRET_KEY is empty).",
                retryable=False,
                code="provider_configuration",
            )
        base = (api_base or settings.STRIPE_API_BASE).rstrip("/")
        self.client = stripe.StripeClient(
            key,
            base_addresses={"api": base, "connect": base, "files": base},
            max_network_retries=(
                max_network_retries
                if max_network_retries is not None
                else settings.STRIPE_MAX_NETWORK_RETRIES
            ),
            http_client=stripe.RequestsClient(
                timeout=timeout_seconds if timeout_seconds is not None else settings.STRIPE_TIMEOUT_SECONDS
            ),
        )

    # --- customers and cards -------------------------------------------------------------

    def customer_create(self, *, user_id: int, email: str, idempotency_key: str) -> str:
        customer = _call(
            lambda: self.client.v1.customers.create(
                params={"email": email, "metadata": {"user_id": str(user_id)}}, options=_opts(idempotency_key)
            )
        )
        return customer.id

    def card_save(self, *, customer_id: str, card: CardInput, idempotency_key: str) -> SavedCard:
        if not card.token:
            raise GatewayError(
                "Card details go to Stripe from the browser; send the payment method token.",
                retryable=False,
                code="token_required",
            )
        method = _call(
            lambda: self.client.v1.payment_methods.attach(
                card.token, params={"customer": customer_id}, options=_opts(f"{idempotency_key}:attach")
            )
        )
        setup = _call(
            lambda: self.client.v1.setup_intents.create(
                params={
                    "customer": customer_id,
                    "payment_method": method.id,
                    "confirm": True,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                },  # type: ignore[arg-type]
                options=_opts(f"{idempotency_key}:setup"),
            )
        )
        if setup.status != "succeeded":
            error = getattr(setup, "last_setup_error", None)
            raise GatewayError(
                str(getattr(error, "message", "") or "The card could not be set up."),
                retryable=False,
                code="setup_failed",
            )
        details = method.card
        return SavedCard(
            payment_method_id=method.id,
            brand=str(getattr(details, "brand", "card") or "card"),
            last4=str(getattr(details, "last4", "") or ""),
            exp_month=getattr(details, "exp_month", None),
            exp_year=getattr(details, "exp_year", None),
        )

    def card_remove(self, *, payment_method_id: str, idempotency_key: str) -> None:
        _call(
            lambda: self.client.v1.payment_methods.detach(payment_method_id, options=_opts(idempotency_key))
        )

    # --- money in ------------------------------------------------------------------------

    def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_cents: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
        transfer_group: str,
        idempotency_key: str,
    ) -> ChargeResult:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "confirm": True,
            "off_session": True,
            "metadata": metadata,
        }
        if description:
            params["description"] = description
        if transfer_group:
            params["transfer_group"] = transfer_group
        try:
            intent = self.client.v1.payment_intents.create(params=params, options=_opts(idempotency_key))  # type: ignore[arg-type]
        except stripe.CardError as error:
            failed = getattr(error.error, "payment_intent", None)
            return ChargeResult(
                status="failed",
                payment_id=str(getattr(failed, "id", "") or ""),
                failure_code=str(getattr(error.error, "decline_code", "") or error.code or "card_declined"),
                failure_message=error.user_message or "Your card was declined.",
            )
        except stripe.StripeError as error:
            raise map_error(error) from error
        charge_id = str(getattr(intent, "latest_charge", "") or "")
        if intent.status == "succeeded":
            return ChargeResult(status="succeeded", payment_id=intent.id, charge_id=charge_id)
        if intent.status == "processing":
            return ChargeResult(status="processing", payment_id=intent.id, charge_id=charge_id)
        last_error = getattr(intent, "last_payment_error", None)
        return ChargeResult(
            status="failed",
            payment_id=intent.id,
            failure_code=str(getattr(last_error, "code", "") or intent.status),
            failure_message=str(
                getattr(last_error, "message", "")
                or "The payment needs the card holder's action; use another card."
            ),
        )

    def refund(
        self, *, payment_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult:
        refund = _call(
            lambda: self.client.v1.refunds.create(
                params={"payment_intent": payment_id, "amount": amount_cents, "metadata": metadata},
                options=_opts(idempotency_key),
            )
        )
        status = str(refund.status)
        if status == "succeeded":
            return RefundResult(status="succeeded", refund_id=refund.id)
        if status in ("failed", "canceled"):
            return RefundResult(
                status="failed",
                refund_id=refund.id,
                failure_message=str(getattr(refund, "failure_reason", "") or "The refund failed."),
            )
        return RefundResult(status="pending", refund_id=refund.id)

    # --- money out -----------------------------------------------------------------------

    def transfer(
        self,
        *,
        destination: str,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> TransferResult:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "destination": destination,
            "metadata": metadata,
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        transfer = _call(
            lambda: self.client.v1.transfers.create(params=params, options=_opts(idempotency_key))  # type: ignore[arg-type]
        )
        return TransferResult(transfer_id=transfer.id, amount_cents=int(transfer.amount))

    def transfer_reverse(
        self, *, transfer_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> ReversalResult:
        reversal = _call(
            lambda: self.client.v1.transfers.reversals.create(
                transfer_id,
                params={"amount": amount_cents, "metadata": metadata},
                options=_opts(idempotency_key),
            )
        )
        return ReversalResult(
            reversal_id=reversal.id, transfer_id=transfer_id, amount_cents=int(reversal.amount)
        )

    def payout(
        self,
        *,
        destination: PayoutDestination,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PayoutResult:
        if destination.kind != "stripe_connect" or not destination.account_id:
            raise GatewayError(
                "Payouts through Stripe go to a connected Stripe account.",
                retryable=False,
                code="unsupported",
            )
        payout = _call(
            lambda: self.client.v1.payouts.create(
                params={"amount": amount_cents, "currency": currency.lower(), "metadata": metadata},
                options=_opts(idempotency_key, stripe_account=destination.account_id),
            )
        )
        return _payout_result(payout)

    def payout_retrieve(self, *, payout_id: str, destination: PayoutDestination) -> PayoutResult:
        payout = _call(
            lambda: self.client.v1.payouts.retrieve(
                payout_id, options={"stripe_account": destination.account_id}
            )
        )
        return _payout_result(payout)

    # --- connected accounts --------------------------------------------------------------

    def connected_account_create(
        self, *, user_id: int, email: str, country: str, idempotency_key: str
    ) -> ConnectedAccount:
        account = _call(
            lambda: self.client.v1.accounts.create(
                params={
                    "type": "express",
                    "country": country,
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": {"user_id": str(user_id)},
                },
                options=_opts(idempotency_key),
            )
        )
        return _account(account)

    def connected_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        link = _call(
            lambda: self.client.v1.account_links.create(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                },
                options=_opts(idempotency_key),
            )
        )
        return str(link.url)

    def connected_account_retrieve(self, *, account_id: str) -> ConnectedAccount:
        return _account(_call(lambda: self.client.v1.accounts.retrieve(account_id)))
