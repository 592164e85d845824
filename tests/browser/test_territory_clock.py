"""The territory clock in the browser (issue 20): the header shows the simulated time and "×60", and runs at that pace.

The control room from the app factory on a real redis-server where a territory clock at x60 runs an hour ahead
of the wall clock (as the simulators would set it); no supervisor is needed for the clock.
"""
from __future__ import annotations

import time

import pytest

from services.contract.clock import CLOCK_KEY, ClockAnchor, encode_anchor

from .alarm_stack import start_secured

pytestmark = pytest.mark.browser


@pytest.fixture
def vigie(redis_url):
    import redis

    now = time.time()
    client = redis.Redis.from_url(redis_url)
    client.set(CLOCK_KEY, encode_anchor(ClockAnchor(speed=60.0, epoch=now + 3600, wall=now, by="lum-mtp")), ex=60)
    client.close()
    s = start_secured(redis_url, users=("olga",))
    yield s
    s.stop()


def test_the_header_shows_the_territory_s_time_and_its_pace(vigie):
    assert vigie.runtime.clock.speed == 60.0
    d = vigie.browser("olga", "/", width=1366, height=768)
    vigie.wait_for(lambda: d.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready)"), 30, "the live page")
    vigie.wait_for(lambda: (d.execute_script("return document.getElementById('clock-text').textContent") or "").endswith("×60"),
                   5, "the header's ×60")
    title = d.execute_script("return document.getElementById('clock-text').title")
    assert title == "Temps simulé du territoire : 60 fois plus vite que le temps réel"
    first = d.execute_script("return [vigie.live.now(), Date.now() / 1000]")
    assert abs(first[0] - vigie.runtime.clock()) < 60  # the server's territory time (an hour ahead of the wall), within a wall second
    assert first[0] - first[1] > 3000
    time.sleep(1.0)
    second = d.execute_script("return [vigie.live.now(), Date.now() / 1000]")
    pace = (second[0] - first[0]) / (second[1] - first[1])
    assert 40 < pace < 80, pace  # a wall second is a simulated minute, between two pushes too
