"""Commands benchmark: from the operator's confirmation to "applied", for one lamp and for 10,000 lamps at once.

A private redis-server, the engine, the command service and the real lighting simulator (29,969 lamps)
answering as soon as a command arrives (it applies it at once instead of at its next 10 s step, so the
figures are Vigie's own path plus the simulator's work, not the wait for a supervisor's cycle).
Run: `.venv/bin/python benchmarks/commands.py [--repeat 5]`.

Times are from `CommandService.submit()` (what the confirmation dialog's Send calls, after authorisation):
  sent      submit() returned: checked, recorded, published (the dialog closes)
  accepted  the supervisor's `accepted` applied in the core
  applied   its `applied`/`partial` applied in the core
  confirmed the telemetry shows the commanded value on every lamp that obeyed
  pushed    the consoles were sent the confirmed state (Socket.IO emitter called)
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.audit import AuditLog  # noqa: E402
from services.feed.bus import CommandPublisher, bounded_client  # noqa: E402
from services.commands.store import CommandStore  # noqa: E402
from services.commands.service import Actor, CommandRequest, CommandService, Selection  # noqa: E402
from services.feed.engine import Engine  # noqa: E402
from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.simulators import build  # noqa: E402
from tests.command_world import SimDriver  # noqa: E402

START = datetime(2026, 1, 15, 21, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a winter night: lamps lit
STAGES = ("sent", "accepted", "applied", "confirmed", "pushed")


class Timeline:
    """When each command reached each stage (perf_counter), from the core's records and the pushes."""

    def __init__(self) -> None:
        self.marks: dict[str, dict[str, float]] = {}
        self.lock = threading.Lock()

    def mark(self, cid: str, stage: str) -> None:
        with self.lock:
            self.marks.setdefault(cid, {}).setdefault(stage, time.perf_counter())

    def on_push(self, _event: str, payload: dict) -> None:
        for delta in payload.get("deltas", []):
            for c in delta.get("commands", []):
                if c["actual"]["verification"] == "confirmed":
                    self.mark(c["id"], "pushed")

    def watch(self, engine: Engine) -> None:
        """Note stages on the engine thread, as the core moves them."""
        def listener(events) -> None:
            for ev in events:
                for cid in getattr(ev, "command_ids", ()):
                    rec = engine.core.commands.get(cid)
                    if rec is None:
                        continue
                    if str(rec.status) in ("accepted", "applied", "partial"):
                        self.mark(cid, "accepted")
                    if str(rec.status) in ("applied", "partial"):
                        self.mark(cid, "applied")
                    if str(rec.verification) == "confirmed":
                        self.mark(cid, "confirmed")
        engine.subscribe(listener)


def run(repeat: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    port = free_port()
    proc = start_redis_server(port, None, appendonly=False)
    url = f"redis://127.0.0.1:{port}/0"
    wait_ready(url)
    try:
        t = time.perf_counter()
        sim = build("lighting", seed=3, start=START)
        sim.lamp_failures_per_day = sim.cabinet_trips_per_day = 0.0
        print(f"lighting simulator built in {time.perf_counter() - t:.1f} s")
        engine = Engine(Settings(state_dir=Path(tempfile.mkdtemp()), snapshot_interval_s=1.0, run_simulators=False), url).start()
        while not engine.bus_up:
            time.sleep(0.05)
        lum = SimDriver(sim, url)
        lum.publish(sim.state())
        while len(engine.core.state.domain("lighting")) < 30000:
            time.sleep(0.1)
        client = bounded_client(url)
        service = CommandService(engine, CommandPublisher(url), CommandStore(client), AuditLog(client)).start()
        timeline = Timeline()
        timeline.watch(engine)
        service.emitters.append(timeline.on_push)
        sim_time = [0.0]
        step = lum.step

        def timed_step(n: int = 1) -> None:
            t0 = time.perf_counter()
            step(n)
            sim_time[0] += time.perf_counter() - t0

        lum.step = timed_step  # type: ignore[method-assign]
        stop = lum.run_prompt()
        lamps = sorted(a.id for a in engine.core.state.domain("lighting").values() if a.type == "Streetlight")
        cases = {"1 lamp": lambda n: lamps[n: n + 1], "10,000 lamps": lambda n: lamps[(n % 2) * 10000: (n % 2) * 10000 + 10000]}
        actor = Actor("bench", "operator", "user", "127.0.0.1")
        results: dict[str, dict[str, list[float]]] = {}
        for name, pick in cases.items():
            for n in range(repeat):
                targets = pick(n)
                level = 20 + (n % 5) * 10
                req = CommandRequest("lighting", "set_dimming", {"level": level}, Selection(tuple(targets)),
                                     reason="benchmark" if len(targets) > 1 else "", confirm=True)
                sim_time[0] = 0.0
                t0 = time.perf_counter()
                doc, _ = service.submit(req, actor)
                timeline.mark(doc["id"], "sent")
                deadline = time.monotonic() + 60
                while "pushed" not in timeline.marks.get(doc["id"], {}) and time.monotonic() < deadline:
                    time.sleep(0.002)
                marks = timeline.marks.get(doc["id"], {})
                row = results.setdefault(name, {s: [] for s in (*STAGES, "simulator")})
                for s in STAGES:
                    row[s].append((marks[s] - t0) * 1000 if s in marks else float("nan"))
                row["simulator"].append(sim_time[0] * 1000)
                time.sleep(0.3)
        stop()
        service.stop()
        engine.stop()
        lum.close()
        print(f"\nconfirmation -> stage, milliseconds (median / max of {repeat}); 'simulator' is the simulator's own work inside it\n")
        print(f"{'case':<14}" + "".join(f"{s:>18}" for s in (*STAGES, "simulator")))
        for name, row in results.items():
            cells = [f"{statistics.median(v):8.0f} / {max(v):6.0f}" for v in row.values()]
            print(f"{name:<14}" + "".join(f"{c:>18}" for c in cells))
        print("\nA real supervisor applies at its next cycle: add its cycle (the simulator's: 10 s) to 'applied' and beyond.")
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    run(p.parse_args().repeat)
