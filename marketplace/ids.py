"""Whole numbers from URLs, query strings and form fields.

``str.isdigit`` is true for digits ``int`` refuses ("²", "①") and for other scripts' digits
("٣"): ``int(text) if text.isdigit()`` turns such input into a 500. These accept ASCII digits
only, and no more than fit in a bigint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_DIGITS = 18  # every 18-digit number fits in PostgreSQL's bigint


def is_id(value: Any) -> bool:
    """Whether ``value`` (a string) is a non-negative whole number in ASCII digits."""
    text = str(value or "")
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS


def as_id(value: Any) -> int | None:
    """``value`` as a whole number, or None for anything else (blank, letters, "²", too long)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    return int(str(value)) if is_id(value) else None


def as_ids(values: Iterable[Any]) -> list[int]:
    """The whole numbers among ``values`` (a query string's ``getlist``), in order."""
    return [n for n in (as_id(v) for v in values) if n is not None]
