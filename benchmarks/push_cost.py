"""What the push hub costs the server: the shipped app (app factory) with the three simulators in-process at
speed 60, CPU seconds per minute of the whole process and of the push thread alone, with no browser and then
with one Socket.IO client listening (as a page does).

The push thread's CPU is read from /proc/<pid>/task/<tid>/stat (the thread's native id), the process's from
os.times(); wall time beside them. Usage: .venv/bin/python benchmarks/push_cost.py [--seconds 60] [--speed 60]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("VIGIE_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))

from services.settings import Settings
from tests.browser.harness import start_stack

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_s(tid: int) -> float:
    """User + system CPU seconds of one thread of this process."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def measure(stack, seconds: float) -> dict:
    tid = stack.hub._thread.native_id
    p0, h0, w0 = process_cpu_s(), thread_cpu_s(tid), time.monotonic()
    time.sleep(seconds)
    p1, h1, w1 = process_cpu_s(), thread_cpu_s(tid), time.monotonic()
    per_min = 60.0 / (w1 - w0)
    return {"process": (p1 - p0) * per_min, "push": (h1 - h0) * per_min, "wall": w1 - w0, "bytes": stack.hub.emitted_bytes}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--warm", type=float, default=45.0, help="seconds left for the simulators' states to arrive first")
    args = p.parse_args()
    import socketio  # python-socketio's client: a page's listening socket, without a browser

    stack = start_stack(None, Settings(coalesce_ms=250, simulator_speed=args.speed), simulators=True)
    try:
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 120, "simulated lamps")
        time.sleep(args.warm)
        print(f"code: {ROOT}; speed x{args.speed:g}; {args.seconds:.0f} s per phase; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
        idle = measure(stack, args.seconds)
        print(f"no browser:   process {idle['process']:5.1f} CPU s/min, push thread {idle['push']:5.2f} CPU s/min")
        client = socketio.Client()
        got = [0]
        client.on("push", lambda m: got.__setitem__(0, got[0] + 1))
        client.connect(stack.url)
        try:
            time.sleep(5)
            one = measure(stack, args.seconds)
        finally:
            client.disconnect()
        print(f"one listener: process {one['process']:5.1f} CPU s/min, push thread {one['push']:5.2f} CPU s/min "
              f"({got[0]} pushes received, {(one['bytes'] - idle['bytes']) / 1024 / (one['wall'] + 5):.1f} KiB/s emitted)")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
