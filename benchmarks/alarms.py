"""Alarm flood figures: 10,000 alarm events in 10 s, through Redis, into the engine and an open alarm console.

1. core: alarm events per second through `Hypervisor.handle` (decoded messages; flood rules, chattering,
   journal and KPI bookkeeping included), on the lighting simulator's real territory.
2. full stack: a private redis-server, the engine holding the real lighting territory (~30,000 lamps), the
   secured web app, and an operator's console (1920x1080, signed in) in headless Chromium. 10,000 events are
   published in 100 messages over 10 s: cabinet trips with the lamp-off alarms of their lamps (suppressed
   under them), lamp faults raised, some cleared. Figures:
   - engine: lag after the last publish until everything is applied; the engine's busy time for the flood;
   - console: grid transactions and rows; time from the last publish until the grid holds the final state;
     main-thread long tasks during the flood (count, longest, total); re-filtering the grid during the flood;
   - afterwards: a bulk acknowledgement of every visible alarm, from the click to the last row updated.
Usage: .venv/bin/python benchmarks/alarms.py [--events 10000] [--seconds 10] [--quick]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402

from services.contract import Alarm, AlarmEvent, Codec, encode, sup_channel  # noqa: E402
from services.core import Hypervisor  # noqa: E402
from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402
from services.simulators import build  # noqa: E402
from tests.browser.alarm_stack import start_secured  # noqa: E402

NIGHT = datetime(2026, 1, 15, 21, 0, tzinfo=timezone.utc)  # 22:00 in Montpellier: lamps lit
PROBE_JS = """
window.__longtasks = [];
try { new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { window.__longtasks.push(e.duration); }); })
      .observe({entryTypes: ['longtask']}); } catch (e) {}
