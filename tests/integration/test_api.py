"""The read API over a running engine (and over the snapshots in Redis): answers, filters, refusals, health."""
from __future__ import annotations


import pytest
import redis
from flask import Flask, Response

from services.web.api import create_api
from services.feed.bus import bounded_client
from services.feed.engine import Engine
from services.feed.reader import LocalReader, RedisReader
from services.redis_launcher import free_port
from services.settings import Settings
from tests.integration.test_engine import Feed, publish, wait_until

pytestmark = pytest.mark.integration


def make_app(reader, engine, settings: Settings, **kwargs) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(create_api(reader, engine, settings, **kwargs))
    return app


@pytest.fixture(scope="module")
def live(redis_server, tmp_path_factory):
    """An engine holding two lighting supervisors: 12 lamps in service and 8 faulty, one alarm acknowledged.

    The feeds never send a heartbeat: liveness thresholds of an hour keep them live (and free of "supervisor
    stale" alarms) however long a loaded machine takes to reach the module's last test.
    """
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    settings = Settings(state_dir=tmp_path_factory.mktemp("api"), snapshot_interval_s=0.1, late_after_s=3600.0, stale_after_s=3600.0)
    engine = Engine(settings, url).start()
    wait_until(lambda: engine.bus_up)
    ok, bad = Feed("lum-ok", lamps=12), Feed("lum-bad", lamps=8)
    client = redis.Redis.from_url(url)
    publish(client, ok.state(), bad.state(status="defectiveLamp"), bad.alarm(bad.ids[0]), bad.alarm(bad.ids[1]))
    remote = RedisReader(bounded_client(url))
    wait_until(lambda: remote.assets()[0] == 20 and len(remote.alarms()) == 2)
    engine.acknowledge(f"lum-bad/al-{bad.ids[0]}", "ada")
    wait_until(lambda: remote.alarms() == LocalReader(engine).alarms())
    wait_until(lambda: {k["key"]: k["value"] for k in remote.kpis()["lighting"]}.get("lamps_faulty") == 8)  # KPIs follow at the next tick
    yield engine, settings, remote
    remote.client.close()
    client.close()
    engine.stop()


@pytest.fixture(params=["local", "redis"])
def http(request, live):
    """A test client over the engine in this process, then over the snapshots in Redis: same answers."""
    engine, settings, remote = live
    reader = LocalReader(engine) if request.param == "local" else remote
    with make_app(reader, engine if request.param == "local" else None, settings).test_client() as c:
        yield c


@pytest.mark.parametrize(("query", "total"), [
    ("", 20),
    ("?domain=lighting", 20),
    ("?domain=water", 0),
    ("?kind=Streetlight", 20),
    ("?kind=Pump", 0),
    ("?status=fault", 8),
    ("?status=ok&domain=lighting", 12),
    ("?bbox=3.869,43.609,3.8725,43.6125", 6),  # lamps 0-2 of both supervisors
    ("?bbox=3.869,43.609,3.8725,43.6125&status=fault", 3),
    ("?bbox=-1,-1,1,1", 0),
])
def test_assets_filters(http, query: str, total: int) -> None:
    page = http.get(f"/api/v1/assets{query}").get_json()
    assert page["total"] == total and len(page["items"]) == min(total, 100)


def test_assets_pages_cover_every_asset_once_in_id_order(http) -> None:
    pages = [http.get(f"/api/v1/assets?offset={o}&limit=7").get_json() for o in (0, 7, 14)]
    ids = [a["id"] for p in pages for a in p["items"]]
    assert [p["limit"] for p in pages] == [7, 7, 7] and [p["offset"] for p in pages] == [0, 7, 14]
    assert ids == sorted(ids) and len(set(ids)) == 20


def test_one_asset_or_404(http) -> None:
    a = http.get("/api/v1/assets/lum-bad-lamp-003").get_json()
    assert (a["type"], a["condition"], a["values"]["status"]) == ("Streetlight", "fault", "defectiveLamp")
    r = http.get("/api/v1/assets/no-such-lamp")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_supervisors_alarms_kpis_summary(http) -> None:
    assert {s["id"]: s["assets"] for s in http.get("/api/v1/supervisors").get_json()["items"]} == {"lum-bad": 8, "lum-ok": 12}
    active = http.get("/api/v1/alarms").get_json()["items"]
    assert [(a["asset"], a["acknowledged"]) for a in active] == [("lum-bad-lamp-001", False), ("lum-bad-lamp-000", True)]
    assert len(http.get("/api/v1/alarms?state=all&limit=1").get_json()["items"]) == 1
    kpis = {k["key"]: k["value"] for k in http.get("/api/v1/kpis").get_json()["lighting"]}
    assert (kpis["lamps_faulty"], kpis["lamps_in_service_pct"]) == (8, 60.0)
    assert "lamps_faulty" in http.get("/api/v1/kpis/lighting/history").get_json()["series"]
    summary = http.get("/api/v1/summary").get_json()
    assert (summary["assets"], summary["alarms_by_priority"]["high"], summary["unacknowledged"]) == (20, 2, 1)


