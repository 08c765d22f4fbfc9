"""Money helpers: integer cents in, display strings out. No floats anywhere."""

from __future__ import annotations

import re

from .errors import ApplicationError

_AMOUNT_RE = re.compile(r"^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$")


def format_cents(cents: int | None, currency: str = "USD") -> str:
    """``123456`` -> ``$1,234.56``."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def parse_amount_to_cents(text: str) -> int:
    """``"12.5"`` -> ``1250``. Raises ApplicationError for anything else."""
    match = _AMOUNT_RE.match(str(text))
    if not match:
        raise ApplicationError("Enter an amount like 25 or 25.50.", code="invalid_amount")
    whole, frac = match.groups()
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))
