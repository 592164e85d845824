"""What the water and traffic pages list beside the map: reservoirs with autonomy, pumps, the most congested segments,
junctions' signal plans. Pure functions over the reader's asset dicts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

LOW_AUTONOMY_H = 12.0  # as the reservoir autonomy KPI (services/core/kpis.py)
TOP_CONGESTED = 10
MAX_ASSETS = 100_000


@dataclass(frozen=True, slots=True)
class Reservoir:
    """A reservoir as a gauge: fill ratio and hours left at the current outflow."""

    id: str
    name: str
    level_m: float | None
    fill: float | None  # 0..1
    autonomy_h: float | None

    @property
    def low(self) -> bool:
        """Less than the autonomy target left."""
        return self.autonomy_h is not None and self.autonomy_h < LOW_AUTONOMY_H


@dataclass(frozen=True, slots=True)
class Congested:
    """A road segment by how slow it is against its free flow."""

    id: str
    name: str
    speed: float
    free_flow: float

    @property
    def ratio(self) -> float:
        """Speed over free-flow speed (1 flows freely, 0.2 crawls)."""
        return self.speed / self.free_flow if self.free_flow > 0 else 1.0


def reservoirs(assets: Iterable[dict]) -> list[Reservoir]:
    """Reservoirs and tanks, least autonomy first."""
    out = []
    for a in assets:
        if a.get("type") not in ("Reservoir", "Tank"):
            continue
        v, p = a.get("values") or {}, a.get("props") or {}
        level, max_level, cap, flow = v.get("level"), p.get("maxLevel"), p.get("capacity"), v.get("flow")
        fill = level / max_level if isinstance(level, (int, float)) and isinstance(max_level, (int, float)) and max_level > 0 else None
        autonomy = cap * fill / flow if fill is not None and isinstance(cap, (int, float)) and isinstance(flow, (int, float)) and flow > 0.1 else None
        out.append(Reservoir(a["id"], a.get("name") or a["id"], level, None if fill is None else max(0.0, min(1.0, fill)),
                             None if autonomy is None else round(autonomy, 1)))
    out.sort(key=lambda r: (r.autonomy_h is None, r.autonomy_h or 0.0, r.id))
    return out


def pumps(assets: Iterable[dict]) -> list[tuple[str, str, bool | None]]:
    """(id, name, running) of every pump, stopped ones first."""
    rows = [(a["id"], a.get("name") or a["id"], (a.get("values") or {}).get("running")) for a in assets if a.get("type") == "Pump"]
    rows.sort(key=lambda r: (bool(r[2]), r[0]))
    return rows


def most_congested(assets: Iterable[dict], n: int = TOP_CONGESTED) -> list[Congested]:
    """The `n` open segments slowest against their free flow now."""
    rows = []
    for a in assets:
        v, p = a.get("values") or {}, a.get("props") or {}
        speed, free = v.get("averageVehicleSpeed"), p.get("freeFlowSpeed")
        if a.get("type") != "RoadSegment" or v.get("closed") or not isinstance(speed, (int, float)) or not isinstance(free, (int, float)):
            continue
        rows.append(Congested(a["id"], a.get("name") or a["id"], float(speed), float(free)))
    rows.sort(key=lambda c: (c.ratio, c.id))
    return rows[:n]


def signal_plans(assets: Iterable[dict]) -> dict[str, list[tuple[str, str]]]:
    """Junctions by their current signal plan: plan -> [(id, name)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for a in assets:
        if a.get("type") == "TrafficSignal":
            plan = str((a.get("values") or {}).get("signalPlan") or "unknown")
            out.setdefault(plan, []).append((a["id"], a.get("name") or a["id"]))
    return out


def domain_assets(reader: Any, domain: str) -> list[dict]:
    """Every asset of a domain with its values (one read)."""
    _total, items = reader.assets(domain=domain, limit=MAX_ASSETS)
    return items


def control_modes(assets: Iterable[dict]) -> tuple[dict[str, int], list[tuple[str, str, Any]]]:
    """Lamps by control mode in force (schedule, override, ...) and the overrides running: (id, name, until)."""
    counts: dict[str, int] = {}
    overrides = []
    for a in assets:
        if a.get("type") != "Streetlight":
            continue
        v = a.get("values") or {}
        mode = str(v.get("controlMode") or "unknown")
        counts[mode] = counts.get(mode, 0) + 1
        if mode == "override":
            overrides.append((a["id"], a.get("name") or a["id"], v.get("overrideUntil")))
    overrides.sort(key=lambda o: (str(o[2] or ""), o[0]))
    return counts, overrides


def suspected_leaks(alarms: Iterable[dict], assets: Iterable[dict]) -> list[tuple[str, str, str, float]]:
    """Active suspected leaks, newest first: (pipe id, pipe name, probable area from its zone/district/street, raised at)."""
    by_id = {a["id"]: a for a in assets}
    out = []
    for al in alarms:
        if al.get("domain") != "water" or not al.get("active") or "leak" not in str(al.get("code") or al.get("id", "")):
            continue
        a = by_id.get(al.get("asset", ""), {})
        refs, props = a.get("refs") or {}, a.get("props") or {}
        area = " · ".join(str(x) for x in (refs.get("zone"), refs.get("district"), props.get("street")) if x)
        out.append((al.get("asset", ""), a.get("name") or al.get("asset", ""), area or al.get("message", ""), al.get("raised_at") or 0.0))
    out.sort(key=lambda r: -r[3])
    return out
