"""Before sending: a selection's expansion, the checks and their messages, the expected effect, large effects."""
from __future__ import annotations

import pytest

from services.core.command_effects import CommandRequest, Selection, confirmation_problem, plan_command
from services.core.command_specs import CommandInvalid, LargeRules
from tests.command_world import LUM, world


def req(domain: str = "lighting", action: str = "set_dimming", params: dict | None = None, ids: tuple = (), polygon: tuple = (),
        **kw) -> CommandRequest:
    return CommandRequest(domain, action, {"level": 30} if params is None else params, Selection(tuple(ids), tuple(polygon)), **kw)


@pytest.fixture(scope="module")
def state():
    return world()


# --- expansion: what a selection stands for, and what is sent ------------------------------------

EXPANSION = [  # selection ids -> (assets expected, targets sent)
    (("lamp-003",), 1, ("lamp-003",)),
    (("cab-1",), 5, ("cab-1",)),  # a cabinet: its lamps; the lighting supervisor expands area ids itself
    (("street-a",), 15, ("street-a",)),
    (("d1",), 10, ("d1",)),
    (("c1",), 20, ("c1",)),
    (("group-d3",), 10, ("group-d3",)),
    (("d1", "lamp-025"), 11, ("d1", "lamp-025")),
    (("lamp-003", "lamp-003"), 1, ("lamp-003",)),  # duplicates once
]


@pytest.mark.parametrize("ids, count, targets", EXPANSION)
def test_a_lighting_selection_expands_to_its_lamps(state, ids, count, targets) -> None:
    plan = plan_command(req(ids=ids), state)
    assert (len(plan.assets), sorted(plan.targets), plan.supervisor) == (count, sorted(targets), LUM)


def test_a_drawn_polygon_selects_the_lamps_inside_and_sends_their_ids(state) -> None:
    ring = ((3.8015, 43.59), (3.8055, 43.59), (3.8055, 43.61), (3.8015, 43.61))  # lamps 2..5 lie at 3.802..3.805
    plan = plan_command(req(polygon=ring), state)
    assert plan.assets == ("lamp-002", "lamp-003", "lamp-004", "lamp-005")
    assert plan.targets == plan.assets
    assert plan.label == "drawn area (4)"


def test_a_street_corridor_selects_its_junctions_for_a_green_wave(state) -> None:
    plan = plan_command(req("traffic", "signal_plan", {"plan": "greenWave"}, ids=("street-av",)), state)
    assert sorted(plan.assets) == ["sig-1", "sig-2"]
    assert sorted(plan.targets) == ["sig-1", "sig-2"]  # traffic supervisors get asset ids, never areas
    assert plan.effect == {"junctions": 2, "segments": 3, "plan": "greenWave"}


# --- validation: refused before sending, with a clear message ----------------------------------

REFUSALS = [  # request -> words the message must contain
    (req(params={"level": 140}, ids=("lamp-001",)), "level must be a number from 0 to 100 %, got 140"),
    (req(params={"level": "50"}, ids=("lamp-001",)), "level must be a number"),
    (req(params={}, ids=("lamp-001",)), "set_dimming needs level"),
    (req(params={"level": 30, "colour": "red"}, ids=("lamp-001",)), "unexpected parameter 'colour'"),
    (req(ids=("valve-1",)), "valve-1 is a water Valve: set_dimming acts on lighting assets only"),
    (req("water", "valve", {"position": 0}, ids=("pump-1",)), "pump-1 is a Pump: valve acts on Valve assets only"),
    (req("water", "valve", {"position": 0, "open": True}, ids=("valve-1",)), "exactly one of position or open"),
    (req("water", "pump", {"auto": True, "override_s": 600}, ids=("pump-1",)), "override_s makes no sense"),
    (req("water", "pump_setpoint", {"bar": 12}, ids=("pump-1",)), "bar must be a number from 1 to 10 bar"),
    (req("traffic", "signal_plan", {"plan": "rainbow"}, ids=("sig-1",)), "plan must be one of normal, peak, greenWave, flashingAmber, auto"),
    (req("traffic", "close_segment", {}, ids=("sig-1",)), "no RoadSegment of traffic to command there"),
    (req("lighting", "set_schedule", {"dim_from": "25:00"}, ids=("group-d1",)), "dim_from must be a time of day as HH:MM"),
    (req("lighting", "teleport", {}, ids=("lamp-001",)), "unknown action 'teleport' for lighting"),
    (req("gas", "valve", {}, ids=("x",)), "unknown domain 'gas'"),
    (req(ids=()), "nothing selected"),
    (req(ids=("nowhere",)), "unknown asset or area 'nowhere'"),
    (req("water", "valve", {"open": False}, ids=("valve-9",)), "unknown asset 'valve-9'"),
    (req(polygon=((3.0, 43.0), (3.1, 43.0), (3.1, 43.1))), "the drawn area holds no Streetlight"),
    (req(polygon=((3.0, 43.0), (3.1, 43.0))), "at least 3 points"),
]


