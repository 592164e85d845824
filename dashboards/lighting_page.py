"""`/lighting` (level 2): the map of lamps by state with cabinets and groups, the KPIs, the domain's alarms, the faults
list for the maintenance team (CSV for a GMAO) and the operator actions the role allows."""
from __future__ import annotations

import time
from dataclasses import replace

import dash

from callbacks.context import current_ui
from callbacks.day_charts import read_days
from layouts.day_charts import day_panels
from layouts.page import add_side_panels, control_room
from layouts.domain_panels import actions_panel, faults_panel, modes_panel
from services.history.domain_views import control_modes, domain_assets
from services.history.lighting_faults import read_faults

from .asset import can_command

DOMAIN = "lighting"


def layout(lang: str | None = None, theme: str | None = None, kiosk: str | None = None, **_query: str):
    """The lighting page in the request's language and theme (on the wall: no day charts, no actions)."""
    ui = current_ui()
    data = replace(ui.page_data(DOMAIN, (DOMAIN,), lang, theme, alarm_rows=14), kiosk=kiosk == "1")
    extra = [faults_panel(read_faults(ui.reader), time.time(), data.lang),
             modes_panel(*control_modes(domain_assets(ui.reader, DOMAIN)), data.lang)]
    if not data.kiosk:
        extra = [*extra, *day_panels(DOMAIN, read_days(DOMAIN), data.lang, data.theme)]
        if can_command(DOMAIN):
            extra.append(actions_panel(DOMAIN, data.lang, data.theme, data.default_lang))
    return add_side_panels(control_room(data), extra)


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.lighting", path="/lighting", name="lighting", title="Vigie · Éclairage", layout=layout)
