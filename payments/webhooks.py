"""Stripe webhooks: verified, stored once by event id, processed by a task.

``webhook_receive`` checks the ``Stripe-Signature`` header with the SDK (HMAC-SHA256 of
``f"{t}.{payload}"`` with the signing secret, and the timestamp not older than the
tolerance) and also refuses timestamps further in the future than the tolerance (the SDK
does not). Nothing is written for a rejected request. An event is stored by its unique
id (a duplicate delivery is a no-op) and processed after commit by
``payments.process_webhook_event``, which records the outcome; processing is idempotent
and each handler reaches the same final state whatever order events come in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.ids import as_id, is_id

from . import services
from .gateways.base import ChargeResult, PayoutResult, RefundResult
from .models import Charge, Payout, PayoutMethod, Refund, Transfer, WebhookEvent

log = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """The request is not an authentic, well-formed Stripe event (answer 400)."""


def _timestamp(header: str) -> int:
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and is_id(value):
            return int(value)
    raise WebhookRejected("Unable to extract timestamp and signatures from header")


def verify(payload: bytes, header: str | None) -> dict[str, Any]:
    """The verified event as a dict, or ``WebhookRejected``."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    if not secret:
        log.error("stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        raise WebhookRejected("Webhooks are not configured.")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(str(error.user_message or error))
    assert header is not None
    if _timestamp(header) > time.time() + tolerance:
        raise WebhookRejected("Timestamp outside the tolerance zone (in the future)")
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookRejected("The payload is not JSON.")
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookRejected("The payload is not an event.")
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict):
        raise WebhookRejected("The event has no object.")
    return event


