"""`/alarms`: the alarm console (ISA-18.2 lifecycle, flood groups, actions, history, map)."""
from __future__ import annotations

import dash

from callbacks.context import current_ui
from layouts.alarms import ConsoleData, alarm_console
from services.alarms.actions import ActionsUnavailable
from services.web.alarms import alarm_service
from services.territory.geo import communes, districts

DOMAINS = ("lighting", "water", "traffic")


def console_data(territory: str, timezone: str, lang: str = "fr") -> ConsoleData:
    """Area names, the territory's timezone, the engineer's shelf limits and the alarm types' names for the console."""
    areas = {a.id: a.name for a in (*communes(territory), *districts(territory))}
    try:
        actions = alarm_service().actions
        policy = actions.policy()
    except (ActionsUnavailable, KeyError):
        return ConsoleData(areas=areas, timezone=timezone)
    try:
        records = actions.rationale()["records"]
    except ActionsUnavailable:  # a web-only worker: the codes show as the supervisors send them
        records = []
    labels = {r["code"]: r["label"].get(lang) or r["label"].get("fr", "") for r in records}
    return ConsoleData(areas=areas, timezone=timezone, max_shelf_s=policy.max_shelf_s, default_shelf_s=policy.default_shelf_s,
                       labels=labels)


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The console in the request's language and theme."""
    ui = current_ui()
    data = ui.page_data("alarms", DOMAINS, lang, theme, alarm_rows=0)
    return alarm_console(data, console_data(ui.territory.id, ui.territory.timezone, data.lang))


def register() -> None:
    """Register the page, and the engineers' page of its master alarm database."""
    from . import alarms_rationale

    dash.register_page("vigie.alarms", path="/alarms", name="alarms", title="Vigie · Alarmes", layout=layout)
    alarms_rationale.register()
