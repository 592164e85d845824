"""Read a stored day back: decode its buckets (skipping bad ones with a reason), then the series, kWh per hour, savings."""
from __future__ import annotations

import json
from typing import Mapping

from .day_series import BUCKET_S, METRICS, Bucket

HOURS = 24


def decode_day(fields: Mapping[bytes | str, bytes | str], bucket_s: int = BUCKET_S) -> tuple[dict[int, Bucket], dict[str, int]]:
    """Buckets by slot from a stored hash; what could not be read is counted by reason, never raised."""
    slots = 86400 // bucket_s
    buckets: dict[int, Bucket] = {}
    skipped: dict[str, int] = {}
    for name, raw in fields.items():
        key = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        if key == "meta":
            continue
        try:
            slot = int(key)
            if not 0 <= slot < slots:
                raise ValueError
        except ValueError:
            skipped["bad_slot"] = skipped.get("bad_slot", 0) + 1
            continue
        try:
            buckets[slot] = Bucket.from_dict(json.loads(raw))
        except (ValueError, TypeError, RecursionError) as err:
            reason = str(err) if isinstance(err, ValueError) and str(err).isidentifier() else "bad_json"
            skipped[reason] = skipped.get(reason, 0) + 1
    return buckets, skipped


def series(buckets: Mapping[int, Bucket], key: str) -> list[tuple[int, float]]:
    """(slot, value) of one metric, in time order, where it has a value."""
    out = []
    for slot in sorted(buckets):
        v = buckets[slot].value(key)
        if v is not None:
            out.append((slot, v))
    return out


def energy_by_hour(buckets: Mapping[int, Bucket], bucket_s: int = BUCKET_S) -> list[float | None]:
    """kWh drawn in each wall-clock hour (None: no bucket that hour; the repeated DST hour holds both)."""
    hours: list[float | None] = [None] * HOURS
    for slot, b in buckets.items():
        h = slot * bucket_s // 3600
        if 0 <= h < HOURS:
            hours[h] = (hours[h] or 0.0) + b.kwh
    return hours


def savings(buckets: Mapping[int, Bucket], up_to_slot: int | None = None) -> dict[str, float | None]:
    """Energy drawn, at full power, saved by dimming (kWh) and the share saved (%), optionally up to a slot."""
    kwh = rated = 0.0
    for slot, b in buckets.items():
        if up_to_slot is None or slot <= up_to_slot:
            kwh += b.kwh
            rated += b.rated_kwh
    saved = max(0.0, rated - kwh)
    return {"kwh": round(kwh, 2), "rated_kwh": round(rated, 2), "saved_kwh": round(saved, 2),
            "saved_pct": round(100.0 * saved / rated, 1) if rated > 0 else None}


def source_of(buckets: Mapping[int, Bucket]) -> str | None:
    """Where a day's figures come from: live, backfill (simulated), mixed, or None when empty."""
    found = {b.source for b in buckets.values()}
    return None if not found else found.pop() if len(found) == 1 else "mixed"


def day_view(domain: str, day: str, buckets: Mapping[int, Bucket], skipped: Mapping[str, int] | None = None,
             bucket_s: int = BUCKET_S) -> dict:
    """One domain's day, JSON-ready: its metric series by slot, and for lighting kWh per hour and savings."""
    source = source_of(buckets)
    live = [slot for slot, b in buckets.items() if b.source == "live"]
    doc: dict = {"domain": domain, "day": day, "bucket_s": bucket_s, "source": source,
                 "live_from_slot": min(live) if source == "mixed" else None,
                 "series": {key: [list(p) for p in series(buckets, key)] for key in METRICS.get(domain, ())},
                 "skipped": dict(skipped or {})}
    if domain == "lighting":
        doc["energy_by_hour"] = [None if x is None else round(x, 3) for x in energy_by_hour(buckets, bucket_s)]
        doc["savings"] = savings(buckets)
    return doc