def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify and store an event; returns it and whether it is new. Processing is queued
    after commit (only for a new event)."""
    event = verify(payload, signature)
    created_ts = event.get("created")
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=str(event["id"])[:100],
                type=str(event["type"])[:80],
                account=str(event.get("account") or "")[:100],
                payload=event,
                event_created_at=datetime.fromtimestamp(int(created_ts), tz=UTC)
                if isinstance(created_ts, int)
                else None,
            )

            def queue() -> None:
                from .tasks import process_webhook_event

                process_webhook_event.delay(record.pk)

            transaction.on_commit(queue)
    except IntegrityError:
        return WebhookEvent.objects.get(event_id=str(event["id"])[:100]), False
    return record, True


# --- handlers: (event) -> outcome ---------------------------------------------------------------


def _object(event: WebhookEvent) -> dict[str, Any]:
    return event.payload["data"]["object"]


def _charge_for(obj: dict[str, Any]) -> Charge | None:
    key = (obj.get("metadata") or {}).get("charge_key")
    if key:
        found = Charge.objects.filter(idempotency_key=key).first()
        if found is not None:
            return found
    return Charge.objects.filter(gateway="stripe", gateway_payment_id=str(obj.get("id", ""))).first()


def _payment_intent_succeeded(event: WebhookEvent) -> str:
    obj = _object(event)
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: no charge for this payment intent"
    charge = services.charge_settle(
        charge_id=charge.pk,
        result=ChargeResult(
            status="succeeded",
            payment_id=str(obj.get("id", "")),
            charge_id=str(obj.get("latest_charge") or ""),
        ),
    )
    if charge.status == Charge.Status.FAILED:
        # Money arrived for a charge we recorded as failed: staff must refund or re-attach it.
        log.error("payment intent %s succeeded for failed charge %s: needs review", obj.get("id"), charge.pk)
        return f"charge {charge.pk} is failed but the provider took the money: needs review"
    return f"charge {charge.pk} {charge.status}"


def _payment_intent_failed(event: WebhookEvent) -> str:
    obj = _object(event)
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: no charge for this payment intent"
    error = obj.get("last_payment_error") or {}
    charge = services.charge_settle(
        charge_id=charge.pk,
        result=ChargeResult(
            status="failed",
            payment_id=str(obj.get("id", "")),
            failure_code=str(error.get("decline_code") or error.get("code") or "card_declined"),
            failure_message=str(error.get("message") or "The payment failed."),
        ),
    )
    return f"charge {charge.pk} {charge.status}"


def _account_updated(event: WebhookEvent) -> str:
    obj = _object(event)
    method = services.payout_method_sync_account(
        account_id=str(obj.get("id", "")),
        details_submitted=bool(obj.get("details_submitted")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        provider_time=event.event_created_at,
    )
    if method is None:
        return "ignored: no payout method for this account"
    return f"payout method {method.pk} {method.status}"


def _payout_for(obj: dict[str, Any]) -> Payout | None:
    found = Payout.objects.filter(gateway="stripe", gateway_payout_id=str(obj.get("id", ""))).first()
    if found is None:
        payout_id = as_id(str((obj.get("metadata") or {}).get("payout_id", "")))
        if payout_id is not None:
            found = Payout.objects.filter(pk=payout_id).first()
    return found


def _payout_paid(event: WebhookEvent) -> str:
    obj = _object(event)
    payout = _payout_for(obj)
    if payout is None:
        return "ignored: no payout"
    payout = services.payout_apply_result(
        payout_id=payout.pk, result=PayoutResult(status="paid", payout_id=str(obj.get("id", "")))
    )
    return f"payout {payout.pk} {payout.status}"


def _payout_failed(event: WebhookEvent) -> str:
    obj = _object(event)
    payout = _payout_for(obj)
    if payout is None:
        return "ignored: no payout"
    message = str(obj.get("failure_message") or "The bank refused the payout.")
    if payout.status == Payout.Status.FAILED:
        return f"payout {payout.pk} already failed"
    if payout.method.kind == PayoutMethod.Kind.STRIPE_CONNECT:
        # The money went back to the connected account: reverse the transfer (a gateway
        # call, so in a task after commit) before the balance is available again.
        payout_pk = payout.pk

        def queue() -> None:
            from .tasks import recover_payout

            recover_payout.delay(payout_pk, message)

        transaction.on_commit(queue)
        return f"payout {payout.pk}: transfer reversal queued"
    payout = services.payout_apply_result(
        payout_id=payout.pk,
        result=PayoutResult(status="failed", payout_id=str(obj.get("id", "")), failure_message=message),
    )
    return f"payout {payout.pk} {payout.status}"


def _transfer_reversed(event: WebhookEvent) -> str:
    obj = _object(event)
    transfer = services.transfer_mark_reversed(
        gateway_transfer_id=str(obj.get("id", "")), amount_reversed_cents=int(obj.get("amount_reversed") or 0)
    )
    if transfer is None:
        return "ignored: no transfer"
    if transfer.payout_id is None or transfer.status != Transfer.Status.REVERSED:
        return f"transfer {transfer.pk} reversed {transfer.amount_reversed_cents}"
    payout = Payout.objects.get(pk=transfer.payout_id)
    if payout.status == Payout.Status.PROCESSING:
        payout = services.payout_apply_result(
            payout_id=payout.pk,
            result=PayoutResult(
                status="failed", failure_message="The transfer to your Stripe account was reversed."
            ),
        )
        return f"transfer {transfer.pk} reversed; payout {payout.pk} {payout.status}"
    if payout.status == Payout.Status.PAID:
        log.warning("transfer %s reversed after payout %s was paid: needs review", transfer.pk, payout.pk)
        return f"transfer {transfer.pk} reversed after payout {payout.pk} was paid: needs review"
    return f"transfer {transfer.pk} reversed; payout {payout.pk} {payout.status}"


def _refund_for(obj: dict[str, Any]) -> Refund | None:
    key = (obj.get("metadata") or {}).get("refund_key")
    if key:
        found = Refund.objects.filter(idempotency_key=str(key)).first()
        if found is not None:
            return found
    refund_id = str(obj.get("id", ""))
    if not refund_id:
        return None
    return Refund.objects.filter(charge__gateway="stripe", gateway_refund_id=refund_id).first()


def _external_refund(obj: dict[str, Any]) -> Refund | None:
    """A refund made at Stripe directly (the Dashboard) of one of our charges: recorded
    (reserved) here, then settled like ours. None when the charge is not ours."""
    payment_id = str(obj.get("payment_intent") or "")
    charge = (
        Charge.objects.filter(gateway="stripe", gateway_payment_id=payment_id, status=Charge.Status.SUCCEEDED)
        .order_by("-pk")
        .first()
        if payment_id
        else None
    )
    if charge is None or not obj.get("id") or not is_id(obj.get("amount")):
        return None
    return services.refund_record_external(
        charge_id=charge.pk, gateway_refund_id=str(obj["id"]), total_cents=int(obj["amount"])
    )


def _refund_updated(event: WebhookEvent) -> str:
    """``refund.created``, ``charge.refund.updated``, ``refund.updated`` and
    ``refund.failed``: a refund that was pending settles, or one fails late (even after it
    was reported succeeded); a refund made in Stripe's Dashboard is recorded first. The refund's
    status in the event is the provider's current one; a failed refund is final, so events
    arriving out of order end in the same state."""
    obj = _object(event)
    if obj.get("object") not in (None, "refund"):
        return "ignored: not a refund"
    refund = _refund_for(obj)
    if refund is None:
        refund = _external_refund(obj)
    if refund is None:
        return "ignored: no refund for this provider refund"
    status = "failed" if event.type == "refund.failed" else str(obj.get("status") or "")
    refund_id = str(obj.get("id", ""))
    if status == "succeeded":
        result = RefundResult(status="succeeded", refund_id=refund_id)
    elif status in ("failed", "canceled"):
        reason = str(obj.get("failure_reason") or "").replace("_", " ")
        message = f"The card's bank refused the refund ({reason})." if reason else "The refund failed."
        result = RefundResult(status="failed", refund_id=refund_id, failure_message=message)
    else:
        result = RefundResult(status="pending", refund_id=refund_id)
    before = refund.status
    refund = services.refund_settle(refund_id=refund.pk, result=result)
    if before == refund.status:
        return f"refund {refund.pk} {refund.status} (provider: {status or 'unknown'})"
    return f"refund {refund.pk} {before} -> {refund.status}"


HANDLERS: dict[str, Callable[[WebhookEvent], str]] = {
    "refund.created": _refund_updated,
    "charge.refund.updated": _refund_updated,
    "refund.updated": _refund_updated,
    "refund.failed": _refund_updated,
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_intent_failed,
    "account.updated": _account_updated,
    "payout.paid": _payout_paid,
    "payout.failed": _payout_failed,
    "transfer.reversed": _transfer_reversed,
}


def webhook_process(*, event_pk: int) -> WebhookEvent | None:
    """Process a stored event once: the row lock serialises workers, ``processed_at``
    marks it done in the same transaction as its effect. A handler that raises leaves it
    unprocessed (with the error) for the sweeper."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.processed_at is not None:
            return event
        event.attempts += 1
        handler = HANDLERS.get(event.type)
        try:
            with transaction.atomic():
                outcome = handler(event) if handler is not None else "ignored: event type not handled"
        except Exception as error:
            log.exception("stripe webhook %s (%s) failed", event.event_id, event.type)
            event.last_error = f"{type(error).__name__}: {error}"[:2000]
            event.save(update_fields=["attempts", "last_error"])
            return event
        event.processed_at = timezone.now()
        event.outcome = outcome[:300]
        event.save(update_fields=["attempts", "processed_at", "outcome"])
    return event


def webhooks_sweep(*, limit: int = 100, max_attempts: int = 10) -> int:
    """Beat: process events stored but not processed (a lost task, a failed handler)."""
    cutoff = timezone.now() - timedelta(minutes=1)
    ids = list(
        WebhookEvent.objects.filter(
            processed_at__isnull=True, received_at__lt=cutoff, attempts__lt=max_attempts
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        webhook_process(event_pk=pk)
    return len(ids)
