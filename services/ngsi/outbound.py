"""Vigie's assets as FIWARE Smart Data Models entities, active alarms as `Alert`s with their lifecycle.

Each entity is built once in the keyValues representation (what the official JSON Schemas
describe) with the unit code of each number; `normalized()` derives the NGSI-LD normalized form.
What Vigie adds (condition, supervisor, control mode, alarm state, relations and properties
without a Smart Data Models home) are extension attributes in Vigie's own `@context` terms.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from .units import UNITS, iso
from .vocabulary import context_for

AreaLookup = Callable[[str], "dict | None"]  # area id (district-5, commune-34172) -> GeoJSON geometry

SDM_TYPE = {
    "Streetlight": "Streetlight", "StreetlightControlCabinet": "StreetlightControlCabinet", "StreetlightGroup": "StreetlightGroup",
    "RoadSegment": "RoadSegment", "TrafficSignal": "Device", "Junction": "Junction", "Pipe": "Pipe", "Tank": "Tank",
    "Reservoir": "Reservoir", "Pump": "Pump", "Valve": "Valve", "Device": "Device",
}
# Entities an asset is served as: its own type first; a road also as the TrafficFlowObserved that refers to it.
ALSO = {"RoadSegment": ("TrafficFlowObserved",)}
SUBJECT = {
    "Streetlight": "dataModel.Streetlighting", "StreetlightControlCabinet": "dataModel.Streetlighting",
    "StreetlightGroup": "dataModel.Streetlighting", "TrafficFlowObserved": "dataModel.Transportation",
    "RoadSegment": "dataModel.Transportation", "Junction": "dataModel.WaterDistributionManagementEPANET",
    "Pipe": "dataModel.WaterDistributionManagementEPANET", "Tank": "dataModel.WaterDistributionManagementEPANET",
    "Reservoir": "dataModel.WaterDistributionManagementEPANET", "Pump": "dataModel.WaterDistributionManagementEPANET",
    "Valve": "dataModel.WaterDistributionManagementEPANET", "WaterQualityObserved": "dataModel.WaterQuality",
    "Device": "dataModel.Device", "Alert": "dataModel.Alert",
}
# Each numeric attribute as served: (quantity of services.ngsi.units, UN/CEFACT code). The value is written in that unit
# in every representation (the normalized one says so in `unitCode`); it is the unit the Smart Data Models document and
# the one Vigie's intake assumes when a value comes without a unitCode, so Vigie's own output reads back unchanged.
QUANTITY: dict[str, tuple[str | None, str]] = {
    "pressure": ("pressure", "BAR"), "setpoint": ("pressure", "BAR"), "flow": ("flow", "MQH"), "level": ("length", "MTR"),
    "chlorine": ("concentration", "M1"), "turbidity": ("turbidity", "NTU"), "averageVehicleSpeed": ("speed", "KMH"),
    "maximumAllowedSpeed": ("speed", "KMH"), "powerConsumption": ("power", "WTT"), "totalActivePower": ("power", "WTT"),
    "powerRating": ("power", "WTT"), "elevation": ("length", "MTR"), "length": ("length", "MTR"), "diameter": ("diameter", "MMT"),
    "maxLevel": ("length", "MTR"), "minLevel": ("length", "MTR"), "reservoirHead": ("length", "MTR"),
    "lanternHeight": ("length", "MTR"), "nominalDiameter": ("length", "MTR"), "minVolume": ("volume", "MTQ"),
    "illuminanceLevel": ("fraction", "C62"), "occupancy": ("fraction", "C62"), "position": ("fraction", "C62"),
    "openStatus": ("fraction", "C62"), "intensity": (None, "H10"),  # vehicles per hour: H10 is "reciprocal hour"
}
# EPANET's own units (SI flow units LPS): pressure in metres of water column, flow in litres per second.
EPANET = {"Junction", "Tank", "Reservoir", "Pipe", "Pump", "Valve"}
EPANET_QUANTITY = {"pressure": ("pressure", "MTR"), "flow": ("flow", "G51")}


def unit_of(sdm_type: str, name: str) -> tuple[str | None, str] | None:
    """(quantity, UN/CEFACT code) of a numeric attribute of an outbound entity type, or None (not a quantity)."""
    if sdm_type in EPANET and name in EPANET_QUANTITY:
        return EPANET_QUANTITY[name]
    if (sdm_type, name) in TYPE_QUANTITY:
        return TYPE_QUANTITY[(sdm_type, name)]
    return QUANTITY.get(name)


EXTENSIONS = ("condition", "supervisor", "freeFlowSpeed", "controlMode", "overrideUntil", "vigieStatus", "vigieRefs", "vigieProps", "closed",
              "signalPlan", "running", "setpoint", "position", "pressure", "flow", "chlorine", "turbidity", "level",
              "alarmState", "acknowledged", "acknowledgedBy", "acknowledgedAt", "acknowledgeComment", "priority", "alarmCode",
              "raiseCount", "domain", "shelvedBy", "shelvedUntil", "shelveReason", "suppressedBy", "outOfServiceReason", "assignee")
LAMP_STATUS = {"ok", "defectiveLamp", "brokenLantern", "columnIssue"}
TYPE_QUANTITY = {("RoadSegment", "length"): ("length", "KTM")}  # the model counts kilometres
LOCATION_CATEGORY = {"bridge", "centralIsland", "facade", "garden", "park", "parking", "pedestrianPath", "playground", "road",
                     "sidewalk", "tunnel"}
DEVICE_ROLE = {"TrafficSignal": (["actuator"], ["trafficFlow"])}
MEASURES = {"pressure": "pressure", "flow": "waterConsumption", "quality": "waterPollution"}
_EXPLICIT = {"freeFlowSpeed", "maximumAllowedSpeed", "lengthM", "powerRating", "lanternHeight", "circuit", "locationCategory", "controllingMethod", "streetPoleNum", "feederID",
             "lamps", "circuitId", "laneId", "laneDirection", "elevation", "tag", "length", "diameter", "roughness", "maxLevel",
             "minLevel", "nominalDiameter", "minVolume", "reservoirHead", "measures"}


@dataclass(slots=True)
class Out:
    """One outbound entity in keyValues form, with what is needed to render it normalized."""

    entity: dict[str, Any]
    units: dict[str, str] = field(default_factory=dict)
    relationships: set[str] = field(default_factory=set)
    subs: dict[str, dict[str, dict]] = field(default_factory=dict)  # sub-attributes a broker sent, by attribute

    @property
    def type(self) -> str:
        """The Smart Data Models type."""
        return self.entity["type"]

    def context(self) -> list:
        """The entity's `@context`: its model's subject, Vigie's extension terms, the NGSI-LD core."""
        used = [k for k in EXTENSIONS if k in self.entity]
        return context_for((SUBJECT[self.type],), used)


