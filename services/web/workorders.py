"""The work-orders API (the GMAO link) and the rounds planner, as a Flask Blueprint.

    GET   /api/v1/workorders                 filters: domain, status (comma list), priority, fault, cabinet, street, q;
                                             offset, limit; group_by=cabinet|street for counts; format=csv
    POST  /api/v1/workorders                 open one by hand or from the GMAO: {asset, fault, priority?, note?, external_ref?}
    GET   /api/v1/workorders/<id>            one order with its history
    PATCH /api/v1/workorders/<id>            {status?, priority?, assignee?, note?, external_ref?}: an external GMAO closes
                                             an order with `{"status": "done"}` and a bearer token (telemetry then verifies)
    POST  /api/v1/workorders/rounds          compute rounds: {domain, crews, shift_h, depot?, speed_kmh?, service_min?, ids?}
    GET   /api/v1/workorders/rounds/<plan>   a plan computed (format=json | csv | gpx, crew=N for one crew)

Writing needs `workorder.manage` in the order's domain (operators, engineers; an API token of that role for a GMAO).
Refusals: 400 malformed, 401/403 the security layer, 404 unknown id, 422 a change the lifecycle refuses, 503 no engine.
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from flask import Blueprint, Response, current_app, request
from msgspec import Meta, Struct

from services.maintenance.orders import FAULTS, PRIORITIES, Status
from services.maintenance.rounds import (
    SERVICE_MIN,
    RoundsInvalid,
    RoundsRequest,
    round_csv,
    round_gpx,
)
from services.maintenance.service import (
    Actor,
    WorkOrderFilter,
    WorkOrderInvalid,
    WorkOrderNotFound,
    WorkOrderService,
    WorkOrdersUnavailable,
    plan_for,
)
from services.redis_conn import BusUnavailable
from services.streams import csv_cell
from services.web.commands import BadRequest, query_int
from services.web.journal import error, json_response

log = logging.getLogger(__name__)
DOMAINS = ("lighting", "water", "traffic")
STATUSES = tuple(str(s) for s in Status)
SafeText = Annotated[str, Meta(max_length=500, pattern=r"^[^<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z")]
Short = Annotated[str, Meta(max_length=120, pattern=r"^[^<>\x00-\x1f\x7f]*\Z")]
CSV_COLUMNS = ("id", "status", "priority", "domain", "fault", "asset", "asset_name", "cabinet", "cabinet_name", "street", "street_name",
               "district",
               "lon", "lat", "opened_at", "updated_at", "done_at", "verified_at", "fault_active", "assignee", "external_ref", "source")


class CreateBody(Struct, forbid_unknown_fields=True):
    asset: Annotated[str, Meta(min_length=1, max_length=128)]
    fault: str
    priority: str | None = None
    note: SafeText = ""
    external_ref: Short = ""


class PatchBody(Struct, forbid_unknown_fields=True):
    status: str | None = None
    priority: str | None = None
    assignee: Short | None = None
    note: SafeText | None = None
    external_ref: Short | None = None


class RoundsBody(Struct, forbid_unknown_fields=True):
    domain: str = "lighting"
    crews: Annotated[int, Meta(ge=1, le=100)] = 2
    shift_h: Annotated[float, Meta(ge=0.5, le=24)] = 8.0
    depot: tuple[float, float] | None = None
    speed_kmh: Annotated[float, Meta(ge=5, le=90)] = 25.0
    service_min: dict[str, Annotated[float, Meta(ge=0, le=480)]] = {}
    ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=5000)] | None = None


def _body(kind: type) -> Any:
    try:
        return msgspec.json.decode(request.get_data() or b"{}", type=kind)
    except msgspec.ValidationError as err:
        raise BadRequest(f"bad body: {err}") from None
    except msgspec.DecodeError as err:
        raise BadRequest(f"the body is not JSON: {err}") from None


def parse_filter(args: Any) -> WorkOrderFilter:
    """The listing's filter from a query string; BadRequest says what is wrong."""
    if args.get("domain") and args["domain"] not in DOMAINS:
        raise BadRequest(f"domain must be one of {', '.join(DOMAINS)}")
    status = None
    if args.get("status"):
        status = frozenset(s.strip() for s in args["status"].split(",") if s.strip())
        if not status <= set(STATUSES) | {"pending"}:
            raise BadRequest(f"status must be among {', '.join(STATUSES)}, pending")
        if "pending" in status:
            status = (status - {"pending"}) | {"open", "planned", "in_progress", "reopened"}
    if args.get("priority") and args["priority"] not in PRIORITIES:
        raise BadRequest(f"priority must be one of {', '.join(PRIORITIES)}")
    if args.get("fault") and args["fault"] not in FAULTS:
        raise BadRequest(f"fault must be one of {', '.join(FAULTS)}")
    return WorkOrderFilter(domain=args.get("domain") or None, status=status, priority=args.get("priority") or None,
                           fault=args.get("fault") or None, cabinet=(args.get("cabinet") or "")[:128] or None,
                           street=(args.get("street") or "")[:128] or None, q=(args.get("q") or "")[:80] or None)


