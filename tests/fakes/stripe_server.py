"""A fake Stripe API on loopback, for tests that drive the real ``stripe`` SDK.

It implements what the marketplace's gateway uses: customers, payment methods (attach,
detach, retrieve), setup intents, payment intents (create with confirm, confirm,
retrieve), refunds, transfers and their reversals, Express accounts, account links and
payouts on connected accounts (``Stripe-Account`` header). Requests are form-encoded and
parsed like Stripe parses them (``metadata[purpose]=...``, ``expand[0]=...``); answers are
JSON shaped like Stripe objects and errors like Stripe errors.

Idempotency works like Stripe's: a POST with an ``Idempotency-Key`` seen before with the
same parameters gets the stored answer again (``Idempotent-Replayed: true``) and no new
effect; with other parameters a 400 ``idempotency_error``. Keys are scoped per account.

Test cards: ``4242424242424242`` / ``pm_card_visa`` succeed; ``4000000000000002`` /
``pm_card_chargeDeclined`` decline ("Your card was declined."); ``4000000000009995`` /
``pm_card_chargeDeclinedInsufficientFunds`` decline for insufficient funds.

Faults for the next matching request (``fail_next``): ``"timeout"`` (the effect happens,
the answer comes too late for the client), ``"error_500"`` (no effect, HTTP 500),
``"lost"`` (the effect happens, the connection is dropped before any answer) and
``"hang"`` (the request is logged on arrival and held ``delay`` seconds, or until
``release_held()``, before it reaches the API: the effect happens after the hold, even
when the client has gone meanwhile; like Stripe, another POST with the same key meanwhile
gets a 409 ``idempotency_key_in_use``).

Events that Stripe would send are collected in ``events``; ``make_event``, ``sign`` and
``send_webhook`` build and deliver correctly signed webhooks
(``Stripe-Signature: t=...,v1=HMAC-SHA256(secret, f"{t}.{payload}")``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_fake_marketplace"
WEBHOOK_SECRET = "whsec_test_fake_marketplace"
API_VERSION = "2025-01-27.acacia"

# number -> (outcome, brand); outcome: ok | declined | insufficient
CARDS = {
    "4242424242424242": ("ok", "visa"),
    "5555555555554444": ("ok", "mastercard"),
    "4000000000000002": ("declined", "visa"),
    "4000000000009995": ("insufficient", "visa"),
    # charges succeed; a refund starts pending / succeeded and fails later (``settle_refund``)
    "4000000000007726": ("refund_pending", "visa"),
    "4000000000005126": ("refund_fail", "visa"),
}
TOKENS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_pendingRefund": "4000000000007726",
    "pm_card_refundFail": "4000000000005126",
}
DECLINES = {
    "declined": ("generic_decline", "Your card was declined."),
    "insufficient": ("insufficient_funds", "Your card has insufficient funds."),
}


class StripeFault(Exception):
    """An error answer: HTTP status and Stripe's error object."""

    def __init__(self, status: int, error: dict[str, Any]):
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error


def invalid(message: str, *, param: str = "", code: str = "") -> StripeFault:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return StripeFault(400, error)


