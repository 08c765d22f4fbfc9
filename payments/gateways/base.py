"""The small interface every payment gateway implements.

Every method that makes something happen at the provider takes OUR idempotency key,
derived by the caller from what is being done (purpose, reference, attempt), never random,
so a retried call after a timeout or a lost response has the effect once.

Outcomes the user must hear about (a declined card) are results; failures to get an
answer are ``GatewayError`` with ``retryable`` telling whether trying again with the same
key may succeed.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Literal


class GatewayError(Exception):
    """The provider could not do it, or we could not tell. ``message`` is user-readable."""

    def __init__(
        self, message: str, *, retryable: bool, code: str = "gateway_error", http_status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        self.http_status = http_status


@dataclass(frozen=True)
class CardInput:
    """What the client typed (local gateway) or a provider token (``pm_...``)."""

    number: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str = ""
    token: str = ""


@dataclass(frozen=True)
class SavedCard:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class ChargeResult:
    status: Literal["succeeded", "processing", "failed"]
    payment_id: str = ""
    charge_id: str = ""
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class RefundResult:
    status: Literal["succeeded", "pending", "failed"]
    refund_id: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class TransferResult:
    transfer_id: str
    amount_cents: int


@dataclass(frozen=True)
class ReversalResult:
    reversal_id: str
    transfer_id: str
    amount_cents: int


@dataclass(frozen=True)
class PayoutDestination:
    kind: Literal["bank_account", "stripe_connect"]
    account_id: str = ""  # the connected account (stripe_connect)
    last4: str = ""  # the bank account's last digits (bank_account)


@dataclass(frozen=True)
class PayoutResult:
    status: Literal["paid", "pending", "failed"]
    payout_id: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class ConnectedAccount:
    account_id: str
    details_submitted: bool = False
    payouts_enabled: bool = False
    charges_enabled: bool = False


@dataclass
class Operation:
    """One thing a gateway was asked to do (kept by the local gateway for tests)."""

    kind: str
    idempotency_key: str
    params: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    replayed: bool = False


class Gateway(abc.ABC):
    name: str = ""
    # The local gateway takes card numbers; Stripe only provider tokens (from Stripe.js).
    accepts_card_numbers: bool = False
    # Whether payouts go straight to a bank account record (local) or need Connect.
    supports_bank_accounts: bool = False

    @abc.abstractmethod
    def customer_create(self, *, user_id: int, email: str, idempotency_key: str) -> str: ...

    @abc.abstractmethod
    def card_save(self, *, customer_id: str, card: CardInput, idempotency_key: str) -> SavedCard:
        """Attach the card to the customer and set it up for later off-session charges."""

    @abc.abstractmethod
    def card_remove(self, *, payment_method_id: str, idempotency_key: str) -> None: ...

    @abc.abstractmethod
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
    ) -> ChargeResult: ...

    @abc.abstractmethod
    def refund(
        self, *, payment_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult: ...

    @abc.abstractmethod
    def transfer(
        self,
        *,
        destination: str,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> TransferResult: ...

    @abc.abstractmethod
    def transfer_reverse(
        self, *, transfer_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> ReversalResult: ...

    @abc.abstractmethod
    def payout(
        self,
        *,
        destination: PayoutDestination,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PayoutResult:
        """Pay out to a bank (local) or from a connected account's balance to its bank."""

    @abc.abstractmethod
    def payout_retrieve(self, *, payout_id: str, destination: PayoutDestination) -> PayoutResult: ...

    @abc.abstractmethod
    def connected_account_create(
        self, *, user_id: int, email: str, country: str, idempotency_key: str
    ) -> ConnectedAccount: ...

    @abc.abstractmethod
    def connected_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        """A one-time URL where the freelancer completes the provider's onboarding."""

    @abc.abstractmethod
    def connected_account_retrieve(self, *, account_id: str) -> ConnectedAccount: ...