"""


def flood(sim, events: int, per_message: int, rng: random.Random) -> list[list[AlarmEvent]]:
    """`events` alarm events in batches: cabinet trips and their lamps off (60 %), lamp faults raised and cleared."""
    w, out, trips = sim.world, [], []
    cabinets = sorted(range(len(w.cabinet_ids)), key=lambda c: -len(w.cabinet_lamps[c]))
    budget = int(events * 0.6)
    for c in cabinets:
        lamps = w.cabinet_lamps[c]
        if budget < len(lamps) + 1:
            break
        cab = w.cabinet_ids[c]
        trips.append(AlarmEvent(id=f"cabinet_trip:{cab}", asset=cab, action="raise", severity="major", code="cabinet_trip",
                                message=f"Breaker tripped in {w.name(cab)}"))
        trips += [AlarmEvent(id=f"lamp_off:{w.lamp_ids[i]}", asset=w.lamp_ids[i], action="raise", severity="minor", code="lamp_off",
                             message=f"Lamp off while it should be lit: {w.assets[i].name}") for i in lamps]
        budget -= len(lamps) + 1
    faults: list[AlarmEvent] = []
    raised: list[str] = []
    while len(trips) + len(faults) < events:
        if raised and rng.random() < 0.25:
            lamp = raised.pop(rng.randrange(len(raised)))
            faults.append(AlarmEvent(id=f"lamp_fault:{lamp}", asset=lamp, action="clear", severity="minor", code="lamp_fault"))
        else:
            lamp = w.lamp_ids[rng.randrange(len(w.lamp_ids))]
            raised.append(lamp)
            faults.append(AlarmEvent(id=f"lamp_fault:{lamp}", asset=lamp, action="raise", severity=rng.choice(["minor", "major", "critical"]),
                                     code="lamp_fault", message=f"Defective lamp: {w.name(lamp)}"))
    mixed, t, f = [], 0, 0  # interleave: the trips arrive while the faults keep coming
    while t < len(trips) or f < len(faults):
        take = rng.randint(1, 40)
        mixed += trips[t : t + take]
        t += take
        mixed += faults[f : f + take]
        f += take
    return [mixed[i : i + per_message] for i in range(0, len(mixed), per_message)]


def core_rate(sim, batches: list[list[AlarmEvent]]) -> tuple[int, float]:
    """Events applied per second by the pure core (the territory loaded first)."""
    core, codec = Hypervisor(), Codec()
    now = time.time()
    for channel, payload in sim.state():
        core.handle(codec.decode(channel.encode(), payload), now)
    messages = [Alarm(v=1, kind="alarm", domain="lighting", supervisor=sim.supervisor_id, ts=sim.now + timedelta(seconds=i),
                      seq=10_000 + i, events=evs) for i, evs in enumerate(batches)]
    core.tick(now)  # KPIs of the loaded territory, once
    t0 = time.perf_counter()
    for i, m in enumerate(messages):
        core.handle(m, now + i * 0.1)
        core.alarms.tick(now + i * 0.1)  # the alarm part of the engine's once-a-second tick, at every message
    return sum(len(b) for b in batches), time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="1,000 events in 2 s")
    args = parser.parse_args()
    events, seconds = (1000, 2.0) if args.quick else (args.events, args.seconds)
    rng = random.Random(7)
    t = time.perf_counter()
    sim = build("lighting", seed=3, start=NIGHT)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; lighting territory ({len(sim.world.lamp_ids):,} lamps) "
          f"built in {time.perf_counter() - t:.1f} s")
    batches = flood(sim, events, max(1, events // 100), rng)
    n_events = sum(len(b) for b in batches)

    n, dt = core_rate(sim, batches)
    print(f"\n1. core: {n:,} alarm events in {dt * 1000:.0f} ms = {n / dt:,.0f} events/s (flood rules, journal, KPIs included)")

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_redis_server(port, None, appendonly=False)
        url = f"redis://127.0.0.1:{port}/0"
        wait_ready(url)
        stack = start_secured(url, coalesce_ms=250, state_dir=Path(tmp))
        try:
            return run_stack(stack, sim, batches, n_events, seconds)
        finally:
            stack.stop()
            proc.terminate()


def run_stack(stack, sim, batches: list[list[AlarmEvent]], n_events: int, seconds: float) -> int:
    pipe = stack.client.pipeline(transaction=False)
    for channel, payload in sim.state():
        pipe.publish(channel, payload)
    pipe.execute()
    lamps = len(sim.asset_defs())
    stack.wait_for(lambda: len(stack.runtime.reader.assets_geo("lighting")) == lamps, 120, "the territory")
    driver = stack.browser("alice", width=1920, height=1080)
    stack.wait_for(lambda: driver.execute_script("return !!(vigie.console && vigie.console.api)"), 20, "the console")
    time.sleep(5.0)  # the map has clustered its lamps: the flood is measured on a settled page
    driver.execute_script(PROBE_JS)
    engine, metrics = stack.runtime.engine, stack.runtime.metrics
    busy0, seq = metrics.processing.sum, 1_000_000
    print(f"\n2. full stack: {n_events:,} events in {len(batches)} messages over {seconds:g} s "
          f"(console open at 1920x1080, {lamps:,} lamps on its map)")
    interval = seconds / len(batches)
    start = time.monotonic()
    refilter_ms = None
    for i, events in enumerate(batches):
        seq += 1
        msg = Alarm(v=1, kind="alarm", domain="lighting", supervisor=sim.supervisor_id, ts=datetime.now(timezone.utc), seq=seq, events=events)
        stack.client.publish(sup_channel("lighting", sim.supervisor_id, "alarm"), encode(msg))
        if i == len(batches) // 2:  # an operator narrows the view in the middle of the flood
            refilter_ms = driver.execute_script("var t = performance.now(); vigie.console.setFilters(null, null, 'unack', '', '');"
                                                "vigie.console.setFilters(null, null, 'handle', '', ''); return performance.now() - t;")
        delay = start + (i + 1) * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    last_publish = time.time()
    expected = lambda: engine.execute(lambda core, now: (len(core.alarms), []), 60)  # noqa: E731
    held, applied_at = expected(), None
    while True:  # applied when the book stops moving and the engine has no backlog
        time.sleep(0.05)
        now_held = expected()
        if now_held == held:
            applied_at = time.time()
            break
        held = now_held
    busy = metrics.processing.sum - busy0
    print(f"   engine: every event applied {max(0.0, applied_at - last_publish) * 1000:.0f} ms after the last publish; "
          f"busy {busy * 1000:.0f} ms for the flood ({n_events / busy:,.0f} events/s of engine time); {held:,} alarms held")

    stack.wait_for(lambda: driver.execute_script("return vigie.console.present.size") == held, 30, "the grid to hold every alarm")
    time.sleep(1.0)
    stats = driver.execute_script("return vigie.console.stats")
    long_tasks = driver.execute_script("return window.__longtasks")
    shown = driver.execute_script("return vigie.console.api.getDisplayedRowCount()")
    print(f"   console: {stats['transactions']} grid transactions, {stats['rows']:,} row changes; the grid held the final state "
          f"{max(0, stats['lastAt'] / 1000 - last_publish) * 1000:.0f} ms after the last publish; {shown:,} rows shown "
          f"(children of tripped cabinets folded under their parent), {held:,} in the grid")
    if long_tasks:
        print(f"   main thread: {len(long_tasks)} long tasks during the flood, longest {max(long_tasks):.0f} ms, "
              f"total {sum(long_tasks):.0f} ms over {seconds:g} s")
    if refilter_ms is not None:
        print(f"   re-filtering the grid twice in the middle of the flood: {refilter_ms:.0f} ms")

    unacked = driver.execute_script("var n = 0; vigie.console.api.forEachNodeAfterFilter(function (r) {"
                                    " if (r.data.state === 'active_unack' || r.data.state === 'rtn_unack') n++; }); return n;")
    driver.find_element(By.CSS_SELECTOR, ".ag-header-select-all").click()
    t0 = time.monotonic()
    driver.find_element(By.ID, "alarms-ack").click()
    stack.wait_for(lambda: driver.execute_script("var n = 0; vigie.console.api.forEachNodeAfterFilter(function (r) {"
                                                 " if (r.data.state === 'active_unack' || r.data.state === 'rtn_unack') n++; }); return n;")
                   == 0, 60, "every visible alarm acknowledged")
    print(f"   bulk acknowledgement of {unacked:,} visible alarms: {(time.monotonic() - t0) * 1000:.0f} ms from the click "
          f"to the last row updated ({driver.find_element(By.ID, 'alarms-feedback').text})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
