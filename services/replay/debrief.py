"""The debrief of an exercise: each alarm and how long it waited, what was never acknowledged, commands and outcomes.

`AlarmWatch` follows the session core's alarm journal as the replay runs (annunciations and
acknowledgements on the session's clock); `debrief()` assembles the report, compared with a
reference: the scenario's reference run (a debrief exported earlier) and, for a recorded period,
what the operators on duty really did (their acknowledgements are in the journal).
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from services.core import Hypervisor
from services.core.alarm_record import JournalEntry

SYSTEM = frozenset({"supervisor", "vigie", ""})
UNACKED = frozenset({"active_unack", "rtn_unack"})
PRIORITIES = ("urgent", "high", "low", "diagnostic")
CSV_COLUMNS = ("alarm", "priority", "domain", "code", "asset", "message", "annunciated", "acknowledged", "acked_by",
               "time_to_ack_s", "reference_s", "on_duty_s")


@dataclass(slots=True)
class Watched:
    """One alarm presented during the exercise."""

    id: str
    priority: str
    domain: str
    code: str
    asset: str
    message: str
    annunciated_at: float
    acked_at: float | None = None
    acked_by: str | None = None
    at_start: bool = False  # already waiting when the exercise began
    presented: int = 1  # times it was annunciated during the exercise (a chattering alarm: many)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, with the wait."""
        wait = None if self.acked_at is None else round(self.acked_at - self.annunciated_at, 1)
        return {"id": self.id, "priority": self.priority, "domain": self.domain, "code": self.code, "asset": self.asset,
                "message": self.message, "annunciated_at": self.annunciated_at, "acked_at": self.acked_at,
                "acked_by": self.acked_by, "time_to_ack_s": wait, "at_start": self.at_start, "presented": self.presented}


class AlarmWatch:
    """Annunciations and acknowledgements of one session, from its core's alarm journal (one entry per alarm)."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.alarms: dict[str, Watched] = {}

    def waiting_at_start(self, core: Hypervisor) -> None:
        """Alarms already waiting for an acknowledgement when the exercise begins (or when a seek lands)."""
        for a in core.alarms.all():
            if str(a.state) in UNACKED and a.id not in self.alarms:
                at = max(self.start, a.seen_at)
                self.alarms[a.id] = Watched(a.id, str(a.priority), a.domain, a.code, a.asset, a.message, at, at_start=at == self.start)

    def note(self, entries: Iterable[JournalEntry], core: Hypervisor) -> None:
        """Take the journal entries the session's core wrote since the last call."""
        for e in entries:
            if e.at < self.start:
                continue
            w = self.alarms.get(e.alarm)
            if e.after in UNACKED and e.before not in UNACKED:
                if w is None:
                    a = core.alarms.get(e.alarm)
                    if a is not None:
                        self.alarms[a.id] = Watched(a.id, e.priority or str(a.priority), a.domain, a.code, a.asset, a.message, e.at)
                else:
                    w.presented += 1
            elif e.action == "acknowledge" and e.who not in SYSTEM and w is not None and w.acked_at is None:
                w.acked_at, w.acked_by = e.at, e.who


