"""The exercise's own supervisors: commands and injected events act on simulators, never on a real one.

A sandbox builds, on first need, the simulator of a replayed supervisor (services.simulators.build,
under that supervisor's id, starting at the session's time) and steps it with the session's clock.
It is the `Publisher` the session's CommandService sends to, so a command is answered by the
simulator and never reaches Redis. The replay and the sandbox share the world by ownership: an asset
a command or an injected event touched (and the assets its effect reaches) is *owned* by the sandbox
from then on; the recorded readings and alarms of owned assets are set aside, the sandbox's are applied.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

import msgspec

from services.contract import Codec, Rejection
from services.contract.messages import Ack, Alarm, AlarmEvent, State, SupervisorMessage, Telemetry
from services.core import Hypervisor
from services.simulators import build
from services.simulators.base import SupervisorSim

from services.replay.scenario import EVENT_DOMAIN, ScenarioError, ScenarioEvent

log = logging.getLogger(__name__)
DOMAINS = ("lighting", "water", "traffic")
replace = msgspec.structs.replace


class Sandbox:
    """Sandboxed supervisors for one session; `publish` is the command path, `take` what they said."""

    def __init__(self, *, seed: int, territory: str, timezone: str, now: float, core_of: Callable[[], Hypervisor]) -> None:
        self.seed = seed
        self.territory = territory
        self.tz = ZoneInfo(timezone)
        self.core_of = core_of  # the session's core (read under the session's lock)
        self.now = now
        self.sims: dict[str, SupervisorSim] = {}  # supervisor id -> its simulator
        self.owned: dict[str, set[str]] = {d: set() for d in DOMAINS}
        self.silent: dict[str, float] = {}  # supervisor -> silent until
        self.alarms: dict[str, dict[str, AlarmEvent]] = {}  # supervisor -> active sandbox alarms on owned assets
        self.commands: list[tuple[str, bytes]] = []  # every command taken (channel, payload)
        self._outbox: list[tuple[float, str, bytes]] = []
        self._codec = Codec()
        self._lock = threading.RLock()

    # --- the command path (services.commands.service.Publisher) --------------------------------------

    def publish(self, channel: str, payload: bytes) -> int:
        """Hand a command to the sandboxed supervisor of `cmd.<domain>.<supervisor>`; 1 if one listens."""
        parts = channel.split(".")
        if len(parts) != 3 or parts[0] != "cmd" or parts[1] not in DOMAINS:
            return 0
        sim = self.sim(parts[1], parts[2])
        with self._lock:
            self.commands.append((channel, payload))
            self._outbox.extend((self.now, ch, p) for ch, p in sim.handle_command(payload))
        return 1

    def sim(self, domain: str, supervisor: str) -> SupervisorSim:
        """The sandboxed simulator of a supervisor, built at the session's time on first need."""
        with self._lock:
            found = self.sims.get(supervisor)
        if found is not None:
            return found
        sim = build(domain, seed=self.seed, start=datetime.fromtimestamp(self.now, self.tz), supervisor_id=supervisor,
                    territory=self.territory)
        with self._lock:
            sim = self.sims.setdefault(supervisor, sim)
            sim.silenced = supervisor in self.silent
        log.info("replay sandbox: %s supervisor %s simulated from %s", domain, supervisor, sim.now.isoformat())
        return sim

    # --- time ------------------------------------------------------------------------------

    def take(self, t: float) -> list[tuple[float, SupervisorMessage]]:
        """Step every sandboxed supervisor up to `t`; return what the replay must apply, in time order."""
        raw: list[tuple[float, str, bytes]] = []
        with self._lock:
            raw, self._outbox = self._outbox, []
            for sup, until in list(self.silent.items()):
                if until <= t:
                    del self.silent[sup]
                    if sup in self.sims:
                        self.sims[sup].silenced = False
            for sim in self.sims.values():
                while sim.now.timestamp() + sim.step_s <= t:
                    out = sim.step()
                    at = sim.now.timestamp()
                    raw.extend((at, ch, p) for ch, p in out)
            self.now = max(self.now, t)
        out: list[tuple[float, SupervisorMessage]] = []
        for at, ch, payload in sorted(raw, key=lambda x: x[0]):
            msg = self._codec.decode(ch, payload)
            if isinstance(msg, Rejection):
                log.warning("replay sandbox: refused its own %s message: %s", ch, msg.detail)
                continue
            kept = self._route(msg)
            if kept is not None:
                out.append((at, kept))
        return out

    def _route(self, msg: SupervisorMessage) -> SupervisorMessage | None:
        owned = self.owned[msg.domain]
        if isinstance(msg, Ack):
            self.own(msg.domain, [*msg.applied, *msg.failed], reach=msg.supervisor)
            return msg
        if isinstance(msg, Telemetry):
            readings = [r for r in msg.readings if r.asset in owned]
            return replace(msg, readings=readings) if readings else None
        if isinstance(msg, Alarm):
            events = [e for e in msg.events if e.asset in owned]
            active = self.alarms.setdefault(msg.supervisor, {})
            for e in events:
                if e.action == "raise":
                    active[e.id] = e
                else:
                    active.pop(e.id, None)
            return replace(msg, events=events) if events else None
        return None  # heartbeats and states: the recording speaks for the supervisor's life

    def own(self, domain: str, ids: list[str], reach: str | None = None) -> None:
        """Take over assets, and those their change reaches (a valve's sensors, a group's lamps, a road's neighbours)."""
        found = set(ids)
        sim = self.sims.get(reach) if reach else None
        for aid in ids:
            if domain == "water" and sim is not None:
                try:
                    found.update(sim.downstream_sensors(aid))
                except KeyError:
                    pass
            elif domain == "traffic" and sim is not None and aid.startswith("seg-"):
                try:
                    found.update(sim.neighbours(aid))
                except KeyError:
                    pass
        if domain == "lighting":
            groups = {aid for aid in ids if aid.startswith("group")}
            if groups:
                found.update(a.id for a in self.core_of().state.domain("lighting").values() if a.refs.get("group") in groups)
        self.owned[domain] |= found

    # --- the recording's side --------------------------------------------------------------

    def filter(self, msg: SupervisorMessage, t: float) -> SupervisorMessage | None:
        """What of a recorded message the replay still applies (None: nothing, the supervisor is silent)."""
        until = self.silent.get(msg.supervisor)
        if until is not None and t < until:
            return None
        owned = self.owned[msg.domain]
        if not owned:
            return msg
        if isinstance(msg, Telemetry):
            return replace(msg, readings=[r for r in msg.readings if r.asset not in owned])
        if isinstance(msg, Alarm):
            return replace(msg, events=[e for e in msg.events if e.asset not in owned])
        if isinstance(msg, State):
            alarms = [e for e in msg.alarms if e.asset not in owned]
            if msg.part == msg.parts:  # the reconciliation must not clear what the sandbox raised
                alarms += list(self.alarms.get(msg.supervisor, {}).values())
            return replace(msg, readings=[r for r in msg.readings if r.asset not in owned], alarms=alarms)
        return msg

    # --- injected events ---------------------------------------------------------------------

    def inject(self, ev: ScenarioEvent, elapsed_s: float = 0.0) -> dict | None:
        """Start an event now (`elapsed_s` of it already gone, after a seek); return what it acts on and for how long."""
        remaining = ev.duration_s - elapsed_s
        if remaining <= 0:
            return None
        core = self.core_of()
        if ev.event == "supervisor_silent":
            sup = ev.target or self._supervisor(core, "water")
            if core.health.get(sup) is None:
                raise ScenarioError(f"no supervisor {sup!r} in this recording")
            with self._lock:
                self.silent[sup] = self.now + remaining
                if sup in self.sims:
                    self.sims[sup].silenced = True
            return {"target": sup, "target_name": sup, "minutes": round(remaining / 60, 1)}
        domain = EVENT_DOMAIN[ev.event]
        sup = self._supervisor(core, domain)
        sim = self.sim(domain, sup)
        target = ev.target or pick_target(core, ev.event)
        if target is None or core.state.get(target) is None:
            raise ScenarioError(f"no {ev.event.replace('_', ' ')} target {target!r} in the replayed {domain} network")
        with self._lock:
            try:
                if ev.event == "cabinet_trip":
                    sim.trip_cabinet(target, reset_after_s=remaining)
                    lamps = [a.id for a in core.state.domain("lighting").values() if a.refs.get("cabinet") == target]
                    self.own(domain, [target, *lamps])
                elif ev.event == "pipe_burst":
                    sim.start_leak(target, flow_m3h=ev.flow_m3h, detect_after_s=max(0.0, 60.0 - elapsed_s), repair_after_s=remaining)
                    self.own(domain, zone_assets(core, target))
                else:
                    sim.start_incident(target, remaining / 60)
                    self.own(domain, [target], reach=sup)
            except (KeyError, ValueError) as err:
                raise ScenarioError(f"{ev.event} on {target}: {err}") from None
        return {"target": target, "target_name": core.state.get(target).name, "minutes": round(remaining / 60, 1)}

    @staticmethod
    def _supervisor(core: Hypervisor, domain: str) -> str:
        sups = [h for h in core.health.all() if h.domain == domain]
        if not sups:
            raise ScenarioError(f"no {domain} supervisor in the replayed period")
        return max(sups, key=lambda h: (len(core.state.query(domain=domain, supervisor=h.id)), h.id)).id


