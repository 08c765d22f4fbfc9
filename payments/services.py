"""Write use cases of payments: cards, charges, escrow release, refunds, payout methods,
payouts, transfers and staff adjustments.

What other apps call (they never touch these models directly):

- ``charge_create(actor=client, amount_cents=..., purpose="milestone_funding",
  reference="milestone:42", escrow_reference="contract:17")`` -> ``Charge``. Call it
  OUTSIDE any transaction: it reserves the charge (own transaction), calls the gateway
  with no lock held and settles (another transaction). A card decline is a ``failed``
  charge with ``failure_message``, not an exception; an unreachable provider leaves it
  ``reserved`` (calling again with the same purpose/reference resumes it with the same
  idempotency key, and a sweeper task does too). One live charge per purpose/reference:
  calling again after success returns the same charge.
- ``escrow_release(escrow_reference="contract:17", payee=freelancer, amount_cents=...,
  idempotency_key="milestone:42:release")`` -> ``JournalEntry``: ledger only, joins the
  caller's transaction (post it with the milestone's state change).
- ``refund_create(actor=..., purpose=..., reference=..., amount_cents=None | n,
  idempotency_key="milestone:42:refund")`` -> ``Refund``: outside any transaction, like
  charges.
- settlement handlers per purpose: ``payments.registry.register(...)``.

Payments trusts its callers on who may fund, release or refund (contracts checks the
parties); it checks what is its own: the payer's card, the freelancer's payout methods
and balance, suspended accounts.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import ClientProfile
from accounts.services import require_can_act
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from marketplace.money import format_cents

from . import fees, ledger, registry
from .gateways import get_gateway
from .gateways.base import (
    CardInput,
    ChargeResult,
    GatewayError,
    PayoutDestination,
    PayoutResult,
    RefundResult,
)
from .ledger import InsufficientFundsError, Line
from .models import (
    AccountKind,
    Charge,
    GatewayCustomer,
    JournalEntry,
    LedgerAccount,
    PaymentMethod,
    Payout,
    PayoutMethod,
    PayoutSchedule,
    Refund,
    StatusEvent,
    Transfer,
)

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

_REF_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_AMOUNT_CENTS = 100_000_000_00  # $100M: anything above is a typo
PAYOUT_LEASE = timedelta(minutes=5)
PAYOUT_PENDING_RECHECK = timedelta(minutes=30)
STUCK_CHARGE_AFTER = timedelta(minutes=2)


# --- helpers ---------------------------------------------------------------------------------


def _event(
    record: str, record_id: int, *, actor: User | None, from_status: str, to_status: str, note: str = ""
) -> None:
    StatusEvent.objects.create(
        record=record,
        record_id=record_id,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=note[:300],
    )


def _transition(obj: Any, to: str, *, record: str, actor: User | None = None, note: str = "") -> None:
    """Check the model's TRANSITIONS, set the status and log the event (the caller saves)."""
    current = obj.status
    if to not in obj.TRANSITIONS[current]:
        raise ApplicationError(
            f"This {record.replace('_', ' ')} is {obj.get_status_display().lower()} and cannot become {to}.",
            code="illegal_transition",
            extra={"from": current, "to": to},
        )
    obj.status = to
    _event(record, obj.pk, actor=actor, from_status=current, to_status=to, note=note)


def clean_reference(value: Any, *, field: str = "reference") -> str:
    text = str(value or "").strip()
    if not _REF_RE.fullmatch(text):
        raise ApplicationError(
            f"{field} must be 1 to 100 letters, digits or _ . : -",
            code="invalid_reference",
            extra={"field": field},
        )
    return text


def clean_purpose(value: Any) -> str:
    text = str(value or "").strip()
    if not _PURPOSE_RE.fullmatch(text):
        raise ApplicationError(
            "purpose must be lower-case letters, digits and _ (e.g. milestone_funding).",
            code="invalid_purpose",
            extra={"field": "purpose"},
        )
    return text


def clean_amount(value: Any, *, field: str = "amount_cents") -> int:
    if isinstance(value, bool):
        raise ApplicationError(
            "Enter the amount in whole cents.", code="invalid_amount", extra={"field": field}
        )
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(
            "Enter the amount in whole cents.", code="invalid_amount", extra={"field": field}
        )
    if number != value and not isinstance(value, str):
        raise ApplicationError(
            "Enter the amount in whole cents.", code="invalid_amount", extra={"field": field}
        )
    if number <= 0:
        raise ApplicationError(
            "The amount must be more than zero.", code="invalid_amount", extra={"field": field}
        )
    if number > MAX_AMOUNT_CENTS:
        raise ApplicationError("The amount is too large.", code="invalid_amount", extra={"field": field})
    return number


def _as_application_error(error: GatewayError) -> ApplicationError:
    return ApplicationError(error.message, code=error.code, extra={"retryable": error.retryable})


def _run_handler(record: Any, handler: Any, label: str) -> None:
    """Run a purpose handler in a savepoint; a raise is recorded, not fatal to settlement."""
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(record)
    except Exception as error:
        log.exception("payments %s handler failed for %s %s", label, type(record).__name__, record.pk)
        record.handler_error = f"{label}: {type(error).__name__}: {error}"[:2000]
        record.save(update_fields=["handler_error", "updated_at"])


def _notify_on_commit(user: User, text: str, url: str = "") -> None:
    def send() -> None:
        from messaging.models import NotificationKind
        from messaging.services import notify

        try:
            notify(recipient=user, kind=NotificationKind.PAYMENT, text=text, url=url)
        except Exception:
            log.exception("payment notification failed user_id=%s", user.pk)

    transaction.on_commit(send)


# --- cards -----------------------------------------------------------------------------------


def _customer_id(user: User, gateway_name: str) -> str:
    """The user's customer id at the gateway, created on first use (gateway call: no lock)."""
    found = GatewayCustomer.objects.filter(user=user, gateway=gateway_name).first()
    if found is not None:
        return found.customer_id
    try:
        customer_id = get_gateway(gateway_name).customer_create(
            user_id=user.pk, email=user.email, idempotency_key=f"customer:{user.pk}"
        )
    except GatewayError as error:
        raise _as_application_error(error)
    try:
        with transaction.atomic():
            GatewayCustomer.objects.create(user=user, gateway=gateway_name, customer_id=customer_id)
    except IntegrityError:
        pass  # saved by a concurrent call (the same key gave the same customer)
    return GatewayCustomer.objects.get(user=user, gateway=gateway_name).customer_id


def _require_client(actor: User) -> None:
    if not actor.is_client:
        raise PermissionDeniedError("Switch to your client account to manage cards.", code="not_client")


def _set_verified(user: User) -> None:
    """Keep ClientProfile.payment_method_verified in step with the user's active cards
    (the flag is payments' to write, see accounts.models.ClientProfile)."""
    has_card = PaymentMethod.objects.filter(user=user, removed_at__isnull=True).exists()
    ClientProfile.objects.filter(user=user).update(payment_method_verified=has_card)


def payment_method_add(*, actor: User, card: CardInput, make_default: bool = True) -> PaymentMethod:
    """Save a card with the gateway and here; a client is then payment-verified. Any
    active user may save one (a freelancer pays for Connects with it).

    Gateway calls happen outside any transaction; the key is derived from the card and
    how many cards the user saved before, so a retried request saves it once."""
    require_can_act(actor)
    if not actor.is_active:
        raise PermissionDeniedError("This account is not active.", code="inactive")
    gateway = get_gateway()
    customer_id = _customer_id(actor, gateway.name)
    fingerprint = hashlib.sha256((card.token or re.sub(r"\D", "", card.number)).encode()).hexdigest()[:16]
    seen = PaymentMethod.objects.filter(user=actor).count()
    try:
        saved = gateway.card_save(
            customer_id=customer_id, card=card, idempotency_key=f"card:{actor.pk}:{fingerprint}:{seen}"
        )
    except GatewayError as error:
        raise ApplicationError(error.message, code=error.code, extra={"field": "number"})
    with transaction.atomic():
        # The client profile row serialises a user's card changes (one default at a time);
        # a user without one (a freelancer) is serialised on their gateway customer row.
        if ClientProfile.objects.select_for_update().filter(user=actor).first() is None:
            GatewayCustomer.objects.select_for_update().filter(user=actor, gateway=gateway.name).first()
        method, created = PaymentMethod.objects.get_or_create(
            gateway=gateway.name,
            gateway_payment_method_id=saved.payment_method_id,
            defaults={
                "user": actor,
                "gateway_customer_id": customer_id,
                "brand": saved.brand,
                "last4": saved.last4,
                "exp_month": saved.exp_month,
                "exp_year": saved.exp_year,
            },
        )
        if method.user_id != actor.pk:
            raise ConflictError("This card is saved to another account.", code="card_taken")
        if created:
            _event(
                StatusEvent.Record.PAYMENT_METHOD, method.pk, actor=actor, from_status="", to_status="active"
            )
        has_default = (
            PaymentMethod.objects.filter(user=actor, is_default=True, removed_at__isnull=True)
            .exclude(pk=method.pk)
            .exists()
        )
        if make_default or not has_default:
            PaymentMethod.objects.filter(user=actor, is_default=True).exclude(pk=method.pk).update(
                is_default=False
            )
            if not method.is_default:
                method.is_default = True
                method.save(update_fields=["is_default"])
        _set_verified(actor)
    return method


