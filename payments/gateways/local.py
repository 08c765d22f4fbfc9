"""The in-process gateway: no network, Stripe-like test cards, deterministic ids.

Test cards (any future expiry, any 3-digit CVC):

- ``4242 4242 4242 4242`` (Visa) and ``5555 5555 5555 4444`` (Mastercard): succeed;
- ``4000 0000 0000 0002``: declined, "Your card was declined.";
- ``4000 0000 0000 9995``: declined, "Your card has insufficient funds.";
- any other number passing the Luhn check succeeds.

Stripe's test tokens work too (``pm_card_visa``, ``pm_card_chargeDeclined``,
``pm_card_chargeDeclinedInsufficientFunds``, ``pm_card_mastercard``).

Ids are derived from the idempotency key, and what a card does is written into its id
(``pm_local_declined_visa_0002_...``), so the gateway needs no storage and behaves the
same after a restart. Within a process it replays a key's first result and refuses a key
reused with other parameters, like Stripe; ``operations()`` lists what it was asked.

Payouts to a bank account whose last four digits are ``1116`` fail (no such account),
``1113`` fail (account closed); others are paid at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import date
from typing import Any

from .base import (
    CardInput,
    ChargeResult,
    ConnectedAccount,
    Gateway,
    GatewayError,
    Operation,
    PayoutDestination,
    PayoutResult,
    RefundResult,
    ReversalResult,
    SavedCard,
    TransferResult,
)

DECLINED_MESSAGE = "Your card was declined."
INSUFFICIENT_MESSAGE = "Your card has insufficient funds."

# number -> (outcome, brand)
TEST_CARDS = {
    "4242424242424242": ("ok", "visa"),
    "5555555555554444": ("ok", "mastercard"),
    "4000000000000002": ("declined", "visa"),
    "4000000000009995": ("nofunds", "visa"),
}
TEST_TOKENS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
}
FAILING_BANK_LAST4 = {
    "1116": "The bank account does not exist; check the account number.",
    "1113": "The bank account is closed.",
}
_PM_RE = re.compile(r"^pm_local_(ok|declined|nofunds)_([a-z]+)_(\d{4})_[0-9a-f]+$")

_lock = threading.Lock()
_results: dict[str, tuple[str, str, Any]] = {}  # key -> (kind, fingerprint, result)
_operations: list[Operation] = []


def operations(kind: str | None = None) -> list[Operation]:
    """What the local gateway was asked to do in this process (tests assert on it)."""
    with _lock:
        return [op for op in _operations if kind is None or op.kind == kind]


def reset() -> None:
    with _lock:
        _results.clear()
        _operations.clear()


def _digest(text: str, size: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "card"


class LocalGateway(Gateway):
    name = "local"
    accepts_card_numbers = True
    supports_bank_accounts = True

    def _once(self, kind: str, key: str, params: dict[str, Any], make):
        """Run ``make()`` once per key; replay its result (or its error) afterwards."""
        fingerprint = _digest(json.dumps([kind, params], sort_keys=True, default=str), 64)
        with _lock:
            stored = _results.get(key)
            if stored is not None:
                if stored[0] != kind or stored[1] != fingerprint:
                    raise GatewayError(
                        "This request conflicts with an earlier one using the same idempotency key.",
                        retryable=False,
                        code="idempotency_error",
                    )
                _operations.append(Operation(kind, key, params, stored[2], replayed=True))
                result = stored[2]
            else:
                try:
                    result = make()
                except GatewayError as error:
                    result = error
                _results[key] = (kind, fingerprint, result)
                _operations.append(Operation(kind, key, params, result))
        if isinstance(result, GatewayError):
            raise result
        return result

    # --- customers and cards -------------------------------------------------------------

    def customer_create(self, *, user_id: int, email: str, idempotency_key: str) -> str:
        return self._once(
            "customer_create",
            idempotency_key,
            {"user_id": user_id, "email": email},
            lambda: f"cus_local_{_digest(idempotency_key)}",
        )

    def card_save(self, *, customer_id: str, card: CardInput, idempotency_key: str) -> SavedCard:
        number = TEST_TOKENS.get(card.token, "") if card.token else re.sub(r"[\s-]", "", card.number)
        if card.token and not number:
            raise GatewayError("Unknown card token.", retryable=False, code="invalid_token")
        params = {"customer": customer_id, "last4": number[-4:], "fingerprint": _digest(number)}

        def make() -> SavedCard:
            if (
                not (number.isascii() and number.isdigit())
                or not 12 <= len(number) <= 19
                or not luhn_ok(number)
            ):
                raise GatewayError("Your card number is incorrect.", retryable=False, code="incorrect_number")
            if not card.token:
                today = date.today()
                if card.exp_month is None or card.exp_year is None or not 1 <= card.exp_month <= 12:
                    raise GatewayError(
                        "Your card's expiration date is incorrect.", retryable=False, code="invalid_expiry"
                    )
                if (card.exp_year, card.exp_month) < (today.year, today.month):
                    raise GatewayError("Your card has expired.", retryable=False, code="expired_card")
                if not re.fullmatch(r"\d{3,4}", card.cvc or ""):
                    raise GatewayError(
                        "Your card's security code is incorrect.", retryable=False, code="incorrect_cvc"
                    )
            outcome, brand = TEST_CARDS.get(number, ("ok", card_brand(number)))
            last4 = number[-4:]
            return SavedCard(
                payment_method_id=f"pm_local_{outcome}_{brand}_{last4}_{_digest(idempotency_key)}",
                brand=brand,
                last4=last4,
                exp_month=card.exp_month or 12,
                exp_year=card.exp_year or date.today().year + 3,
            )

        return self._once("card_save", idempotency_key, params, make)

    def card_remove(self, *, payment_method_id: str, idempotency_key: str) -> None:
        self._once("card_remove", idempotency_key, {"payment_method": payment_method_id}, lambda: None)

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
        params = {
            "customer": customer_id,
            "payment_method": payment_method_id,
            "amount": amount_cents,
            "currency": currency,
            "metadata": metadata,
            "transfer_group": transfer_group,
        }

        def make() -> ChargeResult:
            match = _PM_RE.match(payment_method_id)
            if match is None:
                raise GatewayError(
                    "This card is not known to the gateway.", retryable=False, code="no_such_card"
                )
            payment_id = f"pi_local_{_digest(idempotency_key)}"
            outcome = match.group(1)
            if outcome == "declined":
                return ChargeResult(
                    status="failed",
                    payment_id=payment_id,
                    failure_code="card_declined",
                    failure_message=DECLINED_MESSAGE,
                )
            if outcome == "nofunds":
                return ChargeResult(
                    status="failed",
                    payment_id=payment_id,
                    failure_code="insufficient_funds",
                    failure_message=INSUFFICIENT_MESSAGE,
                )
            return ChargeResult(
                status="succeeded", payment_id=payment_id, charge_id=f"ch_local_{_digest(idempotency_key)}"
            )

        return self._once("charge", idempotency_key, params, make)

    def refund(
        self, *, payment_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult:
        params = {"payment": payment_id, "amount": amount_cents, "metadata": metadata}
        return self._once(
            "refund",
            idempotency_key,
            params,
            lambda: RefundResult(status="succeeded", refund_id=f"re_local_{_digest(idempotency_key)}"),
        )

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
        params = {
            "destination": destination,
            "amount": amount_cents,
            "currency": currency,
            "metadata": metadata,
        }
        return self._once(
            "transfer",
            idempotency_key,
            params,
            lambda: TransferResult(
                transfer_id=f"tr_local_{_digest(idempotency_key)}", amount_cents=amount_cents
            ),
        )

    def transfer_reverse(
        self, *, transfer_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> ReversalResult:
        params = {"transfer": transfer_id, "amount": amount_cents, "metadata": metadata}
        return self._once(
            "transfer_reverse",
            idempotency_key,
            params,
            lambda: ReversalResult(
                reversal_id=f"trr_local_{_digest(idempotency_key)}",
                transfer_id=transfer_id,
                amount_cents=amount_cents,
            ),
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
        params = {
            "destination": [destination.kind, destination.account_id, destination.last4],
            "amount": amount_cents,
            "currency": currency,
            "metadata": metadata,
        }

        def make() -> PayoutResult:
            payout_id = f"po_local_{_digest(idempotency_key)}"
            failure = (
                FAILING_BANK_LAST4.get(destination.last4) if destination.kind == "bank_account" else None
            )
            if failure:
                return PayoutResult(status="failed", payout_id=payout_id, failure_message=failure)
            return PayoutResult(status="paid", payout_id=payout_id)

        return self._once("payout", idempotency_key, params, make)

    def payout_retrieve(self, *, payout_id: str, destination: PayoutDestination) -> PayoutResult:
        with _lock:
            for op in _operations:
                if (
                    op.kind == "payout"
                    and isinstance(op.result, PayoutResult)
                    and op.result.payout_id == payout_id
                ):
                    return op.result
        return PayoutResult(status="paid", payout_id=payout_id)

    # --- connected accounts --------------------------------------------------------------

    def connected_account_create(
        self, *, user_id: int, email: str, country: str, idempotency_key: str
    ) -> ConnectedAccount:
        return self._once(
            "account_create",
            idempotency_key,
            {"user_id": user_id, "email": email, "country": country},
            lambda: ConnectedAccount(
                account_id=f"acct_local_{_digest(idempotency_key)}",
                details_submitted=True,
                payouts_enabled=True,
                charges_enabled=True,
            ),
        )

    def connected_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        # Nothing to fill in locally: the link goes straight back.
        return self._once(
            "account_link",
            idempotency_key,
            {"account": account_id, "refresh_url": refresh_url, "return_url": return_url},
            lambda: return_url,
        )

    def connected_account_retrieve(self, *, account_id: str) -> ConnectedAccount:
        return ConnectedAccount(
            account_id=account_id, details_submitted=True, payouts_enabled=True, charges_enabled=True
        )
