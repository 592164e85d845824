"""`/alarms`: the alarm console (ISA-18.2 lifecycle, flood groups, actions, history, map)."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from layouts.alarms import ConsoleData, alarm_console
from services.alarms.actions import ActionsUnavailable
from services.web.alarms import alarm_service
from services.territory.geo import communes, districts

DOMAINS = ("lighting", "water", "traffic")


def console_data(territory: str, timezone: str) -> ConsoleData:
    """Area names, the territory's timezone and the engineer's shelf limits for the console."""
    areas = {a.id: a.name for a in (*communes(territory), *districts(territory))}
    try:
        policy = alarm_service().actions.policy()
    except (ActionsUnavailable, KeyError):
        return ConsoleData(areas=areas, timezone=timezone)
    return ConsoleData(areas=areas, timezone=timezone, max_shelf_s=policy.max_shelf_s, default_shelf_s=policy.default_shelf_s)


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The console in the request's language and theme."""
    ui = current_ui()
    return alarm_console(ui.page_data("alarms", DOMAINS, lang, theme, alarm_rows=0),
                         console_data(ui.territory.id, ui.territory.timezone))


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.alarms", path="/alarms", name="alarms", title="Vigie · Alarmes", layout=layout)
