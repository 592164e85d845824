"""The NGSI endpoints through Flask's test client: notifications in (answers, refusals, metrics), the NGSI-LD API out."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest
from flask import Flask

from services.contract import Alarm, AlarmEvent, AssetDef, LightingReading, LineString, Point, State, TrafficReading
from services.core import Hypervisor
from services.metrics import Metrics
from services.ngsi.relay import NotTaken
from services.feed.reader import sort_alarms
from services.territory.geo import extent
from services.web.ngsi import create_ngsi_blueprint, token_gate

SDM = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"
TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TS = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)


class CoreReader:
    """The reader's answers, straight from a Hypervisor (the JSON shapes LocalReader gives)."""

    def __init__(self, core: Hypervisor) -> None:
        self.core = core

    def assets(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        found = sorted(self.core.state.query(domain=domain, type=type, condition=condition, bbox=bbox), key=lambda a: a.id)
        return len(found), [msgspec.json.decode(msgspec.json.encode(a.to_dict())) for a in found[offset : offset + limit]]

    def asset(self, asset_id):
        a = self.core.state.get(asset_id)
        return None if a is None else msgspec.json.decode(msgspec.json.encode(a.to_dict()))

    def alarms(self, active_only=True, limit=None):
        return sort_alarms([a.to_dict() for a in self.core.alarms.all()], active_only, limit)


def _territory() -> Hypervisor:
    core = Hypervisor()
    env = {"v": 1, "ts": TS, "snapshot": "s1"}
    lamps = [AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}", geometry=Point(coordinates=(3.8767 + i * 0.001, 43.6108)),
                      refs={"group": "group-1"}) for i in range(5)]
    readings = [LightingReading(asset=f"lamp-{i}", status="ok" if i else "brokenLantern", powerState="on" if i else "off",
                                illuminanceLevel=1.0 if i else 0.0) for i in range(5)]
    core.handle(State[LightingReading](**env, kind="state", domain="lighting", supervisor="lum", seq=1, assets=lamps, readings=readings), 0)
    road = AssetDef(id="seg-1", type="RoadSegment", name="Avenue", geometry=LineString(coordinates=[(3.87, 43.60), (3.88, 43.61)]))
    core.handle(State[TrafficReading](**env, kind="state", domain="traffic", supervisor="tra", seq=1, assets=[road],
                                      readings=[TrafficReading(asset="seg-1", intensity=900.0, congested=True)]), 0)
    fault = AlarmEvent(id="lamp_fault:lamp-0", asset="lamp-0", action="raise", severity="minor", code="lamp_fault", message="Lanterne cassée")
    core.handle(Alarm(v=1, kind="alarm", domain="lighting", supervisor="lum", ts=TS, seq=2, events=[fault]), 0)
    return core


@pytest.fixture
def client_and_bus():
    sent: list[tuple[str, bytes]] = []
    metrics = Metrics()
    app = Flask("ngsi-unit")
    bp = create_ngsi_blueprint(CoreReader(_territory()), lambda ch, p: sent.append((ch, p)), authorize=token_gate([TOKEN]), metrics=metrics)
    app.register_blueprint(bp)
    return app.test_client(), sent, metrics


def post(client, path: str, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, headers={**AUTH, "Content-Type": "application/json", **headers})


# --- notifications in ------------------------------------------------------------------------


def test_a_notification_is_mapped_answered_and_forwarded_per_domain(client_and_bus) -> None:
    client, sent, metrics = client_and_bus
    body = {"subscriptionId": "s", "data": [json.loads((SDM / m / "example.json").read_text()) for m in ("Streetlight", "Pipe", "Junction")]}
    r = post(client, "/ngsi/v2/notify?source=orion-mtp", body)
    assert r.status_code == 200 and len(r.get_json()["success"]) == 3 and r.get_json()["errors"] == []
    assert sorted(ch for ch, _ in sent) == ["sup.lighting.ngsi-orion-mtp-lighting.ngsi", "sup.water.ngsi-orion-mtp-water.ngsi"]
    water = msgspec.json.decode(dict(sent)["sup.water.ngsi-orion-mtp-water.ngsi"])
    assert [e["type"] for e in water["data"]] == ["Pipe", "Junction"]
    assert metrics.registry.get_sample_value("vigie_ngsi_notifications_total", {"api": "v2", "outcome": "accepted"}) == 1


