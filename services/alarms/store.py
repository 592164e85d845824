"""Alarm persistence in Redis: the alarms held, their journal, each alarm's history, the engineer's policy.

Keys: `vigie:alarms:state` (hash id -> JSON record, history apart), `vigie:alarms:journal` (stream,
about a million entries), `vigie:alarms:history:<id>` (list, newest first, 200 entries, 30 days),
`vigie:alarms:policy` (JSON). The engine thread hands changes to `AlarmStore.on_events`; a writer
thread writes them, keeping them while Redis is away (nothing is dropped below `PENDING_MAX`).
`restore()` loads everything into a core before the engine starts.
"""
from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import msgspec

from services.feed.bus import ERRORS, bounded_client
from services.alarms.rationale_store import RATIONALE_KEY, build_book, load_shipped
from services.core.alarm_record import AlarmPolicy, JournalEntry
from services.core.events import AlarmsChanged, Event
from services.redis_conn import BusUnavailable
from services.streams import csv_cell, newest_first, stream_id, text
from services.redis_writer import RedisBatchWriter, put_hash

if TYPE_CHECKING:
    from services.core import Hypervisor

log = logging.getLogger(__name__)

STATE_KEY = "vigie:alarms:state"
JOURNAL_KEY = "vigie:alarms:journal"
HISTORY_PREFIX = "vigie:alarms:history:"
POLICY_KEY = "vigie:alarms:policy"
JOURNAL_MAXLEN = 1_000_000
HISTORY_LEN = 200
HISTORY_TTL_S = 30 * 86400
PENDING_MAX = 1_000_000  # journal entries kept while Redis is away
SCAN_BATCH = 2000
JOURNAL_FIELDS = ("at", "alarm", "action", "who", "why", "before", "after", "domain", "priority")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


def _entry(raw: dict) -> JournalEntry:
    f = {text(k): text(v) for k, v in raw.items()}
    return JournalEntry(float(f.get("at", 0) or 0), *(f.get(k, "") for k in JOURNAL_FIELDS[1:]))


