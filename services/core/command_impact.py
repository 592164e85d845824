"""What a command will do, per domain: the current state of its targets, the expected effect, large-effect rules.

Lighting: lamps, cabinets, power now and after (from `powerRating` and the latest
`powerConsumption`), lamps left dark. Water: the pipes and sensors downstream of a valve (its
pipe and every pipe whose `upstream` chain leads to it), a pump's zone. Traffic: junctions, the
segments around them, vehicles a day on closed roads.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

from .assets import AssetRecord, TerritoryState
from .command_specs import ActionSpec, LargeRules

STANDBY_W = 0.5  # a dark lamp's controller
HIGHLIGHT_MAX = 5000


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def current_state(spec: ActionSpec, assets: list[AssetRecord]) -> dict[str, Any]:
    """The targets' state now, as counts of their key values (the dialog shows it next to the effect)."""
    fields = {"Streetlight": ("powerState", "controlMode", "status"), "StreetlightGroup": (),
              "Valve": ("status",), "Pump": ("running", "status"), "TrafficSignal": ("signalPlan", "status"),
              "RoadSegment": ("closed", "congested")}
    out: dict[str, Any] = {"unknown": sum(1 for a in assets if not a.values)}
    for key in {f for t in spec.types for f in fields.get(t, ())}:
        counts = Counter(str(a.values[key]).lower() for a in assets if key in a.values)
        out[key] = dict(counts.most_common())
    if "Valve" in spec.types:
        pos = [p for p in (_num(a.values.get("position")) for a in assets) if p is not None]
        out["position_pct"] = round(100 * sum(pos) / len(pos), 1) if pos else None
    if "Pump" in spec.types:
        sp = [p for p in (_num(a.values.get("setpoint")) for a in assets) if p is not None]
        out["setpoint_bar"] = round(sum(sp) / len(sp), 2) if sp else None
    if "Streetlight" in spec.types:
        lv = [v for v in (_num(a.values.get("illuminanceLevel")) for a in assets) if v is not None]
        out["level_pct"] = round(100 * sum(lv) / len(lv), 1) if lv else None
    if "StreetlightGroup" in spec.types:
        out["programmes"] = [{"id": a.id, "dim_level": a.props.get("dimLevel"), "dim_from": a.props.get("dimFrom"),
                              "dim_to": a.props.get("dimTo")} for a in assets[:50]]
    return out


def _lighting(spec: ActionSpec, p: Mapping[str, Any], assets: list[AssetRecord]) -> dict[str, Any]:
    if spec.name == "set_schedule":
        return {"groups": len(assets), "lamps": int(sum(_num(a.props.get("lamps")) or 0 for a in assets))}
    level = p["level"] / 100.0 if spec.name == "set_dimming" else (1.0 if p.get("on") else 0.0) if spec.name == "switch" else None
    now_w = after_w = 0.0
    faulty = dark = 0
    for a in assets:
        v = a.values
        power = _num(v.get("powerConsumption")) or 0.0
        now_w += power
        broken = v.get("status") not in (None, "ok")
        faulty += broken
        if level is None or broken:
            after_w += power
            continue
        rating = _num(a.props.get("powerRating")) or 0.0
        after_w += rating * level if level > 0 else STANDBY_W
        dark += level <= 0
    out = {"lamps": len(assets), "faulty": faulty, "power_now_w": round(now_w, 1),
           "cabinets": len({a.refs.get("cabinet") for a in assets} - {None}),
           "districts": len({a.refs.get("district") for a in assets} - {None}),
           "communes": len({a.refs.get("commune") for a in assets} - {None})}
    if level is not None:
        out.update(power_after_w=round(after_w, 1), saved_w=round(now_w - after_w, 1), dark=dark, level_pct=round(level * 100, 1))
    return out


