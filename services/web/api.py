"""The read API: /healthz, /metrics and JSON under /api/v1/, as a Flask Blueprint factory."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, get_args

import msgspec
from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from services.contract.messages import AssetType
from services.core.assets import Condition
from services.metrics import CONTENT_TYPE, Metrics
from services.feed.reader import DOMAINS, BBox, Reader, ReaderUnavailable
from services.settings import Settings

if TYPE_CHECKING:
    from services.history.day_archive import DayArchive
    from services.feed.engine import Engine

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
ASSET_TYPES = frozenset(get_args(AssetType))
CONDITIONS = frozenset(str(c) for c in Condition)
_encode = msgspec.json.Encoder().encode


class BadParameter(ValueError):
    """A query parameter the API refuses; `reason` is counted, the message is shown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _json(doc: Any, status: int = 200) -> Response:
    return Response(_encode(doc), status=status, mimetype="application/json")


def _choice(name: str, allowed: frozenset[str] | tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise BadParameter(f"bad_{name}", f"{name} must be one of: {', '.join(sorted(allowed))}")
    return raw


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"bad_{name}", f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise BadParameter(f"bad_{name}", f"{name} must be between {lo} and {hi}")
    return value


def _bbox() -> BBox | None:
    raw = request.args.get("bbox")
    if raw is None or raw == "":
        return None
    try:
        parts = tuple(float(p) for p in raw.split(","))
    except ValueError:
        raise BadParameter("bad_bbox", "bbox must be four numbers: minLon,minLat,maxLon,maxLat") from None
    if len(parts) != 4 or any(p != p for p in parts):
        raise BadParameter("bad_bbox", "bbox must be four numbers: minLon,minLat,maxLon,maxLat")
    lo_lon, lo_lat, hi_lon, hi_lat = parts
    if not (-180 <= lo_lon <= hi_lon <= 180 and -90 <= lo_lat <= hi_lat <= 90):
        raise BadParameter("bad_bbox", "bbox must satisfy -180 <= minLon <= maxLon <= 180 and -90 <= minLat <= maxLat <= 90")
    return parts  # type: ignore[return-value]


def _day(today: date) -> date:
    raw = request.args.get("day")
    if raw is None or raw == "":
        return today
    try:
        if len(raw) != 10:
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter("bad_day", "day must be a date: YYYY-MM-DD") from None
    if day > today + timedelta(days=1):
        raise BadParameter("bad_day", "day must not be in the future")
    return day


def _api_read_guard(security: Any) -> Callable[[], Response | None]:
    """Refuse the API to principals the role table does not allow `api.read` (authentication is the app's guard)."""
    from services.web.auth import current_principal, refusal_response

    def guard() -> Response | None:
        decision = security.authorize(current_principal(), "api.read", target=request.path)
        return None if decision else refusal_response(decision)

    return guard


def create_api(
    reader: Reader,
    engine: "Engine | None",
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    before_request: Callable[[], Response | None] | None = None,
    security: Any = None,
    day_archive: "DayArchive | None" = None,
) -> Blueprint:
    """Build the API blueprint.

    `security` (services.web.auth.Security) authorises `api.read` on each request but /healthz (and /metrics
    when public); or pass any `before_request` hook (return a Response to refuse).
    """
    metrics = metrics or (engine.metrics if engine is not None else Metrics())
    if before_request is None and security is not None:
        before_request = _api_read_guard(security)
    bp = Blueprint("vigie_api", __name__)

    @bp.before_request
    def guard() -> Response | None:
        if before_request is None or request.endpoint == "vigie_api.healthz":
            return None
        if request.endpoint == "vigie_api.prometheus" and settings.metrics_public:
            return None
        return before_request()

    @bp.errorhandler(BadParameter)
    def bad_parameter(err: BadParameter) -> Response:
        metrics.api_bad_requests.labels(request.endpoint or "unknown", err.reason).inc()
        return _json({"error": err.reason, "message": str(err)}, 400)

    @bp.errorhandler(ReaderUnavailable)
    def unavailable(err: ReaderUnavailable) -> Response:
        return _json({"error": "unavailable", "message": "the live state cannot be read right now (Redis is down)"}, 503)

    @bp.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        return _json({"error": (err.name or "error").lower().replace(" ", "_"), "message": err.description}, err.code or 500)

    @bp.errorhandler(Exception)
    def internal(err: Exception) -> Response:
        log.exception("API error on %s", request.path)
        return _json({"error": "internal_error", "message": "something went wrong; it has been logged"}, 500)

    @bp.route("/api/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    def not_found(rest: str) -> Response:
        """No route of that name: a JSON 404, never the HTML page Dash would serve for any other path."""
        return _json({"error": "not_found", "message": f"no API route /api/{rest} (see /api/v1/openapi.json)"}, 404)

    @bp.get("/healthz")
    def healthz() -> Response:
        h = reader.health()
        if engine is not None:  # the engine's process: its bus reader, and what it found in Redis's configuration
            h["feed"] = {k: v for k, v in engine.feed_stats().items() if k != "connected"}
            h["redis"] = engine.redis_check or {"status": "unknown", "reason": "not checked yet (Redis not reached)", "settings": {}}
        return _json(h, 503 if h["status"] == "down" else 200)

    @bp.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), content_type=CONTENT_TYPE)

    @bp.get("/api/v1/assets")
    def assets() -> Response:
        domain = _choice("domain", DOMAINS)
        kind = _choice("kind", ASSET_TYPES)
        status = _choice("status", CONDITIONS)
        bbox = _bbox()
        offset = _int("offset", 0, 0, 10_000_000)
        limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        total, items = reader.assets_json(domain=domain, type=kind, condition=status, bbox=bbox, offset=offset, limit=limit)
        return _json({"total": total, "offset": offset, "limit": limit, "items": items})  # items: JSON already

    @bp.get("/api/v1/assets/<path:asset_id>")
    def asset(asset_id: str) -> Response:
        a = reader.asset(asset_id)
        if a is None:
            return _json({"error": "not_found", "message": f"no asset {asset_id[:128]!r}"}, 404)
        return _json(a)

    @bp.get("/api/v1/supervisors")
    def supervisors() -> Response:
        return _json({"items": reader.supervisors()})

    @bp.get("/api/v1/alarms")
    def alarms() -> Response:
        state = _choice("state", ("active", "all")) or "active"
        limit = _int("limit", MAX_LIMIT, 1, 20_000)
        items = reader.alarms_json(active_only=state == "active", limit=limit)  # JSON already: written as it is
        return _json({"state": state, "items": items})

    @bp.get("/api/v1/kpis")
    def kpis() -> Response:
        return _json(reader.kpis())

    @bp.get("/api/v1/kpis/<domain>/history")
    def kpi_history(domain: str) -> Response:
        if domain not in DOMAINS:
            raise BadParameter("bad_domain", f"domain must be one of: {', '.join(DOMAINS)}")
        return _json({"domain": domain, "series": reader.kpi_history(domain)})

    @bp.get("/api/v1/kpis/day")
    def kpi_day() -> Response:
        domain = _choice("domain", DOMAINS)
        if domain is None:
            raise BadParameter("bad_domain", f"domain is required, one of: {', '.join(DOMAINS)}")
        if day_archive is None:
            return _json({"error": "unavailable", "message": "no day archive in this process"}, 503)
        day = _day(datetime.fromtimestamp(reader.now(), day_archive.tz).date())  # the territory's today (its clock)
        from services.history.day_archive import ArchiveUnavailable

        try:
            return _json(day_archive.view(domain, day))
        except ArchiveUnavailable:
            return _json({"error": "unavailable", "message": "the day archive cannot be read right now (Redis is down)"}, 503)

    @bp.get("/api/v1/summary")
    def summary() -> Response:
        return _json(reader.summary())

    @bp.get("/api/v1/openapi.json")
    def openapi() -> Response:
        from services.web.workorders import openapi_parts

        doc = openapi_document(sorted(ASSET_TYPES), sorted(CONDITIONS), MAX_LIMIT)
        paths, schemas = openapi_parts()  # the work-orders API (services/web/workorders.py)
        doc["paths"].update(paths)
        doc["components"]["schemas"].update(schemas)
        return _json(doc)

    return bp


