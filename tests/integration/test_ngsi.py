"""NGSI in and out against a real redis-server, the real engine and the NGSI relay: brokers' notifications
(every official example) become assets, readings and alarms in the reader and the NGSI-LD API."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import msgspec
import pytest
import redis
from flask import Flask

from services.feed.bus import bounded_client
from services.contract import StateReady, StateRequest, cmd_channel, encode
from services.contract.retained import keys_of, state_key
from services.feed.engine import Engine
from services.metrics import Metrics
from services.ngsi.intake import ngsi_channel
from services.ngsi.relay import RELAY_KEY, NgsiRelay, redis_forwarder
from services.feed.reader import LocalReader
from services.settings import Settings
from services.web.ngsi import create_ngsi_blueprint, token_gate

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"  # copies of the official files, see SOURCES.md there
SDM = DATA / "smart-data-models"
TOKEN = "ngsi-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Mapped models -> (domain hint the subscription URL carries, the Vigie id the example becomes).
EXAMPLES = {
    "Streetlight": (None, "urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567"),
    "StreetlightGroup": (None, "urn:ngsi-ld:StreetlightGroup:streetlightgroup:mycity:A12"),
    "StreetlightFeeder": (None, "urn:ngsi-ld:StreetlightFeeder:https://smart-data-models.github.io/dataModel.Streetlighting/StreetLightFeeder/schema.json"),
    "TrafficFlowObserved": (None, "urn:ngsi-ld:TrafficFlowObserved:TrafficFlowObserved-Valladolid-osm-60821110"),
    "WaterQualityObserved": (None, "urn:ngsi-ld:WaterQualityObserved:waterqualityobserved:Sevilla:D1"),
    "Junction": (None, "urn:ngsi-ld:Junction:63fe7d79-0d4c-4da9-b7d0-3340efa0656a"),
    "Pipe": (None, "urn:ngsi-ld:Pipe:74azsty-70d4l-4da9-b7d0-3340ef655nnb"),
    "Tank": (None, "urn:ngsi-ld:Tank:1863179e-3968-4493-9167-ee21f880cc02"),
    "Reservoir": (None, "urn:ngsi-ld:Reservoir:1863179e-3768-4480-9167-ff21f870dd19"),
    "Device": ("water", "urn:ngsi-ld:Device:device-9845A"),
    "DeviceMeasurement": ("water", "urn:ngsi-ld:MEASUREMENT:refDevice:ZMHH:32871158"),
}
ALERTS = {"example.json": None, "example-1.json": None, "example-2.json": "lighting", "example-agriAlert.json": "water",
          "example-normalized.json": None, "example-normalized.jsonld": None, "example.jsonld": None,
          "example-geojsonfeature.json": None}


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll `predicate` until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)


class Stack:
    """The engine, the NGSI relay and a Flask app with the NGSI blueprint, on one real Redis."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        settings = Settings(redis_url=redis_url, run_simulators=False, snapshot_interval_s=0.0)
        self.engine = Engine(settings, redis_url, freeze_gc=False).start()
        self.relay = NgsiRelay(redis_url, min_spacing_s=0.05).start()
        self.reader = LocalReader(self.engine)
        self.metrics = Metrics()
        self.client = bounded_client(redis_url)
        app = Flask("ngsi-test")
        app.register_blueprint(create_ngsi_blueprint(self.reader, redis_forwarder(self.client), authorize=token_gate([TOKEN]),
                                                     metrics=self.metrics))
        self.http = app.test_client()
        wait_until(lambda: self.engine.bus_up and self.relay.connected and self.client.exists(RELAY_KEY))

    def notify(self, path: Path, *, source: str = "orion-mtp", domain: str | None = None):
        """POST an example file as a broker would: .jsonld to the NGSI-LD endpoint, .json to the NGSIv2 one."""
        ld = path.suffix == ".jsonld" or "/ld/" in str(path)
        url = f"/ngsi-ld/v1/notify?source={source}" if ld else f"/ngsi/v2/notify?source={source}"
        if domain:
            url += f"&domain={domain}"
        mime = "application/ld+json" if path.suffix == ".jsonld" else "application/json"
        return self.http.post(url, data=path.read_bytes(), headers={**AUTH, "Content-Type": mime})

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    def stop(self) -> None:
        self.relay.stop()
        self.engine.stop()
        self.client.close()


