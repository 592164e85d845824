"""The water network's hydraulics: demand, pump automation, valves, pressures and reservoir balance.

Each pressure zone is fed by its booster pump; the zone's reservoir floats on the network, so
it fills when the pumps deliver more than the demand and feeds the zone by gravity (at a lower
pressure) when the pump is stopped. A tripped station is in safety (outlet closed): its zone
loses its supply. `WaterModel` holds this moving state and, each step, returns every asset's
reading values in the order of `network_assets`; the simulator (water.py) decides what is an
incident, an alarm or a telemetry message.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from services.contract import AssetDef, LineString, Point

from .water_parts import WaterNetwork

LOW_PRESSURE_BAR, LOW_PRESSURE_CLEAR_BAR = 1.5, 2.0
TRIP_BAR = 0.3  # what is left in a zone whose station has tripped
FRICTION_BAR = 0.45  # head loss at the far end of a zone at mean demand
VALVE_STROKE_PER_S = 1 / 60.0  # a valve travels fully in a minute


def demand_factor(hour: float) -> float:
    """Demand relative to the daily mean at a local hour: low at night, peaks around 07:45 and 19:30."""
    g = lambda centre, width: math.exp(-(((hour - centre + 12) % 24 - 12) / width) ** 2)  # noqa: E731
    day = 1 / (1 + math.exp(-(hour - 6.5) * 2)) - 1 / (1 + math.exp(-(hour - 22.5) * 2))
    return (0.30 + 0.45 * day + 0.75 * g(7.75, 1.4) + 0.35 * g(12.5, 1.5) + 0.6 * g(19.5, 1.8)) / 0.7956


@dataclass(slots=True)
class PumpState:
    """A station's moving state."""

    setpoint: float
    outlet: float
    running: bool = True
    manual: bool | None = None  # None: automatic (reservoir level and zone pressure hysteresis)
    manual_until: datetime | None = None
    tripped_until: datetime | None = None
    flow: float = 0.0


@dataclass(slots=True)
class Leak:
    """A leak on a pipe, detected after a while and repaired later."""

    pipe: int
    flow: float
    detect_at: datetime
    repair_at: datetime
    detected: bool = False


@dataclass(slots=True)
class QualityEvent:
    """A chlorine drop or turbidity rise seen by the quality sensors downstream of a pipe."""

    sensors: tuple[int, ...]
    chlorine: float | None
    turbidity: float | None
    until: datetime


@dataclass(slots=True)
class Hydraulics:
    """One step's hydraulic picture: each zone's head, each pipe's flow, cut-off and pressure loss."""

    head: list[float]  # bar, at each zone's pump
    tripped: list[bool]  # per zone
    cut: list[bool]  # per pipe: no supply (tripped station or closed valve upstream)
    flow: list[float]  # per pipe, m3/h
    drop: list[float]  # per pipe, bar lost in valves and leaks upstream
    zone_leak: list[float]  # per zone, bar lost to a leak anywhere in the zone
    friction: list[float]  # per zone, bar lost at the far end

    def pressure(self, zone: int, pipe: int, frac: float, head_m: float) -> float:
        """Pressure (bar) on a pipe at a fraction `frac` of the zone's reach, `head_m` below the pump."""
        if self.cut[pipe]:
            return TRIP_BAR * 0.5 if self.tripped[zone] else 0.1
        lift = max(-0.8, min(0.8, head_m / 10.2))
        return max(0.0, self.head[zone] - self.friction[zone] * frac + lift - self.drop[pipe] - self.zone_leak[zone])


