"""`territory new`: a territory package from the raw files a city has, its field mapping guessed from the names.

The files are copied as they are (their CRS is read from them, else declared with `--crs layer=EPSG:n`); the
manifest says which attribute is what, guessed from common names (OSM `highway`/`maxspeed`/`lanes`/`oneway`,
French open data `NOM`/`LIB_OFF`/`SENS_CIRCU`/`NATURE`/`VITESSE`/`NB_VOIES`...) unless a `--map layer.field=ATTR`
flag says otherwise. What was found and guessed is reported line by line.
"""
from __future__ import annotations

import csv
import json
import math
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .package import (
    DOMAINS,
    LAYERS,
    MANIFEST,
    TerritoryError,
    crs_code,
    file_crs,
    first_xy,
    short_code,
)

# layer -> field -> attribute names tried in order (exact, then ignoring case)
CANDIDATES: dict[str, dict[str, tuple[str, ...]]] = {
    "roads": {
        "id": ("IDARC", "osm_id", "@id", "id", "ID", "cleabs", "ID_TRONCON", "id_troncon", "identifiant", "OBJECTID", "gid", "fid"),
        "name": ("LIB_OFF", "name", "nom", "NOM", "NOM_VOIE", "nom_voie", "NOM_1_G", "libelle", "LIBELLE", "NOMVOI", "nom_rue"),
        "street": ("CODE_VOIE", "code_voie", "ID_VOIE", "id_voie", "RIVOLI", "rivoli"),
        "length": ("LEN", "LONGUEUR", "length", "longueur", "SHAPE_Length", "shape_len"),
        "oneway": ("SENS_CIRCU", "oneway", "SENS", "sens", "sens_circu", "sens_circulation"),
        "class": ("highway", "NATURE", "nature", "CL_ADMIN", "cl_admin", "fclass", "road_class", "classe", "CLASSE"),
        "speed": ("maxspeed", "VITESSE", "vitesse", "vitesse_max", "VIT_MAX", "VLEGALE", "speed", "max_speed"),
        "lanes": ("lanes", "NB_VOIES", "nb_voies", "nombre_voies", "voies"),
    },
    "cabinets": {"name": ("nom", "NOM", "name", "libelle", "LIBELLE", "armoire", "ARMOIRE", "code", "CODE")},
    "lamps": {"kind": ("type_lante", "type_lanterne", "TYPE", "type", "nature", "NATURE", "lamp_type")},
    "junctions": {"name": ("CAR_LIEU", "name", "nom", "NOM", "libelle", "LIBELLE", "lieu"), "year": ("CAR_ANNEE", "annee", "ANNEE", "year")},
    "counts": {"road": ("IDENTSIG", "IDARC", "id_troncon", "troncon", "road", "road_id", "osm_id"),
               "daily": ("TJM", "TMJA", "tmja", "tjm", "daily", "mjo", "tv"), "year": ("ANNEE", "annee", "year")},
    "districts": {"name": ("LIBQUART", "nom", "NOM", "name", "libelle", "LIBELLE", "quartier", "nom_quartier")},
    "communes": {"name": ("nom", "NOM", "name", "NOM_COM", "nom_com", "libelle"),
                 "code": ("code", "INSEE_COM", "insee", "code_insee", "CODE_INSEE", "INSEE", "ref:INSEE")},
    "boundary": {"name": ("nom", "NOM", "name")},
}
REQUIRED_FIELDS = {"counts": ("road", "daily")}
MULTI = {("roads", "name"), ("roads", "length")}  # fields that keep the second name found too (first non-empty wins)
GEOMETRY = {"roads": ("LineString", "MultiLineString"), "lamps": ("Point",), "junctions": ("Point",), "cabinets": ("Point",),
            "boundary": ("Polygon", "MultiPolygon"), "communes": ("Polygon", "MultiPolygon"), "districts": ("Polygon", "MultiPolygon")}


@dataclass
class Built:
    """What `territory new` did: the package folder, what it found and guessed, and the asset counts."""

    folder: Path
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def slug(name: str) -> str:
    """A lower-case ascii id from a name ('Saint-Jean-de-Védas' -> 'saint-jean-de-vedas')."""
    t = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-") or "territoire"


