"""Saved-search alerts (placeholder interface, being written)."""


def saved_search_alerts_send() -> int:
    return 0
