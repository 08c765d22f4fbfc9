"""HTML views of the contracts app, split by area (offers, contracts)."""
