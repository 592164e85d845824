"""Per-asset history from the journal: what the level-3 asset page charts.

Reading a day of segments for one asset would decompress everything; instead each closed
segment gets a companion `hist-<start>-<end>.zst`: its readings grouped by asset, the assets
spread over BUCKETS independently compressed blocks, a JSON footer giving each block's place and
the span of reading times. A query reads one small block per segment. The open segment's readings
are held in memory (`HistoryBuffer`) until it closes.
"""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any, Iterable

import msgspec
import zstandard

from services.journal.files import JournalError

BUCKETS = 64
FOOTER = struct.Struct("<Q")  # the footer's length, the file's last 8 bytes
Point = tuple[float, dict[str, Any]]  # (reading time, values)
_encode = msgspec.json.Encoder().encode


def bucket_of(asset_id: str) -> int:
    """The block an asset's readings live in (stable across processes)."""
    return zlib.crc32(asset_id.encode()) % BUCKETS


class HistoryBuffer:
    """The open segment's readings by asset, in arrival order."""

    def __init__(self) -> None:
        self.by_asset: dict[str, list[Point]] = {}
        self.count = 0

    def add(self, asset_id: str, ts: float, values: dict[str, Any]) -> None:
        """Keep one reading."""
        self.by_asset.setdefault(asset_id, []).append((ts, values))
        self.count += 1

    def query(self, asset_id: str, since: float, until: float) -> list[Point]:
        """This asset's readings with since <= ts <= until."""
        return [p for p in self.by_asset.get(asset_id, ()) if since <= p[0] <= until]


def write(path: Path, buffer: HistoryBuffer) -> int:
    """Write a closed segment's history file; return its size."""
    blocks: list[dict[str, list]] = [{} for _ in range(BUCKETS)]
    tmin, tmax = float("inf"), float("-inf")
    for aid, points in buffer.by_asset.items():
        blocks[bucket_of(aid)][aid] = points
        tmin = min(tmin, min(p[0] for p in points))
        tmax = max(tmax, max(p[0] for p in points))
    cctx = zstandard.ZstdCompressor(level=3)
    index: dict[str, list[int]] = {}
    body = bytearray()
    for n, block in enumerate(blocks):
        if block:
            blob = cctx.compress(_encode(block))
            index[str(n)] = [len(body), len(blob)]
            body += blob
    footer = json.dumps({"v": 1, "tmin": tmin if buffer.count else None, "tmax": tmax if buffer.count else None,
                         "readings": buffer.count, "buckets": index}).encode()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(bytes(body) + footer + FOOTER.pack(len(footer)))
    tmp.replace(path)
    return len(body) + len(footer) + FOOTER.size


def read(path: Path, asset_id: str, since: float, until: float) -> list[Point]:
    """One asset's readings from a history file, since <= ts <= until."""
    try:
        with path.open("rb") as fh:
            fh.seek(-FOOTER.size, 2)
            (n,) = FOOTER.unpack(fh.read(FOOTER.size))
            fh.seek(-FOOTER.size - n, 2)
            footer = json.loads(fh.read(n))
            if footer["tmin"] is None or footer["tmax"] < since or footer["tmin"] > until:
                return []
            place = footer["buckets"].get(str(bucket_of(asset_id)))
            if place is None:
                return []
            fh.seek(place[0])
            block = msgspec.json.decode(zstandard.ZstdDecompressor().decompress(fh.read(place[1])))
    except (OSError, ValueError, KeyError, struct.error, zstandard.ZstdError, msgspec.DecodeError) as err:
        raise JournalError(f"history file {path.name} unreadable: {err}") from err
    return [(p[0], p[1]) for p in block.get(asset_id, ()) if since <= p[0] <= until]


def readings_of(message: Any) -> Iterable[tuple[str, float, dict[str, Any]]]:
    """(asset, time, values) of each reading of a typed telemetry or state message (values without None)."""
    ts = message.ts.timestamp()
    for r in message.readings:
        values = {f: v for f in r.__struct_fields__ if f != "asset" and (v := getattr(r, f)) is not None}
        if values:
            yield r.asset, ts, msgspec.to_builtins(values)
