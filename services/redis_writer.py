"""A RetryingWriter that writes its batches to Redis in one pipeline: the client, the failure count and the log.

The alarm store, the registry of supervisors and the work-order store each say what goes in the pipeline
(`_fill`); this class makes the writer thread's client on first use, drops it after a failure (the batch is kept and
retried by RetryingWriter), counts writes and failures, and logs the first failure and every hundredth.
"""
from __future__ import annotations

import logging
from typing import Any

from services.feed.bus import ERRORS, bounded_client
from services.threads import RetryingWriter

log = logging.getLogger(__name__)


def put_hash(pipe: Any, key: str, records: dict[str, bytes | None]) -> None:
    """Write records into the hash `key`: a record of None is deleted."""
    gone = [k for k, raw in records.items() if raw is None]
    kept = {k: raw for k, raw in records.items() if raw is not None}
    if gone:
        pipe.hdel(key, *gone)
    if kept:
        pipe.hset(key, mapping=kept)


class RedisBatchWriter(RetryingWriter):
    """Subclasses set `url`, `timeout_s` and `what` (words for the log), call `_init_batches`, implement `_fill`."""

    what = "records"

    def _init_batches(self, name: str, other: type = list) -> None:
        self.writes = 0
        self.failures = 0
        self._init_retrying(name, other)

    def _fill(self, pipe: Any, records: dict, other: Any) -> None:  # pragma: no cover - each store has its own
        raise NotImplementedError

    def _write(self, records: dict, other: Any) -> bool:
        if not records and not other:
            return True
        try:
            if self._writer is None:
                self._writer = bounded_client(self.url, self.timeout_s)
            pipe = self._writer.pipeline(transaction=False)
            self._fill(pipe, records, other)
            pipe.execute()
        except ERRORS as err:
            self.failures += 1
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("cannot write %s to Redis (%s); %d kept until it answers", self.what, err, len(records) + len(other))
            return False
        self.writes += 1
        return True