class WaterModel:
    """The network's moving state and its physics, advanced one step at a time."""

    def __init__(self, net: WaterNetwork, rng: random.Random) -> None:
        self.net, self.rng = net, rng
        n = net
        self.level = [0.65 * r.max_level_m for r in n.reservoirs]
        self.pump = [PumpState(p.setpoint_bar, p.setpoint_bar) for p in n.pumps]
        self.valve_target = [1.0] * len(n.valves)
        self.valve_pos = [1.0] * len(n.valves)
        self.valve_on = {v.pipe: v.index for v in n.valves}
        self.zone_pipes = tuple(p for p in n.pipes if p.zone >= 0)  # upstream before downstream
        self.leaks: list[Leak] = []
        self.quality: list[QualityEvent] = []
        self.noise = [0.0] * len(n.zones)
        self.demand = [z.mean_m3h for z in n.zones]
        self.served = list(self.demand)
        self.static_bar = [min(3.2, max(2.4, (n.reservoirs[p.reservoir].elevation_m - p.elevation_m) / 10.2)) for p in n.pumps]
        self.chlorine0 = [0.48 * math.exp(-0.6 * s.dist_frac) for s in n.sensors]
        self.turbidity0 = [0.12 + 0.25 * ((s.index * 7919) % 100) / 100 for s in n.sensors]

    def draw_demand(self, hour: float) -> float:
        """Draw each zone's demand at a local hour (the diurnal curve and a slow random wander); return the curve's factor."""
        factor = demand_factor(hour)
        for z in self.net.zones:
            self.noise[z.index] = 0.9 * self.noise[z.index] + self.rng.gauss(0.0, 0.01)
            self.demand[z.index] = z.mean_m3h * factor * (1 + self.noise[z.index])
        return factor

    def run(self, dt_s: float, hour: float, factor: float) -> list[tuple]:
        """Run the stations, move the valves, solve the network, balance the reservoirs; return every asset's reading values."""
        n = self.net
        head = [self._control(k, dt_s) for k in range(len(n.pumps))]
        stroke = VALVE_STROKE_PER_S * dt_s if dt_s else 1.0
        self.valve_pos = [p + max(-stroke, min(stroke, t - p)) for p, t in zip(self.valve_pos, self.valve_target)]
        h = self._hydraulics(head)
        net_in = []
        for r in n.reservoirs:  # reservoirs float on the network: what the pumps give minus what their zones draw
            q = sum(self.pump[k].flow - self.served[k] for k in r.pumps)
            self.level[r.index] = max(0.0, min(r.max_level_m, self.level[r.index] + q * dt_s / 3600.0 * r.max_level_m / r.capacity_m3))
            net_in.append(q)
        return self._readings(h, net_in, hour, factor)

    def below(self, pipe: int) -> set[int]:
        """Return the pipe and every pipe downstream of it."""
        out, kids = {pipe}, True
        while kids:
            kids = {p.index for p in self.net.pipes if p.parent in out and p.index not in out}
            out |= kids
        return out

    def _control(self, k: int, dt_s: float) -> float:
        """Run one station's automation; return the head it gives its zone (bar)."""
        pump, st, res = self.net.pumps[k], self.pump[k], self.net.reservoirs[self.net.pumps[k].reservoir]
        gravity = self.static_bar[k] + self.level[res.index] / 10.2
        if st.tripped_until is not None:
            st.running, st.flow, st.outlet = False, 0.0, TRIP_BAR
            return TRIP_BAR
        if st.manual is not None:
            st.running = st.manual
        else:
            frac = self.level[res.index] / res.max_level_m
            zone = self.net.zones[pump.zone]
            critical = gravity - FRICTION_BAR * (self.demand[pump.zone] / zone.mean_m3h) ** 2 + max(-0.8, zone.worst_head_m / 10.2)
            stop_at, start_at = 0.90 - 0.02 * (k % 3), 0.45 + 0.04 * (k % 3)
            if st.running and frac >= stop_at and critical >= LOW_PRESSURE_CLEAR_BAR + 0.4:
                st.running = False
            elif not st.running and (frac <= start_at or critical < LOW_PRESSURE_CLEAR_BAR):
                st.running = True
        if not st.running:
            st.flow, st.outlet = 0.0, gravity
            return gravity
        st.outlet = st.setpoint if not dt_s else st.outlet + (st.setpoint - st.outlet) * min(1.0, dt_s / 45.0)
        st.flow = pump.nominal_m3h * max(0.5, min(1.3, math.sqrt(max(st.outlet, 0.0) / pump.setpoint_bar)))
        return st.outlet

    def _hydraulics(self, head: list[float]) -> Hydraulics:
        """Flows (each pipe's demand and leaks, summed upstream) and pressure losses (valves, leaks) of every pipe."""
        n = self.net
        h = Hydraulics(head, [st.tripped_until is not None for st in self.pump], [False] * len(n.pipes), [0.0] * len(n.pipes),
                       [0.0] * len(n.pipes), [0.0] * len(n.zones), [])
        leak_at: dict[int, float] = {}
        for leak in self.leaks:
            leak_at[leak.pipe] = leak_at.get(leak.pipe, 0.0) + leak.flow
        zone_pipes = self.zone_pipes
        for p in zone_pipes:
            v = self.valve_on.get(p.index)
            h.cut[p.index] = h.tripped[p.zone] or (p.parent >= 0 and h.cut[p.parent]) or (v is not None and self.valve_pos[v] < 0.01)
            if not h.cut[p.index]:
                h.flow[p.index] = self.demand[p.zone] * p.share + leak_at.get(p.index, 0.0)
        self.served = [0.0] * len(n.zones)
        for p in zone_pipes:
            self.served[p.zone] += h.flow[p.index]
        for p in reversed(zone_pipes):
            if p.parent >= 0:
                h.flow[p.parent] += h.flow[p.index]
        for p in n.pipes:
            if p.zone < 0:  # transmission main, positive from the reservoir towards the zones
                h.flow[p.index] = sum(self.served[k] - self.pump[k].flow for k in p.pumps)
        h.friction = [FRICTION_BAR * (self.served[z.index] / z.mean_m3h) ** 2 for z in n.zones]
        for p in zone_pipes:
            v = self.valve_on.get(p.index)
            d = h.drop[p.parent] if p.parent >= 0 else 0.0
            if v is not None and not h.cut[p.index]:
                d += 0.05 * (h.flow[p.index] / p.design_m3h) ** 2 / max(self.valve_pos[v], 0.01) ** 2
            if p.index in leak_at:
                leak_drop = min(1.5, 0.025 * leak_at[p.index])
                d += leak_drop
                h.zone_leak[p.zone] = max(h.zone_leak[p.zone], 0.25 * leak_drop)
            h.drop[p.index] = d
        return h

    def _readings(self, h: Hydraulics, net_in: list[float], hour: float, factor: float) -> list[tuple]:
        """Every asset's reading values, in asset order, sensors with their noise."""
        n, rng = self.net, self.rng
        values: list[tuple] = [(round(self.level[r.index], 3), round(net_in[r.index], 1), "ok") for r in n.reservoirs]
        for k, st in enumerate(self.pump):
            values.append((st.running, st.setpoint, round(h.head[k], 2), round(st.flow, 1), "fault" if h.tripped[k] else "ok"))
        for v in n.valves:
            frac = n.pipes[v.pipe].start_m / n.zones[v.zone].max_dist_m
            values.append((round(self.valve_pos[v.index], 3), round(h.pressure(v.zone, v.pipe, frac, v.head_m), 2), round(h.flow[v.pipe], 1), "ok"))
        leaking = {leak.pipe for leak in self.leaks if leak.detected}
        values += [(round(h.flow[p.index], 1), "fault" if p.index in leaking else "ok") for p in n.pipes]
        for j in n.junctions:
            p = n.pipes[j.pipe]
            values.append((round(h.pressure(j.zone, j.pipe, min(1.0, (p.start_m + p.length_m) / n.zones[j.zone].max_dist_m), j.head_m), 2),))
        quality = {s: e for e in self.quality for s in e.sensors}
        ripple = 0.03 * math.sin(2 * math.pi * (hour - 6) / 24)
        for s in n.sensors:
            if s.measures == "pressure":
                values.append((round(max(0.0, h.pressure(s.zone, s.pipe, s.dist_frac, s.head_m) + rng.gauss(0.0, 0.03)), 2), "ok"))
            elif s.measures == "flow":
                values.append((round(h.flow[s.pipe] * (1 + rng.gauss(0.0, 0.01)), 1), "ok"))
            else:
                e = quality.get(s.index)
                cl = self.chlorine0[s.index] + ripple + rng.gauss(0.0, 0.008)
                tu = self.turbidity0[s.index] * (0.8 + 0.2 * factor) + rng.gauss(0.0, 0.015)
                if e is not None and e.chlorine is not None:
                    cl = e.chlorine + rng.gauss(0.0, 0.005)
                if e is not None and e.turbidity is not None:
                    tu = e.turbidity + rng.gauss(0.0, 0.05)
                values.append((round(max(0.0, cl), 3), round(max(0.01, tu), 3), "ok"))
        return values


