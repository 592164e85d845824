"""`/water` and `/traffic` (level 2): the control-room page of the domain (map, KPIs, its alarms) with its lists
(reservoir gauges and pumps; the 10 most congested segments and junctions by signal plan) and its operator actions."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from callbacks.day_charts import read_days
from callbacks.domain_lists import build
from layouts.day_charts import day_panels
from layouts.domain_lists import lists_panel
from layouts.domain_panels import actions_panel
from layouts.page import control_room

from .asset import can_command

TITLES = {"water": "Vigie · Eau", "traffic": "Vigie · Trafic"}


def domain_layout(domain: str):
    """The layout function of one domain's page."""

    def layout(lang: str | None = None, theme: str | None = None, **_query: str):
        ui = current_ui()
        data = ui.page_data(domain, (domain,), lang, theme, alarm_rows=14)
        page = control_room(data)
        # what needs acting on now (incidents, leaks, the slowest roads) before the day's curves
        extra = [lists_panel(domain, build(domain, ui.reader, data.lang)), *day_panels(domain, read_days(domain), data.lang, data.theme)]
        if can_command(domain):
            extra.append(actions_panel(domain, data.lang, data.theme, data.default_lang))
        side = page.children[-1].children[1]  # control_room's main -> side column: KPIs, [these], alarms
        side.children = [side.children[0], *extra, *side.children[1:]]
        return page

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
