"""The simulated traffic day against Montpellier's counts: congestion index, speeds, peaks, weekday vs weekend, incidents.

Runs the shipped traffic simulator (services/simulators/traffic.py) over a Tuesday, a Saturday and a Sunday at its own
60 s step, and prints, every 15 minutes of the Tuesday and at the peaks of the other days:
- the congestion index as Vigie's KPI computes it (congested length over open length, every segment);
- the same over the busiest links (the tenth of segments with the highest daily count);
- the busiest links' speed over free-flow speed, and the flow-weighted mean speed;
- the simulated peak-hour share of the counted roads against their real PHJM/TJM and PHJS/TJM.
Then an incident on a busy road at 17:00 and how far upstream its queue reaches as it lasts.
`--chart docs/traffic-day.png` draws the day (an SVG rendered to PNG by headless Chromium).

    .venv/bin/python -m benchmarks.traffic_day --chart docs/traffic-day.png
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from services.settings import PROJECT_ROOT
from services.simulators.traffic import TrafficSim

PARIS = ZoneInfo("Europe/Paris")
DAYS = {"Tue": datetime(2026, 3, 10, tzinfo=PARIS), "Sat": datetime(2026, 3, 14, tzinfo=PARIS), "Sun": datetime(2026, 3, 15, tzinfo=PARIS)}


COUNTS = PROJECT_ROOT / "services" / "data" / "montpellier" / "VilleMTP_MTP_Comptage.csv"  # Ville de Montpellier, ODbL


def real_peak_shares(path: Path = COUNTS, min_daily: float = 5000.0) -> tuple[float, float]:
    """Median PHJM/TJM and PHJS/TJM of the counted roads carrying at least `min_daily` vehicles a day."""
    am, pm = [], []
    with open(path, encoding="latin-1", newline="") as fh:
        rows = csv.reader(fh)
        col = {h.split(",")[0]: i for i, h in enumerate(next(rows))}
        for r in rows:
            try:
                tjm, m, s = float(r[col["TJM"]]), float(r[col["PHJM"]]), float(r[col["PHJS"]])
            except (ValueError, IndexError):
                continue
            if tjm >= min_daily and m > 0 and s > 0:
                am.append(m / tjm)
                pm.append(s / tjm)
    return statistics.median(am), statistics.median(pm)


class Day:
    """One simulated day's series, every `every` steps."""

    def __init__(self, sim: TrafficSim) -> None:
        self.sim = sim
        segs = [d for d in sim.asset_defs() if d.type == "RoadSegment"]
        self.length = np.array([float(d.props.get("lengthM") or 1.0) for d in segs])
        self.counted = np.array([bool(d.props.get("counted")) for d in segs])
        daily = sim._daily
        self.top = daily >= np.percentile(daily, 90)
        self.rows: list[dict] = []
        self.raises = self.alarmed_max = self.congested_max = 0  # congestion alarms: raised in the day, held at once

    def sample(self) -> dict:
        s = self.sim
        open_ = ~s.closed
        c = s.congested
        q = s.intensity
        row = {
            "t": s.now.astimezone(PARIS),
            "index": 100 * self.length[c].sum() / self.length[open_].sum(),
            "top_index": 100 * self.length[c & self.top].sum() / self.length[self.top & open_].sum(),
            "top_ratio": float((s.speed[self.top & open_] / s._free[self.top & open_]).mean()),
            "speed": float((s.speed * q).sum() / max(q.sum(), 1.0)),
            "incidents": len(s.incidents),
            "hour_flow_counted": float(q[self.counted].sum()),
        }
        self.rows.append(row)
        return row


def run_day(start: datetime, seed: int, every: int = 15) -> Day:
    sim = TrafficSim("traf-bench", seed=seed, start=start)
    day = Day(sim)
    for k in range(24 * 60):
        for channel, payload in sim.step():
            if channel.endswith(".alarm"):
                day.raises += sum(1 for e in json.loads(payload)["events"] if e["code"] == "congestion" and e["action"] == "raise")
        day.alarmed_max = max(day.alarmed_max, int(sim._alarmed.sum()))
        day.congested_max = max(day.congested_max, int(sim.congested.sum()))
        if k % every == every - 1:
            day.sample()
    return day


def peak_share(day: Day, hour: float) -> float:
    """The counted roads' flow in the hour centred on `hour`, over their daily count (the simulated PHJM/TJM)."""
    daily = day.sim._daily[day.counted].sum()
    rows = [r for r in day.rows if abs(r["t"].hour + r["t"].minute / 60 - hour) <= 0.5]
    return statistics.mean(r["hour_flow_counted"] for r in rows) / daily if rows else float("nan")


def incident_reach(seed: int) -> list[tuple[int, int]]:
    """(minutes since the incident, roads queueing behind it) for an incident at 17:00 on the busiest road."""
    sim = TrafficSim("traf-bench", seed=seed, start=DAYS["Tue"] + timedelta(hours=16, minutes=30))
    for _ in range(30):
        sim.step()
    busiest = int(np.argmax(sim._daily))
    sim.start_incident(sim._ids[busiest], 60)
    out = []
    for m in range(1, 41):
        sim.step()
        if m % 5 == 0:
            out.append((m, sum(1 for v in sim._queue.values() if v == sim._ids[busiest])))
    return out


