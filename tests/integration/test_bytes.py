"""Bytes of the shipped app (app factory): text gzipped, versioned static immutable, a map layer downloaded once,
Socket.IO and its handshake untouched."""
from __future__ import annotations

import gzip
import re

import pytest

from services.settings import Settings
from tests.factory import stack_settings

GZ = {"Accept-Encoding": "gzip"}


@pytest.fixture
def room(redis_url):
    from app import create_app

    room = create_app(stack_settings(Settings(redis_url=redis_url, run_simulators=False)), wait=False)
    assert room.ready, room.reason
    yield room
    room.stop()


def test_the_page_and_its_scripts_go_out_gzipped_and_versioned_scripts_are_immutable(room):
    c = room.server.test_client()
    page = c.get("/", headers=GZ)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    script = next(s for s in re.findall(r'src="([^"]+)"', html) if s.startswith("/_dash-component-suites/"))
    js = c.get(script, headers=GZ)
    assert js.headers["Content-Encoding"] == "gzip" and "immutable" in js.headers["Cache-Control"]
    asset = next(s for s in re.findall(r'src="([^"]+)"', html) if s.startswith("/assets/vigie_live.js"))
    mine = c.get(asset, headers=GZ)
    assert mine.headers["Content-Encoding"] == "gzip" and "immutable" in mine.headers["Cache-Control"]


def test_a_map_layer_is_downloaded_once_then_answered_not_modified_until_its_revision_moves(room):
    c = room.server.test_client()
    first = c.get("/vigie/geo/lighting?format=columns", headers=GZ)
    assert first.status_code == 200 and "no-cache" in first.headers["Cache-Control"]
    again = c.get("/vigie/geo/lighting?format=columns", headers={**GZ, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = c.get("/vigie/geo/water", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_the_socket_handshake_is_not_compressed(room):
    c = room.server.test_client()
    r = c.get("/socket.io/?EIO=4&transport=polling", headers=GZ)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers and b"sid" in r.data


def test_a_script_revalidated_with_its_etag_is_not_sent_again(room):
    c = room.server.test_client()
    first = c.get("/_dash-component-suites/plotly/package_data/plotly.min.js", headers=GZ)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    again = c.get("/_dash-component-suites/plotly/package_data/plotly.min.js", headers={**GZ, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
