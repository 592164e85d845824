"""The running sums the KPIs read: moved by each change, equal at every step to counting the assets again."""
from __future__ import annotations

import random

import pytest

from services.contract import AssetDef, LightingReading, Point, TrafficReading
from services.core.assets import TerritoryState
from services.core.kpis import lighting_totals, traffic_kpis
from services.core.tally import DomainAssets, sums_of, tally_sums

STATUSES = ("ok", "defectiveLamp", "noPower", None)
POWER = ("on", "low", "off", None)


def lamp(i: int) -> AssetDef:
    return AssetDef(id=f"lamp-{i}", type="Streetlight" if i % 13 else "StreetlightControlCabinet",
                    geometry=Point(coordinates=(3.87, 43.61)), props={"powerRating": 50.0 + i % 7 * 12.5} if i % 11 else {})


def segment(i: int) -> AssetDef:
    return AssetDef(id=f"seg-{i}", type="RoadSegment", props={"lengthM": 40.0 + i % 9 * 17.3} if i % 5 else {})


def recount(state: TerritoryState, domain: str) -> list[int]:
    return sums_of(domain, list(dict.values(state.domain(domain))))


def test_lamp_sums_follow_every_reading_definition_and_removal_exactly():
    rng = random.Random(3)
    state = TerritoryState()
    state.define("lighting", "lum", [lamp(i) for i in range(300)])
    for step in range(2000):
        if step % 400 == 399:
            state.remove([f"lamp-{rng.randrange(300)}" for _ in range(10)])
            state.define("lighting", "lum", [lamp(i) for i in range(300)])  # back again, without values
        i = rng.randrange(300)
        reading = LightingReading(asset=f"lamp-{i}", status=rng.choice(STATUSES), powerState=rng.choice(POWER),
                                  powerConsumption=rng.choice((None, 0.0, rng.uniform(0, 200))))
        state.apply_readings("lighting", "lum", [reading], 1.0)
        assert tally_sums("lighting", state.domain("lighting").values()) == recount(state, "lighting")


def test_segment_sums_follow_readings_and_give_the_kpis_of_a_recount():
    rng = random.Random(5)
    state = TerritoryState()
    state.define("traffic", "tra", [segment(i) for i in range(200)])
    for _ in range(1500):
        r = TrafficReading(asset=f"seg-{rng.randrange(200)}", averageVehicleSpeed=rng.choice((None, rng.uniform(0, 90))),
                           intensity=rng.choice((None, 0.0, rng.uniform(0, 2000))), congested=rng.choice((None, True, False)),
                           closed=rng.choice((None, False, False, True)))
        state.apply_readings("traffic", "tra", [r], 1.0)
    assets = state.domain("traffic").values()
    assert tally_sums("traffic", assets) == recount(state, "traffic")
    assert traffic_kpis(assets, 0) == traffic_kpis(list(dict.values(state.domain("traffic"))), 0)


def test_totals_read_from_the_sums_are_those_of_one_pass_over_the_lamps():
    state = TerritoryState()
    state.define("lighting", "lum", [lamp(i) for i in range(1, 4)])
    state.apply_readings("lighting", "lum", [LightingReading(asset="lamp-1", status="ok", powerState="on", powerConsumption=25.5),
                                             LightingReading(asset="lamp-2", status="defectiveLamp", powerState="off"),
                                             LightingReading(asset="lamp-3", status="ok", powerState="low", powerConsumption=10.25)], 1.0)
    t = lighting_totals(state.domain("lighting").values())
    assert (t.total, t.in_service, t.faulty, t.on) == (3, 2, 1, 2)
    assert t.power_w == pytest.approx(35.75) and t.rated_on_w == pytest.approx(62.5 + 87.5)
    assert t == lighting_totals(list(dict.values(state.domain("lighting"))))


def test_a_state_restored_without_define_is_tallied_again():
    state = TerritoryState()
    state.define("lighting", "lum", [lamp(1)])
    state.apply_readings("lighting", "lum", [LightingReading(asset="lamp-1", status="ok", powerState="on", powerConsumption=40.0)], 1.0)
    rec = state.get("lamp-1")
    rec.values, rec.tally = {"status": "noPower"}, None  # as an image restore puts values in place
    state.retally()
    assert tally_sums("lighting", state.domain("lighting").values()) == [1, 0, 1, 0, 0, 0]


def test_a_domain_iterates_as_a_dict_does():
    d = DomainAssets()
    d["a"] = 1
    assert list(d.values()) == [1] and len(d.values()) == 1 and d.values().tally is None
