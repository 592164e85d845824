"""Pure helpers of the command callbacks: the form's values as parameters, the selection, the request, the service."""
from __future__ import annotations

from typing import Any

from flask import current_app

from layouts import commands_ids as cid
from services.commands.service import CommandRequest, CommandService, Selection

EXTENSION = "vigie.commands"
MAX_CLICKED = 5000  # assets picked one by one


def current_commands() -> CommandService | None:
    """The command service of the app serving this request (None when commands are not wired)."""
    return current_app.extensions.get(EXTENSION)


def form_params(action: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters an action takes, from the form's inputs (keyed by component id)."""
    wanted = cid.PARAMS_OF.get(action or "", ())
    p: dict[str, Any] = {}
    if cid.LEVEL in wanted:
        p["level"] = values.get(cid.LEVEL)
    if cid.ON in wanted:
        p["on"] = values.get(cid.ON) == "true"
    if cid.POSITION in wanted:
        p["position"] = values.get(cid.POSITION)
    if cid.RUNNING in wanted:
        run = values.get(cid.RUNNING)
        p.update({"auto": True} if run == "auto" else {"running": run == "start"})
    if cid.BAR in wanted:
        p["bar"] = values.get(cid.BAR)
    if cid.SIGNAL_PLAN in wanted:
        p["plan"] = values.get(cid.SIGNAL_PLAN)
    if cid.DIM_LEVEL in wanted:
        p.update(dim_level=values.get(cid.DIM_LEVEL), dim_from=values.get(cid.DIM_FROM) or None, dim_to=values.get(cid.DIM_TO) or None)
    override = values.get(cid.OVERRIDE)
    if cid.OVERRIDE in wanted and override not in (None, "", "0") and not p.get("auto") and p.get("plan") != "auto":
        p["override_s"] = int(override)
    return {k: (v if not isinstance(v, str) or k in ("plan", "dim_from", "dim_to") else _number(v)) for k, v in p.items()}


def _number(v: str) -> float | str:
    try:
        return float(v)
    except ValueError:
        return v


def clicked_id(feature: dict | None) -> str | None:
    """The asset id of a clicked map feature (None for a cluster)."""
    props = (feature or {}).get("properties") or {}
    return None if props.get("cluster") or not props.get("id") else str(props["id"])


def drawn_ring(geojson: dict | None) -> list[list[float]] | None:
    """The outer ring of the last polygon drawn on the map, or None."""
    polygons = [f for f in (geojson or {}).get("features", []) if (f.get("geometry") or {}).get("type") == "Polygon"]
    if not polygons:
        return None
    return [[float(x), float(y)] for x, y, *_ in polygons[-1]["geometry"]["coordinates"][0]]


def next_selection(trigger: str | None, value: Any, selection: dict | None, domain: str) -> dict[str, Any]:
    """The selection after a map click (toggles), a drawing, a pick or a clear."""
    sel = dict(selection or {})
    if sel.get("domain") != domain or trigger == cid.CLEAR:
        sel = {"domain": domain, "ids": [], "polygon": None}
    ids = list(sel.get("ids") or [])
    sel["origin"] = {cid.DRAW: "draw"}.get(trigger or "", "pick" if trigger == cid.PICK and value else "map")
    if trigger in cid.LAYER.values():
        asset = clicked_id(value)
        if asset is not None:
            ids = [i for i in ids if i != asset] if asset in ids else (ids + [asset])[-MAX_CLICKED:]
    elif trigger == cid.DRAW:
        sel["polygon"] = drawn_ring(value)
    elif trigger == cid.PICK and value:
        ids = [str(value)]
        sel["polygon"] = None
    sel["ids"] = ids
    return sel


def request_of(selection: dict | None, domain: str, action: str | None, params: dict[str, Any], *, reason: str = "",
               confirm: bool = False, key: str | None = None) -> CommandRequest:
    """The request the form describes."""
    sel = selection or {}
    ring = tuple((float(p[0]), float(p[1])) for p in (sel.get("polygon") or ()))
    return CommandRequest(domain, action or "", params, Selection(tuple(sel.get("ids") or ()), ring), reason=(reason or "").strip(),
                          confirm=bool(confirm), key=key)
