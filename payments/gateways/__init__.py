"""Payment gateways, chosen by ``settings.PAYMENTS_GATEWAY`` ("local" or "stripe")."""

from __future__ import annotations

from django.conf import settings

from .base import Gateway, GatewayError

__all__ = ["Gateway", "GatewayError", "get_gateway"]


def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway (or the one a record was made with, by ``name``)."""
    name = name or settings.PAYMENTS_GATEWAY
    if name == "local":
        from .local import LocalGateway

        return LocalGateway()
    if name == "stripe":
        from .stripe import StripeGateway

        return StripeGateway()
    raise GatewayError(f"Unknown payment gateway {name!r}.", retryable=False, code="provider_configuration")
