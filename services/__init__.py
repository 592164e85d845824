"""Vigie services: everything that is not UI (no Dash import here)."""