def test_partial_success_says_which_entities_were_refused(client_and_bus) -> None:
    client, sent, metrics = client_and_bus
    body = {"data": [json.loads((SDM / "Streetlight" / "example.json").read_text()), {"id": "Room1", "type": "Room", "temperature": 23}]}
    r = post(client, "/ngsi-ld/v1/notify", body)
    assert r.status_code == 207
    (error,) = r.get_json()["errors"]
    assert (error["entityId"], error["reason"]) == ("Room1", "unsupported_type") and error["error"]["type"].endswith("BadRequestData")
    assert metrics.registry.get_sample_value("vigie_ngsi_refused_total", {"reason": "unsupported_type"}) == 1
    assert sent[0][0] == "sup.lighting.ngsi-default-lighting.ngsi"


def test_the_source_comes_from_the_url_or_the_tenant_headers(client_and_bus) -> None:
    client, sent, _ = client_and_bus
    lamp = json.loads((SDM / "Streetlight" / "example.json").read_text())
    post(client, "/ngsi/v2/notify", {"data": [lamp]}, **{"Fiware-Service": "mtp3m"})
    post(client, "/ngsi-ld/v1/notify", {"data": [lamp]}, **{"NGSILD-Tenant": "broker2"})
    assert [ch for ch, _ in sent] == ["sup.lighting.ngsi-mtp3m-lighting.ngsi", "sup.lighting.ngsi-broker2-lighting.ngsi"]


def test_the_same_id_from_another_tenant_is_refused_with_a_reason_not_dropped() -> None:
    core, sent, metrics = Hypervisor(), [], Metrics()
    lamp = json.loads((SDM / "Streetlight" / "example.json").read_text())
    mine = AssetDef(id="urn:ngsi-ld:Streetlight:" + lamp["id"], type="Streetlight", name="Lanterne", geometry=Point(coordinates=(3.87, 43.61)))
    core.handle(State[LightingReading](v=1, ts=TS, snapshot="s1", kind="state", domain="lighting", supervisor="ngsi-mtp3m-lighting",
                                       seq=1, assets=[mine], readings=[]), 0)  # tenant mtp3m defined it first
    app = Flask("ngsi-tenants")
    app.register_blueprint(create_ngsi_blueprint(CoreReader(core), lambda ch, p: sent.append((ch, p)), authorize=token_gate([TOKEN]),
                                                 metrics=metrics))
    client = app.test_client()
    r = post(client, "/ngsi/v2/notify", {"data": [lamp]}, **{"Fiware-Service": "mtp3m"})
    assert r.status_code == 200 and len(sent) == 1
    for headers in ({"Fiware-Service": "other"}, {"NGSILD-Tenant": "other"}):
        r = post(client, "/ngsi/v2/notify", {"data": [lamp]}, **headers)
        assert (r.status_code, r.get_json()["reason"]) == (422, "other_source")
        (error,) = r.get_json()["errors"]
        assert error["entityId"] == lamp["id"] and "ngsi-mtp3m-lighting" in error["error"]["detail"]
    assert len(sent) == 1  # nothing forwarded for the other tenant
    assert metrics.registry.get_sample_value("vigie_ngsi_refused_total", {"reason": "other_source"}) == 2
    other = {**lamp, "id": "streetlight:other:1"}  # the other tenant's own ids are taken; only the clash is refused
    r = post(client, "/ngsi/v2/notify", {"data": [other, lamp]}, **{"Fiware-Service": "other"})
    assert r.status_code == 207 and r.get_json()["success"] == [other["id"]]
    assert [e["id"] for e in msgspec.json.decode(sent[-1][1])["data"]] == [other["id"]]


@pytest.mark.parametrize("model", ["Streetlight", "Junction", "Tank", "TrafficFlowObserved", "WaterQualityObserved"])
def test_official_entities_outside_the_territory_are_taken_flagged_and_counted(model: str) -> None:
    sent, metrics = [], Metrics()
    app = Flask("ngsi-extent")
    app.register_blueprint(create_ngsi_blueprint(CoreReader(Hypervisor()), lambda ch, p: sent.append((ch, p)), authorize=token_gate([TOKEN]),
                                                 metrics=metrics, extent=extent("montpellier")))  # the examples are in Spain
    entity = json.loads((SDM / model / "example.json").read_text())
    r = post(app.test_client(), "/ngsi/v2/notify", {"data": [entity]})
    assert r.status_code == 200 and r.get_json()["success"] == [entity["id"]] and len(sent) == 1  # taken all the same
    assert any("outside the territory's extent" in w for w in r.get_json()["warnings"][entity["id"]])
    domain = sent[0][0].split(".")[1]
    assert metrics.registry.get_sample_value("vigie_ngsi_outside_extent_total", {"domain": domain}) == 1