def _iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def orders_csv(items: list[dict[str, Any]]) -> str:
    """Orders as CSV (header row, ISO times in UTC, formulas neutralised)."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for o in items:
        row = [_iso(o[k]) if k.endswith("_at") else o[k] for k in CSV_COLUMNS]
        w.writerow([csv_cell("" if v is None else v) for v in row])
    return out.getvalue()


def create_workorders_api(service: WorkOrderService, settings: Any, security: Any = None, reader: Any = None,
                          metrics: Any = None) -> Blueprint:
    """The work-orders blueprint; `security` (services.web.auth.Security) authorises every call, None only in tests.

    Every refusal of a body or a change is logged with its reason and counted (`vigie_api_bad_requests`)."""
    from services.web.auth import client_ip, current_principal, refusal_response

    bp = Blueprint("vigie_workorders_api", __name__)

    def orders() -> WorkOrderService:
        return current_app.extensions.get("vigie.workorders", service)

    def actor() -> Actor:
        p = current_principal() if security is not None else None
        if p is None:
            return Actor("api", kind="anonymous", ip=client_ip())
        return Actor(p.label, str(p.role), str(p.kind), client_ip())

    def authorised(action: str, domain: str | None = None, target: str = "") -> Response | None:
        if security is None:
            return None
        decision = security.authorize(current_principal(), action, domain, target=target)
        return None if decision else refusal_response(decision)

    def refused(status: int, reason: str, err: Exception) -> Response:
        log.info("work orders: %s %s refused (%s): %s", request.method, request.path[:120], reason, str(err)[:300])
        if metrics is not None:
            metrics.api_bad_requests.labels(request.endpoint or "unknown", reason).inc()
        return error(status, reason, str(err))

    @bp.errorhandler(BadRequest)
    def bad_request(err: BadRequest) -> Response:
        return refused(400, "bad_request", err)

    @bp.errorhandler(WorkOrderInvalid)
    def invalid(err: WorkOrderInvalid) -> Response:
        return refused(422, "invalid_change", err)

    @bp.errorhandler(RoundsInvalid)
    def rounds_invalid(err: RoundsInvalid) -> Response:
        return refused(422, "invalid_rounds", err)

    @bp.errorhandler(WorkOrderNotFound)
    def not_found(err: WorkOrderNotFound) -> Response:
        return error(404, "not_found", f"no work order {str(err.args[0] if err.args else '')[:64]!r}")

    @bp.errorhandler(WorkOrdersUnavailable)
    def unavailable(err: WorkOrdersUnavailable) -> Response:
        return error(503, "unavailable", str(err))

    @bp.errorhandler(BusUnavailable)
    def bus_down(err: BusUnavailable) -> Response:
        return error(503, "unavailable", "work orders cannot be read right now (Redis is down)")

    @bp.get("/api/v1/workorders")
    def listing() -> Response:
        refused = authorised("api.read", target=request.path)
        if refused is not None:
            return refused
        f = parse_filter(request.args)
        by = request.args.get("group_by")
        if by:
            if by not in ("cabinet", "street"):
                raise BadRequest("group_by must be cabinet or street")
            return json_response({"group_by": by, "groups": orders().groups(f, by)})
        csv = request.args.get("format") == "csv"
        limit = query_int("limit", 100, 1, 100_000 if csv else 1000)
        offset = query_int("offset", 0, 0, 10_000_000)
        total, items = orders().list(f, offset=offset, limit=limit)
        if csv:
            return Response(orders_csv(items), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=vigie-workorders.csv"})
        return json_response({"total": total, "offset": offset, "limit": limit, "items": items})

    @bp.post("/api/v1/workorders")
    def create() -> Response:
        body = _body(CreateBody)
        asset = reader.asset(body.asset) if reader is not None else None
        if asset is None:
            raise WorkOrderInvalid(f"no asset {body.asset!r}")
        refused = authorised("workorder.manage", asset["domain"], body.asset)
        if refused is not None:
            return refused
        who = actor()
        doc = orders().create(msgspec.structs.asdict(body), who, source="gmao" if who.kind == "token" else "manual")
        return json_response(doc, 201, {"Location": f"/api/v1/workorders/{doc['id']}"})

    @bp.get("/api/v1/workorders/<order_id>")
    def one(order_id: str) -> Response:
        refused = authorised("api.read", target=request.path)
        if refused is not None:
            return refused
        doc = orders().get(order_id[:64])
        return json_response(doc) if doc is not None else error(404, "not_found", f"no work order {order_id[:64]!r}")

    @bp.patch("/api/v1/workorders/<order_id>")
    def patch(order_id: str) -> Response:
        domain = orders().domain_of(order_id[:64])
        if domain is None:
            return error(404, "not_found", f"no work order {order_id[:64]!r}")
        refused = authorised("workorder.manage", domain, order_id[:64])
        if refused is not None:
            return refused
        body = _body(PatchBody)
        changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
        if not changes:
            raise BadRequest("nothing to change: give status, priority, assignee, note or external_ref")
        return json_response(orders().update(order_id[:64], changes, actor()))

    @bp.post("/api/v1/workorders/rounds")
    def rounds() -> Response:
        body = _body(RoundsBody)
        if body.domain not in DOMAINS:
            raise BadRequest(f"domain must be one of {', '.join(DOMAINS)}")
        refused = authorised("workorder.manage", body.domain, "rounds")
        if refused is not None:
            return refused
        return json_response(compute_rounds(orders(), settings, body.domain, body.crews, body.shift_h, body.depot, body.speed_kmh,
                                    body.service_min, body.ids), 201)

    @bp.get("/api/v1/workorders/rounds/<plan_id>")
    def plan(plan_id: str) -> Response:
        refused = authorised("api.read", target=request.path)
        if refused is not None:
            return refused
        doc = orders().store.plan(plan_id[:32])
        if doc is None:
            return error(404, "not_found", f"no plan {plan_id[:32]!r} (plans are kept a day)")
        fmt = request.args.get("format") or "json"
        crew = query_int("crew", 0, 0, 100) or None
        if fmt == "gpx":
            if crew is None:
                raise BadRequest("crew is required for GPX (one file per crew)")
            return Response(round_gpx(doc, crew), mimetype="application/gpx+xml",
                            headers={"Content-Disposition": f"attachment; filename=vigie-round-{doc['id']}-crew{crew}.gpx"})
        if fmt == "csv":
            name = f"vigie-round-{doc['id']}" + (f"-crew{crew}" if crew else "")
            return Response(round_csv(doc, crew), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}.csv"})
        if fmt != "json":
            raise BadRequest("format must be json, csv or gpx")
        return json_response(doc)

    return bp


def default_depot(settings: Any) -> tuple[float, float]:
    """The depot when none is given: the territory's centre (lon, lat)."""
    from services.territory.geo import load_territory

    t = load_territory(settings.territory)
    return (float(t.longitude), float(t.latitude))