def payment_method_remove(*, actor: User, method_id: int) -> PaymentMethod:
    """Remove a saved card (kept for the charges that used it) and detach it at the gateway."""
    require_can_act(actor)
    with transaction.atomic():
        ClientProfile.objects.select_for_update().filter(user=actor).first()
        method = PaymentMethod.objects.select_for_update().filter(pk=method_id, user=actor).first()
        if method is None or method.removed_at is not None:
            raise NotFoundError("No such card.")
        was_default = method.is_default
        method.removed_at = timezone.now()
        method.is_default = False
        method.save(update_fields=["removed_at", "is_default"])
        _event(
            StatusEvent.Record.PAYMENT_METHOD,
            method.pk,
            actor=actor,
            from_status="active",
            to_status="removed",
        )
        if was_default:
            newest = (
                PaymentMethod.objects.filter(user=actor, removed_at__isnull=True)
                .order_by("-created_at")
                .first()
            )
            if newest is not None:
                newest.is_default = True
                newest.save(update_fields=["is_default"])
        _set_verified(actor)
    try:
        get_gateway(method.gateway).card_remove(
            payment_method_id=method.gateway_payment_method_id, idempotency_key=f"card-remove:{method.pk}"
        )
    except GatewayError:
        # Removed here either way; a card left attached at the provider is never charged.
        log.warning("card detach failed payment_method_id=%s", method.pk)
    return method


@transaction.atomic
def payment_method_set_default(*, actor: User, method_id: int) -> PaymentMethod:
    require_can_act(actor)
    ClientProfile.objects.select_for_update().filter(user=actor).first()
    method = (
        PaymentMethod.objects.select_for_update()
        .filter(pk=method_id, user=actor, removed_at__isnull=True)
        .first()
    )
    if method is None:
        raise NotFoundError("No such card.")
    PaymentMethod.objects.filter(user=actor, is_default=True).exclude(pk=method.pk).update(is_default=False)
    method.is_default = True
    method.save(update_fields=["is_default"])
    return method


# --- charges -----------------------------------------------------------------------------------


def _charge_metadata(charge: Charge) -> dict[str, str]:
    return {
        "purpose": charge.purpose,
        "reference": charge.reference,
        "escrow_reference": charge.escrow_reference,
        "charge_key": charge.idempotency_key,
        "payer_id": str(charge.payer_id),
    }


def _charge_reserve(
    *,
    actor: User,
    amount_cents: int,
    purpose: str,
    reference: str,
    escrow_reference: str,
    transfer_group: str,
    description: str,
    payment_method_id: int | None,
    client_fee: bool = True,
) -> Charge:
    """Write the charge row (or find the live one) in its own transaction.

    ``client_fee=False``: no client marketplace fee (a freelancer buying Connects).

    Durable: refuses to run inside a caller's transaction, since the gateway call that
    follows must hold no lock."""
    with transaction.atomic(durable=True):
        live = (
            Charge.objects.select_for_update()
            .filter(
                purpose=purpose,
                reference=reference,
                status__in=[Charge.Status.RESERVED, Charge.Status.SUCCEEDED],
            )
            .first()
        )
        if live is not None:
            if live.payer_id != actor.pk or live.amount_cents != amount_cents:
                raise ConflictError(
                    "A different payment for this is already being processed or was made.",
                    code="charge_conflict",
                    extra={"charge_id": live.pk},
                )
            return live
        methods = PaymentMethod.objects.filter(user=actor, removed_at__isnull=True)
        method = (
            methods.filter(pk=payment_method_id).first()
            if payment_method_id is not None
            else methods.order_by("-is_default", "-created_at").first()
        )
        if method is None:
            raise ApplicationError(
                "Add a card first." if payment_method_id is None else "No such card.",
                code="no_payment_method",
                extra={"field": "payment_method"},
            )
        last = (
            Charge.objects.filter(purpose=purpose, reference=reference).aggregate(n=Max("attempt"))["n"] or 0
        )
        attempt = last + 1
        try:
            with transaction.atomic():
                charge = Charge.objects.create(
                    payer=actor,
                    payment_method=method,
                    amount_cents=amount_cents,
                    client_fee_cents=fees.client_marketplace_fee(amount_cents) if client_fee else 0,
                    currency=settings.CURRENCY,
                    purpose=purpose,
                    reference=reference,
                    escrow_reference=escrow_reference,
                    transfer_group=transfer_group,
                    description=description[:300],
                    attempt=attempt,
                    idempotency_key=f"charge:{purpose}:{reference}:{attempt}",
                    gateway=method.gateway,
                )
        except IntegrityError:
            # A concurrent call reserved it first: use that charge (same key, one effect).
            live = (
                Charge.objects.select_for_update()
                .filter(
                    purpose=purpose,
                    reference=reference,
                    status__in=[Charge.Status.RESERVED, Charge.Status.SUCCEEDED],
                )
                .first()
            )
            if live is None or live.payer_id != actor.pk or live.amount_cents != amount_cents:
                raise ConflictError(
                    "This payment is already being processed; refresh in a moment.", code="charge_in_progress"
                )
            return live
        _event(StatusEvent.Record.CHARGE, charge.pk, actor=actor, from_status="", to_status=charge.status)
    return charge


def charge_create(
    *,
    actor: User,
    amount_cents: int,
    purpose: str,
    reference: str,
    escrow_reference: str = "",
    transfer_group: str = "",
    description: str = "",
    payment_method_id: int | None = None,
    client_fee: bool = True,
) -> Charge:
    """Charge the actor's card ``amount_cents`` plus the client marketplace fee (none when
    ``client_fee`` is False), into escrow ``escrow_reference`` (default: ``reference``).
    See the module docstring."""
    require_can_act(actor)
    amount = clean_amount(amount_cents)
    purpose = clean_purpose(purpose)
    reference = clean_reference(reference)
    escrow_reference = clean_reference(escrow_reference or reference, field="escrow_reference")
    transfer_group = clean_reference(transfer_group or escrow_reference, field="transfer_group")
    charge = _charge_reserve(
        actor=actor,
        amount_cents=amount,
        purpose=purpose,
        reference=reference,
        escrow_reference=escrow_reference,
        transfer_group=transfer_group,
        description=description,
        payment_method_id=payment_method_id,
        client_fee=client_fee,
    )
    if charge.status != Charge.Status.RESERVED:
        return charge
    return _charge_send(charge)


def charge_retry(*, charge_id: int) -> Charge:
    """Send a reserved charge to the gateway again with its key (sweeper, support)."""
    charge = Charge.objects.select_related("payment_method").filter(pk=charge_id).first()
    if charge is None:
        raise NotFoundError("No such charge.")
    if charge.status != Charge.Status.RESERVED:
        return charge
    return _charge_send(charge)


