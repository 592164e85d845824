"""The palette under colour-vision deficiency: traffic states, pressure bands and command marks never come near an
alarm priority's colour, in normal vision or under protanopia, deuteranopia or tritanopia (docs/ui.md "Colours")."""
from __future__ import annotations

import pytest

from layouts.palette import (
    COMMAND_STYLE,
    PRESSURE_BAND_STYLE,
    PRIORITY_STYLE,
    SELECT_INK,
    SPEED_BAND_STYLE,
    THEMES,
)
from layouts.palette_vision import VISIONS, ciede2000, distance, simulate

PRIORITIES = {p: s["color"] for p, s in PRIORITY_STYLE.items()}
TRAFFIC = {s["name"]: s["color"] for s in SPEED_BAND_STYLE.values() if s["color"]}
PRESSURE = {s["name"]: s["color"] for s in PRESSURE_BAND_STYLE.values() if s["color"]}
APART = 10.0  # CIEDE2000: 1 is about the smallest difference one sees; 10 is told apart at a glance
ALARMS_APART = 10.0  # the four priorities among themselves (backed by their shapes ▲ ◆ ■ ●)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [  # Sharma, Wu & Dalal (2005), table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.335), 1.0),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
])
def test_ciede2000_matches_the_published_reference_pairs(lab1, lab2, expected) -> None:
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_a_grey_stays_grey_whatever_the_vision() -> None:
    for vision in VISIONS:
        r, g, b = simulate("#808080", vision)
        assert max(r, g, b) - min(r, g, b) < 0.02, vision


def pairs(a: dict[str, str], b: dict[str, str]):
    return [(na, nb, ca, cb) for na, ca in a.items() for nb, cb in b.items() if ca != cb]


@pytest.mark.parametrize("vision", VISIONS)
def test_traffic_states_are_never_taken_for_an_alarm_priority(vision: str) -> None:
    for na, nb, ca, cb in pairs(TRAFFIC, PRIORITIES):
        assert distance(ca, cb, vision) >= APART, f"{na} {ca} looks like the {nb} alarm {cb} ({vision})"


@pytest.mark.parametrize("vision", VISIONS)
def test_traffic_states_are_told_apart_from_each_other(vision: str) -> None:
    for na, nb, ca, cb in pairs(TRAFFIC, TRAFFIC):
        assert distance(ca, cb, vision) >= APART, f"{na} vs {nb} ({vision})"


@pytest.mark.parametrize("vision", VISIONS)
def test_pressure_bands_are_never_taken_for_an_alarm_priority(vision: str) -> None:
    for na, nb, ca, cb in pairs(PRESSURE, PRIORITIES):
        assert distance(ca, cb, vision) >= APART, f"{na} {ca} looks like the {nb} alarm {cb} ({vision})"
    for na, nb, ca, cb in pairs(PRESSURE, PRESSURE):
        assert distance(ca, cb, vision) >= APART, f"{na} vs {nb} ({vision})"


@pytest.mark.parametrize("vision", VISIONS)
def test_the_alarm_priorities_stay_apart(vision: str) -> None:
    for na, nb, ca, cb in pairs(PRIORITIES, PRIORITIES):
        assert distance(ca, cb, vision) >= ALARMS_APART, f"{na} vs {nb} ({vision})"


@pytest.mark.parametrize("vision", VISIONS)
def test_abnormal_traffic_and_pressure_stand_out_from_the_map_in_both_themes(vision: str) -> None:
    for theme in THEMES.values():
        for name, colour in {**TRAFFIC, **PRESSURE}.items():
            assert distance(colour, theme["land"], vision) >= APART, f"{name} on {theme['land']} ({vision})"


def test_commands_have_their_own_neutral_marks() -> None:
    assert all("color" not in s for s in COMMAND_STYLE.values())  # shape and border only
    assert {s["shape"] for s in COMMAND_STYLE.values()}.isdisjoint({s["shape"] for s in PRIORITY_STYLE.values()})
    for theme, ink in SELECT_INK.items():
        assert ink == THEMES[theme]["ink"] or distance(ink, THEMES[theme]["ink"]) < 5  # the targets: the theme's ink
