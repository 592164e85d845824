"""The registry of supervisors over HTTP, and `decide()`, the one authorised path to an engineer's decision.

`GET /api/v1/supervisors/registry` lists every supervisor (approved, quarantined with what it holds, rejected,
flagged with two publishers); `POST /api/v1/supervisors/<id>/approve|reject|remove` decides (an engineer of
the supervisor's domain: `supervisors.manage`), recorded in the audit log. The page's callbacks call
`decide()` too. `init_supervisors(server, runtime)` wires it on the Flask app.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
from flask import Blueprint, Flask, Response, current_app, request

from services.redis_conn import BusUnavailable
from services.supervisors.actions import DECISIONS, BadDecision, SupervisorActions, SupervisorsUnavailable, check

log = logging.getLogger(__name__)
EXTENSION = "vigie.supervisors"
SECURITY = "vigie.security"
PERMISSION = "supervisors.manage"
STATUS = {"done": 200, "already": 200, "refused": 409, "forbidden": 403, "not_found": 404}
_encode = msgspec.json.Encoder().encode


@dataclass
class SupervisorService:
    """What the registry endpoints and the engineers' page use (one per app)."""

    actions: Any  # SupervisorActions, or RemoteSupervisorActions on a web-only worker


def supervisor_service(app: Flask | None = None) -> SupervisorService:
    """The SupervisorService of the app serving this request."""
    return (app or current_app).extensions[EXTENSION]


def init_supervisors(server: Flask, runtime: Any) -> SupervisorService:
    """Register the registry API and the service the page uses."""
    client = getattr(runtime, "engine_client", None)
    if runtime.engine is None and client is not None:  # a web-only worker: the engine's process holds the registry
        from services.feed.engine_remote import RemoteSupervisorActions

        actions: Any = RemoteSupervisorActions(client)
    else:
        actions = SupervisorActions(runtime.engine)
    service = SupervisorService(actions)
    server.extensions[EXTENSION] = service
    server.register_blueprint(create_supervisors_api())
    return service


def may_decide(domain: str | None) -> bool:
    """May the current principal decide about a supervisor of `domain`? (to show the buttons; `decide` checks again)"""
    from services.web.auth import current_principal

    security = current_app.extensions.get(SECURITY)
    return security is not None and domain is not None and security.allowed(current_principal(), PERMISSION, domain)


def decide(decision: str, supervisor: str, max_assets: Any = None, *, via: str = "api") -> dict:
    """Authorise the current principal in the supervisor's domain, apply the decision, audit it; one outcome."""
    from services.audit import Outcome
    from services.web.auth import current_principal

    max_assets = check(decision, supervisor, max_assets)
    security = current_app.extensions.get(SECURITY)
    principal = current_principal()
    if security is None or principal is None:
        return {"supervisor": supervisor, "result": "forbidden", "message": "sign in first (security is not set up on this server)"}
    actions = supervisor_service().actions
    domain = actions.domain_of(supervisor)
    if domain is None:
        return {"supervisor": supervisor, "result": "not_found", "message": "no such supervisor", "domain": None}
    allowed = security.authorize(principal, PERMISSION, domain, target=supervisor)
    if not allowed:
        return {"supervisor": supervisor, "result": "forbidden", "message": allowed.message, "domain": domain}
    outcome = actions.decide(decision, supervisor, principal.label, max_assets)
    if outcome["result"] == "done":
        detail = f"{decision} via {via}: {outcome['message']}"
        try:
            security.record(principal, f"supervisor.{decision}", Outcome.OK, domain=domain, target=supervisor, detail=detail)
        except BusUnavailable:
            log.warning("audit log unreachable; %s of %s by %s not recorded", decision, supervisor, principal.label)
    return outcome


def _json(doc: Any, status: int = 200) -> Response:
    return Response(_encode(doc), status=status, mimetype="application/json")


def _error(status: int, error: str, message: str) -> Response:
    return _json({"error": error, "message": message}, status)


def create_supervisors_api() -> Blueprint:
    """The blueprint: the registry, and the three decisions."""
    from services.web.auth import authorize, refusal_response

    bp = Blueprint("vigie_supervisors", __name__, url_prefix="/api/v1/supervisors")

    @bp.errorhandler(BadDecision)
    def bad_request(err: BadDecision) -> Response:
        return _error(400, "bad_request", str(err))

    @bp.errorhandler(SupervisorsUnavailable)
    def no_engine(err: SupervisorsUnavailable) -> Response:
        return _error(503, "unavailable", f"the registry of supervisors is not available right now: {err}")

    @bp.get("/registry")
    def registry() -> Response:
        if current_app.extensions.get(SECURITY) is None:
            return _error(401, "not_signed_in", "sign in first (security is not set up on this server)")
        allowed = authorize("api.read", target=request.path)
        if not allowed:
            return refusal_response(allowed)
        return _json({"items": supervisor_service().actions.view()})

    @bp.post("/<supervisor>/<decision>")
    def decision(supervisor: str, decision: str) -> Response:
        if decision not in DECISIONS:
            return _error(404, "not_found", f"no decision {decision[:40]!r} (one of {', '.join(DECISIONS)})")
        body: Any = {}
        if request.data:
            try:
                body = msgspec.json.decode(request.data)
            except msgspec.DecodeError:
                raise BadDecision("the body is not JSON") from None
            if not isinstance(body, dict) or set(body) - {"max_assets"}:
                raise BadDecision('the body is {} or {"max_assets": <integer>} (approve)')
        outcome = decide(decision, supervisor, body.get("max_assets"))
        return _json(outcome, STATUS[outcome["result"]])

    return bp
