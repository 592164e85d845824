"""The alarm actions and the journal over HTTP, and `perform()`, the one authorised path to an alarm action.

`init_alarms(server, runtime)` wires it all on the Flask app: the store (restored before the engine
starts, see services/runtime.py), the actions, this blueprint, `server.extensions["vigie.alarms"]`.
Every action is authorised per alarm domain with the security layer and recorded in the audit log.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec
from flask import Blueprint, Flask, Response, current_app, request

from services.alarms.actions import ACTIONS, ActionsUnavailable, AlarmActions, BadRequest, parse_ids, parse_params
from services.alarms.store import AlarmStore, journal_csv
from services.core.alarm_rationale import Rationale, RationaleError
from services.core.alarm_record import AlarmPolicy, Outcome
from services.redis_conn import BusUnavailable
from services.settings import DOMAINS

log = logging.getLogger(__name__)
EXTENSION = "vigie.alarms"
SECURITY = "vigie.security"
STATUS = {"done": 200, "already": 200, "refused": 409, "forbidden": 403, "not_found": 404}
_encode = msgspec.json.Encoder().encode


@dataclass
class AlarmService:
    """What the alarm endpoints and the console's callbacks use (one per app)."""

    actions: AlarmActions
    store: AlarmStore | None


def alarm_service(app: Flask | None = None) -> AlarmService:
    """The AlarmService of the app serving this request."""
    return (app or current_app).extensions[EXTENSION]


def init_alarms(server: Flask, runtime: Any) -> AlarmService:
    """Register the alarm API and the service the console uses (the store comes from the runtime when it has one)."""
    store = getattr(runtime, "alarm_store", None)
    client = getattr(runtime, "engine_client", None)
    if runtime.engine is None and client is not None:  # a web-only worker: the engine's process applies them
        from services.feed.engine_remote import RemoteAlarmActions

        actions: AlarmActions = RemoteAlarmActions(client, store)
    else:
        actions = AlarmActions(runtime.engine, store)
    service = AlarmService(actions, store)
    server.extensions[EXTENSION] = service
    server.register_blueprint(create_alarm_api())
    return service


def perform(action: str, ids: list[str], params: Any, *, via: str = "api") -> list[Outcome]:
    """Authorise `action` for the current principal in each alarm's domain, apply it, audit it; one Outcome per id."""
    from services.web.auth import current_principal

    spec = ACTIONS[action]
    security = current_app.extensions.get(SECURITY)
    principal = current_principal()
    if security is None or principal is None:
        return [Outcome(aid, "forbidden", "sign in first (security is not set up on this server)") for aid in ids]
    service = alarm_service()
    domains = service.actions.domains(ids)
    by_domain: dict[str | None, list[str]] = {}
    for aid in ids:
        by_domain.setdefault(domains.get(aid), []).append(aid)
    refused: dict[str, Outcome] = {}
    allowed: list[str] = []
    for domain, its in by_domain.items():
        if domain is None:  # not held: the book answers not_found, or `already` with who did it; nothing changes
            allowed.extend(its)
            continue
        decision = security.authorize(principal, spec.permission, domain, target=its[0] if len(its) == 1 else f"{len(its)} alarms")
        if decision:
            allowed.extend(its)
        else:
            refused.update((aid, Outcome(aid, "forbidden", decision.message)) for aid in its)
    done = {o.alarm: o for o in service.actions.apply(action, allowed, principal.label, params, domains)} if allowed else {}
    _audit(security, principal, spec, action, [done[a] for a in allowed], domains, params, via)
    return [done.get(aid) or refused[aid] for aid in ids]


def _audit(security: Any, principal: Any, spec: Any, action: str, outcomes: list[Outcome], domains: dict, params: Any, via: str) -> None:
    """One audit entry per domain for what was done (the alarm journal has each alarm)."""
    from services.audit import Outcome as AuditOutcome

    by_domain: dict[str, list[str]] = {}
    for o in outcomes:
        if o.result == "done":
            by_domain.setdefault(domains.get(o.alarm) or "", []).append(o.alarm)
    why = getattr(params, "reason", "") or getattr(params, "comment", "") or getattr(params, "text", "") or ""
    for domain, its in by_domain.items():
        target = its[0] if len(its) == 1 else f"{len(its)} alarms"
        detail = f"{action} via {via}" + (f": {why}" if why else "")
        try:
            security.record(principal, spec.permission, AuditOutcome.OK, domain=domain or None, target=target, detail=detail)
        except BusUnavailable:
            log.warning("audit log unreachable; %s of %s by %s not recorded", action, target, principal.label)


