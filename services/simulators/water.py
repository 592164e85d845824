"""The water-network supervisor simulator: reservoirs, booster pumps, valves and sensors.

The network is generated once along the territory's real streets (water_network.py) and its
hydraulics live in `WaterModel` (water_model.py); `WaterSim` adds what a supervisor sees:
random incidents (leaks, pump trips, quality excursions), their alarms, telemetry by
exception with deadbands, and the operators' commands.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.contract import AssetDef, Command, WaterReading
from services.territory.geo import load_territory

from .base import CommandResult, SupervisorSim
from .water_commands import refusal
from .water_model import LOW_PRESSURE_BAR, LOW_PRESSURE_CLEAR_BAR, Leak, PumpState, QualityEvent, WaterModel, network_assets
from .water_network import build_network
from .water_parts import WaterNetwork

REFRESH_S = 300.0  # every asset is re-sent at least this often
LOW_LEVEL, LOW_LEVEL_CLEAR = 0.20, 0.25
HOURLY = {"leak": 1 / 6, "trip": 1 / 10, "quality": 1 / 8}  # city-wide incidents per hour
DEADBAND = {"pressure": 0.1, "level": 0.02, "chlorine": 0.02, "turbidity": 0.05, "position": 0.005, "setpoint": 0.0}


class WaterSim(SupervisorSim):
    """Simulated water supervisor on a generated network along the territory's real streets."""

    domain = "water"
    step_s = 30.0

    def __init__(self, supervisor_id: str, *, seed: int, start: datetime, territory: str = "montpellier") -> None:
        super().__init__(supervisor_id, seed, start)
        self.net: WaterNetwork = build_network(territory, seed)
        self.tz = ZoneInfo(load_territory(territory).timezone)
        self.incident_rate = 1.0  # multiplies the random incident rates; 0 for a quiet network
        self.model = WaterModel(self.net, self.rng)
        self.low_steps = [0] * len(self.net.sensors)
        defs = network_assets(self.net)
        self._assets = tuple(a for a, _ in defs)
        self._fields = [f for _, f in defs]
        self._index = {a.id: (a.type, i) for i, a in enumerate(self._assets)}
        self._values = self._compute(self.now, 0.0)
        self._sent = list(self._values)
        self._steps = 0

    # --- assets ---------------------------------------------------------------------------

    def asset_defs(self) -> list[AssetDef]:
        """Every asset: reservoirs, pumps, valves, pipes, junctions, sensors."""
        return list(self._assets)

    def current_readings(self) -> list[WaterReading]:
        """The current reading of every asset."""
        return [self._reading(i) for i in range(len(self._assets))]

    def _reading(self, i: int) -> WaterReading:
        return WaterReading(asset=self._assets[i].id, **dict(zip(self._fields[i], self._values[i])))

    def downstream_sensors(self, asset_id: str) -> tuple[str, ...]:
        """The sensors a valve or a pump feeds (what loses pressure when it closes or trips)."""
        kind, _ = self._index.get(asset_id, ("", 0))
        n = self.net
        if kind == "Valve":
            return tuple(n.sensors[s].id for s in n.valves[self._ord(asset_id)].downstream_sensors)
        if kind == "Pump":
            z = n.pumps[self._ord(asset_id)].zone
            return tuple(s.id for s in n.sensors if s.zone == z)
        raise KeyError(f"{asset_id} is not a valve or a pump of {self.supervisor_id}")

    def _ord(self, asset_id: str, kind: str | None = None) -> int:
        """The position of an asset among those of its type (ids end with their number)."""
        if kind is not None and self._index.get(asset_id, ("", 0))[0] != kind:
            raise KeyError(f"{asset_id!r} is not a {kind} of {self.supervisor_id}")
        return int(asset_id.rsplit("-", 1)[1]) - 1

    @property
    def demand_m3h(self) -> float:
        """What the city draws right now (m3/h), leaks included."""
        return sum(self.model.served)

    @property
    def level(self) -> list[float]:
        """Each reservoir's water level (m)."""
        return self.model.level

    @property
    def pump(self) -> list[PumpState]:
        """Each pump station's moving state."""
        return self.model.pump

    # --- incidents ------------------------------------------------------------------------

    def trip_pump(self, pump_id: str, duration_s: float = 1800.0) -> None:
        """Trip a pump: its station goes to safety and its zone loses pressure until the fault clears."""
        k = self._ord(pump_id, "Pump")
        p, st = self.net.pumps[k], self.pump[k]
        st.tripped_until, st.running = self.now + timedelta(seconds=duration_s), False
        self.raise_alarm(f"{p.id}:pump_fault", p.id, "pump_fault", "critical",
                         f"Défaut {p.name}: disjonction, station en sécurité; {self.net.zones[p.zone].name} n'est plus alimentée")

    def start_leak(self, pipe_id: str, flow_m3h: float = 40.0, detect_after_s: float = 600.0, repair_after_s: float = 10800.0) -> None:
        """Open a leak on a pipe; it is detected after `detect_after_s` and repaired after `repair_after_s`."""
        i = self._ord(pipe_id, "Pipe")
        if self.net.pipes[i].zone < 0:
            raise ValueError(f"{pipe_id} is a transmission main; leaks are simulated on distribution pipes")
        due = self.now + timedelta(seconds=detect_after_s), self.now + timedelta(seconds=repair_after_s)
        self.model.leaks.append(Leak(i, flow_m3h, *due))

    def degrade_quality(self, pipe_id: str, *, chlorine: float | None = None, turbidity: float | None = None,
                        duration_s: float = 3600.0) -> None:
        """Make the quality sensors downstream of a pipe read a low chlorine and/or a high turbidity."""
        below = self.model.below(self._ord(pipe_id, "Pipe"))
        sensors = tuple(s.index for s in self.net.sensors if s.measures == "quality" and s.pipe in below)
        self.model.quality.append(QualityEvent(sensors, chlorine, turbidity, self.now + timedelta(seconds=duration_s)))

    def _random_incidents(self, dt_s: float) -> None:
        rate = lambda kind: HOURLY[kind] * self.incident_rate * dt_s / 3600.0  # noqa: E731
        zone_pipes, leaks = self.model.zone_pipes, self.model.leaks
        if self.rng.random() < rate("leak") and len(leaks) < 3:
            p = self.rng.choices(zone_pipes, weights=[p.length_m for p in zone_pipes])[0]
            if p.index not in {leak.pipe for leak in leaks}:
                self.start_leak(p.id, round(self.rng.uniform(15, 60), 1), self.rng.uniform(300, 1500), self.rng.uniform(7200, 18000))
        if self.rng.random() < rate("trip"):
            k = self.rng.randrange(len(self.pump))
            if self.pump[k].tripped_until is None:
                self.trip_pump(self.net.pumps[k].id, self.rng.uniform(900, 2700))
        if self.rng.random() < rate("quality"):
            p = self.rng.choice(zone_pipes)
            low_cl = self.rng.random() < 0.6
            level = round(self.rng.uniform(0.04, 0.16), 3) if low_cl else round(self.rng.uniform(1.2, 3.5), 2)
            self.degrade_quality(p.id, chlorine=level if low_cl else None, turbidity=None if low_cl else level,
                                 duration_s=self.rng.uniform(1800, 5400))

    # --- the world ------------------------------------------------------------------------

    def advance(self, now: datetime, dt_s: float) -> None:
        """Move the network forward: incidents, control, hydraulics, alarms, telemetry by exception."""
        self._random_incidents(dt_s)
        self._values = self._compute(now, dt_s)
        self._steps += 1
        self._alarms()
        self._telemetry()

    def _compute(self, now: datetime, dt_s: float) -> list[tuple]:
        """Advance demand, timers, control and hydraulics by dt_s and return every asset's reading values."""
        local = now.astimezone(self.tz)
        hour = local.hour + local.minute / 60 + local.second / 3600
        factor = self.model.draw_demand(hour)
        self._timers(now)
        return self.model.run(dt_s, hour, factor)

    def _timers(self, now: datetime) -> None:
        """End what is due: trips cleared, leaks detected or repaired, quality events over, overrides expired."""
        for k, st in enumerate(self.pump):
            if st.tripped_until is not None and now >= st.tripped_until:
                st.tripped_until = None
                self.clear_alarm(f"{self.net.pumps[k].id}:pump_fault")
            if st.manual_until is not None and now >= st.manual_until:
                st.manual, st.manual_until = None, None
        for leak in list(self.model.leaks):
            pipe = self.net.pipes[leak.pipe]
            if now >= leak.repair_at:
                self.model.leaks.remove(leak)
                self.clear_alarm(f"{pipe.id}:leak_suspected")
            elif not leak.detected and now >= leak.detect_at:
                leak.detected = True
                zone = self.net.zones[pipe.zone]
                self.raise_alarm(f"{pipe.id}:leak_suspected", pipe.id, "leak_suspected", "major",
                                 f"Fuite suspectée {zone.name} ({zone.id}), conduite {pipe.id} DN{pipe.diameter_mm} {pipe.street}: "
                                 f"débit anormal (+{leak.flow:.0f} m3/h, visible au débit de nuit), pression en baisse en aval")
        self.model.quality = [e for e in self.model.quality if now < e.until]

    # --- alarms and telemetry -------------------------------------------------------------

    def _alarms(self) -> None:
        n, base = self.net, len(self._assets) - len(self.net.sensors)
        for r in n.reservoirs:
            frac, aid = self.level[r.index] / r.max_level_m, f"{r.id}:low_level"
            if frac < LOW_LEVEL:
                self.raise_alarm(aid, r.id, "low_level", "major", f"Niveau bas {r.name}: {100 * frac:.0f} % ({self.level[r.index]:.2f} m)")
            elif frac > LOW_LEVEL_CLEAR:
                self.clear_alarm(aid)
        for s in n.sensors:
            vals = self._values[base + s.index]
            if s.measures == "pressure":
                aid = f"{s.id}:low_pressure"
                self.low_steps[s.index] = self.low_steps[s.index] + 1 if vals[0] < LOW_PRESSURE_BAR else 0
                if self.low_steps[s.index] >= 2:  # two steps in a row: not a blip
                    self.raise_alarm(aid, s.id, "low_pressure", "major",
                                     f"Pression basse {vals[0]:.1f} bar, {s.name} ({n.zones[s.zone].name})")
                elif vals[0] > LOW_PRESSURE_CLEAR_BAR:
                    self.clear_alarm(aid)
            elif s.measures == "quality":
                self._quality_alarm(s.id, s.name, vals[0], vals[1])

    def _quality_alarm(self, sensor_id: str, name: str, chlorine: float, turbidity: float) -> None:
        aid = f"{sensor_id}:water_quality"
        severity = "major" if chlorine < 0.1 or turbidity > 2.0 else "minor"
        if chlorine < 0.15 or turbidity > 1.0:
            active = self._active_alarms.get(aid)
            if active is not None and active.severity != severity and severity == "major":
                self.clear_alarm(aid)  # escalate: the same alarm again, now major
            self.raise_alarm(aid, sensor_id, "water_quality", severity,
                             f"Qualité de l'eau, {name}: chlore libre {chlorine:.2f} mg/L, turbidité {turbidity:.2f} NTU")
        elif chlorine > 0.18 and turbidity < 0.8:
            self.clear_alarm(aid)

    def _telemetry(self) -> None:
        """Queue what moved beyond its deadband, and every asset at least every REFRESH_S."""
        every = max(1, int(REFRESH_S // self.step_s))
        for i, (new, old) in enumerate(zip(self._values, self._sent)):
            if (i + self._steps) % every == 0 or (new != old and _moved(self._fields[i], old, new)):
                self._sent[i] = new
                self.changed(self._reading(i))

    # --- commands -------------------------------------------------------------------------

    def check_command(self, cmd: Command) -> str | None:
        """Return why a command is refused, or None."""
        return refusal(cmd, self._index, self.supervisor_id)

    def apply_command(self, cmd: Command) -> CommandResult:
        """Move valves, start or stop pumps, change setpoints."""
        res, prm = CommandResult(), cmd.params
        for t in cmd.targets:
            i = self._ord(t)
            if cmd.action == "valve":
                self.model.valve_target[i] = float(prm["position"]) / 100.0 if "position" in prm else (1.0 if prm["open"] else 0.0)
            elif cmd.action == "pump_setpoint":
                self.pump[i].setpoint = float(prm["bar"])
            elif prm.get("auto"):
                self.pump[i].manual, self.pump[i].manual_until = None, None
            elif prm["running"] and self.pump[i].tripped_until is not None:
                res.failed.append(t)
                res.reason = f"{t} has tripped: it cannot restart before the fault is cleared"
                continue
            else:
                st = self.pump[i]
                st.manual = bool(prm["running"])
                st.manual_until = self.now + timedelta(seconds=float(prm["override_s"])) if prm.get("override_s") else None
            res.applied.append(t)
        return res


def _moved(fields: tuple[str, ...], old: tuple, new: tuple) -> bool:
    """Has any value moved beyond its deadband (flows: 3 %, at least 1 m3/h)?"""
    for field, a, b in zip(fields, old, new):
        if a == b:
            continue
        if isinstance(b, (bool, str)) or a is None:
            return True
        if abs(b - a) > (max(1.0, 0.03 * abs(a)) if field == "flow" else DEADBAND[field]):
            return True
    return False