class AlarmStore(RedisBatchWriter):
    """Reads and writes the alarm keys; `start()` runs the writer thread fed by `on_events`."""

    what = "alarms"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.client = bounded_client(url, timeout_s)  # reads (any thread)
        self.dropped = 0
        self._init_batches("vigie-alarm-store", list)  # pending: alarm records by id, and journal entries
        self._core: "Hypervisor | None" = None

    # --- loading (before the engine starts) ------------------------------------------------

    def restore(self, core: "Hypervisor", now: float) -> int:
        """Load the master alarm database, the policy, the alarms held and the KPI counters into `core`; return how many."""
        book = core.alarms
        book.set_rationale(build_book(load_shipped()))  # as shipped, even when Redis does not answer
        try:
            book.set_rationale(build_book(load_shipped(), self.load_rationale_edits()))
            book.set_policy(self.load_policy())
            records = self.load_records()
            book.restore(records)
            book.stats.replay(self.journal_since(now - book.policy.kpi_window_s))
        except BusUnavailable as err:
            log.warning("alarms not restored (%s): starting with an empty alarm list", err)
            return 0
        log.info("restored %d alarms from Redis", len(records))
        return len(records)

    def load_records(self) -> list[dict]:
        """Every alarm saved, with its recent history."""
        raw = self._call(lambda: self.client.hgetall(STATE_KEY))
        ids = [text(k) for k in raw]

        def histories():
            pipe = self.client.pipeline(transaction=False)
            for aid in ids:
                pipe.lrange(HISTORY_PREFIX + aid, 0, 49)
            return pipe.execute()

        out = []
        for aid, hist in zip(ids, self._call(histories) if ids else []):
            rec = _decode(raw[aid.encode()])
            rec["history"] = [_decode(h) for h in reversed(hist)]
            out.append(rec)
        return out

    def load_policy(self) -> AlarmPolicy:
        """The engineer's policy (defaults when none was saved or it no longer reads)."""
        raw = self._call(lambda: self.client.get(POLICY_KEY))
        try:
            return AlarmPolicy.from_dict(_decode(raw)) if raw else AlarmPolicy()
        except (ValueError, TypeError, msgspec.DecodeError) as err:
            log.warning("alarm policy in Redis unreadable (%s); using the defaults", err)
            return AlarmPolicy()

    def save_policy(self, policy: AlarmPolicy) -> None:
        """Keep the policy across restarts."""
        self._call(lambda: self.client.set(POLICY_KEY, _encode(policy.to_dict())))

    def load_rationale_edits(self) -> list[Any]:
        """The engineers' edits of the master alarm database (records as they were saved)."""
        raw = self._call(lambda: self.client.hgetall(RATIONALE_KEY))
        out = []
        for code, value in raw.items():
            try:
                out.append(_decode(value))
            except msgspec.DecodeError as err:
                log.warning("alarm rationalisation edit of %s unreadable (%s); skipped", text(code)[:80], err)
        return out

    def save_rationale(self, record: dict) -> None:
        """Keep an engineer's edit of one record."""
        self._call(lambda: self.client.hset(RATIONALE_KEY, record["code"], _encode(record)))

    def drop_rationale(self, code: str) -> bool:
        """Forget an engineer's edit (the shipped record, or the default, applies again)."""
        return bool(self._call(lambda: self.client.hdel(RATIONALE_KEY, code)))

    # --- reading the journal ---------------------------------------------------------------

    def journal(self, *, since: float | None = None, until: float | None = None, alarm: str = "", who: str = "",
                action: str = "", limit: int = 1000, scan_max: int = 200_000) -> list[JournalEntry]:
        """Entries newest first, filtered (alarm and who exact, action a prefix)."""
        out: list[JournalEntry] = []
        for e in self._scan(since, until, scan_max):
            if (alarm and e.alarm != alarm) or (who and e.who != who) or (action and not e.action.startswith(action)):
                continue
            out.append(e)
            if len(out) >= limit:
                break
        return out

    def journal_since(self, since: float) -> list[JournalEntry]:
        """Every entry from `since` on, oldest first (to rebuild the KPI counters)."""
        out: list[JournalEntry] = []
        low = stream_id(max(0.0, since), end=False)
        while True:
            batch = self._call(lambda: self.client.xrange(JOURNAL_KEY, min=low, max="+", count=SCAN_BATCH))
            out.extend(_entry(raw) for _id, raw in batch)
            if len(batch) < SCAN_BATCH:
                return out
            low = "(" + text(batch[-1][0])

    def history(self, alarm_id: str, limit: int = HISTORY_LEN) -> list[dict]:
        """An alarm's recent history, oldest first (kept after the alarm returned to normal)."""
        raw = self._call(lambda: self.client.lrange(HISTORY_PREFIX + alarm_id, 0, limit - 1))
        return [_decode(h) for h in reversed(raw)]

    def _scan(self, since: float | None, until: float | None, scan_max: int) -> Iterator[JournalEntry]:
        def fetch(high: str, low: str, count: int) -> list:
            return self._call(lambda: self.client.xrevrange(JOURNAL_KEY, max=high, min=low, count=count))

        for _id, raw in newest_first(fetch, since, until, batch=SCAN_BATCH, scan_max=scan_max):
            yield _entry(raw)

    def _call(self, fn):
        try:
            return fn()
        except ERRORS as err:
            raise BusUnavailable(f"alarm store unreachable: {err}") from err

    # --- writing (engine thread hands over, writer thread writes) ----------------------------

    def attach(self, engine) -> "AlarmStore":
        """Follow an engine's alarm changes and start writing them."""
        self._core = engine.core
        engine.subscribe(self.on_events)
        return self.start()

    def on_events(self, events: list[Event]) -> None:
        """Take the changed alarms and the new journal entries (on the engine thread)."""
        if self._core is None:
            return
        book = self._core.alarms
        entries = book.take_journal()
        ids = {aid for ev in events if type(ev) is AlarmsChanged for aid in ev.alarm_ids}
        if not ids and not entries:
            return
        records: dict[str, bytes | None] = {}
        for aid in ids:
            a = book.get(aid)
            if a is None:
                records[aid] = None
            else:
                records[aid] = _encode(a.to_record(history=False))
        with self._cv:
            self._records.update(records)
            self._other.extend(entries)
            if len(self._other) > PENDING_MAX:
                self.dropped += len(self._other) - PENDING_MAX
                del self._other[: len(self._other) - PENDING_MAX]
            self._cv.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending (if Redis answers), then stop."""
        super().stop(timeout)
        self.client.close()

    def _fill(self, pipe: Any, records: dict[str, bytes | None], entries: list[JournalEntry]) -> None:
        put_hash(pipe, STATE_KEY, records)
        touched: set[str] = set()
        for e in entries:
            pipe.xadd(JOURNAL_KEY, {k: str(getattr(e, k)) for k in JOURNAL_FIELDS}, maxlen=JOURNAL_MAXLEN, approximate=True)
            pipe.lpush(HISTORY_PREFIX + e.alarm, _encode(e.to_dict()))
            touched.add(e.alarm)
        for aid in touched:
            pipe.ltrim(HISTORY_PREFIX + aid, 0, HISTORY_LEN - 1)
            pipe.expire(HISTORY_PREFIX + aid, HISTORY_TTL_S)


CSV_COLUMNS = ("when",) + JOURNAL_FIELDS


def journal_csv(entries: Iterable[JournalEntry]) -> str:
    """The entries as CSV (header row, ISO time in UTC, formulas neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        when = datetime.fromtimestamp(e.at, timezone.utc).isoformat(timespec="milliseconds")
        writer.writerow([when, f"{e.at:.3f}"] + [csv_cell(str(getattr(e, k))) for k in JOURNAL_FIELDS[1:]])
    return out.getvalue()