def _json(doc: Any, status: int = 200) -> Response:
    return Response(_encode(doc), status=status, mimetype="application/json")


def _error(status: int, error: str, message: str) -> Response:
    return _json({"error": error, "message": message}, status)


def _body() -> dict:
    if not request.data:
        return {}
    try:
        body = msgspec.json.decode(request.data)
    except msgspec.DecodeError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _float_arg(name: str) -> float | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be epoch seconds or an ISO 8601 time") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _read_allowed() -> Response | None:
    from services.web.auth import authorize, refusal_response

    if current_app.extensions.get(SECURITY) is None:
        return _error(401, "not_signed_in", "sign in first (security is not set up on this server)")
    decision = authorize("api.read", target=request.path)
    return None if decision else refusal_response(decision)


class RationaleForbidden(PermissionError):
    """The principal may not change this alarm type (the decision says why, in words)."""

    def __init__(self, decision: Any) -> None:
        super().__init__(getattr(decision, "message", "") or "not allowed")
        self.decision = decision


def _rationale_domains(domain: Any) -> tuple[str, ...]:
    return (domain,) if domain in DOMAINS else tuple(DOMAINS)  # Vigie's own or unknown: an engineer of every domain


def may_edit_rationale(domain: Any) -> bool:
    """May the current principal change the alarm types of `domain`? (to enable the page's form; saving checks again)"""
    from services.web.auth import current_principal

    security = current_app.extensions.get(SECURITY)
    principal = current_principal()
    return security is not None and all(security.allowed(principal, "settings.thresholds", d) for d in _rationale_domains(domain))


def _authorise_rationale(domain: Any) -> None:
    from services.web.auth import authorize

    if current_app.extensions.get(SECURITY) is None:
        raise RationaleForbidden(None)
    for d in _rationale_domains(domain):
        decision = authorize("settings.thresholds", d, target=f"alarm type ({d})")
        if not decision:
            raise RationaleForbidden(decision)


def save_rationale(raw: dict) -> Rationale:
    """Authorise, validate, keep and put in force an engineer's record; audited. RationaleError / RationaleForbidden."""
    service = alarm_service()
    code = str(raw.get("code", ""))[:80]
    current = next((r for r in service.actions.rationale()["records"] if r["code"] == code), None)
    _authorise_rationale(raw.get("domain"))
    if current is not None and current.get("domain") != raw.get("domain"):
        _authorise_rationale(current.get("domain"))  # moving a type to another domain: an engineer of both
    record = service.actions.put_rationale(raw)
    _audit_rationale("ok", record.code, f"class={record.alarm_class} priority={record.priority} "
                                        f"on={record.on_delay_s:g}s off={record.off_delay_s:g}s respond={record.respond_min}")
    return record


def revert_rationale(code: str) -> Rationale:
    """Authorise and forget an engineer's edit of `code` (the shipped record, or the default, again); audited."""
    service = alarm_service()
    current = next((r for r in service.actions.rationale()["records"] if r["code"] == code), None)
    _authorise_rationale(current["domain"] if current else None)
    record = service.actions.revert_rationale(code[:80])
    _audit_rationale("ok", code, "reverted to the shipped record")
    return record


def _audit_rationale(outcome: str, code: str, detail: str) -> None:
    from services.web.auth import record

    record("settings.thresholds", outcome, target=f"alarm type {code[:80]}", detail=detail[:400])


def _refused(err: RationaleForbidden) -> Response:
    from services.web.auth import refusal_response

    if err.decision is None:
        return _error(401, "not_signed_in", "sign in first (security is not set up on this server)")
    return refusal_response(err.decision)


