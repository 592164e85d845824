"""Clicking an asset on the map opens its details (read from the reader, rendered as text)."""
from __future__ import annotations

from typing import Callable

from dash import Dash, Input, Output, State, ctx, no_update

from layouts import ids
from layouts.details import details_panel
from layouts.i18n import language
from services.places import ref_names

from .alarm_words import alarm_labels
from .commands_log import asset_section


def clicked_asset(feature: dict | None) -> str | None:
    """The asset id of a clicked map feature (None for a cluster or nothing)."""
    props = (feature or {}).get("properties") or {}
    if props.get("cluster") or not props.get("id"):
        return None
    return str(props["id"])


def register(app: Dash, get_ui: Callable) -> None:
    """Register the details callbacks on `app`; `get_ui()` returns the request's VigieUI."""

    @app.callback(
        Output(ids.DETAILS, "children"), Output(ids.SELECTED, "data"), Output("details-frame", "className"),
        Input(ids.LAYER["lighting"], "clickData"), Input(ids.LAYER["water"], "clickData"),
        Input(ids.LAYER["traffic"], "clickData"), Input(ids.DETAILS_REFRESH, "data"), Input("details-close", "n_clicks"),
        State(ids.SELECTED, "data"), State(ids.CONFIG, "data"),
        prevent_initial_call=True,
    )
    def show_details(lamp, water, traffic, _refresh, _close, selected, config):
        trigger = ctx.triggered_id
        lang = language((config or {}).get("lang"))
        ui = get_ui()
        if trigger == "details-close":
            return details_panel(None, [], lang, ui.tz), None, "details-frame"
        if trigger == ids.DETAILS_REFRESH:
            asset_id = selected
        else:
            asset_id = clicked_asset({ids.LAYER["lighting"]: lamp, ids.LAYER["water"]: water,
                                      ids.LAYER["traffic"]: traffic}.get(trigger))
        if not asset_id:
            return no_update, no_update, no_update
        asset, alarms = ui.asset_details(asset_id)
        names, linked = ref_names(ui.reader, ui.territory.id, ((asset or {}).get("refs") or {}).values())
        panel = details_panel(asset, alarms, lang, ui.tz, asset_id, names, linked, alarm_labels(lang) if alarms else None) \
            + asset_section(asset_id, asset, lang, ui.tz)
        return panel, asset_id, "details-frame open"