@pytest.fixture
def stack(redis_url: str):
    s = Stack(redis_url)
    yield s
    s.stop()


def test_every_official_example_of_a_mapped_model_shows_in_the_reader_and_the_api(stack: Stack) -> None:
    for model, (hint, asset_id) in EXAMPLES.items():
        for path in sorted((SDM / model).glob("example*")):
            r = stack.notify(path, domain=hint)
            assert r.status_code == 200, (path.name, r.get_json())
    for model, (hint, asset_id) in EXAMPLES.items():
        asset = wait_until(lambda: stack.reader.asset(asset_id))
        assert asset["supervisor"].startswith("ngsi-orion-mtp-")
        r = stack.http.get(f"/ngsi-ld/v1/entities/{asset_id}", headers=AUTH)
        assert r.status_code == 200, (model, r.get_json())
        assert r.get_json()["id"] == asset_id
    lamp = stack.reader.asset("urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567")
    assert lamp["values"]["status"] == "ok" and lamp["condition"] == "ok"
    flow = stack.reader.asset("urn:ngsi-ld:TrafficFlowObserved:TrafficFlowObserved-Valladolid-osm-60821110")
    assert flow["values"]["intensity"] == 2364.0  # 197 vehicles in 5 minutes
    junction = stack.reader.asset("urn:ngsi-ld:Junction:63fe7d79-0d4c-4da9-b7d0-3340efa0656a")
    assert junction["values"]["pressure"] == pytest.approx(1.96, abs=0.01)  # 20 m of water column
    sups = {s["id"]: s for s in stack.reader.supervisors()}
    assert {"ngsi-orion-mtp-lighting", "ngsi-orion-mtp-traffic", "ngsi-orion-mtp-water"} <= set(sups)
    assert all(sups[s]["status"] == "live" for s in sups if s.startswith("ngsi-"))


def test_every_official_alert_example_becomes_an_alarm(stack: Stack) -> None:
    for name, hint in ALERTS.items():
        assert stack.notify(SDM / "Alert" / name, domain=hint).status_code == 200, name
    alarms = wait_until(lambda: {a["id"]: a for a in stack.reader.alarms(active_only=False) if a["supervisor"].startswith("ngsi-")}
                        if len(stack.reader.alarms(active_only=False)) >= 3 else None)
    jam = alarms["ngsi-orion-mtp-traffic/urn:ngsi-ld:Alert:Alert:1"]
    assert (jam["code"], jam["severity"], jam["state"]) == ("traffic.trafficJam", "major", "rtn_unack")  # validTo is in 2017
    robbery = alarms["ngsi-orion-mtp-lighting/urn:ngsi-ld:Alert:VisualEvent123"]
    assert robbery["active"] and robbery["severity"] == "info"
    r = stack.http.get("/ngsi-ld/v1/entities?type=Alert", headers=AUTH)
    assert [e["id"] for e in r.get_json()] == ["urn:ngsi-ld:Alert:ngsi-orion-mtp-lighting~2Furn:ngsi-ld:Alert:VisualEvent123"]
    assert r.get_json()[0]["alarmState"]["value"] == "active_unack"


def test_an_anomaly_and_a_weather_alert_reach_the_operator(stack: Stack) -> None:
    assert stack.notify(SDM / "Anomaly" / "example-normalized.json").status_code == 200
    assert stack.notify(SDM / "WeatherAlert" / "example.json", domain="traffic").status_code == 200
    alarms = wait_until(lambda: {a["id"]: a for a in stack.reader.alarms(active_only=False)} if len(stack.reader.alarms(active_only=False)) >= 2 else None)
    anomaly = alarms["ngsi-orion-mtp-water/urn:ngsi-ld:Anomaly:1863179e-3768-4480-9167-ff21f870dd19"]
    assert anomaly["active"] and anomaly["code"] == "anomaly.pressure" and "18.91" in anomaly["message"]
    weather = alarms["ngsi-orion-mtp-traffic/urn:ngsi-ld:WeatherAlert:WeatherAlert-83b872975414bfca10832e564a1bb416-7"]
    assert (weather["code"], weather["state"]) == ("weather.snow_ice", "rtn_unack")  # valid until 2016-03-14


