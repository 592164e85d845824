"""Vigie's simulated territory as Smart Data Models entities: every one validates against its official JSON Schema.

The schemas are the copies in tests/data/smart-data-models/ (see SOURCES.md there), their `$ref`s resolved
offline from the documents in its _common/ folder (common-schema.json, WaterNetworkManagement-schema.json and
the Alert and Device "commons").

Validating 41,000 entities one by one with jsonschema takes about a minute, so the check is done
column by column, which is exact for these schemas: each is an `allOf` of object schemas made of
`type`, `properties` and `required` only (asserted below), so an entity is valid if and only if its
required attributes are present and each attribute's value is valid against that attribute's
subschemas. Each distinct value is validated once against the official subschema (reached by its
JSON pointer through the registry); numbers are merged when the subschema has no numeric constraint
(and strings when it has no string constraint), keeping integers apart from decimals.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import msgspec
import pytest
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from services.contract import Codec
from services.core import Hypervisor
from services.ngsi import alerts, outbound
from services.simulators import build

SDM = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"
DOCUMENTS = {
    "https://smart-data-models.github.io/data-models/common-schema.json": SDM / "_common" / "common-schema.json",
    "https://fiware.github.io/dataModels/common-schema.json": SDM / "_common" / "common-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterDistributionManagementEPANET/master/WaterNetworkManagement-schema.json":
        SDM / "_common" / "WaterNetworkManagement-schema.json",
    "https://smart-data-models.github.io/dataModel.Alert/alert-schema.json": SDM / "_common" / "alert-schema.json",
    "https://smart-data-models.github.io/dataModel.Device/device-schema.json": SDM / "_common" / "device-schema.json",
}
OBJECT_LEVEL_FORBIDDEN = {"additionalProperties", "patternProperties", "propertyNames", "unevaluatedProperties", "dependentRequired",
                          "dependentSchemas", "dependencies", "if", "then", "else", "not", "anyOf", "oneOf", "minProperties",
                          "maxProperties", "enum", "const"}
NUMERIC = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
TEXTUAL = {"pattern", "format", "minLength", "maxLength"}
START = datetime(2026, 6, 21, 21, 0, tzinfo=timezone.utc)
# Every type Vigie serves has its official schema here; Pump's is transcribed from the model's model.yaml (its published
# schema.json is a stub; SOURCES.md).
SCHEMAS = sorted(t for t in outbound.SUBJECT if (SDM / t / "schema.json").exists())
# Required attributes Vigie has no value for in the simulated territory; it never invents them (docs/ngsi.md).
NOT_KNOWN = {"RoadSegment": {"allowedVehicleType"}, "Valve": {"startsAt", "endsAt"},
             "Pump": {"initialStatus", "startsAt", "endsAt"}}


@lru_cache(maxsize=None)
def _schema(sdm_type: str) -> dict:
    return json.loads((SDM / sdm_type / "schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def registry() -> Registry:
    resources = [(url, DRAFT202012.create_resource(json.loads(path.read_text(encoding="utf-8")))) for url, path in DOCUMENTS.items()]
    for t in SCHEMAS:
        s = _schema(t)
        resources.append((s["$id"], DRAFT202012.create_resource(s)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def branches(sdm_type: str) -> tuple[tuple[str, dict], ...]:
    """(base URI, object schema) of each allOf part, after checking that only type/properties/required matter."""
    schema = _schema(sdm_type)
    resolver = registry().resolver()
    out = []
    for i, part in enumerate(schema.get("allOf", [])):
        if "$ref" in part:
            out.append((part["$ref"], resolver.lookup(part["$ref"]).contents))
        else:
            out.append((f"{schema['$id']}#/allOf/{i}", part))
    for uri, part in out:
        assert not OBJECT_LEVEL_FORBIDDEN & part.keys(), (sdm_type, uri, OBJECT_LEVEL_FORBIDDEN & part.keys())
        assert part.get("type", "object") == "object"
    assert not OBJECT_LEVEL_FORBIDDEN & schema.keys()
    return tuple(out)


def _keywords(node: Any, resolver, seen: set[str]) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
        if "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            try:
                resolved = resolver.lookup(node["$ref"])
            except Unresolvable:  # a document not at hand: assume it constrains everything (merge nothing)
                yield "enum", [0, ""]
            else:
                yield from _keywords(resolved.contents, resolved.resolver, seen)
        for v in node.values():
            yield from _keywords(v, resolver, seen)
    elif isinstance(node, list):
        for v in node:
            yield from _keywords(v, resolver, seen)


@lru_cache(maxsize=None)
def column(sdm_type: str, attr: str) -> tuple[jsonschema.Draft202012Validator, bool, bool] | None:
    """The validator of one attribute of one type, and whether numbers / strings can be merged."""
    refs = [{"$ref": f"{uri}/properties/{attr.replace('~', '~0').replace('/', '~1')}" if "#" in uri else
             f"{uri}#/properties/{attr}"} for uri, part in branches(sdm_type) if attr in part.get("properties", {})]
    if not refs:
        return None  # an extension attribute: the schemas allow any
    numbers_free = strings_free = True
    resolver = registry().resolver()
    for ref in refs:
        for key, value in _keywords(ref, resolver, set()):
            if key in NUMERIC or (key in ("enum", "const") and any(isinstance(v, (int, float)) for v in (value if key == "enum" else [value]))):
                numbers_free = False
            if key in TEXTUAL or key == "uniqueItems" or (key in ("enum", "const") and any(isinstance(v, str) for v in (value if key == "enum" else [value]))):
                strings_free = False
            if not numbers_free and not strings_free:
                break
    inlined = [_inline(ref, resolver, ()) for ref in refs]
    validator = jsonschema.Draft202012Validator({"allOf": inlined}, registry=registry(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return validator, numbers_free, strings_free


def _inline(node: Any, resolver, trail: tuple[str, ...]) -> Any:
    """The subschema with its `$ref`s replaced by what they point to (the same schema, without lookups at validation)."""
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"] not in trail:
            try:
                resolved = resolver.lookup(node["$ref"])
            except Unresolvable:
                return node  # left as is: jsonschema reports it if validation ever reaches it
            rest = {k: _inline(v, resolver, trail) for k, v in node.items() if k != "$ref"}
            inner = _inline(resolved.contents, resolved.resolver, (*trail, node["$ref"]))
            return {"allOf": [inner, rest]} if rest else inner
        return {k: _inline(v, resolver, trail) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, resolver, trail) for v in node]
    return node


def canonical(value: Any, numbers: bool, strings: bool) -> Any:
    """A value standing for every value that the same subschema judges the same way."""
    if isinstance(value, dict):
        return {k: canonical(v, numbers, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v, numbers, strings) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)) and numbers:
        return 0 if float(value).is_integer() else 0.5
    if isinstance(value, str) and strings:
        return ""
    return value


@lru_cache(maxsize=None)
def required(sdm_type: str) -> frozenset[str]:
    """Attributes the schema requires (at the top or in any allOf part)."""
    return frozenset(_schema(sdm_type).get("required", [])).union(*(p.get("required", []) for _, p in branches(sdm_type)))


def violations(entities: list[dict]) -> list[str]:
    """Every way the entities break their official schemas."""
    problems: list[str] = []
    pending: dict[tuple[str, str], dict[Any, Any]] = {}
    for e in entities:
        if missing := required(e["type"]) - e.keys() - NOT_KNOWN.get(e["type"], set()):
            problems.append(f"{e['id']}: missing {sorted(missing)}")
        for attr, value in e.items():
            col = column(e["type"], attr)
            if col is not None:
                c = canonical(value, col[1], col[2])
                key = msgspec.json.encode(c, order="sorted") if isinstance(c, (dict, list)) else (type(c).__name__, c)
                pending.setdefault((e["type"], attr), {}).setdefault(key, (e["id"], value))
    for (t, attr), values in pending.items():
        validator = column(t, attr)[0]  # type: ignore[index]
        for eid, value in values.values():
            if not validator.is_valid(value):
                problems += [f"{eid}.{attr}: {err.message[:160]}" for err in validator.iter_errors(value)]
    return problems


@pytest.fixture(scope="module")
def territory() -> tuple[list[dict], list[dict]]:
    """The three simulated supervisors of Montpellier (seed 1) fed into a Hypervisor: (assets, alarms)."""
    core, codec = Hypervisor(), Codec()
    for domain in ("lighting", "water", "traffic"):
        sim = build(domain, seed=1, start=START)
        for ch, payload in sim.state():
            core.handle(codec.decode(ch, payload), START.timestamp())
        for _ in range(30):
            for ch, payload in sim.step():
                core.handle(codec.decode(ch, payload), START.timestamp())
    return [a.to_dict() for a in core.state.query()], [a.to_dict() for a in core.alarms.all()]


def test_every_type_served_has_its_official_schema() -> None:
    assert set(outbound.SUBJECT) - set(SCHEMAS) == set()


def test_every_asset_of_the_simulated_territory_validates_against_its_schema(territory) -> None:
    assets, _ = territory
    outs = [o for a in assets for o in outbound.asset_entities(a, area=outbound.territory_areas("montpellier"))]
    by_type: dict[str, int] = {}
    for o in outs:
        by_type[o.type] = by_type.get(o.type, 0) + 1
    assert set(by_type) == {"Streetlight", "StreetlightControlCabinet", "StreetlightGroup", "RoadSegment", "TrafficFlowObserved",
                            "Device", "Junction", "Pipe", "Pump", "Valve", "Reservoir", "WaterQualityObserved"}
    assert by_type["RoadSegment"] == by_type["TrafficFlowObserved"] > 8000  # a road and its observation, two entities
    assert len(outs) > 48_000
    assert violations([o.entity for o in outs if o.type in SCHEMAS]) == []
    assert all(o.entity["id"].startswith(f"urn:ngsi-ld:{o.type}:") for o in outs)  # no id contradicts its type


def test_a_brokers_pump_keeps_its_type_and_its_attributes_under_their_own_names() -> None:
    from services.contract import State, WaterReading
    from services.ngsi.intake import map_notification

    body = json.loads((SDM / "Pump" / "example-normalized.json").read_text(encoding="utf-8"))
    (m,) = map_notification(body, now=START).mapped["water"]
    core = Hypervisor()
    core.handle(State[WaterReading](v=1, kind="state", domain="water", supervisor="ngsi-o-water", ts=START, seq=1, snapshot="s",
                                    assets=[m.asset], readings=[m.reading]), START.timestamp())
    e = outbound.asset_entity(core.state.get(m.asset.id).to_dict()).entity
    assert (e["id"], e["type"], e["status"]) == ("urn:ngsi-ld:Pump:85zhnf58-0d4c-h4g854g-b7d0-3310klm", "Pump", "OPEN")
    assert (e["startsAt"], e["endsAt"], e["tag"]) == ("63fe7d79-0d4c-4da9-b7d0-3340efa0656a", "1863179e-3768-4480-9167-ff21f870dd19", "DMA1")
    assert e["flow"] == {"value": pytest.approx(20.0)}  # l/s, as it came
    for name in ("initialStatus", "power", "speed", "pumpPattern", "efficCurve", "energyPrice", "energyPattern"):
        assert e[name] == body[name]["value"], name
    for name in ("velocity", "quality", "energyUse"):
        assert e[name] == body[name]["value"], name
    assert "vigieProps" not in e
    assert required("Pump") <= e.keys()  # a broker's Pump has every required property
    # the one violation is the official example's own (velocity.observedBy "device-9845A" is not a uri), kept as sent
    assert [v.split(".", 4)[-1] for v in violations([e])] == ["velocity: 'device-9845A' is not a 'uri'"]


def test_every_alarm_of_the_simulated_territory_validates_as_an_alert(territory) -> None:
    assets, alarms = territory
    by_id = {a["id"]: a for a in assets}
    outs = [alerts.alarm_entity(al, by_id.get(al["asset"])) for al in alarms]
    assert len(outs) > 100
    assert violations([o.entity for o in outs]) == []


def test_the_validation_catches_what_the_schemas_forbid() -> None:
    lamp = {"id": "urn:ngsi-ld:Streetlight:x", "type": "Streetlight", "location": {"type": "Point", "coordinates": [3.8, 43.6]},
            "status": "ok", "illuminanceLevel": 0.5}
    assert violations([lamp]) == []
    assert violations([{**lamp, "status": "tripped"}])
    assert violations([{**lamp, "illuminanceLevel": 1.5}])
    assert violations([{**lamp, "location": {"type": "Point", "coordinates": [3.8]}}])
    assert violations([{k: v for k, v in lamp.items() if k != "status"}])
    assert violations([{**lamp, "id": "urn:ngsi-ld:Streetlight:a/b"}]) == []  # '/' is allowed through the uri form...
    assert violations([{**lamp, "refStreetlightGroup": "no spaces allowed"}])


def test_a_tripped_lamp_is_a_column_issue_for_the_model_and_keeps_its_vigie_status() -> None:
    lamp = {"id": "lamp-1", "type": "Streetlight", "name": "L1", "geometry": {"type": "Point", "coordinates": [3.8, 43.6]},
            "refs": {"cabinet": "cabinet-1", "group": "g/1"}, "props": {"powerRating": 100.0, "lampType": "LANTERNE"},
            "values": {"status": "tripped", "powerState": "off"}, "condition": "fault", "supervisor": "lum-mtp", "updated": 0.0}
    e = outbound.asset_entity(lamp).entity
    assert (e["status"], e["vigieStatus"]) == ("columnIssue", "tripped")
    assert e["refStreetlightGroup"] == "urn:ngsi-ld:StreetlightGroup:g~2F1"
    assert e["refStreetlightControlCabinet"] == "urn:ngsi-ld:StreetlightControlCabinet:cabinet-1"
    assert e["vigieProps"] == {"lampType": "LANTERNE"} and e["powerRating"] == 100.0
    assert e["dateModified"] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(("local", "sdm", "ngsi"), [
    ("lamp-00001", "Streetlight", "urn:ngsi-ld:Streetlight:lamp-00001"),
    ("lum-mtp/lamp_fault:lamp-1", "Alert", "urn:ngsi-ld:Alert:lum-mtp~2Flamp_fault:lamp-1"),
    ("a~b/c", "Device", "urn:ngsi-ld:Device:a~7Eb~2Fc"),
    ("urn:ngsi-ld:Junction:63fe", "Junction", "urn:ngsi-ld:Junction:63fe"),
])
def test_ngsi_ids_are_reversible(local: str, sdm: str, ngsi: str) -> None:
    assert outbound.ngsi_id(local, sdm) == ngsi
    assert local in outbound.local_candidates(ngsi)


def outbound_alert(alarm: dict) -> dict:
    return alerts.alarm_entity(alarm).entity


def test_an_alert_carries_the_alarm_lifecycle() -> None:
    alarm = {"id": "eau-mtp/eau-sensor-3:water_quality", "source": "supervisor", "domain": "water", "supervisor": "eau-mtp",
             "asset": "eau-sensor-3", "code": "water_quality", "severity": "major", "priority": "high", "message": "Chlore bas",
             "active": True, "acknowledged": True, "state": "active_ack", "raised_at": 100.0, "cleared_at": None, "updated_at": 160.0,
             "acked_by": "claire", "acked_at": 160.0, "raise_count": 2}
    sensor = {"id": "eau-sensor-3", "type": "Device", "props": {"measures": "quality"}, "geometry": {"type": "Point", "coordinates": [3.8, 43.6]}}
    e = alerts.alarm_entity(alarm, sensor).entity
    assert (e["category"], e["subCategory"], e["severity"]) == ("health", "waterPollution", "high")
    assert e["alertSource"] == "urn:ngsi-ld:WaterQualityObserved:eau-sensor-3"
    assert (e["alarmState"], e["acknowledged"], e["acknowledgedBy"], e["raiseCount"]) == ("active_ack", True, "claire", 2)
    assert e["location"] == sensor["geometry"] and e["dateIssued"] == "1970-01-01T00:01:40Z"
    shelved = outbound_alert({**alarm, "state": "shelved", "shelved_by": "marc", "shelved_until": 3700.0, "shelve_reason": "works"})
    assert (shelved["alarmState"], shelved["shelvedBy"], shelved["shelvedUntil"], shelved["shelveReason"]) == ("shelved", "marc", "1970-01-01T01:01:40Z", "works")
    child = alerts.alarm_entity({**alarm, "state": "suppressed", "parent": "eau-mtp/eau-pump-1:pump_fault"})
    assert child.entity["suppressedBy"] == "urn:ngsi-ld:Alert:eau-mtp~2Feau-pump-1:pump_fault" and "suppressedBy" in child.relationships
    assert violations([shelved, child.entity]) == []
    stale = {**alarm, "id": "vigie/supervisor_stale/eau-mtp", "source": "vigie", "asset": "eau-mtp", "code": "supervisor_stale"}
    assert alerts.alarm_entity(stale).entity["alertSource"] == "urn:vigie:supervisor:eau-mtp"


def test_the_normalized_form_marks_relationships_geoproperties_and_units() -> None:
    junction = {"id": "j-1", "type": "Junction", "geometry": {"type": "Point", "coordinates": [3.8, 43.6]}, "values": {"pressure": 4.2},
                "props": {"elevation": 31.0}, "refs": {"zone": "zone-1"}, "condition": "ok", "supervisor": "eau-mtp"}
    doc = outbound.render(outbound.asset_entity(junction), key_values=False, with_context=True)
    assert doc["pressure"] == {"type": "Property", "value": {"value": pytest.approx(4.2 / 0.0980665)}, "unitCode": "MTR"}  # EPANET's unit
    assert doc["location"]["type"] == "GeoProperty" and doc["elevation"]["unitCode"] == "MTR"
    assert doc["vigieRefs"] == {"type": "Property", "value": {"zone": "zone-1"}}
    ctx = doc["@context"]
    assert ctx[0].endswith("dataModel.WaterDistributionManagementEPANET/master/context.jsonld") and ctx[-1].endswith("core-context.jsonld")
    assert ctx[1]["condition"] == "vigie:condition" and ctx[1]["vigie"] == "urn:vigie:"


def test_the_context_never_redefines_a_smart_data_models_term(territory) -> None:
    """Expand each served attribute name through its entity's own @context, in order (a later definition wins, as in
    JSON-LD), the Smart Data Models contexts read from the vendored copies: every Smart Data Models term keeps its
    model's IRI, only Vigie's own words are urn:vigie:."""
    from services.ngsi.vocabulary import CONTEXT_DIR, SDM_CONTEXT_URL, sdm_terms

    files = {SDM_CONTEXT_URL.format(subject=p.stem): json.loads(p.read_text(encoding="utf-8"))["@context"]
             for p in CONTEXT_DIR.glob("dataModel.*.jsonld")}
    assets, alarms = territory
    by_id = {a["id"]: a for a in assets}
    outs = [o for a in assets for o in outbound.asset_entities(a)] + [alerts.alarm_entity(al, by_id.get(al["asset"])) for al in alarms]
    seen: dict[tuple[str, frozenset], outbound.Out] = {}
    for o in outs:
        seen.setdefault((o.type, frozenset(o.entity)), o)
    checked = 0
    for o in seen.values():
        terms: dict[str, str] = {}
        for item in o.context():
            ctx = files.get(item, {}) if isinstance(item, str) else item
            for term, target in ctx.items():
                iri = target["@id"] if isinstance(target, dict) else target
                prefix, _, rest = iri.partition(":")
                terms[term] = (ctx.get(prefix, prefix + ":") + rest) if prefix == "vigie" else iri
        for name in set(o.entity) - {"id", "type"}:
            checked += 1
            if name in sdm_terms():  # the model's own IRI (some are NGSI-LD core IRIs, e.g. Streetlight's status)
                assert terms.get(name) and not terms[name].startswith("urn:vigie:"), (o.type, name, terms.get(name))
            elif name != "location":  # location: the NGSI-LD core context's
                assert terms.get(name, "").startswith("urn:vigie:"), (o.type, name, terms.get(name))
    assert checked > 200  # distinct (type, attribute) pairs of the served entities