def _charge_send(charge: Charge) -> Charge:
    """Call the gateway (no lock held), then settle. A retryable error leaves it reserved."""
    method = charge.payment_method
    if method is None:
        return charge_settle(
            charge_id=charge.pk,
            result=ChargeResult(
                status="failed", failure_code="no_card", failure_message="The card was removed."
            ),
        )
    Charge.objects.filter(pk=charge.pk).update(
        gateway_calls=charge.gateway_calls + 1, updated_at=timezone.now()
    )
    try:
        result = get_gateway(charge.gateway).charge(
            customer_id=method.gateway_customer_id,
            payment_method_id=method.gateway_payment_method_id,
            amount_cents=charge.total_cents,
            currency=charge.currency,
            description=charge.description or f"{charge.purpose} {charge.reference}",
            metadata=_charge_metadata(charge),
            transfer_group=charge.transfer_group,
            idempotency_key=charge.idempotency_key,
        )
    except GatewayError as error:
        if error.retryable:
            Charge.objects.filter(pk=charge.pk, status=Charge.Status.RESERVED).update(
                last_error=error.message[:300], updated_at=timezone.now()
            )
            charge.refresh_from_db()
            return charge
        result = ChargeResult(status="failed", failure_code=error.code, failure_message=error.message)
    return charge_settle(charge_id=charge.pk, result=result)


@transaction.atomic
def charge_settle(*, charge_id: int, result: ChargeResult, actor: User | None = None) -> Charge:
    """Record the gateway's answer (from the call or a webhook). Idempotent: a settled
    charge is returned unchanged. On success posts gateway_clearing -> escrow + fees and
    runs the purpose's ``on_succeeded``; on failure ``on_failed``."""
    charge = Charge.objects.select_for_update().filter(pk=charge_id).first()
    if charge is None:
        raise NotFoundError("No such charge.")
    changed: list[str] = []
    if result.payment_id and not charge.gateway_payment_id:
        charge.gateway_payment_id = result.payment_id
        changed.append("gateway_payment_id")
    if result.charge_id and not charge.gateway_charge_id:
        charge.gateway_charge_id = result.charge_id
        changed.append("gateway_charge_id")
    if charge.status != Charge.Status.RESERVED or result.status == "processing":
        if changed:
            charge.save(update_fields=[*changed, "updated_at"])
        return charge

    handlers = registry.handlers_for(charge.purpose)
    if result.status == "succeeded":
        lines = [
            Line(ledger.platform_account(AccountKind.GATEWAY_CLEARING), -charge.total_cents),
            Line(ledger.escrow_account(charge.escrow_reference), charge.amount_cents),
        ]
        if charge.client_fee_cents:
            lines.append(Line(ledger.platform_account(AccountKind.PLATFORM_FEES), charge.client_fee_cents))
        entry = ledger.post_entry(
            key=f"{charge.idempotency_key}:settled",
            memo=f"Payment {format_cents(charge.amount_cents)} + fee {format_cents(charge.client_fee_cents)}"
            f" for {charge.reference}",
            lines=lines,
            purpose=charge.purpose,
            reference=charge.reference,
            actor=actor,
        )
        _transition(charge, Charge.Status.SUCCEEDED, record=StatusEvent.Record.CHARGE, actor=actor)
        charge.entry = entry
        charge.settled_at = timezone.now()
        charge.last_error = ""
        charge.save(update_fields=[*changed, "status", "entry", "settled_at", "last_error", "updated_at"])
        _run_handler(charge, handlers.on_succeeded, "on_succeeded")
    else:
        _transition(
            charge,
            Charge.Status.FAILED,
            record=StatusEvent.Record.CHARGE,
            actor=actor,
            note=result.failure_message,
        )
        charge.failure_code = result.failure_code[:60]
        charge.failure_message = (result.failure_message or "The payment failed.")[:300]
        charge.settled_at = timezone.now()
        charge.save(
            update_fields=[*changed, "status", "failure_code", "failure_message", "settled_at", "updated_at"]
        )
        _run_handler(charge, handlers.on_failed, "on_failed")
    return charge


def charges_sweep_reserved(*, now: datetime | None = None, limit: int = 100) -> int:
    """Retry charges and refunds left reserved (a crash, an unreachable provider)."""
    cutoff = (now or timezone.now()) - STUCK_CHARGE_AFTER
    done = 0
    for charge_id in Charge.objects.filter(status=Charge.Status.RESERVED, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:limit]:
        charge_retry(charge_id=charge_id)
        done += 1
    for refund_id in Refund.objects.filter(status=Refund.Status.RESERVED, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:limit]:
        refund_retry(refund_id=refund_id)
        done += 1
    return done


# --- escrow release ------------------------------------------------------------------------------


@transaction.atomic
def escrow_release(
    *,
    escrow_reference: str,
    payee: User,
    amount_cents: int,
    idempotency_key: str,
    purpose: str = "escrow_release",
    reference: str = "",
    memo: str = "",
    actor: User | None = None,
    agency_id: int | None = None,
) -> JournalEntry:
    """Release ``amount_cents`` of escrow to the payee: the service fee goes to platform
    fees, the rest to their pending balance until ``SECURITY_HOLD_DAYS`` have passed.
    With ``agency_id`` (an agency's contract) the rest goes to that agency's pending
    balance instead, under the same hold; the owner distributes it (``payments.agency``).

    Ledger only (the money stays at the provider until a withdrawal), so it joins the
    caller's transaction. Idempotent by key; refuses more than the escrow holds."""
    amount = clean_amount(amount_cents)
    escrow_reference = clean_reference(escrow_reference, field="escrow_reference")
    earnings = fees.freelancer_earnings(amount)
    available_at = timezone.now() + timedelta(days=settings.SECURITY_HOLD_DAYS)
    lines = [Line(ledger.escrow_account(escrow_reference), -amount)]
    if earnings.net_cents:
        if agency_id is not None:
            from .agency import agency_reference

            pending = ledger.account_for(AccountKind.AGENCY_PENDING, reference=agency_reference(agency_id))
        else:
            pending = ledger.account_for(AccountKind.FREELANCER_PENDING, owner=payee)
        lines.append(Line(pending, earnings.net_cents, available_at=available_at))
    if earnings.fee_cents:
        lines.append(Line(ledger.platform_account(AccountKind.PLATFORM_FEES), earnings.fee_cents))
    return ledger.post_entry(
        key=idempotency_key,
        memo=memo or f"Released {format_cents(amount)} ({format_cents(earnings.fee_cents)} service fee)",
        lines=lines,
        purpose=purpose,
        reference=reference or escrow_reference,
        actor=actor,
    )


def release_matured_holds(*, now: datetime | None = None) -> int:
    """Beat: pending -> available for every held amount whose date has come."""
    return ledger.release_matured(now)


# --- refunds --------------------------------------------------------------------------------------


def _refund_reserve(
    *,
    actor: User | None,
    charge: Charge | None,
    amount_cents: int | None,
    reason: str,
    key: str,
    durable: bool = True,
) -> Refund:
    """Write the refund row and move its money to refunds in transit. Durable (its own
    transaction) unless no gateway call follows (a refund the provider already made)."""
    with transaction.atomic(durable=durable):
        existing = Refund.objects.select_for_update().filter(idempotency_key=key).first()
        if existing is not None:
            if (charge is not None and existing.charge_id != charge.pk) or (
                amount_cents is not None and existing.amount_cents != amount_cents
            ):
                raise ConflictError(
                    "This refund key was used for another refund.", code="idempotency_conflict"
                )
            return existing
        if charge is None:
            raise NotFoundError("No such payment.")
        charge = Charge.objects.select_for_update().get(pk=charge.pk)
        if charge.status != Charge.Status.SUCCEEDED:
            raise ApplicationError("Only a completed payment can be refunded.", code="charge_not_succeeded")
        live = charge.refunds.exclude(status=Refund.Status.FAILED).aggregate(
            amount=Sum("amount_cents"), fee=Sum("fee_cents")
        )
        refunded, fee_refunded = live["amount"] or 0, live["fee"] or 0
        remaining = charge.amount_cents - refunded
        amount = remaining if amount_cents is None else clean_amount(amount_cents)
        if remaining <= 0:
            raise ApplicationError("This payment has been refunded in full.", code="already_refunded")
        if amount > remaining:
            raise ApplicationError(
                f"At most {format_cents(remaining)} of this payment can be refunded.",
                code="refund_too_large",
                extra={"field": "amount", "remaining_cents": remaining},
            )
        fee_left = charge.client_fee_cents - fee_refunded
        fee = fee_left if amount == remaining else min(fees.client_marketplace_fee(amount), fee_left)
        refund = Refund.objects.create(
            charge=charge,
            amount_cents=amount,
            fee_cents=fee,
            reason=reason[:300],
            idempotency_key=key,
            requested_by=actor,
        )
        if registry.handlers_for(charge.purpose).refunds_from_revenue:
            # Sold outright (the charge became platform revenue on success): refund from it.
            lines = [
                Line(ledger.platform_account(AccountKind.PLATFORM_FEES), -(amount + fee)),
                Line(ledger.platform_account(AccountKind.REFUNDS_IN_TRANSIT), amount + fee),
            ]
        else:
            lines = [
                Line(ledger.escrow_account(charge.escrow_reference), -amount),
                Line(ledger.platform_account(AccountKind.REFUNDS_IN_TRANSIT), amount + fee),
            ]
            if fee:
                lines.append(Line(ledger.platform_account(AccountKind.PLATFORM_FEES), -fee))
        ledger.post_entry(
            key=f"{key}:reserved",
            memo=f"Refund {format_cents(amount)} + fee {format_cents(fee)} of {charge.reference}",
            lines=lines,
            purpose=charge.purpose,
            reference=charge.reference,
            actor=actor,
        )
        _event(StatusEvent.Record.REFUND, refund.pk, actor=actor, from_status="", to_status=refund.status)
    return refund


