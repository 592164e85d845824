"""Work orders end to end on the real stack (app factory, redis-server, engine, security): telemetry opens them,
people and an external GMAO move them through the API, telemetry verifies or reopens, every change is published on
`gmao.workorders` and audited, they survive a restart; rounds are computed over Montpellier's roads and exported."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import redis

from services.contract import (
    Alarm,
    AlarmEvent,
    LightingReading,
    State,
    encode,
    sup_channel,
)
from services.contract.messages import AssetDef, Point
from services.settings import Settings
from tests.factory import stack_settings
from tests.integration.signin import signed_in

pytestmark = pytest.mark.integration
PW = "correct horse battery"
# Five lamps on real Montpellier streets (the rounds run on the territory's road graph).
PLACES = [(3.8767, 43.6108), (3.8790, 43.6090), (3.8700, 43.6150), (3.8850, 43.6050), (3.8650, 43.6080)]
LAMPS = [f"lamp-{i}" for i in range(len(PLACES))]


class Feed:
    """Publishes a lighting supervisor's contract messages."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.seq = 0

    def env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": "lighting", "supervisor": "lum", "ts": datetime.now(UTC), "seq": self.seq}

    def send(self, msg) -> None:
        self.client.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))

    def territory(self) -> None:
        assets = [AssetDef(id=i, type="Streetlight", name=f"Lanterne {n}", geometry=Point(coordinates=PLACES[n]),
                           refs={"cabinet": f"cab-{n % 2}", "street": f"street-{n % 3}"}) for n, i in enumerate(LAMPS)]
        self.send(State[LightingReading](**self.env("state"), snapshot="s1", assets=assets,
                                         readings=[LightingReading(asset=i, status="ok") for i in LAMPS]))

    def fault(self, lamp: str, action: str = "raise", status: str = "brokenLantern") -> None:
        from services.contract import Telemetry

        if action == "raise":
            self.send(Telemetry[LightingReading](**self.env("telemetry"), readings=[LightingReading(asset=lamp, status=status)]))
        self.send(Alarm(**self.env("alarm"), events=[AlarmEvent(id=f"lamp_fault:{lamp}", asset=lamp, action=action, severity="minor",
                                                                code="lamp_fault", message=f"Broken lantern: {lamp}")]))


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def build(redis_url: str):
    from app import create_app

    room = create_app(stack_settings(Settings(redis_url=redis_url, run_simulators=False, snapshot_interval_s=0.2),
                                     anonymous_role=None), wait=False)
    assert room.ready, room.reason
    return room


@pytest.fixture
def stack(redis_url):
    gmao = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    gmao.subscribe("gmao.workorders")
    room = build(redis_url)
    security = room.server.extensions["vigie.security"]
    for name, role, domains in (("olga", "operator", "lighting"), ("walt", "operator", "water"), ("vera", "viewer", None)):
        security.store.create_user(name, role, domains, PW, now=time.time())
    _, token = security.store.create_token("GMAO Carl", "operator", "lighting", device=False, created_by="test", now=time.time())
    _, viewer = security.store.create_token("reader", "viewer", None, device=False, created_by="test", now=time.time())
    service = room.server.extensions["vigie.workorders"]
    service.book.verify_s = 1.0  # telemetry confirms a repair after 1 s without the fault (10 min of territory time when shipped)
    feed = Feed(redis_url)
    feed.territory()
    wait_until(lambda: len(room.runtime.reader.assets_geo("lighting")) == len(LAMPS), what="the lamps")
    yield room, service, feed, gmao, {"gmao": token, "viewer": viewer}
    gmao.close()
    room.stop()


