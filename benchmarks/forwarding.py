"""What forwarding costs: an alarm acknowledgement applied in the engine's process vs forwarded from a web-only worker.

A private redis-server; the engine's runtime in a child process (as in production: another worker), holding
2N raised alarms; this process is a web-only worker (`run_engine=False`). Each acknowledgement does what
`services/api_alarms.perform` does around authorisation: look the alarm's domain up, then apply the action.
1. local: N acknowledgements with `AlarmActions` in the engine's process (two `engine.execute` turns);
2. forwarded: N acknowledgements with `RemoteAlarmActions` from this process (two requests over Redis,
   services/feed/engine_rpc.py), each applied by the engine's process through the same `AlarmActions`.
Prints p50, p95 and mean of both, and the ratio of the medians. HTTP, sign-in and audit are the same on
both paths and left out.
Usage: .venv/bin/python benchmarks/forwarding.py [--n 500] [--quick]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402


def alarm_ids(n: int) -> list[str]:
    return [f"lum/lamp_fault:lamp-{i}" for i in range(n)]


def ack(actions, aid: str, who: str) -> float:
    """One acknowledgement as perform() does it; its duration in seconds."""
    from services.alarms.actions import parse_params

    t = time.perf_counter()
    domains = actions.domains([aid])
    (outcome,) = actions.apply("ack", [aid], who, parse_params("ack", {}), domains)
    elapsed = time.perf_counter() - t
    assert outcome.result == "done", outcome
    return elapsed


def engine_process(url: str, state_dir: str, n: int, ready: mp.Queue, done: mp.Event) -> None:
    """The engine's worker: raise 2n alarms, time n local acknowledgements, then serve until told to stop."""
    import redis

    from services.alarms.actions import AlarmActions
    from services.contract import Alarm, AlarmEvent, LightingReading, State, encode, sup_channel
    from services.contract.messages import AssetDef, Point
    from services.runtime import start_services
    from services.settings import Settings

    runtime = start_services(Settings(redis_url=url, run_simulators=False, state_dir=Path(state_dir), snapshot_interval_s=1.0))
    try:
        bus = redis.Redis.from_url(url)
        time.sleep(0.5)  # the engine subscribes
        env = lambda kind, seq: {"v": 1, "kind": kind, "domain": "lighting", "supervisor": "lum", "ts": datetime.now(timezone.utc), "seq": seq}
        lamps = [f"lamp-{i}" for i in range(2 * n)]
        at = Point(coordinates=(3.88, 43.61))
        bus.publish(sup_channel("lighting", "lum", "state"), encode(State[LightingReading](
            **env("state", 1), snapshot="s1", assets=[AssetDef(id=i, type="Streetlight", name=i, geometry=at) for i in lamps],
            readings=[LightingReading(asset=i, status="ok") for i in lamps])))
        bus.publish(sup_channel("lighting", "lum", "alarm"), encode(Alarm(**env("alarm", 2), events=[
            AlarmEvent(id=f"lamp_fault:{i}", asset=i, action="raise", severity="minor", code="lamp_fault", message=i) for i in lamps])))
        end = time.monotonic() + 30
        while len(runtime.reader.alarms()) < 2 * n and time.monotonic() < end:
            time.sleep(0.05)
        local = AlarmActions(runtime.engine, runtime.alarm_store)
        ids = alarm_ids(2 * n)
        for aid in ids[:20]:
            local.domains([aid])  # warm-up (a read: it changes nothing)
        ready.put([ack(local, aid, "bench-local") for aid in ids[:n]])
        done.wait(600)
    finally:
        runtime.stop()


def figures(name: str, seconds: list[float]) -> float:
    ms = sorted(s * 1000 for s in seconds)
    p50, p95 = statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]
    print(f"{name:<10} n={len(ms):<5} p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   mean {statistics.fmean(ms):7.3f} ms")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="acknowledgements on each path")
    parser.add_argument("--quick", action="store_true", help="100 on each path")
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_redis_server(port, None, appendonly=False)
        url = f"redis://127.0.0.1:{port}/0"
        ctx = mp.get_context("spawn")
        ready, done = ctx.Queue(), ctx.Event()
        engine = ctx.Process(target=engine_process, args=(url, tmp, n, ready, done), daemon=True)
        try:
            wait_ready(url)
            engine.start()
            local = ready.get(timeout=120)
            from services.feed.engine_remote import RemoteAlarmActions
            from services.feed.engine_rpc import EngineClient

            client = EngineClient(url)
            remote = RemoteAlarmActions(client)
            for aid in alarm_ids(20):
                remote.domains([aid])  # warm-up
            forwarded = [ack(remote, aid, "bench-remote") for aid in alarm_ids(2 * n)[n:]]
            client.close()
            print(f"alarm acknowledgement (domain lookup + apply), {n} each, engine in another process, private redis-server")
            base = figures("local", local)
            fwd = figures("forwarded", forwarded)
            print(f"ratio forwarded/local (p50): {fwd / base:.2f}x   added p50: {fwd - base:.3f} ms")
        finally:
            done.set()
            engine.join(30)
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
