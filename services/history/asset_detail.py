"""What an asset's detail page (level 3) shows: its relations, its readings over a day, its alarm and command history.

Pure helpers over plain data, plus `gather()` that reads the reader, the journal, the alarm store and the command
service it is given (any of the last three may be missing: the page then says so instead of failing).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

log = logging.getLogger(__name__)

DAY_S = 86400.0
RELATION_ORDER = ("segment", "cabinet", "group", "pipe", "street", "zone", "district", "commune")  # nearest first
ALARM_ROWS = 50
COMMAND_ROWS = 20


@dataclass(frozen=True, slots=True)
class AssetDetail:
    """Everything the asset page shows, read at one time."""

    asset_id: str
    asset: dict | None
    relations: list[tuple[str, str, bool]]  # (kind, id, is an asset with its own page)
    series: dict[str, tuple[list[float], list[float]]]  # reading key -> (times, values), oldest first
    alarms: list[dict] = field(default_factory=list)  # newest first: active ones, then the journal's entries
    commands: list[dict] = field(default_factory=list)
    history_missing: bool = False  # no journal here: the charts cannot be drawn
    window: tuple[float, float] = (0.0, 0.0)  # the charts' span (since, until)


def relation_chain(refs: dict[str, Any]) -> list[tuple[str, str]]:
    """The asset's relations, nearest first (lamp -> cabinet -> group -> district; sensor -> pipe -> zone)."""
    known = [(k, str(refs[k])) for k in RELATION_ORDER if refs.get(k)]
    others = sorted((k, str(v)) for k, v in refs.items() if k not in RELATION_ORDER and v not in (None, ""))
    return known + others


def series(points: Iterable[tuple[float, dict]]) -> dict[str, tuple[list[float], list[float]]]:
    """Numeric readings as one time series per key (booleans as 0/1, text dropped)."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for t, values in points:
        for key, v in (values or {}).items():
            if isinstance(v, bool):
                v = int(v)
            if isinstance(v, (int, float)):
                xs, ys = out.setdefault(key, ([], []))
                xs.append(float(t))
                ys.append(float(v))
    return out


def with_latest(out: dict[str, tuple[list[float], list[float]]], asset: dict | None) -> dict[str, tuple[list[float], list[float]]]:
    """The series ending with the asset's latest values (the journal may not have written them yet)."""
    at = (asset or {}).get("updated")
    if not isinstance(at, (int, float)):
        return out
    for key, v in ((asset or {}).get("values") or {}).items():
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, (int, float)):
            continue
        xs, ys = out.setdefault(key, ([], []))
        if not xs or xs[-1] < at:
            xs.append(float(at))
            ys.append(float(v))
    return out


def alarm_history(asset_id: str, active: list[dict], entries: Iterable[dict], limit: int = ALARM_ROWS) -> list[dict]:
    """The asset's alarms held now, then what happened to its alarms (journal entries), newest first."""
    held = [a for a in active if a.get("asset") == asset_id]
    suffix = "/" + asset_id
    past = [e for e in entries if str(e.get("alarm", "")).endswith(suffix)]
    past.sort(key=lambda e: e.get("at", 0.0), reverse=True)
    return held + past[: max(0, limit - len(held))]


def gather(reader: Any, asset_id: str, now: float, *, journal: Any = None, alarm_store: Any = None,
           commands: Any = None, window_s: float = DAY_S) -> AssetDetail:
    """Read one asset's page: latest state from the reader, the last `window_s` of readings from the journal.

    The window ends at the asset's latest reading when that is later than `now`: readings carry the supervisor's
    time, which runs ahead of the wall clock when the simulators are accelerated (x60); a window ending at the wall
    clock dropped every reading after it, so a chart stopped early (21.5 m3/h while the pipe read 56.7).
    """
    asset = reader.asset(asset_id)
    latest = (asset or {}).get("updated")
    until = max(now, float(latest)) if isinstance(latest, (int, float)) else now
    refs = (asset or {}).get("refs") or {}
    relations = [(k, v, reader.asset(v) is not None) for k, v in relation_chain(refs)]
    points: list = []
    if journal is not None:
        try:
            points = journal.asset_history(asset_id, until - window_s, until)
        except Exception:  # noqa: BLE001 - a journal fault leaves the charts empty, never the page broken
            log.exception("reading %s's history failed", asset_id)
    entries: list[dict] = []
    if alarm_store is not None:
        try:
            entries = [e.to_dict() for e in alarm_store.journal(since=now - window_s, limit=5000, scan_max=50_000)]
        except Exception:  # noqa: BLE001 - the alarm store may have lost Redis; the page says none
            log.exception("reading the alarm journal failed")
    cmds: list[dict] = []
    if commands is not None and asset is not None:
        try:
            cmds = commands.for_asset(asset_id, limit=COMMAND_ROWS)
        except Exception:  # noqa: BLE001 - same: no command history rather than no page
            log.exception("reading %s's commands failed", asset_id)
    active = reader.alarms(active_only=False)
    return AssetDetail(asset_id, asset, relations, with_latest(series(points), asset) if journal is not None else {}, alarm_history(asset_id, active, entries), cmds,
                       history_missing=journal is None, window=(until - window_s, until))
