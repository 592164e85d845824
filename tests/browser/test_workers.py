"""Several web workers (README "Several web workers"): the engine's worker pushes through Flask-SocketIO's Redis
message queue, and a page served by a web-only worker (no engine) loads and follows the live state; an operator
signed in on the web-only worker acknowledges an alarm, which the engine's process applies (services/feed/engine_rpc.py)."""
from __future__ import annotations


import pytest

from services.contract import LightingReading, Point, State, Telemetry
from services.contract.messages import AssetDef
from services.settings import Settings

from .harness import serve_room, start_stack, stop_http, stack_settings
from .test_control_room import _kpi_css

pytestmark = pytest.mark.browser


def start_web_worker(settings: Settings):
    """A web-only worker from the app factory: no engine, the reader on Redis, Socket.IO on the shared message queue;
    returns (url, stop)."""
    room, url, http = serve_room(stack_settings(settings, run_engine=False, run_simulators=False))

    def stop() -> None:
        stop_http(http)
        room.stop()

    return url, stop


@pytest.fixture
def workers(redis_server):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    settings = Settings(coalesce_ms=250, redis_url=url, socketio_message_queue=url, snapshot_interval_s=0.5)
    engine_worker = start_stack(url, settings)
    engine_worker.publish(State[LightingReading](
        **engine_worker.env("state", "lighting", "lum-test"), snapshot="s1",
        assets=[AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}", geometry=Point(coordinates=(3.8767 + i * 1e-4, 43.6108)))
                for i in range(5)],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on", powerConsumption=90.0) for i in range(5)]))
    engine_worker.wait_for(lambda: engine_worker.reader.asset("lamp-4") is not None, what="lamps defined")
    web_url, stop_web = start_web_worker(settings)
    yield engine_worker, web_url
    stop_web()
    engine_worker.stop()


def test_a_page_served_by_a_web_only_worker_follows_the_engine_workers_pushes(dash_duo, workers):
    engine_worker, web_url = workers
    dash_duo.driver.get(web_url + "/lighting")
    faulty = f"#{_kpi_css('lighting', 'lamps_faulty')}"
    dash_duo.wait_for_text_to_equal(faulty, "0", timeout=15)  # the snapshot, read from Redis by the web-only worker
    engine_worker.publish(Telemetry[LightingReading](**engine_worker.env("telemetry", "lighting", "lum-test"),
                                                     readings=[LightingReading(asset="lamp-2", status="brokenLantern")]))
    dash_duo.wait_for_text_to_equal(faulty, "1", timeout=10)  # the delta, relayed by the message queue
    assert dash_duo.driver.execute_script("return window.vigie.live.connected") is True


@pytest.fixture
def secured_workers(redis_url):
    from .alarm_stack import start_secured

    engine_worker = start_secured(redis_url, socketio_message_queue=redis_url)
    engine_worker.lamps(10)
    engine_worker.wait_for(lambda: len(engine_worker.runtime.reader.assets_geo("lighting")) == 10, what="lamps")
    web_worker = start_secured(redis_url, users=(), run_engine=False, socketio_message_queue=redis_url)
    yield engine_worker, web_worker
    web_worker.stop()
    engine_worker.stop()


def test_an_operator_on_a_web_only_worker_acknowledges_an_alarm_the_engine_applies(secured_workers):
    engine_worker, web_worker = secured_workers
    driver = web_worker.browser("alice")  # signed in on the web-only worker, the console served by it
    engine_worker.alarms(("low_level:lamp-3", "lamp-3", "critical"))  # an operator alarm (a lamp fault is maintenance)
    aid = "lum/low_level:lamp-3"
    cell = lambda css: f"document.querySelector('.ag-row[row-id=\"{aid}\"] {css}')"  # pinned columns: several rows share an id
    web_worker.wait_for(lambda: driver.execute_script(f"return !!{cell('.alarm-quickack')}"), 15, "the alarm in the web-only worker's grid")
    driver.execute_script(f"{cell('.alarm-quickack')}.click()")
    acked = lambda: next((a for a in engine_worker.runtime.reader.alarms() if a["id"] == aid), {}).get("acked_by")
    engine_worker.wait_for(lambda: acked() == "alice", 15, "the engine's process applying the ack")
    web_worker.wait_for(lambda: "alice" in driver.execute_script(f"return {cell('[col-id=state]')}.textContent"),
                        10, "the ack pushed back to the page")
    row = "document.querySelector('.ag-row[row-id=\"' + arguments[0] + '\"]')"
    assert "alarm-row-unack" not in driver.execute_script(f"return {row}.className", aid)
