"""Bytes on the wire: brotli or gzip for every text response, and cache headers that let a browser keep what cannot change.

`init_compression(server)` hangs one `after_request` on the Flask app:

- a text response (HTML, JSON, JavaScript, CSS, SVG, plain text) of more than `MIN_BYTES` goes out compressed
  (brotli when installed and accepted, else gzip) with `Vary: Accept-Encoding`; a file sent from disk (Dash's assets, component suites) is
  read and compressed once per version and kept (`CACHE_BYTES` at most), so plotly's 4.7 MB is not compressed
  again for each page;
- never touched: Socket.IO (its own transport, WebSocket upgrades), streamed bodies (the journal's export),
  ranges, answers without a body (304, HEAD) and what is already encoded;
- a URL that names its version (`?m=` Dash adds to assets, the version Dash puts in a component suite's file
  name) is cached for a year as immutable: the version changes the URL.

Figures in docs/performance.md "Bytes".
"""
from __future__ import annotations

import gzip
import logging
import threading
from collections import OrderedDict

try:  # brotli when installed (about 12 % fewer bytes than gzip on the scripts), else gzip
    import brotli
except ImportError:  # pragma: no cover - the gzip path is the same
    brotli = None

from flask import Flask, Request, Response, request

log = logging.getLogger(__name__)

MIN_BYTES = 600  # below this gzip's header and the work cost more than they save
LEVEL = 6
CACHE_BYTES = 48 * 1024 * 1024  # compressed files kept (by path and version)
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/x-javascript", "image/svg+xml",
              "application/geo+json", "application/xml", "application/manifest+json")
SKIP_PREFIXES = ("/socket.io",)
YEAR_S = 31536000
IMMUTABLE = f"public, max-age={YEAR_S}, immutable"


BROTLI_QUALITY = 5  # 0.2 s for plotly's 4.7 MB, once per version (quality 10: 6 s for 8 % less)


def _accepted(req: Request) -> set[str]:
    """The encodings the request accepts (q=0 refuses one)."""
    out = set()
    for part in req.headers.get("Accept-Encoding", "").split(","):
        token, _, q = part.strip().partition(";")
        if q.strip().replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            out.add(token.strip().lower())
    return out


def choose_encoding(req: Request) -> str | None:
    """br when the browser takes it and brotli is installed, else gzip, else None."""
    accepted = _accepted(req)
    if brotli is not None and "br" in accepted:
        return "br"
    if "gzip" in accepted or "*" in accepted:
        return "gzip"
    return None


def _textual(resp: Response) -> bool:
    mimetype = (resp.mimetype or "").lower()
    return mimetype.startswith(TEXT_TYPES)


def _versioned(req: Request) -> bool:
    """Does the URL name the version of what it serves (so the answer never changes)?"""
    path = req.path
    if path.startswith("/assets/") and "m" in req.args:
        return True
    return path.startswith("/_dash-component-suites/") and ("m" in req.args or "v" in req.args)


class Compressor:
    """Gzips responses; keeps the compressed bytes of files sent from disk, by path and version."""

    def __init__(self, level: int = LEVEL, cache_bytes: int = CACHE_BYTES) -> None:
        self.level = level
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.stats = {"compressed": 0, "bytes_in": 0, "bytes_out": 0, "cached_hits": 0, "skipped": 0}

    def __call__(self, resp: Response) -> Response:
        try:
            return self._after(resp)
        except Exception:
            log.exception("compression failed for %s; sent as it is", request.path)
            return resp

    def _after(self, resp: Response) -> Response:
        req = request
        if resp.status_code == 200 and (_versioned(req) or resp.cache_control.max_age == YEAR_S):  # Dash's fingerprinted files
            resp.headers["Cache-Control"] = IMMUTABLE
        if (req.method == "HEAD" or resp.status_code != 200 or req.path.startswith(SKIP_PREFIXES)
                or resp.is_streamed and not resp.direct_passthrough or "Content-Encoding" in resp.headers
                or "Content-Range" in resp.headers or not _textual(resp)):
            return resp
        resp.vary.add("Accept-Encoding")
        encoding = choose_encoding(req)
        if encoding is None:
            return resp
        key = None
        if resp.cache_control.max_age == YEAR_S:  # a versioned URL: its bytes never change
            key = (encoding, req.path, req.query_string)
        elif resp.direct_passthrough:  # a file from disk: the same bytes for one path and validator
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            key = (encoding, req.path, validator, resp.content_length) if validator else None
        body = self._cached(key)
        if body is None:
            resp.direct_passthrough = False
            raw = resp.get_data()
            if len(raw) < MIN_BYTES:
                self.stats["skipped"] += 1
                return resp
            body = brotli.compress(raw, quality=BROTLI_QUALITY) if encoding == "br" else gzip.compress(raw, self.level, mtime=0)
            self.stats["bytes_in"] += len(raw)
            self._keep(key, body)
        else:
            resp.direct_passthrough = False
        resp.set_data(body)
        resp.headers["Content-Encoding"] = encoding
        # the ETag is kept as it is: Dash compares If-None-Match with its own tag exactly (a weakened one never
        # matched, and plotly's 4.7 MB came again on every page load); Vary: Accept-Encoding keeps the encodings apart
        self.stats["compressed"] += 1
        self.stats["bytes_out"] += len(body)
        return resp

    def _cached(self, key: tuple | None) -> bytes | None:
        if key is None:
            return None
        with self._lock:
            body = self._cache.get(key)
            if body is not None:
                self._cache.move_to_end(key)
                self.stats["cached_hits"] += 1
            return body

    def _keep(self, key: tuple | None, body: bytes) -> None:
        if key is None or len(body) > self.cache_bytes // 4:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = body
            self._held += len(body)
            while self._held > self.cache_bytes and self._cache:
                _, old = self._cache.popitem(last=False)
                self._held -= len(old)


def init_compression(server: Flask) -> Compressor:
    """Compress the app's text responses and mark versioned static URLs immutable; returns the compressor (stats)."""
    compressor = Compressor()
    server.after_request(compressor)
    server.extensions["vigie.compression"] = compressor
    return compressor
