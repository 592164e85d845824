"""A replay session: its own core fed from the journal at its own clock, isolated from live and from other sessions.

The session's core starts from the journal's nearest snapshot and the records after it; playing
feeds it the following records as its clock advances (1x to 60x), ticking it on every second as
the engine did. Acknowledgements, shelving and commands act on this copy only: alarm actions run
through `AlarmActions`, commands through a `CommandService` whose publisher is the session's
sandbox (services/replay/sandbox.py), never Redis. Injected events (by hand or from a scenario)
are the sandbox's too. Seeking rebuilds the world from the recording at that instant, then
re-applies the exercise's alarm actions and events up to it (commands are not sent again).
"""
from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum
from typing import Any, Callable, Iterator

from services.alarms.actions import ACTIONS, AlarmActions
from services.commands.service import Actor, CommandRequest, CommandService
from services.core import CoreConfig, Hypervisor
from services.core.events import AlarmsChanged, AssetsChanged, AssetsRemoved, Event, KpisChanged, SupervisorChanged
from services.feed.reader import LocalReader

from services.journal import image as core_image
from services.journal.store import Journal, Record
from services.journal.feed import Feed
from services.replay.debrief import AlarmWatch
from services.replay.engine import MemoryCommandStore, SessionEngine, handle_unsequenced
from services.replay.sandbox import Sandbox
from services.replay.scenario import Scenario, ScenarioError, ScenarioEvent

log = logging.getLogger(__name__)
DOMAINS = ("lighting", "water", "traffic")
MIN_SPEED, MAX_SPEED = 1.0, 60.0
BUDGET = 5000  # records applied per turn of the clock before the lock is let go


class Playback(StrEnum):
    """Where a session's clock is."""

    PAUSED = "paused"
    PLAYING = "playing"
    ENDED = "ended"


class ReplayError(ValueError):
    """A request a session refuses (a time outside its period, a speed out of range); the text says why."""


