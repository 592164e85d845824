"""HTTP endpoints the page fetches itself: the layers' GeoJSON (once) and the live snapshot (on (re)connect)."""
from __future__ import annotations

import time
from typing import Callable

import msgspec
from flask import Blueprint, Response, abort, request
from werkzeug.exceptions import HTTPException

DOMAINS = ("lighting", "water", "traffic")


def _json(payload: object, max_age: int = 0) -> Response:
    body = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
    resp = Response(body, mimetype="application/json")
    resp.headers["Cache-Control"] = f"private, max-age={max_age}" if max_age else "no-store"
    return resp


def create_routes(get_ui: Callable) -> Blueprint:
    """The UI's data endpoints under /vigie/ (`get_ui()` returns the app's VigieUI)."""
    bp = Blueprint("vigie_ui", __name__, url_prefix="/vigie")
    boot = f"{time.time_ns():x}"  # a layer's revision counts from this process's start: its validators name both

    @bp.errorhandler(HTTPException)
    def refused(err: HTTPException) -> Response:
        """Scripts fetch these paths: errors in JSON too, never an HTML page."""
        resp = _json({"error": (err.name or "error").lower().replace(" ", "_"), "message": err.description})
        resp.status_code = err.code or 500
        return resp

    @bp.get("/geo/<domain>")
    def geo(domain: str) -> Response:
        """One domain's map features: id, type, condition at load time, geometry (`format=columns`: points as columns)."""
        if domain not in DOMAINS:
            abort(404)
        columns = request.args.get("format") == "columns"
        rev, payload = get_ui().geo(domain, columns=columns)
        if rev is None:  # no push hub here: no revision to name, a short reuse
            return _json(payload, max_age=30)
        # downloaded once: the browser keeps it and asks again with its validator, answered 304 while the
        # domain's set of assets (its revision) did not change
        etag = f'"{boot}-{domain}-{rev}-{int(columns)}"'
        if request.if_none_match.contains_weak(etag.strip('"')):
            resp = Response(status=304)
        else:
            resp = _json(payload)
        resp.headers["ETag"] = etag
        resp.headers["Cache-Control"] = "private, no-cache"
        resp.headers["X-Vigie-Geo-Rev"] = str(rev)
        return resp

    @bp.get("/base")
    def base() -> Response:
        """The offline base map: communes, districts, roads unless `roads=0` (static for the process's life)."""
        return _json(get_ui().base_map(roads=request.args.get("roads", "1") != "0"), max_age=3600)

    @bp.get("/live")
    def live() -> Response:
        """The current state with the push sequence numbers it is consistent with."""
        return _json(get_ui().snapshot())

    @bp.get("/replay")
    def replay() -> Response:
        """Deltas a page missed on one channel (410 when no longer kept: take a snapshot)."""
        try:
            after = int(request.args.get("after", ""))
        except ValueError:
            abort(400)
        missed = get_ui().replay(request.args.get("ch", ""), after)
        if missed is None:
            abort(410)
        return _json(missed)

    return bp
