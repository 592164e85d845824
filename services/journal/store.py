"""The journal: every bus message and operator action with its arrival time, plus periodic snapshots.

Append-only segment files (JSON lines, zstd once closed) under `<state_dir>/journal/`, a snapshot of
the whole core every `snapshot_s`, per-asset history files, retention by age and size. One writer
(the recorder, services/journal/recorder.py); any thread reads: replay sessions, the asset page's
`asset_history`, exports. Format and measured sizes: docs/replay.md.
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import msgspec

from services.journal import files as jf
from services.journal import history as jh
from services.journal.image import complete, decode_defs, gc_paused
from services.journal.files import JournalError, Record, Segment
from services.journal.upkeep import JournalUpkeep

log = logging.getLogger(__name__)
__all__ = ["Journal", "JournalBusy", "JournalConfig", "JournalError", "Record", "Snapshot"]


class JournalBusy(JournalError):
    """Another process writes this journal (one writer per folder)."""
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """Where the journal lives, how it is cut, and how long it is kept."""

    directory: Path
    segment_s: float = 300.0  # one file per 5 minutes (aligned on the clock)
    segment_bytes: int = 256 * 1024 * 1024  # ... or sooner if it grows this big
    snapshot_s: float = 60.0  # a core snapshot this often: a seek replays at most this much
    full_s: float = 1800.0  # a full image this often; in between, the values changed since the last full one
    dense_s: float = 86400.0  # snapshots over the last day; older ones are thinned to the full images every `sparse_s`
    sparse_s: float = 1800.0
    max_age_s: float = 7 * 86400.0
    max_bytes: int = 20 * 1024**3

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "JournalConfig":
        """From Vigie's settings (`journal_*` fields when the settings have them, else the defaults above)."""
        values = {"directory": Path(getattr(settings, "journal_dir", None) or Path(settings.state_dir) / "journal")}
        for name in ("segment_s", "snapshot_s", "full_s", "dense_s", "sparse_s", "max_age_s", "max_bytes"):
            value = getattr(settings, f"journal_{name}", None)
            if value is not None:
                values[name] = value
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot in the index: its time, the definitions document it needs, its full image (None: it is one)."""

    t: float
    defs: str
    path: Path
    base: float | None = None


class Journal:
    """Writes and reads one journal folder (one writer thread, any number of readers).

    A process without the recorder opens it with `writer=False`: it only reads, and rescans the
    folder every few seconds to see what the writer added.
    """

    RESCAN_S = 2.0

    def __init__(self, config: JournalConfig, *, writer: bool = True) -> None:
        self.config = config
        self.writer = writer
        self.dir = config.directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lockfile = None
        if writer:
            self._lockfile = (self.dir / ".writer.lock").open("a")
            try:
                fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                self._lockfile.close()
                raise JournalBusy(f"another process records into {self.dir}") from err
        self.lines = self.bytes_written = 0
        self._lock = threading.RLock()
        self._segments: list[Segment] = []  # closed or sealed (being compressed), by start
        self._open: Segment | None = None
        self._fh: BinaryIO | None = None
        self._window = -1  # the open segment's clock window
        self._buffer = jh.HistoryBuffer()
        self._pending: dict[float, jh.HistoryBuffer] = {}  # sealed segment start -> history not yet written
        self._snaps: list[Snapshot] = []
        self._defs_cache: dict[str, Any] = {}
        self._full_cache: tuple[float, dict] | None = None
        self._scanned = time.monotonic()
        self._upkeep = JournalUpkeep(self) if writer else None
        self._scan()
        if self._upkeep is not None:
            self._upkeep.start()

    # --- the index --------------------------------------------------------------------------

    def _scan(self) -> None:
        """Rebuild the index from the file names; seal segments a crash left open (the writer only)."""
        self._segments, self._snaps = [], []
        for p in sorted(self.dir.iterdir()):
            if m := jf.CLOSED_RE.match(p.name):
                self._segments.append(Segment(int(m[1]) / 1000, int(m[2]) / 1000, p))
            elif m := jf.OPEN_RE.match(p.name):
                start, end = int(m[1]) / 1000, jf.last_time(p)
                if end is None:
                    if self.writer:
                        p.unlink(missing_ok=True)
                    continue
                seg = Segment(start, end, p)
                if self._upkeep is not None:
                    self._segments.append(seg)
                    self._upkeep.seal(seg)
                elif not any(s.start == start for s in self._segments):  # not compressed yet
                    self._segments.append(seg)
            elif m := jf.SNAP_RE.match(p.name):
                self._snaps.append(Snapshot(int(m[1]) / 1000, m[2], p, int(m[3]) / 1000 if m[3] else None))
            elif p.name.endswith(".tmp") and self.writer:
                p.unlink(missing_ok=True)
        self._segments.sort(key=lambda s: s.start)
        self._snaps.sort(key=lambda s: s.t)

    def _refresh(self) -> None:
        if not self.writer and time.monotonic() - self._scanned > self.RESCAN_S:
            with self._lock:
                self._scan()
                self._scanned = time.monotonic()

    def segments(self) -> list[Segment]:
        """Every segment, oldest first (the open one last)."""
        self._refresh()
        with self._lock:
            return self._segments + ([self._open] if self._open is not None else [])

    def span(self) -> tuple[float, float] | None:
        """The first and last record times held, or None when empty."""
        segs = self.segments()
        return (segs[0].start, segs[-1].end) if segs else None

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, oldest first."""
        self._refresh()
        with self._lock:
            return list(self._snaps)

    def snapshot_before(self, t: float) -> Snapshot | None:
        """The latest snapshot taken at or before `t` (whose full image is still there)."""
        snaps = self.snapshots()
        fulls = {s.t for s in snaps if s.base is None}
        best = None
        for s in snaps:
            if s.t > t:
                break
            if s.base is None or s.base in fulls:
                best = s
        return best

    # --- writing (the recorder's thread) ------------------------------------------------------

    def append(self, t: float, line: bytes, readings: Any = ()) -> None:
        """Append one record line at time `t` (with the readings it carries, for the asset history)."""
        window = int(t // self.config.segment_s)
        if self._open is not None and (window != self._window or self._open_size() >= self.config.segment_bytes):
            self.rotate()
        if self._open is None:
            path = self.dir / f"seg-{jf.ms(t)}.jsonl"
            try:
                self._fh = path.open("ab", buffering=1 << 20)
            except OSError as err:
                raise JournalError(f"cannot open {path}: {err}") from err
            with self._lock:
                self._open = Segment(t, t, path, open=True)
            self._window = window
        try:
            self._fh.write(line)
        except OSError as err:
            raise JournalError(f"cannot write the journal: {err}") from err
        self.lines += 1
        self.bytes_written += len(line)
        for aid, ts, values in readings:
            self._buffer.add(aid, ts, values)
        with self._lock:
            self._open = Segment(self._open.start, max(self._open.end, t), self._open.path, open=True)

    def message(self, t: float, channel: str, payload: bytes, valid_json: bool, readings: Any = (), *,
                retained: bool = False) -> None:
        """Journal a bus message (`retained`: a part of a supervisor's retained state, read from Redis)."""
        self.append(t, jf.message_line(t, channel, payload, valid_json, "r" if retained else "m"), readings)

    def action(self, t: float, source: str, action: dict) -> None:
        """Journal an operator action."""
        self.append(t, jf.action_line(t, source, action))

    def bus(self, t: float, up: bool, why: str = "") -> None:
        """Journal that the recorder lost or found the bus again."""
        self.append(t, jf.bus_line(t, up, why))

    def _open_size(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    def flush(self) -> None:
        """Make what was appended visible to readers."""
        if self._fh is not None:
            self._fh.flush()

    def rotate(self) -> None:
        """Close the open segment; it is compressed and its history written in the background."""
        if self._open is None:
            return
        self._fh.close()
        self._fh = None
        with self._lock:
            sealed = Segment(self._open.start, self._open.end, self._open.path)
            self._segments.append(sealed)
            self._pending[sealed.start] = self._buffer
            self._open = None
        self._buffer = jh.HistoryBuffer()
        self._upkeep.seal(sealed)

    def write_snapshot(self, t: float, image: dict, defs_id: str, defs_raw: bytes | None, base: float | None = None) -> Snapshot:
        """Store a core image (and its definitions document if new); `base`: the full image a partial one completes."""
        defs_path = self.dir / f"defs-{defs_id}.json.zst"
        if not defs_path.exists():
            if defs_raw is None:
                raise JournalError(f"definitions {defs_id} are not stored yet")
            jf.write_compressed(defs_path, defs_raw)
        suffix = f"-b{jf.ms(base)}" if base is not None else ""
        snap = Snapshot(t, defs_id, self.dir / f"snap-{jf.ms(t)}-{defs_id}{suffix}.json.zst", base)
        jf.write_compressed(snap.path, _encode(image))
        with self._lock:
            self._snaps.append(snap)
        return snap

    def has_defs(self, defs_id: str) -> bool:
        """Is this definitions document stored?"""
        return (self.dir / f"defs-{defs_id}.json.zst").exists()

    # --- reading (any thread) -----------------------------------------------------------------

    def records(self, since: float, until: float) -> Iterator[Record]:
        """Every record with since <= t <= until, in order."""
        for seg in self.segments():
            if seg.end + 0.001 < since or seg.start - 0.001 > until:
                continue
            try:
                yield from jf.records(seg, since, until)
            except JournalError:
                if seg.path.exists() or not self._compressed_twin(seg):
                    raise
                yield from jf.records(self._compressed_twin(seg), since, until)  # compressed while we read

    def _compressed_twin(self, seg: Segment) -> Segment | None:
        with self._lock:
            known = next((s for s in self._segments if s.start == seg.start and s.path != seg.path), None)
        if known is not None:
            return known
        # a reader's index does not follow the writer's compression: look for the sealed file on disk
        for path in sorted(self.dir.glob(f"seg-{jf.ms(seg.start)}-*.jsonl.zst")):
            return Segment(seg.start, seg.end, path)
        return None

    def load_snapshot(self, snap: Snapshot) -> tuple[dict, Any]:
        """A snapshot's whole image (a partial one completed by its full image) and its definitions (both kept decoded)."""
        with gc_paused():
            image = msgspec.json.decode(jf.read_compressed(snap.path))
            if snap.base is not None:
                image = complete(image, self._full_image(snap.base, snap.defs))
        defs = self._defs_cache.get(snap.defs)
        if defs is None:
            defs = decode_defs(jf.read_compressed(self.dir / f"defs-{snap.defs}.json.zst"))
            self._defs_cache = {snap.defs: defs}
        return image, defs

    def _full_image(self, base: float, defs: str) -> dict:
        """A full image's values (by domain and asset) and alarms (by id); the last one read is kept: partial ones follow it."""
        cached = self._full_cache
        if cached is not None and cached[0] == base:
            return cached[1]
        full = msgspec.json.decode(jf.read_compressed(self.dir / f"snap-{jf.ms(base)}-{defs}.json.zst"))
        by_id = {"values": {d: {row[0]: row for row in rows} for d, rows in full["values"].items()},
                 "alarms": {a["id"]: a for a in full["alarms"]}}
        self._full_cache = (base, by_id)
        return by_id

    def asset_history(self, asset_id: str, since: float, until: float) -> list[tuple[float, dict]]:
        """One asset's readings between two times (reading times), oldest first."""
        out: list[tuple[float, dict]] = []
        with self._lock:
            segs = list(self._segments)
            pending = dict(self._pending)
            current = self._buffer
        for seg in segs:
            buffer = pending.get(seg.start)
            if buffer is not None:
                out.extend(buffer.query(asset_id, since, until))
                continue
            hist = self.dir / f"hist-{jf.ms(seg.start)}-{jf.ms(seg.end)}.zst"
            if hist.exists():
                out.extend(jh.read(hist, asset_id, since, until))
        out.extend(current.query(asset_id, since, until))
        out.sort(key=lambda p: p[0])
        return out

    def size(self) -> int:
        """Bytes the journal takes on disk."""
        return sum(p.stat().st_size for p in self.dir.iterdir() if p.is_file())

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every sealed segment is compressed and indexed (tests, benchmarks, shutdown)."""
        return self._upkeep.wait_idle(timeout) if self._upkeep is not None else True

    def retain(self, now: float | None = None) -> int:
        """Apply the retention now (it also runs after each segment is sealed); return the segments dropped."""
        return self._upkeep.retain(now) if self._upkeep is not None else 0

    def close(self) -> None:
        """Seal the open segment, finish the background work, stop."""
        if self._upkeep is None:
            return
        self.rotate()
        self._upkeep.stop()
        if self._lockfile is not None:
            self._lockfile.close()  # lets the lock go

    # --- for the upkeep (services/journal/upkeep.py) ------------------------------------------

    def _sealed(self, closed: Segment) -> None:
        """A segment is compressed and indexed: read it from its compressed file from now on."""
        with self._lock:
            self._segments = [closed if s.start == closed.start else s for s in self._segments]
            self._pending.pop(closed.start, None)

    def _forget(self, segments: list[Segment] = (), snapshots: list[Snapshot] = ()) -> None:
        """Take dropped segments and snapshots out of the index."""
        gone_segs, gone_snaps = {s.start for s in segments}, {s.path for s in snapshots}
        with self._lock:
            self._segments = [s for s in self._segments if s.start not in gone_segs]
            self._snaps = [s for s in self._snaps if s.path not in gone_snaps]

    def _history_of(self, start: float) -> jh.HistoryBuffer | None:
        with self._lock:
            return self._pending.get(start)

