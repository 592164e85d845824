"""`/alarms/kpis`: the health of the alarm system itself (EEMUA 191 KPIs)."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from layouts.alarm_kpis import alarm_kpi_page
from services.alarms.actions import ActionsUnavailable
from services.web.alarms import alarm_service


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The KPI page in the request's language and theme."""
    ui = current_ui()
    try:
        report = alarm_service().actions.kpis()
    except (ActionsUnavailable, KeyError):
        report = None
    data = ui.page_data("alarm_kpis", (), lang, theme, alarm_rows=0)  # no map, no domain KPI tiles
    return alarm_kpi_page(data, report)


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.alarm_kpis", path="/alarms/kpis", name="alarm_kpis", title="Vigie · Santé des alarmes", layout=layout)
