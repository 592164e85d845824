"""Each domain's day in fixed buckets of the territory's local time: what the "over the day" charts show.

A bucket is a slot of local wall-clock time (`BUCKET_S` long) of one local day. On the autumn DST day the
repeated hour falls into the same slots (its samples merge); on the spring day the skipped hour has no slot.
Energy is integrated between samples (trapezoid, like `EnergyMeter`), split at bucket boundaries, so each
hour's kWh and the day's savings from dimming add up whatever the sampling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from .assets import AssetRecord
from .kpis import Kpi, lighting_totals

SCHEMA = 1
BUCKET_S = 300
SAMPLE_S = 30.0
MAX_GAP_S = 3600.0  # a longer silence is not integrated: nobody knows what was drawn
KEEP_DAYS = 2  # days of buckets the writer keeps in memory (today, and yesterday for late samples)
METRICS: dict[str, tuple[str, ...]] = {
    "lighting": ("power_kw", "rated_on_kw", "lamps_on"),
    "water": ("chlorine_min", "chlorine_mean", "chlorine_max", "turbidity_mean", "turbidity_max", "pressure_mean"),
    "traffic": ("mean_speed_kmh", "congestion_index_pct"),
}
SOURCES = ("live", "backfill")


def combine(key: str) -> str:
    """How a metric merges samples within a bucket: the lowest, the highest or the mean."""
    return "min" if key.endswith("_min") else "max" if key.endswith("_max") else "mean"


def slot_of(ts: float, tz: ZoneInfo, bucket_s: int = BUCKET_S) -> tuple[str, int]:
    """The local day (ISO date) and the wall-clock slot of an instant."""
    t = datetime.fromtimestamp(ts, tz)
    return t.date().isoformat(), (t.hour * 3600 + t.minute * 60 + t.second) // bucket_s


def day_of(ts: float, tz: ZoneInfo) -> date:
    """The local day of an instant."""
    return datetime.fromtimestamp(ts, tz).date()


def compared_days(day: date) -> tuple[date, date]:
    """The days a day is compared with: yesterday and the same day last week."""
    return day - timedelta(days=1), day - timedelta(days=7)


# --- metrics from the asset records -----------------------------------------------------------


def lighting_day(lamps: Iterable[AssetRecord]) -> dict[str, float | None]:
    """Power drawn, rated power of the lamps lit (what full power would draw) and lamps lit."""
    t = lighting_totals(lamps)
    return {"power_kw": t.power_w / 1000.0, "rated_on_kw": t.rated_on_w / 1000.0, "lamps_on": float(t.on)}


def water_day(assets: Iterable[AssetRecord]) -> dict[str, float | None]:
    """Chlorine low/mean/high and turbidity mean/high over the quality sensors, mean pressure over the others."""
    chlorine: list[float] = []
    turbidity: list[float] = []
    pressure: list[float] = []
    for a in assets:
        if a.type != "Device":
            continue
        v = a.values
        if (cl := v.get("chlorine")) is not None:
            chlorine.append(cl)
        if (tu := v.get("turbidity")) is not None:
            turbidity.append(tu)
        if (p := v.get("pressure")) is not None:
            pressure.append(p)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {"chlorine_min": min(chlorine, default=None), "chlorine_mean": mean(chlorine), "chlorine_max": max(chlorine, default=None),
            "turbidity_mean": mean(turbidity), "turbidity_max": max(turbidity, default=None), "pressure_mean": mean(pressure)}


def traffic_day(kpis: Iterable[Kpi]) -> dict[str, float | None]:
    """Mean speed and congestion index, as the traffic KPIs compute them."""
    values = {k.key: k.value for k in kpis}
    return {key: values.get(key) for key in METRICS["traffic"]}


def day_metrics(domain: str, assets: Iterable[AssetRecord], kpis: Iterable[Kpi]) -> dict[str, float | None]:
    """One sample of a domain's day metrics from its assets (and, for traffic, its KPIs just computed)."""
    if domain == "lighting":
        return lighting_day(assets)
    if domain == "water":
        return water_day(assets)
    return traffic_day(kpis)


# --- buckets ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Bucket:
    """One slot's samples merged: per metric (value, samples), the energy drawn and at full power (kWh)."""

    n: int = 0
    m: dict[str, list[float]] = field(default_factory=dict)  # key -> [value, count]
    kwh: float = 0.0
    rated_kwh: float = 0.0
    source: str = "live"

    def add(self, metrics: dict[str, float | None]) -> None:
        """Merge one sample."""
        self.n += 1
        for key, x in metrics.items():
            if x is None:
                continue
            cur = self.m.get(key)
            if cur is None:
                self.m[key] = [float(x), 1]
                continue
            how = combine(key)
            value, count = cur
            cur[0] = min(value, x) if how == "min" else max(value, x) if how == "max" else (value * count + x) / (count + 1)
            cur[1] = count + 1

    def value(self, key: str) -> float | None:
        """A metric's merged value, or None if no sample had it."""
        cur = self.m.get(key)
        return cur[0] if cur else None

    def to_dict(self) -> dict:
        """The versioned JSON form stored in the archive."""
        return {"v": SCHEMA, "n": self.n, "m": {k: [round(v, 4), int(c)] for k, (v, c) in self.m.items()},
                "kwh": round(self.kwh, 5), "rated_kwh": round(self.rated_kwh, 5), "src": self.source}

    @classmethod
    def from_dict(cls, d: object) -> "Bucket":
        """Read a stored bucket; raise ValueError with a short reason if it is not one."""
        if not isinstance(d, dict):
            raise ValueError("not_an_object")
        if d.get("v") != SCHEMA:
            raise ValueError("bad_version")
        n, m, src = d.get("n"), d.get("m"), d.get("src", "live")
        kwh, rated = d.get("kwh", 0.0), d.get("rated_kwh", 0.0)
        if not isinstance(n, int) or not isinstance(m, dict) or src not in SOURCES:
            raise ValueError("bad_fields")
        if not all(isinstance(x, (int, float)) and x == x and abs(x) < 1e12 for x in (kwh, rated)):
            raise ValueError("bad_energy")
        metrics: dict[str, list[float]] = {}
        for k, pair in m.items():
            if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair)
                    or pair[0] != pair[0] or abs(pair[0]) > 1e12):
                raise ValueError("bad_metric")
            metrics[str(k)] = [float(pair[0]), int(pair[1])]
        return cls(n, metrics, float(kwh), float(rated), src)


