"""Vigie's NGSI-LD output notified back to Vigie changes nothing: every served entity, in every representation a broker
may send it in (keyValues, NGSI-LD normalized, NGSIv2 normalized with `unitCode` metadata, Orion-LD's
x-ngsiv2-normalized), gives back the same values in the same units."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import msgspec
import pytest

from services.ngsi import outbound
from services.ngsi.entities import read_entity
from services.ngsi.inbound import Mapped, map_entity
from tests.unit.test_ngsi_outbound import territory  # noqa: F401 - the simulated territory, a module fixture

NOW = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)


def key_values(out: outbound.Out) -> dict:
    return outbound.render(out, key_values=True, with_context=False)


def ld_normalized(out: outbound.Out) -> dict:
    return outbound.render(out, key_values=False, with_context=True)


def _v2(out: outbound.Out, ld_types: bool) -> dict:
    """NGSIv2 normalized (`Number`/`Text` types) or Orion-LD's x-ngsiv2-normalized (NGSI-LD types), units as metadata."""
    doc: dict[str, Any] = {"id": out.entity["id"], "type": out.type}
    for name, attr in outbound.normalized(out).items():
        if name in ("id", "type"):
            continue
        value = attr.get("value", attr.get("object"))
        if ld_types:
            kind = attr["type"]
        else:
            kind = {"Relationship": "Relationship", "GeoProperty": "geo:json"}.get(attr["type"]) or _v2_type(value)
        v2: dict[str, Any] = {"type": kind, "value": value, "metadata": {}}
        if "unitCode" in attr:
            v2["metadata"]["unitCode"] = {"type": "Text", "value": attr["unitCode"]}
        doc[name] = v2
    return doc


def _v2_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    return "Text" if isinstance(value, str) else "StructuredValue"


REPRESENTATIONS: dict[str, Callable[[outbound.Out], dict]] = {
    "keyValues": key_values, "normalized": ld_normalized, "v2 normalized": lambda o: _v2(o, False),
    "x-ngsiv2-normalized": lambda o: _v2(o, True),
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == pytest.approx(b, rel=1e-9, abs=1e-9)
    if isinstance(b, datetime):
        return a == b.isoformat().replace("+00:00", "Z") or a == b.timestamp()
    return a == b


@pytest.mark.parametrize("representation", list(REPRESENTATIONS))
def test_every_served_entity_notified_back_keeps_every_value(territory, representation: str) -> None:  # noqa: F811
    assets, _ = territory
    render = REPRESENTATIONS[representation]
    changed: list[str] = []
    compared = 0
    for asset in assets:
        back: dict[str, Any] = {}
        for out in outbound.asset_entities(asset):  # a road is a RoadSegment and its TrafficFlowObserved
            m = map_entity(read_entity(render(out)), now=NOW, hint=asset["domain"])
            assert isinstance(m, Mapped), (asset["id"], m)
            if m.reading is not None:
                back.update({k: v for k, v in msgspec.structs.asdict(m.reading).items() if v is not None and k != "asset"})
        for name, value in (asset.get("values") or {}).items():
            compared += 1
            if name not in back or not _same(value, back[name]):
                changed.append(f"{asset['id']} ({asset['type']}).{name}: {value!r} -> {back.get(name)!r}")
        if asset.get("geometry") and m.asset.geometry is not None:
            assert msgspec.json.decode(msgspec.json.encode(m.asset.geometry))["coordinates"] == _coords(asset["geometry"])
    assert compared > 150_000
    assert changed == [], f"{len(changed)} of {compared} values changed, e.g. {changed[:8]}"


def _coords(geometry: dict) -> list:
    return msgspec.json.decode(msgspec.json.encode(geometry))["coordinates"]


def _served(body: dict, domain: str) -> outbound.Out:
    """A broker's entity taken in by Vigie (through the core, as the relay applies it) and served back."""
    from services.contract import State
    from services.contract.messages import READING_TYPES
    from services.core.hypervisor import Hypervisor

    m = map_entity(read_entity(body), now=NOW, hint=domain)
    assert isinstance(m, Mapped), m
    core = Hypervisor()
    core.handle(State[READING_TYPES[domain]](v=1, kind="state", domain=domain, supervisor=f"ngsi-o-{domain}", ts=NOW, seq=1,
                                             snapshot="s", assets=[m.asset], readings=[m.reading] if m.reading else []),
                NOW.timestamp())
    return outbound.asset_entity(core.state.get(m.asset.id).to_dict())


LAMP_SUBS = {"reliability": {"type": "Property", "value": 0.95},
             "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Device:luxmeter-7"}}


def test_sub_attributes_of_an_ngsi_ld_entity_go_back_out_on_their_attribute() -> None:
    body = {"id": "urn:ngsi-ld:Streetlight:sub-1", "type": "Streetlight",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3.88, 43.61]}},
            "status": {"type": "Property", "value": "ok"},
            "illuminanceLevel": {"type": "Property", "value": 0.5, "observedAt": "2026-06-21T21:59:00Z", **LAMP_SUBS}}
    out = _served(body, "lighting")
    doc = outbound.normalized(out)
    assert doc["illuminanceLevel"]["value"] == 0.5
    assert {k: doc["illuminanceLevel"][k] for k in LAMP_SUBS} == LAMP_SUBS
    assert "reliability" not in outbound.render(out, key_values=True, with_context=False)  # keyValues has no room for them
    assert "vigieProps" not in out.entity  # not shown as a property of the entity itself


def test_ngsiv2_metadata_other_than_unit_and_time_go_back_out_as_sub_attributes() -> None:
    body = {"id": "sub-2", "type": "Streetlight", "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [3.88, 43.61]}},
            "status": {"type": "Text", "value": "ok", "metadata": {}},
            "illuminanceLevel": {"type": "Number", "value": 0.5,
                                 "metadata": {"TimeInstant": {"type": "DateTime", "value": "2026-06-21T21:59:00.000Z"},
                                              "reliability": {"type": "Number", "value": 0.95},
                                              "providedBy": {"type": "Relationship", "value": "urn:ngsi-ld:Device:luxmeter-7"}}}}
    doc = outbound.normalized(_served(body, "lighting"))
    assert {k: doc["illuminanceLevel"][k] for k in LAMP_SUBS} == LAMP_SUBS
    assert "TimeInstant" not in doc["illuminanceLevel"]  # read as the observation time, not kept as a sub-attribute


def test_the_official_junction_keeps_who_observed_its_pressure() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "smart-data-models" / "Junction" / "example-normalized.jsonld"
    body = msgspec.json.decode(path.read_bytes())
    doc = outbound.normalized(_served(body, "water"))
    assert doc["pressure"]["observedBy"] == {"type": "Relationship", "object": "urn:ngsi-ld:Device:device-9845A"}
    assert doc["demandCategory"]["demandPattern"] == {"type": "Relationship", "object": "urn:ngsi-ld:Pattern:fbcb5fc8-8ca3-4533"}
    assert doc["demandCategory"]["baseDemand"]["unitCode"] == "MQS"
