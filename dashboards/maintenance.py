"""`/maintenance`: work orders on a map and in a grid (filters, CSV), one order's story and its next steps, the rounds."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from layouts.maintenance import maintenance_page


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The maintenance page in the request's language and theme."""
    return maintenance_page(current_ui().page_data("maintenance", (), lang, theme, alarm_rows=0))


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.maintenance", path="/maintenance", name="maintenance", title="Vigie · Maintenance", layout=layout)
