"""Simulated road-traffic supervisor on the territory's real road segments and signalised junctions.

Each segment's flow is its real average daily count (or an estimate by road class) shaped by an
hourly profile; speed follows a BPR-like curve of flow over capacity (traffic_world.py).
Incidents block a segment and queue its neighbours (segments sharing an end point); junction
controllers run a signal plan and sometimes fail. Telemetry goes out by exception, with
deadbands, and every asset at least every 15 simulated minutes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import numpy as np

from services.contract import AssetDef, Command, TrafficReading
from services.territory.geo import load_territory

from .base import CommandResult, SupervisorSim
from .traffic_commands import refusal
from .traffic_world import bpr_speed, build_world, is_peak, profile

REFRESH_S = 900.0  # every asset reports at least this often
INTENSITY_DEADBAND = (40.0, 0.15)  # report when flow moves by more than max(abs veh/h, relative)
SPEED_DEADBAND = 5.0  # km/h
CONGESTED_BELOW = 0.5  # of free-flow speed
FREE_ABOVE = 0.6  # of free-flow speed: a congestion alarm clears above this (hysteresis)
ALARM_AFTER_STEPS = 2  # congested (or free again) this many steps before raising (or clearing)
JAM_DENSITY = 120.0  # vehicles per km per lane (a lane carries ~1800 veh/h)
QUEUE_SPEED = 0.35  # of free flow, on segments queueing behind an incident
DIVERTED_SHARE = 0.8  # of a closed segment's flow that moves to its open neighbours
INCIDENT_EVERY_S = 3600.0  # one incident an hour on average over the network (more at peaks)
INCIDENT_MINUTES = (20, 90)
FAULT_EVERY_S = 4 * 3600.0  # one junction fault every four hours on average
REPAIR_MINUTES = (30, 180)
PLAN_CAPACITY = {"normal": 1.0, "peak": 1.1, "greenWave": 1.2, "flashingAmber": 0.7}  # effect on nearby segments


@dataclass(slots=True)
class Signal:
    """A junction controller and its signal plan."""

    id: str
    name: str
    segments: tuple[int, ...]
    plan: str = "normal"
    operator_plan: str | None = None
    operator_until: datetime | None = None  # None with an operator plan: held until the next command
    fault_until: datetime | None = None
    sent: tuple | None = None
    refresh_at: float = 0.0

    @property
    def status(self) -> str:
        return "fault" if self.fault_until is not None else "ok"


class TrafficSim(SupervisorSim):
    """A road-traffic supervisor: segment flows and speeds, incidents, junction signal plans.

    Static figures live on `Segment`s; the traffic of all segments lives in numpy arrays
    (one element per segment) so a step over 8,000 segments costs a few milliseconds.
    """

    domain = "traffic"
    step_s = 60.0

    def __init__(self, supervisor_id: str, *, seed: int, start: datetime, territory: str = "montpellier") -> None:
        super().__init__(supervisor_id, seed, start)
        self.tz = ZoneInfo(load_territory(territory).timezone)
        world = build_world(territory)
        self.segments, self._defs = world.segments, world.assets
        self.signals = [Signal(sig_id, name, near) for sig_id, name, near in world.junctions]
        self._seg_index = {s.id: i for i, s in enumerate(self.segments)}
        self._sig_index = {g.id: i for i, g in enumerate(self.signals)}
        self._incident_weights = list(accumulate(s.daily for s in self.segments))  # busy roads have more incidents
        self.incidents: dict[int, datetime] = {}  # segment index -> when the road clears
        self.operator_closed: dict[int, None] = {}  # segment indexes closed by an operator (ordered set)
        n = len(self.segments)
        self._noise_rng = np.random.default_rng(self.rng.getrandbits(64))
        self._ids = [s.id for s in self.segments]
        self._daily = np.array([s.daily for s in self.segments])
        self._capacity = np.array([s.capacity for s in self.segments])
        self._free = np.array([s.free_flow for s in self.segments])
        self._noise = np.zeros(n)
        self.intensity, self.speed, self.occupancy = np.zeros(n), self._free.copy(), np.zeros(n)
        self.congested, self.closed = np.zeros(n, bool), np.zeros(n, bool)
        self._congested_steps, self._free_steps = np.zeros(n, np.int32), np.zeros(n, np.int32)
        self._alarmed = np.zeros(n, bool)
        self._queue: dict[int, str] = {}  # segment index -> the incident segment it queues behind
        t0 = start.timestamp()
        self._refresh_at = t0 + REFRESH_S * (np.arange(n) % 15 + 1) / 15  # spread the periodic refresh
        for k, g in enumerate(self.signals):
            g.refresh_at = t0 + REFRESH_S * (k % 15 + 1) / 15
        local = start.astimezone(self.tz)
        self._update_signals(local)
        self._simulate(local)
        self._sent_q, self._sent_v, self._sent_state = self.intensity.copy(), self.speed.copy(), self._state_code()
        for g in self.signals:
            g.sent = (g.plan, g.status)

    # --- the world, step by step ----------------------------------------------------------

    def asset_defs(self) -> list[AssetDef]:
        """Every road segment, then every junction."""
        return list(self._defs)

    def advance(self, now: datetime, dt_s: float) -> None:
        """End and start incidents and faults, run the signal plans, move the traffic, report."""
        local = now.astimezone(self.tz)
        self._end_events(now)
        self._start_events(local, dt_s)
        self._update_signals(local)
        self._simulate(local)
        self._report(now.timestamp())

    def neighbours(self, segment_id: str) -> list[str]:
        """The segments sharing an end point with this one."""
        return [self._ids[i] for i in self.segments[self._seg_index[segment_id]].neighbours]

    def start_incident(self, segment_id: str, minutes: float) -> bool:
        """Block a segment with an incident for `minutes`; False when it is already closed."""
        i = self._seg_index[segment_id]
        if i in self.incidents or i in self.operator_closed:
            return False
        s = self.segments[i]
        self.incidents[i] = self.now + timedelta(minutes=minutes)
        message = f"Incident on {s.name} ({s.id}): road blocked, about {minutes:.0f} min"
        self.raise_alarm(f"{s.id}:incident", s.id, "incident", "major", message)
        return True

    def start_signal_fault(self, signal_id: str, minutes: float) -> bool:
        """Put a junction controller in fault (flashing amber) for `minutes`; False when already faulty."""
        g = self.signals[self._sig_index[signal_id]]
        if g.fault_until is not None:
            return False
        g.fault_until, g.plan = self.now + timedelta(minutes=minutes), "flashingAmber"
        message = f"Signal controller fault at {g.name}: flashing amber until repaired"
        self.raise_alarm(f"{g.id}:signal_fault", g.id, "signal_fault", "major", message)
        return True

    def _end_events(self, now: datetime) -> None:
        for i, until in list(self.incidents.items()):
            if now >= until:
                del self.incidents[i]
                self.clear_alarm(f"{self._ids[i]}:incident")
        for g in self.signals:
            if g.fault_until is not None and now >= g.fault_until:
                g.fault_until, g.operator_plan, g.operator_until = None, None, None  # repaired: back to automatic
                self.clear_alarm(f"{g.id}:signal_fault")
            if g.operator_until is not None and now >= g.operator_until:
                g.operator_plan, g.operator_until = None, None

    def _start_events(self, local: datetime, dt_s: float) -> None:
        busy = profile(local) * 24  # 1.0 on an average hour
        if self.rng.random() < dt_s / INCIDENT_EVERY_S * busy:
            i = self.rng.choices(range(len(self.segments)), cum_weights=self._incident_weights)[0]
            self.start_incident(self._ids[i], self.rng.randint(*INCIDENT_MINUTES))
        if self.rng.random() < dt_s / FAULT_EVERY_S:
            g = self.signals[self.rng.randrange(len(self.signals))]
            self.start_signal_fault(g.id, self.rng.randint(*REPAIR_MINUTES))

    def _update_signals(self, local: datetime) -> None:
        auto = "peak" if is_peak(local) else "normal"
        for g in self.signals:
            g.plan = "flashingAmber" if g.fault_until is not None else (g.operator_plan or auto)

    def _simulate(self, local: datetime) -> None:
        """Flow, speed, occupancy and congestion of every segment at this local time."""
        share = profile(local)
        self._noise = 0.9 * self._noise + (self._noise_rng.random(len(self.segments)) - 0.5) * 0.08
        demand = self._daily * share * (1.0 + self._noise)
        closed = np.zeros(len(self.segments), bool)
        closed[list(self.incidents) + list(self.operator_closed)] = True
        factor: dict[int, float] = {}  # the worst signal plan around a segment sets its capacity
        for g in self.signals:
            for i in g.segments:
                factor[i] = min(factor.get(i, 2.0), PLAN_CAPACITY[g.plan])
        capacity = self._capacity.copy()
        capacity[list(factor)] *= np.array(list(factor.values()))
        flow, self._queue = demand.copy(), {}
        for i in sorted(np.flatnonzero(closed).tolist()):  # closed roads divert their traffic
            open_nbrs = [k for k in self.segments[i].neighbours if not closed[k]]
            for k in open_nbrs:
                flow[k] += demand[i] * DIVERTED_SHARE / len(open_nbrs)
                if i in self.incidents:
                    self._queue.setdefault(k, self._ids[i])
        speed = bpr_speed(self._free, flow, capacity)
        queued = list(self._queue)
        speed[queued] = np.minimum(speed[queued], self._free[queued] * QUEUE_SPEED)
        lanes = self._capacity / 1800.0
        occupancy = np.maximum(flow / np.maximum(speed, 3.0) / (JAM_DENSITY * lanes), 1.0 - speed / self._free)
        flow[closed], speed[closed] = 0.0, 0.0
        occupancy[closed] = 0.0
        occupancy[list(self.incidents)] = 1.0  # a blocked road is full of stopped vehicles
        self.intensity, self.speed = np.rint(flow), np.round(speed, 1)
        self.occupancy = np.round(np.clip(occupancy, 0.0, 1.0), 3)
        self.congested, self.closed = (self.speed < CONGESTED_BELOW * self._free) & ~closed, closed
        self._congestion_alarms()

    def _congestion_alarms(self) -> None:
        """Raise after ALARM_AFTER_STEPS congested steps, clear after as many free ones."""
        free = ~self.congested & (self.closed | (self.speed >= FREE_ABOVE * self._free))
        self._congested_steps = np.where(self.congested, self._congested_steps + 1, 0)
        self._free_steps = np.where(free, self._free_steps + 1, 0)
        for i in np.flatnonzero((self._congested_steps >= ALARM_AFTER_STEPS) & ~self._alarmed).tolist():
            s, cause = self.segments[i], self._queue.get(i)
            why = f"queue behind the incident on {cause}" if cause else "heavy traffic"
            self.raise_alarm(f"{s.id}:congestion", s.id, "congestion", "warning",
                             f"Congestion on {s.name}: {self.speed[i]:.0f} km/h for {s.free_flow:.0f} km/h free flow, {why}")
            self._alarmed[i] = True
        for i in np.flatnonzero((self._free_steps >= ALARM_AFTER_STEPS) & self._alarmed).tolist():
            self.clear_alarm(f"{self._ids[i]}:congestion")
            self._alarmed[i] = False

    # --- telemetry by exception -----------------------------------------------------------

    def _state_code(self) -> np.ndarray:
        return self.congested.astype(np.int8) + 2 * self.closed.astype(np.int8)

    def _report(self, ts: float) -> None:
        """Queue the readings that changed state or moved beyond a deadband, and those due a refresh."""
        state = self._state_code()
        absolute, relative = INTENSITY_DEADBAND
        moved = (
            (state != self._sent_state)
            | (np.abs(self.intensity - self._sent_q) > np.maximum(absolute, relative * self._sent_q))
            | (np.abs(self.speed - self._sent_v) >= SPEED_DEADBAND)
            | (ts >= self._refresh_at)
        )
        idx = np.flatnonzero(moved)
        for reading in self._segment_readings(idx):
            self.changed(reading)
        self._sent_q[idx], self._sent_v[idx], self._sent_state[idx] = self.intensity[idx], self.speed[idx], state[idx]
        self._refresh_at[idx] = ts + REFRESH_S
        for g in self.signals:
            key = (g.plan, g.status)
            if ts >= g.refresh_at or key != g.sent:
                self.changed(TrafficReading(asset=g.id, signalPlan=g.plan, status=g.status))
                g.sent, g.refresh_at = key, ts + REFRESH_S

    def _segment_readings(self, idx: np.ndarray) -> list[TrafficReading]:
        cols = zip(idx.tolist(), self.intensity[idx].tolist(), self.speed[idx].tolist(), self.occupancy[idx].tolist(),
                   self.congested[idx].tolist(), self.closed[idx].tolist())
        return [
            TrafficReading(
                asset=self._ids[i], intensity=q, averageVehicleSpeed=v, occupancy=o, congested=c, closed=x, status="closed" if x else "ok"
            )
            for i, q, v, o, c, x in cols
        ]

    def current_readings(self) -> list[TrafficReading]:
        """Every segment's traffic and every junction's plan, now."""
        signals = [TrafficReading(asset=g.id, signalPlan=g.plan, status=g.status) for g in self.signals]
        return self._segment_readings(np.arange(len(self.segments))) + signals

    # --- commands -------------------------------------------------------------------------

    def check_command(self, cmd: Command) -> str | None:
        """Refuse unknown actions, targets of the wrong type, unknown parameters and bad plans."""
        return refusal(cmd, self._seg_index, self._sig_index, self.supervisor_id)

    def apply_command(self, cmd: Command) -> CommandResult:
        """Set signal plans, close or reopen segments; faulty junctions and incident-blocked roads fail."""
        res = CommandResult()
        targets = list(dict.fromkeys(cmd.targets))
        if cmd.action == "signal_plan":
            plan, override = cmd.params["plan"], cmd.params.get("override_s")
            until = self.now + timedelta(seconds=float(override)) if override is not None and plan != "auto" else None
            for t in targets:
                g = self.signals[self._sig_index[t]]
                if g.fault_until is not None:
                    res.failed.append(t)
                    continue
                g.operator_plan, g.operator_until = (None, None) if plan == "auto" else (plan, until)
                res.applied.append(t)
            if res.failed:
                res.reason = f"junction controller in fault (flashing amber until repaired): {', '.join(res.failed[:5])}"
            return res
        for t in targets:
            i = self._seg_index[t]
            if cmd.action == "close_segment":
                self.operator_closed[i] = None
                res.applied.append(t)
            elif i in self.incidents:
                res.failed.append(t)
            else:
                self.operator_closed.pop(i, None)
                res.applied.append(t)
        if res.failed:
            res.reason = f"an incident still blocks {', '.join(res.failed[:5])}; it reopens when the incident is cleared"
        return res
