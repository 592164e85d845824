"""What the territory clock costs the engine: its ticks at x1, x60 and x600 on the real lighting territory.

On an accelerated clock the engine ticks every territory second, at most every MIN_TICK_WALL_S of wall time
(services/feed/engine.py): 1 tick a wall second at x1, 20 at x60 and x600. Each tick judges silence, command
deadlines, shelving and on-delays, refreshes KPIs and publishes the read views. This script loads the lighting
simulator's whole territory (30,774 assets, its standing alarms) into an engine (no bus: `Engine.ingest`, the
loop's own turn), then runs as many turns as the engine would in `--seconds` of wall time at each pace, the
territory's time moving as the clock says, and prints the CPU seconds they take per wall second, against x1
measured in the same run. Only the ticks: the telemetry of 60 or 600 times as many world steps a wall second,
and the simulators' own cost, are not in it.

Usage: .venv/bin/python benchmarks/territory_clock.py [--seconds 10]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.feed.engine import MIN_TICK_WALL_S, TICK_S, Engine  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.simulators import build  # noqa: E402

NIGHT = datetime(2026, 1, 15, 21, 0, tzinfo=timezone.utc)


class Clock:
    """A territory clock the benchmark moves: `speed` for the engine, `t` for now."""

    def __init__(self, t: float, speed: float) -> None:
        self.t, self.speed = t, speed

    def __call__(self) -> float:
        return self.t


def loaded_engine(speed: float) -> tuple[Engine, Clock]:
    """An engine (not started: no bus) holding the lighting territory."""
    sim = build("lighting", seed=7, start=NIGHT)
    clock = Clock(NIGHT.timestamp(), speed)
    engine = Engine(Settings(state_dir=Path(tempfile.mkdtemp(prefix="vigie-bench-")), snapshot_interval_s=0),
                    "redis://127.0.0.1:1/0", clock=clock, freeze_gc=False)
    engine.ingest([(ch.encode(), p) for ch, p in sim.state()])
    return engine, clock


def run(speed: float, seconds: float) -> dict:
    engine, clock = loaded_engine(speed)
    tick_every = TICK_S * max(1.0, speed * MIN_TICK_WALL_S)  # territory seconds between ticks (engine._run)
    turns = round(seconds * speed / tick_every)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(turns):
        clock.t += tick_every
        engine.ingest([])  # one turn of the loop with its tick
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"speed": speed, "turns": turns, "cpu_s": cpu, "wall_s": wall, "cpu_per_wall_s": cpu / seconds}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="wall seconds of the engine's life to replay at each pace")
    args = p.parse_args()
    rows = [run(s, args.seconds) for s in (1.0, 60.0, 600.0)]
    base = rows[0]["cpu_per_wall_s"]
    print(f"engine ticks for {args.seconds:g} wall seconds on the lighting territory (30,774 assets)")
    print(f"{'speed':>6} {'turns':>6} {'CPU s':>7} {'wall s':>7} {'CPU per wall s':>15} {'vs x1':>6}")
    for r in rows:
        print(f"{r['speed']:>6g} {r['turns']:>6} {r['cpu_s']:>7.2f} {r['wall_s']:>7.2f} {r['cpu_per_wall_s']:>15.3f} "
              f"{r['cpu_per_wall_s'] / base if base else float('nan'):>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
