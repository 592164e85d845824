"""The commands API: send, preview, read, list (JSON or CSV) and cancel operator commands, as a Flask Blueprint.

    POST /api/v1/commands               send (202; 200 when the idempotency key names an existing command)
    POST /api/v1/commands/preview       what it would do, without sending
    GET  /api/v1/commands/<id>          one command, with its lifecycle and outcome lists
    POST /api/v1/commands/<id>/cancel   hand an override's targets back to automatic control
    GET  /api/v1/commands               filters: domain, status, user, action, supervisor, target, asset, since, until;
                                        offset, limit; format=csv for a spreadsheet

Refusals: 400 malformed body or query, 401/403/429 the security layer, 404 unknown id, 409 an
idempotency key reused for another command, 422 a command that cannot be sent (the reason says
why), 428 a large effect without a reason or second confirmation, 503 no engine here.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec
from flask import Blueprint, Response, current_app, request
from msgspec import Meta, Struct

from services.commands.store import CommandFilter, to_csv
from services.commands.service import (
    Actor, CommandConflict, CommandInvalid, CommandRequest, CommandService, CommandsUnavailable, ConfirmationNeeded, Selection,
)
from services.core.commands import Status
from services.redis_conn import BusUnavailable

log = logging.getLogger(__name__)
DOMAINS = ("lighting", "water", "traffic")
STATUSES = frozenset(str(s) for s in Status)
_encode = msgspec.json.Encoder().encode
SafeText = Annotated[str, Meta(max_length=500, pattern=r"^[^<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z")]
Key = Annotated[str, Meta(pattern=r"^[A-Za-z0-9:._~@/+-]{1,100}\Z")]
Ident = Annotated[str, Meta(min_length=1, max_length=128)]
ParamValue = str | float | int | bool | None


class Area(Struct, forbid_unknown_fields=True):
    """A GeoJSON polygon drawn on the map (its outer ring is used)."""

    type: Literal["Polygon"]
    coordinates: Annotated[list[list[tuple[float, float]]], Meta(min_length=1)]


class CommandBody(Struct, forbid_unknown_fields=True):
    """What an API client or the command panel sends."""

    domain: Annotated[str, Meta(max_length=32)]
    action: Annotated[str, Meta(max_length=64)]
    params: Annotated[dict[Annotated[str, Meta(max_length=64)], ParamValue], Meta(max_length=32)] = {}
    targets: Annotated[list[Ident], Meta(max_length=200_000)] = []
    area: Area | None = None
    reason: SafeText = ""
    confirm: bool = False
    idempotency_key: Key | None = None


class BadRequest(ValueError):
    """A body or query the API cannot read; the message says what is wrong."""


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(doc), status=status, mimetype="application/json", headers=headers)


def _error(status: int, error: str, message: str, **extra: Any) -> Response:
    return _json({"error": error, "message": message, **extra}, status)


def parse_body(raw: bytes, header_key: str | None) -> CommandRequest:
    """Turn a request body into a CommandRequest; BadRequest says what is malformed."""
    try:
        body = msgspec.json.decode(raw, type=CommandBody)
    except msgspec.ValidationError as err:
        raise BadRequest(f"bad command body: {err}") from None
    except msgspec.DecodeError as err:
        raise BadRequest(f"the body is not JSON: {err}") from None
    ring = tuple((float(x), float(y)) for x, y in body.area.coordinates[0]) if body.area else ()
    key = body.idempotency_key or header_key
    return CommandRequest(body.domain, body.action, body.params, Selection(tuple(body.targets), ring), reason=body.reason,
                          confirm=body.confirm, key=key)


def _header_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    try:
        return msgspec.json.decode(_encode(raw), type=Key)
    except msgspec.ValidationError:
        raise BadRequest("Idempotency-Key must be 1 to 100 letters, digits or : . _ ~ @ / + -") from None


def _time(name: str) -> float | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be epoch seconds or an ISO 8601 time") from None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within [lo, hi]; BadRequest says what is wrong."""
    raw = request.args.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise BadRequest(f"{name} must be an integer from {lo} to {hi}")
    return int(raw)


