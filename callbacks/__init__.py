"""Thin adapters between the page and the services (Dash callbacks, the UI's HTTP endpoints)."""
