"""Isolating a pipe on small networks: the valves upstream, nearest first, and what each cuts off."""
from __future__ import annotations

import pytest

from services.core.water_isolation import WaterNet
from tests.command_world import world


def net(*rows: tuple) -> WaterNet:
    """rows: (id, type, upstream-or-pipe, length m)."""
    assets = []
    for aid, typ, rel, length in rows:
        refs = ({"upstream": rel} if rel else {}) if typ == "Pipe" else {"pipe": rel}
        assets.append({"id": aid, "type": typ, "name": aid.upper(), "refs": refs, "props": {"length": length},
                       "values": {"position": 1.0} if typ == "Valve" else {}})
    return WaterNet(assets)


#      p1 (valve v1) ── p2 ── p3 (valve v3) ── p4
#                         └── p5 (sensor s5)
TREE = net(("p1", "Pipe", None, 1000), ("p2", "Pipe", "p1", 500), ("p3", "Pipe", "p2", 300), ("p4", "Pipe", "p3", 200),
           ("p5", "Pipe", "p2", 400), ("v1", "Valve", "p1", 0), ("v3", "Valve", "p3", 0), ("s2", "Device", "p2", 0),
           ("s4", "Device", "p4", 0), ("s5", "Device", "p5", 0), ("j3", "Junction", "p3", 0))


@pytest.mark.parametrize("pipe, valves, cut, sensors", [
    ("p4", ["v3", "v1"], [2, 5], [["S4"], ["S2", "S4", "S5"]]),  # nearest valve first: it cuts the least
    ("p3", ["v3", "v1"], [2, 5], [["S4"], ["S2", "S4", "S5"]]),  # the valve on the pipe itself
    ("p5", ["v1"], [5], [["S2", "S4", "S5"]]),  # no valve on its branch: only the head valve
    ("p1", ["v1"], [5], [["S2", "S4", "S5"]]),
])
def test_isolation_options(pipe, valves, cut, sensors) -> None:
    opts = TREE.isolation(pipe)
    assert [o.valve for o in opts] == valves
    assert [len(o.pipes) for o in opts] == cut
    assert [[name for _, name in o.sensors] for o in opts] == sensors


def test_an_option_says_how_far_up_how_much_network_and_the_valves_state() -> None:
    near, far = TREE.isolation("p4")
    assert (near.hops, near.on_pipe, near.km, near.junctions, near.position) == (1, "p3", 0.5, 1, 1.0)
    assert (far.hops, far.km) == (3, 2.4)
    assert near.to_dict()["sensors"] == [["s4", "S4"]]


def test_a_pipe_with_no_valve_upstream_has_no_option() -> None:
    assert net(("p1", "Pipe", None, 100), ("p2", "Pipe", "p1", 100)).isolation("p2") == []


def test_an_upstream_loop_in_bad_data_ends() -> None:
    loop = net(("a", "Pipe", "b", 100), ("b", "Pipe", "a", 100), ("v", "Valve", "b", 0))
    assert [o.valve for o in loop.isolation("a")] == ["v"]


def test_the_sensors_a_pipe_affects_are_its_own_and_those_downstream() -> None:
    here, down = TREE.affected_sensors("p2")
    assert ([s.id for s in here], [s.id for s in down]) == (["s2"], ["s4", "s5"])
    assert TREE.affected_sensors("p4") == (TREE.sensors_on(["p4"]), [])


def test_it_reads_the_cores_asset_records_too() -> None:
    w = WaterNet(world().domain("water").values())
    assert [o.valve for o in w.isolation("pipe-2")] == ["valve-1", "valve-main"]
    assert [s for s, _ in w.isolation("pipe-2")[0].sensors] == ["sensor-1", "sensor-2"]


def test_the_panel_speaks_french_and_english_with_the_same_words() -> None:
    from layouts.water_isolation import WORDS, isolation_panel

    assert set(WORDS["fr"]) == set(WORDS["en"])
    doc = {"name": "Conduite DN250, Rue X", "options": [o.to_dict() for o in TREE.isolation("p4")]}
    text = str(isolation_panel(doc, "fr"))
    assert "Isoler Conduite DN250, Rue X" in text and "1 conduite(s) en amont" in text and "Choisir cette vanne" in text
    assert "valve acts on" not in text and "Pipe" not in text
    assert "No valve upstream" in str(isolation_panel({"name": "P", "options": []}, "en"))