def _filter() -> CommandFilter:
    a = request.args
    if a.get("domain") and a["domain"] not in DOMAINS:
        raise BadRequest(f"domain must be one of {', '.join(DOMAINS)}")
    if a.get("status") and a["status"] not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(sorted(STATUSES))}")
    return CommandFilter(domain=a.get("domain") or None, status=a.get("status") or None, user=a.get("user") or None,
                         action=a.get("action") or None, supervisor=a.get("supervisor") or None, target=a.get("target") or None,
                         since=_time("since"), until=_time("until"))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def create_commands_api(service: CommandService, security: Any = None) -> Blueprint:
    """The commands blueprint; `security` (services.web.auth.Security) authorises every call, None only in tests."""
    from services.web.auth import client_ip, current_principal, refusal_response

    bp = Blueprint("vigie_commands_api", __name__)

    def commands() -> CommandService:
        """This request's command service: the app's (a browser in a training exercise gets its session's), else `service`."""
        return current_app.extensions.get("vigie.commands", service)

    def actor() -> Actor:
        p = current_principal() if security is not None else None
        if p is None:
            return Actor("api", kind="anonymous", ip=client_ip())
        return Actor(p.label, str(p.role), str(p.kind), client_ip())

    def authorised(action: str, domain: str | None = None, target: str = "", *, dry: bool = False) -> Response | None:
        if security is None:
            return None
        if dry:  # a preview changes nothing: the role table only, no rate limit
            if security.allowed(current_principal(), action, domain):
                return None
        decision = security.authorize(current_principal(), action, domain, target=target)
        return None if decision else refusal_response(decision)

    @bp.errorhandler(BadRequest)
    def bad_request(err: BadRequest) -> Response:
        return _error(400, "bad_request", str(err))

    @bp.errorhandler(CommandInvalid)
    def invalid(err: CommandInvalid) -> Response:
        return _error(422, "invalid_command", str(err), field=err.field)

    @bp.errorhandler(ConfirmationNeeded)
    def confirm(err: ConfirmationNeeded) -> Response:
        return _error(428, "confirmation_required", str(err), plan=err.plan)

    @bp.errorhandler(CommandConflict)
    def conflict(err: CommandConflict) -> Response:
        return _error(409, "idempotency_conflict", str(err))

    @bp.errorhandler(CommandsUnavailable)
    def unavailable(err: CommandsUnavailable) -> Response:
        return _error(503, "unavailable", str(err))

    @bp.errorhandler(BusUnavailable)
    def bus_down(err: BusUnavailable) -> Response:
        return _error(503, "unavailable", "the command log cannot be read right now (Redis is down)")

    @bp.post("/api/v1/commands")
    def send() -> Response:
        req = parse_body(request.get_data(), _header_key())
        refused = authorised("command.send", req.domain if req.domain in DOMAINS else None, ",".join(req.selection.ids)[:200])
        if refused is not None:
            return refused
        doc, existed = commands().submit(req, actor())
        return _json(doc, 200 if existed else 202, {"Location": f"/api/v1/commands/{doc['id']}"})

    @bp.post("/api/v1/commands/preview")
    def preview() -> Response:
        req = parse_body(request.get_data(), _header_key())
        refused = authorised("command.send", req.domain if req.domain in DOMAINS else None, dry=True)
        return refused or _json(commands().preview(req))

    @bp.get("/api/v1/commands/<command_id>")
    def one(command_id: str) -> Response:
        refused = authorised("api.read", target=request.path)
        if refused is not None:
            return refused
        doc = commands().get(command_id[:64])
        return _json(doc) if doc is not None else _error(404, "not_found", f"no command {command_id[:64]!r}")

    @bp.post("/api/v1/commands/<command_id>/cancel")
    def cancel(command_id: str) -> Response:
        domain = commands().domain_of(command_id[:64])
        if domain is None:
            return _error(404, "not_found", f"no command {command_id[:64]!r}")
        refused = authorised("command.send", domain, command_id)
        if refused is not None:
            return refused
        doc, existed = commands().cancel(command_id, actor(), key=_header_key())
        return _json(doc, 200 if existed else 202, {"Location": f"/api/v1/commands/{doc['id']}"})

    @bp.get("/api/v1/commands")
    def listing() -> Response:
        refused = authorised("api.read", target=request.path)
        if refused is not None:
            return refused
        limit = query_int("limit", 100, 1, 1000 if request.args.get("format") != "csv" else 100_000)
        offset = query_int("offset", 0, 0, 10_000_000)
        asset = request.args.get("asset")
        if asset:
            items = commands().for_asset(asset[:128], limit)
            total = len(items)
        else:
            total, items = commands().list(_filter(), offset=offset, limit=limit)
        if request.args.get("format") == "csv":
            return Response(to_csv(items, _iso), mimetype="text/csv",
                            headers={"Content-Disposition": "attachment; filename=vigie-commands.csv"})
        return _json({"total": total, "offset": offset, "limit": limit, "items": items})

    return bp


def init_commands(server: Any, settings: Any, runtime: Any, security: Any = None, socketio: Any = None,
                  publisher: Any = None) -> CommandService:
    """Start the command service of a Vigie and hang it on the Flask app: API, pages' access, pushes over Socket.IO.

    `publisher` is where commands go (default: the bus); a training sandbox passes its own.
    """
    from services.commands.wiring import start_commands

    service = start_commands(settings, runtime, security.audit if security is not None else None, publisher)
    server.register_blueprint(create_commands_api(service, security))
    server.extensions["vigie.commands"] = service
    if socketio is not None:
        service.emitters.append(lambda event, payload: socketio.emit(event, payload))
    return service
