"""The route inventory: every route of the shipped app answers as docs/routes.md says, and nothing is undocumented.

The app comes from the app factory (`app.create_app`), as `make run` builds it; only the settings differ.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from services.settings import Settings
from tests.factory import stack_settings
from tests.integration.signin import signed_in

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PW = "route inventory password"
VALUES = {"asset": "no-such-asset", "alarm": "sup/none", "action": "ack", "file": "vigie-security.css", "domain": "lighting", "command": "nope",
          "session": "nope", "entity": "urn:ngsi-ld:Streetlight:none", "name": "nobody", "change": "disable",
          "token": "nope", "unknown": "nothing/here", "supervisor": "nope", "decision": "approve",
          "order": "nope", "plan": "nope"}
DASH_OWN = ("/_dash-", "/_favicon.ico", "/_reload-hash", "/assets/", "/static/", "/<path:path>")
PREFIXES = ("/api/", "/ngsi-ld/", "/ngsi/", "/vigie/", "/auth/", "/admin")


def _rows() -> list[dict]:
    rows = []
    for line in (ROOT / "docs" / "routes.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
            rows.append({"method": cells[0], "path": cells[1], "anonymous": int(cells[2]), "signed": int(cells[3]),
                         "type": cells[4], "what": cells[5]})
    return rows


ROWS = _rows()


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^ ]+", re.escape(path)) + "$")


@pytest.fixture(scope="module")
def room(redis_server, tmp_path_factory):
    from app import create_app

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    settings = stack_settings(Settings(redis_url=url, run_simulators=False, state_dir=tmp_path_factory.mktemp("routes")),
                             anonymous_role=None)
    room = create_app(settings, wait=False)
    assert room.ready, room.reason
    store = room.server.extensions["vigie.security"].store
    store.create_user("route-admin", "admin", None, PW, now=time.time())
    store.create_user("route-engineer", "engineer", "all", PW, now=time.time())
    yield room
    room.stop()


def test_the_inventory_is_read():
    assert len(ROWS) > 60 and {r["method"] for r in ROWS} >= {"GET", "POST", "PUT", "DELETE"}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['method']} {r['path']}" for r in ROWS])
def test_every_documented_route_answers_as_documented(room, row):
    path = _concrete(row["path"])
    anonymous = room.server.test_client()
    data = path.startswith(("/api/", "/ngsi-ld/", "/ngsi/", "/vigie/"))
    browser = {} if data else {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # a page, asked as a browser does
    r = anonymous.open(path, method=row["method"], headers=browser)
    assert r.status_code == row["anonymous"], (path, r.status_code, r.get_data(as_text=True)[:300])
    if data:
        assert r.mimetype == "application/json", f"{path} without credentials answered {r.mimetype}, not JSON"
    who = "route-admin" if row["path"].startswith("/admin") else "route-engineer"
    client = signed_in(room.server, who, PW)
    r = client.open(path, method=row["method"], follow_redirects=False, headers=browser)
    assert r.status_code == row["signed"], (path, r.status_code, r.get_data(as_text=True)[:300])
    if r.status_code != 302:
        assert r.mimetype == row["type"], (path, r.mimetype)
    if path.startswith(("/api/", "/ngsi-ld/", "/ngsi/")):
        assert "<html" not in r.get_data(as_text=True)[:200].lower(), f"{path} answered HTML"


def test_no_route_is_left_out_of_the_inventory(room):
    documented = [_pattern(re.sub(r"\{\w+\}", "{x}", r["path"])) for r in ROWS]
    missing = []
    for rule in room.server.url_map.iter_rules():
        if rule.rule.startswith(DASH_OWN) or rule.rule == "/":
            continue
        shape = re.sub(r"<(?:\w+:)?\w+>", "{x}", rule.rule)
        if not any(p.match(shape) or p.match(_concrete_shape(shape)) for p in documented):
            missing.append(rule.rule)
    assert not missing, f"routes docs/routes.md does not list: {missing}"


def _concrete_shape(shape: str) -> str:
    return shape.replace("{x}", "x")


def test_every_path_the_docs_name_is_a_documented_route():
    documented = [_pattern(r["path"]) for r in ROWS]
    named = set()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for m in re.finditer(r"(?<![\w.:/])(/(?:api|ngsi-ld|ngsi|vigie|auth|admin)(?:/[\w.{}<>:-]*)*)", doc.read_text(encoding="utf-8")):
            path = m.group(1).rstrip(".,:")
            if path.endswith("/"):
                continue  # a prefix named in prose ("paths under /vigie/")
            path = re.sub(r"<[^>]+>|\{[^}]+\}", "x", path)
            if path in ("/api", "/api/v1", "/ngsi-ld", "/ngsi-ld/v1", "/vigie", "/auth", "/admin", "/api/v1/", "/ngsi"):
                continue
            named.add((doc.name, path))
    unknown = sorted((doc, p) for doc, p in named if not any(d.match(p) for d in documented)
                     and not any(d.match(p + "/x") for d in documented))
    assert not unknown, f"paths named in the docs with no row in docs/routes.md: {unknown}"
