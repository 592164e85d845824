"""The alarm KPI page's one callback: a fresh report when the browser saw the summary's KPI tiles move."""
from __future__ import annotations

from dash import Dash, Input, Output, State, no_update

from layouts import alarms_ids as aids
from layouts import ids
from layouts.alarm_kpis import kpi_report
from layouts.i18n import language
from services.alarms.actions import ActionsUnavailable
from services.web.alarms import alarm_service


def register(app: Dash) -> None:
    """Register the KPI page's callback on `app`."""

    @app.callback(Output(aids.KPI_REPORT, "children"), Input(aids.KPI_REV, "data"), State(ids.CONFIG, "data"),
                  prevent_initial_call=True)
    def refresh(_rev, config):
        config = config or {}
        try:
            report = alarm_service().actions.kpis()
        except ActionsUnavailable:
            return no_update
        return kpi_report(report, language(config.get("lang")), config.get("theme") or "light")