def refund_create(
    *,
    actor: User | None,
    idempotency_key: str,
    charge_id: int | None = None,
    purpose: str = "",
    reference: str = "",
    amount_cents: int | None = None,
    reason: str = "",
) -> Refund:
    """Refund a succeeded charge (by id, or by its purpose and reference) from its escrow
    back to the card: all that remains (``amount_cents=None``) or part. The client fee is
    refunded in proportion (all of what remains with the last refund).

    Outside any transaction (like ``charge_create``); idempotent by ``idempotency_key``."""
    if actor is not None:
        require_can_act(actor)
    key = clean_reference(idempotency_key, field="idempotency_key")
    if charge_id is not None:
        charge = Charge.objects.filter(pk=charge_id).first()
    else:
        charge = Charge.objects.filter(
            purpose=clean_purpose(purpose),
            reference=clean_reference(reference),
            status=Charge.Status.SUCCEEDED,
        ).first()
    refund = _refund_reserve(actor=actor, charge=charge, amount_cents=amount_cents, reason=reason, key=key)
    if refund.status != Refund.Status.RESERVED:
        return refund
    return _refund_send(refund)


def refund_record_external(*, charge_id: int, gateway_refund_id: str, total_cents: int) -> Refund:
    """A refund made at the provider directly (Stripe's Dashboard), learnt from its webhook:
    recorded like one of ours (reserved: escrow, or revenue, to refunds in transit) under the
    key ``provider-refund:<id>`` (a repeated event records it once); the caller settles it
    with the provider's status. ``total_cents`` is what the card gets back, the client fee's
    share included. May join the caller's transaction (the webhook's): no gateway call."""
    key = clean_reference(f"provider-refund:{gateway_refund_id}", field="gateway_refund_id")
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    charge = Charge.objects.filter(pk=charge_id).first()
    if charge is None:
        raise NotFoundError("No such payment.")
    total = clean_amount(total_cents)
    refunded = charge.refunds.exclude(status=Refund.Status.FAILED).aggregate(
        amount=Sum("amount_cents"), fee=Sum("fee_cents")
    )
    left = charge.total_cents - (refunded["amount"] or 0) - (refunded["fee"] or 0)
    # all that is left, or the share of the amount in what the card got back
    amount = None if total >= left else max(1, total * charge.amount_cents // charge.total_cents)
    refund = _refund_reserve(
        actor=None,
        charge=charge,
        amount_cents=amount,
        reason="Refunded at the provider",
        key=key,
        durable=False,
    )
    if not refund.gateway_refund_id:
        Refund.objects.filter(pk=refund.pk, gateway_refund_id="").update(gateway_refund_id=gateway_refund_id)
        refund.gateway_refund_id = gateway_refund_id
    return refund


def refund_retry(*, refund_id: int) -> Refund:
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise NotFoundError("No such refund.")
    if refund.status != Refund.Status.RESERVED:
        return refund
    return _refund_send(refund)


def _refund_send(refund: Refund) -> Refund:
    charge = refund.charge
    try:
        result = get_gateway(charge.gateway).refund(
            payment_id=charge.gateway_payment_id,
            amount_cents=refund.total_cents,
            metadata={
                "purpose": charge.purpose,
                "reference": charge.reference,
                "refund_key": refund.idempotency_key,
            },
            idempotency_key=f"refund:{refund.idempotency_key}",
        )
    except GatewayError as error:
        if error.retryable:
            Refund.objects.filter(pk=refund.pk).update(
                last_error=error.message[:300], updated_at=timezone.now()
            )
            refund.refresh_from_db()
            return refund
        result = RefundResult(status="failed", failure_message=error.message)
    return refund_settle(refund_id=refund.pk, result=result)


@transaction.atomic
def refund_settle(*, refund_id: int, result: RefundResult) -> Refund:
    """Record the gateway's answer (from the call or a webhook): refunds in transit ->
    gateway clearing, or back to escrow when refused. Idempotent.

    A refund that fails after it was reported succeeded (the card's bank returned it) is
    reversed: both of its ledger entries get a reversing entry, so the money is back in
    the escrow (or revenue) it came from; then the purpose's ``on_refund_failed`` runs, as
    for any refund that settles as failed. A success reported for a failed refund is
    ignored (a failed refund is final)."""
    refund = Refund.objects.select_for_update().select_related("charge").filter(pk=refund_id).first()
    if refund is None:
        raise NotFoundError("No such refund.")
    if result.refund_id and not refund.gateway_refund_id:
        refund.gateway_refund_id = result.refund_id
        refund.save(update_fields=["gateway_refund_id", "updated_at"])
    if refund.status == Refund.Status.SUCCEEDED and result.status == "failed":
        return _refund_fail_after_success(refund, result)
    if refund.status != Refund.Status.RESERVED or result.status == "pending":
        return refund
    charge = refund.charge
    if result.status == "succeeded":
        ledger.post_entry(
            key=f"{refund.idempotency_key}:settled",
            memo=f"Refund of {charge.reference} sent to the card",
            lines=[
                Line(ledger.platform_account(AccountKind.REFUNDS_IN_TRANSIT), -refund.total_cents),
                Line(ledger.platform_account(AccountKind.GATEWAY_CLEARING), refund.total_cents),
            ],
            purpose=charge.purpose,
            reference=charge.reference,
        )
        _transition(refund, Refund.Status.SUCCEEDED, record=StatusEvent.Record.REFUND)
        refund.settled_at = timezone.now()
        refund.save(update_fields=["status", "settled_at", "updated_at"])
        _run_handler(refund, registry.handlers_for(charge.purpose).on_refunded, "on_refunded")
        _notify_on_commit(charge.payer, f"{format_cents(refund.total_cents)} was refunded to your card.")
    else:
        reserved = JournalEntry.objects.get(idempotency_key=f"{refund.idempotency_key}:reserved")
        ledger.reverse_entry(
            entry=reserved, key=f"{refund.idempotency_key}:failed", memo="Refund refused: back to escrow"
        )
        _transition(
            refund, Refund.Status.FAILED, record=StatusEvent.Record.REFUND, note=result.failure_message
        )
        refund.failure_message = (result.failure_message or "The refund failed.")[:300]
        refund.settled_at = timezone.now()
        refund.save(update_fields=["status", "failure_message", "settled_at", "updated_at"])
        _run_handler(refund, registry.handlers_for(charge.purpose).on_refund_failed, "on_refund_failed")
    return refund


def _refund_fail_after_success(refund: Refund, result: RefundResult) -> Refund:
    """succeeded -> failed (refund locked by the caller): reverse the settlement (the money
    is at the provider again), then the reservation (back to escrow or revenue)."""
    charge = refund.charge
    settled = JournalEntry.objects.get(idempotency_key=f"{refund.idempotency_key}:settled")
    ledger.reverse_entry(
        entry=settled,
        key=f"{refund.idempotency_key}:settled:reversed",
        memo=f"Refund of {charge.reference} failed at the bank: returned by the provider",
    )
    reserved = JournalEntry.objects.get(idempotency_key=f"{refund.idempotency_key}:reserved")
    ledger.reverse_entry(
        entry=reserved,
        key=f"{refund.idempotency_key}:failed",
        memo=f"Refund of {charge.reference} failed at the bank: back to escrow",
    )
    message = (result.failure_message or "The refund failed at the card's bank.")[:300]
    _transition(refund, Refund.Status.FAILED, record=StatusEvent.Record.REFUND, note=message)
    refund.failure_message = message
    refund.settled_at = timezone.now()
    refund.save(update_fields=["status", "failure_message", "settled_at", "updated_at"])
    log.warning("refund %s of %s failed after it succeeded: %s", refund.pk, charge.reference, message)
    handler = registry.handlers_for(charge.purpose).on_refund_failed
    _run_handler(refund, handler, "on_refund_failed")
    if handler is None:  # otherwise the purpose's handler tells the parties in its own words
        _notify_on_commit(
            charge.payer,
            f"The refund of {format_cents(refund.total_cents)} to your card failed at your bank "
            f"({message}). The money was not returned to you; it is held again until the refund "
            "is sent anew.",
        )
    return refund


# --- payout methods -----------------------------------------------------------------------------


def _require_freelancer(actor: User) -> None:
    if not actor.is_freelancer:
        raise PermissionDeniedError("Only freelancers have payout methods.", code="not_freelancer")


def payout_method_add_bank_account(
    *,
    actor: User,
    holder_name: str,
    routing_number: str,
    account_number: str,
    bank_name: str = "",
    country: str = "US",
) -> PayoutMethod:
    """A bank account for the local gateway: only the last four digits are kept."""
    require_can_act(actor)
    _require_freelancer(actor)
    if not get_gateway().supports_bank_accounts:
        raise ApplicationError(
            "Connect a Stripe account to receive payouts.", code="bank_accounts_unsupported"
        )
    holder = " ".join(str(holder_name or "").split())
    if not 2 <= len(holder) <= 120:
        raise ApplicationError(
            "Enter the account holder's name.", code="invalid", extra={"field": "holder_name"}
        )
    routing = re.sub(r"\s", "", str(routing_number or ""))
    number = re.sub(r"[\s-]", "", str(account_number or ""))
    if not re.fullmatch(r"\d{9}", routing):
        raise ApplicationError(
            "A routing number has 9 digits.", code="invalid_routing_number", extra={"field": "routing_number"}
        )
    if not re.fullmatch(r"\d{4,17}", number):
        raise ApplicationError(
            "An account number has 4 to 17 digits.",
            code="invalid_account_number",
            extra={"field": "account_number"},
        )
    with transaction.atomic():
        method = PayoutMethod.objects.create(
            user=actor,
            kind=PayoutMethod.Kind.BANK_ACCOUNT,
            status=PayoutMethod.Status.ACTIVE,
            gateway=get_gateway().name,
            label=" ".join(str(bank_name or "").split())[:80] or "Bank account",
            holder_name=holder,
            last4=number[-4:],
            country=str(country or "US")[:2].upper(),
            details_submitted=True,
            payouts_enabled=True,
            usable_after=PayoutMethod.default_usable_after(),
        )
        _event(
            StatusEvent.Record.PAYOUT_METHOD, method.pk, actor=actor, from_status="", to_status=method.status
        )
    _notify_on_commit(
        actor,
        f"A payout method was added to your account ({method}). "
        f"It can receive payouts from {method.usable_after:%b %d}. If this was not you, contact support.",
    )
    return method


def payout_method_connect_stripe(
    *, actor: User, return_url: str, refresh_url: str
) -> tuple[PayoutMethod, str]:
    """Create (once) the freelancer's Express connected account and return the onboarding
    link. The method becomes active when ``account.updated`` says payouts are enabled."""
    require_can_act(actor)
    _require_freelancer(actor)
    gateway = get_gateway()
    method = (
        PayoutMethod.objects.filter(user=actor, kind=PayoutMethod.Kind.STRIPE_CONNECT, gateway=gateway.name)
        .exclude(status=PayoutMethod.Status.REMOVED)
        .first()
    )
    if method is None:
        removed = PayoutMethod.objects.filter(user=actor, kind=PayoutMethod.Kind.STRIPE_CONNECT).count()
        try:
            account = gateway.connected_account_create(
                user_id=actor.pk,
                email=actor.email,
                country=settings.STRIPE_CONNECT_COUNTRY,
                idempotency_key=f"connect:{actor.pk}:{removed}",
            )
        except GatewayError as error:
            raise _as_application_error(error)
        with transaction.atomic():
            method, created = PayoutMethod.objects.get_or_create(
                user=actor,
                kind=PayoutMethod.Kind.STRIPE_CONNECT,
                gateway_account_id=account.account_id,
                defaults={
                    "gateway": gateway.name,
                    "label": "Stripe",
                    "status": PayoutMethod.Status.ONBOARDING,
                    "usable_after": PayoutMethod.default_usable_after(),
                },
            )
            if created:
                _event(
                    StatusEvent.Record.PAYOUT_METHOD,
                    method.pk,
                    actor=actor,
                    from_status="",
                    to_status=method.status,
                )
        if account.payouts_enabled:
            payout_method_sync_account(
                account_id=account.account_id,
                details_submitted=account.details_submitted,
                payouts_enabled=account.payouts_enabled,
            )
            method.refresh_from_db()
    url = payout_method_onboarding_link(
        actor=actor, method_id=method.pk, return_url=return_url, refresh_url=refresh_url
    )
    return method, url


def payout_method_onboarding_link(*, actor: User, method_id: int, return_url: str, refresh_url: str) -> str:
    """A fresh onboarding link (links are one-time; the key counts the links made)."""
    with transaction.atomic():
        method = (
            PayoutMethod.objects.select_for_update()
            .filter(pk=method_id, user=actor, kind=PayoutMethod.Kind.STRIPE_CONNECT)
            .exclude(status=PayoutMethod.Status.REMOVED)
            .first()
        )
        if method is None:
            raise NotFoundError("No such payout method.")
        method.link_count += 1
        method.save(update_fields=["link_count"])
    try:
        return get_gateway(method.gateway).connected_account_link(
            account_id=method.gateway_account_id,
            refresh_url=refresh_url,
            return_url=return_url,
            idempotency_key=f"connect-link:{method.pk}:{method.link_count}",
        )
    except GatewayError as error:
        raise _as_application_error(error)


@transaction.atomic
def payout_method_sync_account(
    *, account_id: str, details_submitted: bool, payouts_enabled: bool, provider_time: datetime | None = None
) -> PayoutMethod | None:
    """Apply the connected account's state (``account.updated``). Events older than the
    last one applied are ignored, so out-of-order delivery ends in the same state."""
    method = (
        PayoutMethod.objects.select_for_update()
        .filter(kind=PayoutMethod.Kind.STRIPE_CONNECT, gateway_account_id=account_id)
        .exclude(status=PayoutMethod.Status.REMOVED)
        .first()
    )
    if method is None:
        return None
    if (
        provider_time is not None
        and method.provider_updated_at
        and provider_time < method.provider_updated_at
    ):
        return method
    target = (
        PayoutMethod.Status.ACTIVE
        if payouts_enabled
        else (
            PayoutMethod.Status.RESTRICTED
            if method.status != PayoutMethod.Status.ONBOARDING
            else method.status
        )
    )
    method.details_submitted = details_submitted
    method.payouts_enabled = payouts_enabled
    if provider_time is not None:
        method.provider_updated_at = provider_time
    fields = ["details_submitted", "payouts_enabled", "provider_updated_at"]
    if target != method.status:
        _transition(method, target, record=StatusEvent.Record.PAYOUT_METHOD, note="account.updated")
        fields.append("status")
    method.save(update_fields=fields)
    return method


@transaction.atomic
def payout_method_remove(*, actor: User, method_id: int) -> PayoutMethod:
    require_can_act(actor)
    method = (
        PayoutMethod.objects.select_for_update()
        .filter(pk=method_id, user=actor)
        .exclude(status=PayoutMethod.Status.REMOVED)
        .first()
    )
    if method is None:
        raise NotFoundError("No such payout method.")
    _transition(method, PayoutMethod.Status.REMOVED, record=StatusEvent.Record.PAYOUT_METHOD, actor=actor)
    method.removed_at = timezone.now()
    method.save(update_fields=["status", "removed_at"])
    PayoutSchedule.objects.filter(user=actor, method=method).update(
        method=None, frequency=PayoutSchedule.Frequency.MANUAL
    )
    return method


# --- payouts -------------------------------------------------------------------------------------


def _usable_method(actor: User, method_id: int, now: datetime) -> PayoutMethod:
    method = (
        PayoutMethod.objects.filter(pk=method_id, user=actor)
        .exclude(status=PayoutMethod.Status.REMOVED)
        .first()
    )
    if method is None:
        raise NotFoundError("No such payout method.")
    if method.status == PayoutMethod.Status.ONBOARDING:
        raise ApplicationError(
            "Finish setting up this payout method first.", code="method_not_ready", extra={"field": "method"}
        )
    if method.status != PayoutMethod.Status.ACTIVE:
        raise ApplicationError(
            "The provider has restricted this payout method.",
            code="method_restricted",
            extra={"field": "method"},
        )
    if method.usable_after > now:
        raise ApplicationError(
            f"For your security a new payout method can receive money from {method.usable_after:%b %d, %Y %H:%M} UTC.",
            code="method_too_new",
            extra={"field": "method", "usable_after": method.usable_after.isoformat()},
        )
    return method


@transaction.atomic
def payout_request(
    *,
    actor: User,
    amount_cents: int,
    method_id: int,
    idempotency_key: str = "",
    automatic: bool = False,
) -> Payout:
    """Withdraw from the available balance: available -> payouts in transit now, the
    gateway is called by a task. Idempotent by ``idempotency_key`` (per user)."""
    require_can_act(actor)
    amount = clean_amount(amount_cents, field="amount")
    now = timezone.now()
    key = f"{actor.pk}:{idempotency_key}" if idempotency_key else f"{actor.pk}:once:{uuid.uuid4().hex}"
    existing = Payout.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_payout(existing, amount, method_id)
    if amount < settings.PAYOUT_MIN_CENTS:
        raise ApplicationError(
            f"The smallest withdrawal is {format_cents(settings.PAYOUT_MIN_CENTS)}.",
            code="payout_too_small",
            extra={"field": "amount", "min_cents": settings.PAYOUT_MIN_CENTS},
        )
    method = _usable_method(actor, method_id, now)
    available = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=actor)
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                user=actor,
                method=method,
                amount_cents=amount,
                currency=available.currency,
                automatic=automatic,
                idempotency_key=key,
                gateway=method.gateway,
                requested_at=now,
            )
    except IntegrityError:
        # The same key committed by a concurrent request.
        return _same_payout(Payout.objects.get(idempotency_key=key), amount, method_id)
    try:
        with transaction.atomic():
            ledger.post_entry(
                key=f"payout:{payout.pk}:requested",
                memo=f"Withdrawal of {format_cents(amount)} to {method}",
                lines=[
                    Line(available, -amount),
                    Line(ledger.account_for(AccountKind.PAYOUTS_IN_TRANSIT, owner=actor), amount),
                ],
                purpose="payout",
                reference=f"payout:{payout.pk}",
                actor=actor,
            )
    except InsufficientFundsError as error:
        balance = int(error.extra.get("balance_cents", 0))
        raise ApplicationError(
            f"You can withdraw up to {format_cents(balance)}."
            if balance
            else "You have nothing to withdraw yet.",
            code="insufficient_funds",
            extra={"field": "amount", "available_cents": balance},
        )
    _event(StatusEvent.Record.PAYOUT, payout.pk, actor=actor, from_status="", to_status=payout.status)

    def queue() -> None:
        from .tasks import process_payout

        process_payout.delay(payout.pk)

    transaction.on_commit(queue)
    return payout


