"""Read NGSI notification bodies (v2 and NGSI-LD, every representation) into plain entities.

Accepted shapes: a notification `{"data": [...]}` (Orion v2, NGSI-LD), one entity (v2
`simplifiedNormalized` / `simplifiedKeyValues`, NGSI-LD `simplified`), a list of entities, a
GeoJSON Feature or FeatureCollection. Attributes may be normalized (v2 `{"type","value","metadata"}`,
NGSI-LD `{"type": "Property"|..., "value"|"object", "unitCode", "observedAt", sub-attributes}`),
concise or keyValues, mixed freely: each attribute is read on its own. Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .vocabulary import inline_terms, short_name

MAX_ENTITIES = 1000
MAX_ATTRIBUTES = 300
LD_KINDS = {
    "Property": "property", "GeoProperty": "geo", "Relationship": "relationship", "LanguageProperty": "property",
    "VocabProperty": "property", "JsonProperty": "property", "ListProperty": "property", "ListRelationship": "relationship",
}
LD_VALUE_KEYS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")
LD_RESERVED = {"type", "value", "object", "unitCode", "observedAt", "datasetId", "createdAt", "modifiedAt", "deletedAt",
               "instanceId", "languageMap", "lang", "vocab", "json", "valueList", "objectList", "objectType", "previousValue",
               "previousObject", "previousLanguageMap", "previousVocab", "previousJson", "previousValueList", "@context"}
ENTITY_SKIP = {"id", "type", "@context", "createdAt", "modifiedAt", "deletedAt", "scope", "observationSpace", "operationSpace",
               "@id", "@type"}
GEO_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}
V2_GEO = {"geo:json", "geo:point", "geo:line", "geo:polygon", "geo:box", "geojson", "geo:jsonld"}
V2_TIME_METADATA = ("dateObserved", "TimeInstant", "timestamp", "observedAt")


class NotificationError(ValueError):
    """A body that is not a notification Vigie can read at all; `reason` is counted, the text says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute: its value, kind, unit code, observation time and sub-attributes (or v2 metadata)."""

    value: Any
    kind: str = "property"  # property | relationship | geo
    unit: str | None = None
    observed_at: Any = None
    subs: Mapping[str, "Attr"] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity as read: id, type (short Smart Data Models name) and attributes by short name."""

    id: str
    type: str
    attrs: Mapping[str, Attr]
    raw: Mapping[str, Any]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An item of a notification that is not an entity; it is refused with this reason."""

    id: str
    type: str
    reason: str
    detail: str


def read_notification(body: Any, *, context: Any = None, attrs_format: str | None = None,
                      max_entities: int = MAX_ENTITIES) -> list[Entity | Unreadable]:
    """Return the entities of a notification body; raise NotificationError when it is not one."""
    fmt = (attrs_format or "").strip().lower() or None
    if fmt == "values" or (isinstance(body, dict) and str(body.get("attrsFormat", "")).lower() == "values"):
        raise NotificationError("no_entity_id", "attrsFormat 'values' carries neither entity ids nor types; "
                                                 "subscribe with 'normalized' or 'keyValues'")
    if isinstance(body, dict) and isinstance(body.get("attrsFormat"), str):
        fmt = fmt or body["attrsFormat"].lower()
    items = _items(body)
    if len(items) > max_entities:
        raise NotificationError("too_many_entities", f"{len(items)} entities in one notification; the limit is {max_entities}")
    if isinstance(body, dict) and "@context" in body and context is None:
        context = body["@context"]
    return [read_entity(item, context=context, attrs_format=fmt) for item in items]


def _items(body: Any) -> list:
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        raise NotificationError("not_a_notification", "the body is neither a JSON object nor a list of entities")
    if "data" in body and ("id" not in body or body.get("type") == "Notification" or "subscriptionId" in body):
        data = body["data"]
        if not isinstance(data, list):
            raise NotificationError("not_a_notification", "'data' must be a list of entities")
        return data
    if body.get("type") == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list):
            raise NotificationError("not_a_notification", "a FeatureCollection needs a 'features' list")
        return features
    if "id" in body or "type" in body:
        return [body]
    raise NotificationError("not_a_notification", "expected a notification {'data': [...]}, an entity or a list of entities")


def read_entity(item: Any, *, context: Any = None, attrs_format: str | None = None) -> Entity | Unreadable:
    """Read one entity (any representation, or a GeoJSON Feature)."""
    if isinstance(item, list):
        return Unreadable("", "", "no_entity_id", "an attribute-values row has no entity id or type")
    if not isinstance(item, dict):
        return Unreadable("", "", "not_an_entity", "an entity must be a JSON object")
    if item.get("type") == "Feature":
        item = _feature(item)
    raw_id, raw_type = item.get("id", item.get("@id")), item.get("type", item.get("@type"))
    if isinstance(raw_type, list) and raw_type and all(isinstance(t, str) for t in raw_type):
        raw_type = raw_type[0]
    eid = raw_id if isinstance(raw_id, str) else ""
    if not eid:
        return Unreadable("", str(raw_type)[:64] if isinstance(raw_type, str) else "", "missing_id", "the entity has no string 'id'")
    if not isinstance(raw_type, str) or not raw_type:
        return Unreadable(eid[:128], "", "missing_type", "the entity has no string 'type'")
    inline = inline_terms(item.get("@context", context)) if item.get("@context", context) is not None else {}
    if len(item) > MAX_ATTRIBUTES:
        return Unreadable(eid[:128], raw_type[:64], "too_many_attributes", f"{len(item)} attributes; the limit is {MAX_ATTRIBUTES}")
    attrs: dict[str, Attr] = {}
    for name, raw in item.items():
        if name in ENTITY_SKIP:
            continue
        attrs[short_name(name, inline)] = read_attr(raw, attrs_format)
    return Entity(eid, short_name(raw_type, inline), attrs, item, deleted="deletedAt" in item)


def _feature(item: dict) -> dict:
    props = item.get("properties")
    out = dict(props) if isinstance(props, dict) else {}
    out["id"] = item.get("id", out.get("id"))
    geometry = item.get("geometry")
    if isinstance(geometry, dict) and "location" not in out:
        out["location"] = geometry.get("value", geometry) if geometry.get("type") == "GeoProperty" else geometry
    return out


def read_attr(raw: Any, attrs_format: str | None = None, depth: int = 0) -> Attr:
    """Read one attribute in whatever representation it came."""
    if attrs_format in ("keyvalues", "simplifiedkeyvalues", "simplified") or not isinstance(raw, dict) or depth > 3:
        return Attr(raw, "geo" if _is_geojson(raw) else "property")
    kind = raw.get("type")
    if isinstance(kind, str) and kind in LD_KINDS:
        return _ld_attr(raw, LD_KINDS[kind], depth)
    if "object" in raw or "objectList" in raw:
        return _ld_attr(raw, "relationship", depth)
    if "value" in raw and (isinstance(kind, str) or "metadata" in raw):
        return _v2_attr(raw, depth)
    if any(k in raw for k in ("value", "languageMap", "vocab", "json", "valueList")) and not _is_geojson(raw):
        return _ld_attr(raw, "property", depth)  # NGSI-LD concise
    return Attr(raw, "geo" if _is_geojson(raw) else "property")


def _is_geojson(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("type") in GEO_TYPES and "coordinates" in raw


def _ld_attr(raw: dict, kind: str, depth: int) -> Attr:
    value = next((raw[k] for k in LD_VALUE_KEYS if k in raw), None)
    if isinstance(value, dict) and "languageMap" in raw:
        value = next(iter(value.values()), None) if value else None
    subs = {short_name(k): read_attr(v, None, depth + 1) for k, v in raw.items()
            if k not in LD_RESERVED and k != "metadata" and isinstance(k, str)}
    unit = raw.get("unitCode") if isinstance(raw.get("unitCode"), str) else None
    observed = raw.get("observedAt")
    meta = _metadata(raw)  # Orion-LD's x-ngsiv2-normalized: NGSI-LD attribute types with v2 `metadata`
    if meta:
        subs = {**meta, **subs}
        unit = unit or _meta_text(meta, "unitCode")
        observed = observed or next((meta[k].value for k in V2_TIME_METADATA if k in meta), None)
    if kind == "property" and _is_geojson(value):
        kind = "geo"
    return Attr(value, kind, unit, observed, subs)


def _metadata(raw: dict) -> dict[str, Attr]:
    """NGSIv2 metadata `{name: {"type", "value"}}` as sub-attributes (at most 32); a `Relationship`-typed one is a
    relationship (FIWARE's convention for v2 references, as IoT Agents write `providedBy`)."""
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return {str(k): Attr(m.get("value"), "relationship" if m.get("type") == "Relationship" else "property") if isinstance(m, dict)
            else Attr(m) for k, m in list(meta.items())[:32]}


def _meta_text(meta: Mapping[str, Attr], key: str) -> str | None:
    value = meta[key].value if key in meta else None
    return value if isinstance(value, str) else None


def _v2_attr(raw: dict, depth: int) -> Attr:
    v2type = str(raw.get("type") or "")
    subs = _metadata(raw)
    unit = _meta_text(subs, "unitCode")
    if unit is None and v2type.lower() in ("percentage", "percent"):
        unit = "P1"
    observed = next((subs[k].value for k in V2_TIME_METADATA if k in subs), None)
    value = raw.get("value")
    if v2type.lower() in V2_GEO:
        return Attr(_v2_geo(v2type.lower(), value), "geo", unit, observed, subs)
    kind = "relationship" if v2type in ("Relationship", "Reference") else "property"
    return Attr(value, kind, unit, observed, subs)


def _v2_geo(v2type: str, value: Any) -> Any:
    """NGSIv2 simple location formats ("lat, lon" strings) as GeoJSON; geo:json passes through."""
    if v2type in ("geo:json", "geojson", "geo:jsonld") or not isinstance(value, (str, list)):
        return value
    points = value if isinstance(value, list) else [value]
    try:
        coords = [[float(p.split(",")[1]), float(p.split(",")[0])] for p in points if isinstance(p, str)]
    except (IndexError, ValueError):
        return None
    if v2type == "geo:point" and len(coords) == 1:
        return {"type": "Point", "coordinates": coords[0]}
    if v2type == "geo:line" and len(coords) >= 2:
        return {"type": "LineString", "coordinates": coords}
    if v2type == "geo:polygon" and len(coords) >= 4:
        return {"type": "Polygon", "coordinates": [coords]}
    if v2type == "geo:box" and len(coords) == 2:
        (x0, y0), (x1, y1) = coords
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    return None


def scalar(attr: Attr) -> tuple[Any, str | None]:
    """The attribute's plain value and unit, unwrapping EPANET's `{"value": x, "observedBy": ...}` and nested properties."""
    value, unit = attr.value, attr.unit
    for _ in range(3):
        if isinstance(value, dict) and "value" in value and not _is_geojson(value):
            inner_unit = value.get("unitCode")
            unit = inner_unit if isinstance(inner_unit, str) else unit
            value = value["value"]
        elif isinstance(value, dict) and "@value" in value:
            value = value["@value"]
        else:
            break
    return value, unit
