"""The journal over HTTP, as a Flask Blueprint (services/web/replay.py registers it with the replay API).

    GET    /api/v1/journal                               span, size, segments, snapshots, retention
    GET    /api/v1/journal/export?since&until&format=jsonl|parquet&table=readings|messages|actions
    GET    /api/v1/journal/assets/<id>/history?since&until
    GET    /api/v1/journal/timeline?since&until          alarms raised, actions, outages
Exports naming people (JSON lines, the actions table) need `audit.read`, the rest `api.read`; the
timeline is the trainer's (`replay.run`). Times are epoch seconds or ISO 8601 with an offset.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import msgspec
from flask import Blueprint, Response, request

from services.journal import export as journal_export
from services.journal.store import Journal, JournalError
from services.replay.session import ReplayError
from services.replay.timeline import timeline

log = logging.getLogger(__name__)
MAX_EXPORT_S = 7 * 86400.0
_encode = msgspec.json.Encoder().encode


def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(_encode(doc), status=status, mimetype="application/json", headers=headers)


def error(status: int, error: str, message: str) -> Response:
    """A JSON refusal with its reason."""
    return json_response({"error": error, "message": message}, status)


def parse_time(raw: Any, default: float | None = None) -> float:
    """Epoch seconds from a number or an ISO 8601 text."""
    if raw is None or raw == "":
        if default is None:
            raise ReplayError("a time is missing")
        return default
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ReplayError(f"not a time: {str(raw)[:40]!r} (epoch seconds or ISO 8601)") from None
    if when.tzinfo is None:
        raise ReplayError("give the time with its offset (e.g. 2026-06-21T18:00:00+02:00)")
    return when.timestamp()


def create_journal_api(journal: Journal, security: Any = None) -> Blueprint:
    """The journal blueprint; `security` (services.web.auth.Security) authorises every call, None only in tests."""
    from services.web.auth import current_principal, refusal_response

    bp = Blueprint("vigie_journal_api", __name__)
    _json, _error = json_response, error

    def allowed(action: str) -> Response | None:
        if security is None:
            return None
        decision = security.authorize(current_principal(), action, target=request.path)
        return None if decision else refusal_response(decision)

    def audit(action: str, target: str, detail: str = "") -> None:
        if security is not None:
            try:
                security.record(current_principal(), action, "ok", target=target, detail=detail)
            except Exception as err:  # noqa: BLE001 - an unreachable audit log does not stop an export
                log.warning("audit of %s not recorded: %s", action, err)

    @bp.errorhandler(ReplayError)
    def bad_request(err: Exception) -> Response:
        return _error(400, "bad_request", str(err))

    @bp.errorhandler(JournalError)
    def journal_down(err: JournalError) -> Response:
        return _error(503, "journal_unavailable", str(err))

    @bp.get("/api/v1/journal")
    def journal_info() -> Response:
        refused = allowed("api.read")
        if refused is not None:
            return refused
        span = journal.span()
        c = journal.config
        return _json({"span": list(span) if span else None, "bytes": journal.size(), "segments": len(journal.segments()),
                      "snapshots": len(journal.snapshots()), "segment_s": c.segment_s, "snapshot_s": c.snapshot_s,
                      "max_age_s": c.max_age_s, "max_bytes": c.max_bytes})

    @bp.get("/api/v1/journal/export")
    def export() -> Response:
        table, fmt = request.args.get("table", "readings"), request.args.get("format", "jsonl")
        names_people = fmt != "parquet" or table == "actions"  # operator actions say who did what, from where
        refused = allowed("audit.read" if names_people else "api.read")
        if refused is not None:
            return refused
        until = parse_time(request.args.get("until"), (journal.span() or (0, 0))[1])
        since = parse_time(request.args.get("since"), until - 3600)
        if not 0 < until - since <= MAX_EXPORT_S:
            raise ReplayError("export between 1 s and 7 days at once")
        audit("journal.export", f"{since:.0f}-{until:.0f}", f"{fmt} {table}")
        name = f"vigie-journal-{int(since)}-{int(until)}"
        if fmt == "parquet":
            try:
                body = journal_export.parquet(journal, since, until, table)
            except (journal_export.ExportTooLarge, ValueError) as err:
                raise ReplayError(str(err)) from None
            return Response(body, mimetype="application/vnd.apache.parquet",
                            headers={"Content-Disposition": f"attachment; filename={name}-{table}.parquet"})
        return Response(journal_export.jsonl(journal, since, until), mimetype="application/x-ndjson",
                        headers={"Content-Disposition": f"attachment; filename={name}.jsonl"})

    @bp.get("/api/v1/journal/assets/<path:asset_id>/history")
    def history(asset_id: str) -> Response:
        refused = allowed("api.read")
        if refused is not None:
            return refused
        until = parse_time(request.args.get("until"), (journal.span() or (0, 0))[1])
        since = parse_time(request.args.get("since"), until - 86400)
        points = journal.asset_history(asset_id[:128], since, until)
        return _json({"asset": asset_id[:128], "since": since, "until": until, "points": [[t, v] for t, v in points]})

    @bp.get("/api/v1/journal/timeline")
    def journal_timeline() -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        until = parse_time(request.args.get("until"), (journal.span() or (0, 0))[1])
        since = parse_time(request.args.get("since"), until - 3 * 3600)
        if not 0 < until - since <= 2 * 86400:
            raise ReplayError("a timeline covers at most 2 days")
        return _json(timeline(journal, since, until))

    return bp
