"""The push protocol's wire format (version 1): channels, condition codes, the compact views of
alarms, supervisors and map features, and the snapshot a page starts from. See docs/ui.md."""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from services.core.assets import Thresholds
from services.core.bands import BANDED_DOMAINS, bands_of

PROTOCOL = 1
DOMAINS = ("lighting", "water", "traffic")
CHANNELS = (*DOMAINS, "alarms", "supervisors", "summary")
EVENT = "push"  # the one Socket.IO event: {"v": 1, "deltas": [...]} per flush, each delta of one channel
# condition -> code on the wire (also the "worst" order the map aggregates with)
CONDITION_CODE = {"ok": 0, "unknown": 1, "maintenance": 2, "warning": 3, "fault": 4}
SNAPSHOT_LIMIT = 1_000_000  # every abnormal asset, whatever their number


# What the alarm console shows besides the list's fields (lifecycle, who handles it, flood group, chattering).
ALARM_CONSOLE_FIELDS = ("state", "area", "acked_by", "acked_at", "assignee", "parent", "children", "chattering",
                        "shelved_by", "shelved_until", "shelve_reason", "out_of_service_reason", "comments", "cleared_at",
                        "alarm_class", "chatter_held")  # the master alarm database (docs/alarms.md)


def compact_alarm(a: dict, asset_name: str | None) -> dict:
    """The fields of an alarm the pages and the alarm console show."""
    out = {
        "id": a["id"], "domain": a["domain"], "supervisor": a["supervisor"], "asset": a["asset"],
        "asset_name": asset_name or a["asset"], "code": a["code"], "priority": a["priority"],
        "message": a["message"], "active": a["active"], "acknowledged": a["acknowledged"],
        "raised_at": a["raised_at"], "updated_at": a["updated_at"],
    }
    out.update((k, a[k]) for k in ALARM_CONSOLE_FIELDS if k in a)
    return out


def compact_supervisor(s: dict) -> dict:
    """The fields of a supervisor's health the badges show (no counters that move every message)."""
    return {k: s.get(k) for k in ("id", "domain", "status", "reason", "last_seen", "assets")}


def geo_collection(rows: Iterable[dict]) -> dict:
    """A GeoJSON FeatureCollection from Reader.assets_geo rows (id, type, condition, lon/lat or coords)."""
    features = []
    for r in rows:
        if "lon" in r and "lat" in r:
            geometry = {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
        elif r.get("coords"):
            geometry = {"type": "LineString", "coordinates": r["coords"]}
        elif r.get("geometry"):
            geometry = r["geometry"]
        else:
            continue
        props = {"id": r["id"], "k": r.get("type", ""), "c": CONDITION_CODE.get(str(r.get("condition")), 1)}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def geo_columns(rows: Iterable[dict]) -> dict:
    """The same features, points as columns (about a quarter of the bytes for 100,000 lamps); the
    browser turns them back into GeoJSON. Other geometries stay GeoJSON features in `features`."""
    kinds: dict[str, int] = {}
    cols: dict[str, list] = {"id": [], "k": [], "lon": [], "lat": [], "c": []}
    rest = []
    for r in rows:
        if "lon" in r and "lat" in r:
            cols["id"].append(r["id"])
            cols["k"].append(kinds.setdefault(r.get("type", ""), len(kinds)))
            cols["lon"].append(round(r["lon"], 6))
            cols["lat"].append(round(r["lat"], 6))
            cols["c"].append(CONDITION_CODE.get(str(r.get("condition")), 1))
        else:
            rest.append(r)
    return {"v": PROTOCOL, "kinds": list(kinds), **cols, "features": geo_collection(rest)["features"]}


def build_snapshot(reader: Any, domains: Iterable[str] = DOMAINS, *, seq: dict | None = None,
                   wall: Callable[[], float] = time.time, names: Callable[[str], str] | None = None) -> dict:
    """A page's starting point: non-ok assets and value bands, KPIs, alarms, supervisors, summary (and `seq`, None when unknown)."""
    assets: dict[str, dict[str, int]] = {}
    bands: dict[str, dict[str, int]] = {}
    known: dict[str, str] = {}
    for d in domains:
        assets[d] = {}
        for condition, code in CONDITION_CODE.items():
            if code == 0:
                continue
            _total, rows = reader.assets(domain=d, condition=condition, limit=SNAPSHOT_LIMIT)
            for r in rows:
                assets[d][r["id"]] = code
                known[r["id"]] = r.get("name") or r["id"]
        if d in BANDED_DOMAINS:
            bands[d] = {aid: b for aid, b in bands_of(d, reader.assets(domain=d, limit=SNAPSHOT_LIMIT)[1], Thresholds()).items() if b}
    name_of = names or (lambda aid: (reader.asset(aid) or {}).get("name") or aid)
    alarms = [compact_alarm(a, known.get(a["asset"]) or name_of(a["asset"])) for a in reader.alarms(active_only=False)]
    return {
        "v": PROTOCOL, "t": round(wall(), 3), "seq": seq, "assets": assets, "bands": bands, "kpis": reader.kpis(), "alarms": alarms,
        "supervisors": [compact_supervisor(s) for s in reader.supervisors()], "summary": reader.summary(),
    }
