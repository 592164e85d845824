"""Road segments from a roads layer through its field mapping, and what kind of road each one is.

The kind (motorway, fast arterial, arterial, street, local street, access lane) is read, in this order, from the
mapped road class (OSM `highway`, BD TOPO `NATURE` / `CL_ADMIN`, or any value naming one), the speed limit, and
last from the first word of the name and the length (docs/territory.md, "Road classes"). Traffic turns the kind
into speeds and capacities (traffic_world.py); lighting into the spacing of lamps it places.
"""
from __future__ import annotations

import itertools
import logging
import math
import re
import unicodedata
from dataclasses import dataclass

from .package import Coord, Layer

log = logging.getLogger(__name__)

MOTORWAY, FAST_ARTERIAL, ARTERIAL, STREET, LOCAL_STREET, ACCESS = "motorway", "fast_arterial", "arterial", "street", "local_street", "access"
KINDS = (MOTORWAY, FAST_ARTERIAL, ARTERIAL, STREET, LOCAL_STREET, ACCESS)

# a mapped road-class value (lower case, no accents) -> kind; OSM highway=*, BD TOPO NATURE and CL_ADMIN, plain words
CLASS_VALUES: dict[str, str] = {
    "motorway": MOTORWAY, "motorway_link": FAST_ARTERIAL, "trunk": MOTORWAY, "trunk_link": FAST_ARTERIAL,
    "primary": FAST_ARTERIAL, "primary_link": ARTERIAL, "secondary": ARTERIAL, "secondary_link": ARTERIAL,
    "tertiary": STREET, "tertiary_link": STREET, "residential": LOCAL_STREET, "unclassified": LOCAL_STREET,
    "living_street": LOCAL_STREET, "road": STREET, "service": ACCESS, "track": ACCESS, "pedestrian": ACCESS,
    "busway": ACCESS, "bus_guideway": ACCESS,
    "type autoroutier": MOTORWAY, "autoroute": MOTORWAY, "autoroutier": MOTORWAY, "voie rapide": MOTORWAY,
    "route a 2 chaussees": FAST_ARTERIAL, "nationale": FAST_ARTERIAL, "route nationale": FAST_ARTERIAL,
    "bretelle": ARTERIAL, "rond-point": ARTERIAL, "departementale": ARTERIAL, "route departementale": ARTERIAL,
    "route a 1 chaussee": STREET, "communale": STREET, "voie communale": STREET, "route communale": STREET,
    "route empierree": ACCESS, "chemin": ACCESS, "sentier": ACCESS, "piste cyclable": ACCESS, "escalier": ACCESS,
    "sans objet": LOCAL_STREET, "privee": ACCESS,
}
ONE_WAY = {"yes", "true", "1", "-1", "reverse", "sens unique", "unique", "ft", "tf", "direct", "inverse", "oui"}
TWO_WAY = {"no", "false", "0", "double sens", "double", "both", "b", "deux sens", "non", "bidirectionnel"}
SPEED_WORDS = {"fr:urban": 50.0, "fr:rural": 80.0, "fr:motorway": 130.0, "fr:zone30": 30.0, "fr:walk": 6.0,
               "walk": 6.0, "none": 130.0}
# metres between lamps placed along a road of each kind (0: unlit; motorways are unlit in France but for junctions)
LAMP_SPACING_M = {MOTORWAY: 0.0, FAST_ARTERIAL: 32.0, ARTERIAL: 28.0, STREET: 30.0, LOCAL_STREET: 32.0, ACCESS: 40.0}


@dataclass(frozen=True, slots=True)
class RoadSite:
    """A road segment of the street centre lines."""

    idarc: int
    name: str
    street_code: str
    length_m: float
    coords: tuple[Coord, ...]
    two_way: bool
    ref: str = ""  # the id as the file writes it
    road_class: str = ""  # the mapped road-class value, as written
    speed_kmh: float | None = None
    lanes: int | None = None


def plain(text: object) -> str:
    """Lower case without accents, single spaces."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", t).strip()


def speed_of(value: object) -> float | None:
    """A speed limit in km/h from '50', '50 km/h', '30 mph', 'FR:urban' (None when not understood)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if 0 < value < 200 else None
    t = plain(value)
    if t in SPEED_WORDS:
        return SPEED_WORDS[t]
    m = re.match(r"^(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh)?", t)
    if not m:
        return None
    v = float(m.group(1).replace(",", ".")) * (1.609 if m.group(2) == "mph" else 1.0)
    return v if 0 < v < 200 else None


