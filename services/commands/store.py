"""The command log in Redis: every command's full record, a small summary for listings, a time index.

Keys: `vigie:cmd:doc:<id>` (full JSON record, expires after the retention), `vigie:cmd:sum` (hash id
-> summary JSON), `vigie:cmd:idx` (sorted set id by request time). Records are versioned (`rev`):
an older version never overwrites a newer one. Redis errors become BusUnavailable.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import msgspec
import redis

from services.redis_conn import BUS_ERRORS, BusUnavailable
from services.streams import csv_cell

PREFIX = "vigie:cmd:"
DOC, SUMMARY, INDEX = PREFIX + "doc:", PREFIX + "sum", PREFIX + "idx"
READ_BATCH = 500
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode
# Write a document only when it is newer than the stored one (KEYS: doc, sum, idx; ARGV: id, rev, doc, summary, score, ttl).
_WRITE = """
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local rev = tonumber(string.match(old, '"rev":(%d+)'))
  if rev and rev > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[6])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return 1
"""
CSV_COLUMNS = ("id", "requested_at", "user", "domain", "supervisor", "action", "params", "label", "assets_count", "status",
               "message", "applied", "failed", "missing", "verification", "override", "reason")


@dataclass(frozen=True, slots=True)
class CommandFilter:
    """What a listing keeps: every given field must match."""

    domain: str | None = None
    status: str | None = None
    user: str | None = None
    action: str | None = None
    supervisor: str | None = None
    target: str | None = None  # one of the targets sent
    since: float | None = None
    until: float | None = None

    def keeps(self, s: dict[str, Any]) -> bool:
        """Does a summary pass the filter?"""
        return ((self.domain is None or s["domain"] == self.domain) and (self.status is None or s["status"] == self.status)
                and (self.user is None or s["user"].lower() == self.user.lower()) and (self.action is None or s["action"] == self.action)
                and (self.supervisor is None or s["supervisor"] == self.supervisor)
                and (self.target is None or self.target in s["targets"] or self.target == s["label"]))


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The listing's view of a record: capped id lists, no expanded assets."""
    out = {k: v for k, v in doc.items() if k != "assets"}
    cap = 20
    out["targets"] = doc["targets"][:cap]
    out["feedback"] = {k: (v[:cap] if isinstance(v, list) else v) for k, v in doc["feedback"].items()}
    out["actual"] = {k: (v[:cap] if isinstance(v, list) else v) for k, v in doc["actual"].items()}
    return out


class CommandStore:
    """Persists command records and answers listings; shared by every worker through Redis."""

    def __init__(self, client: redis.Redis, *, retention_days: float = 90.0) -> None:
        self.client = client
        self.ttl_s = int(retention_days * 86400)
        self._write = client.register_script(_WRITE)

    def save(self, docs: Iterable[dict[str, Any]]) -> int:
        """Write records (newest version wins); return how many were written."""
        written = 0
        try:
            pipe = self.client.pipeline(transaction=False)
            for d in docs:
                self._write(keys=[DOC + d["id"], SUMMARY, INDEX],
                            args=[d["id"], d["rev"], _encode(d), _encode(summary(d)), d["requested_at"], self.ttl_s], client=pipe)
            written = sum(int(x) for x in pipe.execute())
        except BUS_ERRORS + (redis.RedisError,) as err:
            raise BusUnavailable(f"command log unreachable: {err}") from err
        return written

    def get(self, command_id: str) -> dict[str, Any] | None:
        """A full record, or None."""
        try:
            raw = self.client.get(DOC + command_id)
        except BUS_ERRORS + (redis.RedisError,) as err:
            raise BusUnavailable(f"command log unreachable: {err}") from err
        return _decode(raw) if raw else None

    def recent(self, since: float) -> list[dict[str, Any]]:
        """Full records requested since `since` (to restore the book after a restart), oldest first."""
        try:
            ids = [i.decode() for i in self.client.zrangebyscore(INDEX, since, "+inf")]
            out = []
            for n in range(0, len(ids), READ_BATCH):
                out += [_decode(raw) for raw in self.client.mget([DOC + i for i in ids[n:n + READ_BATCH]]) if raw]
            return out
        except BUS_ERRORS + (redis.RedisError,) as err:
            raise BusUnavailable(f"command log unreachable: {err}") from err

    def _scan(self, f: CommandFilter) -> Iterator[dict[str, Any]]:
        high = f.until if f.until is not None else "+inf"
        low = f.since if f.since is not None else "-inf"
        start = 0
        while True:
            ids = self.client.zrevrangebyscore(INDEX, high, low, start=start, num=READ_BATCH)
            if not ids:
                return
            for raw in self.client.hmget(SUMMARY, ids):
                if raw:
                    yield _decode(raw)
            start += len(ids)

    def query(self, f: CommandFilter, *, offset: int = 0, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """(matching count, one page of summaries), newest first."""
        try:
            found = [s for s in self._scan(f) if f.keeps(s)]
        except BUS_ERRORS + (redis.RedisError,) as err:
            raise BusUnavailable(f"command log unreachable: {err}") from err
        return len(found), found[offset:offset + limit]

    def trim(self, now: float) -> int:
        """Forget index and summary entries older than the retention (documents expire by themselves)."""
        try:
            old = self.client.zrangebyscore(INDEX, "-inf", now - self.ttl_s)
            if old:
                self.client.hdel(SUMMARY, *old)
                self.client.zrem(INDEX, *old)
            return len(old)
        except BUS_ERRORS + (redis.RedisError,) as err:
            raise BusUnavailable(f"command log unreachable: {err}") from err


def to_csv(summaries: Iterable[dict[str, Any]], iso: Any) -> str:
    """Summaries as CSV (header row, formulas neutralised); `iso(epoch)` formats times."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for s in summaries:
        fb, ov = s["feedback"], s.get("override") or {}
        params = " ".join(f"{k}={v}" for k, v in s["params"].items())
        row = (s["id"], iso(s["requested_at"]), s["user"], s["domain"], s["supervisor"], s["action"], params, s["label"],
               s["assets_count"], s["status"], s["message"], fb["applied"], fb["failed"], fb["missing"],
               s["actual"]["verification"], ov.get("state", ""), s["reason"])
        w.writerow([csv_cell(v) for v in row])
    return out.getvalue()
