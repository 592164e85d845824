"""The wall in headless Chromium on the full stack: kiosk look, the playlist's rotation, the jump on an urgent alarm
held until acknowledged, the stale corner and the recovery after the web server restarts."""
from __future__ import annotations

import time

import pytest
from dash.testing.wait import until

from services.alarms.actions import parse_params
from services.contract import Alarm, AlarmEvent, Point, State, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .domain_stack import serve, start_domain_stack, stop_web

pytestmark = pytest.mark.browser

PLAYLIST = """
items:
  - {path: /wall, seconds: 3}
  - {path: /lighting, seconds: 2}
  - {path: /water, seconds: 2}
  - {path: /traffic, seconds: 2}
stale_after_s: 4
"""


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    (state / "wall.yaml").write_text(PLAYLIST)
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", state,
                           Settings(coalesce_ms=250, wall_playlist=state / "wall.yaml"))
    s.publish(State[WaterReading](**s.env("state", "water", "eau-test"), snapshot="s1",
                                  assets=[AssetDef(id="res-1", type="Reservoir", name="Réservoir Aiguelongue",
                                                   geometry=Point(coordinates=(3.87, 43.63)))],
                                  readings=[WaterReading(asset="res-1", level=4.0)]))
    s.wait_for(lambda: s.reader.asset("res-1") is not None, what="reservoir defined")
    yield s
    s.stop()


def path_of(dash_duo) -> str:
    return dash_duo.driver.execute_script("return window.location.pathname")


def wait_path(dash_duo, path: str, timeout: float) -> float:
    """Wait until the wall shows `path`; return when it did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path_of(dash_duo) == path:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"the wall did not go to {path} (at {path_of(dash_duo)})")


def visits(dash_duo, seconds: float) -> list[tuple[str, float]]:
    """The pages the wall shows over `seconds`, with when each began."""
    seen: list[tuple[str, float]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = path_of(dash_duo)
        if not seen or seen[-1][0] != p:
            seen.append((p, time.monotonic()))
        time.sleep(0.05)
    return seen


def test_the_wall_rotates_through_its_playlist_without_controls(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/wall")
    dash_duo.wait_for_element(".vigie-kiosk #wall-updated", timeout=10)
    assert not dash_duo.find_element(".vigie-nav").is_displayed()
    until(lambda: dash_duo.find_element("#clock-text").text.count(":") == 2, timeout=5)  # HH:MM:SS, ticking
    assert dash_duo.find_element("#clock-text").is_displayed()
    seen = visits(dash_duo, 12)
    order = ["/wall", "/lighting", "/water", "/traffic"]
    pages = [p for p, _ in seen]
    assert len(pages) >= 4
    for a, b in zip(pages, pages[1:]):
        assert order.index(b) == (order.index(a) + 1) % 4, pages  # the playlist's order, round and round
    durations = [round(t2 - t1, 1) for (p, t1), (_, t2) in zip(seen[1:], seen[2:]) if p in ("/lighting", "/water", "/traffic")]
    assert all(1.5 <= d <= 3.5 for d in durations), durations  # each item's own duration (2 s; a loaded CI delays ticks)
    assert "kiosk=1" in dash_duo.driver.current_url and "theme=dark" in dash_duo.driver.current_url


def test_a_new_urgent_alarm_takes_the_wall_to_its_domain_until_acknowledged(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/wall")
    wait_path(dash_duo, "/lighting", 8)
    stack.publish(Alarm(**stack.env("alarm", "water", "eau-test"), events=[
        AlarmEvent(id="low_level:res-1", asset="res-1", action="raise", severity="critical", code="low_level",
                   message="Niveau bas")]))
    wait_path(dash_duo, "/water", 4)
    time.sleep(4)  # twice the item's duration: held
    assert path_of(dash_duo) == "/water"
    held = [a["id"] for a in stack.reader.alarms() if a.get("asset") == "res-1"]
    stack.server.extensions["vigie.alarms"].actions.apply("ack", held, "test", parse_params("ack", {}))
    end = time.monotonic() + 5
    while path_of(dash_duo) == "/water" and time.monotonic() < end:
        time.sleep(0.1)
    assert path_of(dash_duo) != "/water"  # released: the rotation resumes


def test_the_wall_shows_it_is_stale_and_recovers_after_the_server_restarts(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/wall")
    dash_duo.wait_for_element("#wall-updated", timeout=10)
    assert "stale" not in dash_duo.find_element("#wall-updated").get_attribute("class")
    stop_web(stack.web)
    dash_duo.wait_for_element("#wall-updated.stale", timeout=10)  # the frozen wall says so
    time.sleep(2)
    stack.web = serve(stack.room, stack.port)
    end = time.monotonic() + 40
    while time.monotonic() < end:
        ok = dash_duo.driver.execute_script(
            "var b = document.getElementById('wall-updated'); return !!(b && !b.classList.contains('stale') "
            "&& window.vigie && vigie.live.ready && vigie.live.connected)")
        if ok:
            break
        time.sleep(0.2)
    assert ok, "the wall did not come back by itself"
    assert path_of(dash_duo) in ("/wall", "/lighting", "/water", "/traffic")  # and the rotation goes on
