"""The append-only audit trail: a Redis Stream written with XADD only, searchable, exportable as CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from enum import StrEnum
from typing import Iterable, Iterator

import redis

from services.redis_conn import BUS_ERRORS, BusUnavailable
from services.streams import csv_cell, newest_first, text

AUDIT_KEY = "vigie:audit"
FIELD_MAX = {"actor": 120, "actor_kind": 16, "role": 16, "ip": 64, "action": 64, "domain": 16,
             "target": 200, "outcome": 16, "detail": 500}
SCAN_BATCH = 500
SCAN_MAX = 200_000  # a search never reads more entries than this
TRIM_EVERY = 200  # entries between two retention trims


class Outcome(StrEnum):
    """How an audited attempt ended."""

    OK = "ok"
    REFUSED = "refused"  # not allowed (role, domain, CSRF, throttled, revoked token)
    FAILED = "failed"  # allowed but did not work (wrong password, command failed)
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when, from where, and how it ended; `id` is the stream id (Redis time)."""

    id: str
    actor: str
    actor_kind: str
    role: str
    ip: str
    action: str
    domain: str
    target: str
    outcome: str
    detail: str

    @property
    def ts(self) -> float:
        """Return the entry's time, epoch seconds (from its stream id)."""
        return int(self.id.split("-", 1)[0]) / 1000.0

    @property
    def when(self) -> str:
        """Return the entry's time as ISO 8601 UTC, to the millisecond."""
        return datetime.fromtimestamp(self.ts, timezone.utc).isoformat(timespec="milliseconds")


COLUMNS = ("when",) + tuple(f.name for f in fields(AuditEntry))


def _clean(name: str, value: object) -> str:
    raw = "" if value is None else str(value)
    return "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in raw)[: FIELD_MAX[name]]


class AuditLog:
    """Append entries, search them (newest first), keep them `retention_days`."""

    def __init__(self, client: redis.Redis, *, retention_days: float = 365.0, key: str = AUDIT_KEY) -> None:
        self.client = client
        self.key = key
        self.retention_s = retention_days * 86400.0
        self._since_trim = TRIM_EVERY  # trim on the first write

    def record(self, *, actor: str, action: str, outcome: str, actor_kind: str = "", role: str = "", ip: str = "",
               domain: str | None = None, target: str = "", detail: str = "") -> str:
        """Append one entry and return its id; entries are never edited."""
        values = {"actor": actor, "actor_kind": actor_kind, "role": role, "ip": ip, "action": action,
                  "domain": domain or "", "target": target, "outcome": outcome, "detail": detail}
        entry = {name: _clean(name, value) for name, value in values.items()}
        try:
            entry_id = self.client.xadd(self.key, entry)  # type: ignore[arg-type]
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            self._since_trim += 1
            if self._since_trim >= TRIM_EVERY:
                self._since_trim = 0
                cutoff_ms = int(entry_id.split("-")[0]) - int(self.retention_s * 1000)
                self.client.xtrim(self.key, minid=f"{max(cutoff_ms, 0)}-0", approximate=True)
        except BUS_ERRORS as err:
            raise BusUnavailable(f"audit log unreachable: {err}") from err
        return entry_id

    def search(self, *, since: float | None = None, until: float | None = None, actor: str = "", action: str = "",
               outcome: str = "", domain: str = "", limit: int = 500) -> list[AuditEntry]:
        """Return up to `limit` entries, newest first; `action` matches a prefix (`signin` finds `signin.*`)."""
        found: list[AuditEntry] = []
        for entry in self._scan(since, until):
            if (actor and entry.actor.lower() != actor.strip().lower()) or (outcome and entry.outcome != outcome) \
                    or (action and not entry.action.startswith(action.strip())) or (domain and entry.domain != domain):
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found

    def _scan(self, since: float | None, until: float | None) -> Iterator[AuditEntry]:
        def fetch(high: str, low: str, count: int) -> list:
            try:
                return self.client.xrevrange(self.key, max=high, min=low, count=count)
            except BUS_ERRORS as err:
                raise BusUnavailable(f"audit log unreachable: {err}") from err

        for raw_id, raw in newest_first(fetch, since, until, batch=SCAN_BATCH, scan_max=SCAN_MAX):
            yield _entry(raw_id, raw)


def _entry(raw_id: str, raw: dict) -> AuditEntry:
    values = {text(k): text(v) for k, v in raw.items()}
    names = [f.name for f in fields(AuditEntry) if f.name != "id"]
    return AuditEntry(raw_id, *(values.get(n, "") for n in names))


def to_csv(entries: Iterable[AuditEntry]) -> str:
    """Return the entries as CSV text (UTF-8, header row, formulas neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        row = asdict(entry)
        writer.writerow([entry.when] + [csv_cell(row[c]) for c in COLUMNS[1:]])
    return out.getvalue()
