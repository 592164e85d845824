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
