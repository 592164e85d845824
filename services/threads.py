"""The background loop thread the long-running services share (engine, recorder, NGSI relay)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable


class LoopThread:
    """One daemon thread running `target` until `stop()`; the target polls `stopping` between turns."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.target = target
        self.name = name
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self.target, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Ask the loop to end and wait for it, at most `timeout` seconds."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Is the thread running and not asked to stop?"""
        return self._thread is not None and self._thread.is_alive() and not self.stopping.is_set()


class QueuedWriter:
    """A writer thread fed under a condition: producers add work and `notify`; `_run` writes until `stop()`.

    Subclasses call `_init_writer(name)` in `__init__` and implement `_run`, which waits on `self._cv`
    while nothing is pending and `self._stop` is false, and writes what is pending before it returns.
    """

    _thread_name = "vigie-writer"

    def _init_writer(self, name: str) -> None:
        self._thread_name = name
        self._cv = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def _run(self) -> None:  # pragma: no cover - each writer has its own
        raise NotImplementedError

    def start(self):
        """Run the writer thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending, then stop."""
        with self._cv:
            self._stop = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout)


class RetryingWriter(QueuedWriter):
    """A QueuedWriter that writes batches to Redis and keeps a failed batch, retrying with capped back-off.

    Subclasses hold their pending work in two parts (a dict of records by id, and a second part: a list or a
    dict), call `_init_retrying(name)`, and implement `_write(records, other) -> bool`; what failed goes back
    in front of what arrived meanwhile (newer changes win). `flush()` waits until all is written.
    """

    def _init_retrying(self, name: str, other: type = list) -> None:
        self._init_writer(name)
        self._records: dict = {}
        self._other_type = other
        self._other = other()
        self._busy = False  # a batch is being written
        self._writer = None  # the writer thread's own Redis client, made on first write

    def _write(self, records: dict, other: Any) -> bool:  # pragma: no cover - each store has its own
        raise NotImplementedError

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed over is written (tests, shutdown)."""
        end = time.monotonic() + timeout
        with self._cv:
            while (self._records or self._other or self._busy) and time.monotonic() < end:
                self._cv.wait(0.02)
            return not (self._records or self._other or self._busy)

    def _run(self) -> None:
        backoff = 0.0
        while True:
            with self._cv:
                while not (self._records or self._other) and not self._stop:
                    self._cv.wait()
                if backoff and not self._stop:
                    self._cv.wait(backoff)
                records, other = self._records, self._other
                self._records, self._other, self._busy = {}, self._other_type(), True
                stopping = self._stop
            if self._write(records, other):
                backoff = 0.0
            else:
                with self._cv:  # keep them, newer changes first
                    self._records = {**records, **self._records}
                    self._other = ({**other, **self._other} if isinstance(other, dict) else other + self._other)
                backoff = min(10.0, max(0.5, backoff * 2))
            with self._cv:
                self._busy = False
                self._cv.notify_all()
            if stopping:
                break
        if self._writer is not None:
            self._writer.close()
