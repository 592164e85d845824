"""NGSI notifications into Vigie's vocabulary: every official example, every representation, units, quirks, refusals."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest

from services.contract.channels import ADAPTED_KINDS
from services.ngsi.entities import NotificationError, read_notification
from services.ngsi.inbound import Mapped, Refusal, map_entity
from services.ngsi.intake import NGSI_KIND, decode_json, map_notification, parse_ngsi_channel, source_supervisor
from services.ngsi.units import UnitError, convert, instant, interval, number

DATA = Path(__file__).resolve().parents[1] / "data"  # copies of the official files, see SOURCES.md there
SDM = DATA / "smart-data-models"
NOW = datetime(2026, 6, 21, 18, 0, tzinfo=timezone.utc)
MAPPED = ("Streetlight", "StreetlightGroup", "StreetlightFeeder", "TrafficFlowObserved", "WaterQualityObserved", "Junction", "Pipe",
          "Tank", "Reservoir", "Device", "DeviceMeasurement", "Alert")
UNMAPPED = ("StreetlightModel", "ItemFlowObserved", "TrafficViolation", "Road", "WaterDistributionNetwork", "WaterNetwork",
            "DeviceModel", "WeatherObserved")


def one(body: object, **kw) -> Mapped | Refusal:
    results = [map_entity(e, now=NOW, **kw) for e in read_notification(body)]
    assert len(results) == 1
    return results[0]


def example(model: str, name: str) -> dict:
    return json.loads((SDM / model / name).read_text(encoding="utf-8"))


# --- the official examples -------------------------------------------------------------------

# (model, hint) -> what every representation of its examples must give: domain, asset id, asset type, reading
EXPECTED = {
    "Streetlight": ("lighting", "urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567", "Streetlight",
                    {"powerState": "off", "status": "ok", "powerConsumption": 10.0}),
    "StreetlightGroup": ("lighting", "urn:ngsi-ld:StreetlightGroup:streetlightgroup:mycity:A12", "StreetlightGroup", {"powerState": "on"}),
    "StreetlightFeeder": ("lighting", "urn:ngsi-ld:StreetlightFeeder:https://smart-data-models.github.io/dataModel.Streetlighting/StreetLightFeeder/schema.json",
                          "StreetlightControlCabinet", {"powerState": "on", "powerConsumption": 30.0}),
    "TrafficFlowObserved": ("traffic", "urn:ngsi-ld:TrafficFlowObserved:TrafficFlowObserved-Valladolid-osm-60821110", "RoadSegment",
                            {"intensity": 2364.0, "averageVehicleSpeed": 52.6, "occupancy": 0.76}),
    "WaterQualityObserved": ("water", "urn:ngsi-ld:WaterQualityObserved:waterqualityobserved:Sevilla:D1", "Device", None),
    "Junction": ("water", "urn:ngsi-ld:Junction:63fe7d79-0d4c-4da9-b7d0-3340efa0656a", "Junction", None),
    "Pipe": ("water", "urn:ngsi-ld:Pipe:74azsty-70d4l-4da9-b7d0-3340ef655nnb", "Pipe", None),
    "Tank": ("water", "urn:ngsi-ld:Tank:1863179e-3968-4493-9167-ee21f880cc02", "Tank", None),
    "Reservoir": ("water", "urn:ngsi-ld:Reservoir:1863179e-3768-4480-9167-ff21f870dd19", "Reservoir", None),
    "Device": ("water", "urn:ngsi-ld:Device:device-9845A", "Device", {"status": "ok"}),
    "DeviceMeasurement": ("water", "urn:ngsi-ld:MEASUREMENT:refDevice:ZMHH:32871158", "Device", None),
}


@pytest.mark.parametrize("path", [p for m in EXPECTED for p in sorted((SDM / m).glob("example*"))], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_official_example_of_a_mapped_model_maps_to_the_same_asset(path: Path) -> None:
    domain, asset_id, asset_type, reading = EXPECTED[path.parent.name]
    hint = "water" if path.parent.name in ("Device", "DeviceMeasurement") else None
    m = one(json.loads(path.read_text(encoding="utf-8")), hint=hint)
    assert isinstance(m, Mapped), m
    assert (m.domain, m.asset.id, m.asset.type) == (domain, asset_id, asset_type)
    if reading is not None:
        assert {k: v for k, v in msgspec.structs.asdict(m.reading).items() if v is not None and k not in ("asset", "observedAt")} == reading


@pytest.mark.parametrize("path", sorted((SDM / "Alert").glob("example*")), ids=lambda p: p.name)
def test_every_official_alert_example_raises_an_alarm(path: Path) -> None:
    m = one(json.loads(path.read_text(encoding="utf-8")), hint="traffic")
    assert isinstance(m, Mapped) and m.asset is None
    assert m.alarms[0].action == "raise" and m.alarms[0].message
    expired = m.alarms[-1].action == "clear"
    assert expired == ("validTo" in path.read_text())  # every example with a validTo ended years ago


@pytest.mark.parametrize(("path", "hint", "domain", "code", "message"), [
    (SDM / "Anomaly" / "example.json", None, "water", "anomaly.pressure", "Anomaly on Pressure: 18.91 below the threshold 20"),
    (SDM / "Anomaly" / "example-normalized.json", None, "water", "anomaly.pressure", "Anomaly on Pressure: 18.91 below the threshold 20"),
    (SDM / "Anomaly" / "example.json", "lighting", "lighting", "anomaly.pressure", "Anomaly on Pressure: 18.91 below the threshold 20"),
    (SDM / "WeatherAlert" / "example.json", None, "traffic", "weather.snow_ice", "weather snow_ice"),
    (SDM / "WeatherAlert" / "example-normalized.json", None, "traffic", "weather.snow_ice", "weather snow_ice"),
    (SDM / "WeatherAlert" / "example.json", "water", "water", "weather.snow_ice", "weather snow_ice"),
], ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_every_alert_family_example_becomes_an_alarm(path: Path, hint: str | None, domain: str, code: str, message: str) -> None:
    m = one(json.loads(path.read_text(encoding="utf-8")), hint=hint)
    assert isinstance(m, Mapped) and m.asset is None and m.domain == domain
    raised = m.alarms[0]
    assert (raised.action, raised.code, raised.message, raised.severity) == ("raise", code, message, "minor")
    if path.parent.name == "Anomaly":  # on the device that detected it, from when it was detected
        assert raised.asset == "urn:ngsi-ld:Device:1863179e-3868-4480-3496-jf21f090dd20" and raised.ts.year == 2021
    else:  # validTo in 2016: raised and cleared at once, shown as returned to normal
        assert [a.action for a in m.alarms] == ["raise", "clear"] and m.alarms[1].ts.isoformat() == "2016-03-14T23:59:00+00:00"


@pytest.mark.parametrize(("severity", "expected"), [
    ("informational", "info"), ("low", "warning"), ("medium", "minor"), ("high", "major"), ("critical", "critical"), ("odd", "minor"),
])
def test_an_alerts_severity_gives_the_alarms_severity(severity: str, expected: str) -> None:
    weather = {**example("WeatherAlert", "example.json"), "severity": severity, "validTo": "2026-06-22T00:00:00Z"}
    assert one(weather).alarms[0].severity == expected


def test_an_alert_not_valid_yet_is_taken_but_not_raised() -> None:
    weather = {**example("WeatherAlert", "example.json"), "validFrom": "2026-06-21T20:00:00Z", "validTo": "2026-06-22T00:00:00Z"}
    m = one(weather)
    assert isinstance(m, Mapped) and m.alarms == () and "valid from" in m.warnings[0]
    assert [a.action for a in one({**weather, "validFrom": "2026-06-21T17:00:00Z"}).alarms] == ["raise"]


def test_an_alert_family_entity_nothing_maps_is_refused_with_a_reason() -> None:
    m = one({"id": "w1", "type": "WeatherAlert", "category": "weather", "subCategory": "highTemperature", "severity": "high"})
    assert isinstance(m, Refusal) and m.reason == "no_domain" and "?domain=" in m.detail


@pytest.mark.parametrize("path", [p for m in UNMAPPED for p in sorted((SDM / m).glob("example*"))], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_examples_of_models_vigie_does_not_map_are_refused_with_a_reason(path: Path) -> None:
    m = one(json.loads(path.read_text(encoding="utf-8")))
    assert isinstance(m, Refusal) and m.reason == "unsupported_type" and path.parent.name in m.detail


@pytest.mark.parametrize("path", sorted((DATA / "ngsi").glob("*/*.json")), ids=lambda p: p.name)
def test_broker_examples_are_read_and_their_rooms_and_sensors_refused(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    intake = map_notification(body, now=NOW)
    assert intake.accepted == 0 and intake.refused
    expected = "no_entity_id" if "values" in path.name else "unsupported_type"
    assert {r.reason for r in intake.refused} == {expected}


def test_the_examples_of_one_model_agree_whatever_their_representation() -> None:
    readings = {p.name: one(json.loads(p.read_text()), hint=None).reading for p in sorted((SDM / "Junction").glob("example*"))}
    pressures = {name: r.pressure for name, r in readings.items() if r is not None}
    assert pressures == {"example-normalized.json": pytest.approx(1.96133), "example-normalized.jsonld": pytest.approx(1.96133)}


# --- representations ---------------------------------------------------------------------------

LAMP_KV = {"id": "lamp-1", "type": "Streetlight", "status": "ok", "powerState": "on", "location": {"type": "Point", "coordinates": [3.87, 43.61]}}


@pytest.mark.parametrize(("name", "body"), [
    ("keyValues", LAMP_KV),
    ("v2 normalized", {"id": "lamp-1", "type": "Streetlight", "status": {"type": "Text", "value": "ok", "metadata": {}},
                       "powerState": {"type": "Text", "value": "on"}, "location": {"type": "geo:json", "value": LAMP_KV["location"]}}),
    ("v2 geo:point", {"id": "lamp-1", "type": "Streetlight", "status": {"type": "Text", "value": "ok"}, "powerState": {"type": "Text", "value": "on"},
                      "location": {"type": "geo:point", "value": "43.61, 3.87"}}),
    ("LD normalized", {"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "Streetlight", "status": {"type": "Property", "value": "ok"},
                       "powerState": {"type": "Property", "value": "on"}, "location": {"type": "GeoProperty", "value": LAMP_KV["location"]}}),
    ("LD concise", {"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "Streetlight", "status": "ok", "powerState": {"value": "on"},
                    "location": LAMP_KV["location"]}),
    ("LD expanded IRIs", {"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "https://smartdatamodels.org/dataModel.Streetlighting/Streetlight",
                          "https://smartdatamodels.org/dataModel.Streetlighting/status": {"type": "Property", "value": "ok"},
                          "https://smartdatamodels.org/dataModel.Streetlighting/powerState": {"type": "Property", "value": "on"},
                          "https://uri.etsi.org/ngsi-ld/location": {"type": "GeoProperty", "value": LAMP_KV["location"]}}),
    ("inline @context", {"@context": [{"etat": "https://smartdatamodels.org/dataModel.Streetlighting/status",
                                       "sl": "https://smartdatamodels.org/dataModel.Streetlighting/"}],
                         "id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "sl:Streetlight", "etat": "ok", "sl:powerState": "on",
                         "location": LAMP_KV["location"]}),
    ("GeoJSON Feature", {"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "Feature", "geometry": LAMP_KV["location"],
                         "properties": {"type": "Streetlight", "status": "ok", "powerState": "on"}}),
    ("FeatureCollection", {"type": "FeatureCollection", "features": [{"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "Feature",
                           "geometry": LAMP_KV["location"], "properties": {"type": "Streetlight", "status": "ok", "powerState": "on"}}]}),
    ("v2 notification", {"subscriptionId": "5", "data": [LAMP_KV]}),
    ("LD notification", {"id": "urn:ngsi-ld:Notification:1", "type": "Notification", "notifiedAt": "2026-06-21T18:00:00Z", "data": [LAMP_KV]}),
])
def test_every_representation_gives_the_same_lamp(name: str, body: dict) -> None:
    m = one(body)
    assert isinstance(m, Mapped), m
    assert m.asset.id == "urn:ngsi-ld:Streetlight:lamp-1"
    assert (m.reading.status, m.reading.powerState) == ("ok", "on")
    assert m.asset.geometry.coordinates == (3.87, 43.61)


def test_a_link_header_context_applies_to_every_entity() -> None:
    body = [{"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "https://smartdatamodels.org/dataModel.Streetlighting/status": "ok"}]
    assert read_notification(body, context=["https://example.org/ctx.jsonld"])[0].attrs["status"].value == "ok"


def test_keyvalues_declared_by_the_broker_is_read_literally() -> None:
    body = {"data": [{**LAMP_KV, "status": {"value": "ok", "note": "kept whole"}}]}
    entity = read_notification(body, attrs_format="keyValues")[0]
    assert entity.attrs["status"].value == {"value": "ok", "note": "kept whole"}


def test_the_values_format_is_refused_as_a_whole() -> None:
    with pytest.raises(NotificationError) as err:
        read_notification({"data": [[23, 70]]}, attrs_format="values")
    assert err.value.reason == "no_entity_id"


# --- units, numbers, times --------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "quantity", "unit", "default", "expected"), [
    ("26.5", "pressure", "BAR", None, 26.5),
    (20, "pressure", "MTR", None, 1.96133),
    (350, "pressure", "KPA", None, 3.5),
    (1013, "pressure", "MBR", None, 1.013),
    (20, "pressure", None, "MTR", 1.96133),
    (20, "flow", "G51", None, 72.0),
    (2, "flow", "MQS", None, 7200.0),
    ("1.5", "power", "KWT", None, 1500.0),
    (10, "speed", "MTS", None, 36.0),
    (45, "fraction", "P1", None, 0.45),
    (0.2, "concentration", "GL", None, 200.0),
    (203, "diameter", "MMT", None, 203.0),
])
def test_numbers_and_unit_codes_become_vigie_units(raw, quantity, unit, default, expected) -> None:
    assert convert(raw, quantity, unit, default) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("raw", ["NaN", "inf", "1e999", "12 bar", True, None, "", "0x10", [1]])
def test_what_is_not_a_number_is_refused(raw) -> None:
    with pytest.raises(UnitError):
        number(raw)


def test_an_unknown_unit_is_never_guessed() -> None:
    with pytest.raises(UnitError, match="not one Vigie converts"):
        convert(3, "pressure", "FOO")


@pytest.mark.parametrize(("raw", "start", "end"), [
    ("2016-12-07T11:10:00/2016-12-07T11:15:00", "2016-12-07T11:10:00+00:00", "2016-12-07T11:15:00+00:00"),
    ("2016-12-07T11:10:00Z/PT5M", "2016-12-07T11:10:00+00:00", "2016-12-07T11:15:00+00:00"),
    ("PT1H/2016-12-07T12:00:00+01:00", "2016-12-07T11:00:00+01:00", "2016-12-07T12:00:00+01:00"),
    ("2016-12-07T11:10:00/11:15:00", "2016-12-07T11:10:00+00:00", "2016-12-07T11:15:00+00:00"),
])
def test_iso_intervals(raw: str, start: str, end: str) -> None:
    assert tuple(t.isoformat() for t in interval(raw)) == (start, end)


def test_a_json_ld_typed_date_and_a_date_without_offset_are_read() -> None:
    assert instant({"@type": "DateTime", "@value": "2016-07-08T08:02:21.753Z"}).year == 2016
    assert instant("2016-12-07T11:10:00").tzinfo is not None


def test_intensity_counted_over_a_period_becomes_vehicles_per_hour() -> None:
    flow = {"id": "f1", "type": "TrafficFlowObserved", "intensity": "50", "dateObservedFrom": "2026-06-21T08:00:00Z",
            "dateObservedTo": "2026-06-21T08:15:00Z", "averageVehicleSpeed": {"value": 10, "unitCode": "MTS"}}
    m = one(flow)
    assert (m.reading.intensity, m.reading.averageVehicleSpeed) == (200.0, 36.0)


def test_v2_metadata_carries_the_unit_and_numbers_may_be_strings() -> None:
    lamp = {"id": "l", "type": "Streetlight", "powerConsumption": {"type": "Number", "value": "1.2", "metadata": {"unitCode": {"type": "Text", "value": "KWT"}}},
            "illuminanceLevel": {"type": "percentage", "value": "40"}}
    m = one(lamp)
    assert (m.reading.powerConsumption, m.reading.illuminanceLevel) == (1200.0, 0.4)


@pytest.mark.parametrize(("attr", "metres"), [
    ({"type": "Property", "value": 45, "metadata": {"unitCode": {"type": "Text", "value": "CMT"}}}, 0.45),  # x-ngsiv2-normalized
    ({"type": "Property", "value": 330, "metadata": {"unitCode": {"type": "Text", "value": "CMT"}}}, 3.3),
    ({"type": "Number", "value": 45, "metadata": {"unitCode": {"type": "Text", "value": "CMT"}}}, 0.45),  # NGSIv2 normalized
    ({"type": "Property", "value": 45, "unitCode": "CMT"}, 0.45),  # NGSI-LD normalized
    ({"type": "Property", "value": {"value": 45, "unitCode": "CMT"}}, 0.45),  # EPANET's object, unit inside
    ({"type": "Property", "value": 4.5}, 4.5),  # no unit: the model's (metres)
])
def test_a_unit_code_is_honoured_wherever_the_representation_puts_it(attr: dict, metres: float) -> None:
    m = one({"id": "t1", "type": "Tank", "level": attr})
    assert m.reading.level == pytest.approx(metres) and not m.warnings


def test_an_observation_time_in_v2_metadata_is_read_from_ngsi_ld_typed_attributes_too() -> None:
    entity = read_notification({"id": "t1", "type": "Tank", "level": {"type": "Property", "value": 2,
                                "metadata": {"observedAt": {"type": "DateTime", "value": "2026-06-21T17:00:00Z"}}}})[0]
    assert entity.attrs["level"].observed_at == "2026-06-21T17:00:00Z"


# --- observation time ---------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "expected"), [
    ({"TimeInstant": "2015-12-12 11:11:11.123"}, "2015-12-12T11:11:11.123000+00:00"),  # Cygnus' form
    ({"TimeInstant": {"type": "DateTime", "value": "2015-12-12T11:11:11.123Z"}}, "2015-12-12T11:11:11.123000+00:00"),
    ({"dateObserved": "2017-01-31T06:45:00Z"}, "2017-01-31T06:45:00+00:00"),
    ({"dateObserved": "2016-12-07T11:10:00/2016-12-07T11:15:00"}, "2016-12-07T11:15:00+00:00"),  # the end of the period
    ({"dateModified": "2026-06-21T17:59:00+02:00"}, "2026-06-21T17:59:00+02:00"),
    ({"powerState": {"type": "Property", "value": "on", "observedAt": "2026-06-21T17:30:00Z"}, "dateModified": "2026-06-21T17:59:00Z"},
     "2026-06-21T17:30:00+00:00"),  # the reading's own observedAt first
    ({"powerState": {"type": "Text", "value": "on", "metadata": {"TimeInstant": {"type": "DateTime", "value": "2026-06-21T17:20:00Z"}}}},
     "2026-06-21T17:20:00+00:00"),
    ({}, None),
    ({"dateObserved": "2026-06-21T19:00:00Z"}, None),  # an hour ahead of Vigie's clock: not believed
])
def test_the_observation_time_comes_from_the_entity(extra: dict, expected: str | None) -> None:
    from services.ngsi.assetdefs import observed_at

    entity = read_notification({**LAMP_KV, **extra})[0]
    warnings: list[str] = []
    when = observed_at(entity, {"powerState", "status"}, NOW, warnings)
    assert (when.isoformat() if when else None) == expected
    assert bool(warnings) == ("19:00" in str(extra))


def test_an_old_observation_reaches_the_contract_with_its_time() -> None:
    from services.contract.messages import LightingReading

    if "observedAt" not in LightingReading.__struct_fields__:
        pytest.skip("the feed contract carries no observedAt yet")
    m = one({**LAMP_KV, "TimeInstant": "2015-12-12 11:11:11.123"})
    assert m.reading.observedAt == datetime(2015, 12, 12, 11, 11, 11, 123000, tzinfo=timezone.utc)
    assert one({**LAMP_KV, "dateObserved": "2026-06-21T19:00:00Z"}).reading.observedAt is None


# --- what is kept, what is trusted ------------------------------------------------------------


def test_unknown_attributes_are_kept_as_untrusted_properties_and_never_as_readings() -> None:
    lamp = {**LAMP_KV, "voltage": 230, "vendorFlag": "x", "municipalityInfo": {"district": "Centre"}, "temperature": 80}
    m = one(lamp)
    assert m.asset.props["ngsi.voltage"] == 230 and m.asset.props["ngsi.municipalityInfo"] == '{"district":"Centre"}'
    assert "temperature" not in m.reading.__struct_fields__ and m.asset.props["ngsi.temperature"] == 80


def test_a_known_reading_with_a_bad_value_is_dropped_with_a_warning_not_the_entity() -> None:
    m = one({**LAMP_KV, "powerState": "dim", "illuminanceLevel": 1.7})
    assert isinstance(m, Mapped) and m.reading.powerState is None and m.reading.illuminanceLevel is None
    assert any("powerState" in w for w in m.warnings) and any("illuminanceLevel" in w for w in m.warnings)


def test_properties_stay_within_the_contract_limits() -> None:
    m = one({**LAMP_KV, **{f"attr{i}": i for i in range(60)}})
    assert len(m.asset.props) <= 32 and m.asset.props["ngsi.more"] > 0


def test_geometries_the_contract_cannot_carry_are_reduced() -> None:
    group = example("StreetlightGroup", "example.json")
    assert one(group).asset.geometry.coordinates == [(100.0, 0.0), (101.0, 1.0)]  # the longest line of a MultiLineString
    area = {**LAMP_KV, "location": {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}}
    assert one(area).asset.geometry.coordinates == pytest.approx((1.0, 1.0))  # the area's centroid, closing vertex counted once
    assert one({**LAMP_KV, "location": {"type": "Point", "coordinates": [200, 95]}}).asset.geometry is None


@pytest.mark.parametrize(("coordinates", "centre"), [
    ([[[0, 0], [4, 0], [4, -2], [0, -2], [0, 0]]], (2.0, -1.0)),  # the Cygnus example's rectangle
    ([[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]], (7 / 3, 7 / 3)),  # a hole
    ([[[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]], (1.0, 1.0)),  # clockwise
])
def test_a_polygon_is_placed_at_its_centroid(coordinates: list, centre: tuple) -> None:
    m = one({**LAMP_KV, "location": {"type": "Polygon", "coordinates": coordinates}})
    assert m.asset.geometry.coordinates == pytest.approx(centre)


def test_every_ref_of_a_multi_valued_relationship_is_kept() -> None:
    cabinet = {"id": "c1", "type": "StreetlightControlCabinet", "refStreetlightGroup": ["g1", "g2", "urn:ngsi-ld:StreetlightGroup:g3"]}
    assert one(cabinet).asset.refs == {"group": "urn:ngsi-ld:StreetlightGroup:g1", "group.2": "urn:ngsi-ld:StreetlightGroup:g2",
                                       "group.3": "urn:ngsi-ld:StreetlightGroup:g3"}


# --- domains ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("entity", "hint", "expected"), [
    ({"id": "d", "type": "Device", "controlledProperty": ["pressure"]}, None, "water"),
    ({"id": "d", "type": "Device", "controlledAsset": "urn:ngsi-ld:Streetlight:lamp-1"}, None, "lighting"),
    ({"id": "d", "type": "Device", "controlledProperty": "temperature"}, None, "no_domain"),
    ({"id": "d", "type": "Device", "controlledProperty": "temperature"}, "traffic", "traffic"),
    ({"id": "a", "type": "Alert", "category": "traffic", "alertSource": "x"}, None, "traffic"),
    ({"id": "a", "type": "Alert", "category": "security", "alertSource": "urn:ngsi-ld:Pipe:p1"}, None, "water"),
    (LAMP_KV, "water", "wrong_domain"),
    (LAMP_KV, "gas", "bad_domain"),
])
def test_the_domain_comes_from_the_model_the_related_asset_or_the_source(entity: dict, hint: str | None, expected: str) -> None:
    m = one(entity, hint=hint)
    assert (m.domain if isinstance(m, Mapped) else m.reason) == expected


def test_a_known_asset_tells_an_alerts_domain() -> None:
    alert = {"id": "a", "type": "Alert", "category": "security", "alertSource": "lamp-00001"}
    assert one(alert, lookup={"lamp-00001": "lighting"}.get).domain == "lighting"


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("entity", "reason"), [
    ({**LAMP_KV, "name": "<b>Rue Foch</b>"}, "markup_in_text"),
    ({**LAMP_KV, "name": "Rue\u202eFoch"}, "markup_in_text"),
    ({**LAMP_KV, "id": "lamp one"}, "bad_id"),
    ({**LAMP_KV, "id": "x" * 200}, "bad_id"),
    ({**LAMP_KV, "id": 7}, "missing_id"),
    ({**LAMP_KV, "type": ["Streetlight"]}, None),
    ({**LAMP_KV, "type": 3}, "missing_type"),
    ({"id": "a", "type": "Alert", "category": "traffic", "description": "<img src=x onerror=alert(1)>"}, "markup_in_text"),
    ({**LAMP_KV, **{f"a{i}": i for i in range(400)}}, "too_many_attributes"),
])
def test_hostile_entities_are_refused_with_a_reason(entity: dict, reason: str | None) -> None:
    m = one(entity)
    assert (m.reason if isinstance(m, Refusal) else None) == reason


def test_markup_in_an_untrusted_attribute_is_not_kept() -> None:
    m = one({**LAMP_KV, "comment": "<script>x</script>"})
    assert isinstance(m, Mapped) and "ngsi.comment" not in m.asset.props


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"data": [', "bad_json"), (b"[" * 3000 + b"]" * 3000, "bad_json"), (b'{"a": NaN}', "bad_json"),
    (b'"\xff"', "bad_encoding"), (b"x" * 100, "bad_json"),
])
def test_payloads_that_are_not_json_are_refused(payload: bytes, reason: str) -> None:
    with pytest.raises(NotificationError) as err:
        decode_json(payload)
    assert err.value.reason == reason


def test_notifications_have_limits() -> None:
    with pytest.raises(NotificationError, match="limit"):
        decode_json(b" " * 100, max_bytes=10)
    with pytest.raises(NotificationError) as err:
        read_notification({"data": [LAMP_KV] * 1001})
    assert err.value.reason == "too_many_entities"
    for body in ("text", 42, None, {"something": "else"}, {"data": {"id": "x"}}):
        with pytest.raises(NotificationError):
            read_notification(body)


# --- channels ------------------------------------------------------------------------------


def test_the_ngsi_kind_is_declared_in_the_contract_and_source_ids_are_supervisor_ids() -> None:
    assert NGSI_KIND in ADAPTED_KINDS
    assert source_supervisor("orion-mtp", "water") == "ngsi-orion-mtp-water"
    assert parse_ngsi_channel(b"sup.water.ngsi-orion-mtp-water.ngsi") == ("water", "ngsi-orion-mtp-water")
    for bad in ("sup.gas.x.ngsi", "sup.water.x.state", "sup.water.a b.ngsi", "cmd.water.x"):
        assert parse_ngsi_channel(bad) is None
    with pytest.raises(ValueError):
        source_supervisor("orion mtp", "water")