# --- the OpenAPI 3.1 document --------------------------------------------------------------


def _param(name: str, description: str, schema: dict, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _ok(description: str, schema: dict, *errors: int) -> dict:
    out = {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}
    for code in errors:
        out[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document(asset_types: list[str], conditions: list[str], max_limit: int) -> dict:
    """Describe the read API (OpenAPI 3.1)."""
    num, text, obj = {"type": "number"}, {"type": "string"}, {"type": "object"}
    nullable_num = {"type": ["number", "null"]}
    schemas = {
        "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": text, "message": text}},
        "Asset": {"type": "object", "required": ["id", "domain", "type", "condition"], "properties": {
            "id": text, "domain": {"enum": list(DOMAINS)}, "supervisor": text, "type": {"enum": asset_types},
            "name": text, "geometry": {"type": ["object", "null"], "description": "GeoJSON Point or LineString (WGS84)"},
            "refs": obj, "props": obj, "values": {"type": "object", "description": "Latest reading values (contract field names)"},
            "condition": {"enum": conditions}, "updated": nullable_num}},
        "AssetPage": {"type": "object", "required": ["total", "offset", "limit", "items"], "properties": {
            "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"},
            "items": {"type": "array", "items": _ref("Asset")}}},
        "Supervisor": {"type": "object", "properties": {
            "id": text, "domain": text, "status": {"enum": ["live", "late", "stale", "unknown"]}, "reason": text,
            "last_seen": num, "age_s": num, "lag_s": num, "last_ts": nullable_num, "seq": {"type": ["integer", "null"]},
            "gaps": {"type": "integer"}, "restarts": {"type": "integer"}, "messages": obj, "assets": {"type": "integer"}}},
        "Alarm": {"type": "object", "properties": {
            "id": text, "source": {"enum": ["supervisor", "vigie"]}, "domain": text, "supervisor": text, "asset": text,
            "code": text, "severity": text, "priority": {"enum": ["urgent", "high", "low", "diagnostic"]}, "message": text,
            "active": {"type": "boolean"}, "acknowledged": {"type": "boolean"}, "state": text, "raised_at": num,
            "cleared_at": nullable_num, "updated_at": num, "acked_by": {"type": ["string", "null"]}, "acked_at": nullable_num,
            "raise_count": {"type": "integer"}}},
        "Kpi": {"type": "object", "properties": {"key": text, "domain": text, "value": nullable_num, "unit": text, "abnormal": {"type": "boolean"}}},
        "Health": {"type": "object", "properties": {
            "status": {"enum": ["ok", "degraded", "down"]}, "redis_up": {"type": "boolean"}, "engine": text,
            "snapshot_age_s": nullable_num, "supervisors": {"type": "array", "items": obj},
            "feed": {"type": "object", "description": "The engine's bus reader: queue bytes, peak, bound, overflow by domain, "
                     "oversized messages, disconnects (engine process only)"},
            "redis": {"type": "object", "description": "What Vigie found in its Redis's configuration against what it needs: "
                      "status ok | warning | unknown, and per setting found, needed, status, why (engine process only)"}}},
    }
    kpis_by_domain = {"type": "object", "properties": {d: {"type": "array", "items": _ref("Kpi")} for d in DOMAINS}}
    domain = {"enum": list(DOMAINS)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vigie read API", "version": "1", "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
                 "description": "The live state of the territory as the hypervisor sees it: assets, supervisors, alarms, KPIs."},
        "paths": {
            "/healthz": {"get": {"summary": "Redis link and each supervisor's freshness (200 healthy or degraded, 503 Redis down)",
                                 "responses": {**_ok("Health", _ref("Health")), "503": {"description": "Redis is down",
                                                "content": {"application/json": {"schema": _ref("Health")}}}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Prometheus text format",
                                 "content": {"text/plain": {"schema": text}}}}}},
            "/api/v1/assets": {"get": {"summary": "Assets matching filters, ordered by id", "parameters": [
                _param("domain", "Domain", domain), _param("kind", "Asset type", {"enum": asset_types}),
                _param("status", "Condition", {"enum": conditions}),
                _param("bbox", "minLon,minLat,maxLon,maxLat (WGS84); a line is placed at its middle vertex", text),
                _param("offset", "Items to skip", {"type": "integer", "minimum": 0, "default": 0}),
                _param("limit", "Items to return", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": DEFAULT_LIMIT}),
            ], "responses": _ok("One page of assets", _ref("AssetPage"), 400, 503)}},
            "/api/v1/assets/{asset_id}": {"get": {"summary": "One asset", "parameters": [_param("asset_id", "Asset id", text, "path", True)],
                                                  "responses": _ok("The asset", _ref("Asset"), 404, 503)}},
            "/api/v1/supervisors": {"get": {"summary": "Every supervisor's feed health", "responses": _ok(
                "Supervisors", {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Supervisor")}}}, 503)}},
            "/api/v1/alarms": {"get": {"summary": "Active alarms (most urgent first) or every alarm held (newest change first)",
                                       "parameters": [_param("state", "active or all", {"enum": ["active", "all"], "default": "active"}),
                                                      _param("limit", "Alarms to return", {"type": "integer", "minimum": 1, "maximum": 20000})],
                                       "responses": _ok("Alarms", {"type": "object", "properties": {
                                           "state": text, "items": {"type": "array", "items": _ref("Alarm")}}}, 400, 503)}},
            "/api/v1/kpis": {"get": {"summary": "Current KPIs per domain", "responses": _ok("KPIs", kpis_by_domain, 503)}},
            "/api/v1/kpis/{domain}/history": {"get": {"summary": "Sampled KPI values over the history window",
                                                      "parameters": [_param("domain", "Domain", domain, "path", True)],
                                                      "responses": _ok("Series: {key: [[t, value], ...]}", obj, 400, 503)}},
            "/api/v1/kpis/day": {"get": {"summary": "A domain's day in 5-minute buckets of local time (and for lighting kWh per hour, savings)",
                                         "parameters": [_param("domain", "Domain", domain, required=True),
                                                        _param("day", "Local day, YYYY-MM-DD (default today)", {"type": "string", "format": "date"})],
                                         "responses": _ok("{domain, day, bucket_s, source, series: {key: [[slot, value], ...]}, "
                                                          "energy_by_hour?, savings?, skipped}", obj, 400, 503)}},
            "/api/v1/summary": {"get": {"summary": "Alarms by priority, unacknowledged, supervisors by status",
                                        "responses": _ok("Summary", obj, 503)}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": _ok("OpenAPI 3.1", obj)}},
        },
        "components": {
            "schemas": schemas,
            "responses": {f"E{code}": {"description": why, "content": {"application/json": {"schema": _ref("Error")}}}
                          for code, why in ((400, "Bad parameter"), (404, "Not found"), (503, "Redis is down"))},
        },
    }
