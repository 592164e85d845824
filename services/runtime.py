"""Start Vigie's services in order: Redis, the engine (or a snapshot reader), the simulated supervisors."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from services.alarms.store import AlarmStore
from services.feed.bus import bounded_client
from services.core import Hypervisor
from services.history.day_archive import ArchiveUnavailable, DayArchive
from services.contract.clock import ClockAnchor
from services.feed.engine import Engine, EngineUnavailable, core_config
from services.feed.territory_clock import ERRORS as CLOCK_ERRORS, TerritoryClock
from services.feed.engine_rpc import EngineClient, EngineRpcServer
from services.metrics import Metrics
from services.ngsi.relay import NgsiRelay
from services.journal.recorder import Recorder
from services.feed.reader import LocalReader, Reader, RedisReader
from services.redis_launcher import RedisHandle, resolve_redis
from services.settings import DOMAINS, Settings
from services.supervisors.config import registry_config
from services.supervisors.store import RegistryStore

log = logging.getLogger(__name__)


@dataclass
class Simulators:
    """The simulated supervisors running in this process (built in the background: the lamps take a while)."""

    settings: Settings
    redis_url: str
    clock: TerritoryClock | None = None  # Vigie's: the simulators start at its time (each then follows the clock in Redis)
    runners: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "Simulators":
        """Build and start each simulator in a background thread."""
        self._thread = threading.Thread(target=self._boot, name="vigie-sim-boot", daemon=True)
        self._thread.start()
        return self

    def _boot(self) -> None:
        from services.simulators import build
        from services.simulators.runner import Runner

        s = self.settings
        try:
            tz = ZoneInfo(self._timezone())
        except Exception:  # noqa: BLE001
            tz = ZoneInfo("Europe/Paris")
        for domain in DOMAINS:
            if self._stop.is_set():
                return
            try:
                start = datetime.fromtimestamp(self.clock(), tz) if self.clock is not None else datetime.now(tz)
                sim = build(domain, seed=s.simulator_seed, start=start, territory=s.territory)
            except ModuleNotFoundError as err:
                log.warning("simulator %s not available yet (%s); skipped", domain, err)
                continue
            except Exception:  # noqa: BLE001 - one broken simulator must not stop the others
                log.exception("simulator %s failed to build; skipped", domain)
                continue
            runner = Runner(sim, self.redis_url, speed=s.simulator_speed)
            if self._stop.is_set():
                return
            self.runners.append(runner.start())
            log.info("simulated %s supervisor %s running (speed x%g, seed %d)", domain, sim.supervisor_id, s.simulator_speed, s.simulator_seed)

    def _timezone(self) -> str:
        from services.territory.geo import load_territory

        return load_territory(self.settings.territory).timezone

    def wait_started(self, timeout: float = 60.0) -> None:
        """Wait until every simulator is built and started (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """Stop every simulator."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        for r in self.runners:
            r.stop()


@dataclass
class Runtime:
    """What app.py and the tests get back: how to read the state, the engine if here, the Redis in use."""

    reader: Reader
    engine: Engine | None
    redis_url: str
    redis_kind: str
    metrics: Metrics
    simulators: Simulators | None
    redis: RedisHandle
    alarm_store: AlarmStore | None = None  # the alarms and their journal (written only where the engine runs)
    ngsi_relay: "NgsiRelay | None" = None  # speaks for the NGSI sources (where the engine runs)
    recorder: "Recorder | None" = None  # journals the bus for replays and asset history (where the engine runs)
    day_archive: DayArchive | None = None  # each domain's day in buckets (written where the engine runs, read anywhere)
    engine_rpc: EngineRpcServer | None = None  # applies web-only workers' alarm actions and commands (where the engine runs)
    engine_client: EngineClient | None = None  # forwards them to the engine's process (on a web-only worker)
    registry_store: RegistryStore | None = None  # the registry of supervisors (written only where the engine runs)
    clock: TerritoryClock = field(default_factory=TerritoryClock)  # Vigie's time: the wall clock, or the simulated territory's

    def stop(self) -> None:
        """Stop the simulators, the engine, the alarm store, then the Redis we started (in that order)."""
        if self.engine_rpc is not None:
            self.engine_rpc.stop()
        if self.engine_client is not None:
            self.engine_client.close()
        if self.simulators is not None:
            self.simulators.stop()
        if self.ngsi_relay is not None:
            self.ngsi_relay.stop()
        if self.engine is not None:
            self.engine.stop()
        if self.day_archive is not None:
            self.day_archive.stop()
        if self.recorder is not None:
            self.recorder.stop()
        if self.alarm_store is not None:
            self.alarm_store.stop()
        if self.registry_store is not None:
            self.registry_store.stop()
        if isinstance(self.reader, RedisReader):
            self.reader.client.close()
        self.clock.stop()
        self.redis.stop()


def start_services(settings: Settings) -> Runtime:
    """Resolve Redis, start the engine (or a snapshot reader), start the simulators if asked."""
    handle = resolve_redis(settings)
    metrics = Metrics()
    clock = territory_clock(settings, handle.url)
    metrics.clock = clock
    engine: Engine | None = None
    relay: NgsiRelay | None = None
    recorder: Recorder | None = None
    rpc: EngineRpcServer | None = None
    client: EngineClient | None = None
    registry: RegistryStore | None = None
    alarms = AlarmStore(handle.url)
    archive = DayArchive(handle.url, core_config(settings).timezone)
    try:
        if settings.run_engine:
            core = Hypervisor(replace(core_config(settings), registry=registry_config(settings)))
            started_at = clock()
            alarms.restore(core, started_at)  # the alarm list and its journal survive a restart
            archive.restore_energy(core, started_at)  # "energy today" survives a restart too
            registry = RegistryStore(handle.url)
            withdrawn = registry.restore(core, started_at)  # who may publish, and whose assets are whose, survive a restart
            engine = Engine(settings, handle.url, core, metrics=metrics, clock=clock).start()
            alarms.attach(engine)
            registry.attach(engine)
            if withdrawn:  # supervisors the file no longer declares went with their alarms: the alarm store forgets them too
                engine.execute(lambda _core, _now: (None, withdrawn))
            archive.attach(engine)
            reader: Reader = LocalReader(engine)
            relay = NgsiRelay(handle.url, registry=metrics.registry).start()
            recorder = start_recorder(settings, handle.url, clock)
            rpc = start_engine_rpc(handle.url, metrics, engine, alarms)
        else:
            log.info("engine not run in this process: reading the snapshots another process writes to Redis")
            reader = RedisReader(bounded_client(handle.url), clock=clock)
            client = EngineClient(handle.url)  # alarm actions and commands go to the engine's process
        sims = Simulators(settings, handle.url, clock).start() if settings.run_simulators else None
        if sims is not None and engine is not None:
            from services.history.backfill import start_backfill

            def energy_pending(flag: bool, eng: Engine = engine) -> None:
                try:
                    eng.execute(lambda core, _now: (None, core.energy_history_pending(flag)))
                except EngineUnavailable as err:
                    log.warning("energy today: %s", err)

            def carry_backfilled_energy(eng: Engine = engine, at: float = started_at) -> None:
                try:
                    day, kwh = archive.energy_before(at)  # today before start, now simulated: "energy today" includes it
                    eng.execute(lambda core, _now: (None, core.energy_before(day, kwh)))
                except (ArchiveUnavailable, EngineUnavailable) as err:
                    log.warning("energy today not carried over from the backfill: %s", err)
                energy_pending(False)

            today = datetime.fromtimestamp(started_at, ZoneInfo(engine.core.config.timezone)).date().isoformat()
            try:
                pending = not archive.meta("lighting", today).get("source")  # the first start of the day: history to come
            except ArchiveUnavailable:
                pending = False
            if pending:
                energy_pending(True)
            start_backfill(archive, settings, engine.core.config.timezone,  # yesterday and last week, for the demo
                           on_today=carry_backfilled_energy, on_first_pass=lambda: energy_pending(False), clock=clock)
    except Exception:
        if rpc is not None:
            rpc.stop()
        if relay is not None:
            relay.stop()
        if recorder is not None:
            recorder.stop()
        if engine is not None:
            engine.stop()
        alarms.stop()
        if registry is not None:
            registry.stop()
        archive.stop()
        clock.stop()
        handle.stop()
        raise
    return Runtime(reader, engine, handle.url, handle.kind, metrics, sims, handle, alarms, relay, recorder, archive, rpc, client,
                   registry_store=registry, clock=clock)


def territory_clock(settings: Settings, redis_url: str) -> TerritoryClock:
    """Vigie's time (services/contract/clock.py): the territory clock in Redis when simulators announce one, else the wall clock.

    With the simulators in this process at a speed, Vigie sets the clock (if Redis holds none) before anything reads it.
    The engine's process keeps the clock alive in Redis; a web-only worker only follows it.
    """
    now = time.time()
    own = None
    if settings.run_engine and settings.run_simulators and settings.simulator_speed != 1.0:
        own = ClockAnchor(speed=settings.simulator_speed, epoch=now, wall=now, by="vigie")
    clock = TerritoryClock("vigie", own=own, writer=settings.run_engine)
    try:
        clock.sync(bounded_client(redis_url))
    except CLOCK_ERRORS as err:  # Redis not answering yet: the clock follows it as soon as it does
        log.info("territory clock not read yet: %s", err)
    if own is not None and clock.anchor is not None and clock.speed != own.speed:
        log.warning("VIGIE_SIM_SPEED=%g not applied: the territory clock in Redis runs at x%g (set by %s) and is followed; "
                    "stop what runs on it for a minute to start a new one", own.speed, clock.speed, clock.anchor.by)
    if clock.accelerated:
        log.info("Vigie runs on the territory clock: x%g, set by %s", clock.speed, clock.anchor.by if clock.anchor else "?")
    return clock.start(redis_url)


def start_engine_rpc(redis_url: str, metrics: Metrics, engine: Engine, alarms: AlarmStore) -> EngineRpcServer:
    """Serve web-only workers' alarm actions here (commands join when their service starts: services/commands/service.py)."""
    from services.alarms.actions import AlarmActions
    from services.feed.engine_remote import serve_alarms, serve_supervisors
    from services.supervisors.actions import SupervisorActions

    rpc = EngineRpcServer(redis_url, metrics)
    serve_alarms(rpc, AlarmActions(engine, alarms))
    serve_supervisors(rpc, SupervisorActions(engine))
    return rpc.start()


def start_recorder(settings: Settings, redis_url: str, clock: Callable[[], float] = time.time) -> Recorder | None:
    """Record the bus into the state folder's journal (services/journal/recorder.py); None if another process already does."""
    from services.journal.store import Journal, JournalBusy, JournalConfig

    try:
        journal = Journal(JournalConfig.from_settings(settings))
    except JournalBusy as err:
        log.warning("not recording here: %s", err)
        return None
    return Recorder(journal, redis_url, core_config(settings), queue_bytes=settings.feed_queue_bytes, clock=clock).start()
