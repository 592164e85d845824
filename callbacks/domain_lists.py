"""The water and traffic pages' lists follow their domain: a delta of the domain, or of one of its alarms, re-reads
them (at most every 5 s)."""
from __future__ import annotations

from datetime import tzinfo
from typing import Callable

from dash import Dash, Input, Output, State
from flask import current_app, has_app_context

from layouts import ids
from layouts.domain_lists import bump_id, lists_id, traffic_lists, water_lists
from layouts.i18n import language
from layouts.shell import PUSH_EVENT
from services.history import domain_views as dv
from services.places import place_name
from .context import EXTENSION
from .push_bump import DOMAIN_OR_ALARMS_OF, throttled_bump

THROTTLE_MS = 5000


def _territory_tz() -> tzinfo | None:
    ui = current_app.extensions.get(EXTENSION) if has_app_context() else None
    return ui.tz if ui is not None else None


def build(domain: str, reader, lang: str, tz: tzinfo | None = None) -> list:
    """A domain's lists, read now (times in the territory's timezone)."""
    assets = dv.domain_assets(reader, domain)
    if domain == "water":
        ui = current_app.extensions.get(EXTENSION) if has_app_context() else None
        place = (lambda ref: place_name(ui.territory.id, ref) or ref) if ui is not None else str
        return water_lists(dv.reservoirs(assets), dv.pumps(assets), lang, dv.suspected_leaks(reader.alarms(active_only=True), assets, place))
    incidents = dv.incidents(reader.alarms(active_only=True), assets)
    return traffic_lists(dv.most_congested(assets), dv.signal_plans(assets), lang, incidents, tz or _territory_tz())


def register(app: Dash, get_ui: Callable) -> None:
    """Register the lists' callbacks for water and traffic on `app`."""
    for domain in ("water", "traffic"):
        app.clientside_callback(throttled_bump(DOMAIN_OR_ALARMS_OF, "vigieLists", domain, bump_id(domain), THROTTLE_MS),
                                Output(bump_id(domain), "data"), Input(ids.SOCKET, f"data-{PUSH_EVENT}"), prevent_initial_call=True)

        def refresh(_bump, config, domain=domain):
            return build(domain, get_ui().reader, language((config or {}).get("lang")))

        app.callback(Output(lists_id(domain), "children"), Input(bump_id(domain), "data"), State(ids.CONFIG, "data"),
                     prevent_initial_call=True)(refresh)
