"""Drift watching's cost on the ingest path: the core's telemetry turn with and without a 30,000-lamp override held.

A confirmed override keeps its targets watched (services/core/command_book.py): every telemetry batch naming them
goes through `CommandBook.observe`. This measures the Hypervisor's `handle()` of lighting telemetry batches of
2,000 lamps (the contract's chunk) over 30,000 lamps, in the same run: (a) no command, (b) a dimming override on all
30,000 lamps, confirmed and held, the lamps keeping the commanded level, (c) the same with one lamp in ten drifting
in each batch. Figures: CPU and wall seconds per batch, ratio to (a).

    .venv/bin/python -m benchmarks.command_drift
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

from services.contract import Ack, LightingReading, Point, Telemetry
from services.contract.messages import AssetDef, State
from services.core import Hypervisor
from services.core.command_effects import CommandRequest, Selection, plan_command

LAMPS, BATCH, ROUNDS = 30_000, 2_000, 10
TS = 1_800_000_000.0
SUP = "lum-bench"


def territory() -> Hypervisor:
    core = Hypervisor()
    lamps = [AssetDef(id=f"lamp-{n:05d}", type="Streetlight", name=f"Lanterne {n}", geometry=Point(coordinates=(3.8 + n * 1e-6, 43.6)),
                      refs={"district": "d1", "cabinet": f"cab-{n // 50}"}, props={"powerRating": 100.0}) for n in range(LAMPS)]
    readings = [LightingReading(asset=a.id, status="ok", powerState="on", illuminanceLevel=1.0, controlMode="schedule") for a in lamps]
    for i in range(0, LAMPS, BATCH):
        core.handle(State[LightingReading](v=1, kind="state", domain="lighting", supervisor=SUP, ts=datetime.fromtimestamp(TS, UTC),
                                           seq=i // BATCH + 1, snapshot="s1", part=i // BATCH + 1, parts=LAMPS // BATCH,
                                           assets=lamps[i:i + BATCH], readings=readings[i:i + BATCH]), TS)
    return core


class Feed:
    def __init__(self, core: Hypervisor, seq: int = 100) -> None:
        self.core, self.seq, self.t = core, seq, TS + 10

    def batch(self, start: int, level: float, drift_every: int = 0) -> Telemetry:
        self.seq += 1
        self.t += 0.1
        rs = [LightingReading(asset=f"lamp-{n:05d}", illuminanceLevel=(1.0 if drift_every and n % drift_every == 0 else level),
                              powerConsumption=30.0 + (self.seq % 7)) for n in range(start, start + BATCH)]
        return Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor=SUP, ts=datetime.fromtimestamp(self.t, UTC),
                                          seq=self.seq, readings=rs)

    def run(self, level: float, drift_every: int = 0) -> tuple[float, float]:
        msgs = [self.batch(i, level, drift_every) for _ in range(ROUNDS) for i in range(0, LAMPS, BATCH)]
        wall, cpu = time.perf_counter(), time.process_time()
        for m in msgs:
            self.core.handle(m, self.t)
        n = len(msgs)
        return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def main() -> None:
    core = territory()
    feed = Feed(core)
    base_wall, base_cpu = feed.run(0.3)
    plan = plan_command(CommandRequest("lighting", "set_dimming", {"level": 30, "override_s": 7200}, Selection(("d1",))), core.state)
    core.commands.open(plan, command_id="c-1", user="bench", now=feed.t)
    core.commands.sent("c-1", feed.t, 1)
    feed.seq += 1
    core.handle(Ack(v=1, kind="ack", domain="lighting", supervisor=SUP, ts=datetime.fromtimestamp(feed.t, UTC), seq=feed.seq,
                    command_id="c-1", status="applied", applied=[f"lamp-{n:05d}" for n in range(LAMPS)]), feed.t)
    feed.run(0.3)  # confirms every lamp: from now on they are held
    rec = core.commands.get("c-1")
    assert str(rec.verification) == "confirmed", rec.verification
    held_wall, held_cpu = feed.run(0.3)
    drift_wall, drift_cpu = feed.run(0.3, drift_every=10)
    print(f"telemetry batch of {BATCH:,} lamps over {LAMPS:,}, {ROUNDS * LAMPS // BATCH} batches each:")
    for what, w, c in (("no command", base_wall, base_cpu), ("30,000-lamp override held", held_wall, held_cpu),
                       ("held, 1 lamp in 10 drifting", drift_wall, drift_cpu)):
        print(f"  {what:30s} {w * 1000:7.2f} ms wall {c * 1000:7.2f} ms CPU   x{c / base_cpu:4.2f} CPU")
    print(f"drifted lamps: {len(rec.drifted):,}, verification {rec.verification}, alarm "
          f"{'raised' if (a := core.alarms.get('vigie/command_drift/c-1')) is not None and a.active else 'none'}")


if __name__ == "__main__":
    main()
