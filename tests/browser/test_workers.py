"""Several web workers (README "Several web workers"): the engine's worker pushes through Flask-SocketIO's Redis
message queue, and a page served by a web-only worker (no engine) loads and follows the live state."""
from __future__ import annotations

import threading

import pytest
from flask import Flask
from werkzeug.serving import make_server

from services.contract import LightingReading, Point, State, Telemetry
from services.contract.messages import AssetDef
from services.settings import Settings

from .harness import free_port, start_stack
from .test_control_room import _kpi_css

pytestmark = pytest.mark.browser


def start_web_worker(settings: Settings):
    """A web-only worker: no engine, the reader on Redis, Socket.IO on the shared message queue; returns (url, stop)."""
    from dashboards import create_dash_app
    from services.runtime import start_services

    runtime = start_services(settings.with_(run_engine=False, run_simulators=False))
    server = Flask("vigie-web-only")
    server.config["SECRET_KEY"] = "test"
    create_dash_app(server, settings, runtime.reader, runtime.engine)
    port = free_port()
    http = make_server("127.0.0.1", port, server, threaded=True)
    threading.Thread(target=http.serve_forever, name="vigie-web-only", daemon=True).start()

    def stop() -> None:
        http.shutdown()
        runtime.stop()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="module")
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