def pick_target(core: Hypervisor, event: str) -> str | None:
    """A sensible target when the scenario names none: the largest main, the biggest cabinet, the busiest road."""
    if event == "pipe_burst":
        pipes = [a for a in core.state.domain("water").values() if a.type == "Pipe" and a.props.get("main") and a.refs.get("zone")]
        return max(pipes, key=lambda a: (a.props.get("diameter", 0), a.id)).id if pipes else None
    if event == "cabinet_trip":
        counts: dict[str, int] = {}
        for a in core.state.domain("lighting").values():
            if a.type == "Streetlight" and a.refs.get("cabinet"):
                counts[a.refs["cabinet"]] = counts.get(a.refs["cabinet"], 0) + 1
        return max(counts, key=lambda c: (counts[c], c)) if counts else None
    roads = [a for a in core.state.domain("traffic").values() if a.type == "RoadSegment"]
    return max(roads, key=lambda a: (a.props.get("dailyCount", 0), a.id)).id if roads else None


def zone_assets(core: Hypervisor, pipe_id: str) -> list[str]:
    """A pipe and every water asset of its pressure zone, with the reservoirs feeding the zone's pumps."""
    zone = core.state.get(pipe_id).refs.get("zone")
    found = [pipe_id] + [a.id for a in core.state.domain("water").values() if zone and a.refs.get("zone") == zone]
    found += {a.refs["reservoir"] for a in core.state.domain("water").values()
              if a.type == "Pump" and a.refs.get("zone") == zone and a.refs.get("reservoir")}
    return found