def test_an_entity_within_the_territory_is_not_flagged() -> None:
    metrics = Metrics()
    app = Flask("ngsi-extent")
    app.register_blueprint(create_ngsi_blueprint(CoreReader(Hypervisor()), lambda ch, p: None, authorize=token_gate([TOKEN]),
                                                 metrics=metrics, extent=extent("montpellier")))
    lamp = {**json.loads((SDM / "Streetlight" / "example.json").read_text()), "location": {"type": "Point", "coordinates": [3.8767, 43.6108]}}
    road = {**json.loads((SDM / "TrafficFlowObserved" / "example.json").read_text()),  # leaves the territory, starts in it
            "location": {"type": "LineString", "coordinates": [[3.95, 43.60], [5.0, 45.0]]}}
    r = post(app.test_client(), "/ngsi/v2/notify", {"data": [lamp, road]})
    assert r.status_code == 200 and not any("extent" in w for ws in r.get_json()["warnings"].values() for w in ws)
    assert metrics.registry.get_sample_value("vigie_ngsi_outside_extent_total", {"domain": "lighting"}) is None


def test_a_link_header_context_is_forwarded_inline(client_and_bus) -> None:
    client, sent, _ = client_and_bus
    lamp = {"id": "urn:ngsi-ld:Streetlight:x", "type": "Streetlight", "status": {"type": "Property", "value": "ok"}}
    link = '<https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    assert post(client, "/ngsi-ld/v1/notify", {"data": [lamp]}, Link=link).status_code == 200
    assert msgspec.json.decode(sent[0][1])["@context"] == [link[1:link.index(">")]]


@pytest.mark.parametrize(("path", "body", "headers", "status", "reason"), [
    ("/ngsi/v2/notify", b"{", {}, 400, "bad_json"),
    ("/ngsi/v2/notify", {"data": [{"id": "Room1", "type": "Room"}]}, {}, 422, "unsupported_type"),
    ("/ngsi/v2/notify", {"data": [[23, 70]]}, {}, 422, "no_entity_id"),
    ("/ngsi/v2/notify", {"data": []}, {}, 422, "not_a_notification"),
    ("/ngsi/v2/notify?source=bad%20name", {"data": []}, {}, 400, "bad_source"),
    ("/ngsi/v2/notify?domain=gas", {"data": []}, {}, 400, "bad_domain"),
    ("/ngsi/v2/notify", {"data": []}, {"Content-Type": "text/html"}, 415, "bad_json"),
    ("/ngsi/v2/notify", {"data": [{"id": "l", "type": "Streetlight", "name": "<b>x</b>"}]}, {}, 422, "markup_in_text"),
    ("/ngsi/v2/notify?domain=water", {"data": [{"id": "l", "type": "Streetlight"}]}, {}, 422, "wrong_domain"),
    ("/ngsi-ld/v1/notify", {"data": [{"id": "d", "type": "Device"}]}, {}, 422, "no_domain"),
])
def test_refused_notifications_answer_with_a_reason(client_and_bus, path, body, headers, status, reason) -> None:
    client, sent, metrics = client_and_bus
    r = post(client, path, body, **headers)
    assert (r.status_code, r.get_json()["reason"]) == (status, reason)
    assert r.get_json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/") and r.get_json()["detail"]
    assert sent == [] and metrics.registry.get_sample_value("vigie_ngsi_refused_total", {"reason": reason}) >= 1


def test_notifications_need_the_token_and_a_body_within_the_limit(client_and_bus) -> None:
    client, sent, _ = client_and_bus
    assert client.post("/ngsi/v2/notify", data=b"{}", headers={"Content-Type": "application/json"}).status_code == 401
    assert post(client, "/ngsi/v2/notify", b"{}", Authorization="Bearer nope").status_code == 403
    big = b'{"data": []}' + b" " * (4 * 1024 * 1024)
    assert post(client, "/ngsi/v2/notify", big).status_code == 413


