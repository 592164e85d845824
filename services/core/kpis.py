"""KPI maths per domain, and their history over a sliding window of the domain's own clock."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo

from .assets import AssetRecord, Thresholds
from .tally import MICRO, tally_sums


@dataclass(frozen=True, slots=True)
class Kpi:
    """One indicator's current value; `abnormal` says whether it is outside its target."""

    key: str
    domain: str
    value: float | None
    unit: str
    abnormal: bool = False
    note: str = ""  # why there is no value yet ("preparing": history still being computed), shown in words

    def to_dict(self) -> dict:
        """JSON-ready view."""
        doc = {"key": self.key, "domain": self.domain, "value": self.value, "unit": self.unit, "abnormal": self.abnormal}
        if self.note:
            doc["note"] = self.note
        return doc


CONGESTION_ABNORMAL_PCT = 15.0  # a congestion index above this is abnormal


def _pct(n: float, d: float) -> float | None:
    return round(100.0 * n / d, 2) if d else None


@dataclass(frozen=True, slots=True)
class LightingTotals:
    """The lamps counted once: how many, in which state, the power drawn and the rated power of those lit."""

    total: int
    in_service: int
    faulty: int
    on: int
    power_w: float
    rated_on_w: float


def lighting_totals(lamps: Iterable[AssetRecord]) -> LightingTotals:
    """Count the streetlights and add up their power (what the lighting KPIs and the day series derive from).

    A territory's own lamps carry their running sums (services/core/tally.py): no pass over the lamps then."""
    total, in_service, faulty, on, power_uw, rated_uw = tally_sums("lighting", lamps)
    return LightingTotals(total, in_service, faulty, on, power_uw / MICRO, rated_uw / MICRO)


def lighting_kpis(lamps: Iterable[AssetRecord]) -> tuple[list[Kpi], float]:
    """Share in service, power now, savings from dimming; returns (kpis, power_kw)."""
    t = lighting_totals(lamps)
    share = _pct(t.in_service, t.total)
    savings = round(max(0.0, 100.0 * (1 - t.power_w / t.rated_on_w)), 1) if t.rated_on_w else None
    power_kw = round(t.power_w / 1000.0, 2)
    return [
        Kpi("lamps_in_service_pct", "lighting", share, "%", share is not None and share < 97.0),
        Kpi("lamps_faulty", "lighting", t.faulty, "", False),
        Kpi("lamps_on", "lighting", t.on, "", False),
        Kpi("power_kw", "lighting", power_kw, "kW", False),
        Kpi("dimming_savings_pct", "lighting", savings, "%", False),
    ], power_kw


def water_kpis(assets: Iterable[AssetRecord], t: Thresholds, leaks: int) -> list[Kpi]:
    """Pressure and quality compliance, reservoir autonomy, pumps running, suspected leaks."""
    p_n = p_ok = q_n = q_ok = pumps = running = 0
    autonomy: list[float] = []
    for a in assets:
        v = a.values
        if a.type == "Device":
            p = v.get("pressure")
            if p is not None:
                p_n += 1
                p_ok += t.low_pressure_bar <= p <= t.high_pressure_bar
            cl, tu = v.get("chlorine"), v.get("turbidity")
            if cl is not None or tu is not None:
                q_n += 1
                q_ok += (cl is None or t.min_chlorine_mgl <= cl <= t.max_chlorine_mgl) and (tu is None or tu <= t.max_turbidity_ntu)
        elif a.type == "Pump":
            pumps += 1
            running += bool(v.get("running"))
        elif a.type in ("Reservoir", "Tank"):
            level, max_level, cap = v.get("level"), a.props.get("maxLevel"), a.props.get("capacity")
            outflow = v.get("flow")
            if level is not None and isinstance(max_level, (int, float)) and isinstance(cap, (int, float)) and max_level > 0:
                volume = cap * level / max_level
                if outflow is not None and outflow > 0.1:
                    autonomy.append(volume / outflow)
    p_pct, q_pct = _pct(p_ok, p_n), _pct(q_ok, q_n)
    auto = round(min(autonomy), 1) if autonomy else None
    return [
        Kpi("pressure_compliance_pct", "water", p_pct, "%", p_pct is not None and p_pct < 95.0),
        Kpi("reservoir_autonomy_h", "water", auto, "h", auto is not None and auto < 12.0),
        Kpi("quality_compliance_pct", "water", q_pct, "%", q_pct is not None and q_pct < 98.0),
        Kpi("pumps_running", "water", running, f"/{pumps}", False),
        Kpi("suspected_leaks", "water", leaks, "", leaks > 0),
    ]


