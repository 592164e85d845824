"""The alarm load an operator lives with, measured against EEMUA 191 / ISA-18.2 on a simulated day.

The three simulators (lighting, water, traffic; Montpellier) run through a simulated day, accelerated (as fast as the
CPU goes), with their own random life (lamp faults, a few chattering lamps, cabinet trips, pump trips, leaks, quality
events, road incidents, congestion at the peaks) and injected incidents of a normal day (cabinet trips at night, a
street with three dead lamps, a pump trip, a leak, road incidents at the peaks). Every message goes, decoded once,
to two cores side by side:

* `before`: the core as it was (no master alarm database: every code an operator alarm at its severity, chattering
  alarms flagged but annunciated at every raise): the baseline, measured in the same run;
* `after`: the core as shipped, with the master alarm database (services/alarms/rationalisation.yaml).

Printed per console (each domain's operator, and one operator for everything): standing alarms (max, mean, sampled
every minute), annunciated per 10 minutes (mean, max; steady state = the 10-minute periods not within an hour of an
injected incident), % of 10-minute periods in flood (>= 10), outside incidents and overall, the priority distribution
of annunciations, chattering alarms, work orders (H4's WorkOrderBook fed with the maintenance conditions) or
maintenance conditions opened, and for every injected incident the time until its alarm was shown (from the injection
and from the supervisor's raise). CPU and wall time of each core. Targets: standing <= 10, steady mean <= 1 per
10 min, flood < 1 % outside incidents, priorities near 80/15/5 low/high/urgent, every incident shown within 10 s.

Usage: .venv/bin/python benchmarks/alarm_load.py [--hours 24] [--seed 7] [--start 2026-01-14]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.alarms.rationale_store import shipped_book
from services.contract import Codec
from services.core import Hypervisor
from services.core.alarm_states import HIDDEN
from services.simulators import SIMULATORS, build

TZ = ZoneInfo("Europe/Paris")
TICK_S = 10.0
TEN_MIN = 600.0
FLOOD_AT = 10
INCIDENT_WINDOW_S = 3600.0  # a 10-minute period within this of an injected incident is not steady state
CONSOLES = ("lighting", "water", "traffic", "all")


@dataclass
class Injected:
    """One incident put into a simulator, and the alarm it must bring to the operator."""

    at: float
    kind: str
    domain: str
    alarm: str
    what: str
    raised: dict[str, float] = field(default_factory=dict)  # core name -> supervisor's raise time
    shown: dict[str, float] = field(default_factory=dict)  # core name -> first shown to the operator
    grouped: dict[str, int] = field(default_factory=dict)  # core name -> most alarms suppressed under it at once


@dataclass
class Tally:
    """What one core presented over the day."""

    name: str
    annunciated: list[tuple[float, str, str, str]] = field(default_factory=list)  # (at, domain, priority, id)
    standing: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    chattering: set[str] = field(default_factory=set)
    maintenance_opened: int = 0
    work_orders: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0


def console_of(domain: str) -> str:
    return domain if domain in ("lighting", "water", "traffic") else "all"


def instrument(core: Hypervisor, tally: Tally, injected: list[Injected], orders) -> None:
    """Record every annunciation (the KPI counter's own hook) and every maintenance condition opened."""
    stats, book = core.alarms.stats, core.alarms
    counted = stats.annunciated

    def annunciated(alarm, now: float) -> None:
        counted(alarm, now)
        tally.annunciated.append((now, alarm.domain, str(alarm.priority), alarm.id))

    stats.annunciated = annunciated
    raise_now = getattr(book, "_raise_now", None)
    if raise_now is None:
        return

    def wrapped(alarm_id, r, priority, **kw):
        a = raise_now(alarm_id, r, priority, **kw)
        if a is not None and a.alarm_class == "maintenance":
            tally.maintenance_opened += 1
            if orders is not None:
                orders.observe(_fault(core, a, True), kw["now"])
        return a

    book._raise_now = wrapped
    if orders is not None:
        clear_now = book._clear_now

        def cleared(a, at, who, now):
            out = clear_now(a, at, who, now)
            if a.alarm_class == "maintenance":
                orders.observe(_fault(core, a, False), now)
            return out

        book._clear_now = cleared


def _fault(core: Hypervisor, a, active: bool):
    from services.maintenance.orders import Fault, classify

    rec = core.state.get(a.asset)
    refs = getattr(rec, "refs", None) or {}
    status = (getattr(rec, "values", None) or {}).get("status")
    kind = classify(a.to_dict(), status) or a.code
    return Fault(alarm=a.id, domain=a.domain, asset=a.asset, code=a.code, fault=kind, active=active, supervisor=a.supervisor,
                 cabinet=refs.get("cabinet", ""), street=refs.get("street", ""), district=refs.get("district", ""),
                 message=a.message)


def work_order_book():
    try:
        from services.maintenance.orders import WorkOrderBook
    except ImportError:
        return None
    return WorkOrderBook()


def sample(core: Hypervisor, tally: Tally) -> None:
    """Standing alarms now: operator alarms in alarm (active, shown), per console."""
    per = dict.fromkeys(CONSOLES, 0)
    for a in core.alarms.active():
        if a.alarm_class != "operator" or a.state in HIDDEN:
            continue
        per[console_of(a.domain)] += 1
        per["all"] += 1 if console_of(a.domain) != "all" else 0
    for c, n in per.items():
        tally.standing[c].append(n)
    tally.chattering.update(core.alarms.chatter.flagged)


def local(day: date, hh: float) -> float:
    """Seconds since the epoch of `day` at local hour `hh` (may pass midnight)."""
    base = datetime(day.year, day.month, day.day, tzinfo=TZ)
    return (base + timedelta(hours=hh)).timestamp()


def plan(sims: dict, day: date, rng: random.Random) -> list[tuple[float, str, str, object]]:
    """The incidents of a normal day: (when, kind, domain, target)."""
    lw, water, traffic = sims["lighting"].world, sims["water"], sims["traffic"]
    cabinets = rng.sample(range(len(lw.cabinet_ids)), 3)
    busy = sorted(range(len(traffic.segments)), key=lambda i: -traffic.segments[i].daily)[:200]
    by_street: dict[str, list[str]] = defaultdict(list)
    for i, lamp in enumerate(lw.lamp_ids):
        street = lw.assets[i].refs.get("street")
        if street and sims["lighting"].fault[i] == "ok" and i not in sims["lighting"].chatter:
            by_street[street].append(lamp)
    street = rng.choice(sorted(s for s, lamps in by_street.items() if 6 <= len(lamps) <= 40))
    pipes = [p for p in water.net.pipes if p.zone >= 0]
    return sorted([
        (local(day, 19.0), "cabinet_trip", "lighting", lw.cabinet_ids[cabinets[0]]),
        (local(day, 20.5), "street_dark", "lighting", (street, by_street[street][:3])),
        (local(day, 23.5), "cabinet_trip", "lighting", lw.cabinet_ids[cabinets[1]]),
        (local(day, 28.0), "cabinet_trip", "lighting", lw.cabinet_ids[cabinets[2]]),  # 04:00 the next night
        (local(day, 7.5), "pump_trip", "water", rng.choice(water.net.pumps).id),
        (local(day, 11.0), "leak", "water", rng.choice(pipes).id),
        (local(day, 8.25), "road_incident", "traffic", traffic.segments[rng.choice(busy)].id),
        (local(day, 12.5), "road_incident", "traffic", traffic.segments[rng.choice(busy)].id),
        (local(day, 17.75), "road_incident", "traffic", traffic.segments[rng.choice(busy)].id),
        (local(day, 21.0), "road_incident", "traffic", traffic.segments[rng.choice(busy)].id),
    ])


def inject(sims: dict, kind: str, target) -> str:
    """Put one incident into its simulator; return the id of the alarm that must reach the operator."""
    if kind == "cabinet_trip":
        sims["lighting"].trip_cabinet(target, reset_after_s=1800)
        return f"{sims['lighting'].supervisor_id}/cabinet_trip:{target}"
    if kind == "street_dark":
        street, lamps = target
        for lamp in lamps:
            sims["lighting"].fail_lamp(lamp, "brokenLantern", repair_after_s=4 * 3600)
        return f"vigie/street_dark/{street}"
    if kind == "pump_trip":
        sims["water"].trip_pump(target, 1800)
        return f"{sims['water'].supervisor_id}/{target}:pump_fault"
    if kind == "leak":
        sims["water"].start_leak(target, 45.0, detect_after_s=600, repair_after_s=3 * 3600)
        return f"{sims['water'].supervisor_id}/{target}:leak_suspected"
    sims["traffic"].start_incident(target, 45)
    return f"{sims['traffic'].supervisor_id}/{target}:incident"


def shown(core: Hypervisor, alarm_id: str) -> bool:
    """Is the alarm in front of the operator: active, annunciated (not held back), an operator alarm?"""
    a = core.alarms.get(alarm_id)
    return a is not None and a.active and a.alarm_class == "operator" and a.state not in HIDDEN


def run(hours: float, seed: int, day: date) -> tuple[dict[str, Tally], list[Injected], dict]:
    start = datetime.fromtimestamp(local(day, 0.0), UTC)
    t_build = time.perf_counter()
    sims = {d: build(d, seed=seed, start=start) for d in SIMULATORS}
    built_s = time.perf_counter() - t_build
    cores = {"before": Hypervisor(), "after": Hypervisor()}
    cores["after"].alarms.set_rationale(shipped_book())
    tallies = {name: Tally(name) for name in cores}
    orders = work_order_book()
    injected: list[Injected] = []
    for name, core in cores.items():
        instrument(core, tallies[name], injected, orders if name == "after" else None)
    tallies["after"].work_orders = 0 if orders is not None else None
    codec = Codec()
    now = start.timestamp()

    def feed(batch: list) -> None:
        msgs = [codec.decode(ch.encode() if isinstance(ch, str) else ch, payload) for ch, payload in batch]
        for name, core in cores.items():
            c0, w0 = time.process_time(), time.perf_counter()
            for m in msgs:
                core.handle(m, now)
            tallies[name].cpu_s += time.process_time() - c0
            tallies[name].wall_s += time.perf_counter() - w0

    for sim in sims.values():
        feed(sim.state())
    todo = plan(sims, day, random.Random(seed))
    end = now + hours * 3600
    sim_s = 0.0
    next_sample = now
    while now < end:
        now += TICK_S
        while todo and todo[0][0] <= now:
            at, kind, domain, target = todo.pop(0)
            if at < end:
                injected.append(Injected(now, kind, domain, inject(sims, kind, target), str(target)[:60]))
        batch = []
        s0 = time.perf_counter()
        for sim in sims.values():
            while sim.now.timestamp() + sim.step_s <= now:
                batch.extend(sim.step())
        sim_s += time.perf_counter() - s0
        feed(batch)
        for name, core in cores.items():
            c0, w0 = time.process_time(), time.perf_counter()
            core.tick(now)
            core.alarms.take_journal()
            tallies[name].cpu_s += time.process_time() - c0
            tallies[name].wall_s += time.perf_counter() - w0
            for inc in injected:
                a = core.alarms.get(inc.alarm)
                if name not in inc.raised and a is not None:
                    inc.raised[name] = a.seen_at
                if name not in inc.shown and shown(core, inc.alarm):
                    inc.shown[name] = now
                if a is not None:
                    inc.grouped[name] = max(inc.grouped.get(name, 0), a.children)
        if now >= next_sample:
            next_sample += 60.0
            for name, core in cores.items():
                sample(core, tallies[name])
    if orders is not None:
        tallies["after"].work_orders = len(orders)
    return tallies, injected, {"built_s": built_s, "sim_s": sim_s, "start": start.timestamp(), "end": end}


def rates(tally: Tally, console: str, start: float, end: float, injected: list[Injected]) -> dict:
    """Annunciations per 10 minutes for one console: all periods, steady ones, flood shares."""
    periods = int((end - start) // TEN_MIN)
    counts = [0] * periods
    for at, domain, _p, _id in tally.annunciated:
        if console == "all" or console_of(domain) == console:
            k = int((at - start) // TEN_MIN)
            if 0 <= k < periods:
                counts[k] += 1
    mine = [i for i in injected if console == "all" or i.domain == console]
    steady = [n for k, n in enumerate(counts) if k > 0 and not any(
        i.at - TEN_MIN <= start + k * TEN_MIN <= i.at + INCIDENT_WINDOW_S for i in mine)]
    flood = lambda ns: 100.0 * sum(1 for n in ns if n >= FLOOD_AT) / max(1, len(ns))
    return {"mean": statistics.fmean(counts) if counts else 0.0, "max": max(counts, default=0),
            "steady_mean": statistics.fmean(steady) if steady else 0.0, "steady_periods": len(steady),
            "flood_pct": flood(counts), "flood_steady_pct": flood(steady)}


def priorities(tally: Tally, console: str) -> dict[str, float]:
    n = defaultdict(int)
    for _at, domain, p, _id in tally.annunciated:
        if (console == "all" or console_of(domain) == console) and p != "diagnostic":
            n[p] += 1
    total = sum(n.values()) or 1
    return {p: 100.0 * n[p] / total for p in ("low", "high", "urgent")}


def report(tallies: dict[str, Tally], injected: list[Injected], meta: dict) -> None:
    start, end = meta["start"], meta["end"]
    hours = (end - start) / 3600
    print(f"simulated {hours:.1f} h from {datetime.fromtimestamp(start, TZ):%Y-%m-%d %H:%M} (Europe/Paris); "
          f"simulators built in {meta['built_s']:.1f} s, stepped in {meta['sim_s']:.1f} s of wall time")
    print()
    head = f"{'console':9} {'core':7} {'standing max':>12} {'mean':>6} {'ann/10min mean':>14} {'max':>5} " \
           f"{'steady mean':>11} {'flood %':>8} {'flood % steady':>14} {'low/high/urgent %':>19} {'annunc.':>8}"
    print(head)
    print("-" * len(head))
    for console in CONSOLES:
        for name, tally in tallies.items():
            st = tally.standing[console]
            r = rates(tally, console, start, end, injected)
            p = priorities(tally, console)
            n = sum(1 for _a, d, _p, _i in tally.annunciated if console == "all" or console_of(d) == console)
            print(f"{console:9} {name:7} {max(st, default=0):>12} {statistics.fmean(st) if st else 0:>6.1f} "
                  f"{r['mean']:>14.2f} {r['max']:>5} {r['steady_mean']:>11.2f} {r['flood_pct']:>8.1f} "
                  f"{r['flood_steady_pct']:>14.1f} {p['low']:>6.0f}/{p['high']:>4.0f}/{p['urgent']:>4.0f}   {n:>8}")
    print()
    for name, tally in tallies.items():
        wo = f"work orders opened {tally.work_orders}" if tally.work_orders is not None else "work orders: n/a"
        print(f"{name:7} chattering alarms (distinct, flagged) {len(tally.chattering)}; maintenance raises "
              f"{tally.maintenance_opened}; {wo}; core CPU {tally.cpu_s:.1f} s, wall {tally.wall_s:.1f} s")
    b, a = tallies["before"], tallies["after"]
    if b.cpu_s:
        print(f"core cost after/before: CPU {a.cpu_s / b.cpu_s:.2f}, wall {a.wall_s / max(b.wall_s, 1e-9):.2f}")
    nb, na = len(b.annunciated), len(a.annunciated)
    print(f"annunciations after/before: {na}/{nb} = {na / max(nb, 1):.3f}")
    print()
    print(f"{'injected incident':16} {'local time':>10}  {'alarm':58} {'sup. raised after':>17} "
          f"{'shown after (from raise)':>24} {'before: shown after':>19} {'grouped under it':>16}")
    worst = 0.0
    for inc in injected:
        raised = inc.raised.get("after")
        sh = inc.shown.get("after")
        sup = f"{raised - inc.at:.0f} s" if raised is not None else "never"
        if sh is not None and raised is not None:
            delay = sh - raised
            worst = max(worst, delay)
            vis = f"{sh - inc.at:.0f} s ({delay:.0f} s)"
        else:
            vis, worst = "NEVER", float("inf")
        old = inc.shown.get("before")
        print(f"{inc.kind:16} {datetime.fromtimestamp(inc.at, TZ):%H:%M:%S}  {inc.alarm[:58]:58} {sup:>17} {vis:>24} "
              f"{(f'{old - inc.at:.0f} s' if old is not None else 'never'):>19} {inc.grouped.get('after', 0):>16}")
    ok = worst <= TICK_S
    print(f"every injected incident shown within {TICK_S:.0f} s of its supervisor's raise (the loop's resolution): "
          f"{'yes' if ok else 'NO'} (worst {worst:.0f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 14), help="the simulated day (local)")
    args = ap.parse_args()
    c0, w0 = time.process_time(), time.perf_counter()
    tallies, injected, meta = run(args.hours, args.seed, args.start)
    report(tallies, injected, meta)
    print(f"\nwhole run: CPU {time.process_time() - c0:.0f} s, wall {time.perf_counter() - w0:.0f} s")


if __name__ == "__main__":
    main()
