"""The background loop thread the long-running services share (engine, recorder, NGSI relay)."""
from __future__ import annotations

import threading
from typing import Callable


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
