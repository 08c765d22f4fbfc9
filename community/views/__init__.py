"""HTML views of the community app, one module per part (forums, help center, events)."""
