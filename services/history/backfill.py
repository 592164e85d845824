"""History for the demo: when the simulators run and the archive lacks yesterday or the same day last week, simulate them
(and today before Vigie started, once, without touching a bucket the live engine already wrote).

Each deterministic simulator is stepped over the missing day at a coarse step, its readings applied to a private
territory state whose day metrics are sampled at each step; the day is written to the archive, every bucket marked
"backfill" (the charts say "simulated"). About 45 s of one core per day for the three domains (benchmarks/day_backfill.py),
so only the two days the charts compare with are made, not the whole week. Never run against real supervisors.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from services.core.assets import TerritoryState
from services.core.day_series import Bucket, DaySeries, compared_days, day_metrics, slot_of
from services.core.kpis import traffic_kpis
from services.history.day_archive import ArchiveUnavailable, DayArchive
from services.settings import DOMAINS, Settings

log = logging.getLogger(__name__)

STEP_S = 300.0
MIN_PASS_WALL_S = 1800.0  # on an accelerated territory clock, a new pass at most this often (wall seconds)


def wanted_days(today: date) -> list[date]:
    """The past days the charts compare today with: yesterday and the same day last week."""
    return list(compared_days(today))


def simulate_days(domain: str, first: date, end: date, tz: ZoneInfo, *, seed: int, territory: str,
                  step_s: float = STEP_S, cancelled: Callable[[], bool] = lambda: False,
                  until: float | None = None) -> dict[date, dict[int, Bucket]]:
    """A domain's buckets per day from midnight of `first` to midnight of `end` (or `until`), simulated at `step_s`.

    The simulator's readings go straight into a territory state (no bus, no codec); the day metrics and the
    KPIs they reuse are computed from it at each step, as the live core does at each sample.
    """
    from services.simulators import build

    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    stop = datetime(end.year, end.month, end.day, tzinfo=tz).timestamp()
    stop = stop if until is None else min(stop, until)
    sim = build(domain, seed=seed, start=start, territory=territory)
    sim.step_s = step_s  # coarse steps: the simulators' models are continuous in time
    state = TerritoryState()
    state.define(domain, sim.supervisor_id, sim.asset_defs())
    state.apply_readings(domain, sim.supervisor_id, sim.current_readings(), start.timestamp())
    series = DaySeries(tz.key, sample_s=0.0, source="backfill", keep_days=(end - first).days + 1)
    assets = state.domain(domain).values()
    while True:
        ts = sim.now.timestamp()
        kpis = traffic_kpis(assets, 0) if domain == "traffic" else []
        series.add(domain, ts, day_metrics(domain, assets, kpis))
        if ts >= stop or cancelled():
            break
        state.apply_readings(domain, sim.supervisor_id, sim.step_readings(), ts + step_s)
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    return {d: b for d in days if (b := series.buckets(domain, d.isoformat()))}


def backfill(archive: DayArchive, settings: Settings, timezone: str, now: float | None = None,
             step_s: float = STEP_S, today_too: bool = True, on_today: Callable[[], None] | None = None) -> dict[str, list[str]]:
    """Simulate and store the compared days each domain lacks (and today before now); return what was written per domain."""
    tz = ZoneInfo(timezone)
    today = datetime.fromtimestamp(time.time() if now is None else now, tz).date()
    written: dict[str, list[str]] = {}
    for domain in DOMAINS:  # today before start first: the "energy today" tile waits for it, the charts do not
        if today_too and not archive.meta(domain, today.isoformat()).get("source"):  # today before Vigie started, once
            t0 = time.perf_counter()
            start = time.time() if now is None else now
            by_day = simulate_days(domain, today, today + timedelta(days=1), tz, seed=settings.simulator_seed, territory=settings.territory,
                                   step_s=step_s, cancelled=lambda: archive.stopped, until=start - step_s)
            if archive.stopped:
                return written
            slot = slot_of(start, tz)[1]
            before = {s: b for s, b in by_day.get(today, {}).items() if s < slot}
            archive.write_day(domain, today.isoformat(), before, meta={"source": "backfill", "step_s": step_s, "until_slot": slot}, keep=True)
            written.setdefault(domain, []).append(today.isoformat())
            if domain == "lighting" and on_today is not None:
                on_today()  # the engine's "energy today" now counts the simulated hours before it started
            log.info("day archive: %s today before %s backfilled from the simulator in %.1f s",
                     domain, datetime.fromtimestamp(start, tz).strftime("%H:%M"), time.perf_counter() - t0)
        wanted = wanted_days(today)
        for day in sorted(set(wanted) - archive.present(domain, wanted), reverse=True):
            t0 = time.perf_counter()
            by_day = simulate_days(domain, day, day + timedelta(days=1), tz, seed=settings.simulator_seed,
                                   territory=settings.territory, step_s=step_s,
                                   cancelled=lambda: archive.stopped)
            if archive.stopped:
                return written
            if day in by_day:
                archive.write_day(domain, day.isoformat(), by_day[day], meta={"source": "backfill", "step_s": step_s})
                written.setdefault(domain, []).append(day.isoformat())
            log.info("day archive: %s %s backfilled from the simulator at %.0f s steps in %.1f s",
                     domain, day, step_s, time.perf_counter() - t0)
    return written


def until_next_day(now: float, tz: ZoneInfo, after_s: float = 60.0) -> float:
    """Seconds from `now` to a minute past the next local midnight."""
    d = datetime.fromtimestamp(now, tz).date() + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() + after_s - now


def start_backfill(archive: DayArchive, settings: Settings, timezone: str,
                   on_today: Callable[[], None] | None = None,
                   on_first_pass: Callable[[], None] | None = None,
                   clock: Callable[[], float] = time.time) -> threading.Thread | None:
    """Backfill in a background thread when the simulators run (never for real supervisors), then again each new day
    (the new day's "same day last week" is missing). `on_first_pass` runs after the first pass, whatever its outcome.

    `clock`: Vigie's time (the territory clock): its "today", and its next day; on an accelerated clock a pass
    (about 45 s of CPU a day and domain) comes at most every MIN_PASS_WALL_S of wall time."""
    if not settings.run_simulators:
        return None

    def run() -> None:
        first = True
        while not archive.stopped:
            t0 = time.perf_counter()
            try:
                written = backfill(archive, settings, timezone, now=clock(), today_too=first, on_today=on_today)
            except ArchiveUnavailable as err:
                log.warning("day archive backfill skipped: Redis unavailable (%s)", err)
                written = {}
            except Exception:  # noqa: BLE001 - a demo nicety must never take the control room down
                log.exception("day archive backfill failed")
                if first and on_first_pass is not None:
                    on_first_pass()
                return
            if first and on_first_pass is not None:
                on_first_pass()
            if written:
                log.info("day archive backfill done in %.1f s: %s", time.perf_counter() - t0, written)
            first = False
            now = clock()
            end, not_before = now + until_next_day(now, ZoneInfo(timezone)), time.time() + MIN_PASS_WALL_S
            while not archive.stopped and (clock() < end or time.time() < not_before):
                time.sleep(5.0)

    thread = threading.Thread(target=run, name="vigie-day-backfill", daemon=True)
    thread.start()
    return thread
