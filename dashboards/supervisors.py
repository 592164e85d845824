"""`/supervisors`: the registry of supervisors for engineers (approve, reject, remove; two publishers; quarantine)."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from callbacks.supervisors import registry_data
from layouts.supervisors import supervisors_page


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The registry in the request's language and theme."""
    data = current_ui().page_data("supervisors", (), lang, theme, alarm_rows=0)  # no map, no domain KPI tiles
    return supervisors_page(data, registry_data())


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.supervisors", path="/supervisors", name="supervisors", title="Vigie · Superviseurs", layout=layout)
