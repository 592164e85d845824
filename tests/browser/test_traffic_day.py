"""The calibrated traffic day in the control room (issue 18.7): the shipped traffic simulator at a weekday's evening
peak, heard by the app factory's control room over a real redis-server, shown on /traffic in headless Chromium.

The rush hour congests the busiest roads (tens of percent of their length) and shows in the congestion index; an
incident on the busiest road queues the roads upstream of it (shown congested) and is alarmed.

`python -m tests.browser.test_traffic_day` takes the screenshots of docs/screenshots/.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from services.settings import PROJECT_ROOT
from tests.command_world import SimDriver

from .domain_stack import start_domain_stack

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def last_tuesday_evening() -> datetime:
    """17:00 on the latest Tuesday before today, in Montpellier's time."""
    today = datetime.now(PARIS).replace(hour=17, minute=0, second=0, microsecond=0)
    return today - timedelta(days=(today.weekday() - 1) % 7 or 7)


def next_tuesday_evening() -> datetime:
    """17:00 on the next Tuesday, in Montpellier's time (the territory clock can go there: it never goes back)."""
    return last_tuesday_evening() + timedelta(days=7)


def start(redis_url: str | None, state_dir: Path, at: datetime | None = None):
    """The control room and the traffic simulator driven by hand at 17:30 on a Tuesday (no random incidents)."""
    from services.simulators import build

    stack = start_domain_stack(redis_url, state_dir)
    traffic = SimDriver(build("traffic", seed=7, start=at or last_tuesday_evening()), stack.redis_url)
    traffic.sim.incident_rate = 0.0
    stack._stops.append(traffic.close)
    traffic.publish(traffic.sim.state())
    stack.wait_for(lambda: len(stack.engine.core.state.domain("traffic")) >= len(traffic.sim.asset_defs()), timeout=60,
                   what="the traffic supervisor's roads")
    traffic.step(30)
    stack.wait_for(lambda: kpi(stack, "congestion_index_pct") >= 3.0, timeout=30, what="the evening rush hour")
    return stack, traffic


def kpi(stack, name: str) -> float:
    return next((k["value"] or 0.0 for k in stack.reader.kpis().get("traffic", []) if k["key"] == name), 0.0)


@pytest.fixture(scope="module")
def room(redis_server, tmp_path_factory):
    import redis

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    stack, traffic = start(url, tmp_path_factory.mktemp("state"))
    yield stack, traffic
    stack.stop()


def busiest_share_congested(stack, sim) -> float:
    """Congested share of the length of the busiest tenth of roads, as the control room holds them."""
    top = set(np.array(sim._ids)[sim._daily >= np.percentile(sim._daily, 90)].tolist())
    state = stack.engine.core.state.domain("traffic")
    length = jammed = 0.0
    for aid in top:
        a = state[aid]
        length += a.props["lengthM"]
        jammed += a.props["lengthM"] if a.values.get("congested") else 0.0
    return 100 * jammed / length


def test_the_evening_rush_hour_congests_the_busiest_roads_and_shows_in_the_index(dash_duo, room) -> None:
    stack, traffic = room
    assert 20.0 <= busiest_share_congested(stack, traffic.sim) <= 70.0
    assert 3.0 <= kpi(stack, "congestion_index_pct") <= 20.0 and kpi(stack, "mean_speed_kmh") <= 40.0
    dash_duo.driver.get(stack.url + "/traffic")
    dash_duo.wait_for_contains_text("body", "Indice de congestion", timeout=20)
    shown = f"{kpi(stack, 'congestion_index_pct'):.1f}".replace(".", ",")
    dash_duo.wait_for_contains_text("body", shown, timeout=20)
    assert [e for e in dash_duo.get_logs() if "favicon" not in e.get("message", "")] == []


def test_an_incident_queues_the_roads_upstream_and_the_operator_sees_it(dash_duo, room) -> None:
    stack, traffic = room
    sim = traffic.sim
    seg = sim._ids[int(np.argmax(sim._daily))]
    assert sim.start_incident(seg, 60)
    traffic.step(20)
    behind = {i for i, cause in sim._queue.items() if cause == seg}
    assert len(behind) >= 5  # grew upstream: more than the roads touching it
    name = sim.segments[int(np.argmax(sim._daily))].name

    state = stack.engine.core.state.domain("traffic")
    ids = [sim._ids[i] for i in behind]
    stack.wait_for(lambda: sum(bool(state[a].values.get("congested")) for a in ids) >= 5, timeout=20,
                   what="the queue shown congested in the control room")
    stack.wait_for(lambda: any(a.code == "incident" and a.asset == seg for a in stack.engine.core.alarms.active()), timeout=20,
                   what="the incident's alarm")
    dash_duo.driver.get(stack.url + "/traffic")
    dash_duo.wait_for_contains_text("#alarm-list", name, timeout=20)


def screenshots(out: Path = PROJECT_ROOT / "docs" / "screenshots") -> None:
    """/traffic at a Tuesday's 17:30 with an incident on the busiest road, at both sizes."""
    import tempfile

    from services.contract.clock import CLOCK_KEY, TTL_S, ClockAnchor, encode_anchor

    from .chrome import chromium

    out.mkdir(parents=True, exist_ok=True)
    stack, traffic = start(None, Path(tempfile.mkdtemp()), next_tuesday_evening())
    try:
        sim = traffic.sim
        sim.start_incident(sim._ids[int(np.argmax(sim._daily))], 60)
        traffic.step(20)
        # the control room on the territory's time (17:50 that Tuesday), as with simulators on an offset clock
        stack.redis.set(CLOCK_KEY, encode_anchor(ClockAnchor(epoch=sim.now.timestamp(), wall=time.time(), by=sim.supervisor_id)),
                        ex=int(TTL_S))
        time.sleep(3.0)
        for width, height in ((1920, 1080), (1366, 768)):
            driver = chromium(width, height)
            try:
                traffic.publish(traffic.sim.heartbeat(1.0))
                driver.get(stack.url + "/traffic")
                time.sleep(4.0)
                traffic.publish(traffic.sim.heartbeat(1.0))
                time.sleep(1.0)
                driver.save_screenshot(str(out / f"traffic-rush-hour-{width}x{height}.png"))
            finally:
                driver.quit()
    finally:
        stack.stop()


if __name__ == "__main__":
    screenshots()
