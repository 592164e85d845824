"""Bytes on the wire: text gzipped when accepted, files compressed once per version, streams and sockets untouched."""
from __future__ import annotations

import gzip

import pytest
from flask import Flask, Response, send_from_directory

from services.web.compression import init_compression

BIG = "vigie " * 500


@pytest.fixture
def app(tmp_path):
    (tmp_path / "map.js").write_text("var x = 1;\n" * 400)
    server = Flask("t")

    @server.get("/json")
    def json_():
        return {"text": BIG}

    @server.get("/small")
    def small():
        return {"ok": True}

    @server.get("/stream")
    def stream():
        return Response((BIG for _ in range(3)), mimetype="text/plain")

    @server.get("/png")
    def png():
        return Response(b"\x89PNG" + b"0" * 5000, mimetype="image/png")

    @server.get("/assets/<path:name>")
    def assets(name):
        return send_from_directory(tmp_path, name)

    server.extensions["comp"] = init_compression(server)
    return server


GZ = {"Accept-Encoding": "gzip, deflate"}
BR = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_text_answer_goes_out_gzipped_when_the_browser_accepts_it(app):
    c = app.test_client()
    r = c.get("/json", headers=GZ)
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert gzip.decompress(r.data).decode().count("vigie") == 500
    assert "Content-Encoding" not in c.get("/json").headers  # not accepted: sent as it is


@pytest.mark.parametrize("path", ["/small", "/stream", "/png"])
def test_small_streamed_and_binary_answers_are_left_alone(app, path):
    r = app.test_client().get(path, headers=GZ)
    assert "Content-Encoding" not in r.headers and r.status_code == 200


def test_a_file_is_compressed_once_per_version_and_a_versioned_url_is_immutable(app):
    c = app.test_client()
    first = c.get("/assets/map.js?m=123", headers=GZ)
    second = c.get("/assets/map.js?m=123", headers=GZ)
    assert gzip.decompress(first.data) == gzip.decompress(second.data) == ("var x = 1;\n" * 400).encode()
    assert app.extensions["comp"].stats["cached_hits"] == 1
    assert "immutable" in first.headers["Cache-Control"]
    assert "immutable" not in (c.get("/assets/map.js", headers=GZ).headers.get("Cache-Control") or "")


def test_a_head_request_and_a_not_modified_answer_carry_no_body_to_compress(app):
    c = app.test_client()
    etag = c.get("/assets/map.js").headers["ETag"]
    assert c.get("/assets/map.js", headers={**GZ, "If-None-Match": etag}).status_code == 304
    assert "Content-Encoding" not in c.head("/json", headers=GZ).headers


def test_brotli_is_preferred_when_the_browser_takes_it():
    brotli = pytest.importorskip("brotli")

    server = Flask("b")
    server.get("/json")(lambda: {"text": BIG})
    init_compression(server)
    r = server.test_client().get("/json", headers=BR)
    assert r.headers["Content-Encoding"] == "br" and brotli.decompress(r.data).decode().count("vigie") == 500