def compute_rounds(service: WorkOrderService, settings: Any, domain: str, crews: int, shift_h: float,
                   depot: tuple[float, float] | None = None, speed_kmh: float = 25.0, service_min: dict[str, float] | None = None,
                   ids: list[str] | None = None) -> dict[str, Any]:
    """Rounds for a domain's pending work orders (the page and the API share this)."""
    minutes = {**SERVICE_MIN, **{k: float(v) for k, v in (service_min or {}).items() if k in FAULTS}}
    req = RoundsRequest(depot=depot or default_depot(settings), crews=crews, shift_s=shift_h * 3600, speed_kmh=speed_kmh,
                        service_min=minutes)
    return plan_for(service, settings.territory, domain, req, ids)


def init_workorders(server: Any, settings: Any, runtime: Any, security: Any = None, socketio: Any = None) -> WorkOrderService:
    """Start the work-order service of a Vigie and hang it on the Flask app: API, the maintenance page's access."""
    from services.maintenance.wiring import start_workorders

    service = start_workorders(settings, runtime, security.audit if security is not None else None)
    server.register_blueprint(create_workorders_api(service, settings, security, runtime.reader, runtime.metrics))
    server.extensions["vigie.workorders"] = service
    if socketio is not None:
        service.emitters.append(lambda event, payload: socketio.emit(event, payload))
    threading.Thread(target=_warm_roads, args=(settings.territory,), name="vigie-roads", daemon=True).start()
    return service


