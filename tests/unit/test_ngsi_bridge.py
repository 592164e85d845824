"""An NGSI source as a contract supervisor: assets announced before readings, spaced full states, alarms, restarts."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest

from services.contract import Codec, Rejection
from services.core import Hypervisor
from services.ngsi.bridge import SourceSupervisor, state_spacing
from services.ngsi.intake import map_notification

SDM = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"
T0 = datetime(2026, 6, 21, 18, 0, tzinfo=timezone.utc).timestamp()
CODEC = Codec()


def lamp(i: int, **values) -> dict:
    return {"id": f"lamp-{i}", "type": "Streetlight", "location": {"type": "Point", "coordinates": [3.87, 43.6 + i * 1e-4]},
            "status": "ok", **values}


def mapped(*entities: dict, domain: str = "lighting", now: float = T0):
    return map_notification(list(entities), now=datetime.fromtimestamp(now, timezone.utc), hint=domain).mapped.get(domain, [])


def decoded(out):
    """Every message, decoded by Vigie's own codec (so each one is valid on the bus)."""
    msgs = [CODEC.decode(ch, payload) for ch, payload in out]
    assert not [m for m in msgs if isinstance(m, Rejection)], msgs
    return msgs


def test_a_new_asset_is_announced_in_a_full_state_with_its_reading() -> None:
    src = SourceSupervisor("lighting", "ngsi-o-lighting")
    src.take(mapped(lamp(1, powerState="on")), T0)
    msgs = decoded(src.flush(T0))
    assert [m.kind for m in msgs] == ["state"]
    assert [a.id for a in msgs[0].assets] == ["urn:ngsi-ld:Streetlight:lamp-1"]
    assert msgs[0].readings[0].powerState == "on" and msgs[0].seq == 1 and msgs[0].parts == 1


def test_readings_of_known_assets_go_as_telemetry_only_when_changed() -> None:
    src = SourceSupervisor("lighting", "s")
    src.take(mapped(lamp(1, powerState="on")), T0)
    src.flush(T0)
    src.take(mapped(lamp(1, powerState="off")), T0 + 1)
    msgs = decoded(src.flush(T0 + 1))
    assert [m.kind for m in msgs] == ["telemetry"] and msgs[0].readings[0].powerState == "off" and msgs[0].seq == 2
    src.take(mapped(lamp(1, powerState="off")), T0 + 2)
    assert src.flush(T0 + 2) == []  # the broker said it again: nothing new to tell


def test_full_states_are_spaced_and_readings_of_unannounced_assets_wait_for_them() -> None:
    src = SourceSupervisor("lighting", "s")
    src.take(mapped(lamp(1)), T0)
    src.flush(T0)
    src.take(mapped(lamp(2, powerState="on")), T0 + 0.1)  # a second lamp, too soon for another state
    assert src.flush(T0 + 0.1) == []
    msgs = decoded(src.flush(T0 + state_spacing(2)))
    assert [m.kind for m in msgs] == ["state"] and {a.id for a in msgs[0].assets} == {"urn:ngsi-ld:Streetlight:lamp-1", "urn:ngsi-ld:Streetlight:lamp-2"}
    assert {r.asset: r.powerState for r in msgs[0].readings}["urn:ngsi-ld:Streetlight:lamp-2"] == "on"


@pytest.mark.parametrize(("assets", "spacing"), [(1, 0.5), (10_000, 0.5), (30_000, 1.5), (200_000, 10.0)])
def test_state_spacing_grows_with_the_territory(assets: int, spacing: float) -> None:
    assert state_spacing(assets) == spacing


def test_a_changed_definition_is_republished_at_the_refresh_pace() -> None:
    src = SourceSupervisor("lighting", "s", refresh_s=30.0)
    src.take(mapped(lamp(1, name="Rue A")), T0)
    src.flush(T0)
    src.take(mapped(lamp(1, name="Rue B")), T0 + 5)
    assert src.flush(T0 + 5) == []
    msgs = decoded(src.flush(T0 + 30))
    assert msgs[0].kind == "state" and msgs[0].assets[0].name == "Rue B"


def test_a_large_source_is_split_in_parts_of_2000_with_alarms_in_the_last() -> None:
    src = SourceSupervisor("lighting", "s")
    for first in range(0, 4500, 1000):
        src.take(mapped(*[lamp(i) for i in range(first, min(first + 1000, 4500))]), T0)
    src.take(mapped({"id": "al-1", "type": "Alert", "category": "security", "alertSource": "urn:ngsi-ld:Streetlight:lamp-1",
                     "dateIssued": "2026-06-21T17:00:00Z", "severity": "high"}), T0)
    msgs = decoded(src.flush(T0))
    states = [m for m in msgs if m.kind == "state"]
    assert [(m.part, m.parts, len(m.assets), len(m.alarms)) for m in states] == [(1, 3, 2000, 0), (2, 3, 2000, 0), (3, 3, 500, 1)]
    assert len({m.snapshot for m in states}) == 1 and [m.seq for m in msgs] == list(range(1, len(msgs) + 1))


def test_alerts_raise_and_clear_and_an_expired_one_is_not_replayed() -> None:
    alert = {"id": "urn:ngsi-ld:Alert:jam", "type": "Alert", "category": "traffic", "subCategory": "trafficJam",
             "alertSource": "urn:ngsi-ld:TrafficFlowObserved:f1", "dateIssued": "2026-06-21T17:00:00Z", "severity": "high"}
    src = SourceSupervisor("traffic", "s")
    src.take(mapped(alert, domain="traffic"), T0)
    msgs = decoded(src.flush(T0))
    assert [(m.kind, [e.action for e in m.events]) for m in msgs] == [("alarm", ["raise"])]  # no asset: no state needed
    assert msgs[0].events[0].id == "urn:ngsi-ld:Alert:jam" and src.state(T0)[0][1].count(b"urn:ngsi-ld:Alert:jam") == 1
    ended = {**alert, "validTo": "2026-06-21T17:30:00Z"}
    src.take(mapped(ended, domain="traffic"), T0 + 1)
    assert [e.action for m in decoded(src.flush(T0 + 1)) for e in m.events] == ["clear"]
    src.take(mapped(ended, domain="traffic"), T0 + 2)
    assert src.flush(T0 + 2) == []


