"""The Hypervisor: one owner of the live territory, fed typed messages and the time."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from services.contract.messages import Ack, Alarm, AlarmEvent, Heartbeat, State, StateReady, SupervisorMessage, Telemetry

from .alarms import AlarmBook, AlarmRecord
from .assets import Thresholds, TerritoryState
from .command_book import CommandBook, CommandConfig, drift_message
from .day_series import DaySeries, day_metrics
from .events import (
    AlarmsChanged, AssetsChanged, AssetsRemoved, Event, KpisChanged, Refused, StateAnnounced, StateApplied, StateNeeded, SupervisorChanged,
)
from .health import Liveness, SeqVerdict, SupervisorRegistry
from .identity import SupervisorIdentity
from .kpis import EnergyMeter, Kpi, KpiHistory, lighting_kpis, traffic_kpis, water_kpis
from .registry import APPLY, Registry, RegistryConfig, Standing, Verdict

DOMAINS = ("lighting", "water", "traffic")
SAME_TURN_S = 1e-3  # a version announced in an engine turn counts from just before that turn's clock reading
ANNOUNCED_KEPT = 8  # retained versions of a supervisor whose announcement time Vigie remembers
MAX_CLEARS_UNHELD = 10_000  # clears of alarms Vigie did not hold (or forgot at once), remembered for a retained version read later


STALE_TEXT = {  # the alarm Vigie raises when a supervisor goes silent, in the site's language
    "fr": "Superviseur {supervisor} muet depuis plus de {seconds:.0f} s",
    "en": "Supervisor {supervisor} silent for more than {seconds:.0f} s",
}
BUS_LOST_TEXT = {  # the one alarm Vigie raises when it loses Redis (not one per supervisor: none of them can be heard)
    "fr": "Liaison Redis perdue : Vigie n'entend plus aucun superviseur",
    "en": "Redis link lost: Vigie cannot hear any supervisor",
}
BUS_ALARM = "vigie/bus_lost"


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """The core's settings (from Settings, or a test's own)."""

    late_after_s: float = 15.0
    stale_after_s: float = 60.0
    bus_grace_s: float = 15.0  # after the bus returns, how long a supervisor has to speak before it is judged
    timezone: str = "Europe/Paris"
    kpi_window_s: float = 6 * 3600.0
    kpi_sample_s: float = 60.0
    day_sample_s: float = 30.0  # the "over the day" buckets' sampling (services/core/day_series.py)
    language: str = "fr"  # the site's language: the texts of the alarms Vigie raises itself (as a SCADA's alarm texts)
    thresholds: Thresholds = field(default_factory=Thresholds)
    commands: CommandConfig = field(default_factory=CommandConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)  # who may publish (services/core/registry.py)


class Hypervisor(SupervisorIdentity):
    """Applies supervisor messages in order and answers what the territory looks like now."""

    def __init__(self, config: CoreConfig | None = None) -> None:
        self.config = config or CoreConfig()
        self.state = TerritoryState(self.config.thresholds)
        self.health = SupervisorRegistry(self.config.late_after_s, self.config.stale_after_s)
        self.registry = Registry(self.config.registry)
        self._snapshot_created: dict[str, tuple[str, set[str]]] = {}  # supervisor -> (snapshot, assets it created)
        self._snapshot_refused: dict[str, tuple[str, Refused]] = {}  # supervisor -> (its last refused snapshot, why)
        self.alarms = AlarmBook(asset_of=self.state.get, assets_of=self.state.domain)
        self.kpi_history = KpiHistory(self.config.kpi_window_s, self.config.kpi_sample_s)
        self._kpis: dict[str, dict[str, Kpi]] = {d: {} for d in DOMAINS}
        self._dirty_domains: set[str] = set(DOMAINS)
        self._domain_ts: dict[str, float] = {}
        self._kpi_ts: dict[str, float | None] = {}
        self._energy = EnergyMeter(self.config.timezone)
        self._energy_pending = False  # today's energy before this core started is still being prepared (backfill)
        self.day_series = DaySeries(self.config.timezone, self.config.day_sample_s)
        self._snapshot_parts: dict[str, tuple[str, set[int], set[str]]] = {}  # supervisor -> (snapshot, parts seen, ids)
        # supervisor -> its latest retained versions -> when Vigie heard each announced (a version is often still being read
        # when the next is announced)
        self._announced: dict[str, dict[str, float]] = {}
        # alarm id -> when Vigie heard it cleared while it held it not active (a retained version read later, which lists it
        # because it was written before the clear, must not raise it again)
        self._clears_unheld: dict[str, float] = {}
        self.acks: deque[Ack] = deque(maxlen=100)  # the latest acks (diagnostics); the command book applies them
        self.commands = CommandBook(self.config.commands)
        self.bus_up = True
        self._resync: set[str] = set()  # supervisors asked for a state because the bus queue overflowed, until it comes

    # --- writing ------------------------------------------------------------------------

    def handle(self, msg: SupervisorMessage, now: float, heard_at: float | None = None) -> list[Event]:
        """Apply one validated message received at `heard_at` (default `now`); return what changed and what is needed."""
        ts = msg.ts.timestamp()
        events: list[Event] = []
        gate = self.registry.admit(msg, now)  # unknown, rejected, flagged or quarantined supervisors stop here
        if gate is not APPLY:
            events = self._admission(msg, gate, now)
            if gate.verdict is not Verdict.APPLY:
                return events
        if msg.kind == "alarm" or msg.kind == "state":
            refused = self._refusal(msg)  # another supervisor's asset, too many assets or parts: nothing applied
            if refused:
                return events + refused
        h, verdict, revived = self.health.seen(msg.domain, msg.supervisor, msg.kind, msg.seq, ts, now, heard_at)
        if revived:
            events.append(SupervisorChanged(h.id, h.domain, str(h.status)))
            events.extend(self._stale_alarm(h.id, h.domain, False, now))
        if verdict is SeqVerdict.DUPLICATE:
            return events
        if verdict is SeqVerdict.GAP and not isinstance(msg, State) and self.registry.may_ask(msg.supervisor):
            events.append(StateNeeded(msg.domain, msg.supervisor, "sequence_gap"))
        prev = self._domain_ts.get(msg.domain)
        if prev is None or ts > prev:
            self._domain_ts[msg.domain] = ts
        if isinstance(msg, Telemetry):
            foreign: list[str] = []
            changed, unknown = self.state.apply_readings(msg.domain, msg.supervisor, msg.readings, ts, foreign, heard=now)
            if changed:
                self._dirty_domains.add(msg.domain)
                events.append(AssetsChanged(msg.domain, msg.supervisor, tuple(changed)))
                if self.commands.watching:
                    events.extend(self.commands.observe(changed, self.state, now))
                    events.extend(self._drift_alarms(now))
            refused: list[Event] = []
            if unknown or foreign:
                unknown, refused = self._foreign_readings(msg, foreign, unknown)
            if unknown:
                events.append(StateNeeded(msg.domain, msg.supervisor, "unknown_asset"))
            events.extend(refused)
        elif isinstance(msg, Alarm):
            events.extend(self._apply_alarm_events(msg.domain, msg.supervisor, msg.events, ts, now))
        elif isinstance(msg, State):
            events.extend(self._apply_state(msg, ts, now))
        elif isinstance(msg, Heartbeat):
            h.assets = msg.assets
        elif isinstance(msg, Ack):
            self.acks.append(msg)
            events.extend(self.commands.on_ack(msg, self.state, now))
            events.extend(self._drift_alarms(now))
        elif isinstance(msg, StateReady):
            # what Vigie hears in the same turn (one clock reading for a whole batch) counts as heard after it: what came
            # before it in the batch, the version already holds
            heard = self._announced.setdefault(msg.supervisor, {})
            heard.setdefault(msg.snapshot, now - SAME_TURN_S)  # announced anew (a state request): still as of its first time
            while len(heard) > ANNOUNCED_KEPT:
                del heard[next(iter(heard))]
            events.append(StateAnnounced(msg.domain, msg.supervisor, msg))
        return events

    def apply_retained(self, msg: State, now: float, since: float | None = None) -> list[Event]:
        """Apply one part of a supervisor's retained state (contract v2), read from Redis rather than heard on the bus.

        The path of a `state` part, without its sequence number (it was never published) and without undoing what
        the live feed said after the version was written: a reading, a raise or a clear Vigie heard after it stand.
        "After" is on Vigie's clock, whoever published before (a previous run, a second publisher): from when Vigie
        heard the version announced, else `since` (when its reading began). Only an approved supervisor's retained
        state is applied (`not_approved` otherwise).
        """
        e = self.registry.get(msg.supervisor)
        if e is None or e.standing is not Standing.APPROVED or e.watch.flagged or e.domain != msg.domain:
            return [Refused(msg.domain, msg.supervisor, msg.kind, "not_approved",
                            f"retained state of {msg.supervisor}: not an approved supervisor of {msg.domain} (yet)")]
        refused = self._refusal(msg)
        if refused:
            return refused
        heard = self._announced.get(msg.supervisor, {}).get(msg.snapshot)
        mark = heard if heard is not None else since if since is not None else now
        return self._apply_state(msg, msg.ts.timestamp(), now, retained_since=mark)

    def _apply_alarm_events(self, domain: str, supervisor: str, evs: list[AlarmEvent], ts: float, now: float,
                            sync: bool = False) -> list[Event]:
        """Apply raise/clear events; `sync`: alarms listed in a `state` (standing alarms, not news for the KPIs)."""
        for ev in evs:
            aid = f"{supervisor}/{ev.id}"
            at = ev.ts.timestamp() if ev.ts else ts
            if ev.action == "raise":
                self.alarms.raise_(aid, source="supervisor", domain=domain, supervisor=supervisor, asset=ev.asset, code=ev.code,
                                   severity=ev.severity, message=ev.message, at=at, now=now,
                                   cause=f"{supervisor}/{ev.cause}" if ev.cause else None, counted=not sync)
                self._clears_unheld.pop(aid, None)
            elif (self.alarms.clear(aid, at, now=now) is None or self.alarms.get(aid) is None) and not sync:
                # not active here (its raise was lost or set aside), or forgotten at its clear (a maintenance condition
                # nobody acknowledges): remembered, so that a retained version read later does not raise it again
                self._clears_unheld.pop(aid, None)
                self._clears_unheld[aid] = now
                if len(self._clears_unheld) > MAX_CLEARS_UNHELD:
                    del self._clears_unheld[next(iter(self._clears_unheld))]
        events = self._alarm_changes()
        if events:
            self._dirty_domains.add(domain)
        return events

    def _drift_alarms(self, now: float) -> list[Event]:
        """Raise (or clear) Vigie's alarm for each command whose targets left (or came back to) the commanded state."""
        news = self.commands.take_drift()
        if not news:
            return []
        for cid, drifting in news.items():
            rec, aid = self.commands.get(cid), f"vigie/command_drift/{cid}"
            asset = self.commands.drift_target(rec, self.state) if drifting and rec is not None and rec.expect is not None else None
            if asset is not None:
                target = self.state.get(asset)
                self.alarms.raise_(aid, source="vigie", domain=rec.domain, supervisor=rec.supervisor, asset=asset,
                                   code="command_drift", severity="major", at=now,
                                   message=drift_message(rec, target.name if target is not None else asset, self.config.language, asset))
            else:
                self.alarms.clear(aid, now, who="vigie")
        return self._alarm_changes()

    def _alarm_changes(self) -> list[Event]:
        """AlarmsChanged for every alarm the book touched since the last call."""
        touched = self.alarms.take_touched()
        return [AlarmsChanged(tuple(touched))] if touched else []

    def _apply_state(self, msg: State, ts: float, now: float, retained_since: float | None = None) -> list[Event]:
        events: list[Event] = []
        snap, parts, ids = self._snapshot_parts.get(msg.supervisor, ("", set(), set()))
        if snap != msg.snapshot:
            snap, parts, ids = msg.snapshot, set(), set()
        self._created_by(msg)
        defined = self.state.define(msg.domain, msg.supervisor, msg.assets)
        parts.add(msg.part)
        ids.update(defined)
        self._snapshot_parts[msg.supervisor] = (snap, parts, ids)
        since = retained_since
        heard = now if since is None else since  # a retained state's values are as of when Vigie heard of its version
        self.state.apply_readings(msg.domain, msg.supervisor, msg.readings, ts, heard=heard, since=since)
        if defined:
            events.append(AssetsChanged(msg.domain, msg.supervisor, tuple(defined)))
        self._dirty_domains.add(msg.domain)
        if len(parts) == msg.parts:  # the whole snapshot arrived: reconcile
            del self._snapshot_parts[msg.supervisor]
            events.extend(self._owned(msg.supervisor, ids))
            self._resync.discard(msg.supervisor)
            gone = [a.id for a in self.state.query(domain=msg.domain, supervisor=msg.supervisor) if a.id not in ids]
            if gone:
                self.state.remove(gone)
                events.append(AssetsRemoved(msg.domain, msg.supervisor, tuple(gone)))
            h = self.health.get(msg.supervisor)
            if h is not None:
                h.assets = len(ids)
            listed = {f"{msg.supervisor}/{ev.id}" for ev in msg.alarms}
            for a in [a for a in self.alarms.by_supervisor(msg.supervisor) if a.id not in listed]:
                if since is None or a.seen_at <= since:  # else raised by the live feed after the retained version
                    self.alarms.clear(a.id, ts, now=heard)
            standing = [ev for ev in msg.alarms if since is None or not self._cleared_after(f"{msg.supervisor}/{ev.id}", since)]
            events.extend(self._apply_alarm_events(msg.domain, msg.supervisor, standing, ts, heard, sync=True))
            events.append(StateApplied(msg.domain, msg.supervisor, msg.snapshot, since is not None))
        return events

    def _cleared_after(self, alarm_id: str, since: float) -> bool:
        """Did Vigie hear this alarm cleared after `since` (its time), even while it did not hold it active?"""
        a = self.alarms.get(alarm_id)
        if a is not None and not a.active and a.updated_at > since:
            return True
        return self._clears_unheld.get(alarm_id, float("-inf")) > since

    def _stale_alarm(self, supervisor: str, domain: str, stale: bool, now: float) -> list[Event]:
        aid = f"vigie/supervisor_stale/{supervisor}"
        if stale:
            self.alarms.raise_(aid, source="vigie", domain=domain, supervisor=supervisor, asset=supervisor,
                               code="supervisor_stale", severity="major",
                               message=STALE_TEXT.get(self.config.language, STALE_TEXT["en"]).format(
                                   supervisor=supervisor, seconds=self.config.stale_after_s), at=now)
        else:
            self.alarms.clear(aid, now, who="vigie")
        return self._alarm_changes()

    def tick(self, now: float, heard: Mapping[str, float] | None = None, lost_at: float | None = None) -> list[Event]:
        """Periodic work: supervisor staleness, derived alarms, KPIs and their history.

        `heard`, `lost_at`: what the bus reader has received and the engine not applied yet (SupervisorRegistry.refresh).
        """
        events: list[Event] = []
        for h in self.health.refresh(now, heard, lost_at):
            events.append(SupervisorChanged(h.id, h.domain, str(h.status)))
            if h.status is not Liveness.UNKNOWN:  # unknown: what was known stands, raised or not
                events.extend(self._stale_alarm(h.id, h.domain, h.status is Liveness.STALE, now))
        events.extend(self._registry_tick(now))
        events.extend(self.commands.tick(now))
        events.extend(self._drift_alarms(now))
        self.alarms.tick(now)
        events.extend(self._alarm_changes())
        events.extend(self._recompute_kpis())
        return events

    def _recompute_kpis(self) -> list[Event]:
        events: list[Event] = []
        dirty, self._dirty_domains = self._dirty_domains, set()
        for domain in DOMAINS:
            ts = self._domain_ts.get(domain)
            if domain not in dirty and ts == self._kpi_ts.get(domain):
                continue
            self._kpi_ts[domain] = ts
            assets = self.state.domain(domain).values()
            if domain == "lighting":
                kpis, power_kw = lighting_kpis(assets)
                energy = self._energy.add(ts, power_kw) if ts is not None else self._energy.today()
                kpis.insert(4, Kpi("energy_today_kwh", "lighting", None, "kWh", note="preparing") if self._energy_pending
                            else Kpi("energy_today_kwh", "lighting", round(energy, 1), "kWh"))
            elif domain == "water":
                kpis = water_kpis(assets, self.state.thresholds, self._count_alarms("water", "leak_suspected"))
            else:
                kpis = traffic_kpis(assets, self._count_alarms("traffic", "incident"))
            new = {k.key: k for k in kpis}
            if new != self._kpis[domain]:
                self._kpis[domain] = new
                events.append(KpisChanged(domain))
            if ts is not None:
                self.kpi_history.sample(domain, ts, kpis)
                if self.day_series.due(domain, ts):
                    self.day_series.add(domain, ts, day_metrics(domain, assets, kpis))
        return events

    def energy_history_pending(self, pending: bool) -> list[Event]:
        """Say whether today's energy before this core started is still being prepared: no figure meanwhile,
        rather than one that jumps from the hours since start to the whole day when the history arrives."""
        self._energy_pending = pending
        self._dirty_domains.add("lighting")
        return []

    def energy_before(self, day: date, kwh: float) -> list[Event]:
        """Carry the lighting energy drawn on `day` before this core started (from the day archive) into "energy today"."""
        self._energy.set_before(day, kwh)
        if self._energy._day is None:
            self._energy._day = day
        self._dirty_domains.add("lighting")
        return []

    def _count_alarms(self, domain: str, code: str) -> int:
        return sum(1 for a in self.alarms.active() if a.domain == domain and a.code == code)

    def acknowledge(self, alarm_id: str, user: str, now: float, comment: str = "") -> list[Event]:
        """Acknowledge an alarm on behalf of a user."""
        self.alarms.acknowledge(alarm_id, user, now, comment)
        return self._alarm_changes()

    def bus_lost(self, now: float, since: float | None = None) -> list[Event]:
        """Vigie lost Redis (at `since`, default `now`): one alarm about the bus; every supervisor unknown until it returns."""
        self.bus_up = False
        self.health.set_bus_down(True)
        self.alarms.raise_(BUS_ALARM, source="vigie", domain="vigie", supervisor="vigie", asset="redis", code="bus_lost",
                           severity="critical", message=BUS_LOST_TEXT.get(self.config.language, BUS_LOST_TEXT["en"]),
                           at=now if since is None else since, now=now)
        events = self._alarm_changes()
        events.extend(self.tick(now))
        return events

    def bus_restored(self, now: float) -> list[Event]:
        """Redis is back: clear the bus alarm, give every supervisor `bus_grace_s` to speak, ask each for a fresh state."""
        self.bus_up = True
        self.health.set_bus_down(False, now, self.config.bus_grace_s)
        self.alarms.clear(BUS_ALARM, now, who="vigie")
        events = self._alarm_changes()
        events.extend(self.tick(now))
        events.extend(StateNeeded(h.domain, h.id, "reconnect") for h in self.health.all() if self.registry.may_ask(h.id))
        return events

    def overflowed(self, domain: str, supervisor: str) -> list[Event]:
        """Messages of a supervisor were dropped before they could be applied (the bus queue was full):
        ask it for its state once; it is asked again only after that state came whole and it overflows again."""
        if supervisor in self._resync:
            return []
        self._resync.add(supervisor)
        return [StateNeeded(domain, supervisor, "overflow")]

    # --- reading ------------------------------------------------------------------------

    def kpis(self) -> dict[str, list[dict]]:
        """Current KPIs per domain, JSON-ready."""
        return {d: [k.to_dict() for k in self._kpis[d].values()] for d in DOMAINS}

    def supervisors(self, now: float) -> list[dict]:
        """Every supervisor's health, JSON-ready."""
        return [h.to_dict(now) for h in self.health.all()]

    def active_alarms(self) -> list[AlarmRecord]:
        """Active alarms, most urgent first."""
        return self.alarms.active()

    def summary(self, now: float) -> dict:
        """The cross-domain strip: alarms by priority, unacknowledged, supervisors by status."""
        counts = self.alarms.counts(now)
        sups = {"live": 0, "late": 0, "stale": 0, "unknown": 0}
        for h in self.health.all():
            sups[str(h.status)] += 1
        held = {k: counts[k] for k in ("shelved", "suppressed", "out_of_service", "chattering", "stale", "chatter_suppressed", "maintenance")}
        return {"alarms_by_priority": counts["by_priority"], "unacknowledged": counts["unacknowledged"], "alarms_held": held,
                "alarm_kpis": self.alarms.kpis(now), "supervisors": sups, "bus_up": self.bus_up, "assets": len(self.state)}