def energy_before(buckets: dict[int, Bucket], ts: float, tz: ZoneInfo, bucket_s: int = BUCKET_S) -> float:
    """kWh the buckets of `ts`'s local day hold before `ts`: whole slots before its slot, and its own slot pro rata."""
    local = datetime.fromtimestamp(ts, tz)
    into = local.hour * 3600 + local.minute * 60 + local.second
    slot, part = divmod(into, bucket_s)
    total = sum(b.kwh for s, b in buckets.items() if s < slot)
    current = buckets.get(slot)
    return total + (current.kwh * part / bucket_s if current is not None else 0.0)


class DaySeries:
    """The buckets of each domain's current days, fed samples on the domain's clock; the engine owns it."""

    def __init__(self, timezone: str, sample_s: float = SAMPLE_S, bucket_s: int = BUCKET_S, source: str = "live",
                 keep_days: int = KEEP_DAYS) -> None:
        self.tz = ZoneInfo(timezone)
        self.keep_days = keep_days
        self.sample_s = sample_s
        self.bucket_s = bucket_s
        self.source = source
        self._days: dict[tuple[str, str], dict[int, Bucket]] = {}
        self._last_ts: dict[str, float] = {}
        self._last_power: dict[str, tuple[float, float, float]] = {}  # domain -> (ts, kW, rated kW)
        self._changed: set[tuple[str, str, int]] = set()

    def due(self, domain: str, ts: float) -> bool:
        """Is a sample of this domain due at `ts`?"""
        last = self._last_ts.get(domain)
        return last is None or ts - last >= self.sample_s or ts < last

    def add(self, domain: str, ts: float, metrics: dict[str, float | None]) -> None:
        """Merge one sample into its bucket (and, for lighting, the energy since the last one)."""
        self._last_ts[domain] = ts
        day, slot = slot_of(ts, self.tz, self.bucket_s)
        self._bucket(domain, day, slot).add(metrics)
        p, r = metrics.get("power_kw"), metrics.get("rated_on_kw")
        if p is not None:
            self._integrate(domain, ts, p, r or 0.0)

    def _bucket(self, domain: str, day: str, slot: int) -> Bucket:
        buckets = self._days.get((domain, day))
        if buckets is None:
            buckets = self._days[(domain, day)] = {}
            mine = sorted(d for (dom, d) in self._days if dom == domain)
            for old in mine[:-self.keep_days]:
                del self._days[(domain, old)]
                self._changed = {k for k in self._changed if k[:2] != (domain, old)}  # nobody took them: a core without archive
        b = buckets.get(slot)
        if b is None:
            b = buckets[slot] = Bucket(source=self.source)
        self._changed.add((domain, day, slot))
        return b

    def _integrate(self, domain: str, ts: float, p1: float, r1: float) -> None:
        last = self._last_power.get(domain)
        self._last_power[domain] = (ts, p1, r1)
        if last is None or not 0 < ts - last[0] <= MAX_GAP_S:
            return
        t0, p0, r0 = last
        span = ts - t0
        a = t0
        while a < ts:
            b = min(ts, (a // self.bucket_s + 1) * self.bucket_s)  # next bucket boundary (local offsets are whole 5 min)
            fa, fb = (a - t0) / span, (b - t0) / span
            pa, pb = p0 + (p1 - p0) * fa, p0 + (p1 - p0) * fb
            ra, rb = r0 + (r1 - r0) * fa, r0 + (r1 - r0) * fb
            day, slot = slot_of(a, self.tz, self.bucket_s)
            bucket = self._bucket(domain, day, slot)
            bucket.kwh += (pa + pb) / 2 * (b - a) / 3600.0
            bucket.rated_kwh += (ra + rb) / 2 * (b - a) / 3600.0
            a = b

    def buckets(self, domain: str, day: str) -> dict[int, Bucket]:
        """A domain's buckets of one local day held in memory."""
        return self._days.get((domain, day), {})

    def take_changed(self) -> list[tuple[str, str, int, dict]]:
        """The buckets changed since the last call, as (domain, day, slot, stored form); forget them."""
        out = []
        for domain, day, slot in sorted(self._changed):
            b = self._days.get((domain, day), {}).get(slot)
            if b is not None:
                out.append((domain, day, slot, b.to_dict()))
        self._changed.clear()
        return out