def _same_payout(existing: Payout, amount: int, method_id: int) -> Payout:
    if existing.amount_cents != amount or existing.method_id != method_id:
        raise ConflictError("This request key was used for another withdrawal.", code="idempotency_conflict")
    return existing


def _destination(method: PayoutMethod) -> PayoutDestination:
    if method.kind == PayoutMethod.Kind.STRIPE_CONNECT:
        return PayoutDestination(kind="stripe_connect", account_id=method.gateway_account_id)
    return PayoutDestination(kind="bank_account", last4=method.last4)


def _payout_claim(payout_id: int, *, sweeping: bool, now: datetime | None = None) -> Payout | None:
    """Take the payout for this worker: requested -> processing, or a processing one whose
    lease expired (sweeper). None when it is done or another worker holds it."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        payout = Payout.objects.select_for_update().select_related("method").filter(pk=payout_id).first()
        if payout is None:
            return None
        if payout.status == Payout.Status.REQUESTED:
            _transition(payout, Payout.Status.PROCESSING, record=StatusEvent.Record.PAYOUT)
            payout.processing_at = now
        elif payout.status == Payout.Status.PROCESSING:
            if payout.lease_expires_at and payout.lease_expires_at > now:
                return None  # another worker is on it (or waiting for the provider)
            log.info("payout %s taken over (sweeping=%s)", payout.pk, sweeping)
        else:
            return None
        payout.attempts += 1
        payout.lease_expires_at = now + PAYOUT_LEASE
        payout.save(update_fields=["status", "processing_at", "attempts", "lease_expires_at", "updated_at"])
    return payout


def _payout_transfer(payout: Payout) -> Transfer:
    """The transfer to the connected account behind a Stripe payout (once per payout)."""
    return transfer_create(
        payee=payout.user,
        amount_cents=payout.amount_cents,
        destination=payout.method.gateway_account_id,
        purpose="payout",
        reference=f"payout:{payout.pk}",
        idempotency_key=f"payout:{payout.pk}:transfer",
        payout=payout,
        gateway_name=payout.gateway,
    )


def payout_process(*, payout_id: int, sweeping: bool = False, now: datetime | None = None) -> Payout | None:
    """Task body: call the gateway for a payout (no lock held), then record the answer.
    Safe to run twice at once: the claim's lease lets one worker in, and every gateway call
    carries a key derived from the payout."""
    payout = _payout_claim(payout_id, sweeping=sweeping, now=now)
    if payout is None:
        return Payout.objects.filter(pk=payout_id).first()
    gateway = get_gateway(payout.gateway)
    destination = _destination(payout.method)
    metadata = {"payout_id": str(payout.pk), "user_id": str(payout.user_id)}
    try:
        if payout.gateway_payout_id:
            result = gateway.payout_retrieve(payout_id=payout.gateway_payout_id, destination=destination)
        else:
            if destination.kind == "stripe_connect":
                transfer = _payout_transfer(payout)
                if transfer.status != Transfer.Status.SUCCEEDED:
                    result = PayoutResult(
                        status="failed", failure_message=transfer.failure_message or "The transfer failed."
                    )
                    return payout_apply_result(payout_id=payout.pk, result=result)
            result = gateway.payout(
                destination=destination,
                amount_cents=payout.amount_cents,
                currency=payout.currency,
                metadata=metadata,
                idempotency_key=f"payout:{payout.pk}:payout",
            )
    except GatewayError as error:
        if error.retryable:
            Payout.objects.filter(pk=payout.pk).update(
                last_error=error.message[:300], lease_expires_at=timezone.now()
            )
            return Payout.objects.get(pk=payout.pk)
        result = PayoutResult(status="failed", failure_message=error.message)
    if result.status == "failed" and destination.kind == "stripe_connect":
        # The money reached the connected account: pull it back before it is available again.
        return payout_recover(
            payout_id=payout.pk, failure_message=result.failure_message, gateway_result=result
        )
    return payout_apply_result(payout_id=payout.pk, result=result)


@transaction.atomic
def payout_apply_result(*, payout_id: int, result: PayoutResult, actor: User | None = None) -> Payout:
    """Record a payout's outcome (task, webhook, sweeper). Idempotent; out-of-order safe:
    failed is final, paid may still fail (a bank return)."""
    payout = Payout.objects.select_for_update().select_related("method", "user").filter(pk=payout_id).first()
    if payout is None:
        raise NotFoundError("No such payout.")
    if result.payout_id and not payout.gateway_payout_id:
        payout.gateway_payout_id = result.payout_id
        payout.save(update_fields=["gateway_payout_id", "updated_at"])
    now = timezone.now()
    transit = ledger.account_for(AccountKind.PAYOUTS_IN_TRANSIT, owner=payout.user)
    available = ledger.account_for(AccountKind.FREELANCER_AVAILABLE, owner=payout.user)
    clearing = ledger.platform_account(AccountKind.GATEWAY_CLEARING)
    ref = f"payout:{payout.pk}"
    if result.status == "pending":
        if payout.status == Payout.Status.PROCESSING:
            payout.lease_expires_at = now + PAYOUT_PENDING_RECHECK
            payout.last_error = ""
            payout.save(update_fields=["lease_expires_at", "last_error", "updated_at"])
        return payout
    if result.status == "paid":
        if payout.status != Payout.Status.PROCESSING:
            return payout
        ledger.post_entry(
            key=f"{ref}:paid",
            memo=f"Withdrawal of {format_cents(payout.amount_cents)} paid to {payout.method}",
            lines=[Line(transit, -payout.amount_cents), Line(clearing, payout.amount_cents)],
            purpose="payout",
            reference=ref,
            actor=actor,
        )
        _transition(payout, Payout.Status.PAID, record=StatusEvent.Record.PAYOUT, actor=actor)
        payout.paid_at = now
        payout.lease_expires_at = None
        payout.last_error = ""
        payout.save(update_fields=["status", "paid_at", "lease_expires_at", "last_error", "updated_at"])
        _notify_on_commit(payout.user, f"Your withdrawal of {format_cents(payout.amount_cents)} was paid.")
        return payout
    # failed
    if payout.status == Payout.Status.PROCESSING or payout.status == Payout.Status.REQUESTED:
        ledger.post_entry(
            key=f"{ref}:failed",
            memo=f"Withdrawal of {format_cents(payout.amount_cents)} failed: back to available",
            lines=[Line(transit, -payout.amount_cents), Line(available, payout.amount_cents)],
            purpose="payout",
            reference=ref,
            actor=actor,
        )
    elif payout.status == Payout.Status.PAID:
        ledger.post_entry(
            key=f"{ref}:returned",
            memo=f"Withdrawal of {format_cents(payout.amount_cents)} returned by the bank",
            lines=[Line(clearing, -payout.amount_cents), Line(available, payout.amount_cents)],
            purpose="payout",
            reference=ref,
            actor=actor,
        )
    else:
        return payout
    message = (result.failure_message or "The payout failed.")[:300]
    _transition(payout, Payout.Status.FAILED, record=StatusEvent.Record.PAYOUT, actor=actor, note=message)
    payout.failure_message = message
    payout.failed_at = now
    payout.lease_expires_at = None
    payout.save(update_fields=["status", "failure_message", "failed_at", "lease_expires_at", "updated_at"])
    _notify_on_commit(
        payout.user,
        f"Your withdrawal of {format_cents(payout.amount_cents)} failed ({message}); the money is available again.",
    )
    return payout


def payout_recover(
    *, payout_id: int, failure_message: str, gateway_result: PayoutResult | None = None
) -> Payout:
    """A Stripe payout failed after the transfer: reverse the transfer (keyed by payout),
    then mark the payout failed so the money is available again. Outside any transaction."""
    payout = Payout.objects.select_related("method", "user").get(pk=payout_id)
    if payout.status == Payout.Status.FAILED:
        return payout
    transfer = payout.transfers.filter(status=Transfer.Status.SUCCEEDED).first()
    if transfer is not None:
        try:
            transfer_reverse(
                transfer_id=transfer.pk,
                idempotency_key=f"payout:{payout.pk}:reversal",
                amount_cents=None,
            )
        except (GatewayError, ApplicationError) as error:
            message = getattr(error, "message", str(error))
            log.error("payout %s: transfer reversal failed: %s", payout.pk, message)
            Payout.objects.filter(pk=payout.pk).update(
                last_error=f"Transfer reversal failed: {message}"[:300], lease_expires_at=timezone.now()
            )
            return Payout.objects.get(pk=payout.pk)
    return payout_apply_result(
        payout_id=payout.pk,
        result=PayoutResult(
            status="failed",
            payout_id=gateway_result.payout_id if gateway_result else "",
            failure_message=failure_message,
        ),
    )


def payouts_sweep_stuck(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat: take over payouts whose worker died (requested for long, or processing with
    an expired lease) and check pending ones with the provider."""
    now = now or timezone.now()
    stale_requested = Payout.objects.filter(
        status=Payout.Status.REQUESTED, requested_at__lt=now - PAYOUT_LEASE
    ).values_list("pk", flat=True)[:limit]
    expired = Payout.objects.filter(status=Payout.Status.PROCESSING, lease_expires_at__lt=now).values_list(
        "pk", flat=True
    )[:limit]
    done = 0
    for payout_id in [*stale_requested, *expired]:
        payout_process(payout_id=payout_id, sweeping=True, now=now)
        done += 1
    return done


