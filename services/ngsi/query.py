"""NGSI-LD query parameters: `q` on simple attributes, `georel` near / within / intersects / disjoint, paging."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from .geometry import Coord, bbox_of, distance_m, in_polygon, polygon_rings, representative_point

MAX_Q = 1000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
EARTH_M_PER_DEG = 111_320.0
Predicate = Callable[[dict], bool]


class QueryError(ValueError):
    """A query Vigie refuses; `kind` is the NGSI-LD problem type (BadRequestData, OperationNotSupported)."""

    def __init__(self, message: str, kind: str = "BadRequestData") -> None:
        super().__init__(message)
        self.kind = kind


# --- q -------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|~=|!~=|>|<)|(?P<punct>[;|()!])|'
                    r'(?P<word>[^\s;|()=!<>~"]+))')
_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_q(text: str) -> Predicate:
    """Compile a `q` expression (`a==1;b>2|(c!="x")`, values `1..5` and `a,b`) into a predicate on keyValues entities."""
    if len(text) > MAX_Q:
        raise QueryError(f"q is longer than {MAX_Q} characters")
    tokens = _tokenize(text)
    pos, pred = _or(tokens, 0)
    if pos != len(tokens):
        raise QueryError(f"q: unexpected {tokens[pos][1]!r}")
    return pred


def _tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"q: cannot read {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind).strip()))
        pos = m.end()
    return out


def _or(tokens: list, pos: int) -> tuple[int, Predicate]:
    pos, left = _and(tokens, pos)
    parts = [left]
    while pos < len(tokens) and tokens[pos] == ("punct", "|"):
        pos, right = _and(tokens, pos + 1)
        parts.append(right)
    return pos, parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))


def _and(tokens: list, pos: int) -> tuple[int, Predicate]:
    pos, left = _atom(tokens, pos)
    parts = [left]
    while pos < len(tokens) and tokens[pos] == ("punct", ";"):
        pos, right = _atom(tokens, pos + 1)
        parts.append(right)
    return pos, parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))


def _atom(tokens: list, pos: int) -> tuple[int, Predicate]:
    if pos >= len(tokens):
        raise QueryError("q ends too early")
    if tokens[pos] == ("punct", "("):
        pos, inner = _or(tokens, pos + 1)
        if pos >= len(tokens) or tokens[pos] != ("punct", ")"):
            raise QueryError("q: missing ')'")
        return pos + 1, inner
    negate = tokens[pos] == ("punct", "!")
    if negate:
        pos += 1
    if pos >= len(tokens) or tokens[pos][0] != "word" or not _ATTR.match(tokens[pos][1]):
        raise QueryError("q: expected an attribute name (simple attributes only)")
    attr = tokens[pos][1]
    pos += 1
    if pos < len(tokens) and tokens[pos][0] == "op":
        op = tokens[pos][1]
        if op in ("~=", "!~="):
            raise QueryError("q: pattern matching (~=) is not supported", "OperationNotSupported")
        if pos + 1 >= len(tokens) or tokens[pos + 1][0] not in ("word", "str"):
            raise QueryError(f"q: a value is expected after {attr}{op}")
        return pos + 2, _comparison(attr, op, tokens[pos + 1])
    return pos, (lambda e: attr not in e) if negate else (lambda e: attr in e)


def _value(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "str":
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _comparison(attr: str, op: str, token: tuple[str, str]) -> Predicate:
    text = token[1]
    if token[0] == "word" and ".." in text and op in ("==", "!="):
        lo, _, hi = text.partition("..")
        low, high = _value(("word", lo)), _value(("word", hi))
        inside = lambda v: _ordered(v, low) and _ordered(v, high) and low <= v <= high  # noqa: E731
        return _on(attr, (lambda v: inside(v)) if op == "==" else (lambda v: not inside(v)))
    if token[0] == "word" and "," in text and op in ("==", "!="):
        choices = [_value(("word", part)) for part in text.split(",")]
        return _on(attr, (lambda v: v in choices) if op == "==" else (lambda v: v not in choices))
    target = _value(token)
    compare = {"==": lambda v: v == target, "!=": lambda v: v != target,
               ">": lambda v: _ordered(v, target) and v > target, ">=": lambda v: _ordered(v, target) and v >= target,
               "<": lambda v: _ordered(v, target) and v < target, "<=": lambda v: _ordered(v, target) and v <= target}[op]
    return _on(attr, compare)


def _ordered(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and not isinstance(a, bool) and isinstance(b, numbers)) or (isinstance(a, str) and isinstance(b, str))


def _on(attr: str, test: Callable[[Any], bool]) -> Predicate:
    def predicate(entity: dict) -> bool:
        if attr not in entity:
            return False
        value = entity[attr]
        if isinstance(value, dict) and "value" in value:  # EPANET's {"value": x}
            value = value["value"]
        if isinstance(value, list):
            return any(test(v) for v in value)
        return test(value)
    return predicate


# --- geo -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """A geo-query on `location`, with a bounding box to narrow the search first."""

    test: Callable[[Coord], bool]
    bbox: tuple[float, float, float, float] | None  # None: cannot narrow (disjoint)


def parse_geo(georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None) -> GeoQuery | None:
    """Read georel/geometry/coordinates; None when no geo-query was asked."""
    if not georel and not geometry and not coordinates:
        return None
    if not (georel and geometry and coordinates):
        raise QueryError("a geo-query needs georel, geometry and coordinates together")
    if geoproperty not in (None, "", "location"):
        raise QueryError("only geoproperty=location is supported", "OperationNotSupported")
    try:
        coords = json.loads(coordinates)
    except ValueError as err:
        raise QueryError("coordinates must be a JSON array, e.g. [3.87,43.61]") from err
    rel, _, modifier = georel.partition(";")
    if rel == "near":
        return _near(geometry, coords, modifier)
    if rel in ("within", "intersects", "disjoint"):
        if geometry != "Polygon":
            raise QueryError(f"georel={rel} needs geometry=Polygon")
        rings = polygon_rings(coords)
        if rings is None:
            raise QueryError("Polygon coordinates must be closed rings of 4 to 1,000 [lon,lat] points")
        inside = lambda p: in_polygon(p, rings)  # noqa: E731 - a point is within a polygon iff it intersects it
        return GeoQuery((lambda p: not inside(p)) if rel == "disjoint" else inside, None if rel == "disjoint" else bbox_of(rings))
    raise QueryError(f"georel {rel[:20]!r} is not supported (near, within, intersects, disjoint)", "OperationNotSupported")


def _near(geometry: str, coords: Any, modifier: str) -> GeoQuery:
    if geometry != "Point" or not (isinstance(coords, list) and len(coords) == 2 and all(isinstance(c, (int, float)) for c in coords)):
        raise QueryError("georel=near needs geometry=Point and coordinates=[lon,lat]")
    lon, lat = float(coords[0]), float(coords[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise QueryError("coordinates out of range: [lon,lat] with -180..180, -90..90")
    m = re.fullmatch(r"(maxDistance|minDistance)==(\d+(?:\.\d+)?)", modifier)
    if m is None:
        raise QueryError("georel=near needs maxDistance==<metres> or minDistance==<metres>")
    metres = float(m.group(2))
    centre = (lon, lat)
    if m.group(1) == "minDistance":
        return GeoQuery(lambda p: distance_m(centre, p) >= metres, None)
    dlat = metres / EARTH_M_PER_DEG
    dlon = dlat / max(0.01, abs(math.cos(math.radians(lat))))
    return GeoQuery(lambda p: distance_m(centre, p) <= metres, (lon - dlon, lat - dlat, lon + dlon, lat + dlat))


def matches_geo(entity: dict, geo: GeoQuery) -> bool:
    """Does the entity's location (a point, or a line's middle vertex) satisfy the geo-query?"""
    point = representative_point(entity.get("location"))
    return point is not None and geo.test(point)


# --- paging --------------------------------------------------------------------------------


def paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    """(limit, offset), limit 0..1000 (0: only count), default 20."""
    try:
        lim = DEFAULT_LIMIT if limit in (None, "") else int(limit)
        off = 0 if offset in (None, "") else int(offset)
    except ValueError as err:
        raise QueryError("limit and offset must be integers") from err
    if not 0 <= lim <= MAX_LIMIT:
        raise QueryError(f"limit must be between 0 and {MAX_LIMIT}", "TooManyResults" if lim > MAX_LIMIT else "BadRequestData")
    if off < 0:
        raise QueryError("offset must be 0 or more")
    return lim, off
