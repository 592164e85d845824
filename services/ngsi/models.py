"""What Vigie takes from each Smart Data Models entity type: domain, asset type, readings, static attributes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .entities import Attr, Entity, scalar
from .units import UnitError, boolean, convert, instant, interval, number

Converter = Callable[[Attr, Entity], Any]


def words(attr: Attr | None) -> list[str]:
    """A list-or-comma-separated attribute (controlledProperty) as words."""
    if attr is None:
        return []
    value = scalar(attr)[0]
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(v).strip() for v in items if isinstance(v, (str, int, float))][:32]


def quantity(name: str, default: str | None = None) -> Converter:
    """A number in a known quantity, converted from its unitCode (or the model's default unit)."""
    def conv(attr: Attr, entity: Entity) -> float:
        value, unit = scalar(attr)
        return round(convert(value, name, unit, default), 6)
    return conv


def choice(*values: str) -> Converter:
    """One of a list of words, matched without regard to case."""
    table = {v.lower(): v for v in values}

    def conv(attr: Attr, entity: Entity) -> str:
        value, _ = scalar(attr)
        if not isinstance(value, str) or value.strip().lower() not in table:
            raise UnitError(f"{str(value)[:40]!r} is not one of {', '.join(values)}")
        return table[value.strip().lower()]
    return conv


def flag(attr: Attr, entity: Entity) -> bool:
    """A boolean (true/false, or "true"/"false")."""
    return boolean(scalar(attr)[0])


def plain(attr: Attr, entity: Entity) -> Any:
    """The value as sent (a string, a number or a boolean)."""
    return scalar(attr)[0]


def hourly_intensity(attr: Attr, entity: Entity) -> float:
    """TrafficFlowObserved counts vehicles over its observation period: return vehicles per hour."""
    raw, unit = scalar(attr)
    count = number(raw)
    if unit is not None and unit.strip().upper() == "H10":  # already a rate per hour (how Vigie serves it)
        return count
    seconds = observation_period_s(entity)
    return round(count * 3600.0 / seconds, 3) if seconds else count


def observation_period_s(entity: Entity) -> float | None:
    """The observation period of an observed entity, from an ISO interval or dateObservedFrom/To."""
    try:
        raw = entity.attrs.get("dateObserved")
        if raw is not None and isinstance(scalar(raw)[0], str) and "/" in scalar(raw)[0]:
            start, end = interval(scalar(raw)[0])
        elif "dateObservedFrom" in entity.attrs and "dateObservedTo" in entity.attrs:
            start, end = (interval(str(scalar(entity.attrs[k])[0]))[0] for k in ("dateObservedFrom", "dateObservedTo"))
        else:
            return None
    except (UnitError, TypeError, ValueError):
        return None
    seconds = (end - start).total_seconds()
    return seconds if 0 < seconds <= 31 * 86400 else None


def road_closed(attr: Attr, entity: Entity) -> bool:
    """RoadSegment.status open / limited / closed as Vigie's `closed` flag."""
    return choice("open", "closed", "limited")(attr, entity) == "closed"


def epanet_running(attr: Attr, entity: Entity) -> bool:
    """EPANET link status OPEN/CLOSED as a pump's running flag."""
    return choice("OPEN", "CLOSED", "CV")(attr, entity) != "CLOSED"


def epanet_position(attr: Attr, entity: Entity) -> float:
    """EPANET link status OPEN/CLOSED as a valve's opening (1 or 0)."""
    return 0.0 if choice("OPEN", "CLOSED", "CV", "ACTIVE")(attr, entity) == "CLOSED" else 1.0


def moment(attr: Attr, entity: Entity) -> Any:
    """An ISO 8601 date-time (no offset: UTC)."""
    return instant(scalar(attr)[0])


POWER_STATE = choice("on", "off", "low", "bootingUp")
LAMP_STATUS = choice("ok", "defectiveLamp", "brokenLantern", "columnIssue", "tripped")
FRACTION = quantity("fraction")
# Vigie's own extension attributes (what its NGSI-LD API serves beyond the models), read back so that
# Vigie's output notified to Vigie changes nothing. Listed after the model's attributes: they win.
WATER_STATUS = {"vigieStatus": ("status", choice("ok", "fault", "maintenance"))}
TRAFFIC_STATUS = {"vigieStatus": ("status", choice("ok", "fault", "closed")), "closed": ("closed", flag)}
def _working_mode(attr: Attr, entity: Entity) -> str:
    """A cabinet's workingMode (SDM: automatic, semiautomatic, manual) as Vigie's control mode."""
    mode = choice("automatic", "semiautomatic", "manual")(attr, entity)
    return {"automatic": "schedule", "semiautomatic": "override", "manual": "manual"}[mode]


LAMP_EXTRAS = {"vigieStatus": ("status", LAMP_STATUS), "controlMode": ("controlMode", choice("schedule", "override", "manual")),
               "overrideUntil": ("overrideUntil", moment)}


@dataclass(frozen=True, slots=True)
class Model:
    """How one NGSI entity type becomes a Vigie asset."""

    domain: str | None  # None: decided per entity (Device, DeviceMeasurement, Alert)
    asset_type: str
    readings: dict[str, tuple[str, Converter]] = field(default_factory=dict)  # NGSI attribute -> (reading field, converter)
    props: dict[str, tuple[str, Converter]] = field(default_factory=dict)  # trusted static attributes
    refs: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # relationship -> (ref name, target type)
    fixed_props: dict[str, Any] = field(default_factory=dict)


_LIGHT_REFS = {"refStreetlightGroup": ("group", "StreetlightGroup"),
               "refStreetlightControlCabinet": ("cabinet", "StreetlightControlCabinet"),
               "refStreetlightCabinetController": ("cabinet", "StreetlightCabinetController"),
               "refStreetlightModel": ("model", "StreetlightModel"), "refDevice": ("device", "Device")}
_EPANET_NODE = {"elevation": ("elevation", quantity("length")), "tag": ("tag", plain)}
_EPANET_LINK_REFS = {"startsAt": ("startsAt", None), "endsAt": ("endsAt", None)}

MODELS: dict[str, Model] = {
    "Streetlight": Model("lighting", "Streetlight",
                         readings={"powerState": ("powerState", POWER_STATE), "status": ("status", LAMP_STATUS),
                                   "illuminanceLevel": ("illuminanceLevel", FRACTION),
                                   "powerConsumption": ("powerConsumption", quantity("power")), **LAMP_EXTRAS},
                         props={"powerRating": ("powerRating", quantity("power")), "lanternHeight": ("lanternHeight", quantity("length")),
                                "circuit": ("circuit", plain), "locationCategory": ("locationCategory", plain),
                                "controllingMethod": ("controllingMethod", plain), "streetPoleNum": ("streetPoleNum", plain),
                                "feederID": ("feederID", plain)},
                         refs=_LIGHT_REFS),
    "StreetlightGroup": Model("lighting", "StreetlightGroup",
                              readings={"powerState": ("powerState", POWER_STATE), "illuminanceLevel": ("illuminanceLevel", FRACTION)},
                              props={"circuitId": ("circuitId", plain), "activeProgramId": ("activeProgramId", plain)},
                              refs=_LIGHT_REFS),
    "StreetlightControlCabinet": Model("lighting", "StreetlightControlCabinet",
                                       readings={"powerState": ("powerState", POWER_STATE),
                                                 "totalActivePower": ("powerConsumption", quantity("power")),
                                                 "workingMode": ("controlMode", _working_mode),
                                                 "vigieStatus": ("status", LAMP_STATUS)},
                                       props={"numStreetlight": ("lamps", plain)}, refs=_LIGHT_REFS),
    "TrafficFlowObserved": Model("traffic", "RoadSegment",
                                 readings={"intensity": ("intensity", hourly_intensity),
                                           "averageVehicleSpeed": ("averageVehicleSpeed", quantity("speed")),
                                           "occupancy": ("occupancy", FRACTION), "congested": ("congested", flag),
                                           **TRAFFIC_STATUS},
                                 props={"laneId": ("laneId", plain), "laneDirection": ("laneDirection", plain)},
                                 refs={"refRoadSegment": ("segment", "RoadSegment")}),
    "RoadSegment": Model("traffic", "RoadSegment", readings={"status": ("closed", road_closed), **TRAFFIC_STATUS},
                         props={"totalLaneNumber": ("lanes", plain), "maximumAllowedSpeed": ("maximumAllowedSpeed", quantity("speed")),
                                "freeFlowSpeed": ("freeFlowSpeed", quantity("speed")),
                                "length": ("lengthM", quantity("length", "KTM"))}),  # the model counts kilometres
    "Junction": Model("water", "Junction", readings={"pressure": ("pressure", quantity("pressure", "MTR")), **WATER_STATUS},
                      props=_EPANET_NODE),
    "Tank": Model("water", "Tank", readings={"pressure": ("pressure", quantity("pressure", "MTR")), "level": ("level", quantity("length")),
                                             "flow": ("flow", quantity("flow", "G51")), **WATER_STATUS},
                  props={**_EPANET_NODE, "maxLevel": ("maxLevel", quantity("length")), "minLevel": ("minLevel", quantity("length")),
                         "nominalDiameter": ("nominalDiameter", quantity("length")), "minVolume": ("minVolume", quantity("volume"))}),
    "Reservoir": Model("water", "Reservoir", readings={"pressure": ("pressure", quantity("pressure", "MTR")),
                                                       "level": ("level", quantity("length")),
                                                       "flow": ("flow", quantity("flow", "G51")), **WATER_STATUS},
                       props={**_EPANET_NODE, "reservoirHead": ("reservoirHead", quantity("length"))}),
    "Pipe": Model("water", "Pipe", readings={"flow": ("flow", quantity("flow", "G51")), **WATER_STATUS},
                  props={"length": ("length", quantity("length")), "diameter": ("diameter", quantity("diameter")),
                         "roughness": ("roughness", plain), "tag": ("tag", plain)}, refs=_EPANET_LINK_REFS),
    "Pump": Model("water", "Pump", readings={"flow": ("flow", quantity("flow", "G51")), "status": ("running", epanet_running),
                                             "pressure": ("pressure", quantity("pressure", "MTR")),
                                             "setpoint": ("setpoint", quantity("pressure", "BAR")), **WATER_STATUS},
                  props=_EPANET_NODE, refs=_EPANET_LINK_REFS),
    "Valve": Model("water", "Valve", readings={"flow": ("flow", quantity("flow", "G51")), "status": ("position", epanet_position),
                                               "openStatus": ("position", FRACTION),
                                               "pressure": ("pressure", quantity("pressure", "MTR")), **WATER_STATUS},
                   props={"diameter": ("diameter", quantity("diameter")), "tag": ("tag", plain)}, refs=_EPANET_LINK_REFS),
    "WaterQualityObserved": Model("water", "Device", readings={"turbidity": ("turbidity", quantity("turbidity")),
                                                               "chlorine": ("chlorine", quantity("concentration")),
                                                               "freeChlorine": ("chlorine", quantity("concentration")),
                                                               **WATER_STATUS},
                                  refs={"refPointOfInterest": ("poi", None)}, fixed_props={"measures": "quality"}),
    "Device": Model(None, "Device", refs={"refDeviceModel": ("model", "DeviceModel")}),
    "DeviceMeasurement": Model(None, "Device"),
    "Alert": Model(None, ""),
    "Anomaly": Model(None, ""),
    "WeatherAlert": Model(None, ""),
}
ALERT_TYPES = frozenset({"Alert", "Anomaly", "WeatherAlert"})  # the Alert family: each becomes an alarm, not an asset
MODELS["StreetlightFeeder"] = MODELS["StreetlightControlCabinet"]

# Readings a Device (or a DeviceMeasurement's controlledProperty) may carry, per domain.
DEVICE_READINGS: dict[str, dict[str, tuple[str, Converter]]] = {
    "water": {"pressure": ("pressure", quantity("pressure", "BAR")), "flow": ("flow", quantity("flow", "MQH")),
              "waterFlow": ("flow", quantity("flow", "MQH")), "level": ("level", quantity("length")),
              "waterLevel": ("level", quantity("length")), "chlorine": ("chlorine", quantity("concentration")),
              "freeChlorine": ("chlorine", quantity("concentration")), "turbidity": ("turbidity", quantity("turbidity")),
              "running": ("running", flag), "setpoint": ("setpoint", quantity("pressure", "BAR")), "position": ("position", FRACTION)},
    "lighting": {"powerState": ("powerState", POWER_STATE), "illuminanceLevel": ("illuminanceLevel", FRACTION),
                 "powerConsumption": ("powerConsumption", quantity("power")), "power": ("powerConsumption", quantity("power"))},
    "traffic": {"intensity": ("intensity", quantity("count")), "trafficFlow": ("intensity", quantity("count")),
                "averageVehicleSpeed": ("averageVehicleSpeed", quantity("speed")), "speed": ("averageVehicleSpeed", quantity("speed")),
                "occupancy": ("occupancy", FRACTION), "congested": ("congested", flag), "closed": ("closed", flag),
                "signalPlan": ("signalPlan", choice("normal", "peak", "greenWave", "flashingAmber", "off"))},
}
# controlledProperty words that tell a Device's domain when nothing else does.
PROPERTY_DOMAIN = {
    "pressure": "water", "waterFlow": "water", "flow": "water", "waterLevel": "water", "turbidity": "water", "chlorine": "water",
    "freeChlorine": "water", "waterPollution": "water", "waterConsumption": "water", "conductivity": "water", "pH": "water",
    "trafficFlow": "traffic", "intensity": "traffic", "averageVehicleSpeed": "traffic",
}
DEVICE_STATE = {
    "water": {"ok": "ok", "fault": "fault", "error": "fault", "failure": "fault", "broken": "fault", "ko": "fault",
              "maintenance": "maintenance"},
    "traffic": {"ok": "ok", "fault": "fault", "error": "fault", "failure": "fault", "broken": "fault", "ko": "fault"},
    "lighting": {"ok": "ok"},
}
ALERT_SEVERITY = {"informational": "info", "low": "warning", "medium": "minor", "high": "major", "critical": "critical"}
ALERT_CATEGORY_DOMAIN = {"traffic": "traffic"}
ALERT_SUBCATEGORY_DOMAIN = {"waterPollution": "water", "flood": "water", "trafficJam": "traffic", "carAccident": "traffic",
                            "roadClosed": "traffic", "roadWorks": "traffic", "hazardOnRoad": "traffic",
                            # WeatherAlert (dataModel.Weather, MeteoAlarm's awareness types): roads, or the water network
                            "snow_ice": "traffic", "snow/ice": "traffic", "snow": "traffic", "ice": "traffic", "fog": "traffic",
                            "rain": "water", "rainfall": "water", "flooding": "water", "floods": "water", "drought": "water",
                            "coastalEvent": "water"}
# Attributes read for time or identity, never stored as properties.
SKIPPED = {"location", "name", "description", "address", "areaServed", "dateObserved", "dateObservedFrom", "dateObservedTo",
           "observationDateTime", "dateModified", "dateCreated", "TimeInstant", "dateLastValueReported", "deviceState",
           "controlledProperty", "numValue", "unit", "refDevice", "measurementType", "componentAnalyzed", "componentName",
           "concentration", "vertices", "source", "dataProvider", "seeAlso", "owner", "alternateName"}
