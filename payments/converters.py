"""URL converters of payments: statement months as ``2026-03``."""

from django.urls import register_converter


class YearConverter:
    """A four-digit year (``2026``)."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):04d}"


class MonthConverter:
    """A zero-padded month (``03``)."""

    regex = "[0-9]{2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):02d}"


_registered = False


def register() -> None:
    """Register ``yyyy`` and ``mm`` once (both URL modules of payments call this)."""
    global _registered
    if not _registered:
        register_converter(YearConverter, "yyyy")
        register_converter(MonthConverter, "mm")
        _registered = True
