"""The journal's files: record lines, segment names (the index), the open segment, compression, reading back.

A record is one JSON line (format: docs/replay.md):
    {"t": <arrival, epoch s>, "k": "m", "ch": "sup.lighting.lum-mtp.telemetry", "p": <the payload as sent>}
    {"t": ..., "k": "m", "ch": "...", "pb": "<base64>"}     a payload that is not JSON, kept as bytes
    {"t": ..., "k": "a", "src": "alarms", "a": {...}}        an operator action
    {"t": ..., "k": "b", "up": false, "why": "..."}         the recorder lost (or found again) the bus
Segments are `seg-<start ms>.jsonl` while written, then `seg-<start ms>-<end ms>.jsonl.zst`; snapshots
`snap-<t ms>-<defs id>.json.zst` (a full image) or `snap-<t ms>-<defs id>-b<base ms>.json.zst` (the values
changed since the full image `base`, and everything else), definitions `defs-<id>.json.zst`, per-asset history
`hist-<start ms>-<end ms>.zst`. The names carry the times, so listing the folder rebuilds the index.
"""
from __future__ import annotations

import base64
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import msgspec
import zstandard

OPEN_RE = re.compile(r"^seg-(\d{13})\.jsonl$")
CLOSED_RE = re.compile(r"^seg-(\d{13})-(\d{13})\.jsonl\.zst$")
SNAP_RE = re.compile(r"^snap-(\d{13})-([0-9a-f]{24})(?:-b(\d{13}))?\.json\.zst$")
HIST_RE = re.compile(r"^hist-(\d{13})-(\d{13})\.zst$")
LEVEL = 3  # zstd level: ~5x smaller at hundreds of MB/s


class JournalError(RuntimeError):
    """The journal cannot be read or written (disk, damaged file)."""


class Record(msgspec.Struct, omit_defaults=True):
    """One journal line."""

    t: float
    k: str  # m: bus message, r: a part of a supervisor's retained state (contract v2), a: operator action, b: bus lost / restored
    ch: str = ""
    p: msgspec.Raw = msgspec.Raw()
    pb: str = ""
    src: str = ""
    a: dict = {}
    up: bool = True
    why: str = ""

    def payload(self) -> bytes:
        """The message's payload bytes, as they crossed the bus."""
        return base64.b64decode(self.pb) if self.pb else bytes(self.p)


_decoder = msgspec.json.Decoder(Record)
_encode = msgspec.json.Encoder().encode


def ms(t: float) -> str:
    """A time as the 13-digit milliseconds used in file names."""
    return f"{round(t * 1000):013d}"


def message_line(t: float, channel: str, payload: bytes, valid_json: bool, kind: str = "m") -> bytes:
    """A message record (kind "m"; "r" for a part of a retained state read from Redis, never heard on the bus);
    a payload known to be JSON is embedded as it is, anything else as base64."""
    head = b'{"t":' + repr(round(t, 6)).encode() + b',"k":"' + kind.encode() + b'","ch":' + _encode(channel)
    if valid_json:
        return head + b',"p":' + payload + b"}\n"
    return head + b',"pb":"' + base64.b64encode(payload) + b'"}\n'


def action_line(t: float, source: str, action: dict) -> bytes:
    """An operator action record."""
    return _encode({"t": round(t, 6), "k": "a", "src": source, "a": action}) + b"\n"


def bus_line(t: float, up: bool, why: str) -> bytes:
    """A bus lost / restored record."""
    return _encode({"t": round(t, 6), "k": "b", "up": up, "why": why[:300]}) + b"\n"


def is_json(payload: bytes) -> bool:
    """Is this payload one JSON document (safe to embed in a line)?"""
    try:
        msgspec.json.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return False
    return True


def decode_line(line: bytes) -> Record | None:
    """A record, or None for a damaged line (a crash can cut the last one)."""
    try:
        return _decoder.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment file of the index: its time span and where it is."""

    start: float
    end: float  # the last record's time (for the open segment: as far as written)
    path: Path
    open: bool = False

    @property
    def size(self) -> int:
        """Bytes on disk (0 if it went away meanwhile)."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def lines(path: Path) -> Iterator[bytes]:
    """The complete lines of a segment, compressed or not (a partial last line is left out)."""
    try:
        fh = path.open("rb")
    except OSError as err:
        raise JournalError(f"cannot read {path.name}: {err}") from err
    with fh:
        stream: io.BufferedIOBase = fh
        if path.suffix == ".zst":
            stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh), buffer_size=1 << 20)
        try:
            for line in stream:
                if line.endswith(b"\n"):
                    yield line
        except zstandard.ZstdError as err:
            raise JournalError(f"{path.name} is damaged: {err}") from err


def records(segment: Segment, since: float, until: float) -> Iterator[Record]:
    """The records of one segment with since <= t <= until, in order."""
    for line in lines(segment.path):
        rec = decode_line(line)
        if rec is None or rec.t < since:
            continue
        if rec.t > until:
            return
        yield rec


def compress_file(src: Path, dst: Path) -> int:
    """Compress `src` into `dst` (written aside, then renamed); return the compressed size."""
    tmp = dst.with_name(dst.name + ".tmp")
    with src.open("rb") as ifh, tmp.open("wb") as ofh:
        zstandard.ZstdCompressor(level=LEVEL).copy_stream(ifh, ofh)
        ofh.flush()
        os.fsync(ofh.fileno())
    tmp.replace(dst)
    return dst.stat().st_size


def write_compressed(path: Path, data: bytes) -> int:
    """Write a small document compressed (written aside, then renamed); return its size."""
    tmp = path.with_name(path.name + ".tmp")
    blob = zstandard.ZstdCompressor(level=LEVEL).compress(data)
    tmp.write_bytes(blob)
    tmp.replace(path)
    return len(blob)


def read_compressed(path: Path) -> bytes:
    """Read a document written by `write_compressed`."""
    try:
        return zstandard.ZstdDecompressor().decompress(path.read_bytes())
    except (OSError, zstandard.ZstdError) as err:
        raise JournalError(f"cannot read {path.name}: {err}") from err


def last_time(path: Path) -> float | None:
    """The time of the last complete record of an open segment (after a crash), or None if empty."""
    last = None
    for line in lines(path):
        rec = decode_line(line)
        if rec is not None:
            last = rec.t
    return last
