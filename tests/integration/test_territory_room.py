"""The control room as shipped (app factory, real redis-server, in-process simulators) on two territory packages:
Montpellier, and the synthetic town built by `territory new` from roads and communes alone (tests/territory_town.py)."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from services.settings import Settings
from services.simulators import build
from services.supervisors.config import registry_config
from services.territory.package import load_territory
from tests.factory import serve_room, stack_settings, stop_http
from tests.territory_town import PACKAGE

# lamps + cabinets + schedule groups, water assets, road segments + signals
TERRITORIES = {"montpellier": {"lighting": 29969 + 798 + 7, "traffic": 8011 + 373, "base": ["commune", "district", "road"]},
               str(PACKAGE): {"lighting": 522 + 14 + 2, "traffic": 137, "base": ["commune", "road"]}}
START = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=list(TERRITORIES), ids=["montpellier", "bourg-synthetique"])
def room(request, redis_server, tmp_path_factory):
    url = f"redis://{redis_server.host}:{redis_server.port}/{len(request.param) % 8 + 2}"
    settings = stack_settings(Settings(redis_url=url, run_simulators=True, territory=request.param, simulator_speed=10.0),
                              state_dir=tmp_path_factory.mktemp("territory"))
    room, base, http = serve_room(settings)
    try:
        water = build("water", seed=settings.simulator_seed, start=START, territory=request.param)  # the network depends on the seed
        expected = {**TERRITORIES[request.param], "water": len(water.asset_defs())}
        TERRITORIES[request.param]["water"] = expected["water"]
        reader, end = room.runtime.reader, time.monotonic() + 120
        while any(len(reader.assets_geo(d)) < expected[d] for d in ("lighting", "water", "traffic")):
            assert time.monotonic() < end, {d: len(reader.assets_geo(d)) for d in ("lighting", "water", "traffic")}
            time.sleep(0.2)
        yield room, base, request.param
    finally:
        stop_http(http)
        room.stop()


def test_every_asset_of_the_three_simulators_arrives_from_supervisors_named_by_the_manifest(room):
    room, _, territory = room
    reader, ids = room.runtime.reader, load_territory(territory).supervisors
    for domain in ("lighting", "water", "traffic"):
        assert len(reader.assets_geo(domain)) == TERRITORIES[territory][domain]
        assert {a["supervisor"] for a in reader.assets(domain=domain, limit=50)[1]} == {ids[domain]}
    assert {s["id"] for s in reader.supervisors()} >= set(ids.values())


def test_the_base_map_draws_the_layers_the_package_has(room):
    _, base, territory = room
    answer = requests.get(f"{base}/vigie/base?roads=1", timeout=30)
    assert answer.status_code == 200
    assert [f["properties"]["kind"] for f in answer.json()["features"]] == TERRITORIES[territory]["base"]


def test_the_overview_answers_and_the_supervisors_carry_the_packages_names(room):
    room, base, territory = room
    assert requests.get(f"{base}/", timeout=30).status_code == 200
    config, t = registry_config(room.settings), load_territory(territory)
    assert {d.id: (d.domain, d.name) for d in config.declared} == {sid: (d, t.supervisor_names[d]) for d, sid in t.supervisors.items()}
    assert set(t.supervisors.values()) <= set(config.auto_approve)  # the in-process simulators, under the manifest's ids


def test_what_the_simulators_invent_is_marked_synthetic_and_real_data_is_not(room):
    room, _, territory = room
    reader = room.runtime.reader
    lamp, cabinet, pump = reader.asset("lamp-00001"), reader.asset("cabinet-001"), reader.asset("eau-pump-1")
    assert bool(lamp["props"].get("synthetic")) is (territory != "montpellier")  # Montpellier's lamps are its inventory
    assert cabinet["props"]["synthetic"] and pump["props"]["synthetic"]
    segments = reader.assets(domain="traffic", type="RoadSegment", limit=20)[1]
    assert segments and not any(s["props"].get("synthetic") for s in segments)


def test_the_towns_motorway_is_classed_as_a_motorway(room):
    room, _, territory = room
    if territory == "montpellier":
        pytest.skip("Montpellier's roads have no class field: the name decides (its classes are unchanged)")
    motorway = [a for a in room.runtime.reader.assets(domain="traffic", type="RoadSegment", limit=1000)[1] if a["name"] == "A 7"]
    assert len(motorway) == 6 and all(a["props"]["freeFlowSpeed"] == 130.0 and a["props"]["capacity"] >= 5000 for a in motorway)