def test_a_deleted_entity_leaves_the_next_full_state() -> None:
    src = SourceSupervisor("lighting", "s", refresh_s=0.0)
    src.take(mapped(lamp(1), lamp(2)), T0)
    src.flush(T0)
    src.take(mapped({**lamp(2), "deletedAt": "2026-06-21T18:00:00Z"}), T0 + 1)
    msgs = decoded(src.flush(T0 + 1))
    assert [a.id for a in msgs[0].assets] == ["urn:ngsi-ld:Streetlight:lamp-1"]


def test_a_measurement_defines_its_device_only_if_the_source_does_not_know_it() -> None:
    device = {"id": "urn:ngsi-ld:Device:p1", "type": "Device", "name": "Capteur P1", "controlledProperty": ["pressure"],
              "location": {"type": "Point", "coordinates": [3.8, 43.6]}}
    measurement = {"id": "urn:ngsi-ld:DeviceMeasurement:m1", "type": "DeviceMeasurement", "refDevice": "urn:ngsi-ld:Device:p1",
                   "controlledProperty": "pressure", "numValue": 4.2, "name": "m1"}
    src = SourceSupervisor("water", "s")
    src.take(mapped(device, measurement, domain="water"), T0)
    msgs = decoded(src.flush(T0))
    assert msgs[0].assets[0].name == "Capteur P1" and msgs[0].readings[0].pressure == 4.2


def test_state_request_restart_and_restore_resume_the_same_picture() -> None:
    src = SourceSupervisor("lighting", "s")
    src.take(mapped(lamp(1, powerState="on"), lamp(2)), T0)
    src.flush(T0)
    records = [src.record(a) for a in sorted(src.assets)]
    again = SourceSupervisor("lighting", "s")
    again.restore(records, [])
    msgs = decoded(again.flush(T0 + 60))
    assert msgs[0].kind == "state" and msgs[0].seq == 1 and len(msgs[0].assets) == 2
    assert {r.asset: r.powerState for r in msgs[0].readings}["urn:ngsi-ld:Streetlight:lamp-1"] == "on"
    assert decoded(src.state(T0 + 2))[0].assets == msgs[0].assets


def test_the_core_takes_what_the_source_says() -> None:
    core, src = Hypervisor(), SourceSupervisor("water", "ngsi-o-water")
    body = [json.loads((SDM / m / "example-normalized.jsonld").read_text()) for m in ("Junction", "Pipe", "Tank", "Reservoir")]
    src.take(mapped(*body, domain="water"), T0)
    for msg in decoded(src.flush(T0) + src.heartbeat(T0, 5.0)):
        core.handle(msg, T0)
    assert len(core.state) == 4 and core.health.get("ngsi-o-water").assets == 4
    tank = core.state.get("urn:ngsi-ld:Tank:1863179e-3968-4493-9167-ee21f880cc02")
    assert tank.values["level"] == 20.0 and tank.props["maxLevel"] == 6.75


def test_commands_to_an_ngsi_source_are_refused_with_a_reason() -> None:
    ack = decoded(SourceSupervisor("lighting", "s").refuse_command("c-1", T0))[0]
    assert (ack.status, ack.command_id) == ("rejected", "c-1") and "NGSI" in ack.reason


def test_a_heartbeat_says_degraded_after_refusals() -> None:
    src = SourceSupervisor("lighting", "s")
    src.refused_recently = 3
    assert msgspec.json.decode(src.heartbeat(T0, 1.0)[0][1])["status"] == "degraded"
    assert msgspec.json.decode(src.heartbeat(T0, 2.0)[0][1])["status"] == "ok"


def test_a_road_segment_and_its_flow_observation_are_one_road_whose_congestion_shows() -> None:
    from services.core.bands import SpeedBand, asset_band
    from services.core.assets import Thresholds
    from services.history.domain_views import most_congested

    segment = json.loads((SDM / "RoadSegment" / "example.json").read_text(encoding="utf-8"))  # maximumAllowedSpeed 120
    flow = {**json.loads((SDM / "TrafficFlowObserved" / "example.json").read_text(encoding="utf-8")),
            "refRoadSegment": segment["id"], "averageVehicleSpeed": 8, "congested": True}
    for order in ([flow, segment], [segment, flow]):  # whichever the broker sends first
        core, src = Hypervisor(), SourceSupervisor("traffic", "ngsi-o-traffic")
        for entity in order:
            src.take(mapped(entity, domain="traffic"), T0)
        for msg in decoded(src.flush(T0)):
            core.handle(msg, T0)
        (road,) = [a.to_dict() for a in core.state.query()]
        assert road["id"] == "urn:ngsi-ld:RoadSegment:Spain-RoadSegment-A62-osm-24702186" and road["name"] == "Valladolid-Dueñas"
        assert (road["props"]["freeFlowSpeed"], road["values"]["averageVehicleSpeed"], road["values"]["congested"]) == (120.0, 8.0, True)
        assert asset_band("traffic", "RoadSegment", road["values"], road["props"], Thresholds()) == SpeedBand.JAMMED
        assert [c.id for c in most_congested([road])] == [road["id"]]