@transaction.atomic
def payout_schedule_set(*, actor: User, frequency: str, method_id: int | None = None) -> PayoutSchedule:
    """Choose automatic withdrawals: weekly or monthly, of the whole available balance."""
    require_can_act(actor)
    _require_freelancer(actor)
    if frequency not in PayoutSchedule.Frequency.values:
        raise ApplicationError(
            "Choose manual, weekly or monthly.", code="invalid", extra={"field": "frequency"}
        )
    method = None
    if frequency != PayoutSchedule.Frequency.MANUAL:
        if method_id is None:
            raise ApplicationError(
                "Choose where automatic withdrawals go.", code="method_required", extra={"field": "method"}
            )
        method = (
            PayoutMethod.objects.filter(pk=method_id, user=actor)
            .exclude(status=PayoutMethod.Status.REMOVED)
            .first()
        )
        if method is None:
            raise NotFoundError("No such payout method.")
    schedule, _ = PayoutSchedule.objects.select_for_update().get_or_create(user=actor)
    schedule.frequency = frequency
    schedule.method = method
    schedule.save(update_fields=["frequency", "method", "updated_at"])
    return schedule


def schedule_period(frequency: str, now: datetime) -> str | None:
    """The period an automatic withdrawal belongs to, or None when none is due today:
    weekly runs from Monday, monthly from the 1st; a missed day catches up later in the
    period, and the key allows one per period."""
    if frequency == PayoutSchedule.Frequency.WEEKLY:
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == PayoutSchedule.Frequency.MONTHLY:
        return f"{now:%Y-%m}"
    return None