def _warm_roads(territory: str) -> None:
    """Build the road graph in the background (a second or two), so that the first rounds asked for do not wait for it."""
    from services.maintenance.roads import territory_graph

    try:
        territory_graph(territory)
    except Exception as err:  # noqa: BLE001 - rounds will say why when asked
        log.warning("road graph of %r not built: %s; rounds will be refused", territory, err)


# --- the OpenAPI description (merged into /api/v1/openapi.json) ------------------------------------

def openapi_parts() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, schemas) of the work-orders API for the OpenAPI document."""
    text, num, obj = {"type": "string"}, {"type": "number"}, {"type": "object"}
    nnum = {"type": ["number", "null"]}
    ref = {"$ref": "#/components/schemas/WorkOrder"}
    schemas = {
        "WorkOrder": {"type": "object", "required": ["id", "status", "asset", "fault", "priority"], "properties": {
            "id": text, "rev": {"type": "integer"}, "domain": {"enum": list(DOMAINS)}, "asset": text, "asset_name": text,
            "fault": {"enum": list(FAULTS)}, "code": text, "alarm": text, "priority": {"enum": list(PRIORITIES)},
            "status": {"enum": list(STATUSES)}, "source": {"enum": ["telemetry", "manual", "gmao"]}, "cabinet": text, "cabinet_name": text,
            "street": text,
            "street_name": text, "district": text, "lon": nnum, "lat": nnum, "opened_at": num, "updated_at": num, "done_at": nnum,
            "verified_at": nnum, "fault_active": {"type": "boolean", "description": "telemetry reports the fault now"},
            "assignee": text, "external_ref": {"type": "string", "description": "the GMAO's own id"}, "note": text, "previous": text,
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "at": num, "who": text, "action": text, "before": text, "after": text, "note": text}}}}},
        "WorkOrderPatch": {"type": "object", "properties": {
            "status": {"enum": [s for s in STATUSES if s != "verified"]}, "priority": {"enum": list(PRIORITIES)}, "assignee": text,
            "note": text, "external_ref": text}},
        "WorkOrderCreate": {"type": "object", "required": ["asset", "fault"], "properties": {
            "asset": text, "fault": {"enum": list(FAULTS)}, "priority": {"enum": list(PRIORITIES)}, "note": text, "external_ref": text}},
        "RoundsRequest": {"type": "object", "properties": {
            "domain": {"enum": list(DOMAINS)}, "crews": {"type": "integer", "minimum": 1, "maximum": 100},
            "shift_h": {"type": "number", "minimum": 0.5, "maximum": 24}, "depot": {"type": "array", "items": num, "minItems": 2, "maxItems": 2,
                                                                                    "description": "[lon, lat]; the territory's centre by default"},
            "speed_kmh": num, "service_min": {"type": "object", "additionalProperties": num, "description": "minutes per fault type"},
            "ids": {"type": "array", "items": text, "description": "only these work orders"}}},
    }

    def body(name: str) -> dict:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    def ok(code: str, what: str, schema: dict, *errors: int) -> dict:
        out = {code: {"description": what, "content": {"application/json": {"schema": schema}}}}
        why = {400: "Bad parameter", 404: "Not found", 422: "Refused (the lifecycle, an unknown asset)", 503: "No engine or Redis"}
        out.update({str(e): {"description": why[e], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    for e in errors})
        return out

    q = [{"name": n, "in": "query", "required": False, "description": d, "schema": s} for n, d, s in (
        ("domain", "Domain", {"enum": list(DOMAINS)}), ("status", "Statuses, comma separated, or pending", text),
        ("priority", "Priority", {"enum": list(PRIORITIES)}), ("fault", "Fault type", {"enum": list(FAULTS)}),
        ("cabinet", "Cabinet id", text), ("street", "Street id", text), ("q", "Words of the asset, its name or street", text),
        ("group_by", "Counts by cabinet or street instead of the orders", {"enum": ["cabinet", "street"]}),
        ("format", "csv for a spreadsheet", {"enum": ["json", "csv"]}), ("offset", "Items to skip", {"type": "integer"}),
        ("limit", "Items to return", {"type": "integer", "maximum": 1000}))]
    path_id = [{"name": "order_id", "in": "path", "required": True, "description": "Work order id", "schema": text}]
    paths = {
        "/api/v1/workorders": {
            "get": {"summary": "Work orders (pending first, high priority first, oldest first), or counts by cabinet or street",
                    "parameters": q, "responses": ok("200", "A page of work orders", {"type": "object", "properties": {
                        "total": {"type": "integer"}, "items": {"type": "array", "items": ref}}}, 400, 503)},
            "post": {"summary": "Open a work order for an asset (operators and engineers of its domain, or a GMAO's API token)",
                     "requestBody": body("WorkOrderCreate"), "responses": ok("201", "The work order", ref, 400, 422, 503)}},
        "/api/v1/workorders/{order_id}": {
            "get": {"summary": "One work order with its history", "parameters": path_id, "responses": ok("200", "The work order", ref, 404)},
            "patch": {"summary": "Change a work order: status (an external GMAO closes it with done; telemetry verifies), priority, "
                                 "assignee, note, external_ref", "parameters": path_id, "requestBody": body("WorkOrderPatch"),
                      "responses": ok("200", "The work order", ref, 400, 404, 422, 503)}},
        "/api/v1/workorders/rounds": {
            "post": {"summary": "Compute maintenance rounds for a domain's pending work orders over the road graph (OR-Tools)",
                     "requestBody": body("RoundsRequest"), "responses": ok("201", "The plan: rounds per crew, km, naive orders' km", obj,
                                                                          400, 422)}},
        "/api/v1/workorders/rounds/{plan_id}": {
            "get": {"summary": "A plan computed (kept a day): JSON, or one crew's round as GPX or CSV",
                    "parameters": [{"name": "plan_id", "in": "path", "required": True, "schema": text},
                                   {"name": "format", "in": "query", "schema": {"enum": ["json", "csv", "gpx"]}},
                                   {"name": "crew", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                    "responses": ok("200", "The plan", obj, 400, 404)}},
    }
    return paths, schemas
