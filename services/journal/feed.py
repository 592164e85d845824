"""Feeding journal records to a core as the live engine fed the live one: same messages, same times.

The engine applies each message at its arrival time and ticks the core about once a second, after
the messages of the same turn; a `Feed` does the same from the journal, ticking on every whole
second of the journal's clock after what arrived at that instant. A snapshot taken at a tick
therefore holds every record up to its time, and a replay goes on with the records after it. The
recorder's shadow core and every replay session use it, so a session rebuilt from a snapshot plus
the journal's tail is the core the recorder had at that instant.
"""
from __future__ import annotations

import logging
from typing import Callable

from services.contract import Codec, Rejection
from services.contract.channels import ADAPTED_KINDS
from services.contract.messages import SupervisorMessage
from services.core import Hypervisor
from services.core.events import Event

from services.journal.files import Record

log = logging.getLogger(__name__)

TICK_S = 1.0
ADAPTED_SUFFIXES = tuple(f".{k}" for k in ADAPTED_KINDS)
Filter = Callable[[SupervisorMessage, float], "SupervisorMessage | None"]


def supervisor_message(codec: Codec, rec: Record) -> SupervisorMessage | None:
    """The typed supervisor message a record carries, or None (a command, an adapted kind, a refused message)."""
    if rec.k not in ("m", "r") or not rec.ch.startswith("sup.") or rec.ch.endswith(ADAPTED_SUFFIXES):
        return None
    msg = codec.decode(rec.ch, rec.payload())
    return None if isinstance(msg, Rejection) else msg


class Feed:
    """Applies records in order to one core, ticking it on every whole second it crosses."""

    def __init__(self, core: Hypervisor, *, codec: Codec | None = None,
                 on_tick: Callable[[float, list[Event]], None] | None = None) -> None:
        self.core = core
        self.codec = codec or Codec()
        self.on_tick = on_tick  # called after each tick with its events (the recorder takes its snapshots there)
        self.next_tick: float | None = None
        self.filter: Filter | None = None  # a replay session hides what its sandbox took over

    def start_at(self, t: float) -> None:
        """The core is as of `t` (a snapshot's time, ticked there): the next tick is the next whole second."""
        self.next_tick = float(int(t // TICK_S) + 1) * TICK_S

    def advance(self, t: float) -> list[Event]:
        """Tick at every whole second up to `t`, `t` included (what arrived at `t` is applied before, as in the engine)."""
        return self._tick(t, inclusive=True)

    def before(self, t: float) -> list[Event]:
        """Tick at every whole second before `t` (something is about to happen at `t`)."""
        return self._tick(t, inclusive=False)

    def _tick(self, t: float, inclusive: bool) -> list[Event]:
        events: list[Event] = []
        if self.next_tick is None:
            self.start_at(t - TICK_S)
        while self.next_tick < t or (inclusive and self.next_tick == t):
            at = self.next_tick
            ticked = self.core.tick(at)
            events.extend(ticked)
            self.next_tick = at + TICK_S
            if self.on_tick is not None:
                self.on_tick(at, ticked)
        return events

    def apply(self, rec: Record, msg: SupervisorMessage | None = None) -> list[Event]:
        """Apply one record at its time (the message already decoded when the caller has it), after the ticks before it."""
        events = self._tick(rec.t, inclusive=False)
        if rec.k in ("m", "r"):
            msg = msg if msg is not None else supervisor_message(self.codec, rec)
            if msg is not None and self.filter is not None:
                msg = self.filter(msg, rec.t)
            if msg is not None:
                try:  # a retained state's part was never published: it takes the retained path, without its number
                    events.extend(self.core.apply_retained(msg, rec.t, rec.t) if rec.k == "r" and msg.kind == "state"
                                  else self.core.handle(msg, rec.t))
                except Exception:  # noqa: BLE001 - as in the engine: one bad message never stops a replay
                    log.exception("core failed on a journaled %s message from %s", msg.kind, msg.supervisor)
        elif rec.k == "b":
            events.extend(self.core.bus_restored(rec.t) if rec.up else self.core.bus_lost(rec.t))
        return events