def _stats(waits: list[float]) -> dict[str, float | None]:
    if not waits:
        return {"median_s": None, "p90_s": None, "max_s": None}
    ordered = sorted(waits)
    return {"median_s": round(statistics.median(ordered), 1), "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            "max_s": round(ordered[-1], 1)}


def on_duty_acks(actions: Iterable[dict], watched: dict[str, Watched]) -> dict[str, float]:
    """How long the operators on duty took for the same alarms (their acknowledgements, from the journal)."""
    out: dict[str, float] = {}
    for a in actions:
        w = watched.get(a.get("alarm", ""))
        if a.get("action") == "acknowledge" and w is not None and a.get("alarm") not in out:
            out[w.id] = round(float(a.get("at", 0)) - w.annunciated_at, 1)
    return out


def debrief(*, session: dict, watched: dict[str, Watched], commands: list[dict], injections: list[dict], actions: list[dict],
            reference: dict | None, on_duty: dict[str, float], now: float) -> dict[str, Any]:
    """The exercise's report, JSON-ready."""
    rows = sorted((w.to_dict() for w in watched.values()), key=lambda r: (PRIORITIES.index(r["priority"]) if r["priority"] in PRIORITIES else 9,
                                                                         r["annunciated_at"]))
    ref_alarms = {r["id"]: r.get("time_to_ack_s") for r in (reference or {}).get("alarms", [])}
    for r in rows:
        r["reference_s"] = ref_alarms.get(r["id"])
        r["on_duty_s"] = on_duty.get(r["id"])
    waits = [r["time_to_ack_s"] for r in rows if r["time_to_ack_s"] is not None]
    by_priority = {p: {"annunciated": sum(1 for r in rows if r["priority"] == p),
                       "never_acknowledged": sum(1 for r in rows if r["priority"] == p and r["acked_at"] is None),
                       **_stats([r["time_to_ack_s"] for r in rows if r["priority"] == p and r["time_to_ack_s"] is not None])}
                   for p in PRIORITIES}
    cmds = [_command(c) for c in commands]
    return {
        "v": 1, "generated_at": now, "session": session,
        "summary": {"annunciated": len(rows), "acknowledged": len(waits), "never_acknowledged": len(rows) - len(waits),
                    **_stats(waits), "by_priority": by_priority, "commands": len(cmds),
                    "commands_failed": sum(1 for c in cmds if c["status"] in ("failed", "rejected", "timed_out", "partial"))},
        "alarms": rows,
        "unacknowledged": [r["id"] for r in rows if r["acked_at"] is None],
        "commands": cmds,
        "injections": injections,
        "actions": actions,
        "comparison": _compare(rows, cmds, reference, on_duty),
    }


def _command(c: dict) -> dict[str, Any]:
    fb = c.get("feedback", {})
    return {"id": c["id"], "requested_at": c["requested_at"], "user": c["user"], "domain": c["domain"], "action": c["action"],
            "params": c["params"], "label": c["label"], "assets": c.get("assets_count", 0), "status": c["status"],
            "applied": fb.get("applied", 0), "failed": fb.get("failed", 0), "message": c.get("message", ""),
            "verification": (c.get("actual") or {}).get("verification")}


def _compare(rows: list[dict], cmds: list[dict], reference: dict | None, on_duty: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if reference is not None:
        ref_waits = [r["time_to_ack_s"] for r in reference.get("alarms", []) if r.get("time_to_ack_s") is not None]
        mine = {(c["action"], c["label"]) for c in cmds}
        theirs = {(c["action"], c["label"]) for c in reference.get("commands", [])}
        out["reference"] = {"name": reference.get("session", {}).get("name", ""), **_stats(ref_waits),
                            "never_acknowledged": len(reference.get("unacknowledged", [])),
                            "commands_missing": [{"action": a, "label": lb} for a, lb in sorted(theirs - mine)],
                            "commands_extra": [{"action": a, "label": lb} for a, lb in sorted(mine - theirs)],
                            "faster": sum(1 for r in rows if r["reference_s"] is not None and r["time_to_ack_s"] is not None
                                          and r["time_to_ack_s"] <= r["reference_s"]),
                            "slower": sum(1 for r in rows if r["reference_s"] is not None and r["time_to_ack_s"] is not None
                                          and r["time_to_ack_s"] > r["reference_s"])}
    if on_duty:
        out["on_duty"] = {"acknowledged": len(on_duty), **_stats(list(on_duty.values()))}
    return out


def debrief_csv(report: dict) -> str:
    """The alarms of a debrief as CSV (ISO times in UTC, formulas neutralised)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in report["alarms"]:
        w.writerow([_cell(r["id"]), r["priority"], r["domain"], _cell(r["code"]), _cell(r["asset"]), _cell(r["message"]),
                    _iso(r["annunciated_at"]), _iso(r["acked_at"]), _cell(r["acked_by"] or ""), _num(r["time_to_ack_s"]),
                    _num(r.get("reference_s")), _num(r.get("on_duty_s"))])
    return buf.getvalue()


def _iso(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}"


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
