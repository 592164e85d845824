"""The command panel's water isolation: a pipe selected shows the valves that isolate it; choosing one selects it.

Thin adapters over `CommandService.isolation` (services/core/water_isolation.py does the graph).
"""
from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from layouts import commands_ids as cid
from layouts.commands_i18n import number
from layouts.water_isolation import PANEL, isolation_panel, wt
from services.commands.service import CommandsUnavailable
from services.core.water_isolation import WaterNet

from .commands_form import current_commands


def pipe_isolation(selection: dict | None, domain: str | None) -> dict[str, Any] | None:
    """The isolation answer when the selection is one water pipe, else None."""
    ids = (selection or {}).get("ids") or []
    if domain != "water" or len(ids) != 1 or (selection or {}).get("polygon"):
        return None
    service = current_commands()
    if service is None:
        return None
    try:
        return service.isolation(str(ids[0]))
    except CommandsUnavailable:
        return None


def pipe_sensors(asset: dict | None, reader: Any) -> dict[str, Any] | None:
    """A pipe's isolation answer for its page (the engine's state here, else the reader's); None for other assets."""
    if not asset or asset.get("type") != "Pipe":
        return None
    service = current_commands()
    try:
        if service is not None:
            return service.isolation(asset["id"])
    except CommandsUnavailable:
        pass
    _, water = reader.assets(domain="water", limit=1_000_000)  # a web-only worker: the reader's copy of the water assets
    net = WaterNet(water)
    if not net.is_pipe(asset["id"]):
        return None
    here, down = net.affected_sensors(asset["id"])
    return {"pipe": asset["id"], "name": asset.get("name") or asset["id"], "options": [o.to_dict() for o in net.isolation(asset["id"])],
            "sensors_here": [[n.id, n.name or n.id] for n in here], "sensors_down": [[n.id, n.name or n.id] for n in down]}


EMPTY = {"type": "FeatureCollection", "features": []}


def form_hint(selection: dict | None, domain: str | None, action: str | None, params: dict[str, Any],
              lang: str) -> tuple[str, dict, dict] | None:
    """What the form says instead of an error, with what the map shows (points, lines); None when the form may preview.

    A pipe is isolated through its valves (the pipe and the valves offered are drawn); an empty opening means no change.
    """
    doc = pipe_isolation(selection, domain)
    if doc is not None:
        return wt("hint.pipe", lang, pipe=doc["name"]), doc["points"], doc["lines"]
    if domain == "water" and action == "valve" and params.get("position") is None and (selection or {}).get("ids"):
        service = current_commands()
        try:
            pos = service.valve_position((selection or {}).get("ids") or []) if service is not None else None
        except CommandsUnavailable:
            pos = None
        text = wt("hint.position", lang, pct=number(pos * 100, lang, 0)) if pos is not None else wt("hint.position_unknown", lang)
        return text, EMPTY, EMPTY
    return None


def register(app: Dash) -> None:
    """Register the isolation panel's callbacks on `app`."""

    @app.callback(Output(PANEL, "children"), Input(cid.SELECTION, "data"), Input(cid.DOMAIN, "value"), State(cid.LANG, "data"))
    def show(selection, domain, lang):
        return isolation_panel(pipe_isolation(selection, domain), lang)

    @app.callback(Output(cid.SELECTION, "data", allow_duplicate=True), Output(cid.ACTION, "value", allow_duplicate=True),
                  Output(cid.POSITION, "value", allow_duplicate=True), Input({"type": "wiso-pick", "valve": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def choose(clicks):
        if not ctx.triggered_id or not any(c for c in clicks or () if c):
            return no_update, no_update, no_update
        valve = str(ctx.triggered_id["valve"])
        return {"domain": "water", "ids": [valve], "polygon": None, "origin": "pick"}, "valve", 0