def payouts_run_scheduled(*, now: datetime | None = None) -> int:
    """Beat (daily): the automatic withdrawals due; at most one per freelancer and period."""
    now = now or timezone.now()
    made = 0
    schedules = (
        PayoutSchedule.objects.exclude(frequency=PayoutSchedule.Frequency.MANUAL)
        .filter(method__isnull=False)
        .select_related("user", "method")
    )
    for schedule in schedules:
        period = schedule_period(schedule.frequency, now)
        if period is None or schedule.method is None or not schedule.method.is_usable(now):
            continue
        amount = ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=schedule.user)
        if amount < settings.PAYOUT_MIN_CENTS:
            continue
        try:
            payout_request(
                actor=schedule.user,
                amount_cents=amount,
                method_id=schedule.method.pk,
                idempotency_key=f"schedule:{period}",
                automatic=True,
            )
            made += 1
        except ApplicationError as error:
            log.info("scheduled payout skipped user_id=%s: %s", schedule.user_id, error.message)
    return made


# --- transfers -------------------------------------------------------------------------------------


def transfer_create(
    *,
    payee: User,
    amount_cents: int,
    destination: str,
    purpose: str,
    reference: str,
    idempotency_key: str,
    transfer_group: str = "",
    payout: Payout | None = None,
    gateway_name: str | None = None,
) -> Transfer:
    """Send money from the platform's provider balance to a connected account: reserve the
    row, call the gateway (no lock), record the answer. Idempotent by key. The ledger side
    belongs to the caller (a payout already moved the money to payouts in transit)."""
    with transaction.atomic(durable=True):
        transfer, _ = Transfer.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "payee": payee,
                "payout": payout,
                "amount_cents": amount_cents,
                "destination": destination,
                "purpose": purpose,
                "reference": reference,
                "transfer_group": transfer_group,
                "gateway": gateway_name or get_gateway().name,
            },
        )
        if transfer.amount_cents != amount_cents or transfer.destination != destination:
            raise ConflictError(
                "This transfer key was used for another transfer.", code="idempotency_conflict"
            )
        if transfer.status != Transfer.Status.RESERVED:
            return transfer
    try:
        result = get_gateway(transfer.gateway).transfer(
            destination=transfer.destination,
            amount_cents=transfer.amount_cents,
            currency=transfer.currency,
            transfer_group=transfer.transfer_group,
            metadata={"purpose": purpose, "reference": reference, "transfer_key": idempotency_key},
            idempotency_key=idempotency_key,
        )
    except GatewayError as error:
        if error.retryable:
            raise
        with transaction.atomic():
            transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
            if transfer.status == Transfer.Status.RESERVED:
                _transition(
                    transfer, Transfer.Status.FAILED, record=StatusEvent.Record.TRANSFER, note=error.message
                )
                transfer.failure_message = error.message[:300]
                transfer.save(update_fields=["status", "failure_message", "updated_at"])
        return transfer
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status == Transfer.Status.RESERVED:
            _transition(transfer, Transfer.Status.SUCCEEDED, record=StatusEvent.Record.TRANSFER)
            transfer.gateway_transfer_id = result.transfer_id
            transfer.save(update_fields=["status", "gateway_transfer_id", "updated_at"])
            if payout is not None:
                Payout.objects.filter(pk=payout.pk).update(gateway_transfer_id=result.transfer_id)
    return transfer