def downstream(valve: AssetRecord, state: TerritoryState, children: Mapping[str, list[str]] | None = None) -> tuple[list[str], list[str]]:
    """The pipes below a valve (its own and every pipe fed through it) and the sensors and junctions on them."""
    if children is None:
        children = pipe_children(state)
    start = valve.refs.get("pipe")
    if start is None:
        return [], []
    pipes, todo = [], [start]
    seen = {start}
    while todo:
        pid = todo.pop()
        pipes.append(pid)
        for c in children.get(pid, ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    nodes = [a.id for a in state.domain("water").values() if a.type in ("Device", "Junction") and a.refs.get("pipe") in seen]
    return pipes, nodes


def pipe_children(state: TerritoryState) -> dict[str, list[str]]:
    """Pipe id -> the pipes fed from it (from each pipe's `upstream` relation)."""
    children: dict[str, list[str]] = {}
    for a in state.domain("water").values():
        up = a.refs.get("upstream") if a.type == "Pipe" else None
        if up:
            children.setdefault(up, []).append(a.id)
    return children


def _water(spec: ActionSpec, p: Mapping[str, Any], assets: list[AssetRecord], state: TerritoryState) -> tuple[dict, list[str]]:
    water = state.domain("water")
    if spec.name == "valve":
        children = pipe_children(state)
        pipes: set[str] = set()
        nodes: set[str] = set()
        for v in assets:
            below, on = downstream(v, state, children)
            pipes.update(below)
            nodes.update(on)
        sensors = sorted(n for n in nodes if (water.get(n) and water[n].type == "Device"))
        km = sum(_num(water[x].props.get("length")) or 0.0 for x in pipes if x in water) / 1000
        target = p["position"] if "position" in p else (100.0 if p["open"] else 0.0)
        return ({"valves": len(assets), "main": sum(1 for a in assets if a.props.get("main") is True), "position_pct": target,
                 "downstream_pipes": len(pipes), "downstream_sensors": len(sensors), "pipe_km": round(km, 2),
                 "downstream_junctions": len(nodes) - len(sensors)}, sorted(pipes) + sensors)
    zones = {a.refs.get("zone") for a in assets} - {None}
    sensors = sorted(a.id for a in water.values() if a.type == "Device" and a.refs.get("zone") in zones)
    return {"pumps": len(assets), "zones": len(zones), "zone_sensors": len(sensors)}, sensors


def _traffic(spec: ActionSpec, p: Mapping[str, Any], assets: list[AssetRecord], state: TerritoryState) -> tuple[dict, list[str]]:
    traffic = state.domain("traffic")
    if spec.name == "signal_plan":
        segs = sorted({r for a in assets for k, r in a.refs.items() if k.startswith("seg") and r in traffic})
        return {"junctions": len(assets), "segments": len(segs), "plan": p["plan"]}, segs
    per_day = sum(_num(a.props.get("dailyCount")) or 0.0 for a in assets)
    km = sum(_num(a.props.get("lengthM")) or 0.0 for a in assets) / 1000
    return {"segments": len(assets), "vehicles_per_day": round(per_day), "road_km": round(km, 2)}, []


def domain_effect(spec: ActionSpec, params: Mapping[str, Any], assets: list[AssetRecord], state: TerritoryState) -> tuple[dict, list[str]]:
    """The expected effect (JSON-ready figures) and the other assets it touches (for the map)."""
    if spec.domain == "lighting":
        return _lighting(spec, params, assets), []
    if spec.domain == "water":
        effect, more = _water(spec, params, assets, state)
    else:
        effect, more = _traffic(spec, params, assets, state)
    return effect, more[:HIGHLIGHT_MAX]


def _darkens(spec: ActionSpec, p: Mapping[str, Any], rules: LargeRules) -> bool:
    return (spec.name == "switch" and p.get("on") is False) or (spec.name == "set_dimming" and p["level"] <= rules.dark_level)


def _commune_lamps(state: TerritoryState, communes: Iterable[str]) -> Counter:
    wanted = set(communes)
    return Counter(c for a in state.domain("lighting").values() if a.type == "Streetlight" and (c := a.refs.get("commune")) in wanted)


def large_effects(spec: ActionSpec, p: Mapping[str, Any], plan: Any, state: TerritoryState, rules: LargeRules,
                  names: Mapping[str, str]) -> list[tuple[str, str, dict]]:
    """The large-effect rules a command trips: (rule, what it would do in plain words, its figures for other languages)."""
    out: list[tuple[str, str, dict]] = []
    n, e = len(plan.assets), plan.effect
    if spec.domain == "lighting" and spec.name != "set_schedule":
        lamps = [state.get(a) for a in plan.assets]
        if _darkens(spec, p, rules):
            mine = Counter(a.refs.get("commune") for a in lamps if a is not None and a.refs.get("commune"))
            totals = _commune_lamps(state, mine)
            for c, k in mine.most_common():
                if totals[c] >= rules.commune_min_lamps and k >= rules.commune_dark_share * totals[c]:
                    out.append(("commune_dark", f"{names.get(c, c)} would be dark: {k:,} of its {totals[c]:,} lamps",
                                {"name": names.get(c, c), "k": k, "total": totals[c]}))
            if e.get("dark", 0) >= rules.dark_lamps or (spec.name == "set_dimming" and n >= rules.dark_lamps):
                out.append(("many_dark", f"{n:,} lamps left dark or nearly", {"n": n}))
        if n >= rules.lamps:
            out.append(("many_lamps", f"{n:,} lamps at once", {"n": n}))
    elif spec.domain == "water":
        closing = spec.name == "valve" and e["position_pct"] <= rules.valve_closed_pct
        if closing and e["main"]:
            out.append(("main_valve_closed", f"a main valve closed to {e['position_pct']:g} %: {e['downstream_sensors']} sensors downstream",
                        {"pos": e["position_pct"], "sensors": e["downstream_sensors"]}))
        if closing and e["downstream_pipes"] >= rules.valve_pipes:
            out.append(("supply_cut", f"{e['downstream_pipes']} pipes ({e['pipe_km']} km) cut off downstream",
                        {"pipes": e["downstream_pipes"], "km": e["pipe_km"]}))
        if spec.name == "pump" and p.get("running") is False:
            out.append(("pump_stopped", f"{n} pump(s) stopped: {e['zone_sensors']} sensors of their zone lose pressure",
                        {"n": n, "sensors": e["zone_sensors"]}))
    else:
        if spec.name == "signal_plan" and n >= rules.signals:
            out.append(("many_signals", f"{n} junctions change plan at once", {"n": n}))
        if spec.name == "signal_plan" and p["plan"] == "flashingAmber" and n >= rules.flashing_signals:
            out.append(("flashing_amber", f"{n} junctions on flashing amber", {"n": n}))
        if spec.name == "close_segment":
            if n >= rules.segments:
                out.append(("many_closed", f"{n} road segments closed", {"n": n}))
            busy = [a for a in (state.get(x) for x in plan.assets) if a is not None and (_num(a.props.get("dailyCount")) or 0) >= rules.main_road_per_day]
            if busy:
                per_day = _num(busy[0].props.get("dailyCount")) or 0.0
                out.append(("main_road_closed", f"a main road closed: {busy[0].name or busy[0].id} ({per_day:,.0f} vehicles a day)",
                            {"name": busy[0].name or busy[0].id, "vpd": round(per_day)}))
    return out