@pytest.mark.parametrize("request_, words", REFUSALS, ids=[w[:40] for _, w in REFUSALS])
def test_bad_commands_are_refused_with_a_clear_message(state, request_, words) -> None:
    with pytest.raises(CommandInvalid) as err:
        plan_command(request_, state)
    assert words in str(err.value)


def test_a_selection_over_two_supervisors_is_refused(state) -> None:
    other = world()
    from services.contract import AssetDef, Point
    other.define("lighting", "lum-other", [AssetDef(id="lamp-900", type="Streetlight", geometry=Point((3.8, 43.6)), refs={"district": "d1"})])
    with pytest.raises(CommandInvalid, match="spans 2 supervisors"):
        plan_command(req(ids=("d1",)), other)


# --- the expected effect and the current state -------------------------------------------------

def test_dimming_a_district_estimates_the_power_saved_from_ratings_and_current_values(state) -> None:
    plan = plan_command(req(params={"level": 30}, ids=("d1",)), state)
    e = plan.effect
    assert (e["lamps"], e["power_now_w"], e["power_after_w"], e["saved_w"], e["cabinets"]) == (10, 1000.0, 300.0, 700.0, 2)
    assert plan.current["powerState"] == {"on": 10}
    assert plan.current["level_pct"] == 100.0


def test_closing_a_valve_shows_its_downstream_pipes_and_sensors(state) -> None:
    plan = plan_command(req("water", "valve", {"open": False}, ids=("valve-1",)), state)
    assert (plan.effect["downstream_pipes"], plan.effect["downstream_sensors"], plan.effect["pipe_km"]) == (2, 2, 0.75)
    assert set(plan.highlight) == {"pipe-1", "pipe-2", "sensor-1", "sensor-2"}
    assert plan.current["position_pct"] == 100.0


def test_closing_a_road_counts_the_vehicles_it_carries(state) -> None:
    plan = plan_command(req("traffic", "close_segment", {}, ids=("seg-1", "seg-2")), state)
    assert plan.effect == {"segments": 2, "vehicles_per_day": 6000, "road_km": 1.0}


# --- large effects: a reason and a second confirmation ----------------------------------------

SMALL = LargeRules(commune_min_lamps=5)  # the test communes have 10 and 20 lamps
LARGE = [  # request -> rules tripped
    (req("lighting", "switch", {"on": False}, ids=("c2",)), {"commune_dark"}),
    (req("lighting", "set_dimming", {"level": 5}, ids=("c1",)), {"commune_dark"}),
    (req("lighting", "set_dimming", {"level": 50}, ids=("c1",)), set()),
    (req("lighting", "switch", {"on": False}, ids=("lamp-001",)), set()),
    (req("water", "valve", {"open": False}, ids=("valve-main",)), {"main_valve_closed"}),
    (req("water", "valve", {"position": 50}, ids=("valve-main",)), set()),
    (req("water", "pump", {"running": False}, ids=("pump-1",)), {"pump_stopped"}),
    (req("traffic", "close_segment", {}, ids=("seg-0",)), {"main_road_closed"}),
    (req("traffic", "close_segment", {}, ids=("seg-3",)), set()),
]


@pytest.mark.parametrize("request_, rules", LARGE)
def test_large_effect_rules(state, request_, rules) -> None:
    plan = plan_command(request_, state, names={"c2": "Lattes"}, rules=SMALL)
    assert {x.rule for x in plan.large} == rules


def test_a_large_command_needs_a_reason_then_a_second_confirmation(state) -> None:
    dark = dict(domain="lighting", action="switch", params={"on": False}, selection=Selection(("c2",)))
    plan = plan_command(CommandRequest(**dark), state, names={"c2": "Lattes"}, rules=SMALL)
    assert "Lattes would be dark: 10 of its 10 lamps" in confirmation_problem(plan)
    assert "give a reason" in confirmation_problem(plan)
    plan = plan_command(CommandRequest(**dark, reason="Feu d'artifice"), state, rules=SMALL)
    assert "confirm a second time" in confirmation_problem(plan)
    plan = plan_command(CommandRequest(**dark, reason="Feu d'artifice", confirm=True), state, rules=SMALL)
    assert confirmation_problem(plan) is None


def test_a_retry_has_the_same_fingerprint_whatever_its_reason_or_key() -> None:
    a = req(ids=("d1",), reason="a", key="k1")
    b = req(ids=("d1",), reason="b", key="k2", confirm=True)
    assert a.fingerprint() == b.fingerprint() != req(params={"level": 31}, ids=("d1",)).fingerprint()
