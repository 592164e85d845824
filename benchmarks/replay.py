"""Replay benchmark: journal write rate at full simulator load, size per hour and per day, seek time, 60x throughput.

1. The three simulated supervisors (Montpellier: ~30,800 lighting, ~1,450 water, ~8,400 traffic assets) are
   stepped over `--hours` of simulated time and their messages (plus the runner's heartbeat every 2 s)
   kept in memory; then the recorder journals them as fast as it can (decode, shadow core, history,
   snapshots every 2 minutes), timed: the write rate, and how much of one core the real rate costs.
2. Size of the journal on disk per hour and per day (segments, per-asset history, snapshots, definitions).
3. Seek time at the end of the journal and at random points of its last 24 hours (cold: first seek of a
   fresh process; warm: the asset definitions already decoded).
4. Replay throughput: how many times real time a session replays (so what is left at 60x), and the CPU
   a session playing at 60x takes.
5. Asset history: one asset's readings over the last 24 hours (what the level-3 asset page charts).

Run: `.venv/bin/python benchmarks/replay.py [--hours 24] [--start 00:00] [--dir /tmp/journal]` (an existing --dir is reused).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.journal.store import Journal, JournalConfig  # noqa: E402
from services.journal.recorder import Recorder  # noqa: E402
from services.replay.session import ReplaySession  # noqa: E402
from services.simulators import build  # noqa: E402

DAY = datetime(2026, 6, 21, tzinfo=ZoneInfo("Europe/Paris"))  # the longest day: dusk at ~21:30, dawn at ~6:00
HEARTBEAT_S = 2.0  # services/simulators/runner.py


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def simulate(start: datetime, hours: float) -> list[tuple[float, str, bytes]]:
    """What the three simulators publish over `hours` from `start`, with Vigie's arrival times (the simulated clock)."""
    sims = [build(d, seed=42, start=start) for d in ("lighting", "water", "traffic")]
    t0 = start.timestamp()
    out = [(t0, ch, p) for s in sims for ch, p in s.state()]
    t, next_hb = t0, t0
    while t < t0 + hours * 3600:
        t += 10.0
        for s in sims:
            while s.now.timestamp() + s.step_s <= t:
                out += [(s.now.timestamp() + 0.05, ch, p) for ch, p in s.step()]
        while next_hb <= t:
            out += [(next_hb + 0.01, ch, p) for s in sims for ch, p in s.heartbeat(next_hb - t0)]
            next_hb += HEARTBEAT_S
    out.sort(key=lambda m: m[0])
    return out


def record(directory: Path, start: datetime, hours: float) -> dict:
    t = time.perf_counter()
    messages = simulate(start, hours)
    sim_s = time.perf_counter() - t
    journal = Journal(JournalConfig(directory, max_age_s=1e12))
    recorder = Recorder(journal, "redis://127.0.0.1:1/0", streams=False)
    c0, w0 = cpu(), time.perf_counter()
    for at, ch, payload in messages:
        recorder.record(at, ch.encode(), payload)
        recorder.feed.advance(at)
    journal.rotate()
    wall, spent = time.perf_counter() - w0, cpu() - c0
    journal.close()
    size = sum(len(p) for _, _, p in messages)
    kinds = Counter(ch.rsplit(".", 1)[1] for _, ch, _ in messages)
    return {"messages": len(messages), "payload_mb": size / 1e6, "wall_s": wall, "cpu_s": spent, "sim_s": sim_s,
            "kinds": dict(kinds), "snapshots": recorder.counts["snapshots"], "hours": hours}


def sizes(directory: Path) -> dict[str, int]:
    out: Counter = Counter()
    for p in directory.iterdir():
        if p.name.startswith("."):
            continue  # the writer's lock
        kind = p.name.split("-", 1)[0]
        out[kind] += p.stat().st_size
    return dict(out)


def timed_seek(s: ReplaySession, t: float) -> tuple[float, float]:
    """(wall, CPU of this thread) seconds one seek takes; on a shared machine the CPU is the steadier figure."""
    c0 = time.thread_time()
    wall = s.seek(t)
    return wall, time.thread_time() - c0


def seeks(journal: Journal, n: int = 12) -> dict:
    span = journal.span()
    s = ReplaySession(journal, id="b", name="bench", start=max(span[0], span[1] - 24 * 3600), end=span[1], trainer="bench")
    cold = timed_seek(s, span[1] - 1)  # the session opened at the start; this seek is the first to the end
    rng = random.Random(7)
    points = [rng.uniform(s.start, s.end) for _ in range(n)]
    warm = [timed_seek(s, p) for p in points] + [timed_seek(s, span[1] - 1)]
    s.close()
    return {"cold_end": cold, "warm": warm}