def escape(local_id: str) -> str:
    """An id made safe for an NGSI-LD id (Smart Data Models' EntityIdentifierType has no '/')."""
    return local_id.replace("~", "~7E").replace("/", "~2F")


def unescape(text: str) -> str:
    """Undo `escape`."""
    return text.replace("~2F", "/").replace("~7E", "~")


def ngsi_id(local_id: str, sdm_type: str) -> str:
    """The NGSI-LD id of a Vigie asset or alarm: its own urn when it has one, else `urn:ngsi-ld:<type>:<id>`."""
    return local_id if local_id.startswith("urn:ngsi-ld:") else f"urn:ngsi-ld:{sdm_type}:{escape(local_id)}"


def local_candidates(entity_id: str) -> list[str]:
    """The Vigie ids an NGSI-LD id may stand for (to look it up)."""
    out = [entity_id]
    parts = entity_id.split(":", 3)
    if len(parts) == 4 and parts[0] == "urn" and parts[1] == "ngsi-ld":
        out.append(unescape(parts[3]))
        if parts[2] in ("TrafficFlowObserved", "RoadSegment"):  # the two entities of one road
            out += [f"urn:ngsi-ld:{t}:{parts[3]}" for t in ("RoadSegment", "TrafficFlowObserved") if t != parts[2]]
    return out


def sdm_type_of(asset: dict) -> str:
    """The Smart Data Models type an asset is published as (its first entity)."""
    if asset["type"] == "Device" and asset.get("props", {}).get("measures") == "quality":
        return "WaterQualityObserved"
    return SDM_TYPE.get(asset["type"], "Device")


def sdm_types_of(asset: dict) -> tuple[str, ...]:
    """Every Smart Data Models type an asset is published as."""
    first = sdm_type_of(asset)
    return (first, *ALSO.get(first, ()))


def entity_id(asset_id: str, sdm_type: str) -> str:
    """The id of an asset's entity of this type: `urn:ngsi-ld:<type>:...`, never an id that names another type."""
    parts = asset_id.split(":", 3)
    if len(parts) == 4 and parts[0] == "urn" and parts[1] == "ngsi-ld":
        return asset_id if parts[2] == sdm_type or sdm_type not in ("RoadSegment", "TrafficFlowObserved") else \
            f"urn:ngsi-ld:{sdm_type}:{parts[3]}"
    return ngsi_id(asset_id, sdm_type)


