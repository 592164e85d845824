"""Simulated road-traffic supervisor on the territory's real road segments and signalised junctions.

Each segment's flow is its real average daily count (or an estimate by road class) shaped by the
day's profile; speed follows a BPR-like curve of flow over capacity (traffic_world.py). The day is
calibrated on Montpellier's counts (docs/traffic.md): weekday peaks at 08:00 and 17:30 whose
peak-hour share is the counts' own (PHJM/PHJS over TJM), urban capacity under signal control,
and queues that spill back from oversaturated roads into the roads feeding them. Incidents block
a segment and their queue grows upstream while they last; junction controllers run a signal plan
and sometimes fail. Telemetry goes out by exception, with deadbands, and every asset at least
every 15 simulated minutes.
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
from .traffic_world import DAY_FACTOR, SATURDAY, SUNDAY, bpr_speed, build_world, is_peak

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

# --- calibration on the real counts (docs/traffic.md; benchmarks/traffic_day.py measures it) ---------------
# Weekday demand: a daytime plateau and two peaks, centred where Montpellier's counts put them. The share of the
# day's traffic in the peak hour is the counts' own: the median PHJM/TJM and PHJS/TJM of the counted roads above
# 5,000 vehicles a day are 0.089 (morning) and 0.094 (evening), here for an average day (x DAY_FACTOR on weekdays).
AM_PEAK, PM_PEAK = (8.0, 0.8, 0.040), (17.5, 1.0, 0.042)  # (local hour, width h, height)
PLATEAU = (6.4, 21.2, 0.036)  # daytime traffic between these hours
NIGHT = 0.004
URBAN_CAPACITY = 0.55  # a signalised urban road passes this share of its mapped capacity (green time, turns, parking)
COUNTED_PEAK = 0.08  # ... but a counted road passes at least this share of its daily count an hour: it did in its real
#                      peak hour (median PHJM/TJM of the roads above 20,000 vehicles a day)
CRAWL = 0.15  # of free flow: the slowest a queue moves on average (stop and go), whatever the demand
FAST_ROAD_KMH = 80.0  # free-flow speeds at or above this are not signalised (motorways, expressways)
SPILL_LOAD = 1.05  # demand over capacity beyond which a road's queue backs up into the roads feeding it
SPILL_MIN_LOAD = 0.45  # a neighbour carrying less than this share of its capacity does not queue behind it
SPILL_SPEED = 0.45  # of free flow, on a road queueing behind an oversaturated one
INCIDENT_HOP_MIN = 8.0  # an incident's queue reaches one more road upstream every this many minutes
INCIDENT_HOPS = 4  # at most this far
INCIDENT_QUEUE_MIN_LOAD = 0.25  # a road nearly empty does not queue behind an incident
UNUSUAL_BELOW = 0.7  # a congested road is alarmed when slower than this share of its usual speed at this time, or queued
USUAL_AGAIN = 0.85  # ... and cleared once back above this share of it (hysteresis)
USUAL_MARGIN = 1.2  # an ordinary day's queues include those of a day with a little more traffic (the noise's reach)


def _weekday_shape(h: np.ndarray | float) -> np.ndarray | float:
    plateau = PLATEAU[2] / (1 + np.exp(-(h - PLATEAU[0]) / 0.45)) / (1 + np.exp((h - PLATEAU[1]) / 0.9))
    peaks = sum(a * np.exp(-0.5 * ((h - c) / w) ** 2) for c, w, a in (AM_PEAK, PM_PEAK))
    return NIGHT + plateau + peaks


_MINUTES = np.arange(0, 24 * 60) / 60.0
_WEEKDAY_NORM = float(_weekday_shape(_MINUTES).sum() / 60.0)  # the shape's integral over a day: shares sum to 1


def day_share(local: datetime) -> float:
    """Share of a road's average daily count flowing per hour at this local time (weekday, Saturday, Sunday)."""
    h = local.hour + local.minute / 60.0 + local.second / 3600.0
    wd = local.weekday()
    if wd < 5:
        return DAY_FACTOR[0] * float(_weekday_shape(h)) / _WEEKDAY_NORM
    day = 1 if wd == 5 else 2
    shape = (SATURDAY, SUNDAY)[day - 1]
    x = h - 0.5  # the tables give each hour's share: centred on its half hour
    i, frac = int(np.floor(x)) % 24, x - np.floor(x)
    return DAY_FACTOR[day] * (shape[i] * (1 - frac) + shape[(i + 1) % 24] * frac)


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
        counted = np.array([bool(d.props.get("counted")) for d in self._defs if d.type == "RoadSegment"])
        self._effective = np.where(self._free < FAST_ROAD_KMH, self._capacity * URBAN_CAPACITY, self._capacity)
        self._effective = np.where(counted, np.maximum(self._effective, self._daily * COUNTED_PEAK), self._effective)
        self._nbrs = [np.array(s.neighbours, dtype=np.int64) for s in self.segments]
        self._incident_start: dict[int, datetime] = {}
        self.incident_rate = 1.0  # multiplies the random incident and fault rates; 0 for a quiet network
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
        self._incident_start[i] = self.now
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
                self._incident_start.pop(i, None)
                self.clear_alarm(f"{self._ids[i]}:incident")
        for g in self.signals:
            if g.fault_until is not None and now >= g.fault_until:
                g.fault_until, g.operator_plan, g.operator_until = None, None, None  # repaired: back to automatic
                self.clear_alarm(f"{g.id}:signal_fault")
            if g.operator_until is not None and now >= g.operator_until:
                g.operator_plan, g.operator_until = None, None

    def _start_events(self, local: datetime, dt_s: float) -> None:
        busy = day_share(local) * 24  # 1.0 on an average hour
        if self.rng.random() < dt_s / INCIDENT_EVERY_S * busy * self.incident_rate:
            i = self.rng.choices(range(len(self.segments)), cum_weights=self._incident_weights)[0]
            self.start_incident(self._ids[i], self.rng.randint(*INCIDENT_MINUTES))
        if self.signals and self.rng.random() < dt_s / FAULT_EVERY_S * self.incident_rate:  # a territory may have no signals
            g = self.signals[self.rng.randrange(len(self.signals))]
            self.start_signal_fault(g.id, self.rng.randint(*REPAIR_MINUTES))

    def _update_signals(self, local: datetime) -> None:
        auto = "peak" if is_peak(local) else "normal"
        for g in self.signals:
            g.plan = "flashingAmber" if g.fault_until is not None else (g.operator_plan or auto)

    def _simulate(self, local: datetime) -> None:
        """Flow, speed, occupancy and congestion of every segment at this local time."""
        share = day_share(local)
        self._noise = 0.9 * self._noise + (self._noise_rng.random(len(self.segments)) - 0.5) * 0.08
        demand = self._daily * share * (1.0 + self._noise)
        closed = np.zeros(len(self.segments), bool)
        closed[list(self.incidents) + list(self.operator_closed)] = True
        factor: dict[int, float] = {}  # the worst signal plan around a segment sets its capacity
        for g in self.signals:
            for i in g.segments:
                factor[i] = min(factor.get(i, 2.0), PLAN_CAPACITY[g.plan])
        capacity = self._effective.copy()
        capacity[list(factor)] *= np.array(list(factor.values()))
        flow, self._queue = demand.copy(), {}
        for i in sorted(np.flatnonzero(closed).tolist()):  # closed roads divert their traffic
            open_nbrs = [k for k in self.segments[i].neighbours if not closed[k]]
            for k in open_nbrs:
                flow[k] += demand[i] * DIVERTED_SHARE / len(open_nbrs)
                if i in self.incidents:
                    self._queue.setdefault(k, self._ids[i])
        speed = bpr_speed(self._free, flow, capacity)
        load = flow / capacity
        cap = self._spillback(load, closed) * self._free
        cap = np.minimum(cap, self._incident_queues(local, load, closed) * self._free)
        speed = np.maximum(np.minimum(speed, cap), self._free * CRAWL)
        lanes = self._capacity / 1800.0
        occupancy = np.maximum(flow / np.maximum(speed, 3.0) / (JAM_DENSITY * lanes), 1.0 - speed / self._free)
        flow[closed], speed[closed] = 0.0, 0.0
        occupancy[closed] = 0.0
        occupancy[list(self.incidents)] = 1.0  # a blocked road is full of stopped vehicles
        self.intensity, self.speed = np.rint(flow), np.round(speed, 1)
        self.occupancy = np.round(np.clip(occupancy, 0.0, 1.0), 3)
        self.congested, self.closed = (self.speed < CONGESTED_BELOW * self._free) & ~closed, closed
        usual_flow = self._daily * share  # the same time on an ordinary day: rush-hour queues are expected, not alarms
        usual = np.minimum(bpr_speed(self._free, usual_flow, self._effective),
                           self._spillback(USUAL_MARGIN * usual_flow / self._effective, np.zeros(len(closed), bool)) * self._free)
        self._congestion_alarms(usual)

    def _spillback(self, load: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Speed caps (share of free flow) on the loaded roads next to an oversaturated one: its queue backs up there."""
        cap = np.ones(len(self.segments))
        for i in np.flatnonzero((load > SPILL_LOAD) & ~closed).tolist():
            nbrs = self._nbrs[i]
            if len(nbrs):
                hit = nbrs[(load[nbrs] >= SPILL_MIN_LOAD) & ~closed[nbrs]]
                cap[hit] = np.minimum(cap[hit], SPILL_SPEED)
        return cap

    def _incident_queues(self, local: datetime, load: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Speed caps behind each incident: its queue reaches one road further upstream every INCIDENT_HOP_MIN minutes."""
        cap = np.ones(len(self.segments))
        for i, since in self._incident_start.items():
            if i not in self.incidents:
                continue
            minutes = (local - since).total_seconds() / 60.0
            hops = min(INCIDENT_HOPS, 1 + int(minutes // INCIDENT_HOP_MIN))
            ring, seen = [i], {i}
            for hop in range(1, hops + 1):
                nxt = []
                for j in ring:
                    for k in self.segments[j].neighbours:
                        if k in seen or closed[k] or (hop > 1 and load[k] < INCIDENT_QUEUE_MIN_LOAD):
                            continue
                        seen.add(k)
                        nxt.append(k)
                        # slowest next to the incident, a little faster further up (still a queue: below half free flow)
                        cap[k] = min(cap[k], QUEUE_SPEED + (0.48 - QUEUE_SPEED) * (hop - 1) / max(1, INCIDENT_HOPS - 1))
                        self._queue.setdefault(k, self._ids[i])
                ring = nxt
                if not ring:
                    break
        return cap

    def _congestion_alarms(self, usual: np.ndarray) -> None:
        """Raise after ALARM_AFTER_STEPS steps of unusual congestion, clear after as many steps back to usual or free.

        Congestion is reported on every road (telemetry, maps, the congestion index); an alarm asks for an operator's
        action, so only congestion beyond the usual for the time of day is alarmed: a queue behind an incident, a
        road much slower than on an ordinary day (a closure's diversion, a junction on flashing amber).
        """
        queued = np.zeros(len(self.segments), bool)
        queued[list(self._queue)] = True
        unusual = self.congested & ((self.speed < UNUSUAL_BELOW * usual) | queued)
        free = ~unusual & (self.closed | ~self.congested | ((self.speed >= USUAL_AGAIN * usual) & ~queued)
                           | (self.speed >= FREE_ABOVE * self._free))
        self._congested_steps = np.where(unusual, self._congested_steps + 1, 0)
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
