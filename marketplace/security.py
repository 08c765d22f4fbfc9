"""Security plumbing shared by every app.

- ``log_event``: one structured record per security event on the ``marketplace.security``
  logger, as ``key=value`` text (and the same fields as ``record.security`` for JSON
  handlers): action, outcome, user id, client IP, the object concerned. Field names that
  could carry a secret (passwords, tokens, card or account numbers) are never written.
- Receivers for sign-ins, failed sign-ins, sign-outs, password and email changes.
- ``SecurityAuditMiddleware``: remembers the current request (so that services and the
  ledger can log who and from where), logs permission denials (403, and 404 raised by the
  permission layer) and money actions taken over HTTP.
- ``ContentSecurityPolicyMiddleware``: django-csp plus the websocket origin of this host in
  ``connect-src``, and the Permissions-Policy header.
- ``recently_reauthenticated``: whether the user confirmed their password within
  ``REAUTH_WINDOW_SECONDS``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict
from typing import Any

from allauth.account import signals as allauth_signals
from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from .errors import ApplicationError
from .net import client_ip

security_log = logging.getLogger("marketplace.security")

_current_request: ContextVar[HttpRequest | None] = ContextVar("security_request", default=None)

# A field whose name matches is dropped from the record, whatever its value.
SECRET_NAME = re.compile(
    r"pass(word)?|secret|token|session|cookie|csrf|card|cvc|cvv|iban|routing|account_number|otp|"
    r"\bkey\b|api_key|authorization",
    re.IGNORECASE,
)
_UNSAFE_VALUE = re.compile(r"[\s\"\\=]")
# Values are free text (a refusal's reason): anything shaped like a card or account number
# is masked all the same.
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")

# HTTP routes that move money or change where it goes (URL name -> action logged).
MONEY_ACTIONS: dict[str, str] = {
    "contracts:milestone_fund": "fund",
    "api_milestone_fund": "fund",
    "jobs:service_buy": "fund",
    "api_service_buy": "fund",
    "jobs:service_pay": "fund",
    "api_service_order_pay": "fund",
    "contracts:milestone_approve": "release",
    "api_milestone_approve": "release",
    "jobs:service_approve": "release",
    "api_service_order_approve": "release",
    "contracts:bonus": "release",
    "api_contract_bonus": "release",
    "contracts:milestone_refund": "refund",
    "api_milestone_refund": "refund",
    "contracts:milestone_refund_request": "refund_request",
    "api_milestone_refund_request": "refund_request",
    "contracts:dispute_proposal_accept": "distribution",
    "api_dispute_proposal_accept": "distribution",
    "payments:withdraw": "payout",
    "api_withdrawals": "payout",
    "payments:payout_method_bank": "payout_method_add",
    "api_payout_method_bank_account": "payout_method_add",
    "payments:payout_method_stripe": "payout_method_add",
    "api_payout_method_stripe": "payout_method_add",
    "payments:payout_method_remove": "payout_method_remove",
    "api_payout_method": "payout_method_remove",
    "payments:card_add": "payment_method_add",
    "api_cards": "payment_method_add",
    "proposals:connects_card_add": "payment_method_add",
    "proposals:connects_buy": "connects_purchase",
    "api_connects_purchase": "connects_purchase",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ").replace("\r", " ")[:200]
    if text == "" or _UNSAFE_VALUE.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def current_request() -> HttpRequest | None:
    """The request being served on this thread or task, if any."""
    return _current_request.get()


def _request_fields(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {"user_id": None, "ip": None}
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return {"user_id": user_id, "ip": client_ip(request) or None}


def log_event(
    action: str,
    *,
    outcome: str = "success",
    request: HttpRequest | None = None,
    user_id: int | None = None,
    level: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Write one security record; returns the fields written (without dropped secrets).

    ``user_id`` and ``ip`` come from ``request`` (or the request being served); an explicit
    ``user_id`` wins. Extra fields are free-form (``object="milestone:12"``,
    ``status=403``); any whose name looks like a secret is left out.
    """
    record: dict[str, Any] = {"action": action, "outcome": outcome}
    record.update(_request_fields(request or current_request()))
    if user_id is not None:
        record["user_id"] = user_id
    for name, value in fields.items():
        if SECRET_NAME.search(name):
            continue
        record[name] = _CARD_LIKE.sub("[redacted]", value) if isinstance(value, str) else value
    if level is None:
        level = logging.INFO if outcome == "success" else logging.WARNING
    message = " ".join(f"{name}={_text(value)}" for name, value in record.items())
    security_log.log(level, message, extra={"security": record})
    return record


