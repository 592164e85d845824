"""Vigie's assets as FIWARE Smart Data Models entities, active alarms as `Alert`s with their lifecycle.

Each entity is built once in the keyValues representation (what the official JSON Schemas
describe) with the unit code of each number; `normalized()` derives the NGSI-LD normalized form.
What Vigie adds (condition, supervisor, control mode, alarm state, relations and properties
without a Smart Data Models home) are extension attributes in Vigie's own `@context` terms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .units import UNITS, iso
from .vocabulary import context_for

AreaLookup = Callable[[str], "dict | None"]  # area id (district-5, commune-34172) -> GeoJSON geometry

SDM_TYPE = {
    "Streetlight": "Streetlight", "StreetlightControlCabinet": "StreetlightFeeder", "StreetlightGroup": "StreetlightGroup",
    "RoadSegment": "TrafficFlowObserved", "TrafficSignal": "Device", "Junction": "Junction", "Pipe": "Pipe", "Tank": "Tank",
    "Reservoir": "Reservoir", "Pump": "Device", "Valve": "Device", "Device": "Device",
}
SUBJECT = {
    "Streetlight": "dataModel.Streetlighting", "StreetlightFeeder": "dataModel.Streetlighting",
    "StreetlightGroup": "dataModel.Streetlighting", "TrafficFlowObserved": "dataModel.Transportation",
    "Junction": "dataModel.WaterDistributionManagementEPANET", "Pipe": "dataModel.WaterDistributionManagementEPANET",
    "Tank": "dataModel.WaterDistributionManagementEPANET", "Reservoir": "dataModel.WaterDistributionManagementEPANET",
    "WaterQualityObserved": "dataModel.WaterQuality", "Device": "dataModel.Device", "Alert": "dataModel.Alert",
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
    return QUANTITY.get(name)


EXTENSIONS = ("condition", "supervisor", "controlMode", "overrideUntil", "vigieStatus", "vigieRefs", "vigieProps", "closed",
              "signalPlan", "running", "setpoint", "position", "pressure", "flow", "chlorine", "turbidity", "level",
              "alarmState", "acknowledged", "acknowledgedBy", "acknowledgedAt", "acknowledgeComment", "priority", "alarmCode",
              "raiseCount", "domain", "shelvedBy", "shelvedUntil", "shelveReason", "suppressedBy", "outOfServiceReason", "assignee")
LAMP_STATUS = {"ok", "defectiveLamp", "brokenLantern", "columnIssue"}
LOCATION_CATEGORY = {"bridge", "centralIsland", "facade", "garden", "park", "parking", "pedestrianPath", "playground", "road",
                     "sidewalk", "tunnel"}
DEVICE_ROLE = {"TrafficSignal": (["actuator"], ["trafficFlow"]), "Pump": (["actuator"], ["pressure", "waterConsumption"]),
               "Valve": (["actuator"], ["waterConsumption"])}
MEASURES = {"pressure": "pressure", "flow": "waterConsumption", "quality": "waterPollution"}
_EXPLICIT = {"powerRating", "lanternHeight", "circuit", "locationCategory", "controllingMethod", "streetPoleNum", "feederID",
             "lamps", "circuitId", "laneId", "laneDirection", "elevation", "tag", "length", "diameter", "roughness", "maxLevel",
             "minLevel", "nominalDiameter", "minVolume", "reservoirHead", "measures"}


@dataclass(slots=True)
class Out:
    """One outbound entity in keyValues form, with what is needed to render it normalized."""

    entity: dict[str, Any]
    units: dict[str, str] = field(default_factory=dict)
    relationships: set[str] = field(default_factory=set)

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
    return out


def sdm_type_of(asset: dict) -> str:
    """The Smart Data Models type an asset is published as."""
    if asset["type"] == "Device" and asset.get("props", {}).get("measures") == "quality":
        return "WaterQualityObserved"
    return SDM_TYPE.get(asset["type"], "Device")


# --- assets --------------------------------------------------------------------------------


def asset_entity(asset: dict, *, area: AreaLookup | None = None) -> Out:
    """Map one Vigie asset (the reader's dict) to its Smart Data Models entity."""
    sdm = sdm_type_of(asset)
    v, props, refs = asset.get("values") or {}, dict(asset.get("props") or {}), dict(asset.get("refs") or {})
    out = Out({"id": ngsi_id(asset["id"], sdm), "type": sdm})
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
    rest = {k: val for k, val in props.items() if k not in _EXPLICIT}
    if rest:
        e["vigieProps"] = rest
    if refs:
        e["vigieRefs"] = refs
    return out


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
    target = refs.pop(key, None)
    if target is not None:
        out.entity[name] = target if target.startswith("urn:") or sdm_type is None else ngsi_id(target, sdm_type)
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
    _ref(out, "refStreetlightControlCabinet", refs, "cabinet", "StreetlightFeeder")


def _feeder(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "powerState", v.get("powerState"))
    _put(out, "totalActivePower", v.get("powerConsumption"))
    _put(out, "vigieStatus", v.get("status"))
    if isinstance(props.get("lamps"), (int, float)) and not isinstance(props.get("lamps"), bool):
        out.entity["numStreetlight"] = props["lamps"]


def _group(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "powerState", v.get("powerState"))
    _put(out, "illuminanceLevel", v.get("illuminanceLevel"))
    _props(out, props, "circuitId")
    _ref(out, "refStreetlightControlCabinet", refs, "cabinet", "StreetlightFeeder")


def _traffic_flow(out: Out, a: dict, v: dict, props: dict, refs: dict) -> None:
    _put(out, "dateObserved", iso(a.get("updated")))
    for name in ("intensity", "averageVehicleSpeed", "occupancy", "congested", "closed"):
        _put(out, name, v.get(name))
    _put(out, "vigieStatus", v.get("status"))
    if isinstance(props.get("laneId"), int) and props["laneId"] >= 1:
        out.entity["laneId"] = props["laneId"]
    if props.get("laneDirection") in ("forward", "backward"):
        out.entity["laneDirection"] = props["laneDirection"]
    if "segment" in refs:
        _ref(out, "refRoadSegment", refs, "segment", "RoadSegment")
    elif not a["id"].startswith("urn:"):
        out.entity["refRoadSegment"] = ngsi_id(a["id"], "RoadSegment")
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
    _ref(out, "startsAt", refs, "startsAt", None)
    _ref(out, "endsAt", refs, "endsAt", None)
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
    "Streetlight": _streetlight, "StreetlightFeeder": _feeder, "StreetlightGroup": _group,
    "TrafficFlowObserved": _traffic_flow, "Junction": _epanet_node, "Tank": _epanet_node, "Reservoir": _epanet_node,
    "Pipe": _pipe, "WaterQualityObserved": _quality, "Device": _device,
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