BAD = [  # (url, refusal reason)
    ("/api/v1/assets?domain=gas", "bad_domain"),
    ("/api/v1/assets?kind=Lamp", "bad_kind"),
    ("/api/v1/assets?status=broken", "bad_status"),
    ("/api/v1/assets?bbox=1,2,3", "bad_bbox"),
    ("/api/v1/assets?bbox=a,b,c,d", "bad_bbox"),
    ("/api/v1/assets?bbox=4,43,3,44", "bad_bbox"),
    ("/api/v1/assets?bbox=nan,43,4,44", "bad_bbox"),
    ("/api/v1/assets?limit=0", "bad_limit"),
    ("/api/v1/assets?limit=100000", "bad_limit"),
    ("/api/v1/assets?offset=-1", "bad_offset"),
    ("/api/v1/assets?offset=ten", "bad_offset"),
    ("/api/v1/alarms?state=some", "bad_state"),
    ("/api/v1/alarms?limit=lots", "bad_limit"),
    ("/api/v1/kpis/gas/history", "bad_domain"),
]


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_bad_parameters_are_refused_with_a_reason_and_counted(live, url: str, reason: str) -> None:
    engine, settings, _ = live
    with make_app(LocalReader(engine), engine, settings).test_client() as c:
        r = c.get(url)
        assert r.status_code == 400 and r.is_json
        assert r.get_json()["error"] == reason and "Traceback" not in r.get_data(as_text=True)
        assert f'reason="{reason}"' in c.get("/metrics").get_data(as_text=True)


def test_openapi_describes_every_route(http) -> None:
    doc = http.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routes = {r.rule.replace("<path:asset_id>", "{asset_id}").replace("<domain>", "{domain}")
              for r in http.application.url_map.iter_rules()
                  if r.endpoint.startswith("vigie_api.") and r.endpoint != "vigie_api.not_found"}
    from services.web.workorders import openapi_parts

    assert routes == set(doc["paths"]) - set(openapi_parts()[0])  # the work-orders blueprint's own: test_workorders_api.py


def test_metrics_expose_the_engine_counters(live) -> None:
    engine, settings, _ = live
    with make_app(LocalReader(engine), engine, settings).test_client() as c:
        r = c.get("/metrics")
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/plain"
    for name in ("vigie_messages_total", "vigie_messages_rejected_total", "vigie_readings_total", "vigie_processing_seconds_bucket",
                 "vigie_supervisor_age_seconds", "vigie_supervisor_stale", "vigie_redis_up 1.0", "vigie_state_requests_total",
                 'vigie_assets{domain="lighting"} 20.0', 'vigie_alarms_active{priority="high"} 2.0'):
        assert name in text


def test_healthz_is_public_and_says_503_when_redis_is_down(live) -> None:
    engine, settings, _ = live
    refuse = lambda: Response("sign in first", status=401)  # noqa: E731 - the seam accounts will plug into
    with make_app(LocalReader(engine), engine, settings, before_request=refuse).test_client() as c:
        h = c.get("/healthz")
        assert h.status_code == 200 and h.get_json()["redis_up"] is True
        assert [s["status"] for s in h.get_json()["supervisors"]] == ["live", "live"]
        assert c.get("/api/v1/assets").status_code == 401
        assert c.get("/metrics").status_code == 200
    dead = RedisReader(bounded_client(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5))
    with make_app(dead, None, settings).test_client() as c:
        h = c.get("/healthz")
        assert h.status_code == 503 and h.get_json()["status"] == "down"
        r = c.get("/api/v1/assets")
        assert r.status_code == 503 and r.get_json()["error"] == "unavailable"


def test_with_security_the_api_needs_the_api_read_permission(live) -> None:
    from flask_login import LoginManager

    from services.accounts.roles import Decision, Refusal

    engine, settings, _ = live
    asked: list[tuple] = []

    class Deny:
        def authorize(self, principal, action, domain=None, *, target=""):
            asked.append((action, target))
            return Decision(False, action, domain, Refusal.ROLE, "Refused: your role cannot read the API.")

    app = make_app(LocalReader(engine), engine, settings, security=Deny())
    LoginManager(app).user_loader(lambda user_id: None)  # what init_security sets up in the real app
    with app.test_client() as c:
        r = c.get("/api/v1/kpis")
        assert r.status_code == 403 and r.get_json()["error"] == "role"
        assert c.get("/healthz").status_code == 200
    assert asked == [("api.read", "/api/v1/kpis")]