def account_hint(login: str | None) -> str:
    """A stable pseudonym for the account name a failed sign-in tried: enough to correlate
    attempts, and no leak when someone types their password into the email field."""
    if not login:
        return ""
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()[:16]


# --- sign-in and account events ----------------------------------------------------------------


@receiver(auth_signals.user_logged_in, dispatch_uid="security_login")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_event("login", request=request, user_id=user.pk)


@receiver(auth_signals.user_logged_out, dispatch_uid="security_logout")
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_event("logout", request=request, user_id=getattr(user, "pk", None))


@receiver(auth_signals.user_login_failed, dispatch_uid="security_login_failed")
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    login = credentials.get("email") or credentials.get("username") or credentials.get("login")
    log_event("login_failed", outcome="failure", request=request, account=account_hint(login))


@receiver(allauth_signals.password_changed, dispatch_uid="security_password_changed")
def _on_password_changed(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    log_event("password_change", request=request, user_id=user.pk)


@receiver(allauth_signals.password_reset, dispatch_uid="security_password_reset")
def _on_password_reset(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    log_event("password_reset", request=request, user_id=user.pk)


@receiver(allauth_signals.email_changed, dispatch_uid="security_email_changed")
def _on_email_changed(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    log_event("email_change", request=request, user_id=user.pk)


# --- permission denials and money actions over HTTP ----------------------------------------------


def log_denial(request: HttpRequest | None, *, status: int, reason: str = "") -> None:
    """Record a 403, or a 404 raised by the permission layer (one record per request)."""
    request = getattr(request, "_request", request)  # DRF's Request wraps the HttpRequest
    if request is not None:
        if getattr(request, "_security_denial_logged", False):
            return
        setattr(request, "_security_denial_logged", True)  # noqa: B010 - not a declared attribute
    log_event(
        "permission_denied",
        outcome="denied",
        request=request,
        status=status,
        method=request.method if request is not None else None,
        path=request.path if request is not None else None,
        reason=reason[:120],
    )


def denial_status(exception: BaseException) -> int | None:
    """403 or 404 when ``exception`` is a permission-layer refusal, else None."""
    if isinstance(exception, ApplicationError):
        return exception.status_code if exception.status_code in (403, 404) else None
    if isinstance(exception, PermissionDenied):
        return 403
    if isinstance(exception, Http404):
        return 404
    status = getattr(exception, "status_code", None)
    if status in (403, 404) and exception.__class__.__module__.startswith("rest_framework"):
        return int(status)
    return None


class SecurityAuditMiddleware:
    """Keeps the request in a context variable for ``log_event`` and logs permission
    denials and money actions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
            self._after(request, response)
            return response
        finally:
            _current_request.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        status = denial_status(exception)
        if status is not None:
            message = getattr(exception, "message", None) or str(exception)
            log_denial(request, status=status, reason=message)

    def _after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        if response.status_code == 403:
            log_denial(request, status=403, reason="forbidden")
        match = getattr(request, "resolver_match", None)
        if match is None or request.method not in UNSAFE_METHODS:
            return
        action = MONEY_ACTIONS.get(match.view_name)
        if action is None:
            return
        status = response.status_code
        outcome = "success" if status < 400 else ("denied" if status in (401, 403, 404) else "rejected")
        kwargs = ",".join(f"{k}:{v}" for k, v in sorted(match.kwargs.items()))
        log_event(
            f"money.{action}",
            outcome=outcome,
            request=request,
            object=f"{match.view_name}({kwargs})",
            method=request.method,
            status=status,
        )


def log_ledger_entry_on_commit(
    *, entry_id: int, purpose: str, reference: str, amount_cents: int, actor_id: int | None
) -> None:
    """One record per ledger entry, written when it commits (called by payments.ledger): the
    money action whatever started it (a view, a task, a webhook, the admin). The request
    (for the IP, and the user when no actor is given) is the one being served now."""
    request = current_request()

    def write() -> None:
        log_event(
            f"money.ledger.{purpose or 'entry'}",
            request=request,
            user_id=actor_id,
            object=f"journal_entry:{entry_id}",
            reference=reference,
            amount_cents=amount_cents,
        )

    transaction.on_commit(write)


# --- headers: CSP with the websocket origin, Permissions-Policy ----------------------------------


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; adds ``ws://host`` and ``wss://host`` of this request to
    ``connect-src`` (CSP's 'self' does not cover websockets in every browser) and sends the
    Permissions-Policy header."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        update = dict(parts.update or {})
        connect = list(update.get("connect-src") or [])
        connect += [f"ws://{host}", f"wss://{host}"]
        update["connect-src"] = connect
        parts.update = update
        return parts

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        header = self._remembered_policy(request, response)
        if header is None:
            response = super().process_response(request, response)
        else:
            response[CSP_HEADER] = header
            if getattr(request, "_csp_nonce", None) is None:  # as django-csp: too late now
                setattr(request, "csp_nonce", CheckableLazyObject(self._csp_nonce_post_response))  # noqa: B010
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response

    def _remembered_policy(self, request: HttpRequest, response: HttpResponseBase) -> str | None:
        """This response's Content-Security-Policy header from the policies this process
        built already, one per host and with or without a nonce (the nonce put in); None
        when django-csp is to write it as usual: a view's own policy (``csp_update``,
        ``csp_exempt``...), a report-only policy, excluded paths, DEBUG's error pages, a
        header set already. Building the policy was the largest single cost of a cached
        page for a signed-in viewer (8% of a worker's CPU); a test compares the two."""
        policy_settings = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        if (
            getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or policy_settings.get("EXCLUDE_URL_PREFIXES")
            or CSP_HEADER in response
            or (settings.DEBUG and response.status_code in (404, 500))
            or any(hasattr(response, name) for name in _VIEW_POLICY_ATTRIBUTES)
        ):
            return None
        try:
            host = request.get_host()
        except DisallowedHost:
            return None
        nonce = getattr(request, "_csp_nonce", None)  # set when the page used one
        key = (host, nonce is not None)
        policy = _policies.get(key)
        if policy is None:
            parts = self.get_policy_parts(request, response)
            parts.nonce = _NONCE_STAND_IN if nonce is not None else None
            policy = build_policy(**asdict(parts))
            if len(_policies) >= 256:  # hosts are few (ALLOWED_HOSTS); bounded anyway
                _policies.clear()
            _policies[key] = policy
        return policy.replace(_NONCE_STAND_IN, nonce) if nonce is not None else policy


# what django-csp's decorators set on a response for its own policy
_VIEW_POLICY_ATTRIBUTES = tuple(
    f"_csp_{kind}{suffix}" for kind in ("exempt", "config", "update", "replace") for suffix in ("", "_ro")
)
_NONCE_STAND_IN = "marketplacecspnonce"  # letters: a nonce (base64) never contains it
_policies: dict[tuple[str, bool], str] = {}


@receiver(setting_changed)
def _forget_policies(setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _policies.clear()


# --- re-authentication ---------------------------------------------------------------------------


def recently_reauthenticated(request: HttpRequest) -> bool:
    """Whether the user confirmed their password (or MFA) within REAUTH_WINDOW_SECONDS."""
    from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate

    return bool(did_recently_reauthenticate(request))


def swagger_csp(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let the API docs page load Swagger UI from its CDN (scripts and styles only)."""
    from csp.decorators import csp_update

    cdn = settings.SWAGGER_UI_CDN
    return csp_update({"script-src": [cdn], "style-src": [cdn], "img-src": [cdn]})(view)
