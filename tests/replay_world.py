"""A tiny recorded world for the journal and replay tests: three small supervisors on a fixed clock."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from services.contract import (
    Alarm, AlarmEvent, AssetDef, Heartbeat, LightingReading, LineString, Point, State, Telemetry, TrafficReading,
    WaterReading, encode, sup_channel,
)
from services.core import CoreConfig, Hypervisor
from services.journal.store import Journal, JournalConfig
from services.feed.reader import LocalReader
from services.journal.recorder import Recorder

T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC, a whole multiple of every snapshot interval used here
SUPS = {"lighting": "lum-t", "water": "eau-t", "traffic": "traf-t"}
LAMPS = 12


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


class MiniWorld:
    """Messages of three small supervisors; `step(t, n)` is what they say at step n (every 10 s)."""

    def __init__(self) -> None:
        self.seq = {s: 0 for s in SUPS.values()}

    def env(self, kind: str, domain: str, t: float) -> dict[str, Any]:
        sup = SUPS[domain]
        self.seq[sup] += 1
        return {"v": 1, "kind": kind, "domain": domain, "supervisor": sup, "ts": _at(t), "seq": self.seq[sup]}

    def states(self, t: float) -> list[tuple[str, bytes]]:
        lamps = [AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}", geometry=Point((3.87 + i * 1e-4, 43.61)),
                          refs={"cabinet": "cab-1" if i < 6 else "cab-2", "group": "group-d1", "district": "d1"},
                          props={"powerRating": 100}) for i in range(LAMPS)]
        cabinets = [AssetDef(id=f"cab-{c}", type="StreetlightControlCabinet", name=f"Armoire {c}", geometry=Point((3.87, 43.6 + c * 1e-3)))
                    for c in (1, 2)]
        water = [AssetDef(id="pipe-1", type="Pipe", name="Conduite DN400", geometry=LineString(coordinates=[(3.9, 43.6), (3.91, 43.6)]),
                          refs={"zone": "z1"}, props={"diameter": 400, "main": True}),
                 *[AssetDef(id=f"sensor-{i}", type="Device", name=f"Capteur {i}", geometry=Point((3.9 + i * 1e-3, 43.6)),
                            refs={"pipe": "pipe-1", "zone": "z1"}, props={"measures": "pressure"}) for i in range(3)]]
        roads = [AssetDef(id=f"seg-{i}", type="RoadSegment", name=f"Avenue {i}", props={"dailyCount": 1000 * (i + 1), "lengthM": 400.0},
                          geometry=LineString(coordinates=[(3.85, 43.62 + i * 1e-3), (3.86, 43.62 + i * 1e-3)])) for i in range(4)]
        return [
            self._out(State[LightingReading](**self.env("state", "lighting", t), snapshot="s1", assets=lamps + cabinets,
                      readings=[LightingReading(asset=a.id, status="ok", powerState="on", powerConsumption=90.0) for a in lamps])),
            self._out(State[WaterReading](**self.env("state", "water", t), snapshot="s1", assets=water,
                      readings=[WaterReading(asset=f"sensor-{i}", pressure=3.0) for i in range(3)])),
            self._out(State[TrafficReading](**self.env("state", "traffic", t), snapshot="s1", assets=roads,
                      readings=[TrafficReading(asset=a.id, intensity=600.0, averageVehicleSpeed=45.0, congested=False) for a in roads])),
        ]

    def step(self, t: float, n: int) -> list[tuple[str, bytes]]:
        lamp = n % LAMPS
        out = [self._out(Telemetry[LightingReading](**self.env("telemetry", "lighting", t), readings=[
            LightingReading(asset=f"lamp-{lamp}", status="defectiveLamp" if n % 7 == 0 else "ok",
                            powerConsumption=float(50 + n % 40), powerState="on")]))]
        out.append(self._out(Telemetry[WaterReading](**self.env("telemetry", "water", t), readings=[
            WaterReading(asset=f"sensor-{n % 3}", pressure=round(3.0 - (n % 11) * 0.2, 2))])))
        out.append(self._out(Telemetry[TrafficReading](**self.env("telemetry", "traffic", t), readings=[
            TrafficReading(asset=f"seg-{n % 4}", intensity=float(500 + 10 * n % 700), averageVehicleSpeed=float(20 + n % 30),
                           congested=n % 5 == 0)])))
        if n % 6 == 0:
            raise_ = (n // 6) % 2 == 0
            out.append(self._out(Alarm(**self.env("alarm", "water", t), events=[AlarmEvent(
                id="sensor-1:low_pressure", asset="sensor-1", action="raise" if raise_ else "clear", severity="major",
                code="low_pressure", message="Pression basse", ts=_at(t))])))
        if n % 9 == 0:
            out.append(self._out(Alarm(**self.env("alarm", "lighting", t), events=[AlarmEvent(
                id=f"lamp_fault:lamp-{lamp}", asset=f"lamp-{lamp}", action="raise", severity="minor", code="lamp_fault",
                message="Lampe défectueuse", ts=_at(t))])))
        if n % 3 == 0:
            out.extend(self._out(Heartbeat(**self.env("heartbeat", d, t), uptime_s=float(n), assets=1)) for d in SUPS)
        return out

    @staticmethod
    def _out(msg: Any) -> tuple[str, bytes]:
        return sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg)


def record(directory: Path, minutes: float, *, snapshot_s: float = 60.0, segment_s: float = 120.0,
           reference: Hypervisor | None = None, until: float | None = None, t0: float = T0) -> tuple[Journal, Recorder]:
    """Record `minutes` of the mini world into a journal; `reference` gets the same feed, ticked up to `until`."""
    from services.journal.feed import Feed
    from services.journal.files import Record

    journal = Journal(JournalConfig(directory, segment_s=segment_s, snapshot_s=snapshot_s, max_age_s=1e12))
    recorder = Recorder(journal, "redis://127.0.0.1:1/0", CoreConfig(), clock=lambda: t0, streams=False)
    world = MiniWorld()
    ref = Feed(reference) if reference is not None else None
    t = t0
    for n in range(int(minutes * 6) + 1):
        for ch, payload in (world.states(t) if n == 0 else world.step(t, n)):
            recorder.record(t, ch.encode(), payload)
            if ref is not None:
                ref.apply(Record(t=t, k="m", ch=ch, p=msgspec.Raw(payload)))
        recorder.feed.advance(t)  # as the engine: the messages of a turn, then the tick
        if ref is not None:
            ref.advance(t)
        t += 10.0
    if ref is not None and until is not None:
        ref.advance(until)
    journal.flush()
    return journal, recorder


class FixedEngine:
    """Enough of an engine for a LocalReader over a bare core (tests)."""

    def __init__(self, core: Hypervisor, now: float) -> None:
        self.core, self.now, self.lock, self.running, self.bus_up = core, now, threading.RLock(), True, True

    def clock(self) -> float:
        return self.now


def world_state(reader: Any, energy: bool = True) -> dict[str, Any]:
    """What an operator sees, comparable: assets (values, condition), alarms, supervisors, KPIs."""
    _total, assets = reader.assets(limit=10**6)
    kpis = {d: {k["key"]: k["value"] for k in ks if energy or k["key"] != "energy_today_kwh"} for d, ks in reader.kpis().items()}
    return {
        "assets": {a["id"]: (a["values"], a["condition"]) for a in assets},
        "alarms": {a["id"]: (a["state"], a["active"], a["priority"], a["acked_by"]) for a in reader.alarms(active_only=False)},
        "supervisors": {s["id"]: s["status"] for s in reader.supervisors()},
        "kpis": kpis,
    }
