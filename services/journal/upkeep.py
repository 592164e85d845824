"""The journal's background work: compress sealed segments, write their asset history, apply the retention.

Retention, from the newest record: segments older than `max_age_s` go, then the oldest ones while
the folder is over `max_bytes` (never the newest closed one); snapshots go with the segments they
replay into (but a full image stays while a partial one kept needs it), and are thinned to the full images
every `sparse_s` beyond the last `dense_s` (a seek further back replays a little more); definitions no
snapshot needs any more go last.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING

from services.journal import files as jf
from services.journal import history as jh
from services.journal.files import Segment

if TYPE_CHECKING:
    from services.journal.store import Journal

log = logging.getLogger(__name__)


class JournalUpkeep:
    """One thread per writing journal, fed the segments to seal."""

    def __init__(self, journal: "Journal") -> None:
        self.journal = journal
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._busy = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="vigie-journal", daemon=True)

    def start(self) -> None:
        """Run the thread."""
        self._thread.start()

    def seal(self, seg: Segment) -> None:
        """Queue a closed segment for compression and indexing."""
        with self._lock:
            self._busy += 1
        self._jobs.put(seg)

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        self.wait_idle()
        self._jobs.put(None)
        self._thread.join(10)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued segment is sealed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._busy == 0:
                    return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while (seg := self._jobs.get()) is not None:
            try:
                self._seal(seg)
                self.retain()
            except Exception:  # noqa: BLE001 - the worker never dies; the plain segment stays readable
                log.exception("journal: sealing %s failed", seg.path.name)
            finally:
                with self._lock:
                    self._busy -= 1

    def _seal(self, seg: Segment) -> None:
        j = self.journal
        name = f"{jf.ms(seg.start)}-{jf.ms(seg.end)}"
        closed = Segment(seg.start, seg.end, j.dir / f"seg-{name}.jsonl.zst")
        jf.compress_file(seg.path, closed.path)
        jh.write(j.dir / f"hist-{name}.zst", j._history_of(seg.start) or rebuild_history(seg))
        j._sealed(closed)
        seg.path.unlink(missing_ok=True)

    def retain(self, now: float | None = None) -> int:
        """Apply the retention; return how many segments were dropped."""
        j, c = self.journal, self.journal.config
        span = j.span()
        if span is None:
            return 0
        now = span[1] if now is None else now
        closed = [s for s in j.segments() if s.path.suffix == ".zst"]
        total = j.size()
        gone: list[Segment] = []
        for seg in closed[:-1]:  # never the newest closed segment
            if seg.end >= now - c.max_age_s and total <= c.max_bytes:
                break
            total -= seg.size
            gone.append(seg)
        for seg in gone:
            seg.path.unlink(missing_ok=True)
            (j.dir / f"hist-{jf.ms(seg.start)}-{jf.ms(seg.end)}.zst").unlink(missing_ok=True)
        j._forget(segments=gone)
        self._snapshots(now)
        return len(gone)

    def _snapshots(self, now: float) -> None:
        j, c = self.journal, self.journal.config
        segs = j.segments()
        first = segs[0].start if segs else float("inf")
        old = now - c.dense_s
        drop = {s.path for s in j.snapshots() if s.t < first or (s.t < old and (s.base is not None or s.t % c.sparse_s != 0))}
        needed_fulls = {s.base for s in j.snapshots() if s.path not in drop and s.base is not None}
        drop = [s for s in j.snapshots() if s.path in drop and s.t not in needed_fulls]
        for s in drop:
            s.path.unlink(missing_ok=True)
        j._forget(snapshots=drop)
        needed = {s.defs for s in j.snapshots()}
        for p in j.dir.glob("defs-*.json.zst"):
            if p.name[5:29] not in needed:
                p.unlink(missing_ok=True)


def rebuild_history(seg: Segment) -> jh.HistoryBuffer:
    """A segment's per-asset history read back from its messages (after a crash left it open)."""
    from services.contract import Codec, Rejection

    codec, buffer = Codec(), jh.HistoryBuffer()
    for rec in jf.records(seg, float("-inf"), float("inf")):
        if rec.k not in ("m", "r") or not rec.ch.startswith("sup.") or not rec.ch.endswith((".telemetry", ".state")):
            continue
        msg = codec.decode(rec.ch, rec.payload())
        if not isinstance(msg, Rejection):
            for aid, ts, values in jh.readings_of(msg):
                buffer.add(aid, ts, values)
    return buffer