def traffic_kpis(assets: Iterable[AssetRecord], incidents: int) -> list[Kpi]:
    """Mean speed (flow-weighted), congestion index (length-weighted), incidents, closed segments (from the running sums)."""
    closed, w_speed, w, length, congested_len = tally_sums("traffic", assets)
    index = _pct(congested_len, length)
    return [
        Kpi("mean_speed_kmh", "traffic", round(w_speed / w, 1) if w else None, "km/h", False),
        Kpi("congestion_index_pct", "traffic", index, "%", index is not None and index > CONGESTION_ABNORMAL_PCT),
        Kpi("incidents", "traffic", incidents, "", incidents > 0),
        Kpi("segments_closed", "traffic", closed, "", closed > 0),
    ]


class EnergyMeter:
    """Integrates a power (kW) over the domain's clock into energy today (kWh), reset at local midnight."""

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self.kwh = 0.0
        self._last: tuple[float, float] | None = None  # (ts, kW)
        self._day: object = None
        self.before: tuple[object, float] | None = None  # (local day, kWh drawn that day before this meter started)

    def set_before(self, day: object, kwh: float) -> None:
        """Say how much was drawn on `day` before this meter started (a restart mid-day, the archive's record)."""
        self.before = (day, max(0.0, kwh))

    def today(self) -> float:
        """Energy of the current day: what was drawn before the meter started, plus what it integrated."""
        carried = self.before[1] if self.before is not None and self.before[0] == self._day else 0.0
        return self.kwh + carried

    def add(self, ts: float, power_kw: float) -> float:
        """Account for power since the last sample (trapezoid); return energy today."""
        day = datetime.fromtimestamp(ts, self.tz).date()
        if self._day is not None and day != self._day:
            self.kwh = 0.0
            self._last = None
        self._day = day
        if self._last is not None and ts > self._last[0]:
            dt_h = min(ts - self._last[0], 3600.0) / 3600.0
            self.kwh += (self._last[1] + power_kw) / 2 * dt_h
        if self._last is None or ts >= self._last[0]:
            self._last = (ts, power_kw)
        return self.today()


class KpiHistory:
    """Sampled values of each KPI over a sliding window (trends on the tiles)."""

    def __init__(self, window_s: float, sample_s: float) -> None:
        self.window_s = window_s
        self.sample_s = sample_s
        self._series: dict[tuple[str, str], deque[tuple[float, float | None]]] = {}
        self._last_sample: dict[str, float] = {}

    def sample(self, domain: str, ts: float, kpis: Iterable[Kpi]) -> bool:
        """Record the domain's KPIs at `ts` if a sample period passed; return True if recorded."""
        last = self._last_sample.get(domain)
        if last is not None and ts - last < self.sample_s:
            return False
        self._last_sample[domain] = ts
        for k in kpis:
            series = self._series.setdefault((domain, k.key), deque())
            series.append((ts, k.value))
            while series and ts - series[0][0] > self.window_s:
                series.popleft()
        return True

    def sampled_at(self, domain: str) -> float | None:
        """When the domain's KPIs were last recorded (None: never)."""
        return self._last_sample.get(domain)

    def series(self, domain: str, key: str) -> list[tuple[float, float | None]]:
        """(ts, value) pairs, oldest first."""
        return list(self._series.get((domain, key), ()))
