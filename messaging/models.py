"""Models of this app arrive with its roadmap issue."""
