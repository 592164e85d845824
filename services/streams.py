"""Helpers for Vigie's append-only Redis Streams (the alarm journal, the audit trail) and their CSV exports."""
from __future__ import annotations

from typing import Callable, Iterator

StreamBatch = list[tuple[bytes | str, dict]]
# fetch(high, low, count): one XREVRANGE page, the caller's Redis errors already turned into its own
Fetch = Callable[[str, str, int], StreamBatch]

MAX_SEQ = "18446744073709551615"


def text(value: bytes | str) -> str:
    """Return a stream field or id as text (bad UTF-8 replaced)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def stream_id(ts: float, *, end: bool) -> str:
    """Return the stream id bounding epoch second `ts`: its first entry, or with `end` its last."""
    return f"{int(ts * 1000)}-{MAX_SEQ if end else '0'}"


def newest_first(fetch: Fetch, since: float | None, until: float | None, *, batch: int, scan_max: int) -> Iterator[tuple[str, dict]]:
    """Yield (id, fields) from `until` back to `since` (either open), page by page, reading at most `scan_max` entries."""
    high = stream_id(until, end=True) if until is not None else "+"
    low = stream_id(since, end=False) if since is not None else "-"
    read = 0
    while read < scan_max:
        page = fetch(high, low, batch)
        for raw_id, raw in page:
            yield text(raw_id), raw
        read += len(page)
        if len(page) < batch:
            return
        high = "(" + text(page[-1][0])


def csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ tab or CR becomes text; None is empty."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