def missing(kind: str, object_id: str, param: str = "id") -> StripeFault:
    return StripeFault(
        404,
        {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such {kind}: '{object_id}'",
            "param": param,
        },
    )


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0]=x`` -> ``{"a": {"b": ["x"]}}``, as Stripe reads form bodies."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, *rest = re.findall(r"[^\[\]]+|\[\]", key) or [key]
        parts = [head, *rest]
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "[]":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _lists(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def _bool(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _int(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {raw}", param=name)


@dataclass
class Fault:
    kind: str  # timeout | error_500 | lost | hang
    path: str | None = None
    delay: float = 4.0
    released: threading.Event = field(default_factory=threading.Event)  # ends a "hang" early


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str
    account: str
    status: int = 0
    replayed: bool = False
    fault: str = ""


@dataclass
class State:
    customers: dict[str, dict] = field(default_factory=dict)
    payment_methods: dict[str, dict] = field(default_factory=dict)
    setup_intents: dict[str, dict] = field(default_factory=dict)
    payment_intents: dict[str, dict] = field(default_factory=dict)
    charges: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    transfers: dict[str, dict] = field(default_factory=dict)
    reversals: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    account_links: list[dict] = field(default_factory=list)
    payouts: dict[str, dict] = field(default_factory=dict)
    # Balances in cents: the platform's available balance and each connected account's.
    platform_balance: int = 0
    account_balances: dict[str, int] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[str, str, str, int, dict]] = field(default_factory=dict)
    card_numbers: dict[str, str] = field(default_factory=dict)  # pm id -> number
    counters: dict[str, int] = field(default_factory=dict)


class FakeStripe:
    """The server and its state. ``start()`` it, point ``STRIPE_API_BASE`` at ``url``."""

    api_key = API_KEY
    webhook_secret = WEBHOOK_SECRET

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.state = State()
        self.events: list[dict] = []
        self.requests: list[LoggedRequest] = []
        self.faults: deque[Fault] = deque()
        self.in_flight: set[tuple[str, str]] = set()  # (account, idempotency key) held by "hang"
        self.held: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.state = State()
            self.events.clear()
            self.requests.clear()
            self.faults.clear()
            self.in_flight.clear()
            for fault in self.held:
                fault.released.set()
            self.held.clear()

    # --- test controls ----------------------------------------------------------------------

    def fail_next(self, kind: str, *, path: str | None = None, delay: float = 4.0) -> None:
        """The next request (to a path starting with ``path``) suffers ``kind``."""
        if kind not in ("timeout", "error_500", "lost", "hang"):
            raise ValueError(kind)
        with self.lock:
            self.faults.append(Fault(kind, path, delay))

    def release_held(self) -> None:
        """Let the requests held by ``"hang"`` faults go through now."""
        with self.lock:
            for fault in self.held:
                fault.released.set()
            self.held.clear()

    def top_up(self, amount_cents: int) -> None:
        """Add to the platform's available balance (as if earlier charges had settled)."""
        with self.lock:
            self.state.platform_balance += amount_cents

    def complete_onboarding(self, account_id: str, *, payouts_enabled: bool = True) -> dict:
        """The freelancer finished Express onboarding; emits ``account.updated``."""
        with self.lock:
            account = self.state.accounts[account_id]
            account.update(
                details_submitted=True,
                payouts_enabled=payouts_enabled,
                charges_enabled=payouts_enabled,
                capabilities={"transfers": "active" if payouts_enabled else "inactive"},
            )
            self._emit("account.updated", account, account=account_id)
            return copy.deepcopy(account)

    def settle_payout(self, payout_id: str, status: str, *, failure_message: str = "") -> dict:
        """The bank answered a connected account's payout: emits ``payout.paid|failed``."""
        with self.lock:
            payout = self.state.payouts[payout_id]
            payout["status"] = status
            if status == "failed":
                payout["failure_code"] = "account_closed"
                payout["failure_message"] = failure_message or "The bank account has been closed."
                account = payout["_account"]
                self.state.account_balances[account] = (
                    self.state.account_balances.get(account, 0) + payout["amount"]
                )
            return self._emit(f"payout.{status}", self._public(payout), account=payout["_account"])

    def settle_refund(
        self, refund_id: str, status: str, *, failure_reason: str = "expired_or_canceled_card"
    ) -> list[dict]:
        """A refund's final answer from the card's bank, later (like Stripe's
        ``pm_card_pendingRefund`` and ``pm_card_refundFail``): ``succeeded`` or ``failed``
        (the money comes back to the platform balance, even after ``succeeded``). Emits
        ``charge.refund.updated`` and ``refund.updated`` (and ``refund.failed``); returns them."""
        if status not in ("succeeded", "failed"):
            raise ValueError(status)
        with self.lock:
            refund = self.state.refunds[refund_id]
            if refund["status"] == "failed":
                raise ValueError("a failed refund is final")
            refund["status"] = status
            if status == "failed":
                refund["failure_reason"] = failure_reason
                intent = self.state.payment_intents[refund["payment_intent"]]
                intent["amount_refunded"] -= refund["amount"]
                self.state.platform_balance += refund["amount"]
            types = ["charge.refund.updated", "refund.updated"]
            if status == "failed":
                types.append("refund.failed")
            return [self._emit(type_, refund) for type_ in types]

    def refund_from_dashboard(self, payment_intent_id: str, amount: int | None = None) -> list[dict]:
        """Staff refund a payment in Stripe's Dashboard (no metadata, no idempotency key of
        ours): emits ``refund.created`` and ``charge.refund.updated``; returns them."""
        with self.lock:
            params: dict[str, Any] = {"payment_intent": payment_intent_id}
            if amount is not None:
                params["amount"] = str(amount)
            refund = self._refund_create(params)
            return [self._emit("refund.created", refund), self._emit("charge.refund.updated", refund)]

    def count(self, method: str, path_prefix: str, *, replayed: bool | None = None) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if r.method == method
                and r.path.startswith(path_prefix)
                and (replayed is None or r.replayed == replayed)
            )

    def events_of(self, type_: str) -> list[dict]:
        with self.lock:
            return [e for e in self.events if e["type"] == type_]

    # --- webhooks ----------------------------------------------------------------------------

    def make_event(
        self, type_: str, obj: dict, *, account: str | None = None, created: int | None = None
    ) -> dict:
        with self.lock:
            event = {
                "id": self._id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(created if created is not None else time.time()),
                "data": {"object": copy.deepcopy(self._public(obj))},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": type_,
            }
            if account:
                event["account"] = account
            return event

    @staticmethod
    def sign(payload: str | bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        """The ``Stripe-Signature`` header value for ``payload``."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        t = int(timestamp if timestamp is not None else time.time())
        signature = hmac.new(secret.encode(), f"{t}.{text}".encode(), hashlib.sha256).hexdigest()
        return f"t={t},v1={signature}"

    def send_webhook(
        self, url: str, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[int, bytes]:
        """POST a signed event to ``url`` (a live server); returns status and body."""
        payload = json.dumps(event)
        request = urllib.request.Request(
            url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": self.sign(payload, secret, timestamp),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # --- internals -----------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        n = self.state.counters.get(prefix, 0) + 1
        self.state.counters[prefix] = n
        return f"{prefix}_fake{n:06d}"

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _emit(self, type_: str, obj: dict, *, account: str | None = None) -> dict:
        event = self.make_event(type_, obj, account=account)
        self.events.append(event)
        return event

    def handle(self, method: str, path: str, params: dict, account: str) -> tuple[int, dict]:
        """Route one request (the lock is held). Raises StripeFault for error answers."""
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "v1":
            raise missing("route", path)
        parts = parts[1:]
        route = (method, parts[0] if parts else "", len(parts), parts[2] if len(parts) > 2 else "")
        handlers = {
            ("POST", "customers", 1, ""): lambda: self._customer_create(params),
            ("GET", "customers", 2, ""): lambda: self._get(self.state.customers, "customer", parts[1]),
            ("POST", "payment_methods", 1, ""): lambda: self._pm_create(params),
            ("GET", "payment_methods", 2, ""): lambda: self._get(
                self.state.payment_methods, "payment_method", parts[1]
            ),
            ("POST", "payment_methods", 3, "attach"): lambda: self._pm_attach(parts[1], params),
            ("POST", "payment_methods", 3, "detach"): lambda: self._pm_detach(parts[1]),
            ("POST", "setup_intents", 1, ""): lambda: self._setup_intent_create(params),
            ("POST", "payment_intents", 1, ""): lambda: self._pi_create(params),
            ("GET", "payment_intents", 2, ""): lambda: self._get(
                self.state.payment_intents, "payment_intent", parts[1]
            ),
            ("POST", "payment_intents", 3, "confirm"): lambda: self._pi_confirm(parts[1], params),
            ("POST", "refunds", 1, ""): lambda: self._refund_create(params),
            ("POST", "transfers", 1, ""): lambda: self._transfer_create(params),
            ("GET", "transfers", 2, ""): lambda: self._get(self.state.transfers, "transfer", parts[1]),
            ("POST", "transfers", 3, "reversals"): lambda: self._reversal_create(parts[1], params),
            ("POST", "accounts", 1, ""): lambda: self._account_create(params),
            ("GET", "accounts", 2, ""): lambda: self._get(self.state.accounts, "account", parts[1]),
            ("POST", "account_links", 1, ""): lambda: self._account_link_create(params),
            ("POST", "payouts", 1, ""): lambda: self._payout_create(params, account),
            ("GET", "payouts", 2, ""): lambda: self._payout_get(parts[1], account),
        }
        handler = handlers.get(route)
        if handler is None:
            raise missing("route", f"{method} {path}")
        return 200, handler()

    def _get(self, table: dict[str, dict], kind: str, object_id: str) -> dict:
        if object_id not in table:
            raise missing(kind, object_id)
        return self._public(table[object_id])

    # customers and cards

    def _customer_create(self, params: dict) -> dict:
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
            "livemode": False,
        }
        self.state.customers[customer["id"]] = customer
        return customer

    def _new_pm(self, number: str, exp_month: int, exp_year: int) -> dict:
        _, brand = CARDS.get(number, ("ok", "visa" if number.startswith("4") else "unknown"))
        pm = {
            "id": self._id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {
                "brand": brand,
                "last4": number[-4:],
                "exp_month": exp_month,
                "exp_year": exp_year,
                "funding": "credit",
                "country": "US",
            },
            "customer": None,
            "metadata": {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.state.payment_methods[pm["id"]] = pm
        self.state.card_numbers[pm["id"]] = number
        return pm

    def _pm_create(self, params: dict) -> dict:
        card = params.get("card") or {}
        number = str(card.get("number", ""))
        if not number.isdigit():
            raise StripeFault(
                402,
                {
                    "type": "card_error",
                    "code": "incorrect_number",
                    "message": "Your card number is incorrect.",
                },
            )
        return self._new_pm(number, int(card.get("exp_month", 12)), int(card.get("exp_year", 2034)))

    def _resolve_pm(self, pm_id: str, param: str = "payment_method") -> dict:
        if pm_id in TOKENS:
            return self._new_pm(TOKENS[pm_id], 12, time.gmtime().tm_year + 3)
        if pm_id not in self.state.payment_methods:
            raise missing("PaymentMethod", pm_id, param)
        return self.state.payment_methods[pm_id]

    def _pm_attach(self, pm_id: str, params: dict) -> dict:
        customer = params.get("customer")
        if not customer or customer not in self.state.customers:
            raise missing("customer", str(customer), "customer")
        pm = self._resolve_pm(pm_id, "payment_method")
        if pm["customer"] and pm["customer"] != customer:
            raise invalid("The payment method you provided has already been attached to a customer.")
        pm["customer"] = customer
        return self._public(pm)

    def _pm_detach(self, pm_id: str) -> dict:
        pm = self._resolve_pm(pm_id)
        pm["customer"] = None
        return self._public(pm)

    def _setup_intent_create(self, params: dict) -> dict:
        customer = params.get("customer")
        pm = self._resolve_pm(str(params.get("payment_method", "")))
        if customer and not pm["customer"]:
            pm["customer"] = customer
        confirm = _bool(params.get("confirm", False))
        intent = {
            "id": self._id("seti"),
            "object": "setup_intent",
            "customer": customer,
            "payment_method": pm["id"],
            "status": "succeeded" if confirm else "requires_confirmation",
            "usage": params.get("usage", "off_session"),
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "last_setup_error": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.state.setup_intents[intent["id"]] = intent
        return intent

    # payments

    def _pi_create(self, params: dict) -> dict:
        amount = _int(params, "amount")
        assert amount is not None
        if amount < 50:
            raise invalid("Amount must be at least $0.50 usd", param="amount", code="amount_too_small")
        intent = {
            "id": self._id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "amount_refunded": 0,
            "currency": str(params.get("currency", "usd")),
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "transfer_group": params.get("transfer_group"),
            "status": "requires_confirmation" if params.get("payment_method") else "requires_payment_method",
            "latest_charge": None,
            "last_payment_error": None,
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
        }
        self.state.payment_intents[intent["id"]] = intent
        if _bool(params.get("confirm", False)):
            return self._pi_run(intent)
        return intent

    def _pi_confirm(self, pi_id: str, params: dict) -> dict:
        if pi_id not in self.state.payment_intents:
            raise missing("payment_intent", pi_id)
        intent = self.state.payment_intents[pi_id]
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
        if intent["status"] == "succeeded":
            raise invalid(
                "This PaymentIntent's status is succeeded and cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        return self._pi_run(intent)

    def _pi_run(self, intent: dict) -> dict:
        pm_id = str(intent.get("payment_method") or "")
        pm = self._resolve_pm(pm_id)
        intent["payment_method"] = pm["id"]
        if intent.get("customer") and pm["customer"] != intent["customer"]:
            raise invalid(
                "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
                "attachment, shared with a connected account without Customer attachment, or was detached "
                "from a Customer.",
                param="payment_method",
            )
        number = self.state.card_numbers.get(pm["id"], "")
        outcome = CARDS.get(number, ("ok", ""))[0]
        charge = {
            "id": self._id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "payment_method": pm["id"],
            "transfer_group": intent.get("transfer_group"),
            "metadata": intent.get("metadata", {}),
            "created": int(time.time()),
        }
        intent["latest_charge"] = charge["id"]
        if outcome in DECLINES:
            decline_code, message = DECLINES[outcome]
            charge.update(status="failed", paid=False, failure_code="card_declined", failure_message=message)
            self.state.charges[charge["id"]] = charge
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "charge": charge["id"],
                "payment_method": self._public(pm),
            }
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = dict(error)
            error["payment_intent"] = self._public(intent)
            self._emit("payment_intent.payment_failed", intent)
            raise StripeFault(402, error)
        charge.update(status="succeeded", paid=True)
        self.state.charges[charge["id"]] = charge
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        self.state.platform_balance += intent["amount"]
        self._emit("payment_intent.succeeded", intent)
        return self._public(intent)

    def _refund_create(self, params: dict) -> dict:
        pi_id = str(params.get("payment_intent", ""))
        if pi_id not in self.state.payment_intents:
            raise missing("payment_intent", pi_id, "payment_intent")
        intent = self.state.payment_intents[pi_id]
        if intent["status"] != "succeeded":
            raise invalid(
                "This PaymentIntent does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        refundable = intent["amount_received"] - intent["amount_refunded"]
        amount = _int(params, "amount", required=False)
        amount = refundable if amount is None else amount
        if amount > refundable:
            raise invalid(
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
                f"(${refundable / 100:.2f})",
                param="amount",
                code="amount_too_large",
            )
        intent["amount_refunded"] += amount
        self.state.platform_balance -= amount
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": pi_id,
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        number = self.state.card_numbers.get(str(intent.get("payment_method") or ""), "")
        if CARDS.get(number, ("ok", ""))[0] == "refund_pending":
            refund["status"] = "pending"
        self.state.refunds[refund["id"]] = refund
        return refund

    # Connect

    def _account_create(self, params: dict) -> dict:
        account = {
            "id": self._id("acct"),
            "object": "account",
            "type": params.get("type", "express"),
            "country": params.get("country", "US"),
            "email": params.get("email"),
            "details_submitted": False,
            "payouts_enabled": False,
            "charges_enabled": False,
            "capabilities": {"transfers": "inactive"},
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.state.accounts[account["id"]] = account
        self.state.account_balances[account["id"]] = 0
        return account

    def _account_link_create(self, params: dict) -> dict:
        account_id = str(params.get("account", ""))
        if account_id not in self.state.accounts:
            raise missing("account", account_id, "account")
        for name in ("refresh_url", "return_url"):
            if not params.get(name):
                raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        link = {
            "object": "account_link",
            "url": f"{self.url}/express/onboarding/{account_id}/{len(self.state.account_links) + 1}",
            "created": int(time.time()),
            "expires_at": int(time.time()) + 300,
        }
        self.state.account_links.append(link)
        return link

    def _transfer_create(self, params: dict) -> dict:
        amount = _int(params, "amount")
        assert amount is not None
        destination = str(params.get("destination", ""))
        account = self.state.accounts.get(destination)
        if account is None:
            raise invalid(
                f"No such destination: '{destination}'", param="destination", code="resource_missing"
            )
        if account["capabilities"].get("transfers") != "active":
            raise invalid(
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                param="destination",
                code="insufficient_capabilities_for_transfer",
            )
        if self.state.platform_balance < amount:
            raise invalid(
                "You have insufficient available funds in your Stripe account.", code="balance_insufficient"
            )
        self.state.platform_balance -= amount
        self.state.account_balances[destination] = self.state.account_balances.get(destination, 0) + amount
        transfer = {
            "id": self._id("tr"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": str(params.get("currency", "usd")),
            "destination": destination,
            "transfer_group": params.get("transfer_group"),
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0},
            "created": int(time.time()),
        }
        self.state.transfers[transfer["id"]] = transfer
        self._emit("transfer.created", transfer)
        return transfer

    def _reversal_create(self, transfer_id: str, params: dict) -> dict:
        transfer = self.state.transfers.get(transfer_id)
        if transfer is None:
            raise missing("transfer", transfer_id)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = _int(params, "amount", required=False)
        amount = left if amount is None else amount
        if amount > left or amount <= 0:
            raise invalid("Amount to reverse exceeds what remains of the transfer.", param="amount")
        destination = transfer["destination"]
        if self.state.account_balances.get(destination, 0) < amount:
            raise invalid(
                "The connected account has insufficient funds to reverse.", code="balance_insufficient"
            )
        self.state.account_balances[destination] -= amount
        self.state.platform_balance += amount
        reversal = {
            "id": self._id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": transfer_id,
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.state.reversals[reversal["id"]] = reversal
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        transfer["reversals"]["data"].append(reversal)
        transfer["reversals"]["total_count"] += 1
        self._emit("transfer.reversed", transfer)
        return reversal

    def _payout_create(self, params: dict, account: str) -> dict:
        if not account or account not in self.state.accounts:
            raise invalid("Payouts in this fake are made on connected accounts (Stripe-Account header).")
        amount = _int(params, "amount")
        assert amount is not None
        if self.state.account_balances.get(account, 0) < amount:
            raise invalid(
                "You have insufficient funds in your Stripe account for this transfer.",
                code="balance_insufficient",
            )
        self.state.account_balances[account] -= amount
        payout = {
            "id": self._id("po"),
            "object": "payout",
            "amount": amount,
            "currency": str(params.get("currency", "usd")),
            "status": "pending",
            "arrival_date": int(time.time()) + 2 * 86400,
            "destination": "ba_fake_bank",
            "failure_code": None,
            "failure_message": None,
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
            "_account": account,
        }
        self.state.payouts[payout["id"]] = payout
        self._emit("payout.created", payout, account=account)
        return self._public(payout)

    def _payout_get(self, payout_id: str, account: str) -> dict:
        payout = self.state.payouts.get(payout_id)
        if payout is None or payout["_account"] != account:
            raise missing("payout", payout_id)
        return self._public(payout)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(split.query if method == "GET" else body, keep_blank_values=True)
        params = parse_form(pairs)
        key = self.headers.get("Idempotency-Key", "") if method == "POST" else ""
        account = self.headers.get("Stripe-Account", "")
        logged = LoggedRequest(method, split.path, params, key, account)

        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {fake.api_key}":
            with fake.lock:
                fake.requests.append(logged)
            logged.status = 401
            self._answer(
                401,
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}},
                {},
            )
            return

        with fake.lock:
            fault = next((f for f in fake.faults if f.path is None or split.path.startswith(f.path)), None)
            if fault is not None:
                fake.faults.remove(fault)
                logged.fault = fault.kind
            fake.requests.append(logged)
            held = bool(fault is not None and fault.kind == "hang" and key)
            if held:
                fake.in_flight.add((account, key))
        if fault is not None and fault.kind == "hang":
            # In flight: arrived (logged), not processed yet; the client may die meanwhile.
            with fake.lock:
                fake.held.append(fault)
            fault.released.wait(fault.delay)
        with fake.lock:
            if held:
                fake.in_flight.discard((account, key))
            if fault is not None and fault.kind == "error_500":
                logged.status = 500
                status, answer, headers = (
                    500,
                    {"error": {"type": "api_error", "message": "An unknown error occurred."}},
                    {},
                )
            elif key and (account, key) in fake.in_flight:
                logged.status = 409
                status, answer, headers = (
                    409,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "idempotency_key_in_use",
                            "message": (
                                "There is currently another in-progress request using this Idempotent Key "
                                f"(that probably means you submitted twice, and the other request is still "
                                f"going through): {key}. Please try again later."
                            ),
                        }
                    },
                    {"Idempotency-Key": key},
                )
            else:
                status, answer, headers = self._process(
                    method, split.path, pairs, params, key, account, logged
                )

        if fault is not None and fault.kind == "lost":
            # The effect happened; the client never hears about it.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(status, answer, headers)

    def _process(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        params: dict,
        key: str,
        account: str,
        logged: LoggedRequest,
    ) -> tuple[int, dict, dict[str, str]]:
        fake = self.fake
        fingerprint = hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()
        headers: dict[str, str] = {}
        if key:
            headers["Idempotency-Key"] = key
            stored = fake.state.idempotency.get((account, key))
            if stored is not None:
                s_method, s_path, s_fingerprint, s_status, s_answer = stored
                if (s_method, s_path, s_fingerprint) != (method, path, fingerprint):
                    logged.status = 400
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": (
                                    "Keys for idempotent requests can only be used with the same parameters "
                                    "they were first used with. Try using a key other than "
                                    f"'{key}' if you meant to execute a different request."
                                ),
                            }
                        },
                        headers,
                    )
                logged.status = s_status
                logged.replayed = True
                headers["Idempotent-Replayed"] = "true"
                return s_status, copy.deepcopy(s_answer), headers
        try:
            status, answer = fake.handle(method, path, params, account)
        except StripeFault as fault:
            status, answer = fault.status, {"error": fault.error}
        answer = copy.deepcopy(answer)
        logged.status = status
        if key and status < 500:
            fake.state.idempotency[(account, key)] = (
                method,
                path,
                fingerprint,
                status,
                copy.deepcopy(answer),
            )
        return status, answer, headers

    def _answer(self, status: int, answer: dict, headers: dict[str, str]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_fake{len(self.fake.requests):06d}")
        self.send_header("Stripe-Version", API_VERSION)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
