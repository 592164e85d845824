"""Soak: Vigie under a fault every few minutes, for an hour (or `--minutes`), at simulator speed 60.

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--every 300] [--speed 60] [--faults redis_restart,pause,...]

Vigie runs as shipped (`python app.py`, gunicorn, its engine in the worker process) on a redis-server of the
benchmark's own (append-only file on, `client-output-buffer-limit pubsub 256mb 64mb 60` as docs/deploy.md asks);
the three simulated supervisors run in this process, so that what each one told can be compared with what Vigie
shows (tests/chaos.py, `Truth`). A fault is injected every `--every` seconds, the first half a period in, rotating
through the chaos suite's cases that make sense in a long run (tests/integration/test_chaos.py):

  redis_restart   Redis SIGKILLed, restarted 1 s later on its port with its data
  pause           the engine's process SIGSTOPped 20 s, then SIGCONT
  huge_publish    one 43 MB message on sup.lighting.lum-mtp.state
  two_publishers  a second lum-mtp simulator for 20 s, and CLIENT KILL TYPE pubsub meanwhile
  big_state       a state declaring 100,000 lamps under a new id (over the 50,000 maximum)
  forged          a supervisor nobody declared raising alarms on eau-mtp's valves

For each fault it prints the forced disconnects Redis logged (subscribers cut for their output buffer), the
subscriptions Vigie's engine lost, the seconds until every genuine supervisor was live again and until Vigie showed
them as they are, what was still wrong then (lost), and the engine process's RSS; at the end, the RSS growth from
the first fault to the end and the totals. Figures: docs/performance.md, "Feed under faults".
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos import (
    GENUINE,
    MB,
    ChaosRedis,
    Truth,
    VigieProcess,
    forged_supervisor,
    huge_publish,
    kill_pubsub,
    oversized_state_v1,
    record_what_simulators_tell,
    second_publisher,
    seconds_until_live,
    statuses,
    wait_for,
)

ROTATION = ("redis_restart", "pause", "huge_publish", "two_publishers", "big_state", "forged")
SETTLE_S = 150.0  # the longest wait for Vigie to show the supervisors as they are (two publishers: 60 s of quiet first)


@dataclass
class Soak:
    redis: ChaosRedis
    vigie: VigieProcess
    truth: Truth
    speed: float
    faults: int = 0

    def inject(self, name: str) -> dict:
        """Inject one fault; return what to print about it (its end is when this returns)."""
        self.faults += 1
        if name == "redis_restart":
            self.redis.kill()
            time.sleep(1.0)
            self.redis.start()
            return {}
        if name == "pause":
            self.vigie.pause()
            time.sleep(20.0)
            with self.redis.client() as c:
                held = max((int(x["omem"]) for x in c.client_list() if x.get("name") in ("vigie-feed", "vigie-recorder")), default=0)
            self.vigie.resume()
            return {"held_by_redis": f"{held / MB:.1f} MB"}
        if name == "huge_publish":
            return {"subscribers_reached": huge_publish(self.redis)}
        if name == "two_publishers":
            twin = second_publisher(self.redis.url, "lum-mtp", self.speed)
            try:
                time.sleep(10.0)
                killed = kill_pubsub(self.redis)
                time.sleep(10.0)
            finally:
                twin.stop()
            return {"pubsub_clients_killed": killed}
        if name == "big_state":
            oversized_state_v1(self.redis, f"lum-big-{self.faults}", 100_000, 20_000)
            return {}
        if name == "forged":
            water = self.truth.sims["eau-mtp"]
            victims = [a.id for a in water.asset_defs() if a.type in ("Valve", "Pump")][:3]
            forged_supervisor(self.redis, victims, f"evil-{self.faults}", "water")
            return {}
        raise ValueError(f"unknown fault {name!r}; choose from {', '.join(ROTATION)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--every", type=float, default=300.0, help="seconds between two faults")
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--faults", default=",".join(ROTATION), help="the rotation, comma-separated ('none': no fault, a baseline)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    rotation = [f.strip() for f in args.faults.split(",") if f.strip() and f.strip() != "none"]
    folder = Path(tempfile.mkdtemp(prefix="vigie-soak-"))
    record_what_simulators_tell()
    redis = ChaosRedis(folder / "redis").start()
    vigie = VigieProcess(redis.url, folder / "state", args.speed)
    t0 = time.monotonic()
    try:
        vigie.wait_up()
        soak = Soak(redis, vigie, Truth(vigie, vigie.sims()), args.speed)
        wait_for(lambda: set(statuses(vigie).values()) == {"live"}, 120, "every genuine supervisor live at start")
        took, _, _ = soak.truth.settle(120.0)  # the baseline: Vigie shows them as they are before any fault
        print(f"baseline: every genuine supervisor live and shown as it is {time.monotonic() - t0:.0f} s after start"
              if took is not None else "baseline: Vigie did not show the supervisors as they are within 120 s", flush=True)
        print(f"soak: {args.minutes:g} min at speed {args.speed:g}, a fault every {args.every:g} s ({', '.join(rotation)}); "
              f"Vigie pid {vigie.proc.pid} (engine in {vigie.worker}), Redis {redis.url}, folder {folder}", flush=True)
        rss = [(0.0, vigie.rss_mb())]
        end = t0 + args.minutes * 60.0
        next_fault = t0 + args.every / 2
        rows = []
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now < next_fault or not rotation:
                time.sleep(max(0.0, min(10.0, end - now, next_fault - now if rotation else 10.0)))
                rss.append((time.monotonic() - t0, vigie.rss_mb()))
                continue
            name = rotation[len(rows) % len(rotation)]
            rows.append(run_fault(soak, name, t0))
            rss.append((time.monotonic() - t0, vigie.rss_mb()))
            next_fault += args.every
        report(rows, rss, redis, vigie, args, time.monotonic() - t0)
    finally:
        vigie.stop()
        redis.stop()
    return 0


def run_fault(soak: Soak, name: str, t0: float) -> dict:
    """One fault and the recovery from it, printed on one line."""
    redis, vigie = soak.redis, soak.vigie
    cuts0, losses0, rss0 = len(redis.forced_cuts()), vigie.feed_cuts()["engine"], vigie.rss_mb()
    at = time.monotonic() - t0
    more = soak.inject(name)
    ended = time.monotonic()
    try:
        live_s: float | None = seconds_until_live(vigie, ended, timeout=120.0)
    except TimeoutError:
        live_s = None
    took, at_once, lost = soak.truth.settle(SETTLE_S)
    shown_s = None if took is None else time.monotonic() - ended
    row = {"fault": name, "at_s": at, "forced": len(redis.forced_cuts()) - cuts0, "lost_subscriptions": vigie.feed_cuts()["engine"] - losses0,
           "live_s": live_s, "shown_s": shown_s,
           "out_of_date": sum(sum(x.counts().values()) for x in at_once.values()),
           "lost": sum(sum(x.counts().values()) for x in lost.values()), "rss0": rss0, "rss1": vigie.rss_mb(), **more}
    secs = lambda s: "never" if s is None else f"{s:.1f} s"
    extra = "".join(f", {k.replace('_', ' ')} {v}" for k, v in more.items())
    print(f"{at / 60:5.1f} min  {name:<15} forced disconnects {row['forced']}, subscriptions lost {row['lost_subscriptions']}, "
          f"live after {secs(live_s)}, shown as they are after {secs(shown_s)}, out of date at once {row['out_of_date']}, "
          f"lost {row['lost']}, RSS {rss0:.0f} -> {row['rss1']:.0f} MB{extra}", flush=True)
    if row["lost"]:
        print("           lost: " + "; ".join(f"{sid}: {l.counts()}" for sid, l in lost.items() if not l.nothing), flush=True)
    return row


def report(rows: list[dict], rss: list[tuple[float, float]], redis: ChaosRedis, vigie: VigieProcess, args, elapsed: float) -> None:
    first_fault = next((r["at_s"] for r in rows), 0.0)
    base = min((m for t, m in rss if t >= first_fault - 15.0), default=rss[0][1])
    print(f"\nsoak done: {elapsed / 60:.1f} min, {len(rows)} fault(s), speed {args.speed:g}, supervisors {', '.join(GENUINE)}")
    print(f"RSS of the engine process: {rss[0][1]:.0f} MB after start, {base:.0f} MB before the first fault, {rss[-1][1]:.0f} MB at the end "
          f"(growth {rss[-1][1] - base:+.0f} MB; peak {max(m for _, m in rss):.0f} MB)")
    minutes = [next(m for t, m in rss if t >= k * 60.0) for k in range(int(rss[-1][0] // 60.0) + 1)]
    print("RSS each minute (MB): " + " ".join(f"{m:.0f}" for m in minutes))
    print(f"forced disconnects (Redis's log): {len(redis.forced_cuts())}; subscriptions the engine lost: {vigie.feed_cuts()['engine']}")
    if not rows:
        return
    live = [r["live_s"] for r in rows if r["live_s"] is not None]
    shown = [r["shown_s"] for r in rows if r["shown_s"] is not None]
    print(f"live again: worst {max(live):.1f} s" if live else "live again: never", end="; ")
    print(f"shown as they are: worst {max(shown):.1f} s" if shown else "shown as they are: never", end="; ")
    print(f"lost after recovery: {sum(r['lost'] for r in rows)}")


if __name__ == "__main__":
    sys.exit(main())