def attributes(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict], str | None, dict]:
    """A GeoJSON file's attribute names (in first-seen order), up to 500 features' properties, its CRS, the document."""
    try:
        doc = json.loads(path.read_text(encoding=encoding))
    except FileNotFoundError:
        raise TerritoryError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TerritoryError(f"{path}: unreadable GeoJSON: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise TerritoryError(f"{path}: a GeoJSON FeatureCollection is expected")
    props = [f.get("properties") or {} for f in doc["features"][:500] if isinstance(f, dict)]
    names = list(dict.fromkeys(k for p in props for k in p))
    return names, props, file_crs(doc), doc


def csv_columns(path: Path) -> tuple[list[str], str]:
    """A CSV file's column names (dBase suffixes such as 'TJM,N,19,8' cut) and the encoding that reads it."""
    for encoding in ("utf-8", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as fh:
                header = next(csv.reader(fh), [])
                fh.read()
            return [h.split(",")[0].strip() for h in header], encoding
        except UnicodeDecodeError:
            continue
        except FileNotFoundError:
            raise TerritoryError(f"{path}: no such file") from None
    raise TerritoryError(f"{path}: neither UTF-8 nor Latin-1")


def guess(layer: str, names: list[str]) -> dict[str, object]:
    """The field mapping of a layer guessed from its attribute names."""
    lower = {n.lower(): n for n in names}
    out: dict[str, object] = {}
    for fld, cands in CANDIDATES.get(layer, {}).items():
        found = [c for c in cands if c in names] or [lower[c.lower()] for c in cands if c.lower() in lower]
        found = list(dict.fromkeys(found))
        if found:
            out[fld] = found[:2] if (layer, fld) in MULTI and len(found) > 1 else found[0]
    return out


def _two_way_unknown(props: list[dict], attr: str) -> bool:
    """Unknown one-way values: two-way (OSM's rule), unless the file spells out its two-way roads ('DOUBLE SENS')."""
    values = {str(p.get(attr) or "").strip().lower() for p in props}
    return not any(v.startswith("double") or v == "no" for v in values)


def _looks_projected(doc: dict) -> tuple[float, float] | None:
    xy = next((p for p in (first_xy(f.get("geometry")) for f in doc["features"] if isinstance(f, dict)) if p), None)
    return xy if xy is not None and (abs(xy[0]) > 180 or abs(xy[1]) > 90) else None


def build_package(name: str, files: dict[str, Path], out: Path, *, territory_id: str | None = None, timezone: str = "Europe/Paris",
                  language: str = "fr", crs: dict[str, str] | None = None, mapping: dict[str, dict[str, str]] | None = None,
                  attribution: str = "", force: bool = False) -> Built:
    """Write a package: copy the files, guess and override the field mapping, write the manifest and supervisors."""
    crs, mapping = crs or {}, mapping or {}
    if "roads" not in files:
        raise TerritoryError("--roads is required: a GeoJSON file of road centre lines")
    for key in list(crs) + list(mapping):
        if key not in LAYERS:
            raise TerritoryError(f"{key}: not a layer (one of {', '.join(LAYERS)})")
    if out.exists() and any(out.iterdir()) and not force:
        raise TerritoryError(f"{out}: not empty (choose another --out, or --force to write over it)")
    tid = territory_id or slug(name)
    built = Built(out)
    layers: dict[str, dict] = {}
    for key in LAYERS:
        src = files.get(key)
        if src is None:
            if key in ("boundary", "communes", "districts", "lamps", "cabinets", "junctions", "counts"):
                built.lines.append(f"{key}: none given{_without(key)}")
            continue
        spec: dict[str, object] = {"file": src.name}
        if key == "counts":
            names, encoding = csv_columns(src)
            if encoding != "utf-8":
                spec["encoding"] = encoding
            props: list[dict] = []
            built.lines.append(f"{key}: {src.name}, CSV ({encoding}), columns {', '.join(names[:12])}{'…' if len(names) > 12 else ''}")
        else:
            names, props, said, doc = attributes(src)
            declared = crs_code(crs[key]) if key in crs else None
            if said is None and declared is None and _looks_projected(doc):
                xy = _looks_projected(doc)
                raise TerritoryError(f"{src}: coordinates {xy[0]:.0f}, {xy[1]:.0f} are not degrees and the file names no CRS: "
                                     f"say which with --crs {key}=EPSG:<code>")
            if declared and not said:
                spec["crs"] = declared
            kinds = sorted({(f.get("geometry") or {}).get("type") for f in doc["features"] if isinstance(f, dict) and f.get("geometry")})
            wrong = [k for k in kinds if k not in GEOMETRY.get(key, (k,))]
            if wrong:
                built.lines.append(f"{key}: warning: geometries {', '.join(wrong)} are not used here (expected {', '.join(GEOMETRY[key])})")
            built.lines.append(f"{key}: {src.name}, {len(doc['features'])} features ({', '.join(kinds) or 'no geometry'}), "
                               f"CRS {said or declared or 'EPSG:4326'} ({'from the file' if said else 'declared' if declared else 'assumed: degrees'})")
        fields = guess(key, names)
        for fld, attr in (mapping.get(key) or {}).items():
            if attr not in names:
                raise TerritoryError(f"--map {key}.{fld}={attr}: {src.name} has no attribute {attr!r} (it has {', '.join(names[:20])})")
            fields[fld] = attr
        for fld, attr in fields.items():
            how = "given" if fld in (mapping.get(key) or {}) else "guessed"
            built.lines.append(f"  {key}.{fld} = {attr if isinstance(attr, str) else ' then '.join(attr)} ({how})")
        for fld in CANDIDATES.get(key, {}):
            if fld not in fields:
                built.lines.append(f"  {key}.{fld}: not found{_fallback(key, fld)}")
        for fld in REQUIRED_FIELDS.get(key, ()):
            if fld not in fields:
                raise TerritoryError(f"{src}: no column for {key}.{fld}: say which with --map {key}.{fld}=<column>")
        if fields:
            spec["fields"] = fields
        if key == "roads" and "oneway" in fields:
            attr = fields["oneway"] if isinstance(fields["oneway"], str) else fields["oneway"][0]
            spec["two_way_when_unknown"] = _two_way_unknown(props, attr)
        layers[key] = spec
    out.mkdir(parents=True, exist_ok=True)
    for key, src in files.items():
        if src.resolve() != (out / src.name).resolve():
            shutil.copyfile(src, out / src.name)
    code = short_code(tid)
    sups = {d: {"id": f"{p}-{code}", "name": f"{label} {_de(name)}"} for d, p, label in
            zip(DOMAINS, ("lum", "eau", "trafic"), ("Éclairage public", "Réseau d'eau", "Trafic routier"))}
    manifest = {"format": 1, "id": tid, "name": name, "timezone": timezone, "language": language, "supervisors": sups,
                "layers": layers, "attribution": attribution}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    built.counts = asset_counts(str(out))
    from .package import load_territory

    t = load_territory(str(out))
    manifest = {**manifest, "latitude": t.latitude, "longitude": t.longitude}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    limits = {"lighting": built.counts["lamps"] + built.counts["cabinets"], "water": built.counts["water assets"],
              "traffic": built.counts["road segments"] + built.counts["signals"]}
    lines = ["# The supervisors of this territory (docs/feed-protocol.md, \"Supervisor identity\"), written by `territory new`.",
             "supervisors:"]
    for d in DOMAINS:
        most = max(1000, math.ceil(limits[d] * 1.3 / 1000.0) * 1000)
        lines += [f"  - id: {sups[d]['id']}", f"    domain: {d}", f"    max_assets: {most}", f"    name: \"{sups[d]['name']}\""]
    (out / "supervisors.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    built.lines.append(f"supervisors: {', '.join(s['id'] for s in sups.values())}")
    built.lines.append(f"view: centre {t.center[0]:.5f}, {t.center[1]:.5f}, zoom {t.zoom} (computed from the data)")
    return built


def _de(name: str) -> str:
    return f"d'{name}" if name[:1].lower() in "aeiouyéèêàâîôûh" else f"de {name}"


def _without(key: str) -> str:
    return {
        "boundary": " (the communes, else the roads' extent, stand for it)",
        "communes": " (the boundary, else one area over the roads, stands for them)",
        "districts": " (the communes stand for them)",
        "lamps": " (lamps are placed along the roads by road class, marked simulated)",
        "cabinets": " (lamps are grouped into cabinets of about 37, marked simulated)",
        "junctions": " (no traffic signals)",
        "counts": " (daily traffic estimated by road class)",
    }.get(key, "")


def _fallback(key: str, fld: str) -> str:
    return {
        ("roads", "id"): " (segments numbered in file order)",
        ("roads", "name"): " (\"Voie non dénommée\")",
        ("roads", "length"): " (measured on the geometry)",
        ("roads", "oneway"): " (two-way)",
        ("roads", "class"): " (road class from the speed limit, else the name)",
        ("roads", "speed"): " (speed from the road class)",
        ("roads", "lanes"): " (capacity from the road class)",
        ("lamps", "kind"): " (lanterns)",
    }.get((key, fld), "")


def asset_counts(territory: str) -> dict[str, int]:
    """Build the three simulators' worlds of a package and count their assets (the package's proof of life)."""
    from services.simulators.lighting_world import build_world as lighting_world
    from services.simulators.traffic_world import build_world as traffic_world
    from services.simulators.water_model import network_assets
    from services.simulators.water_network import build_network

    from .geo import lamp_sites

    lw, tw, net = lighting_world(territory), traffic_world(territory), build_network(territory, 0)
    return {
        "lamps": len(lw.lamp_ids), "lamps placed (synthetic)": sum(1 for s in lamp_sites(territory) if s.synthetic),
        "cabinets": len(lw.cabinet_ids), "lighting groups": len(lw.group_ids),
        "road segments": len(tw.segments), "signals": len(tw.junctions),
        "water assets": len(network_assets(net)), "pipes": len(net.pipes), "pumps": len(net.pumps),
        "reservoirs": len(net.reservoirs), "valves": len(net.valves), "water sensors": len(net.sensors),
    }