@pytest.mark.parametrize("path", sorted((DATA / "ngsi").glob("*/*.json")), ids=lambda p: p.name)
def test_broker_examples_of_unmapped_types_are_refused_with_a_reason_and_counted(stack: Stack, path: Path) -> None:
    r = stack.notify(path)
    assert r.status_code == 422
    body = r.get_json()
    assert body["reason"] in ("unsupported_type", "no_entity_id")
    assert body["errors"] and all(e["reason"] in ("unsupported_type", "no_entity_id") for e in body["errors"])
    assert stack.metric("vigie_ngsi_refused_total", reason=body["reason"]) >= 1
    assert stack.metric("vigie_ngsi_notifications_total", api="ld" if "/ld/" in str(path) else "v2", outcome="refused") == 1


def test_the_same_entities_published_on_a_sup_channel_are_accepted(stack: Stack) -> None:
    body = (SDM / "TrafficFlowObserved" / "example.json").read_bytes()
    stack.client.publish(ngsi_channel("traffic", "trafic-ngsi"), body)
    asset = wait_until(lambda: stack.reader.asset("urn:ngsi-ld:TrafficFlowObserved:TrafficFlowObserved-Valladolid-osm-60821110"))
    assert asset["supervisor"] == "trafic-ngsi" and asset["values"]["averageVehicleSpeed"] == 52.6
    stack.client.publish(ngsi_channel("lighting", "trafic-ngsi"), body)  # a traffic entity on a lighting channel
    wait_until(lambda: stack.relay.stats.refused.get("wrong_domain"))


def test_an_ngsi_source_keeps_its_state_retained_and_survives_a_relay_restart(stack: Stack) -> None:
    sup = "ngsi-orion-mtp-lighting"
    assert stack.notify(SDM / "Streetlight" / "example.json").status_code == 200
    wait_until(lambda: stack.reader.asset("urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567"))
    listener = redis.Redis.from_url(stack.redis_url).pubsub(ignore_subscribe_messages=True)
    listener.psubscribe(f"sup.lighting.{sup}.*")
    wait_until(lambda: stack.client.pubsub_numpat() >= 2)  # the engine's and this one
    manifest = msgspec.json.decode(stack.client.get(state_key("lighting", sup)), type=StateReady)
    state = msgspec.json.decode(stack.client.get(keys_of(manifest)[0]))  # contract v2: the full state is in Redis
    assert [a["id"] for a in state["assets"]] == ["urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567"]
    assert state["readings"][0]["status"] == "ok"
    writes = stack.relay.retained[("lighting", sup)].writes
    stack.client.delete(state_key("lighting", sup))  # lost (a flushed Redis): a state request has it written again
    req = StateRequest(domain="lighting", supervisor=sup, ts="2026-06-21T22:00:00Z", request_id="r1", reason="test")
    stack.client.publish(cmd_channel("lighting", sup), encode(req))
    wait_until(lambda: stack.relay.retained[("lighting", sup)].writes == writes + 1)
    wait_until(lambda: stack.client.exists(state_key("lighting", sup)))
    stack.relay.stop()
    stack.relay = NgsiRelay(stack.redis_url, min_spacing_s=0.05).start()  # a restarted relay announces what it knew
    heard: list[tuple[bytes, bytes]] = []

    def announced_afresh() -> bool:
        while (m := listener.get_message(timeout=0.05)) is not None:
            heard.append((m["channel"].rsplit(b".", 1)[1], m["data"]))
        return any(kind == b"state_ready" and msgspec.json.decode(data, type=StateReady).seq == 1 for kind, data in heard)

    wait_until(announced_afresh)  # written anew by the new relay (a new boot), its counter starting over
    assert b"state" not in {kind for kind, _ in heard}  # no full state ever on the bus
    listener.close()
    assert stack.notify(SDM / "StreetlightGroup" / "example.json").status_code == 200
    wait_until(lambda: stack.reader.asset("urn:ngsi-ld:StreetlightGroup:streetlightgroup:mycity:A12"))
    assert stack.reader.asset("urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567") is not None  # not reconciled away


