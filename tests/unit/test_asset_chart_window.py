"""The asset page's 24 h charts include the latest value, even when readings carry a clock ahead of Vigie's (x60)."""
from __future__ import annotations

from services.history.asset_detail import gather

NOW = 1_800_000_000.0


class Reader:
    def __init__(self, asset: dict) -> None:
        self._asset = asset

    def asset(self, asset_id: str) -> dict | None:
        return self._asset if asset_id == self._asset["id"] else None

    def alarms(self, active_only: bool = True) -> list:
        return []


class Journal:
    def __init__(self, points: list) -> None:
        self.points = points

    def asset_history(self, asset_id: str, since: float, until: float) -> list:
        return [p for p in self.points if since <= p[0] <= until]


def pipe(flow: float, updated: float) -> dict:
    return {"id": "eau-pipe-589", "type": "Pipe", "domain": "water", "refs": {}, "values": {"flow": flow}, "updated": updated}


def test_readings_ahead_of_the_wall_clock_are_charted_up_to_the_latest() -> None:
    # x60: an hour of wall time is 60 h of supervisor time; the leak at +50 h read 56.7 m3/h
    points = [(NOW + h * 3600, {"flow": 21.5 if h < 50 else 56.7}) for h in range(56)]
    d = gather(Reader(pipe(56.7, NOW + 55 * 3600)), "eau-pipe-589", NOW, journal=Journal(points))
    xs, ys = d.series["flow"]
    assert max(ys) == 56.7 and ys[-1] == 56.7 and xs[-1] == NOW + 55 * 3600
    assert d.window == (NOW + 55 * 3600 - 86400, NOW + 55 * 3600)


def test_the_latest_value_not_yet_journaled_ends_the_series() -> None:
    points = [(NOW - 600, {"flow": 21.5}), (NOW - 300, {"flow": 21.4})]
    d = gather(Reader(pipe(56.7, NOW - 5)), "eau-pipe-589", NOW, journal=Journal(points))
    assert d.series["flow"] == ([NOW - 600, NOW - 300, NOW - 5], [21.5, 21.4, 56.7])
    assert d.window == (NOW - 86400, NOW)


def test_without_a_journal_there_is_no_chart_rather_than_one_point() -> None:
    d = gather(Reader(pipe(56.7, NOW)), "eau-pipe-589", NOW)
    assert d.series == {} and d.history_missing
