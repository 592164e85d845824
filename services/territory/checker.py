"""`territory check`: every problem of a territory package, named by file and field, before anything starts."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .builder import GEOMETRY
from .package import (
    DOMAINS,
    LAYERS,
    MANIFEST,
    TerritoryError,
    all_xy,
    crs_code,
    file_crs,
    transformer,
)

SUPERVISOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LANGUAGES = ("fr", "en")


@dataclass
class Report:
    """Errors (the package cannot run) and warnings (it runs, with something derived or left out)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_package(folder: Path) -> Report:
    """Check a package: manifest, every layer's file, CRS, geometries and mapped fields, then build the worlds."""
    r = Report()
    path = folder / MANIFEST
    if not folder.is_dir():
        r.errors.append(f"{folder}: no such folder")
        return r
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        r.errors.append(f"{path}: missing (every territory package has a manifest)")
        return r
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        r.errors.append(f"{path}: not valid JSON: {err}")
        return r
    if not isinstance(doc, dict):
        r.errors.append(f"{path}: a JSON object is expected")
        return r
    _manifest(doc, path, r)
    layers = doc.get("layers") if isinstance(doc.get("layers"), dict) else {}
    if "roads" not in layers:
        r.errors.append(f"{path}: layers.roads: missing (roads are required)")
    for key, spec in layers.items():
        if key not in LAYERS:
            r.errors.append(f"{path}: layers.{key}: unknown layer (one of {', '.join(LAYERS)})")
            continue
        spec = {"file": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            r.errors.append(f"{path}: layers.{key}.file: a file name is required")
            continue
        if key == "counts":
            _counts(folder, spec, r)
        elif key != "water":
            _geojson(folder, key, spec, r)
    for key in ("communes", "districts", "lamps", "junctions", "counts"):
        if key not in layers:
            r.warnings.append(f"{path}: layers.{key}: none ({_absent(key)})")
    if r.ok:
        _worlds(folder, r)
    return r


def _manifest(doc: dict, path: Path, r: Report) -> None:
    for key in ("id", "name", "timezone"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            r.errors.append(f"{path}: {key}: required (text)")
    if isinstance(doc.get("timezone"), str) and doc["timezone"]:
        try:
            ZoneInfo(doc["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            r.errors.append(f"{path}: timezone: {doc['timezone']!r} is not a time zone (e.g. Europe/Paris)")
    if doc.get("language", "fr") not in LANGUAGES:
        r.errors.append(f"{path}: language: {doc.get('language')!r}, one of {', '.join(LANGUAGES)}")
    for key, lo, hi in (("latitude", -90, 90), ("longitude", -180, 180)):
        if key in doc and not (isinstance(doc[key], (int, float)) and lo <= doc[key] <= hi):
            r.errors.append(f"{path}: {key}: {doc[key]!r} is not between {lo} and {hi}")
    sups = doc.get("supervisors") or {}
    if not isinstance(sups, dict):
        r.errors.append(f"{path}: supervisors: an object per domain ({', '.join(DOMAINS)}) is expected")
        return
    seen = []
    for d, s in sups.items():
        sid = s.get("id") if isinstance(s, dict) else s
        if d not in DOMAINS:
            r.errors.append(f"{path}: supervisors.{d}: unknown domain (one of {', '.join(DOMAINS)})")
        elif not isinstance(sid, str) or not SUPERVISOR_ID.match(sid):
            r.errors.append(f"{path}: supervisors.{d}.id: {sid!r}, letters, digits, - and _ only (64 at most)")
        else:
            seen.append(sid)
    if len(seen) != len(set(seen)):
        r.errors.append(f"{path}: supervisors: two domains have the same id")
    for d in DOMAINS:
        if d not in sups:
            r.warnings.append(f"{path}: supervisors.{d}: none (the simulator is named after the id)")


def _geojson(folder: Path, key: str, spec: dict, r: Report) -> None:
    path = folder / spec["file"]
    try:
        doc = json.loads(path.read_text(encoding=spec.get("encoding", "utf-8")))
    except FileNotFoundError:
        r.errors.append(f"{path}: missing (layers.{key}.file)")
        return
    except (OSError, UnicodeDecodeError, LookupError, json.JSONDecodeError) as err:
        r.errors.append(f"{path}: not readable GeoJSON (layers.{key}): {err}")
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        r.errors.append(f"{path}: not a GeoJSON FeatureCollection (layers.{key})")
        return
    try:
        said, declared = file_crs(doc), crs_code(spec.get("crs"))
        crs = said or declared or "EPSG:4326"
        convert = transformer(crs)
    except TerritoryError as err:
        r.errors.append(f"{path}: layers.{key}.crs: {err}")
        return
    features = [f for f in doc["features"] if isinstance(f, dict)]
    allowed = GEOMETRY.get(key, ())
    kinds = {}
    for f in features:
        kind = (f.get("geometry") or {}).get("type")
        kinds[kind] = kinds.get(kind, 0) + 1
    usable = sum(n for k, n in kinds.items() if k in allowed)
    if not usable:
        r.errors.append(f"{path}: no {' or '.join(allowed)} among its {len(features)} features (layers.{key})")
        return
    if usable < len(features):
        r.warnings.append(f"{path}: {len(features) - usable} of {len(features)} features have no {' or '.join(allowed)} geometry and are left out")
    bad = 0
    for f in features[:2000]:
        for x, y in all_xy(f.get("geometry"))[:3]:
            lon, lat = convert(x, y)
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                bad += 1
    if bad:
        hint = f"the file says {said}" if said else f"declared {declared}" if declared else "no CRS said, degrees assumed"
        r.errors.append(f"{path}: coordinates are not places on Earth once read as {crs} ({hint}): set layers.{key}.crs to the file's EPSG code")
    names = {k for f in features[:2000] for k in (f.get("properties") or {})}
    for fld, attrs in (spec.get("fields") or {}).items():
        for attr in [attrs] if isinstance(attrs, str) else attrs:
            if attr not in names:
                r.errors.append(f"{path}: layers.{key}.fields.{fld}: attribute {attr!r} is in no feature (it has {', '.join(sorted(names)[:15])})")
    if key == "roads":
        ids = spec.get("fields", {}).get("id")
        if isinstance(ids, str):
            values = [(f.get("properties") or {}).get(ids) for f in features]
            if len(set(map(str, values))) < len(values):
                r.warnings.append(f"{path}: layers.roads.fields.id: {ids!r} repeats or is missing: segments are numbered in file order")


def _counts(folder: Path, spec: dict, r: Report) -> None:
    path = folder / spec["file"]
    try:
        with open(path, encoding=spec.get("encoding", "utf-8"), newline="") as fh:
            header = [h.split(",")[0].strip() for h in next(csv.reader(fh), [])]
            rows = sum(1 for _ in fh)
    except FileNotFoundError:
        r.errors.append(f"{path}: missing (layers.counts.file)")
        return
    except (OSError, UnicodeDecodeError, LookupError) as err:
        r.errors.append(f"{path}: unreadable as {spec.get('encoding', 'utf-8')} (layers.counts.encoding): {err}")
        return
    fields = spec.get("fields") or {}
    for fld, default in (("road", "IDENTSIG"), ("daily", "TJM")):
        col = fields.get(fld, default)
        if col not in header:
            r.errors.append(f"{path}: layers.counts.fields.{fld}: column {col!r} missing (columns: {', '.join(header[:15])})")
    if not rows:
        r.warnings.append(f"{path}: no rows")


def _absent(key: str) -> str:
    return {"communes": "the boundary, else one area over the roads, stands for them", "districts": "the communes stand for them",
            "lamps": "lamps are placed along the roads, marked simulated", "junctions": "no traffic signals",
            "counts": "daily traffic estimated by road class"}[key]


def _worlds(folder: Path, r: Report) -> None:
    """Build the three worlds: whatever still fails is reported with its reason."""
    from .builder import asset_counts

    try:
        counts = asset_counts(str(folder))
    except (TerritoryError, ValueError, KeyError, IndexError, ZeroDivisionError) as err:
        r.errors.append(f"{folder}: the simulators cannot be built: {err}")
        return
    r.warnings.extend(f"{folder}: {k}: {v}" for k, v in counts.items() if v == 0 and k != "lamps placed (synthetic)")