def create_alarm_api() -> Blueprint:
    """The blueprint: actions (single and bulk), an alarm with its history, the journal, the KPIs, the policy."""
    bp = Blueprint("vigie_alarms", __name__, url_prefix="/api/v1/alarms")

    @bp.errorhandler(BadRequest)
    def bad_request(err: BadRequest) -> Response:
        return _error(400, "bad_request", str(err))

    @bp.errorhandler(ActionsUnavailable)
    def no_engine(err: ActionsUnavailable) -> Response:
        return _error(503, "unavailable", f"alarm actions are not available right now: {err}")

    @bp.errorhandler(BusUnavailable)
    def no_redis(err: BusUnavailable) -> Response:
        return _error(503, "unavailable", "the alarm journal cannot be read right now (Redis is down)")

    @bp.post("/<action>")
    def bulk(action: str) -> Response:
        if action not in ACTIONS:
            return _error(404, "not_found", f"no alarm action {action[:40]!r}")
        body = _body()
        ids = parse_ids(body.pop("ids", None))
        outcomes = perform(action, ids, parse_params(action, body))
        counts = {k: sum(1 for o in outcomes if o.result == k) for k in STATUS}
        return _json({"action": action, **counts, "results": [o.to_dict() for o in outcomes]})

    @bp.post("/<path:alarm_id>/<action>")
    def single(alarm_id: str, action: str) -> Response:
        if action not in ACTIONS:
            return _error(404, "not_found", f"no alarm action {action[:40]!r}")
        (outcome,) = perform(action, parse_ids([alarm_id]), parse_params(action, _body()))
        return _json(outcome.to_dict(), STATUS[outcome.result])

    @bp.get("/journal")
    @bp.get("/journal.csv")
    def journal() -> Response:
        refused = _read_allowed()
        if refused is not None:
            return refused
        try:
            limit = min(max(int(request.args.get("limit", "1000")), 1), 100_000)
        except ValueError:
            raise BadRequest("limit must be an integer") from None
        store = alarm_service().store
        if store is None:
            return _error(503, "unavailable", "no alarm journal in this process")
        entries = store.journal(since=_float_arg("since"), until=_float_arg("until"), alarm=request.args.get("alarm", ""),
                                who=request.args.get("who", ""), action=request.args.get("action", ""), limit=limit)
        if request.path.endswith(".csv") or request.args.get("format") == "csv":
            resp = Response(journal_csv(entries), mimetype="text/csv")
            resp.headers["Content-Disposition"] = "attachment; filename=vigie-alarm-journal.csv"
            return resp
        return _json({"items": [e.to_dict() for e in entries]})

    @bp.get("/kpis")
    def kpis() -> Response:
        return _read_allowed() or _json(alarm_service().actions.kpis())

    @bp.get("/policy")
    def policy() -> Response:
        return _read_allowed() or _json(alarm_service().actions.policy().to_dict())

    @bp.put("/policy")
    def set_policy() -> Response:
        from services.web.auth import authorize, refusal_response

        if current_app.extensions.get(SECURITY) is None:
            return _error(401, "not_signed_in", "sign in first (security is not set up on this server)")
        for domain in DOMAINS:  # the policy applies to every domain: an engineer of all of them sets it
            decision = authorize("settings.thresholds", domain, target=request.path)
            if not decision:
                return refusal_response(decision)
        service, changes = alarm_service(), _body()
        try:
            new = AlarmPolicy.from_dict({**service.actions.policy().to_dict(), **changes})
        except ValueError as err:
            raise BadRequest(str(err)) from None
        service.actions.set_policy(new)
        from services.web.auth import record

        record("settings.thresholds", "ok", target="alarm policy", detail=str(changes)[:400])
        return _json(new.to_dict())

    @bp.get("/maintenance")
    def maintenance() -> Response:
        return _read_allowed() or _json({"items": alarm_service().actions.maintenance()})

    @bp.get("/rationalisation")
    def rationalisation() -> Response:
        return _read_allowed() or _json(alarm_service().actions.rationale())

    @bp.put("/rationalisation/<code>")
    def put_rationale(code: str) -> Response:
        body = _body()
        body.setdefault("code", code)
        if body.get("code") != code:
            raise BadRequest("the record's code differs from the path's")
        try:
            return _json(save_rationale(body).to_dict())
        except RationaleError as err:
            return _error(400, "bad_request", str(err))
        except RationaleForbidden as err:
            return _refused(err)

    @bp.delete("/rationalisation/<code>")
    def delete_rationale(code: str) -> Response:
        try:
            return _json(revert_rationale(code).to_dict())
        except RationaleForbidden as err:
            return _refused(err)

    @bp.get("/<path:alarm_id>")
    def detail(alarm_id: str) -> Response:
        refused = _read_allowed()
        if refused is not None:
            return refused
        found = alarm_service().actions.detail(alarm_id)
        return _json(found) if found is not None else _error(404, "not_found", f"no alarm {alarm_id[:200]!r}")

    return bp
