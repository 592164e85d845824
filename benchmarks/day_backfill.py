"""Day series benchmark: what the simulated backfill costs, what a live sample costs the engine, how big a day is.

1. Backfill: each simulator built, then stepped over one day at 5-minute steps into a private territory state,
   the day metrics sampled at each step (services/history/backfill.py); build and step times per domain, and what
   8 days would take (why only yesterday, the same day last week and today before the start are made).
2. Live sampling: one day-metrics sample over the whole territory (what the engine thread pays every 30 s).
3. Size of one stored day (JSON per 5-minute bucket) per domain.

Run: `.venv/bin/python benchmarks/day_backfill.py [--step 300]`
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.core.assets import TerritoryState  # noqa: E402
from services.core.day_series import day_metrics  # noqa: E402
from services.core.kpis import traffic_kpis  # noqa: E402
from services.history.backfill import simulate_days  # noqa: E402
from services.simulators import build  # noqa: E402
from services.settings import DOMAINS  # noqa: E402

TZ = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 24)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--step", type=float, default=300.0)
    args = p.parse_args()
    total_day = 0.0
    print(f"backfill of one day at {args.step:.0f} s steps ({86400 / args.step:.0f} steps)")
    for domain in DOMAINS:
        t = time.perf_counter()
        sim = build(domain, seed=42, start=datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ))
        built = time.perf_counter() - t
        t = time.perf_counter()
        days = simulate_days(domain, DAY, DAY + timedelta(days=1), TZ, seed=42, territory="montpellier", step_s=args.step)
        whole = time.perf_counter() - t
        stepping = max(0.0, whole - built)
        total_day += whole
        buckets = days[DAY]
        size = sum(len(json.dumps(b.to_dict(), separators=(",", ":"))) + 4 for b in buckets.values())
        print(f"  {domain:9s} build {built:5.1f} s  one day {whole:5.1f} s (stepping {stepping:5.1f} s)  "
              f"8 days in one run ~{built + 8 * stepping:6.0f} s  stored day {len(buckets)} buckets, {size / 1024:.0f} KiB")

        state = TerritoryState()
        state.define(domain, sim.supervisor_id, sim.asset_defs())
        state.apply_readings(domain, sim.supervisor_id, sim.current_readings(), 0.0)
        assets = state.domain(domain).values()
        runs = []
        kpis = traffic_kpis(assets, 0) if domain == "traffic" else []  # computed by the core anyway
        for _ in range(5):
            t = time.perf_counter()
            day_metrics(domain, assets, kpis)
            runs.append(time.perf_counter() - t)
        print(f"  {'':9s} live sample over {len(state.domain(domain))} assets: {1000 * statistics.median(runs):.1f} ms (every 30 s)")
    print(f"three domains, one day: {total_day:.0f} s of one core; the demo backfill makes 2 past days + today so far")
    return 0


if __name__ == "__main__":
    sys.exit(main())