def test_hostile_notifications_are_refused_with_a_reason(stack: Stack) -> None:
    lamp = json.loads((SDM / "Streetlight" / "example.json").read_text())
    cases = [
        (b'{"data": [', 400, "bad_json"),
        (b"\xff\xfe{}", 400, "bad_json"),
        (json.dumps({"data": [{**lamp, "name": "<script>alert(1)</script>"}]}).encode(), 422, "markup_in_text"),
        (json.dumps({"data": [{**lamp, "id": 42}]}).encode(), 422, "missing_id"),
        (json.dumps({"data": "lamps"}).encode(), 422, "not_a_notification"),
        (json.dumps({"data": [lamp] * 1001}).encode(), 422, "too_many_entities"),
        (b"[" * 5000 + b"]" * 5000, 400, "bad_json"),
        (b" " * (4 * 1024 * 1024 + 1), 413, "too_large"),
    ]
    for payload, status, reason in cases:
        r = stack.http.post("/ngsi/v2/notify?source=evil", data=payload, headers={**AUTH, "Content-Type": "application/json"})
        assert (r.status_code, r.get_json()["reason"]) == (status, reason), payload[:60]
    assert stack.http.post("/ngsi/v2/notify", data=b"{}", headers={"Content-Type": "application/json"}).status_code == 401
    time.sleep(0.3)
    assert stack.reader.assets()[0] == 0  # nothing got through


def test_without_a_running_relay_a_notification_is_not_taken(stack: Stack) -> None:
    stack.relay.stop()  # a relay that dies without stopping lets its key expire after 15 s
    r = stack.notify(SDM / "Streetlight" / "example.json")
    assert (r.status_code, r.get_json()["reason"]) == (503, "no_relay")


# --- the lifecycle of an Alert-family alarm from a broker ------------------------------------------------------------

FAMILY = {"Alert": ("example.json", None, "traffic"), "Anomaly": ("example-normalized.json", None, "water"),
          "WeatherAlert": ("example.json", "traffic", "traffic")}


@pytest.mark.parametrize("model", sorted(FAMILY))
def test_an_alert_family_alarm_is_acknowledged_shelved_and_cleared_when_the_broker_says_it_expired(stack: Stack, model: str) -> None:
    from datetime import datetime, timedelta, timezone

    from services.alarms.actions import AlarmActions, parse_params

    name, hint, domain = FAMILY[model]
    official = json.loads((SDM / model / name).read_text())
    now = datetime.now(timezone.utc)

    def valid_until(end: datetime) -> dict:
        """The official example, valid from five minutes ago until `end` (validTo in the past: resolved, expired)."""
        stamp = lambda t: {"type": "DateTime", "value": t.strftime("%Y-%m-%dT%H:%M:%SZ")} if model == "Anomaly" else t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        return {**official, "validFrom": stamp(now - timedelta(minutes=5)), "validTo": stamp(end)}

    def notify(entity: dict) -> None:
        url = "/ngsi/v2/notify?source=orion-mtp" + (f"&domain={hint}" if hint else "")
        r = stack.http.post(url, data=json.dumps({"data": [entity]}), headers={**AUTH, "Content-Type": "application/json"})
        assert r.status_code == 200, r.get_json()

    def alarm() -> dict | None:
        return next((a for a in stack.reader.alarms(active_only=False) if a["id"] == alarm_id), None)

    alarm_id = f"ngsi-orion-mtp-{domain}/urn:ngsi-ld:{model}:{official['id']}"
    notify(valid_until(now + timedelta(hours=1)))
    assert wait_until(lambda: (a := alarm()) and a["state"] == "active_unack")
    actions = AlarmActions(stack.engine)
    (acked,) = actions.apply("ack", [alarm_id], "ada", parse_params("ack", {"comment": "seen"}))
    assert acked.ok, acked
    assert wait_until(lambda: alarm()["state"] == "active_ack")
    (shelved,) = actions.apply("shelve", [alarm_id], "ada", parse_params("shelve", {"reason": "crew on site", "minutes": 30}))
    assert shelved.ok, shelved
    assert wait_until(lambda: alarm()["shelved_by"] == "ada")
    notify(valid_until(now - timedelta(minutes=1)))  # the broker's next notification: expired
    cleared = wait_until(lambda: (a := alarm()) and not a["active"] and a)
    assert cleared["state"] == "shelved"  # cleared while shelved: it stays shelved (ISA-18.2), no longer active
    assert stack.http.get("/ngsi-ld/v1/entities?type=Alert", headers=AUTH).get_json() == []  # no longer served as active
    (unshelved,) = actions.apply("unshelve", [alarm_id], "ada", parse_params("unshelve", {"reason": "crew gone"}))
    assert unshelved.ok, unshelved
    assert wait_until(lambda: (a := alarm()) is None or a["state"] == "normal")  # acknowledged before it cleared: normal, gone