def transfer_reverse(*, transfer_id: int, idempotency_key: str, amount_cents: int | None = None) -> Transfer:
    """Pull a transfer back from the connected account (all of it by default)."""
    transfer = Transfer.objects.filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFoundError("No such transfer.")
    if transfer.status == Transfer.Status.REVERSED:
        return transfer
    if transfer.status != Transfer.Status.SUCCEEDED:
        raise ApplicationError("Only a completed transfer can be reversed.", code="transfer_not_succeeded")
    amount = (
        transfer.amount_cents - transfer.amount_reversed_cents
        if amount_cents is None
        else clean_amount(amount_cents)
    )
    result = get_gateway(transfer.gateway).transfer_reverse(
        transfer_id=transfer.gateway_transfer_id,
        amount_cents=amount,
        metadata={"reference": transfer.reference},
        idempotency_key=idempotency_key,
    )
    return (
        transfer_mark_reversed(
            gateway_transfer_id=transfer.gateway_transfer_id,
            amount_reversed_cents=transfer.amount_reversed_cents + result.amount_cents,
        )
        or transfer
    )


@transaction.atomic
def transfer_mark_reversed(*, gateway_transfer_id: str, amount_reversed_cents: int) -> Transfer | None:
    """Record how much of a transfer the provider says is reversed (never less than known)."""
    transfer = Transfer.objects.select_for_update().filter(gateway_transfer_id=gateway_transfer_id).first()
    if transfer is None:
        return None
    if amount_reversed_cents > transfer.amount_reversed_cents:
        transfer.amount_reversed_cents = min(amount_reversed_cents, transfer.amount_cents)
        fields = ["amount_reversed_cents", "updated_at"]
        if (
            transfer.amount_reversed_cents >= transfer.amount_cents
            and transfer.status == Transfer.Status.SUCCEEDED
        ):
            _transition(transfer, Transfer.Status.REVERSED, record=StatusEvent.Record.TRANSFER)
            fields.append("status")
        transfer.save(update_fields=fields)
    return transfer


# --- staff corrections -----------------------------------------------------------------------------


@transaction.atomic
def ledger_adjust(
    *,
    actor: User,
    from_account_id: int,
    to_account_id: int,
    amount_cents: int,
    reason: str,
    idempotency_key: str,
) -> JournalEntry:
    """Staff: move ``amount_cents`` from one ledger account to another as one balanced,
    reasoned entry (logged). The only manual way to change a balance."""
    require_can_act(actor)
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can adjust the ledger.", code="staff_only")
    reason = " ".join(str(reason or "").split())
    if len(reason) < 10:
        raise ApplicationError(
            "Explain the adjustment (at least 10 characters).",
            code="reason_required",
            extra={"field": "reason"},
        )
    amount = clean_amount(amount_cents, field="amount")
    if from_account_id == to_account_id:
        raise ApplicationError(
            "Choose two different accounts.", code="same_account", extra={"field": "to_account"}
        )
    accounts = {a.pk: a for a in LedgerAccount.objects.filter(pk__in=[from_account_id, to_account_id])}
    if len(accounts) != 2:
        raise NotFoundError("No such ledger account.")
    entry = ledger.post_entry(
        key=f"adjust:{clean_reference(idempotency_key, field='idempotency_key')}",
        memo=f"Adjustment by {actor.email}: {reason}",
        lines=[Line(accounts[from_account_id], -amount), Line(accounts[to_account_id], amount)],
        purpose="manual_adjustment",
        actor=actor,
    )
    log.warning(
        "ledger adjustment entry_id=%s by user_id=%s: %s cents from account %s to %s: %s",
        entry.pk,
        actor.pk,
        amount,
        from_account_id,
        to_account_id,
        reason,
    )
    return entry


# --- invoices and receipts -------------------------------------------------------------------------


def _invoice_source(kind: str, source_id: int) -> tuple[Any, int | None]:
    """The locked record an invoice of ``kind`` is for, and who it belongs to (None: not
    a record that gets a receipt)."""
    from .models import Invoice, Posting

    if kind == Invoice.Kind.PAYMENT:
        charge = Charge.objects.select_for_update().filter(pk=source_id).first()
        if charge is None or charge.status != Charge.Status.SUCCEEDED:
            return None, None
        return charge, charge.payer_id
    if kind == Invoice.Kind.PAYOUT:
        payout = Payout.objects.select_for_update().filter(pk=source_id).first()
        if payout is None or payout.status != Payout.Status.PAID:
            return None, None
        return payout, payout.user_id
    if kind == Invoice.Kind.EARNINGS:
        entry = JournalEntry.objects.filter(pk=source_id, reverses__isnull=True).first()
        earning = (
            Posting.objects.filter(
                entry_id=source_id,
                account__kind=AccountKind.FREELANCER_PENDING,
                amount_cents__gt=0,
                clears__isnull=True,
            )
            .values_list("account__owner_id", flat=True)
            .first()
        )
        if entry is None or earning is None:
            return None, None
        return entry, earning
    return None, None


def _next_invoice_number(year: int) -> tuple[int, str]:
    """Take the next number of ``year`` under the counter row's lock (the caller's
    transaction holds it until commit, so numbers are never repeated or skipped)."""
    from .models import InvoiceCounter

    InvoiceCounter.objects.get_or_create(year=year)
    counter = InvoiceCounter.objects.select_for_update().get(year=year)
    counter.last_sequence += 1
    counter.save(update_fields=["last_sequence"])
    return counter.last_sequence, f"{year}-{counter.last_sequence:06d}"


def invoice_issue(*, actor: User, kind: str, source_id: int) -> Any:
    """The numbered invoice of a payment, a release or a paid withdrawal, issued on first
    request (once: unique per record) for the party it concerns; anyone else gets
    ``NotFoundError``. Locks the record, then the year's counter."""
    from .models import Invoice

    field = {
        Invoice.Kind.PAYMENT: "charge",
        Invoice.Kind.EARNINGS: "entry",
        Invoice.Kind.PAYOUT: "payout",
    }.get(
        kind  # type: ignore[call-overload]
    )
    if field is None:
        raise NotFoundError("No such receipt.")
    existing = Invoice.objects.filter(kind=kind, **{f"{field}_id": source_id}).first()
    if existing is not None:
        if existing.recipient_id != actor.pk:
            raise NotFoundError("No such receipt.")
        return existing
    try:
        with transaction.atomic():
            source, owner_id = _invoice_source(kind, source_id)
            if source is None or owner_id != actor.pk:
                raise NotFoundError("No such receipt.")
            found = Invoice.objects.filter(kind=kind, **{f"{field}_id": source_id}).first()
            if found is not None:
                return found
            now = timezone.now()
            sequence, number = _next_invoice_number(now.year)
            return Invoice.objects.create(
                number=number,
                year=now.year,
                sequence=sequence,
                kind=kind,
                recipient=actor,
                issued_at=now,
                **{field: source},
            )
    except IntegrityError:
        # Issued by a concurrent request for the same record (the number was rolled back).
        return Invoice.objects.get(kind=kind, **{f"{field}_id": source_id})