def lanes_of(value: object) -> int | None:
    """A lane count from '2', 2, '2;3' (the largest) (None when not understood)."""
    if value in (None, ""):
        return None
    nums = [int(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", str(value))]
    return max(nums) if nums and 0 < max(nums) < 20 else None


def two_way_of(value: object, unknown: bool) -> bool:
    """Is a road two-way from its one-way field ('yes', '-1', 'SENS UNIQUE' are one-way; 'no', 'DOUBLE SENS' two-way)?"""
    if value is None:
        return unknown
    if isinstance(value, bool):
        return not value
    t = plain(value)
    if t in ONE_WAY or t.startswith("sens unique"):
        return False
    if t in TWO_WAY or t.startswith("double"):
        return True
    return unknown


def class_kind(value: str) -> str | None:
    """The kind a road-class value names, or None."""
    t = plain(value)
    if not t:
        return None
    if t in CLASS_VALUES:
        return CLASS_VALUES[t]
    for word, kind in CLASS_VALUES.items():
        if " " in word and t.startswith(word):
            return kind
    return None


def speed_kind(speed: float) -> str:
    """The kind a speed limit suggests."""
    if speed >= 110:
        return MOTORWAY
    if speed >= 80:
        return FAST_ARTERIAL
    if speed >= 60:
        return ARTERIAL
    if speed >= 45:
        return STREET
    return LOCAL_STREET if speed >= 25 else ACCESS


def name_kind(name: str, length_m: float) -> str:
    """The fallback: the kind the first word of a French road name and its length suggest."""
    first = name.split()[0].lower() if name.strip() else ""
    if first == "autoroute":
        return MOTORWAY
    if first in ("avenue", "boulevard", "route"):
        return FAST_ARTERIAL if length_m >= 400 else ARTERIAL
    if first in ("quai", "pont", "cours", "rond-point", "carrefour", "grand-rue"):
        return ARTERIAL
    if first in ("rue", "chemin"):
        return STREET if length_m >= 250 else LOCAL_STREET
    return ACCESS


def road_kind(site: RoadSite) -> str:
    """A road's kind: from its mapped class, else its speed limit, else its name and length."""
    return class_kind(site.road_class) or (speed_kind(site.speed_kmh) if site.speed_kmh else None) or name_kind(site.name, site.length_m)


def lamp_spacing_m(site: RoadSite, unlit_motorways: bool = True) -> float:
    """Metres between the lamps placed along this road (0: none)."""
    kind = road_kind(site)
    if kind == MOTORWAY and not unlit_motorways:
        return 50.0
    return LAMP_SPACING_M[kind]


def _length(coords: tuple[Coord, ...]) -> float:
    total = 0.0
    for a, b in itertools.pairwise(coords):
        lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
        h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        total += 2 * 6371000.0 * math.asin(math.sqrt(min(1.0, h)))
    return total


def _number(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def road_key(value: object) -> str:
    """A road id as text, numbers without their decimals (9999.0000 and 9999 are one road)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def road_sites_of(features: list, layer: Layer) -> tuple[RoadSite, ...]:
    """The road segments of a roads layer (WGS84 features): LineStrings, and each part of a MultiLineString."""
    unknown_two_way = bool(layer.options.get("two_way_when_unknown", True))
    rows = []
    for f in features:
        if not isinstance(f, dict):
            continue
        g, p = f.get("geometry") or {}, f.get("properties") or {}
        parts = [g.get("coordinates")] if g.get("type") == "LineString" else g.get("coordinates") or [] if g.get("type") == "MultiLineString" else []
        for part in parts:
            coords = tuple((float(c[0]), float(c[1])) for c in part or () if isinstance(c, (list, tuple)) and len(c) >= 2)
            if len(coords) >= 2:
                rows.append((p, coords, len(parts) > 1))
    raw = [layer.value(p, "id") for p, _, _ in rows]
    keys = [road_key(v) if v is not None else "" for v in raw]
    numeric = all(k.isdigit() and int(k) > 0 for k in keys) and len(set(keys)) == len(keys)
    if keys and not numeric:
        log.info("roads: ids missing, repeated or not whole numbers: segments numbered 1..%d in file order", len(keys))
    out = []
    for n, ((p, coords, _), key) in enumerate(zip(rows, keys)):
        name = layer.value(p, "name")
        length = _number(layer.value(p, "length"))
        out.append(RoadSite(
            idarc=int(key) if numeric else n + 1,
            name=str(name).strip() if name is not None and str(name).strip() else "Voie non dénommée",
            street_code=str(layer.value(p, "street") or ""),
            length_m=length if length is not None and length > 0 else round(_length(coords), 2),
            coords=coords,
            two_way=two_way_of(layer.value(p, "oneway"), unknown_two_way),
            ref=key or str(n + 1),
            road_class=str(layer.value(p, "class") or ""),
            speed_kmh=speed_of(layer.value(p, "speed")),
            lanes=lanes_of(layer.value(p, "lanes")),
        ))
    return tuple(out)