def gmao_messages(pubsub, quiet_s: float = 0.5) -> list[dict]:
    """What the GMAO received until nothing came for `quiet_s` (a subscription confirmation reads as nothing)."""
    out, last = [], time.monotonic()
    while time.monotonic() - last < quiet_s:
        m = pubsub.get_message(timeout=0.1)
        if m is not None:
            out.append(json.loads(m["data"]))
            last = time.monotonic()
    return out


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def orders(client, **query) -> list[dict]:
    r = client.get("/api/v1/workorders", query_string=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["items"]


def test_a_lamp_fault_opens_one_work_order_published_for_the_gmao_and_not_an_operator_alarm(stack):
    room, service, feed, gmao, tokens = stack
    feed.fault("lamp-1")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    assert (order["asset"], order["fault"], order["status"], order["priority"], order["cabinet"], order["source"]) == (
        "lamp-1", "brokenLantern", "open", "normal", "cab-1", "telemetry")
    assert order["lon"] == pytest.approx(PLACES[1][0]) and order["fault_active"] is True
    service.flush()
    sent = wait_until(lambda: gmao_messages(gmao), what="the GMAO message")
    assert sent[0]["v"] == 1 and sent[0]["event"] == "opened" and sent[0]["order"]["id"] == order["id"]
    alarm = next(a for a in room.runtime.reader.alarms() if a["asset"] == "lamp-1")
    assert alarm.get("alarm_class", "maintenance") == "maintenance"  # the master alarm database hands it to maintenance
    feed.fault("lamp-1", "clear")  # a loose contact: the same fault raised again is the same order, not a second one
    feed.fault("lamp-1")
    wait_until(lambda: service.get(order["id"])["raises"] == 2, what="the fault's return")
    service.flush()
    assert len(_orders_with_token(room, tokens["viewer"])) == 1
    assert {m["event"] for m in gmao_messages(gmao)} == {"telemetry"}  # every change mirrored, this one nothing to act on


def _orders_with_token(room, token: str, **query) -> list[dict]:
    r = room.server.test_client().get("/api/v1/workorders", query_string=query, headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["items"]


def test_the_gmao_closes_with_its_token_and_telemetry_verifies_the_repair(stack):
    room, service, feed, gmao, tokens = stack
    feed.fault("lamp-2")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    api = room.server.test_client()
    r = api.patch(f"/api/v1/workorders/{order['id']}", json={"status": "in_progress", "external_ref": "CARL-77"}, headers=bearer(tokens["gmao"]))
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress", r.get_data(as_text=True)
    feed.fault("lamp-2", "clear")  # the crew repaired it: the supervisor says the lamp is fine
    r = api.patch(f"/api/v1/workorders/{order['id']}", json={"status": "done", "note": "lantern replaced"}, headers=bearer(tokens["gmao"]))
    assert r.status_code == 200 and r.get_json()["status"] == "done"
    done = wait_until(lambda: (d := api.get(f"/api/v1/workorders/{order['id']}", headers=bearer(tokens["viewer"])).get_json())["status"]
                      == "verified" and d, timeout=15, what="the verification")
    assert [h["after"] for h in done["history"] if h["action"] == "status"] == ["in_progress", "done", "verified"]
    assert done["history"][-1]["who"] == "vigie" and done["external_ref"] == "CARL-77"
    service.flush()
    events = [(m["event"], m["order"]["status"]) for m in gmao_messages(gmao) if m["order"]["id"] == order["id"]]
    assert events[0] == ("opened", "open") and events[-1] == ("changed", "verified")
    audit = room.server.extensions["vigie.security"].audit
    entries = audit.search(action="workorder.")
    assert {(e.actor, e.action, e.outcome) for e in entries} >= {("token:GMAO Carl", "workorder.update", "ok"),
                                                                ("vigie", "workorder.verify", "ok")}


def test_a_repair_declared_while_the_fault_is_still_reported_is_reopened(stack):
    room, _service, feed, _gmao, tokens = stack
    feed.fault("lamp-3")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    olga = signed_in(room.server, "olga", PW)
    assert olga.patch(f"/api/v1/workorders/{order['id']}", json={"status": "done"}).status_code == 200
    again = wait_until(lambda: (d := olga.get(f"/api/v1/workorders/{order['id']}").get_json())["status"] == "reopened" and d,
                       timeout=15, what="the reopening")
    assert "still reported" in again["history"][-1]["note"]


@pytest.mark.parametrize(("who", "body", "status"), [
    ("walt", {"status": "done"}, 403),  # an operator of another domain
    ("vera", {"status": "done"}, 403),  # a viewer
    ("olga", {"status": "verified"}, 422),  # only telemetry verifies
    ("olga", {"status": "closed"}, 422),
    ("olga", {"colour": "red"}, 400),
    ("olga", {}, 400),
])
def test_refusals_are_answered_in_words_and_audited(stack, who, body, status):
    room, _service, feed, _gmao, tokens = stack
    feed.fault("lamp-4")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    client = signed_in(room.server, who, PW)
    r = client.patch(f"/api/v1/workorders/{order['id']}", json=body)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.get_json()["message"]
    assert client.patch("/api/v1/workorders/wo-nope", json={"status": "done"}).status_code == 404
    if status in (403, 422):
        refused = room.server.extensions["vigie.security"].audit.search(outcome="refused")
        assert any(e.target == order["id"] for e in refused)


def test_opening_by_hand_filtering_grouping_and_csv(stack):
    room, _service, feed, _gmao, _tokens = stack
    olga = signed_in(room.server, "olga", PW)
    r = olga.post("/api/v1/workorders", json={"asset": "lamp-0", "fault": "columnIssue", "note": "seen by a patrol"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert (r.get_json()["priority"], r.get_json()["source"], r.get_json()["fault_active"]) == ("high", "manual", False)
    assert olga.post("/api/v1/workorders", json={"asset": "nope", "fault": "columnIssue"}).status_code == 422
    assert olga.post("/api/v1/workorders", json={"asset": "lamp-0", "fault": "meteor"}).status_code == 422
    feed.fault("lamp-1")
    wait_until(lambda: len(orders(olga)) == 2, what="two orders")
    assert [o["asset"] for o in orders(olga, priority="high")] == ["lamp-0"]
    assert [o["asset"] for o in orders(olga, q="lanterne 1")] == ["lamp-1"]
    groups = olga.get("/api/v1/workorders?group_by=cabinet").get_json()["groups"]
    assert sorted((g["key"], g["count"]) for g in groups) == [("cab-0", 1), ("cab-1", 1)]
    assert olga.get("/api/v1/workorders?status=nope").status_code == 400
    counted = room.runtime.metrics.exposition().decode()
    assert 'vigie_api_bad_requests_total{endpoint="vigie_workorders_api.listing",reason="bad_request"} 1.0' in counted
    csv_text = olga.get("/api/v1/workorders?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("id,status,priority") and len(csv_text.splitlines()) == 3


def test_rounds_over_the_road_graph_with_gpx_and_csv(stack):
    room, _service, feed, _gmao, _tokens = stack
    for lamp in LAMPS:
        feed.fault(lamp)
    olga = signed_in(room.server, "olga", PW)
    wait_until(lambda: len(orders(olga)) == len(LAMPS), what="the orders")
    r = olga.post("/api/v1/workorders/rounds", json={"domain": "lighting", "crews": 2, "shift_h": 4, "depot": [3.8767, 43.6108]})
    assert r.status_code == 201, r.get_data(as_text=True)
    plan = r.get_json()
    assert plan["served"] == len(LAMPS) and not plan["unserved"]
    assert plan["km"] > 0 and plan["km"] <= plan["baselines"]["by_date"]["km"] + 1e-6
    crew = next(x for x in plan["rounds"] if x["stops"])
    assert len(crew["path"]) > 2  # along the roads, not straight lines
    gpx = olga.get(f"/api/v1/workorders/rounds/{plan['id']}?format=gpx&crew={crew['crew']}")
    assert gpx.status_code == 200 and gpx.mimetype == "application/gpx+xml" and b"<trkpt" in gpx.data
    csv_rows = olga.get(f"/api/v1/workorders/rounds/{plan['id']}?format=csv").get_data(as_text=True).splitlines()
    assert len(csv_rows) == 1 + len(LAMPS)
    assert signed_in(room.server, "walt", PW).post("/api/v1/workorders/rounds", json={"domain": "lighting"}).status_code == 403
    assert olga.post("/api/v1/workorders/rounds", json={"domain": "lighting", "crews": 0}).status_code == 400


def test_work_orders_survive_a_restart_and_the_openapi_document_describes_them(stack, redis_url):
    room, service, feed, _gmao, tokens = stack
    feed.fault("lamp-0")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    service.flush()
    room.stop()
    again = build(redis_url)
    try:
        got = again.server.test_client().get(f"/api/v1/workorders/{order['id']}", headers=bearer(tokens["viewer"])).get_json()
        assert got["id"] == order["id"] and got["status"] == "open"
        doc = again.server.test_client().get("/api/v1/openapi.json", headers=bearer(tokens["viewer"])).get_json()
        assert {"get", "post"} <= set(doc["paths"]["/api/v1/workorders"]) and "patch" in doc["paths"]["/api/v1/workorders/{order_id}"]
        assert "WorkOrder" in doc["components"]["schemas"]
        served: dict[str, set[str]] = {}
        for r in again.server.url_map.iter_rules():
            if r.endpoint.startswith("vigie_workorders_api."):
                served.setdefault(r.rule.replace("<order_id>", "{order_id}").replace("<plan_id>", "{plan_id}"), set()).update(r.methods)
        assert set(served) == {p for p in doc["paths"] if p.startswith("/api/v1/workorders")}
        for path, methods in served.items():  # every method served is described
            assert {m.lower() for m in methods} - {"head", "options"} == set(doc["paths"][path]), path
    finally:
        again.stop()


def test_a_web_only_worker_reads_redis_and_forwards_changes_to_the_single_writer(stack, redis_url):
    from services.commands.progress import Actor
    from services.feed.engine_rpc import EngineClient
    from services.maintenance.service import (
        RemoteWorkOrders,
        WorkOrderFilter,
        WorkOrderInvalid,
    )
    from services.maintenance.store import WorkOrderStore

    room, service, feed, _gmao, tokens = stack
    feed.fault("lamp-3")
    (order,) = wait_until(lambda: _orders_with_token(room, tokens["viewer"]), what="the work order")
    service.flush()
    remote = RemoteWorkOrders(EngineClient(redis_url), WorkOrderStore(redis_url))
    try:
        total, items = remote.list(WorkOrderFilter(domain="lighting"))
        assert total == 1 and items[0]["id"] == order["id"]  # read from Redis, not from a book of its own
        doc = remote.update(order["id"], {"status": "planned", "assignee": "crew 2"}, Actor("olga", "operator", "user"))
        assert doc["status"] == "planned" and service.get(order["id"])["assignee"] == "crew 2"  # applied by the owner
        with pytest.raises(WorkOrderInvalid):
            remote.update(order["id"], {"status": "verified"}, Actor("olga", "operator", "user"))
    finally:
        remote.client.close()
        remote.stop()