class ReplaySession:
    """One exercise over a recorded period."""

    def __init__(self, journal: Journal, *, id: str, name: str, start: float, end: float, trainer: str,
                 config: CoreConfig | None = None, seed: int = 42, territory: str = "montpellier", timezone: str = "Europe/Paris",
                 speed: float = 1.0, scenario: Scenario | None = None, scenario_file: str | None = None,
                 names: dict[str, str] | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        if end <= start:
            raise ReplayError("the period must end after it starts")
        self.journal = journal
        self.id, self.name, self.trainer = id, name, trainer
        self.start, self.end = start, end
        self.config = config or CoreConfig()
        self.seed, self.territory, self.timezone = seed, territory, timezone
        self.scenario, self.scenario_file = scenario, scenario_file
        self.monotonic = monotonic
        self.created_at = time.time()
        self.position = start
        self.speed = self._speed(speed)
        self.state = Playback.PAUSED
        self.stop_at: float | None = None
        self.trainees: dict[str, float] = {}  # who joined -> when (wall clock)
        self.log: list[dict[str, Any]] = []  # what people did in the exercise, on its clock
        self.injections: list[dict[str, Any]] = [
            {"id": f"s{n}", "at": start + ev.at, "event": ev, "source": "scenario", "fired": False, "result": "", "error": ""}
            for n, ev in enumerate(scenario.events if scenario else ())]
        self.watch = AlarmWatch(start)
        self.engine = SessionEngine(Hypervisor(self.config), clock=lambda: self.position)
        self.reader = LocalReader(self.engine)
        self.sandbox = self._new_sandbox(start)
        self.alarm_actions = AlarmActions(self.engine)
        self.command_log = MemoryCommandStore()
        self.commands = CommandService(self.engine, self.sandbox, self.command_log, None, names=names,
                                       clock=lambda: self.position).start()
        self._control = threading.Lock()
        self._base = (start, monotonic())
        self._feed: Feed | None = None
        self._records: Iterator[Record] = iter(())
        self._peek: Record | None = None
        self.seek(start)
        with self.engine.lock:
            self.watch.waiting_at_start(self.engine.core)

    # --- the clock ------------------------------------------------------------------------------

    @staticmethod
    def _speed(speed: float) -> float:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ReplayError(f"speed goes from {MIN_SPEED:g}x to {MAX_SPEED:g}x")
        return float(speed)

    def play(self, until: float | None = None) -> None:
        """Run the clock (up to `until` when given, then pause there)."""
        with self._control:
            if self.position >= self.end:
                raise ReplayError("the period is over: seek back to play again")
            self.stop_at = None if until is None else min(max(until, self.position), self.end)
            self._base, self.state = (self.position, self.monotonic()), Playback.PLAYING

    def pause(self) -> None:
        """Stop the clock where it is."""
        with self._control:
            if self.state is Playback.PLAYING:
                self.state = Playback.PAUSED

    def set_speed(self, speed: float) -> None:
        """Change the speed (1x to 60x) without a jump."""
        with self._control:
            self.speed = self._speed(speed)
            self._base = (self.position, self.monotonic())

    def pump(self) -> None:
        """Move the world to where the clock is now (the driver calls this a few times a second)."""
        with self._control:
            playing = self.state is Playback.PLAYING
            base_pos, base_wall = self._base
            target = min(self.end, self.stop_at or self.end, base_pos + (self.monotonic() - base_wall) * self.speed)
        reached = self.advance_to(target) if playing else self.advance_to(self.position)
        if playing and reached >= min(self.end, self.stop_at or self.end):
            with self._control:
                self.state = Playback.ENDED if reached >= self.end else Playback.PAUSED
                self.stop_at = None

    def advance_to(self, t: float, budget: int | None = BUDGET) -> float:
        """Apply the journal up to `t` (at most `budget` records this turn); return the time reached."""
        events: list[Event] = []
        with self.engine.lock:
            n, reached = 0, t
            while self._peek is not None and self._peek.t <= t:
                if budget is not None and n >= budget:
                    reached = self._peek.t
                    break
                rec, self._peek = self._peek, next(self._records, None)
                events += self._sandbox_until(rec.t)
                events += self._feed.apply(rec)
                n += 1
            reached = max(self.position, min(reached, t))
            events += self._sandbox_until(reached)
            events += self._feed.advance(reached)
            self.position = reached
            self.watch.note(self.engine.core.alarms.take_journal(), self.engine.core)
        self.engine.deliver(events)
        return reached

    def _sandbox_until(self, t: float) -> list[Event]:
        events: list[Event] = []
        for inj in self.injections:
            if not inj["fired"] and inj["at"] <= t:
                events += self._sandbox_apply(inj["at"])
                self._fire(inj, 0.0)
        return events + self._sandbox_apply(t)

    def _sandbox_apply(self, t: float) -> list[Event]:
        events: list[Event] = []
        for at, msg in self.sandbox.take(t):
            events += self._feed.before(at)
            events += handle_unsequenced(self.engine.core, msg, max(at, self.position))
        return events

    # --- seeking ------------------------------------------------------------------------------

    def seek(self, t: float, who: str | None = None) -> float:
        """Put the world as it was at `t` (nearest snapshot + journal tail); return the seconds it took."""
        if not self.start <= t <= self.end:
            raise ReplayError("seek within the session's period")
        t0 = time.perf_counter()
        snap = self.journal.snapshot_before(t)
        if self._feed is not None and self.position <= t and (snap is None or snap.t <= self.position):
            self.advance_to(t, budget=None)  # forward, and no snapshot nearer than where we are
        else:
            self._rebuild(t, snap)
        with self._control:
            self._base = (self.position, self.monotonic())
            if self.state is Playback.ENDED and t < self.end:
                self.state = Playback.PAUSED
        if who is not None:
            self._note(who, "seek", {"to": t})
        return time.perf_counter() - t0

    def _rebuild(self, t: float, snap: Any) -> None:
        if snap is not None:
            image, defs = self.journal.load_snapshot(snap)
            core, since = core_image.restore(image, defs, self.config), snap.t
        else:
            span = self.journal.span()
            core, since = Hypervisor(self.config), (span[0] if span else t)
        with self.engine.lock:
            old = self.engine.core
            self.engine.core = core
            self.sandbox = self._new_sandbox(since)
            self.commands.publisher = self.sandbox
            self._feed = Feed(core)
            self._feed.filter = self.sandbox.filter
            if snap is not None:
                self._feed.start_at(since)
            records = self.journal.records(since, self.end)  # a snapshot holds what arrived at its own time
            self._records = (r for r in records if r.t > since) if snap is not None else iter(records)
            self._peek = next(self._records, None)
            self.position = since
            for inj in self.injections:  # every event again: those already under way now, the others in their time
                inj["fired"] = False
                if inj["at"] < since:
                    self._fire(inj, since - inj["at"])
            self.advance_to(t, budget=None)
            self.watch.waiting_at_start(core)  # what came up between the snapshot and the last position is waiting too
            self._replay_exercise(t)
            core.alarms.take_journal()
            events = changed_everything(old, core)
        self.engine.deliver(events)

    def _replay_exercise(self, t: float) -> None:
        """After a rebuild: the exercise's alarm actions up to `t` act again on the new copy (at their times)."""
        core = self.engine.core
        for entry in self.log:
            if entry["kind"] == "alarm" and entry["t"] <= t:
                spec = ACTIONS[entry["action"]]
                for aid in entry["ids"]:
                    spec.apply(core.alarms, aid, entry["who"], entry["t"], entry["params"])

    def _new_sandbox(self, now: float) -> Sandbox:
        return Sandbox(seed=self.seed, territory=self.territory, timezone=self.timezone, now=now, core_of=lambda: self.engine.core)

    # --- what people do in the exercise ---------------------------------------------------------

    def inject(self, ev: ScenarioEvent, who: str) -> dict[str, Any]:
        """Start an event now, by hand; returns the injection (with what was done, or why not)."""
        inj = {"id": f"h{len(self.injections)}", "at": self.position, "event": ev, "source": "trainer", "fired": False,
               "result": "", "error": "", "by": who}
        with self.engine.lock:
            self.injections.append(inj)
            self._fire(inj, 0.0)
        self._note(who, "inject", {"event": ev.event, "target": ev.target, "result": inj["result"], "error": inj["error"]})
        return public_injection(inj)

    def _fire(self, inj: dict[str, Any], elapsed: float) -> None:
        inj["fired"] = True
        try:
            done = self.sandbox.inject(inj["event"], elapsed)
        except ScenarioError as err:
            inj["error"] = str(err)
            log.info("replay %s: %s", self.id, err)
            return
        inj["error"] = ""
        if done is not None:
            inj.update(done)
            inj["result"] = f"{inj['event'].event} on {done['target']} ({done['target_name']}) for {done['minutes']:g} min"

    def alarm_action(self, action: str, ids: list[str], who: str, params: Any) -> list[Any]:
        """Acknowledge, shelve... alarms of this session's copy; one Outcome per alarm."""
        outcomes = self.alarm_actions.apply(action, ids, who, params)
        self._note(who, "alarm", {"action": action, "ids": ids, "params": params})
        return outcomes

    def send_command(self, request: CommandRequest, actor: Actor) -> tuple[dict[str, Any], bool]:
        """Send a command to the session's sandboxed supervisors."""
        doc, existed = self.commands.submit(request, actor)
        self._note(actor.user, "command", {"command": doc.get("id"), "action": request.action, "label": doc.get("label", "")})
        return doc, existed

    def join(self, who: str) -> None:
        """A trainee joins."""
        self.trainees.setdefault(who, time.time())

    def _note(self, who: str, kind: str, detail: dict[str, Any]) -> None:
        self.log.append({"t": self.position, "who": who, "kind": kind, **detail})

    # --- reading ---------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Where the session is: clock, speed, state, period, trainees, injections."""
        return {"id": self.id, "name": self.name, "trainer": self.trainer, "start": self.start, "end": self.end,
                "position": self.position, "speed": self.speed, "state": str(self.state), "stop_at": self.stop_at,
                "scenario": self.scenario.name if self.scenario else None, "scenario_file": self.scenario_file,
                "trainees": sorted(self.trainees), "created_at": self.created_at,
                "injections": [public_injection(i) for i in self.injections]}

    def close(self) -> None:
        """End the session: stop its command writer and refuse actions."""
        self.pause()
        self.engine.stop()
        self.commands.stop()


def public_injection(inj: dict[str, Any]) -> dict[str, Any]:
    """An injection, JSON-ready."""
    ev = inj["event"]
    return {"id": inj["id"], "at": inj["at"], "event": ev.event, "target": inj.get("target", ev.target),
            "target_name": inj.get("target_name"), "minutes": inj.get("minutes", ev.duration_s / 60), "note": ev.note,
            "source": inj["source"], "fired": inj["fired"], "result": inj["result"], "error": inj["error"], "by": inj.get("by")}


def changed_everything(old: Hypervisor, new: Hypervisor) -> list[Event]:
    """Events saying the whole world may have changed (a seek swapped the core): pages re-read it all."""
    events: list[Event] = []
    for d in DOMAINS:
        before, after = set(old.state.domain(d)), set(new.state.domain(d))
        if before - after:
            events.append(AssetsRemoved(d, "", tuple(before - after)))
        if after:
            events.append(AssetsChanged(d, "", tuple(after)))
        events.append(KpisChanged(d))
    alarms = {a.id for a in old.alarms.all()} | {a.id for a in new.alarms.all()}
    if alarms:
        events.append(AlarmsChanged(tuple(sorted(alarms))))
    events.extend(SupervisorChanged(h.id, h.domain, str(h.status)) for h in new.health.all())
    return events
