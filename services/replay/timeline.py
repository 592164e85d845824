"""Where things happened in a recorded period: the alarms raised, the operators' actions, bus outages.

The trainer's timeline draws it (alarm marks by priority, per-minute counts) to choose a period
and to seek to the moments that matter.
"""
from __future__ import annotations

from typing import Any

from services.contract import Codec, Rejection
from services.core.alarm_states import SEVERITY_TO_PRIORITY

from services.journal.store import Journal

MAX_MARKS = 3000  # alarm marks returned (the per-minute counts cover everything)
BUCKET_S = 60.0
PRIORITIES = ("urgent", "high", "low", "diagnostic")


def timeline(journal: Journal, since: float, until: float, bucket_s: float = BUCKET_S) -> dict[str, Any]:
    """Alarm raises (most urgent kept first when there are many), counts per bucket and priority, actions, outages."""
    codec = Codec()
    marks: list[dict[str, Any]] = []
    counts: dict[int, dict[str, int]] = {}
    actions: list[dict[str, Any]] = []
    outages: list[dict[str, Any]] = []
    for rec in journal.records(since, until):
        if rec.k == "a":
            a = rec.a
            if rec.src == "alarms" or a.get("action", "").startswith(("command", "alarm")):
                actions.append({"t": rec.t, "source": rec.src, "who": a.get("who") or a.get("actor", ""),
                                "action": a.get("action", ""), "target": a.get("alarm") or a.get("target", "")})
            continue
        if rec.k == "b":
            outages.append({"t": rec.t, "up": rec.up, "why": rec.why})
            continue
        if not rec.ch.endswith(".alarm") or not rec.ch.startswith("sup."):
            continue
        msg = codec.decode(rec.ch, rec.payload())
        if isinstance(msg, Rejection):
            continue
        for ev in msg.events:
            if ev.action != "raise":
                continue
            priority = str(SEVERITY_TO_PRIORITY.get(ev.severity, "low"))
            bucket = counts.setdefault(int(rec.t // bucket_s), {p: 0 for p in PRIORITIES})
            bucket[priority] += 1
            marks.append({"t": rec.t, "priority": priority, "id": f"{msg.supervisor}/{ev.id}", "domain": msg.domain,
                          "code": ev.code, "asset": ev.asset, "message": ev.message})
    if len(marks) > MAX_MARKS:
        marks.sort(key=lambda m: (PRIORITIES.index(m["priority"]), m["t"]))
        marks = sorted(marks[:MAX_MARKS], key=lambda m: m["t"])
    return {"since": since, "until": until, "bucket_s": bucket_s, "alarms": marks,
            "counts": [{"t": b * bucket_s, **c} for b, c in sorted(counts.items())], "actions": actions[:MAX_MARKS],
            "outages": outages}