def svg_chart(days: dict[str, Day], real: tuple[float, float]) -> str:
    """The day's congestion index (all roads and busiest links) and the busiest links' speed ratio, as SVG."""
    w, h, left, top, pw, ph = 1100, 560, 70, 50, 960, 400
    x = lambda hr: left + pw * hr / 24
    y = lambda pct: top + ph * (1 - pct / 60)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="14">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="28" font-size="18">Simulated traffic day, Montpellier: congestion index (% of length congested)</text>']
    for pct in range(0, 61, 10):
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(pct)}" y2="{y(pct)}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y(pct) + 5}" text-anchor="end">{pct} %</text>')
    for hr in range(0, 25, 2):
        parts.append(f'<text x="{x(hr)}" y="{top + ph + 20}" text-anchor="middle">{hr:02d}:00</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(15)}" y2="{y(15)}" stroke="#555" stroke-dasharray="6,4"/>')
    parts.append(f'<text x="{left + pw - 4}" y="{y(15) - 6}" text-anchor="end" fill="#555">KPI threshold 15 %</text>')
    for hr in (8.0, 17.5):
        parts.append(f'<line x1="{x(hr)}" x2="{x(hr)}" y1="{top}" y2="{top + ph}" stroke="#999" stroke-dasharray="2,4"/>')
    styles = {("Tue", "top_index"): ("#222", "3", "", "Tuesday, busiest tenth of roads"),
              ("Tue", "index"): ("#222", "2", "8,5", "Tuesday, all roads (Vigie's KPI)"),
              ("Sat", "top_index"): ("#777", "2", "", "Saturday, busiest tenth"),
              ("Sun", "top_index"): ("#aaa", "2", "", "Sunday, busiest tenth")}
    ly = top + 20
    for (d, key), (color, width, dash, label) in styles.items():
        pts = " ".join(f"{x(r['t'].hour + r['t'].minute / 60):.1f},{y(r[key]):.1f}" for r in days[d].rows)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="{width}" stroke-dasharray="{dash}" points="{pts}"/>')
        parts.append(f'<line x1="{left + 20}" x2="{left + 60}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="{width}" stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="{left + 68}" y="{ly + 5}">{label}</text>')
        ly += 22
    parts.append(f'<text x="{left}" y="{h - 20}" fill="#555">Peak-hour share of the counted roads (&gt;= 5,000 veh/day): real '
                 f'{real[0]:.3f} (08:00) and {real[1]:.3f} (17:30); benchmarks/traffic_day.py</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_png(svg: str, png: Path) -> None:
    """Draw the SVG with headless Chromium (no plotting library in the project)."""
    from tests.browser.chrome import chromium

    html = png.with_suffix(".svg")
    html.write_text(svg)
    driver = chromium(1100, 560)
    try:
        driver.get(html.resolve().as_uri())
        time.sleep(0.5)
        driver.save_screenshot(str(png))
    finally:
        driver.quit()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--chart", type=Path, default=None, help="write the day's chart (PNG, with its SVG beside it)")
    p.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = p.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    days = {name: run_day(start, args.seed) for name, start in DAYS.items()}
    real = real_peak_shares()
    tue = days["Tue"]
    print("Tuesday, every hour (15-min samples at :00):")
    print(f"{'time':>6} {'index %':>8} {'busiest %':>10} {'busiest v/v0':>13} {'mean km/h':>10} {'incidents':>10}")
    for r in tue.rows:
        if r["t"].minute == 0 or (r["t"].hour, r["t"].minute) == (17, 30):
            print(f"{r['t']:%H:%M} {r['index']:8.1f} {r['top_index']:10.1f} {r['top_ratio']:13.2f} {r['speed']:10.1f} {r['incidents']:10d}")
    figures = {}
    for name, d in days.items():
        peak = max(d.rows, key=lambda r: r["top_index"])
        am = max((r for r in d.rows if r["t"].hour < 12), key=lambda r: r["top_index"])
        pm = max((r for r in d.rows if r["t"].hour >= 12), key=lambda r: r["top_index"])
        night = [r for r in d.rows if r["t"].hour < 5]
        figures[name] = {"peak_at": f"{peak['t']:%H:%M}", "am_peak_at": f"{am['t']:%H:%M}", "pm_peak_at": f"{pm['t']:%H:%M}",
                         "busiest_index_max": round(peak["top_index"], 1), "index_max": round(max(r["index"] for r in d.rows), 1),
                         "busiest_ratio_min": round(min(r["top_ratio"] for r in d.rows), 2),
                         "mean_speed_min": round(min(r["speed"] for r in d.rows), 1), "mean_speed_night": round(statistics.mean(r["speed"] for r in night), 1),
                         "peak_share_0800": round(peak_share(d, 8.0), 3), "peak_share_1730": round(peak_share(d, 17.5), 3),
                         "congested_roads_max": d.congested_max, "congestion_alarms_max": d.alarmed_max, "alarm_raises": d.raises}
    print("\nper day:")
    for name, f in figures.items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in f.items()))
    print(f"real peak-hour share (median, counted roads >= 5,000 veh/day): 08:00 {real[0]:.3f}, 17:30 {real[1]:.3f}")
    reach = incident_reach(args.seed)
    print("incident at 17:00 on the busiest road, roads queueing behind it:", ", ".join(f"{m} min: {n}" for m, n in reach))
    print(f"\n3 simulated days in {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    if args.json:
        args.json.write_text(json.dumps({"days": figures, "real_peak_share": real, "incident_reach": reach}, indent=1))
    if args.chart:
        render_png(svg_chart(days, real), args.chart)
        print("chart:", args.chart)


if __name__ == "__main__":
    main()