# --- assets --------------------------------------------------------------------------------


def asset_entities(asset: dict, *, area: AreaLookup | None = None) -> list[Out]:
    """Every Smart Data Models entity of one asset (a road: its RoadSegment and its TrafficFlowObserved)."""
    return [asset_entity(asset, area=area, sdm=t) for t in sdm_types_of(asset)]


def asset_entity(asset: dict, *, area: AreaLookup | None = None, sdm: str | None = None) -> Out:
    """Map one Vigie asset (the reader's dict) to its Smart Data Models entity (of type `sdm`, default its first)."""
    sdm = sdm or sdm_type_of(asset)
    v, props, refs = asset.get("values") or {}, dict(asset.get("props") or {}), dict(asset.get("refs") or {})
    out = Out({"id": entity_id(asset["id"], sdm), "type": sdm})
    e = out.entity
    if asset.get("name"):
        e["name"] = asset["name"]
    location = asset.get("geometry") or _area_of(refs, area)
    if location:
        e["location"] = location
    if asset.get("updated") is not None:
        e["dateModified"] = iso(asset["updated"])
    BUILDERS.get(sdm, _device)(out, asset, v, props, refs)
    e["condition"] = asset.get("condition", "unknown")
    e["supervisor"] = asset.get("supervisor", "")
    _own_names(out, props)
    rest = {k: val for k, val in props.items() if k not in _EXPLICIT}
    if rest:
        e["vigieProps"] = rest
    if refs:
        e["vigieRefs"] = refs
    return out


def _own_names(out: Out, props: dict) -> None:
    """A broker's attributes Vigie does not map (`ngsi.<name>` props) go back out under their own names, and the
    sub-attributes it sent (`ngsi.subs`) on the attributes they came with."""
    subs = props.pop("ngsi.subs", None)
    if isinstance(subs, str):
        try:
            parsed = json.loads(subs)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            out.subs = {k: v for k, v in parsed.items() if isinstance(k, str) and isinstance(v, dict)}
    for key in [k for k in props if k.startswith("ngsi.") and k != "ngsi.more"]:
        name = key[5:]
        if name in out.entity or name in EXTENSIONS or not name[:1].isalpha():
            continue
        value = props.pop(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)  # kept as compact JSON text on the way in
            except ValueError:
                pass
        out.entity[name] = value
        if name.startswith("ref") and isinstance(value, str) and value.startswith("urn:"):
            out.relationships.add(name)


def _area_of(refs: dict, area: AreaLookup | None) -> dict | None:
    if area is None:
        return None
    for key in ("district", "commune"):
        if key in refs and (geometry := area(refs[key])) is not None:
            return geometry
    return None


def _put(out: Out, name: str, value: Any) -> None:
    """Set an attribute; a quantity is written in its served unit (see QUANTITY) and remembers its unit code."""
    if value is None:
        return
    out.entity[name] = _in_unit(out, name, value)


def _in_unit(out: Out, name: str, value: Any) -> Any:
    found = unit_of(out.type, name)
    if found is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    quantity, code = found
    out.units[name] = code
    return value if quantity is None else value / UNITS[quantity][code]


def _ref(out: Out, name: str, refs: dict, key: str, sdm_type: str | None) -> None:
    """A relationship from refs `key`, `key.2`, `key.3`... (a list when there are several)."""
    keys = [k for k in (key, *(f"{key}.{n}" for n in range(2, 17))) if k in refs]
    targets = [t if t.startswith("urn:") or sdm_type is None else ngsi_id(t, sdm_type) for t in (refs.pop(k) for k in keys)]
    if targets:
        out.entity[name] = targets[0] if len(targets) == 1 else targets
        out.relationships.add(name)


def _props(out: Out, props: dict, *names: str) -> None:
    for name in names:
        value = props.get(name)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            _put(out, name, value)


