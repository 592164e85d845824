"""Exports of a journal period: JSON lines (the records as journaled) and Parquet tables for the data scientists.

Parquet tables:
    readings   one row per reading: arrival time, reading time, domain, supervisor, asset, one column per field
    messages   one row per bus message: arrival time, channel, kind, domain, supervisor, seq, payload (JSON text)
    actions    one row per operator action: arrival time, source, who, action, target, the whole action (JSON text)
"""
from __future__ import annotations

import io
from typing import Any, Iterator

import msgspec

from services.contract import Codec, Rejection
from services.contract.messages import READING_TYPES

from services.journal.store import Journal

TABLES = ("readings", "messages", "actions")
MAX_ROWS = 5_000_000  # a Parquet export is built in memory: ask for a shorter period beyond this
READING_FIELDS = sorted({f for t in READING_TYPES.values() for f in t.__struct_fields__ if f != "asset"})
TEXT_FIELDS = {"powerState", "status", "controlMode", "overrideUntil", "signalPlan"}
BOOL_FIELDS = {"running", "congested", "closed"}
_encode = msgspec.json.Encoder().encode


class ExportTooLarge(ValueError):
    """The period holds more rows than an export carries; the text says how to narrow it."""


def jsonl(journal: Journal, since: float, until: float, kinds: str = "mab") -> Iterator[bytes]:
    """The period's records as JSON lines (kinds: m messages, a actions, b bus events)."""
    for rec in journal.records(since, until):
        if rec.k in kinds:
            yield _encode(rec) + b"\n"


def parquet(journal: Journal, since: float, until: float, table: str = "readings") -> bytes:
    """One table of the period as a Parquet file (zstd-compressed columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if table not in TABLES:
        raise ValueError(f"table is one of {', '.join(TABLES)}")
    columns = {"readings": _readings, "messages": _messages, "actions": _actions}[table](journal, since, until)
    arrays = {}
    for name, values in columns.items():
        if name in ("t", "ts"):
            arrays[name] = pa.array([int(v * 1_000_000) if v is not None else None for v in values], pa.timestamp("us", tz="UTC"))
        elif name in BOOL_FIELDS:
            arrays[name] = pa.array(values, pa.bool_())
        elif name in TEXT_FIELDS or isinstance(next((v for v in values if v is not None), ""), str):
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
        elif name == "seq":
            arrays[name] = pa.array(values, pa.int64())
        else:
            arrays[name] = pa.array(values, pa.float64())
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf, compression="zstd")
    return buf.getvalue()


def _check(n: int) -> None:
    if n > MAX_ROWS:
        raise ExportTooLarge(f"more than {MAX_ROWS:,} rows in this period: export a shorter one")


def _readings(journal: Journal, since: float, until: float) -> dict[str, list[Any]]:
    codec = Codec()
    cols: dict[str, list[Any]] = {k: [] for k in ("t", "ts", "domain", "supervisor", "asset", *READING_FIELDS)}
    for rec in journal.records(since, until):
        if rec.k not in ("m", "r") or not rec.ch.startswith("sup.") or not rec.ch.endswith((".telemetry", ".state")):
            continue
        msg = codec.decode(rec.ch, rec.payload())
        if isinstance(msg, Rejection):
            continue
        ts = msg.ts.timestamp()
        for r in msg.readings:
            cols["t"].append(rec.t)
            cols["ts"].append(ts)
            cols["domain"].append(msg.domain)
            cols["supervisor"].append(msg.supervisor)
            cols["asset"].append(r.asset)
            for f in READING_FIELDS:
                v = getattr(r, f, None)
                cols[f].append(v.isoformat() if hasattr(v, "isoformat") else v)
        _check(len(cols["t"]))
    return {k: v for k, v in cols.items() if k in ("t", "ts", "domain", "supervisor", "asset") or any(x is not None for x in v)}


def _messages(journal: Journal, since: float, until: float) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {k: [] for k in ("t", "channel", "kind", "domain", "supervisor", "seq", "payload")}
    for rec in journal.records(since, until):
        if rec.k != "m":
            continue
        parts = rec.ch.split(".")
        payload = rec.payload()
        head = _head(payload)
        cols["t"].append(rec.t)
        cols["channel"].append(rec.ch)
        cols["kind"].append(head.get("kind") or (parts[3] if len(parts) == 4 else None))
        cols["domain"].append(parts[1] if len(parts) > 1 else None)
        cols["supervisor"].append(parts[2] if len(parts) > 2 else None)
        seq = head.get("seq")
        cols["seq"].append(seq if isinstance(seq, int) and not isinstance(seq, bool) else None)
        cols["payload"].append(payload.decode("utf-8", "replace"))
        _check(len(cols["t"]))
    return cols


def _head(payload: bytes) -> dict:
    try:
        doc = msgspec.json.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _actions(journal: Journal, since: float, until: float) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {k: [] for k in ("t", "source", "who", "action", "target", "detail")}
    for rec in journal.records(since, until):
        if rec.k != "a":
            continue
        a = rec.a
        cols["t"].append(rec.t)
        cols["source"].append(rec.src)
        cols["who"].append(a.get("who") or a.get("actor"))
        cols["action"].append(a.get("action"))
        cols["target"].append(a.get("alarm") or a.get("target"))
        cols["detail"].append(_encode(a).decode())
    return cols

