"""Value bands the map draws with: speed against free flow, pressure against the thresholds."""
from __future__ import annotations

import pytest

from services.core.assets import Thresholds
from services.core.bands import PressureBand, SpeedBand, asset_band, bands_of, pressure_band, speed_band, speed_ratio


@pytest.mark.parametrize("speed, free, closed, band", [
    (50.0, 50.0, False, SpeedBand.FREE),
    (40.0, 50.0, False, SpeedBand.FREE),  # 0.8: still flows
    (39.0, 50.0, False, SpeedBand.SLOWED),
    (25.0, 50.0, False, SpeedBand.SLOWED),  # 0.5
    (24.0, 50.0, False, SpeedBand.CONGESTED),
    (12.5, 50.0, False, SpeedBand.CONGESTED),  # 0.25
    (12.0, 50.0, False, SpeedBand.JAMMED),
    (0.0, 50.0, False, SpeedBand.JAMMED),
    (0.0, 50.0, True, SpeedBand.CLOSED),
    (50.0, 50.0, True, SpeedBand.CLOSED),  # closed wins over any speed
    (None, 50.0, False, SpeedBand.FREE),  # never reported: no colour
    (20.0, 0.0, False, SpeedBand.FREE),  # no free-flow speed known
    (20.0, None, False, SpeedBand.FREE),
])
def test_speed_bands_follow_the_ratio_to_free_flow(speed, free, closed, band):
    assert speed_band(speed, free, closed) is band


def test_speed_ratio_is_none_when_unknown():
    assert speed_ratio(30, 50) == pytest.approx(0.6)
    assert speed_ratio(None, 50) is None and speed_ratio(30, 0) is None


@pytest.mark.parametrize("pressure, band", [
    (1.49, PressureBand.LOW), (1.5, PressureBand.NORMAL), (4.0, PressureBand.NORMAL), (8.0, PressureBand.NORMAL),
    (8.01, PressureBand.HIGH), (None, PressureBand.NORMAL), ("3", PressureBand.NORMAL),
])
def test_pressure_bands_follow_the_thresholds(pressure, band):
    assert pressure_band(pressure, Thresholds()) is band


def test_only_segments_and_pressure_points_have_a_band():
    t = Thresholds()
    assert asset_band("traffic", "RoadSegment", {"averageVehicleSpeed": 5.0}, {"freeFlowSpeed": 50.0}, t) == 3
    assert asset_band("traffic", "TrafficSignal", {"signalPlan": "normal"}, {}, t) == 0
    assert asset_band("water", "Junction", {"pressure": 1.0}, {}, t) == 1
    assert asset_band("water", "Pipe", {"flow": 3.0}, {}, t) == 0
    assert asset_band("lighting", "Streetlight", {"pressure": 1.0}, {}, t) == 0


def test_bands_of_keys_by_id():
    rows = [{"id": "s1", "type": "RoadSegment", "values": {"closed": True}, "props": {"freeFlowSpeed": 50}},
            {"id": "s2", "type": "RoadSegment", "values": {"averageVehicleSpeed": 50}, "props": {"freeFlowSpeed": 50}}]
    assert bands_of("traffic", rows, Thresholds()) == {"s1": 4, "s2": 0}
