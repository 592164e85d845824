"""What the water and traffic pages list beside the map: reservoirs with autonomy, pumps, the most congested segments,
the traffic incidents, junctions' signal plans. Pure functions over the reader's asset and alarm dicts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from services.core.bands import SLOWED_BELOW, speed_ratio

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
    occupancy: float = 0.0

    @property
    def ratio(self) -> float:
        """Speed over free-flow speed (1 flows freely, 0.2 crawls)."""
        return self.speed / self.free_flow if self.free_flow > 0 else 1.0


INCIDENT_CODES = ("incident", "signal_fault")  # the traffic supervisor's incident alarms (services/simulators/traffic.py)


@dataclass(frozen=True, slots=True)
class Incident:
    """A traffic incident as the operator follows it: where, what, how bad, since when, what it slows around it."""

    alarm_id: str
    asset: str
    name: str
    kind: str
    priority: str
    raised_at: float
    acknowledged: bool
    affected: tuple[tuple[str, str], ...]  # (id, name) of the slowed or closed segments around it


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


def most_congested(assets: Iterable[dict], n: int = TOP_CONGESTED, below: float = SLOWED_BELOW) -> list[Congested]:
    """The `n` open segments actually slowed (under `below` of their free flow), slowest first, then the fullest:
    a segment flowing freely is never listed, so a quiet night lists none."""
    rows = []
    for a in assets:
        v, p = a.get("values") or {}, a.get("props") or {}
        speed, free = v.get("averageVehicleSpeed"), p.get("freeFlowSpeed")
        ratio = speed_ratio(speed, free)
        if a.get("type") != "RoadSegment" or v.get("closed") or ratio is None or ratio >= below:
            continue
        occ = v.get("occupancy")
        rows.append(Congested(a["id"], a.get("name") or a["id"], float(speed), float(free), float(occ) if isinstance(occ, (int, float)) else 0.0))
    rows.sort(key=lambda c: (round(c.ratio, 2), -c.occupancy, c.id))
    return rows[:n]


def _ends(a: dict) -> tuple[tuple[float, float], ...]:
    coords = (a.get("geometry") or {}).get("coordinates") or []
    if (a.get("geometry") or {}).get("type") != "LineString" or len(coords) < 2:
        return ()
    return tuple((round(c[0], 6), round(c[1], 6)) for c in (coords[0], coords[-1]))


def _slowed(a: dict) -> bool:
    v, p = a.get("values") or {}, a.get("props") or {}
    ratio = speed_ratio(v.get("averageVehicleSpeed"), p.get("freeFlowSpeed"))
    return bool(v.get("closed")) or (ratio is not None and ratio < SLOWED_BELOW)


def incidents(alarms: Iterable[dict], assets: Iterable[dict]) -> list[Incident]:
    """Active traffic incidents and junction faults, newest first, each with the slowed or closed segments around
    it (a segment's: those sharing an end point; a junction's: the segments it controls, refs seg1..segN)."""
    alarms = [al for al in alarms if al.get("domain") == "traffic" and al.get("active") and al.get("code") in INCIDENT_CODES]
    if not alarms:
        return []
    by_id = {a["id"]: a for a in assets}
    at_end: dict[tuple[float, float], list[str]] = {}
    for a in by_id.values():
        for end in _ends(a):
            at_end.setdefault(end, []).append(a["id"])
    out = []
    for al in alarms:
        a = by_id.get(al.get("asset", ""), {})
        if a.get("type") == "RoadSegment":
            around = {n for end in _ends(a) for n in at_end.get(end, ()) if n != a["id"]}
        else:
            around = {v for k, v in (a.get("refs") or {}).items() if k.startswith("seg")}
        affected = tuple(sorted(((n, by_id[n].get("name") or n) for n in around if n in by_id and _slowed(by_id[n])), key=lambda x: x[0]))
        out.append(Incident(al["id"], al.get("asset", ""), a.get("name") or al.get("asset_name") or al.get("asset", ""),
                            str(al.get("code")), str(al.get("priority") or "low"), float(al.get("raised_at") or 0.0),
                            bool(al.get("acknowledged")), affected))
    out.sort(key=lambda i: (-i.raised_at, i.alarm_id))
    return out


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


def suspected_leaks(alarms: Iterable[dict], assets: Iterable[dict], place=str) -> list[tuple[str, str, str, float]]:
    """Active suspected leaks, newest first: (pipe id, pipe name, probable area from its zone/district/street, raised at);
    `place` names a zone or district id (`district-2` -> its name)."""
    by_id = {a["id"]: a for a in assets}
    out = []
    for al in alarms:
        if al.get("domain") != "water" or not al.get("active") or "leak" not in str(al.get("code") or al.get("id", "")):
            continue
        a = by_id.get(al.get("asset", ""), {})
        refs, props = a.get("refs") or {}, a.get("props") or {}
        area = " · ".join([place(str(x)) for x in (refs.get("zone"), refs.get("district")) if x] + ([str(props["street"])] if props.get("street") else []))
        out.append((al.get("asset", ""), a.get("name") or al.get("asset", ""), area or al.get("message", ""), al.get("raised_at") or 0.0))
    out.sort(key=lambda r: -r[3])
    return out
