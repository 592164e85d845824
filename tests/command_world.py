"""A small hand-made territory for the command tests: lamps, a water network, roads and junctions."""
from __future__ import annotations

from datetime import datetime, timezone

from services.contract import Ack, AssetDef, LightingReading, LineString, Point, TrafficReading, WaterReading
from services.core.assets import TerritoryState

TS = 1_800_000_000.0
LUM, EAU, TRAF = "lum-t", "eau-t", "traf-t"


def lamp(n: int, *, district: str, commune: str, cabinet: str, street: str, rating: float = 100.0) -> AssetDef:
    return AssetDef(id=f"lamp-{n:03d}", type="Streetlight", name=f"Lanterne {n:03d}", geometry=Point((3.80 + n * 0.001, 43.60)),
                    refs={"cabinet": cabinet, "group": f"group-{district}", "street": street, "district": district, "commune": commune},
                    props={"powerRating": rating})


def world() -> TerritoryState:
    """30 lamps (two communes: c1 has 20 lamps in d1/d2, c2 has 10 in d3), 6 pipes, 2 valves, 3 sensors, 4 segments, 2 signals."""
    st = TerritoryState()
    lamps = [lamp(n, district="d1" if n < 10 else "d2" if n < 20 else "d3", commune="c1" if n < 20 else "c2",
                  cabinet=f"cab-{n // 5}", street="street-a" if n % 2 else "street-b") for n in range(30)]
    groups = [AssetDef(id=f"group-{d}", type="StreetlightGroup", name=f"Programme {d}", refs={"district": d},
                       props={"lamps": 10, "dimLevel": 50, "dimFrom": "23:00", "dimTo": "05:00"}) for d in ("d1", "d2", "d3")]
    cabinets = [AssetDef(id=f"cab-{c}", type="StreetlightControlCabinet", name=f"Armoire {c}", geometry=Point((3.80 + c * 0.005, 43.601)),
                         refs={"district": "d1"}) for c in range(6)]
    st.define("lighting", LUM, lamps + groups + cabinets)
    st.apply_readings("lighting", LUM, [LightingReading(asset=a.id, status="ok", powerState="on", illuminanceLevel=1.0,
                                                         powerConsumption=100.0, controlMode="schedule") for a in lamps], TS)
    line = LineString(coordinates=[(3.9, 43.6), (3.91, 43.6)])
    pipes = [AssetDef(id="pipe-main", type="Pipe", geometry=line, props={"length": 1000.0, "main": True}),
             AssetDef(id="pipe-1", type="Pipe", geometry=line, refs={"upstream": "pipe-main", "zone": "z1"}, props={"length": 500.0}),
             AssetDef(id="pipe-2", type="Pipe", geometry=line, refs={"upstream": "pipe-1", "zone": "z1"}, props={"length": 250.0}),
             AssetDef(id="pipe-3", type="Pipe", geometry=line, refs={"upstream": "pipe-main", "zone": "z2"}, props={"length": 250.0})]
    water = pipes + [
        AssetDef(id="valve-main", type="Valve", geometry=Point((3.9, 43.6)), refs={"pipe": "pipe-main"}, props={"main": True}),
        AssetDef(id="valve-1", type="Valve", geometry=Point((3.905, 43.6)), refs={"pipe": "pipe-1", "zone": "z1"}, props={"main": False}),
        AssetDef(id="sensor-1", type="Device", geometry=Point((3.906, 43.6)), refs={"pipe": "pipe-1", "zone": "z1"}),
        AssetDef(id="sensor-2", type="Device", geometry=Point((3.907, 43.6)), refs={"pipe": "pipe-2", "zone": "z1"}),
        AssetDef(id="sensor-3", type="Device", geometry=Point((3.908, 43.6)), refs={"pipe": "pipe-3", "zone": "z2"}),
        AssetDef(id="pump-1", type="Pump", geometry=Point((3.9, 43.61)), refs={"zone": "z1"}),
    ]
    st.define("water", EAU, water)
    st.apply_readings("water", EAU, [WaterReading(asset="valve-main", position=1.0), WaterReading(asset="valve-1", position=1.0),
                                     WaterReading(asset="pump-1", running=True, setpoint=4.0)], TS)
    segs = [AssetDef(id=f"seg-{n}", type="RoadSegment", name=f"Avenue {n}", geometry=LineString(coordinates=[(3.85, 43.62 + n * 1e-3), (3.86, 43.62 + n * 1e-3)]),
                     refs={"street": "street-av" if n < 2 else "street-x", "district": "d1"}, props={"dailyCount": 20000.0 if n == 0 else 3000.0, "lengthM": 500.0})
            for n in range(4)]
    sigs = [AssetDef(id="sig-1", type="TrafficSignal", geometry=Point((3.85, 43.62)), refs={"district": "d1", "seg1": "seg-0", "seg2": "seg-2"}),
            AssetDef(id="sig-2", type="TrafficSignal", geometry=Point((3.86, 43.621)), refs={"district": "d1", "seg1": "seg-1"}),
            AssetDef(id="sig-3", type="TrafficSignal", geometry=Point((3.87, 43.63)), refs={"district": "d2", "seg1": "seg-3"})]
    st.define("traffic", TRAF, segs + sigs)
    st.apply_readings("traffic", TRAF, [TrafficReading(asset=s.id, signalPlan="normal", status="ok") for s in sigs], TS)
    return st