# the reading fields of each asset type (sensors: of each kind), in the order `WaterModel` gives their values
FIELDS = {
    "Reservoir": ("level", "flow", "status"),
    "Pump": ("running", "setpoint", "pressure", "flow", "status"),
    "Valve": ("position", "pressure", "flow", "status"),
    "Pipe": ("flow", "status"),
    "Junction": ("pressure",),
    "pressure": ("pressure", "status"),
    "flow": ("flow", "status"),
    "quality": ("chlorine", "turbidity", "status"),
}


def network_assets(n: WaterNetwork) -> list[tuple[AssetDef, tuple[str, ...]]]:
    """Every asset of the network with the reading fields it reports, in a stable order."""
    zone = [z.id for z in n.zones]
    out: list[tuple[AssetDef, tuple[str, ...]]] = []

    def add(fields: tuple[str, ...], at: object, **kw: object) -> None:
        geometry = LineString(coordinates=list(at)) if isinstance(at, tuple) and isinstance(at[0], tuple) else Point(coordinates=at)
        kw["props"] = {**kw["props"], "synthetic": True}  # the whole network is drawn, none of it is surveyed
        out.append((AssetDef(geometry=geometry, **kw), fields))

    for r in n.reservoirs:
        add(FIELDS["Reservoir"], r.at, id=r.id, type="Reservoir", name=r.name, refs={"district": r.district},
            props={"capacity": r.capacity_m3, "maxLevel": r.max_level_m, "elevation": r.elevation_m})
    for p in n.pumps:
        add(FIELDS["Pump"], p.at, id=p.id, type="Pump", name=p.name,
            refs={"zone": zone[p.zone], "reservoir": n.reservoirs[p.reservoir].id, "district": p.district},
            props={"nominalFlow": p.nominal_m3h, "setpoint": p.setpoint_bar, "elevation": p.elevation_m, "zoneName": n.zones[p.zone].name})
    for v in n.valves:
        add(FIELDS["Valve"], v.at, id=v.id, type="Valve", name=v.name,
            refs={"pipe": n.pipes[v.pipe].id, "zone": zone[v.zone], "district": v.district},
            props={"diameter": v.diameter_mm, "main": v.main, "downstreamSensors": len(v.downstream_sensors),
                   "downstreamPipes": len(v.downstream_pipes)})
    for p in n.pipes:
        refs = {"district": p.district, **({"zone": zone[p.zone]} if p.zone >= 0 else {"reservoir": n.reservoirs[p.reservoir].id})}
        if p.parent >= 0:
            refs["upstream"] = n.pipes[p.parent].id
        add(FIELDS["Pipe"], p.coords, id=p.id, type="Pipe", name=f"Conduite DN{p.diameter_mm}, {p.street}", refs=refs,
            props={"diameter": p.diameter_mm, "length": p.length_m, "street": p.street, "main": p.zone < 0 or p.diameter_mm >= 300})
    for j in n.junctions:
        add(FIELDS["Junction"], j.at, id=j.id, type="Junction", name=j.name,
            refs={"pipe": n.pipes[j.pipe].id, "zone": zone[j.zone], "district": j.district}, props={"elevation": j.elevation_m})
    for s in n.sensors:
        add(FIELDS[s.measures], s.at, id=s.id, type="Device", name=s.name,
            refs={"pipe": n.pipes[s.pipe].id, "zone": zone[s.zone], "district": s.district}, props={"measures": s.measures})
    return out
