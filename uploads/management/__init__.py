"""The shelf's management commands and what they share (exit statuses)."""