def ack(command_id: str, status: str, *, supervisor: str = LUM, domain: str = "lighting", seq: int = 1, reason: str | None = None,
        applied: list[str] | None = None, failed: list[str] | None = None) -> Ack:
    """A supervisor's answer."""
    return Ack(v=1, kind="ack", domain=domain, supervisor=supervisor, ts=datetime.fromtimestamp(TS, timezone.utc), seq=seq,
               command_id=command_id, status=status, reason=reason, applied=applied or [], failed=failed or [])


class SimDriver:
    """Drives a simulated supervisor by hand against Redis: answer its commands, step its world (the test owns time)."""

    def __init__(self, sim, redis_url: str) -> None:
        import redis

        from services.contract import cmd_channel

        self.sim = sim
        self.client = redis.Redis.from_url(redis_url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(cmd_channel(sim.domain, sim.supervisor_id))
        self.commands = 0
        self.extra = 0.0  # seconds Vigie's clock is ahead of the supervisor's (see `nudge`)

    def publish(self, out) -> None:
        pipe = self.client.pipeline(transaction=False)
        for channel, payload in out:
            pipe.publish(channel, payload)
        pipe.execute()

    def now(self) -> float:
        """The supervisor's clock: the test's Vigie runs on it too."""
        return self.sim.now.timestamp() + self.extra

    def nudge(self, seconds: float = 1.0) -> None:
        """Move Vigie's clock on a little (its next tick), without stepping the world."""
        self.extra += seconds

    def pump(self, wait_s: float = 2.0, expect: int = 1) -> int:
        """Answer the commands that arrived (waiting up to `wait_s` for `expect` of them); return how many."""
        import time

        n, end = 0, time.monotonic() + wait_s
        while time.monotonic() < end:
            msg = self.pubsub.get_message(timeout=0.05)
            if msg is None:
                if n >= expect:
                    break
                continue
            if msg.get("type") == "message" and b'"kind":"command"' in msg["data"]:
                n += 1
            self.publish(self.sim.handle_command(msg["data"]))
        self.commands += n
        return n

    def step(self, n: int = 1) -> None:
        """Advance the world `n` steps and publish what it says."""
        for _ in range(n):
            self.publish(self.sim.step())

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()

    def run_prompt(self, heartbeat_s: float = 2.0):
        """Answer in a thread, like a supervisor that applies at once: each command is followed by one step.

        Returns a function that stops the thread.
        """
        import threading
        import time

        stop = threading.Event()

        def loop() -> None:
            beat = 0.0
            while not stop.is_set():
                if self.pump(wait_s=0.1, expect=1):
                    self.step()
                if time.monotonic() - beat > heartbeat_s:
                    beat = time.monotonic()
                    self.publish(self.sim.heartbeat(1.0))

        thread = threading.Thread(target=loop, name=f"prompt-{self.sim.supervisor_id}", daemon=True)
        thread.start()
        return lambda: (stop.set(), thread.join(2))