def throughput(journal: Journal, hours: float = 3.0) -> dict:
    span = journal.span()
    end = span[1]
    start = max(span[0] + 60, end - hours * 3600)  # the last `hours` of the journal (all of it when shorter)
    s = ReplaySession(journal, id="t", name="bench", start=start, end=end, trainer="bench")
    w0, c0 = time.perf_counter(), cpu()
    t = start
    while t < end:
        t = min(end, t + 60.0)
        s.advance_to(t, budget=None)
    wall, spent = time.perf_counter() - w0, cpu() - c0
    # a real 60x play for 20 wall seconds: the CPU it takes
    s.seek(start)
    s.set_speed(60)
    s.play()
    w1, c1 = time.perf_counter(), cpu()
    while time.perf_counter() - w1 < 20.0:
        s.pump()
        time.sleep(0.05)
    played = s.position - start
    s.close()
    return {"replayed_s": end - start, "wall_s": wall, "cpu_s": spent, "x_real_time": (end - start) / wall,
            "at60_cpu_share": (cpu() - c1) / (time.perf_counter() - w1), "at60_played_s": played}


def history(journal: Journal) -> list[tuple[str, int, float]]:
    span = journal.span()
    out = []
    for asset in ("lamp-00001", "cabinet-001", "eau-sensor-1", "eau-res-1", "seg-21222"):
        t = time.perf_counter()
        points = journal.asset_history(asset, span[1] - 24 * 3600, span[1])
        out.append((asset, len(points), time.perf_counter() - t))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--start", default="00:00", help="time of day the recording starts (HH:MM, on 21 June 2026)")
    ap.add_argument("--dir", type=Path, default=None, help="journal folder (reused if it holds a journal)")
    args = ap.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="vigie-bench-journal-"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; journal in {directory}")
    if not directory.exists() or not any(directory.glob("seg-*")):
        directory.mkdir(parents=True, exist_ok=True)
        hh, mm = (int(x) for x in args.start.split(":"))
        r = record(directory, DAY.replace(hour=hh, minute=mm), args.hours)
        rate_msgs, rate_mb = r["messages"] / r["wall_s"], r["payload_mb"] / r["wall_s"]
        real_s = r["hours"] * 3600
        print(f"\n1. write rate: {r['messages']:,} messages ({r['payload_mb']:.0f} MB of payload) for {r['hours']:g} h of the three "
              f"simulators from {args.start}, kinds {r['kinds']}")
        print(f"   journaled in {r['wall_s']:.1f} s wall / {r['cpu_s']:.1f} s CPU: {rate_msgs:,.0f} messages/s, {rate_mb:.1f} MB/s "
              f"({real_s / r['wall_s']:,.0f}x the simulators' real rate by the wall clock, {real_s / r['cpu_s']:,.0f}x per CPU second: "
              f"at 1x the recorder takes {100 * r['cpu_s'] / real_s:.2f} % of a core)")
        print(f"   (simulating them took {r['sim_s']:.1f} s; {r['snapshots']} snapshots written)")
    journal = Journal(JournalConfig(directory, max_age_s=1e12), writer=False)
    span = journal.span()
    hours = (span[1] - span[0]) / 3600
    by_kind = sizes(directory)
    total = sum(by_kind.values())
    print(f"\n2. size: {total / 1e6:.1f} MB for {hours:.1f} h -> {total / hours / 1e6:.1f} MB per hour, {24 * total / hours / 1e6:.0f} MB per day")
    for kind, n in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"   {kind:<6} {n / 1e6:8.1f} MB  ({100 * n / total:4.1f} %)")
    sk = seeks(journal)
    print(f"\n3. seek: to the end of the {hours:.0f}-hour journal, first seek of the session {sk['cold_end'][0]:.2f} s wall, "
          f"{sk['cold_end'][1]:.2f} s CPU; {len(sk['warm'])} more (random points of the last 24 h, then the end):")
    for i, what in ((0, "wall"), (1, "CPU ")):
        w = sorted(x[i] for x in sk["warm"])
        print(f"   {what} median {statistics.median(w):.2f} s, p90 {w[int(0.9 * (len(w) - 1))]:.2f} s, max {w[-1]:.2f} s")
    print(f"   (load average now {os.getloadavg()[0]:.1f})")
    tp = throughput(journal)
    print(f"\n4. throughput: {tp['replayed_s'] / 3600:.0f} h replayed in {tp['wall_s']:.1f} s wall ({tp['cpu_s']:.1f} s CPU): "
          f"{tp['x_real_time']:.0f}x real time, {tp['replayed_s'] / tp['cpu_s']:.0f}x per CPU second")
    print(f"   playing at 60x for 20 s: {tp['at60_played_s'] / 60:.1f} min of recording (20 min if it keeps up), "
          f"{100 * tp['at60_cpu_share']:.0f} % of one core")
    print("\n5. asset history over the last 24 h: " + "; ".join(f"{a} {n} points in {1000 * s:.0f} ms" for a, n, s in history(journal)))
    if args.dir is None:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
