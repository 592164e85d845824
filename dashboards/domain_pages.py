"""`/water` and `/traffic` (level 2): the control-room page of the domain (map, KPIs, its alarms) with its lists
(reservoir gauges and pumps; the 10 most congested segments and junctions by signal plan) and its operator actions."""
from __future__ import annotations

from dataclasses import replace

import dash

from callbacks.context import current_ui
from callbacks.day_charts import read_days
from callbacks.domain_lists import build
from layouts.day_charts import day_panels
from layouts.domain_lists import lists_panel
from layouts.domain_panels import actions_panel
from layouts.page import add_side_panels, control_room

from .asset import can_command

TITLES = {"water": "Vigie · Eau", "traffic": "Vigie · Trafic"}


def domain_layout(domain: str):
    """The layout function of one domain's page."""

    def layout(lang: str | None = None, theme: str | None = None, kiosk: str | None = None, **_query: str):
        ui = current_ui()
        data = replace(ui.page_data(domain, (domain,), lang, theme, alarm_rows=14), kiosk=kiosk == "1")
        # its alarms (above the fold), then what needs acting on now (incidents, leaks, the slowest roads), then the day's curves
        extra = [lists_panel(domain, build(domain, ui.reader, data.lang))]
        if not data.kiosk:
            extra += day_panels(domain, read_days(domain), data.lang, data.theme)
            if can_command(domain):
                extra.append(actions_panel(domain, data.lang, data.theme, data.default_lang))
        return add_side_panels(control_room(data), extra)

    layout.__doc__ = f"The {domain} page in the request's language and theme."
    return layout


class _Page:
    def __init__(self, domain: str) -> None:
        self.domain = domain

    def register(self) -> None:
        """Register the page."""
        dash.register_page(f"vigie.{self.domain}", path=f"/{self.domain}", name=self.domain, title=TITLES[self.domain],
                           layout=domain_layout(self.domain))


water = _Page("water")
traffic = _Page("traffic")
