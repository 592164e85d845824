"""The street-lighting supervisor simulator, on the territory's real light supports.

The static world (lamps, control cabinets, schedule groups, their streets, districts and
communes) is built once per territory by `build_world` (lighting_world.py); `LightingSim`
holds the dynamic state: the schedule, operator overrides, lamp faults, cabinet trips. Lamps
switch on at sunset and off at sunrise computed for the territory's latitude and date, and a
step only visits the lamps that may have changed (all of them only at dusk, dawn and dimming
times).
"""
from __future__ import annotations

import heapq
import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.contract import AssetDef, Command, LightingReading
from services.territory.geo import load_territory

from .base import CommandResult, SupervisorSim
from .lighting_commands import Schedule, given, group_assets, refusal
from .lighting_world import build_world
from .sun import is_dark

STANDBY_DW = 5  # a dark lamp's controller draws 0.5 W (power is kept in deciwatts, exact sums)
FAULTS = (("defectiveLamp", 0.70, "Defective lamp"), ("brokenLantern", 0.25, "Broken lantern"), ("columnIssue", 0.05, "Column issue"))
FAULT_WORDS = {code: words for code, _, words in FAULTS}


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson-distributed count (Knuth; fine for the small means used here)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class LightingSim(SupervisorSim):
    """A street-lighting supervisor: schedules, dimming, overrides, lamp faults and cabinet trips."""

    domain = "lighting"
    step_s = 10.0
    lamp_failures_per_day = 0.015  # share of the lamps failing in a day (about as many are faulty at any time)
    quick_repair_share = 0.5  # repaired within 30 min to 8 h; the others wait 1 to 3 days for a crew
    cabinet_trips_per_day = 8.0
    chattering_lamps = 4
    cabinet_report_s = 60.0

    def __init__(self, supervisor_id: str, *, seed: int, start: datetime, territory: str = "montpellier") -> None:
        super().__init__(supervisor_id, seed, start)
        t = load_territory(territory)
        self.world = w = build_world(territory)
        self.tz, self.lat, self.lon = ZoneInfo(t.timezone), t.latitude, t.longitude
        n = len(w.lamp_ids)
        self.mode = ["schedule"] * n
        self.command_level = [0.0] * n
        self.override_until: list[datetime | None] = [None] * n
        self.fault = ["ok"] * n
        self.repair_at: list[datetime | None] = [None] * n
        self.lamp_key: list[tuple | None] = [None] * n
        self.power_dw = [0] * n
        self.readings: list[LightingReading | None] = [None] * n
        self.tripped = [False] * len(w.cabinet_ids)
        self.cabinet_dw = [0] * len(w.cabinet_ids)
        self.cabinet_lit = [0] * len(w.cabinet_ids)  # lamps giving light
        self.cabinet_full = [0] * len(w.cabinet_ids)  # lamps at full output
        self.reset_at: list[datetime | None] = [None] * len(w.cabinet_ids)
        self.schedules = [Schedule() for _ in w.group_ids]
        self.group_level = [0.0] * len(w.group_ids)
        self._expiries: list[tuple[datetime, int]] = []
        self._repairs: list[tuple[datetime, int]] = []
        self._dirty: set[int] = set()
        self._dirty_cabinets: set[int] = set()
        self._next_cabinet_report = start
        self.chatter = sorted(self.rng.sample(range(n), min(n, self.chattering_lamps)))  # a hamlet may have fewer lamps
        for i in sorted(self.rng.sample(range(n), round(n * self.lamp_failures_per_day))):
            if i not in self.chatter:
                self._fail(i, self._draw_fault())
        self._update_schedule(start)
        for i in range(n):
            self._refresh(i, emit=False)
        self._dirty.clear()
        self._dirty_cabinets.clear()

    # --- fault injection (also used by the random faults) ---------------------------------------

    def fail_lamp(self, lamp_id: str, status: str = "defectiveLamp", repair_after_s: float | None = None) -> None:
        """Make a lamp fail now (defectiveLamp, brokenLantern or columnIssue); a crew repairs it after `repair_after_s`."""
        if status not in FAULT_WORDS:
            raise ValueError(f"unknown lamp fault {status!r}")
        self._fail(self.world.lamp(lamp_id), status, repair_after_s)

    def trip_cabinet(self, cabinet_id: str, reset_after_s: float | None = None) -> None:
        """Trip a cabinet's breaker now; it resets after `reset_after_s` (20-60 min when not given)."""
        if cabinet_id not in self.world.cabinet_ids:
            raise KeyError(f"unknown cabinet {cabinet_id!r}")
        c = self.world.cabinet_ids.index(cabinet_id)
        if self.tripped[c]:
            return
        delay = reset_after_s if reset_after_s is not None else self.rng.uniform(20 * 60, 60 * 60)
        self.tripped[c], self.reset_at[c] = True, self.now + timedelta(seconds=delay)
        self.raise_alarm(f"cabinet_trip:{cabinet_id}", cabinet_id, "cabinet_trip", "major", f"Breaker tripped in {self.world.name(cabinet_id)}: its lamps are dark")
        self._dirty.update(self.world.cabinet_lamps[c])
        self._dirty_cabinets.add(c)

    def _draw_fault(self) -> str:
        return self.rng.choices([f[0] for f in FAULTS], weights=[f[1] for f in FAULTS])[0]

    def _fail(self, i: int, status: str, repair_after_s: float | None = None) -> None:
        if self.fault[i] != "ok":
            return
        self.fault[i] = status
        if repair_after_s is None:
            quick = self.rng.random() < self.quick_repair_share
            repair_after_s = self.rng.uniform(30 * 60, 8 * 3600) if quick else self.rng.uniform(86400, 3 * 86400)
        self.repair_at[i] = at = self.now + timedelta(seconds=repair_after_s)
        heapq.heappush(self._repairs, (at, i))
        lamp_id = self.world.lamp_ids[i]
        self.raise_alarm(f"lamp_fault:{lamp_id}", lamp_id, "lamp_fault", "minor", f"{FAULT_WORDS[status]}: {self.world.name(lamp_id)}")
        self._dirty.add(i)

    def _repair(self, i: int) -> None:
        self.fault[i], self.repair_at[i] = "ok", None
        self.clear_alarm(f"lamp_fault:{self.world.lamp_ids[i]}")
        self._dirty.add(i)

    # --- time ----------------------------------------------------------------------------------

    def _update_schedule(self, now: datetime) -> None:
        """Recompute each group's scheduled level; a group whose level moved has all its lamps revisited."""
        local = now.astimezone(self.tz)
        dark = is_dark(self.lat, self.lon, now, self.tz)
        minute = local.hour * 60 + local.minute
        for g, schedule in enumerate(self.schedules):
            level = schedule.level(dark, minute)
            if level != self.group_level[g]:
                self.group_level[g] = level
                self._dirty.update(self.world.group_lamps[g])

    def advance(self, now: datetime, dt_s: float) -> None:
        """Move faults, trips, overrides and the schedule forward; report what changed."""
        self._random_faults(dt_s)
        self._due_timers(now)
        self._chatter()
        self._update_schedule(now)
        for i in sorted(self._dirty):
            self._refresh(i)
        self._dirty.clear()
        report_all = now >= self._next_cabinet_report
        if report_all:
            self._next_cabinet_report = now + timedelta(seconds=self.cabinet_report_s)
        for c in range(len(self.world.cabinet_ids)) if report_all else sorted(self._dirty_cabinets):
            self.changed(self._cabinet_reading(c))
        self._dirty_cabinets.clear()

    def _random_faults(self, dt_s: float) -> None:
        """Fail a few lamps and trip a cabinet now and then, at the configured daily rates."""
        w, rng = self.world, self.rng
        for _ in range(_poisson(rng, self.lamp_failures_per_day * len(w.lamp_ids) * dt_s / 86400)):
            i = rng.randrange(len(w.lamp_ids))
            if i not in self.chatter:
                self._fail(i, self._draw_fault())
        for _ in range(_poisson(rng, self.cabinet_trips_per_day * dt_s / 86400)):
            self.trip_cabinet(w.cabinet_ids[rng.randrange(len(w.cabinet_ids))])

    def _due_timers(self, now: datetime) -> None:
        """Repair lamps, reset cabinets and end overrides whose time has come."""
        w = self.world
        while self._repairs and self._repairs[0][0] <= now:
            at, i = heapq.heappop(self._repairs)
            if self.repair_at[i] == at:
                self._repair(i)
        for c, at in enumerate(self.reset_at):
            if at is not None and at <= now:
                self.tripped[c], self.reset_at[c] = False, None
                self.clear_alarm(f"cabinet_trip:{w.cabinet_ids[c]}")
                self._dirty.update(w.cabinet_lamps[c])
                self._dirty_cabinets.add(c)
        while self._expiries and self._expiries[0][0] <= now:
            until, i = heapq.heappop(self._expiries)
            if self.mode[i] == "override" and self.override_until[i] == until:
                self.mode[i], self.override_until[i] = "schedule", None
                self._dirty.add(i)

    def _chatter(self) -> None:
        """Toggle the chattering lamps' fault alarm (a loose contact: several times a minute)."""
        for i in self.chatter:
            if self.rng.random() < 0.5:
                lamp_id = self.world.lamp_ids[i]
                alarm_id = f"lamp_fault:{lamp_id}"
                if self.alarm_active(alarm_id):
                    self.clear_alarm(alarm_id)
                else:
                    self.raise_alarm(alarm_id, lamp_id, "lamp_fault", "minor", f"Intermittent lamp fault: {self.world.name(lamp_id)}")

    # --- readings ---------------------------------------------------------------------------------

    def _refresh(self, i: int, emit: bool = True) -> None:
        """Recompute one lamp from its schedule, command, fault and cabinet; report it if it changed."""
        w = self.world
        c = w.lamp_cabinet[i]
        mode, fault = self.mode[i], self.fault[i]
        wanted = self.group_level[w.lamp_group[i]] if mode == "schedule" else self.command_level[i]
        level = wanted if fault == "ok" and not self.tripped[c] else 0.0
        status = fault if fault != "ok" else ("tripped" if self.tripped[c] else "ok")
        alarm_id = f"lamp_off:{w.lamp_ids[i]}"
        if self.tripped[c] and fault == "ok" and wanted > 0:
            self.raise_alarm(alarm_id, w.lamp_ids[i], "lamp_off", "minor", f"Lamp off while it should be lit: {w.assets[i].name}")
        elif self.alarm_active(alarm_id):
            self.clear_alarm(alarm_id)
        until = self.override_until[i] if mode == "override" else None
        key = (level, status, mode, until)
        if key == self.lamp_key[i]:
            return
        old = self.lamp_key[i]
        if old is not None:
            self.cabinet_lit[c] -= old[0] > 0
            self.cabinet_full[c] -= old[0] >= 1.0
            self.cabinet_dw[c] -= self.power_dw[i]
        if level > 0:
            power = round(w.lamp_rating[i] * level * 10 * (1 + self.rng.gauss(0.0, 0.01)))
        else:
            power = 0 if self.tripped[c] else STANDBY_DW
        self.lamp_key[i], self.power_dw[i] = key, max(0, power)
        self.cabinet_lit[c] += level > 0
        self.cabinet_full[c] += level >= 1.0
        self.cabinet_dw[c] += self.power_dw[i]
        self._dirty_cabinets.add(c)
        reading = LightingReading(
            asset=w.lamp_ids[i], powerState="off" if level <= 0 else ("on" if level >= 1.0 else "low"), status=status,
            illuminanceLevel=round(level, 3), powerConsumption=self.power_dw[i] / 10, controlMode=mode, overrideUntil=until,
        )
        self.readings[i] = reading
        if emit:
            self.changed(reading)

    def _cabinet_reading(self, c: int) -> LightingReading:
        if self.tripped[c] or not self.cabinet_lit[c]:
            state = "off"
        else:
            state = "on" if self.cabinet_full[c] else "low"
        modes = {self.mode[i] for i in self.world.cabinet_lamps[c]}
        # how the cabinet's lamps are driven: all by the schedule, all by hand, or some overridden
        mode = "schedule" if modes <= {"schedule"} else "manual" if modes == {"manual"} else "override"
        return LightingReading(
            asset=self.world.cabinet_ids[c], powerState=state, status="tripped" if self.tripped[c] else "ok",
            powerConsumption=self.cabinet_dw[c] / 10, controlMode=mode,
        )

    def current_readings(self) -> list[LightingReading]:
        """Every lamp's and cabinet's current reading."""
        return [r for r in self.readings if r is not None] + [self._cabinet_reading(c) for c in range(len(self.world.cabinet_ids))]

    def asset_defs(self) -> list[AssetDef]:
        """Lamps, cabinets, and the schedule groups with their current programme."""
        return list(self.world.assets) + group_assets(self.world, self.schedules)

    # --- commands ---------------------------------------------------------------------------------

    def check_command(self, cmd: Command) -> str | None:
        """Return why a command is refused, in plain words, or None."""
        return refusal(self.world, cmd)

    def apply_command(self, cmd: Command) -> CommandResult:
        """Apply an accepted command; lamps behind a tripped cabinet or out of order cannot obey."""
        p, w = given(cmd.params), self.world
        if cmd.action == "set_schedule":
            for g in dict.fromkeys(cmd.targets):
                n = w.group_ids.index(g)
                self.schedules[n] = self.schedules[n].updated(p)
            self._update_schedule(self.now)
            return CommandResult(applied=list(dict.fromkeys(cmd.targets)))
        lamps = sorted({i for t in cmd.targets for i in w.targets[t]})
        if cmd.action == "set_dimming":
            level = p["level"] / 100.0
        else:
            level = 1.0 if p.get("on") else 0.0
        until = self.now + timedelta(seconds=p["override_s"]) if "override_s" in p else None
        res, tripped, broken = CommandResult(), 0, 0
        for i in lamps:
            if self.tripped[w.lamp_cabinet[i]] or self.fault[i] != "ok":
                tripped += self.tripped[w.lamp_cabinet[i]]
                broken += not self.tripped[w.lamp_cabinet[i]]
                res.failed.append(w.lamp_ids[i])
                continue
            res.applied.append(w.lamp_ids[i])
            if cmd.action == "release":
                self.mode[i], self.override_until[i] = "schedule", None
            else:
                self.mode[i], self.command_level[i] = ("override" if until else "manual"), level
                self.override_until[i] = until
                if until is not None:
                    heapq.heappush(self._expiries, (until, i))
            self._dirty.add(i)
        if res.failed:
            res.reason = f"{len(res.failed)} of {len(lamps)} lamps could not obey ({tripped} behind a tripped cabinet, {broken} out of order)"
        return res
