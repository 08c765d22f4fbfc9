"""Every fee of the marketplace, computed in one place.

Fees are basis points (1 bp = 0.01 %) configured in settings. Rounding rule: a fee is
rounded half up to the whole cent (``fee = floor((amount * bps + 5000) / 10000)``), and the
freelancer receives ``amount - fee``, so the parts always add up to the amount exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


def fee_cents(amount_cents: int, bps: int) -> int:
    """``amount_cents * bps / 10000`` rounded half up to the cent. Integers only."""
    if amount_cents < 0 or bps < 0:
        raise ValueError("amount and basis points must not be negative")
    return (amount_cents * bps + 5000) // 10000


@dataclass(frozen=True)
class FreelancerEarnings:
    gross_cents: int
    fee_cents: int
    net_cents: int
    fee_bps: int


def freelancer_earnings(amount_cents: int) -> FreelancerEarnings:
    """What a freelancer receives from ``amount_cents`` after the service fee."""
    bps = settings.FREELANCER_SERVICE_FEE_BPS
    fee = fee_cents(amount_cents, bps)
    return FreelancerEarnings(
        gross_cents=amount_cents, fee_cents=fee, net_cents=amount_cents - fee, fee_bps=bps
    )


def client_marketplace_fee(amount_cents: int) -> int:
    """The client's marketplace fee on a payment of ``amount_cents``, shown as its own line."""
    return fee_cents(amount_cents, settings.CLIENT_MARKETPLACE_FEE_BPS)