@pytest.mark.parametrize("reason", ["no_relay", "bus_unavailable"])
def test_a_notification_the_bus_cannot_take_is_a_503(reason: str) -> None:
    def forward(channel: str, payload: bytes) -> None:
        raise NotTaken(reason, "not taken")

    app = Flask("ngsi-nobody")
    app.register_blueprint(create_ngsi_blueprint(CoreReader(Hypervisor()), forward, authorize=token_gate([TOKEN]), metrics=Metrics()))
    r = post(app.test_client(), "/ngsi/v2/notify", {"data": [json.loads((SDM / "Streetlight" / "example.json").read_text())]})
    assert (r.status_code, r.get_json()["reason"]) == (503, reason)


# --- the NGSI-LD API out -----------------------------------------------------------------------


def get(client, url: str, **headers):
    return client.get(url, headers={**AUTH, **headers})


def test_entities_by_type_with_count_and_pages(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/entities?type=Streetlight&limit=2&offset=1&count=true")
    assert r.status_code == 200 and r.headers["NGSILD-Results-Count"] == "5"
    assert [e["id"] for e in r.get_json()] == ["urn:ngsi-ld:Streetlight:lamp-1", "urn:ngsi-ld:Streetlight:lamp-2"]
    assert r.get_json()[0]["status"] == {"type": "Property", "value": "ok"}
    assert r.headers["Link"].startswith("<http://localhost/ngsi-ld/v1/jsonldContexts/vigie.jsonld>") and r.mimetype == "application/json"
    everything = "type=Streetlight,RoadSegment,TrafficFlowObserved,Alert"
    assert get(client, f"/ngsi-ld/v1/entities?{everything}&limit=0&count=true").headers["NGSILD-Results-Count"] == "8"  # 5 lamps, a road and its flow, an alert


def test_json_ld_carries_the_context_and_keyvalues_is_the_simplified_form(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/entities?type=TrafficFlowObserved&options=keyValues", Accept="application/ld+json")
    (flow,) = r.get_json()
    assert r.mimetype == "application/ld+json" and "Link" not in r.headers
    assert (flow["id"], flow["intensity"], flow["congested"]) == ("urn:ngsi-ld:TrafficFlowObserved:seg-1", 900.0, True)
    assert flow["@context"][0].endswith("dataModel.Transportation/master/context.jsonld")


def test_q_and_id_and_attrs(client_and_bus) -> None:
    client, _, _ = client_and_bus
    broken = get(client, '/ngsi-ld/v1/entities?type=Streetlight&q=status=="brokenLantern"&options=keyValues').get_json()
    assert [e["id"] for e in broken] == ["urn:ngsi-ld:Streetlight:lamp-0"]
    two = get(client, "/ngsi-ld/v1/entities?id=urn:ngsi-ld:Streetlight:lamp-3,urn:ngsi-ld:Streetlight:lamp-1&attrs=status&options=keyValues")
    assert two.get_json() == [{"id": "urn:ngsi-ld:Streetlight:lamp-1", "type": "Streetlight", "status": "ok"},
                              {"id": "urn:ngsi-ld:Streetlight:lamp-3", "type": "Streetlight", "status": "ok"}]


def test_geo_queries_near_and_within(client_and_bus) -> None:
    client, _, _ = client_and_bus
    near = get(client, "/ngsi-ld/v1/entities?type=Streetlight&georel=near;maxDistance==100&geometry=Point&coordinates=[3.8767,43.6108]")
    assert [e["id"] for e in near.get_json()] == ["urn:ngsi-ld:Streetlight:lamp-0", "urn:ngsi-ld:Streetlight:lamp-1"]
    box = "[[[3.8780,43.60],[3.8900,43.60],[3.8900,43.62],[3.8780,43.62],[3.8780,43.60]]]"
    within = get(client, f"/ngsi-ld/v1/entities?type=Streetlight&georel=within&geometry=Polygon&coordinates={box}")
    assert [e["id"] for e in within.get_json()] == [f"urn:ngsi-ld:Streetlight:lamp-{i}" for i in (2, 3, 4)]


def test_active_alarms_are_alerts_with_their_lifecycle(client_and_bus) -> None:
    client, _, _ = client_and_bus
    (alert,) = get(client, "/ngsi-ld/v1/entities?type=Alert&options=keyValues").get_json()
    assert alert["id"] == "urn:ngsi-ld:Alert:lum~2Flamp_fault:lamp-0"
    assert (alert["alarmState"], alert["acknowledged"], alert["priority"]) == ("active_unack", False, "low")
    assert alert["alertSource"] == "urn:ngsi-ld:Streetlight:lamp-0" and alert["location"]["type"] == "Point"
    one = get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:Alert:lum~2Flamp_fault:lamp-0?options=keyValues")
    assert one.status_code == 200 and one.get_json()["category"] == "security"


def test_one_entity_by_id_and_a_missing_one(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:lamp-2")
    assert r.status_code == 200 and r.get_json()["refStreetlightGroup"] == {"type": "Relationship", "object": "urn:ngsi-ld:StreetlightGroup:group-1"}
    missing = get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:nope")
    assert missing.status_code == 404 and missing.get_json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:Junction:lamp-2").status_code == 404  # right id, wrong type


def test_geojson_is_offered(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/entities?type=Streetlight&limit=1&options=keyValues", Accept="application/geo+json")
    body = r.get_json()
    assert r.mimetype == "application/geo+json" and body["type"] == "FeatureCollection"
    assert body["features"][0]["geometry"]["type"] == "Point" and body["features"][0]["properties"]["status"] == "brokenLantern"


@pytest.mark.parametrize(("query", "status", "kind"), [
    ("q=status==", 400, "BadRequestData"), ("limit=5000", 403, "TooManyResults"), ("georel=near&geometry=Point", 400, "BadRequestData"),
    ("idPattern=.*", 422, "OperationNotSupported"), ("q=name~=x", 422, "OperationNotSupported"),
    ("", 400, "BadRequestData"), ("limit=5", 400, "BadRequestData"),  # no selector: the specification refuses it
])
def test_bad_queries_get_problem_details(client_and_bus, query: str, status: int, kind: str) -> None:
    client, _, _ = client_and_bus
    r = get(client, f"/ngsi-ld/v1/entities?{query}" + ("&type=Streetlight" if query.startswith(("q=", "limit=5000", "georel")) else ""))
    assert r.status_code == status and r.get_json()["type"] == f"https://uri.etsi.org/ngsi-ld/errors/{kind}" and r.get_json()["title"]


def test_reading_needs_the_token_and_the_context_document_is_served(client_and_bus) -> None:
    client, _, _ = client_and_bus
    assert client.get("/ngsi-ld/v1/entities?type=Streetlight").status_code == 401
    ctx = get(client, "/ngsi-ld/v1/jsonldContexts/vigie.jsonld")
    assert ctx.mimetype == "application/ld+json" and ctx.get_json()["@context"][-1].endswith("ngsi-ld-core-context.jsonld")


def test_a_road_is_served_as_its_road_segment_and_its_flow_observation(client_and_bus) -> None:
    client, _, _ = client_and_bus
    (road,) = get(client, "/ngsi-ld/v1/entities?type=RoadSegment&options=keyValues").get_json()
    assert (road["id"], road["name"], road["startPoint"]["coordinates"]) == ("urn:ngsi-ld:RoadSegment:seg-1", "Avenue", [3.87, 43.60])
    flow = get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:TrafficFlowObserved:seg-1?options=keyValues").get_json()
    assert flow["refRoadSegment"] == "urn:ngsi-ld:RoadSegment:seg-1" and flow["congested"] is True
    assert get(client, "/ngsi-ld/v1/entities/urn:ngsi-ld:RoadSegment:seg-1").status_code == 200


def test_unsupported_accept_is_406_and_a_wildcard_is_json(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/entities?type=Streetlight", Accept="application/xml")
    assert r.status_code == 406 and r.get_json()["type"].endswith("/NotAcceptable")
    assert get(client, "/ngsi-ld/v1/entities?type=Streetlight", Accept="*/*").mimetype == "application/json"


def test_types_and_attributes_are_listed(client_and_bus) -> None:
    client, _, _ = client_and_bus
    r = get(client, "/ngsi-ld/v1/types")
    assert r.status_code == 200 and r.get_json()["type"] == "EntityTypeList"
    assert r.get_json()["typeList"] == ["Alert", "RoadSegment", "Streetlight", "TrafficFlowObserved"]
    details = {t["typeName"]: t for t in get(client, "/ngsi-ld/v1/types?details=true").get_json()}
    assert "powerState" in details["Streetlight"]["attributeNames"]
    info = get(client, "/ngsi-ld/v1/types/Streetlight").get_json()
    assert (info["type"], info["entityCount"]) == ("EntityTypeInfo", 5)
    assert get(client, "/ngsi-ld/v1/types/Room").status_code == 404
    names = get(client, "/ngsi-ld/v1/attributes").get_json()
    assert names["type"] == "AttributeList" and {"refRoadSegment", "alarmState", "illuminanceLevel"} <= set(names["attributeList"])