def _streetlight(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    status = v.get("status")
    if status is not None:
        out.entity["status"] = status if status in LAMP_STATUS else "columnIssue"
        if status not in LAMP_STATUS:
            out.entity["vigieStatus"] = status
    for name in ("powerState", "illuminanceLevel", "powerConsumption", "controlMode", "overrideUntil"):
        _put(out, name, v.get(name))
    _props(out, props, "powerRating", "lanternHeight", "circuit", "streetPoleNum", "feederID")
    if props.get("locationCategory") in LOCATION_CATEGORY:
        out.entity["locationCategory"] = props["locationCategory"]
    if props.get("controllingMethod") in ("group", "individual"):
        out.entity["controllingMethod"] = props["controllingMethod"]
    _ref(out, "refStreetlightGroup", refs, "group", "StreetlightGroup")
    _ref(out, "refStreetlightControlCabinet", refs, "cabinet", "StreetlightControlCabinet")


WORKING_MODE = {"schedule": "automatic", "override": "semiautomatic", "manual": "manual"}  # SDM's enum


def _cabinet(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "powerState", v.get("powerState"))
    _put(out, "workingMode", WORKING_MODE.get(v.get("controlMode")))  # all lamps on schedule / some overridden / all by hand
    _put(out, "totalActivePower", v.get("powerConsumption"))
    _put(out, "vigieStatus", v.get("status"))
    if isinstance(props.get("lamps"), (int, float)) and not isinstance(props.get("lamps"), bool):
        out.entity["numStreetlight"] = props["lamps"]
    groups = [g for key in sorted(refs) if key == "group" or key.startswith("group.") for g in [refs.pop(key)]]
    if groups:
        out.entity["refStreetlightGroup"] = [t if t.startswith("urn:") else ngsi_id(t, "StreetlightGroup") for t in groups]
        out.relationships.add("refStreetlightGroup")


def _group(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "powerState", v.get("powerState"))
    _put(out, "illuminanceLevel", v.get("illuminanceLevel"))
    _props(out, props, "circuitId")
    _ref(out, "refStreetlightControlCabinet", refs, "cabinet", "StreetlightControlCabinet")


def _road(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    geometry = a.get("geometry") or {}
    if geometry.get("type") == "LineString":
        ends = geometry["coordinates"]
        out.entity["startPoint"] = {"type": "Point", "coordinates": list(ends[0])}
        out.entity["endPoint"] = {"type": "Point", "coordinates": list(ends[-1])}
    if "street" in refs:
        out.entity["refRoad"] = ngsi_id(refs.pop("street"), "Road")  # the street is the road the segment belongs to
        out.relationships.add("refRoad")
    if isinstance(props.get("lanes"), (int, float)) and props["lanes"] >= 1:
        out.entity["totalLaneNumber"] = props["lanes"]
    for name in ("maximumAllowedSpeed", "freeFlowSpeed"):
        _put(out, name, props.get(name))
    _put(out, "length", props.get("lengthM"))
    if v.get("closed") is not None:
        out.entity["status"] = "closed" if v["closed"] else "open"
    _put(out, "vigieStatus", v.get("status"))


def _traffic_flow(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "dateObserved", iso(a.get("updated")))
    for name in ("intensity", "averageVehicleSpeed", "occupancy", "congested", "closed"):
        _put(out, name, v.get(name))
    _put(out, "vigieStatus", v.get("status"))
    if isinstance(props.get("laneId"), int) and props["laneId"] >= 1:
        out.entity["laneId"] = props["laneId"]
    if props.get("laneDirection") in ("forward", "backward"):
        out.entity["laneDirection"] = props["laneDirection"]
    refs.pop("segment", None)
    out.entity["refRoadSegment"] = entity_id(a["id"], "RoadSegment")  # the road itself, served as its own entity
    out.relationships.add("refRoadSegment")


def _observed(out: Out, name: str, value: Any) -> None:
    """EPANET's dynamic attributes are objects `{"value": x}` in the keyValues representation."""
    if value is not None:
        out.entity[name] = {"value": _in_unit(out, name, value)}


def _epanet_node(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _observed(out, "pressure", v.get("pressure"))
    if out.type in ("Tank", "Reservoir"):
        _observed(out, "level", v.get("level"))
        _observed(out, "flow", v.get("flow"))  # in or out of the storage (an extension for these models)
    _props(out, props, "elevation", "tag", "maxLevel", "minLevel", "nominalDiameter", "minVolume")
    if out.type == "Reservoir":
        head = props.get("reservoirHead")
        elevation = props.get("elevation")
        if not isinstance(head, (int, float)) and isinstance(elevation, (int, float)):
            head = round(elevation + (v.get("level") or 0.0), 3)
        _put(out, "reservoirHead", head)
        out.entity.pop("maxLevel", None)  # not a Reservoir attribute: kept in vigieProps
        out.entity.pop("minLevel", None)
    _put(out, "vigieStatus", v.get("status"))


def _pipe(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _observed(out, "flow", v.get("flow"))
    _props(out, props, "length", "diameter", "roughness", "tag")
    _link_ends(out, refs)
    _put(out, "vigieStatus", v.get("status"))


def _link_ends(out: Out, refs: dict) -> None:
    _ref(out, "startsAt", refs, "startsAt", None)
    _ref(out, "endsAt", refs, "endsAt", None)


def _pump(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    if v.get("running") is not None:
        out.entity["status"] = "OPEN" if v["running"] else "CLOSED"  # EPANET's link status of a pump
    _observed(out, "flow", v.get("flow"))
    _observed(out, "pressure", v.get("pressure"))  # at the pump's outlet (an extension for this model)
    _put(out, "setpoint", v.get("setpoint"))
    _props(out, props, "elevation", "tag")
    _link_ends(out, refs)
    _put(out, "vigieStatus", v.get("status"))


def _valve(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    position = v.get("position")
    if position is not None:
        out.entity["status"] = "CLOSED" if position == 0 else "OPEN"
        _put(out, "openStatus", position)
    _observed(out, "flow", v.get("flow"))
    _observed(out, "pressure", v.get("pressure"))
    _props(out, props, "diameter", "tag")
    _link_ends(out, refs)
    _put(out, "vigieStatus", v.get("status"))


def _quality(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "dateObserved", iso(a.get("updated")))
    _put(out, "turbidity", v.get("turbidity"))
    _put(out, "chlorine", v.get("chlorine"))
    _put(out, "vigieStatus", v.get("status"))


def _device(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    category, controlled = DEVICE_ROLE.get(a["type"], (["sensor"], None))
    if controlled is None:
        measures = props.get("measures")
        controlled = [MEASURES.get(measures, measures)] if isinstance(measures, str) else sorted(k for k in v if k != "status")
    out.entity["deviceCategory"] = category
    out.entity["controlledProperty"] = controlled
    if "pipe" in refs:
        out.entity["controlledAsset"] = [ngsi_id(refs.pop("pipe"), "Pipe")]
        out.relationships.add("controlledAsset")
    if v.get("status") is not None:
        out.entity["deviceState"] = v["status"]
    for name in ("pressure", "flow", "level", "chlorine", "turbidity", "running", "setpoint", "position", "signalPlan",
                 "intensity", "averageVehicleSpeed", "occupancy", "congested", "powerState", "powerConsumption"):
        _put(out, name, v.get(name))


BUILDERS: dict[str, Callable[[Out, dict, dict, dict, dict], None]] = {
    "Streetlight": _streetlight, "StreetlightControlCabinet": _cabinet, "StreetlightGroup": _group, "RoadSegment": _road,
    "TrafficFlowObserved": _traffic_flow, "Junction": _epanet_node, "Tank": _epanet_node, "Reservoir": _epanet_node,
    "Pipe": _pipe, "Pump": _pump, "Valve": _valve, "WaterQualityObserved": _quality, "Device": _device,
}


# --- representations -------------------------------------------------------------------------


GEO = {"location"}


def normalized(out: Out) -> dict:
    """The NGSI-LD normalized representation."""
    doc: dict[str, Any] = {"id": out.entity["id"], "type": out.entity["type"]}
    for name, value in out.entity.items():
        if name in ("id", "type"):
            continue
        if name in out.relationships:
            doc[name] = {"type": "Relationship", "object": value}
        elif name in GEO:
            doc[name] = {"type": "GeoProperty", "value": value}
        else:
            attr: dict[str, Any] = {"type": "Property", "value": value}
            if name in out.units:
                attr["unitCode"] = out.units[name]
            doc[name] = attr
        for sub, body in out.subs.get(name, {}).items():
            if sub not in doc[name] and isinstance(body, dict):
                doc[name][sub] = body  # keyValues has no room for them: only the normalized form carries them
    return doc


def render(out: Out, *, key_values: bool, with_context: bool) -> dict:
    """The entity in the asked representation, with its `@context` inline when asked (application/ld+json)."""
    doc = dict(out.entity) if key_values else normalized(out)
    if with_context:
        doc["@context"] = out.context()
    return doc


def territory_areas(territory: str) -> AreaLookup:
    """Look up a district's or commune's outline (GeoJSON) by its Vigie id, for the assets placed by area."""
    from services.territory.geo import communes, districts

    def lookup(area_id: str) -> dict | None:
        areas = districts(territory) if area_id.startswith("district-") else communes(territory) if area_id.startswith("commune-") else ()
        for a in areas:
            if a.id == area_id:
                polys = [[[list(c) for c in ring] for ring in poly] for poly in a.polygons]
                return {"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1 else {"type": "MultiPolygon", "coordinates": polys}
        return None
    return lookup
