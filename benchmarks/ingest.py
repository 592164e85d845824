"""Ingest benchmark: readings per second through the full engine path vs a bare redis-py subscriber.

Both consumers drain the same messages from a private redis-server started here. The messages are
published while the consumer is subscribed but held (the bare one does not read yet; the engine
thread is parked on a request and its bus reader thread held), then the consumer is released and
timed until the last message is handled, so the publisher's cost is left out of both rates and the
engine's rate includes reading. Run: `.venv/bin/python benchmarks/ingest.py`.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import subprocess
import tempfile
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402
import redis  # noqa: E402

from services.contract import LightingReading, Telemetry, encode, sup_channel  # noqa: E402
from services.feed.engine import Engine  # noqa: E402
from services.redis_conn import connect  # noqa: E402
from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.simulators import build  # noqa: E402

Message = tuple[str, bytes]
START = datetime(2026, 6, 21, 22, 30, tzinfo=ZoneInfo("Europe/Paris"))


def rss_mb() -> float:
    """Resident set size of this process (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def territory() -> tuple[list, dict[str, list[Message]]]:
    """The three simulated supervisors and each one's full state messages."""
    sims = [build(d, seed=42, start=START) for d in ("lighting", "water", "traffic")]
    return sims, {s.domain: s.state() for s in sims}


def lighting_telemetry(sim, per: int, count: int) -> list[Message]:
    """`count` telemetry messages of `per` changed lamp readings each, continuing the simulator's sequence."""
    lamps = [a.id for a in sim.asset_defs() if a.type == "Streetlight"]
    channel = sup_channel("lighting", sim.supervisor_id, "telemetry")
    out, k, seq, ts = [], 0, sim.seq, START
    for _ in range(count):
        seq += 1
        ts += timedelta(milliseconds=10)
        readings = []
        for _ in range(per):
            level = (k // len(lamps)) % 2 * 0.5 + 0.25  # every pass over the lamps changes each one
            readings.append(LightingReading(asset=lamps[k % len(lamps)], powerState="on", status="ok",
                                            illuminanceLevel=level, powerConsumption=round(100 * level, 1)))
            k += 1
        msg = Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor=sim.supervisor_id, ts=ts, seq=seq, readings=readings)
        out.append((channel, encode(msg)))
    return out


def publish(client: redis.Redis, messages: list[Message]) -> None:
    """Publish in pipelined chunks."""
    for i in range(0, len(messages), 2000):
        pipe = client.pipeline(transaction=False)
        for channel, payload in messages[i : i + 2000]:
            pipe.publish(channel, payload)
        pipe.execute()


def bare_rate(url: str, messages: list[Message], lean: bool) -> tuple[float, float]:
    """(wall, CPU) seconds a bare redis-py subscriber takes to drain `messages` (get_message(), or read_response())."""
    sub = connect(url)
    ps = sub.pubsub()
    ps.psubscribe("sup.*")
    while ps.get_message(timeout=1.0) is None:
        pass
    pub = redis.Redis.from_url(url, protocol=2)
    publish(pub, messages)
    n, want = 0, len(messages)
    t0, c0 = time.perf_counter(), time.process_time()
    if lean:
        conn = ps.connection
        while n < want:
            if conn.can_read(timeout=1.0):
                reply = conn.read_response(disconnect_on_error=False, push_request=True)
                n += reply[0] == b"pmessage"
    else:
        while n < want:
            msg = ps.get_message(timeout=1.0)
            n += msg is not None and msg["type"] == "pmessage"
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    ps.close(), pub.close(), sub.close()
    return elapsed


def engine_rate(url: str, states: dict[str, list[Message]], messages: list[Message], freeze_gc: bool = True,
                snapshots: bool = True) -> tuple[float, float]:
    """(wall, CPU) seconds the engine takes to decode, validate and apply `messages` (parked while they are published).

    CPU is the whole process's (engine thread, snapshot writer), which a busy shared machine disturbs less than wall time.
    """
    redis.Redis.from_url(url).flushall()
    engine = Engine(Settings(snapshot_interval_s=1.0 if snapshots else 0.0), url, freeze_gc=freeze_gc).start()
    while not engine.bus_up:
        time.sleep(0.01)
    pub = redis.Redis.from_url(url, protocol=2)
    handled = lambda: sum(dict(engine.metrics.messages).values())  # noqa: E731
    base = sum(len(m) for m in states.values())
    publish(pub, [m for ms in states.values() for m in ms])
    while handled() < base:
        time.sleep(0.01)
    time.sleep(1.2)  # a tick: KPIs over the loaded territory, the heap frozen if asked
    done, finished = threading.Event(), [0.0, 0.0]
    target = base + len(messages)

    def on_events(events: list) -> None:  # on the engine thread: stops the clock at the last message
        if not done.is_set() and handled() >= target:
            finished[:] = time.perf_counter(), time.process_time()
            done.set()

    engine.subscribe(on_events)
    gate, parked = threading.Event(), threading.Event()
    threading.Thread(target=engine.execute, args=(lambda core, now: (parked.set() or gate.wait(), []), 120.0), daemon=True).start()
    parked.wait()
    reader = engine.feed_reader
    reader.hold()  # the reader thread would otherwise read everything into its queue while the engine is parked
    time.sleep(0.3)  # past the reader's current wait for data
    publish(pub, messages)
    time.sleep(0.2)
    t0, c0 = time.perf_counter(), time.process_time()
    reader.release()
    gate.set()
    if not done.wait(300):
        raise RuntimeError("the engine did not handle every message")
    rejected = dict(engine.metrics.rejected)
    engine.stop()
    pub.close()
    if rejected:
        raise RuntimeError(f"messages rejected: {rejected}")
    return finished[0] - t0, finished[1] - c0


def memory(sims: list, states: dict[str, list[Message]]) -> None:
    """RSS and traced Python memory of an engine holding the three territories, each measured in a fresh process."""
    steps = [m for s in sims for _ in range(int(3600 // s.step_s)) for m in s.step()]  # an hour of telemetry
    everything = [m for ms in states.values() for m in ms] + steps
    with tempfile.NamedTemporaryFile(suffix=".msgpack", delete=False) as f:
        f.write(msgspec.msgpack.encode(everything))
    try:
        rss = json.loads(subprocess.run([sys.executable, __file__, "--memory-child", "rss", f.name], check=True, capture_output=True).stdout)
        traced = json.loads(subprocess.run([sys.executable, __file__, "--memory-child", "trace", f.name], check=True, capture_output=True).stdout)
    finally:
        os.unlink(f.name)
    print(f"\nmemory, engine holding the three territories ({', '.join(f'{d} {n:,}' for d, n in rss['assets'].items())} assets, "
          f"after their states and one simulated hour of telemetry, {len(everything):,} messages):")
    print(f"  process RSS {rss['after']:,.0f} MB, of which the engine's state {rss['after'] - rss['before']:,.0f} MB "
          f"(before: {rss['before']:,.0f} MB with the interpreter, libraries and the messages to ingest)")
    print(f"  tracemalloc: {traced['current'] / 2**20:,.1f} MB held by the engine, {traced['peak'] / 2**20:,.1f} MB peak while ingesting")


def memory_child(mode: str, path: str) -> None:
    """Ingest the messages in `path` into a fresh engine; print what memory it takes, as JSON."""
    messages = [(c.encode(), p) for c, p in msgspec.msgpack.decode(Path(path).read_bytes())]
    gc.collect()
    before = rss_mb()
    if mode == "trace":
        tracemalloc.start()
    engine = Engine(Settings(), "redis://127.0.0.1:1/0", freeze_gc=mode == "rss")
    for i in range(0, len(messages), 2000):
        engine.ingest(messages[i : i + 2000])
    gc.collect()
    out = {"before": before, "after": rss_mb(), "assets": {d: len(engine.core.state.domain(d)) for d in ("lighting", "water", "traffic")}}
    if mode == "trace":
        out["current"], out["peak"] = tracemalloc.get_traced_memory()
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages-100", type=int, default=3000, help="messages of 100 readings")
    p.add_argument("--messages-1", type=int, default=100_000, help="messages of 1 reading")
    p.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--memory-child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    logging.basicConfig(level=logging.ERROR)
    port = free_port()
    proc = start_redis_server(port, None, appendonly=False)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_ready(url)
        redis.Redis.from_url(url).config_set("client-output-buffer-limit", "pubsub 0 0 0")  # hold every message for the held consumer
        t = time.perf_counter()
        sims, states = territory()
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, redis-server on :{port}; territory built in {time.perf_counter() - t:.1f} s "
              f"({sum(len(m) for m in states.values())} state messages, {sum(len(p) for ms in states.values() for _, p in ms) / 1e6:.1f} MB)")
        lighting = sims[0]
        for per, count, target in ((100, args.messages_100, "engine >= 300,000 readings/s"), (1, args.messages_1, "engine >= 0.5 x bare message rate")):
            msgs = lighting_telemetry(lighting, per, count)
            size = sum(len(p) for _, p in msgs) / count
            runs = {
                "bare redis-py get_message()": lambda: bare_rate(url, msgs, lean=False),
                "bare read_response() loop": lambda: bare_rate(url, msgs, lean=True),
                "engine, full path": lambda: engine_rate(url, states, msgs, freeze_gc=True),
                "engine, without gc.freeze": lambda: engine_rate(url, states, msgs, freeze_gc=False),
                "engine, no Redis snapshots": lambda: engine_rate(url, states, msgs, snapshots=False),
            }
            results: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
            for _ in range(args.repeat):  # interleaved, so a burst of load on the machine hits every contender
                for label, fn in runs.items():
                    results[label].append(fn())
            wall = {k: min(w for w, _ in v) for k, v in results.items()}
            cpu = {k: min(c for _, c in v) for k, v in results.items()}
            print(f"\n{per} reading(s) a message, {count:,} messages of {size:,.0f} B ({per * count:,} readings), best of {args.repeat}:")
            print(f"  {'':30s} {'wall clock':>28s}   {'per CPU second':>28s}")
            for label in runs:
                print(f"  {label:30s} {count / wall[label]:>12,.0f} msg/s {per * count / wall[label]:>10,.0f} r/s"
                      f"   {count / cpu[label]:>12,.0f} msg/s {per * count / cpu[label]:>10,.0f} r/s")
            eng, get, lean = "engine, full path", "bare redis-py get_message()", "bare read_response() loop"
            print(f"  ratio engine / bare get_message(): wall {wall[get] / wall[eng]:.2f}, CPU {cpu[get] / cpu[eng]:.2f}; "
                  f"engine / bare read_response(): wall {wall[lean] / wall[eng]:.2f}, CPU {cpu[lean] / cpu[eng]:.2f}")
            bare = "engine, no Redis snapshots"
            print(f"  ratio engine without snapshots / bare get_message(): wall {wall[get] / wall[bare]:.2f}, CPU {cpu[get] / cpu[bare]:.2f}")
            ok = per * count / wall[eng] >= 300_000 if per == 100 else wall[get] / wall[eng] >= 0.5
            print(f"  target {target}: {'met' if ok else 'NOT met'} (full path, wall clock)")
        if not args.no_memory:
            memory(sims, states)
    finally:
        proc.terminate()
        proc.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
